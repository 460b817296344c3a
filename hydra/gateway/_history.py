"""Bars for historical data, of every kind and size: from the market's generated past
(`_past`) before the session, then from the live session as the exchange recorded it. Pure.

Bars shorter than a minute split a past minute along a path through its open, high, low and
close. From the opening on, bars come from the exchange's own record: every change of the best
bid and ask, and every trade, so history runs into the live session with no seam.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

import attrs
import numpy as np

from ._bar_table import BarTable, empty_table, joined, trade_minutes_table, waps
from ._past import MINUTE, Array, Past, Sessions

WHAT = ("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK")


class Bar(NamedTuple):
    """One bar: ``start`` in epoch seconds (for a daily or longer bar, its first trading day,
    ``day``); prices in the contract's units. A named tuple, not an attrs class: a year of
    minutes is 100,000 bars or more, and a tuple is made several times faster."""

    start: int
    day: dt.date | None
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    wap: Decimal
    trades: int  # how many trades (IB's bar "count")


@attrs.frozen(kw_only=True)
class Print:
    """A trade of the live session: epoch seconds, price in ticks, lots."""

    time: float
    price: int
    quantity: int


@attrs.frozen(kw_only=True)
class Touch:
    """A change of the live best bid and ask: epoch seconds, prices in ticks."""

    time: float
    bid: int
    ask: int


class _Agg:
    """One bar being built, prices in half ticks (a mid can be half a tick)."""

    __slots__ = ("close", "count", "day", "high", "low", "open", "start", "value", "volume")

    def __init__(self, start: int, day: dt.date | None, o: int, h: int, lo: int, c: int) -> None:
        self.start, self.day = start, day
        self.open, self.high, self.low, self.close = o, h, lo, c
        self.volume = self.count = 0
        self.value = 0.0  # half ticks × lots, for the WAP

    def add(self, h: int, lo: int, c: int) -> None:
        if h > self.high:
            self.high = h
        if lo < self.low:
            self.low = lo
        self.close = c


# --- bar building ------------------------------------------------------------------------------


def _quote_prices(what: str, bid: int, spread: int) -> int:
    """A quote's price for ``what``, in half ticks."""
    if what == "BID":
        return 2 * bid
    if what == "ASK":
        return 2 * (bid + spread)
    return 2 * bid + spread  # MIDPOINT


