"""A pure matching book for one contract, in whole ticks: the crowd's displayed size plus our
resting orders, matched in price-time priority with queue position. No Trio, no clock.

Prices are integers (price / tick size). The crowd shows lots at its touch and at levels behind
it, one tick apart. With ``depth`` levels the crowd's levels are explicit: drawn with
``draw_size`` when they appear, a level emptied by trading or cancels is gone until the crowd
refills it, and a side is never left empty (a level one tick behind appears). Without
``depth`` (None), every level behind the touch shows a size drawn the first time anyone looks
(the old model). Our resting order remembers ``ahead``: the crowd lots before it at its price,
which must trade (or cancel) first; crowd lots that arrive later queue behind it. An order priced
better than the crowd's touch has nothing ahead of it. When both sides draw sizes at once, side
``first`` draws first (a mirrored market's book draws its offers' where the seed's drew bids).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import attrs

from .._enums import Side

# The sides and their opposites as module constants: on Python 3.11 an enum member looked up
# on its class, and `Side.sign` or `Side.opposite` (which look theirs up), cost ten times as
# much, in the book's hottest loops.
_BUY, _SELL = Side.BUY, Side.SELL
_OPPOSITE = {_BUY: _SELL, _SELL: _BUY}


@attrs.define(kw_only=True)
class Resting:
    """One of our orders resting in the book."""

    key: str
    side: Side
    price: int
    remaining: int
    ahead: int


@attrs.frozen(kw_only=True)
class Match:
    """``quantity`` lots of our order ``key`` traded at ``price`` (ticks)."""

    key: str
    price: int
    quantity: int


class Book:
    """The crowd's touch and depth on each side, and our resting orders at their prices."""

    def __init__(
        self, *, bid: int, ask: int, draw_size: Callable[[], int], depth: int | None = None,
        first: Side = Side.BUY,
    ) -> None:
        self._draw_size = draw_size
        self.depth = depth
        self._sides = (first, first.opposite)
        self._touch = {Side.BUY: bid, Side.SELL: ask}
        self._crowd: dict[Side, dict[int, int]] = {Side.BUY: {}, Side.SELL: {}}
        self._ours: dict[Side, dict[int, list[Resting]]] = {Side.BUY: {}, Side.SELL: {}}
        self._by_key: dict[str, Resting] = {}
        self.version = 0  # counts changes to the book: a quote can only change when it moves
        self.recenter(bid=bid, ask=ask)

    # --- looking ---------------------------------------------------------------------------

    @property
    def crowd_bid(self) -> int:
        return self._touch[_BUY]

    @property
    def crowd_ask(self) -> int:
        return self._touch[_SELL]

    def has_resting(self, side: Side) -> bool:
        """True when we have an order resting on ``side`` (BUY: bids, SELL: offers)."""
        return bool(self._ours[side])

    def resting(self, key: str) -> Resting | None:
        return self._by_key.get(key)

    def orders(self) -> Iterator[Resting]:
        return iter(self._by_key.values())

    def best_price(self, side: Side) -> int:
        """Best price on ``side`` (crowd or ours), without drawing any size."""
        price = self._touch[side]
        ours = self._ours[side]
        if ours:
            sign = side.sign
            mine = _best_of(sign, ours)
            if sign * mine > sign * price:
                return mine
        return price

    def best(self, side: Side) -> tuple[int, int]:
        """Best price on ``side`` (crowd or ours) and the lots displayed there."""
        price = self._touch[side]
        ours = self._ours[side]
        if ours:
            sign = side.sign
            mine = _best_of(sign, ours)
            if sign * mine > sign * price:
                return mine, sum(o.remaining for o in ours[mine])
        return price, self.crowd_size(side, price) + sum(o.remaining for o in ours.get(price, ()))

    def crowd_size(self, side: Side, price: int) -> int:
        """Crowd lots displayed at ``price`` on ``side`` (none better than the crowd touch)."""
        sign = side.sign
        if sign * price > sign * self._touch[side]:
            return 0
        levels = self._crowd[side]
        size = levels.get(price)
        if size is None:
            if self.depth is not None:
                return 0
            size = levels[price] = self._draw_size()
        return size

    def levels(self, side: Side) -> list[tuple[int, int]]:
        """The crowd's levels on ``side`` (price, lots), best first (explicit depth only shows
        what exists; without depth, the ``depth`` nearest are drawn: ten)."""
        touch, sign = self._touch[side], side.sign
        if self.depth is None:
            prices = range(touch, touch - sign * 10, -sign)
            return [(p, self.crowd_size(side, p)) for p in prices]
        shown = [(p, n) for p, n in self._crowd[side].items() if n > 0]
        return sorted(shown, reverse=sign > 0)  # best first (the prices differ)

    def improver(self, side: Side) -> int | None:
        """Our best price on ``side`` when it is better than the crowd's touch, else None."""
        ours = self._ours[side]
        if not ours:
            return None
        sign = side.sign
        mine = _best_of(sign, ours)
        return mine if sign * mine > sign * self._touch[side] else None

    # --- the crowd moves -------------------------------------------------------------------

    def _uncrossed(self, bid: int, ask: int) -> tuple[int, int]:
        ours_bid, ours_ask = self._ours[_BUY], self._ours[_SELL]
        if ours_bid:
            ask = max(ask, max(ours_bid) + 1)
        if ours_ask:
            bid = min(bid, min(ours_ask) - 1)
        if ask <= bid:
            ask = bid + 1
        return bid, ask

    def requote(self, *, bid: int, ask: int) -> None:
        """The crowd moves its quote to ``bid``/``ask`` keeping the depth it has: levels better
        than the new touch are withdrawn, new prices up to it are drawn, levels beyond the
        depth window dropped; never crossing our orders. Without depth: `recenter`."""
        if self.depth is None:
            self.recenter(bid=bid, ask=ask)
            return
        self.version += 1
        bid, ask = self._uncrossed(bid, ask)
        touches = {Side.BUY: bid, Side.SELL: ask}
        for side, touch in ((side, touches[side]) for side in self._sides):
            levels, old, sign = self._crowd[side], self._touch[side], side.sign
            for price in [p for p in levels if sign * p > sign * touch]:
                self._forget(side, price)
            self._touch[side] = touch
            for price in range(touch, old, -sign):  # the prices the side advanced over
                self._add(side, price, self._draw_size())
            if not levels.get(touch):
                self._add(side, touch, self._draw_size())
            self._trim(side)
        self._zero_improvers()

    def shift(self, ticks: int) -> None:
        """Move the crowd's whole book by ``ticks`` (only before any order of ours rests)."""
        assert not self._by_key
        self.version += 1
        self._touch = {side: price + ticks for side, price in self._touch.items()}
        self._crowd = {
            side: {p + ticks: n for p, n in levels.items()} for side, levels in self._crowd.items()
        }

    def add(self, side: Side, price: int, lots: int) -> None:
        """``lots`` new crowd lots at ``price`` on ``side``, behind any order of ours there; a
        price better than the touch becomes the touch. Never crosses the other side."""
        sign = side.sign
        assert sign * price < sign * self.best_price(_OPPOSITE[side])
        self.version += 1
        self._add(side, price, lots)
        if sign * price > sign * self._touch[side]:
            self._touch[side] = price
        self._zero_improvers()
        self._trim(side)

    def cancel(self, side: Side, price: int, position: float) -> None:
        """One crowd lot at ``price`` cancels; it is the lot at fraction ``position`` (0..1) of
        the crowd's queue there, so ahead of our orders whose ``ahead`` exceeds it."""
        size = self._crowd[side].get(price, 0)
        if not size:
            return
        self.version += 1
        index = int(position * size)
        for order in self._ours[side].get(price, ()):
            if order.ahead > index:
                order.ahead -= 1
        if size > 1:
            self._crowd[side][price] = size - 1
        else:
            self._forget(side, price)
            if price == self._touch[side]:
                self._retreat(side, price)

    def withdraw_touch(self, side: Side) -> None:
        """The crowd takes its touch level on ``side`` away (the spread widens)."""
        self.version += 1
        price = self._touch[side]
        self._forget(side, price)
        self._retreat(side, price)

    def missing_level(self, side: Side) -> int | None:
        """The best price in the depth window behind the touch where the crowd shows nothing."""
        if self.depth is None:
            return None
        touch, levels, sign = self._touch[side], self._crowd[side], side.sign
        for k in range(1, self.depth):
            price = touch - sign * k
            if not levels.get(price):
                return price
        return None

    def _add(self, side: Side, price: int, lots: int) -> None:
        levels = self._crowd[side]
        levels[price] = levels.get(price, 0) + lots

    def _forget(self, side: Side, price: int) -> None:
        """The crowd's level at ``price`` is gone: nothing is ahead of our orders there."""
        self._crowd[side].pop(price, None)
        for order in self._ours[side].get(price, ()):
            order.ahead = 0

    def _trim(self, side: Side) -> None:
        if self.depth is None:
            return
        sign = side.sign
        last = self._touch[side] - sign * (self.depth - 1)
        for price in [p for p in self._crowd[side] if sign * p < sign * last]:
            self._forget(side, price)

    def _retreat(self, side: Side, price: int) -> None:
        """The crowd's touch at ``price`` emptied: the touch moves to the next level behind
        (with explicit depth, the next that shows lots; a new one when none does)."""
        sign = side.sign
        if self.depth is None:
            self._touch[side] = price - sign
            return
        levels = self._crowd[side]
        behind = [p for p, n in levels.items() if n > 0 and sign * p < sign * price]
        if behind:
            self._touch[side] = _best_of(sign, behind)
        else:
            self._touch[side] = price - sign
            self._add(side, price - sign, self._draw_size())

    def _zero_improvers(self) -> None:
        for side, sign in _SIGNS:
            touch = self._touch[side]
            for price, queue in self._ours[side].items():
                if sign * price > sign * touch:
                    for order in queue:
                        order.ahead = 0

    def recenter(self, *, bid: int, ask: int) -> None:
        """The crowd requotes around a new mid: fresh depth, never crossing our orders."""
        self.version += 1
        bid, ask = self._uncrossed(bid, ask)
        self._touch = {Side.BUY: bid, Side.SELL: ask}
        self._crowd = {Side.BUY: {}, Side.SELL: {}}
        for side in self._sides:
            for price, queue in self._ours[side].items():
                if side.sign * price > side.sign * self._touch[side]:
                    for order in queue:
                        order.ahead = 0
                else:
                    deepest = max(order.ahead for order in queue)
                    self._crowd[side][price] = max(self._fresh(side, price), deepest)
            if self.depth is not None:
                touch = self._touch[side]
                for k in range(self.depth):
                    price = touch - side.sign * k
                    if price not in self._crowd[side]:
                        self._crowd[side][price] = self._draw_size()

    def _fresh(self, side: Side, price: int) -> int:
        if self.depth is None:
            return self.crowd_size(side, price)
        return self._draw_size()

    # --- our orders --------------------------------------------------------------------------

    def would_cross_own(self, side: Side, price: int) -> bool:
        """True when an order at ``price`` would trade against one of our own resting orders."""
        other = self._ours[side.opposite]
        return any(side.sign * price >= side.sign * p for p in other)

    def place(self, *, key: str, side: Side, price: int, quantity: int) -> list[Match]:
        """Enter our limit order: trade with the crowd up to ``price``, rest the remainder at
        the back of the queue at ``price``. Returns the matches."""
        self.version += 1
        matches, remaining = self._take_crowd(key, side, price, quantity)
        if remaining:
            ahead = self.crowd_size(side, price)
            order = Resting(key=key, side=side, price=price, remaining=remaining, ahead=ahead)
            self._ours[side].setdefault(price, []).append(order)
            self._by_key[key] = order
        return matches

    def remove(self, key: str) -> Resting | None:
        """Take our order out of the book (cancel, or before repricing it)."""
        order = self._by_key.pop(key, None)
        if order is not None:
            self.version += 1
            queue = self._ours[order.side][order.price]
            queue.remove(order)
            if not queue:
                del self._ours[order.side][order.price]
        return order

    def reduce(self, key: str, remaining: int) -> None:
        """Lower an order's remaining quantity in place, keeping its queue position."""
        self.version += 1
        self._by_key[key].remaining = remaining

    def _take_crowd(
        self, key: str, side: Side, limit: int, quantity: int
    ) -> tuple[list[Match], int]:
        """Our marketable order walks the crowd's far side as far as its limit."""
        far = _OPPOSITE[side]
        matches: list[Match] = []
        while quantity and side.sign * limit >= side.sign * self._touch[far]:
            price = self._touch[far]
            size = self.crowd_size(far, price)
            take = min(quantity, size)
            if take:
                matches.append(Match(key=key, price=price, quantity=take))
            quantity -= take
            self._crowd[far][price] = size - take
            if take == size:
                self._forget(far, price)
                self._retreat(far, price)
        return matches, quantity

    # --- flow ------------------------------------------------------------------------------

    def flow(self, aggressor: Side, quantity: int) -> tuple[list[Match], int]:
        """Marketable flow of ``quantity`` lots by ``aggressor`` sweeps the other side in
        price-time priority. Returns our matches and the last traded price."""
        self.version += 1
        side = _OPPOSITE[aggressor]
        matches: list[Match] = []
        price = self._touch[side]
        while quantity:
            price = self._touch[side]
            ours = self._ours[side]
            if ours:
                price = _best_of(side.sign, [price, *ours])
            quantity = self._sweep_level(side, price, quantity, matches)
        return matches, price

    def _sweep_level(self, side: Side, price: int, quantity: int, matches: list[Match]) -> int:
        """Trade up to ``quantity`` at one price level, first in first out; returns the rest."""
        crowd = self.crowd_size(side, price)
        queue = self._ours[side].get(price, [])
        consumed = 0
        for order in queue:
            before = min(order.ahead, crowd) - consumed
            if before > 0:
                take = min(quantity, before)
                consumed += take
                quantity -= take
            if not quantity:
                break
            fill = min(quantity, order.remaining)
            matches.append(Match(key=order.key, price=price, quantity=fill))
            order.remaining -= fill
            quantity -= fill
            if not quantity:
                break
        take = min(quantity, crowd - consumed)
        consumed += take
        quantity -= take
        for order in [o for o in queue if not o.remaining]:
            self.remove(order.key)
        for order in queue:
            order.ahead = max(0, order.ahead - consumed)
        if crowd:
            self._crowd[side][price] = crowd - consumed
        if price == self._touch[side] and crowd == consumed:
            self._forget(side, price)
            self._retreat(side, price)
        return quantity


_SIGNS = ((_BUY, 1), (_SELL, -1))  # each side and its sign


def _best_of(sign: int, prices: Iterable[int]) -> int:
    """The best of ``prices`` for the side of ``sign``: the highest bid or the lowest offer."""
    return max(prices) if sign > 0 else min(prices)
