"""Bracket orders: an entry limit with a take-profit limit and a protective stop limit.

The two exits are children of the entry and one OCA group (the first fill of either cancels the
other); the entry and the take-profit are sent with ``transmit=False`` and the stop with
``transmit=True``, so the broker releases all three together. The exits work only once the
entry has filled. Every order goes through the risk actor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import structlog
import trio

from ._child_order import ChildOrder
from ._contracts import ContractSpec
from ._enums import OrderStatus, OrderType, Side, TimeInForce
from ._errors import InvalidValueError
from ._ids import UNSTAMPED, ClientOrderId, IntentId, OrderIds, new_intent_id
from ._messages import (
    AdoptOrder,
    Blocked,
    CancelOrder,
    OrderAnswer,
    OwnerEvent,
    PlaceOrder,
    RiskMessage,
)
from ._orders import Fill, OrderRequest
from ._reports import ChildOrderReport
from ._validate import non_empty_str, positive, positive_int, to_decimal
from .brokers import FillReported, OpenOrder

log = structlog.get_logger()


@attrs.frozen(kw_only=True)
class BracketIntent:
    """Enter at ``entry_price``; exit at ``take_profit_price`` or by a stop at ``stop_price``
    with limit ``stop_limit_price``. For a buy: stop limit ≤ stop < entry < take profit."""

    contract: ContractSpec
    side: Side = attrs.field(validator=attrs.validators.instance_of(Side))
    quantity: int = attrs.field(validator=positive_int)
    entry_price: Decimal = attrs.field(converter=to_decimal, validator=positive)
    take_profit_price: Decimal = attrs.field(converter=to_decimal, validator=positive)
    stop_price: Decimal = attrs.field(converter=to_decimal, validator=positive)
    stop_limit_price: Decimal = attrs.field(converter=to_decimal, validator=positive)
    strategy: str = attrs.field(default="default", validator=non_empty_str)
    intent_id: IntentId = attrs.field(factory=new_intent_id, validator=non_empty_str)

    def __attrs_post_init__(self) -> None:
        sign = self.side.sign
        prices = (self.stop_limit_price, self.stop_price, self.entry_price,
                  self.take_profit_price)
        names = ("stop_limit_price", "stop_price", "entry_price", "take_profit_price")
        for (low, low_name), (high, high_name) in zip(
            zip(prices, names, strict=True), zip(prices[1:], names[1:], strict=True),
            strict=False,
        ):
            strict = high_name != "stop_price"  # the stop's limit may equal its stop price
            ordered = (high - low) * sign > 0 if strict else (high - low) * sign >= 0
            if not ordered:
                relation = "above" if sign > 0 else "below"
                raise InvalidValueError(high_name, high, f"must be {relation} {low_name} {low}")


def bracket_requests(intent: BracketIntent, *, ids: OrderIds = UNSTAMPED
                     ) -> tuple[OrderRequest, OrderRequest, OrderRequest]:
    """The entry, take-profit and stop orders of ``intent``, in the order they are sent
    (numbered 1, 2, 3 by ``ids``)."""
    coids = [ids.for_intent(intent.intent_id, n) for n in (1, 2, 3)]
    common: dict[str, Any] = {"intent_id": intent.intent_id, "contract": intent.contract,
                              "quantity": intent.quantity, "time_in_force": TimeInForce.GTC}
    exit_common = {**common, "side": intent.side.opposite, "parent_id": coids[0],
                   "oca_group": f"oca-{intent.intent_id}"}
    return (
        OrderRequest(client_order_id=coids[0], side=intent.side, limit_price=intent.entry_price,
                     transmit=False, **common),
        OrderRequest(client_order_id=coids[1], limit_price=intent.take_profit_price,
                     transmit=False, **exit_common),
        OrderRequest(client_order_id=coids[2], order_type=OrderType.STOP_LIMIT,
                     limit_price=intent.stop_limit_price, stop_price=intent.stop_price,
                     transmit=True, **exit_common),
    )


class BracketActor:
    """Places the three orders, follows them until the bracket is over, settles on the way out."""

    def __init__(self, intent: BracketIntent, *, risk: trio.MemorySendChannel[RiskMessage],
                 arrival_mid: Decimal, ids: OrderIds = UNSTAMPED,
                 leave_working: Callable[[], bool] = lambda: False) -> None:
        self.requests = bracket_requests(intent, ids=ids)
        self.children = {
            r.client_order_id: ChildOrder(client_order_id=r.client_order_id,
                                          quantity=r.quantity, order_type=r.order_type,
                                          stop_price=r.stop_price)
            for r in self.requests
        }
        self._risk = risk
        self._arrival_mid = arrival_mid
        self._leave_working = leave_working  # true at a close that leaves orders working
        # Unbounded: the risk actor hands events over with send_nowait (see PatienceActor).
        self._events_in, self._events = trio.open_memory_channel[OwnerEvent](math.inf)

    @classmethod
    def from_requests(
        cls, requests: Sequence[OrderRequest], *, strategy: str,
        risk: trio.MemorySendChannel[RiskMessage], arrival_mid: Decimal,
        ids: OrderIds = UNSTAMPED, leave_working: Callable[[], bool] = lambda: False,
    ) -> BracketActor:
        """The actor of the bracket whose entry, take-profit and stop are ``requests`` (as
        journaled, numbered by ``ids``), to follow it after a restart."""
        entry, take_profit, stop = requests
        assert stop.stop_price is not None
        intent = BracketIntent(
            contract=entry.contract, side=entry.side, quantity=entry.quantity,
            entry_price=entry.limit_price, take_profit_price=take_profit.limit_price,
            stop_price=stop.stop_price, stop_limit_price=stop.limit_price, strategy=strategy,
            intent_id=entry.intent_id,
        )
        return cls(intent, risk=risk, arrival_mid=arrival_mid, ids=ids,
                   leave_working=leave_working)

    async def adopt(self, found: Mapping[ClientOrderId, OpenOrder],
                    statuses: Mapping[ClientOrderId, OrderStatus], fills: Sequence[Fill]) -> None:
        """Take over a bracket a restart found: each leg still at the broker is adopted as it
        stands (its price, its OCA group, the stop armed: nothing is sent), the others keep
        the status the journal gives them; ``fills`` are the journaled ones."""
        for request in self.requests:
            coid = request.client_order_id
            child = self.children[coid]
            child.fills.extend(fill for fill in fills if fill.client_order_id == coid)
            if coid in found:
                child.prices.append(found[coid].request.limit_price)
                child.status = OrderStatus.WORKING
                await self._risk.send(AdoptOrder(order=found[coid],
                                                 arrival_mid=self._arrival_mid,
                                                 owner=self._events_in))
            else:
                child.prices.append(request.limit_price)
                child.status = statuses[coid]

    async def follow(self) -> None:
        """Follow an adopted bracket until it is over; settle on the way out."""
        try:
            while not self.over:
                self._apply(await self._events.receive())
        finally:
            with trio.CancelScope(shield=True) as cleanup:
                cleanup.relative_deadline = 10.0
                await self._settle()

    @property
    def entry(self) -> ChildOrder:
        return self.children[self.requests[0].client_order_id]

    @property
    def over(self) -> bool:
        """The entry ended unfilled, or every order is final (an exit filled, OCA did the rest)."""
        if self.entry.done and self.entry.filled == 0:
            return all(child.done or not child.prices for child in self.children.values())
        return all(child.done for child in self.children.values())

    async def _place(self, request: OrderRequest) -> OrderAnswer:
        self.children[request.client_order_id].prices.append(request.limit_price)
        send, receive = trio.open_memory_channel[OrderAnswer](1)
        await self._risk.send(PlaceOrder(request=request, arrival_mid=self._arrival_mid,
                                         predicted_bps=None, owner=self._events_in, reply=send))
        return await receive.receive()

    async def run(self) -> None:
        try:
            for request in self.requests:
                answer = await self._place(request)
                if isinstance(answer, Blocked):
                    self.children[request.client_order_id].block(answer.denials)
                    return
            while not self.over:
                self._apply(await self._events.receive())
        finally:
            with trio.CancelScope(shield=True) as cleanup:
                cleanup.relative_deadline = 10.0
                await self._settle()

    async def _settle(self) -> None:
        """Cancel whatever of the bracket still works (the entry first: its children follow);
        at a close that leaves orders working, leave it all working instead (its exits keep
        protecting the position)."""
        working = [c for c in self.children.values() if c.prices and not c.done
                   and c.status is not OrderStatus.BLOCKED]
        if self._leave_working():
            for child in working:
                child.status = OrderStatus.LEFT_WORKING
            return
        for child in working:
            try:
                await self._risk.send(CancelOrder(client_order_id=child.client_order_id))
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return
        while any(not c.done for c in working):
            self._apply(await self._events.receive())

    def _apply(self, event: OwnerEvent) -> None:
        key = event.fill.client_order_id if isinstance(event, FillReported) else getattr(
            event, "client_order_id", None
        )
        child = self.children.get(key)  # type: ignore[arg-type]
        if child is not None:
            child.apply(event)

    def reports(self) -> list[ChildOrderReport]:
        """A report for every order of the bracket that was sent or refused."""
        return [child.report() for child in self.children.values() if child.prices]
