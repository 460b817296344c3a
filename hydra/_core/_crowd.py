"""The crowd's quote: the displayed quote with our own resting order taken out of it.

A broker shows the best bid and ask with everyone's orders in them, ours too. Priced from that,
an order that improved the touch would see its own price as the market's and chase itself
(TCA.md: in 363 of 415 marketable steps Hydra's own order was the displayed bid). The crowd's
near touch is the displayed one unless our order is all there is at it; then it is at least a
tick behind, and one tick is what is assumed: the broker shows no deeper level.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from .._enums import Side
from .._quotes import Quote
from ._pricing import check_side


@attrs.frozen(kw_only=True)
class OwnOrder:
    """Our order resting in the book: its limit price and the lots still unfilled."""

    price: Decimal
    remaining: int


def near_size(side: Side, quote: Quote) -> int:
    """Displayed lots at the near touch: the bid's for a buy, the ask's for a sell."""
    return quote.bid_size if check_side(side) is Side.BUY else quote.ask_size


def far_size(side: Side, quote: Quote) -> int:
    """Displayed lots at the far touch: the ask's for a buy, the bid's for a sell."""
    return near_size(check_side(side).opposite, quote)


def alone_at_touch(side: Side, quote: Quote, own: OwnOrder) -> bool:
    """True when ``own`` is all there is at the displayed near touch: the crowd's own touch is
    then only an estimate (`crowd_quote`)."""
    return own.price == quote.near_touch(side) and near_size(side, quote) <= own.remaining


def crowd_quote(side: Side, quote: Quote, *, own: OwnOrder | None, tick_size: Decimal) -> Quote:
    """``quote`` without ``own`` (our order on ``side``) in it.

    Unchanged when we have no order or ours is not at the displayed near touch. At the touch
    with others beside it, the touch stays and its size loses our lots; alone there, the crowd's
    touch is taken to be one tick behind ours, with no size known.
    """
    side = check_side(side)
    if own is None or own.price != quote.near_touch(side):
        return quote
    others = near_size(side, quote) - own.remaining
    price = own.price if others > 0 else max(own.price - side.sign * tick_size, tick_size)
    size = max(others, 0)
    if side is Side.BUY:
        return attrs.evolve(quote, bid=min(price, quote.ask), bid_size=size)
    return attrs.evolve(quote, ask=price, ask_size=size)
