"""Each fill's own predicted slippage, for the risk actor: the crowd's quote each working order
was last seen in, and the current model version's prediction for a fill of it.

A fill's prediction (`ModelVersion.predict_fill`) weighs the aggressiveness its order's limit
had against the crowd's quote before the fill, that quote's spread and mid, and the fill's own
quantity; the intent's pre-trade estimate (`ModelVersion.predict`, made once by the router) is
kept beside it. The quote is the last usable one the risk actor read while the order stood at
the limit it filled at: when the order or its modification was handed to the sender (before the
broker has it), at its ack and status reports, and after each of its fills. A quote read after
the fill would show what the fill took (a far touch emptied by a crossing fill looks like a
wider spread, and the crossing fill like a half-resting one), so an ack or status report changes
nothing when it reports fills the risk book has not had yet, or when the order crossed the quote
it was sent into (it filled on arrival, and the broker may confirm it before it reports the
execution). Our own order is taken out of the quote (`crowd_quote`) when it was in the book
then. An order seen in no quote (adopted at a restart, or no usable quote since it was sent) is
judged on the quote at its fill, if that one is usable. A fill at the limit an order stood at
before a modification that is still on its way (the broker filled the order where it was) is
judged at that limit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from decimal import Decimal

import attrs

from ._contracts import ContractSpec
from ._core._crowd import OwnOrder, crowd_quote
from ._core._model_versions import FillPrediction, ModelVersion
from ._core._risk_book import BookOrder
from ._core._slippage import fill_aggressiveness
from ._enums import Policy
from ._ids import ClientOrderId
from ._orders import Fill
from ._quotes import Quote
from ._settings import SlippageSettings


@attrs.frozen(kw_only=True)
class _Seen:
    """A quote an order was seen in: our order as it stood in it (None: not in the book)."""

    quote: Quote
    own: OwnOrder | None


class FillPredictor:
    """Predicts each fill of a working order with ``model`` (the engine's current version),
    ``settings`` (the slippage settings, with each symbol's volatility) and ``adv`` (each
    symbol's average daily volume, for the fill's participation); ``quotes`` answers a
    contract's usable quote now (None: none)."""

    def __init__(self, model: ModelVersion, *, settings: SlippageSettings,
                 adv: Mapping[str, int], quotes: Callable[[ContractSpec], Quote | None]) -> None:
        self.model = model
        self._settings = settings
        self._adv = adv
        self._quotes = quotes
        self._seen: dict[ClientOrderId, _Seen] = {}
        # The policy of each order's intent, as its pre-trade estimate was made (None: the
        # intent has none, a bracket's say, and its fills are not predicted either).
        self._policies: dict[ClientOrderId, Policy | None] = {}

    def sent(self, order: BookOrder, *, before: Decimal | None) -> None:
        """``order`` (or its modification) is about to be sent: remember the quote now, which
        shows the order at its limit ``before`` a modification (None: a new order, not in it
        yet)."""
        own = None if before is None else OwnOrder(price=before, remaining=order.remaining)
        self._saw(order, own)

    def standing(self, order: BookOrder, *, broker_filled: int | None = None,
                 after_fill: bool = False) -> None:
        """Remember the quote now, which shows ``order`` (once sent) at its limit: after one
        of its fills (``after_fill``), or at a report of the broker's, unless that report says
        more is filled (``broker_filled``) than the book has had, or the order crossed the
        quote it was sent into."""
        if not order.sent or (broker_filled is not None and broker_filled > order.filled):
            return
        if not after_fill and self._crossed(order):
            return
        own = (OwnOrder(price=order.request.limit_price, remaining=order.remaining)
               if order.remaining else None)
        self._saw(order, own)

    def _crossed(self, order: BookOrder) -> bool:
        seen = self._seen.get(order.request.client_order_id)
        if seen is None:
            return False
        request = order.request
        crowd = crowd_quote(request.side, seen.quote, own=seen.own,
                            tick_size=request.contract.tick_size)
        return fill_aggressiveness(request.side, limit_price=request.limit_price,
                                   quote=crowd) >= 1

    def _saw(self, order: BookOrder, own: OwnOrder | None) -> None:
        quote = self._quotes(order.request.contract)
        if quote is not None:  # an unusable quote changes nothing
            self._seen[order.request.client_order_id] = _Seen(quote=quote, own=own)

    def knows_policy(self, client_order_id: ClientOrderId) -> bool:
        return client_order_id in self._policies

    def set_policy(self, client_order_id: ClientOrderId, policy: Policy | None) -> None:
        self._policies[client_order_id] = policy

    def forget_all_but(self, working: Collection[ClientOrderId]) -> None:
        """Forget the orders that are no longer ``working``."""
        for gone in [c for c in self._seen if c not in working]:
            del self._seen[gone]
        for gone in [c for c in self._policies if c not in working]:
            del self._policies[gone]

    def predict(self, order: BookOrder, fill: Fill) -> FillPrediction | None:
        """The prediction for ``fill`` of ``order`` at its current limit (the book has not
        counted the fill yet). None when its intent has no pre-trade estimate, or no usable
        quote is known."""
        request = order.request
        limit = request.limit_price
        policy = self._policies.get(request.client_order_id)
        seen = self._seen.get(request.client_order_id)
        if seen is not None and seen.own is not None and fill.price == seen.own.price:
            limit = seen.own.price  # filled where it stood: its modification had not arrived
        if seen is None and (quote := self._quotes(request.contract)) is not None:
            left = order.remaining - fill.quantity
            own = OwnOrder(price=request.limit_price, remaining=left) if left > 0 else None
            seen = _Seen(quote=quote, own=own)
        if policy is None or seen is None:
            return None
        crowd = crowd_quote(request.side, seen.quote, own=seen.own,
                            tick_size=request.contract.tick_size)
        symbol = request.contract.symbol
        return self.model.predict_fill(
            symbol=symbol, policy=policy, side=request.side, limit_price=limit,
            quote=crowd, quantity=fill.quantity, adv=self._adv.get(symbol),
            settings=self._settings)
