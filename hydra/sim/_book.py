"""A pure matching book for one contract, in whole ticks: the crowd's displayed size plus our
resting orders, matched in price-time priority with queue position. No Trio, no clock.

Prices are integers (price / tick size). The crowd shows ``size`` lots at its touch and at each
level behind it, one tick apart (drawn lazily with ``draw_size``). Our resting order remembers
``ahead``: the crowd lots displayed at its price when it joined, which must trade first. An order
priced better than the crowd's touch has nothing ahead of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs

from .._enums import Side


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

    def __init__(self, *, bid: int, ask: int, draw_size: Callable[[], int]) -> None:
        self._draw_size = draw_size
        self._touch = {Side.BUY: bid, Side.SELL: ask}
        self._crowd: dict[Side, dict[int, int]] = {Side.BUY: {}, Side.SELL: {}}
        self._ours: dict[Side, dict[int, list[Resting]]] = {Side.BUY: {}, Side.SELL: {}}
        self._by_key: dict[str, Resting] = {}
        self.version = 0  # counts changes to the book: a quote can only change when it moves
        self.recenter(bid=bid, ask=ask)

    # --- looking ---------------------------------------------------------------------------

    @property
    def crowd_bid(self) -> int:
        return self._touch[Side.BUY]

    @property
    def crowd_ask(self) -> int:
        return self._touch[Side.SELL]

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
            mine = max(ours, key=lambda p: side.sign * p)
            if side.sign * mine > side.sign * price:
                return mine
        return price

    def best(self, side: Side) -> tuple[int, int]:
        """Best price on ``side`` (crowd or ours) and the lots displayed there."""
        price = self._touch[side]
        ours = self._ours[side]
        if ours:
            mine = max(ours, key=lambda p: side.sign * p)
            if side.sign * mine > side.sign * price:
                return mine, sum(o.remaining for o in ours[mine])
        return price, self.crowd_size(side, price) + sum(o.remaining for o in ours.get(price, ()))

    def crowd_size(self, side: Side, price: int) -> int:
        """Crowd lots displayed at ``price`` on ``side`` (none better than the crowd touch)."""
        if side.sign * price > side.sign * self._touch[side]:
            return 0
        levels = self._crowd[side]
        size = levels.get(price)
        if size is None:
            size = levels[price] = self._draw_size()
        return size

    # --- the crowd moves -------------------------------------------------------------------

    def recenter(self, *, bid: int, ask: int) -> None:
        """The crowd requotes around a new mid: fresh depth, never crossing our orders."""
        self.version += 1
        ours_bid, ours_ask = self._ours[Side.BUY], self._ours[Side.SELL]
        if ours_bid:
            ask = max(ask, max(ours_bid) + 1)
        if ours_ask:
            bid = min(bid, min(ours_ask) - 1)
        if ask <= bid:
            ask = bid + 1
        self._touch = {Side.BUY: bid, Side.SELL: ask}
        self._crowd = {Side.BUY: {}, Side.SELL: {}}
        for side in (Side.BUY, Side.SELL):
            for price, queue in self._ours[side].items():
                if side.sign * price > side.sign * self._touch[side]:
                    for order in queue:
                        order.ahead = 0
                else:
                    deepest = max(order.ahead for order in queue)
                    self._crowd[side][price] = max(self.crowd_size(side, price), deepest)

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
        far = side.opposite
        matches: list[Match] = []
        while quantity and side.sign * limit >= side.sign * self._touch[far]:
            price = self._touch[far]
            size = self.crowd_size(far, price)
            take = min(quantity, size)
            matches.append(Match(key=key, price=price, quantity=take))
            quantity -= take
            self._crowd[far][price] = size - take
            if take == size:
                del self._crowd[far][price]
                self._touch[far] = price - far.sign
        return matches, quantity

    # --- flow ------------------------------------------------------------------------------

    def flow(self, aggressor: Side, quantity: int) -> tuple[list[Match], int]:
        """Marketable flow of ``quantity`` lots by ``aggressor`` sweeps the other side in
        price-time priority. Returns our matches and the last traded price."""
        self.version += 1
        side = aggressor.opposite
        matches: list[Match] = []
        price = self._touch[side]
        while quantity:
            price = self._touch[side]
            ours = self._ours[side]
            if ours:
                price = max([price, *ours], key=lambda p: side.sign * p)
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
            self._crowd[side].pop(price, None)
            self._touch[side] = price - side.sign
        return quantity