class BarBuilder:
    """Bars of one kind (``what``, ``size`` seconds, or 86 400 / a week / a month as
    ``"day"``, ``"week"``, ``"month"``) between two moments, past and live together."""

    def __init__(
        self, *, what: str, size: int | str, start: float, end: float, use_rth: bool,
        sessions: Sessions,
    ) -> None:  # fmt: skip
        self.what, self.size, self.start, self.end = what, size, start, end
        self.use_rth, self.sessions = use_rth, sessions
        self._bars: dict[object, _Agg] = {}
        self._past = empty_table()  # TRADES of a minute or more from the past, at once
        self._midnights: dict[dt.date, int] = {}

    def _key(self, epoch: int, day: dt.date, midnight: int | None = None) -> tuple[object, int]:
        """The bar a moment belongs to: its key and its start (``midnight``: of its local
        date, when known)."""
        size = self.size
        if size == "day":
            return day, self._midnight(day)
        if size == "week":
            monday = day - dt.timedelta(days=day.weekday())
            return monday, self._midnight(monday)
        if size == "month":
            first = day.replace(day=1)
            return first, self._midnight(first)
        assert isinstance(size, int)
        if midnight is None:
            local = dt.datetime.fromtimestamp(epoch, self.sessions.zone).date()
            midnight = self._midnight(local)
        start = midnight + (epoch - midnight) // size * size
        return start, start

    def _midnight(self, day: dt.date) -> int:
        known = self._midnights.get(day)
        if known is None:
            known = int(dt.datetime.combine(day, dt.time(0), self.sessions.zone).timestamp())
            self._midnights[day] = known
        return known

    def _merge(
        self, epoch: int, day: dt.date, o: int, h: int, lo: int, c: int, midnight: int | None = None
    ) -> _Agg:
        key, start = self._key(epoch, day, midnight)
        agg = self._bars.get(key)
        if agg is None:
            daily = isinstance(self.size, str)
            agg = self._bars[key] = _Agg(start, day if daily else None, o, h, lo, c)
        else:
            agg.add(h, lo, c)
        return agg

    def add_past(self, past: Past) -> None:
        """The past minutes between ``start`` and ``end``."""
        past.reach(self.start)
        if isinstance(self.size, int) and self.size >= MINUTE and self.what == "TRADES":
            self._add_trade_minutes(past)
            return
        times, rth = past.times, past.rth
        # newest first: the minutes from ``start`` (before index ``last``) up to (not
        # including) ``end`` (from index ``first``)
        first, last = _index_before(times, self.end), _index_before(times, self.start)
        for i in range(last - 1, first - 1, -1):
            minute = times[i]
            if self.use_rth and not rth[i]:
                continue
            if isinstance(self.size, int) and self.size < MINUTE:
                self._split_minute(past, i)
            else:
                self._add_minute(past, i, minute)

    def _add_trade_minutes(self, past: Past) -> None:
        """`add_past` for TRADES bars of a minute or longer, with numpy (`_bar_table`): the
        commonest request, and a year of it is over 100,000 minutes."""
        assert isinstance(self.size, int)
        times, midnights, rth, *trades = (c[::-1] for c in past.columns()[:9])
        keep = (trades[0] > 0) & (times >= self.start) & (times < self.end)
        if self.use_rth:
            keep &= rth > 0
        self._past = trade_minutes_table(times[keep], midnights[keep],
                                         [c[keep] for c in trades], size=self.size)

    def _add_minute(self, past: Past, i: int, minute: int) -> None:
        o, h, lo, c, spread = past.quote[i]
        day, midnight = past.days[i], past.midnights[i]
        if self.what == "TRADES":
            n, lots, to, th, tl, tc = past.trades[i]
            if n:
                agg = self._merge(minute, day, 2 * to, 2 * th, 2 * tl, 2 * tc, midnight)
                agg.volume += lots
                agg.count += n
                agg.value += lots * (th + tl + tc) * 2 / 3
        elif self.what == "BID_ASK":
            self._merge(minute, day, o + c, 2 * (h + spread), 2 * lo, o + c + 2 * spread,
                        midnight)  # fmt: skip
        else:
            q = _quote_prices
            w = self.what
            self._merge(minute, day, q(w, o, spread), q(w, h, spread), q(w, lo, spread),
                        q(w, c, spread), midnight)  # fmt: skip

    def _split_minute(self, past: Past, i: int) -> None:
        """A past minute as bars shorter than a minute: a path from the open through the high
        and the low (in an order and at parts drawn from the minute's own seed) to the close."""
        assert isinstance(self.size, int)
        parts = MINUTE // self.size
        minute, day = past.times[i], past.days[i]
        o, h, lo, c, spread = past.quote[i]
        rng = random.Random(minute)
        a, b = sorted(rng.sample(range(parts), 2)) if parts > 1 else (0, 0)
        first, second = (h, lo) if rng.random() < 0.5 else (lo, h)
        path = _through([(0, o), (a, first), (b, second), (parts - 1, c)], parts)
        n, lots, to, th, tl, tc = past.trades[i]
        trade_part = rng.randrange(parts)
        previous = o
        for part, close in enumerate(path):
            start = minute + part * self.size
            top, bottom = max(previous, close), min(previous, close)
            if part == a:
                top, bottom = max(top, first), min(bottom, first)
            if part == b:
                top, bottom = max(top, second), min(bottom, second)
            if self.what == "TRADES":
                if n and part == trade_part:
                    agg = self._merge(start, day, 2 * to, 2 * th, 2 * tl, 2 * tc)
                    agg.volume += lots
                    agg.count += n
                    agg.value += lots * (th + tl + tc) * 2 / 3
            elif self.what == "BID_ASK":
                self._merge(start, day, previous + close, 2 * (top + spread), 2 * bottom,
                            previous + close + 2 * spread)  # fmt: skip
            else:
                q, w = _quote_prices, self.what
                self._merge(start, day, q(w, previous, spread), q(w, top, spread),
                            q(w, bottom, spread), q(w, close, spread))  # fmt: skip
            previous = close

    def add_live(self, touches: Sequence[Touch], prints: Sequence[Print]) -> None:
        """The live session between ``start`` and ``end``: trades as they printed; quotes as
        they stood at each bar's start and moved within it."""
        if self.what == "TRADES":
            for p in prints:
                if self.start <= p.time < self.end:
                    day, rth = self.sessions.locate(p.time)
                    if self.use_rth and not rth:
                        continue
                    agg = self._merge(int(p.time), day, 2 * p.price, 2 * p.price, 2 * p.price,
                                      2 * p.price)  # fmt: skip
                    agg.volume += p.quantity
                    agg.count += 1
                    agg.value += 2 * p.price * p.quantity
            return
        if not touches:
            return
        step = self.size if isinstance(self.size, int) else MINUTE
        at = max(self.start, touches[0].time)
        at = math.ceil(at) if at != int(at) else at
        index = bisect.bisect_right([t.time for t in touches], at) - 1
        while at < self.end:
            day, rth = self.sessions.locate(at)
            upto = min(self.end, at + step)
            if not (self.use_rth and not rth):
                now = touches[max(index, 0)]
                self._add_quote(int(at), day, now)
                j = index + 1
                while j < len(touches) and touches[j].time < upto:
                    self._add_quote(int(at), day, touches[j])
                    j += 1
            while index + 1 < len(touches) and touches[index + 1].time < upto:
                index += 1
            at = upto

    def _add_quote(self, epoch: int, day: dt.date, t: Touch) -> None:
        spread = t.ask - t.bid
        if self.what == "BID_ASK":
            self._merge(epoch, day, 2 * t.bid, 2 * t.ask, 2 * t.bid, 2 * t.ask)
        else:
            price = _quote_prices(self.what, t.bid, spread)
            self._merge(epoch, day, price, price, price, price)

    def table(self) -> BarTable:
        """The bars built, oldest first, as columns."""
        aggs = sorted(self._bars.values(), key=lambda a: a.start)

        def ints(values: list[int]) -> Array:
            return np.array(values, np.int64).reshape(-1)

        live = BarTable(
            ints([a.start for a in aggs]), ints([a.open for a in aggs]),
            ints([a.high for a in aggs]), ints([a.low for a in aggs]),
            ints([a.close for a in aggs]), ints([a.volume for a in aggs]),
            ints([a.count for a in aggs]), np.array([a.value for a in aggs], np.float64),
            days=[a.day for a in aggs] if isinstance(self.size, str) else None,
        )  # fmt: skip
        return joined(self._past, live)

    def bars(self, tick: Decimal) -> list[Bar]:
        """The bars built, oldest first."""
        t = self.table()
        price = _Prices(tick / 2)
        days = t.days if t.days is not None else [None] * len(t)
        return [
            Bar(start, day, price[o], price[h], price[lo], price[c], lots, Decimal(wap), n)
            for start, day, o, h, lo, c, lots, wap, n in zip(
                t.start.tolist(), days, t.open.tolist(), t.high.tolist(), t.low.tolist(),
                t.close.tolist(), t.volume.tolist(), waps(t, float(tick / 2)), t.trades.tolist(),
                strict=True,
            )
        ]


class _Prices(dict[int, Decimal]):
    """Half ticks → price, each made once (a year of bars has a few hundred distinct ones)."""

    def __init__(self, half: Decimal) -> None:
        super().__init__()
        self._half = half

    def __missing__(self, half_ticks: int) -> Decimal:
        price = self[half_ticks] = half_ticks * self._half
        return price


def _index_before(newest_first: list[int], end: float) -> int:
    """The index of the newest minute that starts before ``end`` (len when none does)."""
    lo, hi = 0, len(newest_first)
    while lo < hi:
        mid = (lo + hi) // 2
        if newest_first[mid] >= end:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _through(points: list[tuple[int, int]], parts: int) -> list[int]:
    """Prices at each part, straight lines (in whole ticks) through ``points``."""
    path = [points[0][1]] * parts
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        for x in range(x0, x1 + 1):
            path[x] = y0 if x1 == x0 else round(y0 + (y1 - y0) * (x - x0) / (x1 - x0))
    return path
