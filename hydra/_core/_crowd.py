"""The crowd's quote: the displayed quote with our own resting order taken out of it.

A broker shows the best bid and ask with everyone's orders in them, ours too. Priced from that,
an order that improved the touch would see its own price as the market's and chase itself
(TCA.md: in 363 of 415 marketable steps Hydra's own order was the displayed bid). The crowd's
near touch is the displayed one unless our order is all there is at it; then it is at least a
tick behind, and one tick is what is assumed: the broker shows no deeper level.

Where our order stands in the crowd's queue at its price is estimated from the same quote
(`queue_ahead`, `track_ahead`): the broker says nothing of it. Once a quote shows our order,
what is displayed at its price less our own lots bounds the crowd's lots ahead of it (fills and
cancels take lots out, the crowd joining behind us adds them), so the lowest such count seen
since the order went to its price is the estimate; a quote from before then (frozen) does not
show the order, nor lots that joined meanwhile, and is not read. An order alone at the touch
(it improved it) has nobody ahead of it.
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
    ahead: int | None = None
    """The crowd's lots estimated ahead of it in the queue at its price (`track_ahead`);
    None: not known (behind the touch, or not tracked)."""


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


def queue_ahead(side: Side, price: Decimal, quote: Quote, *, own: OwnOrder | None) -> int | None:
    """The crowd's lots that ``quote`` shows at ``price`` (our order on ``side``, ``own`` when
    it rests there, taken out): all ahead of an order that joins ``price`` now, and at least
    those ahead of one already resting there; 0 ahead of the displayed near touch (an order
    there improves it); None behind it (not known)."""
    side = check_side(side)
    near = quote.near_touch(side)
    if side.sign * (price - near) > 0:
        return 0
    if price != near:
        return None
    mine = own.remaining if own is not None and own.price == price else 0
    return max(near_size(side, quote) - mine, 0)


def track_ahead(known: int | None, seen: int | None) -> int | None:
    """The estimate of the lots ahead of our resting order after a quote that shows ``seen``
    (`queue_ahead`) at its price: the lower of it and what was ``known``; unknown once the
    order is behind the touch."""
    if known is None or seen is None:
        return seen
    return min(known, seen)


def first_in_queue(side: Side, crowd: Quote, own: OwnOrder | None) -> bool:
    """True when ``own`` rests at the ``crowd``'s near touch (the crowd's quote without it)
    with nobody estimated ahead of it: the next marketable order from the other side fills it."""
    return own is not None and own.ahead == 0 and own.price == crowd.near_touch(check_side(side))
