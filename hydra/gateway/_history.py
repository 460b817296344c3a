"""The market's past, for historical data: the minutes before the session, generated from the
simulator's own model of the market, then the live session as the exchange recorded it. Pure.

Before the session, the model is sampled once a minute, in the contract's trading hours only:
the bid walks back from the opening quote with the market's ``daily_volatility`` spread over
the minutes a day trades, the spread is drawn from ``spread_ticks``, and trades arrive at the
market's ADV spread over the same minutes. A seed gives the same
past every time, whatever is asked first: minutes are generated in one sequence, backwards from
the opening, and kept. Bars shorter than a minute split a past minute along a path through its
open, high, low and close. From the opening on, bars come from the exchange's own record: every
change of the best bid and ask, and every trade, so history runs into the live session with no
seam.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import itertools
import math
import random
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import numpy.typing as npt

from .._contracts import ContractSpec, TradingSession
from ..sim import MarketParams
from ._bar_table import BarTable, empty_table, joined, trade_minutes_table, waps
from ._hours import windows_of

MINUTE = 60
_BLOCK = 4096
"""Minutes of the past drawn at once (numpy, several times faster than one at a time)."""
Array = npt.NDArray[np.int64]
HISTORY_DAYS = 400
"""How far back the past reaches (a little over a year, IB's usual for a futures month)."""

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


class Sessions:
    """A contract's trading windows, in its time zone."""

    def __init__(self, spec: ContractSpec) -> None:
        self.zone = ZoneInfo(spec.time_zone)
        self._sessions = spec.trading_hours or (
            TradingSession(days="Mon-Fri", open=dt.time(0, 0), close=dt.time(0, 0)),
        )

    def windows(self, day: dt.date) -> list[tuple[int, int, dt.date, bool]]:
        """The windows opening on ``day``, newest first: (start, end) in epoch seconds, the
        trading day (the day it closes) and whether it is regular trading hours (a day
        session). None on a holiday's trading day (`_hours.windows_of`)."""
        found = []
        for trading_day in (day, day + dt.timedelta(days=1)):
            for w in windows_of(self._sessions, trading_day):
                if w.opens.date() == day:
                    start = w.opens.replace(tzinfo=self.zone).timestamp()
                    end = w.closes.replace(tzinfo=self.zone).timestamp()
                    found.append((int(start), int(end), trading_day, w.regular))
        return sorted(found, reverse=True)

    def open_minutes_per_day(self) -> float:
        """Trading minutes in an average trading day (one week's worth, over its days)."""
        monday = dt.date(2024, 1, 8)  # a week without a holiday
        windows = [w for d in range(7) for w in self.windows(monday + dt.timedelta(days=d))]
        days = {w[2] for w in windows}
        return sum(w[1] - w[0] for w in windows) / MINUTE / max(1, len(days))

    def locate(self, epoch: float) -> tuple[dt.date, bool]:
        """The trading day and RTH flag of a moment (its local date when the market is shut)."""
        local = dt.datetime.fromtimestamp(epoch, self.zone).date()
        for day in (local, local - dt.timedelta(days=1)):
            for start, end, trading_day, rth in self.windows(day):
                if start <= epoch < end:
                    return trading_day, rth
        return local, False


@attrs.frozen
class _Window:
    """Minutes of one trading window, newest first (starts and their local midnights)."""

    minutes: Array
    midnights: Array
    trading_day: dt.date
    rth: bool

    def part(self, start: int, stop: int | None) -> _Window:
        return _Window(self.minutes[start:stop], self.midnights[start:stop], self.trading_day,
                       self.rth)

    def since(self, oldest: float) -> _Window:
        """The minutes that start at ``oldest`` or later."""
        keep = self.minutes >= oldest
        return _Window(self.minutes[keep], self.midnights[keep], self.trading_day, self.rth)


class Past:
    """The market's minutes before the session, generated backwards and kept.

    Newest first: ``times[i]`` is a minute's start; the bid's open, high, low and close and
    the spread in ticks (``quote``); trades (``trades``: count, lots, and open/high/low/close
    in ticks). Kept as numpy columns (`columns`); the lists are made from them when asked."""

    def __init__(
        self, params: MarketParams, *, seed: str, opening: float, bid: int, ask: int
    ) -> None:
        spec = params.contract
        self.sessions = Sessions(spec)
        digest = hashlib.sha256(f"{seed}:history".encode()).digest()
        self._rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
        fair = float(params.start_mid / spec.tick_size)
        minutes = self.sessions.open_minutes_per_day()
        self._sigma = params.daily_volatility * fair / math.sqrt(minutes)
        self._spreads = [ticks for ticks, _ in params.spread_ticks]
        total = sum(weight for _, weight in params.spread_ticks)
        self._weights = [weight / total for _, weight in params.spread_ticks]
        lots = params.adv / minutes
        self._trade_rate = lots / params.mean_flow_size
        self._mean_size = params.mean_flow_size
        self._windows = self._open_windows(int(opening))
        self._pending: list[_Window] = []  # windows drawn from ``_windows``, not yet used
        self._next_close, self._spread = bid, ask - bid
        self.oldest = opening - HISTORY_DAYS * 86_400
        self.days: list[dt.date] = []  # each minute's trading day
        self._blocks: list[tuple[Array, ...]] = []  # `columns`, a block at a time
        self._columns: tuple[Array, ...] | None = None
        self._lists: dict[str, list[Any]] = {}
        self._exhausted = False  # `HISTORY_DAYS` reached

    def _open_windows(self, before: int) -> Iterator[_Window]:
        """Every trading window's minutes before ``before``, newest first: their starts, the
        midnight of each one's local date, the window's trading day and RTH flag."""
        zone = self.sessions.zone
        day = dt.datetime.fromtimestamp(before, zone).date()
        while True:
            opened = int(dt.datetime.combine(day, dt.time(0), zone).timestamp())
            following = day + dt.timedelta(days=1)
            next_midnight = int(dt.datetime.combine(following, dt.time(0), zone).timestamp())
            for start, end, trading_day, rth in self.sessions.windows(day):
                top = min(end, before - (before - start) % MINUTE if before < end else end)
                minutes = np.arange(top - MINUTE, start - 1, -MINUTE, dtype=np.int64)
                midnights = np.where(minutes >= next_midnight, next_midnight, opened)
                yield _Window(minutes, midnights.astype(np.int64), trading_day, rth)
            day -= dt.timedelta(days=1)

    def _next_minutes(self) -> list[_Window]:
        """The next `_BLOCK` minutes of the sequence, as parts of windows."""
        taken: list[_Window] = []
        count = 0
        while count < _BLOCK:
            window = self._pending.pop() if self._pending else next(self._windows)
            room = _BLOCK - count
            if len(window.minutes) > room:
                self._pending.append(window.part(room, None))
                window = window.part(0, room)
            taken.append(window)
            count += len(window.minutes)
        return taken

    def reach(self, since: float) -> None:
        """Generate minutes back to ``since`` (no further than `HISTORY_DAYS`), a block of
        `_BLOCK` minutes at a time, so the sequence is the same however far is asked."""
        while not self.reach_some(since):
            pass

    def reach_some(self, since: float) -> bool:
        """Generate one more block toward ``since`` if it is needed; True when none is (the
        past reaches ``since``, or as far as it goes)."""
        since = max(since, self.oldest)
        if (self._blocks and self._blocks[-1][0][-1] <= since) or self._exhausted:
            return True
        windows = [w.since(self.oldest) for w in self._next_minutes()]
        windows = [w for w in windows if len(w.minutes)]
        if not windows:
            self._exhausted = True
            return True
        self._generate(windows)
        return False

    def _generate(self, windows: list[_Window]) -> None:
        """One block of minutes, newest first, drawn at once: the bid walks back from the
        newer minute's open (a minute's close is the open of the one after it), the spread
        is drawn for each minute from ``spread_ticks``, trades arrive as a Poisson count."""
        times = np.concatenate([w.minutes for w in windows])
        midnights = np.concatenate([w.midnights for w in windows])
        rth = np.concatenate([np.full(len(w.minutes), int(w.rth), np.int64) for w in windows])
        rng, count, sigma = self._rng, len(times), self._sigma
        steps = np.rint(rng.normal(0.0, sigma, count)).astype(np.int64) if sigma else 0
        opens = np.maximum(1, self._next_close - np.cumsum(np.broadcast_to(steps, count)))
        closes = np.concatenate(([self._next_close], opens[:-1]))
        swings = np.abs(rng.normal(0.0, sigma / 2, count)).astype(np.int64) if sigma else 0
        highs = np.maximum(opens, closes) + swings
        lows = np.maximum(1, np.minimum(opens, closes) - swings)
        drawn = rng.choice(self._spreads, size=count, p=self._weights)
        spreads = np.concatenate(([self._spread], drawn[:-1]))
        self._next_close, self._spread = int(opens[-1]), int(drawn[-1])
        trades = self._trades(opens, highs, lows, closes, spreads)
        for w in windows:
            self.days.extend([w.trading_day] * len(w.minutes))
        self._blocks.append((times, midnights, rth, *trades, opens.astype(np.int64),
                             highs.astype(np.int64), lows.astype(np.int64),
                             closes.astype(np.int64), spreads.astype(np.int64)))  # fmt: skip
        self._columns = None
        self._lists.clear()

    def columns(self) -> tuple[Array, ...]:
        """The minutes generated so far as arrays, newest first: start, midnight of its local
        date, RTH (1 or 0), the trades' count, lots, open, high, low and close, then the bid's
        open, high, low and close and the spread."""
        if self._columns is None:
            if not self._blocks:
                return tuple(np.zeros(0, np.int64) for _ in range(14))
            self._columns = tuple(np.concatenate(c) for c in zip(*self._blocks, strict=True))
        return self._columns

    def _list(self, name: str, make: Callable[[tuple[Array, ...]], list[Any]]) -> list[Any]:
        found = self._lists.get(name)
        if found is None:
            found = self._lists[name] = make(self.columns())
        return found

    @property
    def times(self) -> list[int]:
        return self._list("times", lambda c: c[0].tolist())

    @property
    def midnights(self) -> list[int]:
        """The midnight of each minute's local date."""
        return self._list("midnights", lambda c: c[1].tolist())

    @property
    def rth(self) -> list[bool]:
        return self._list("rth", lambda c: [bool(x) for x in c[2].tolist()])

    @property
    def trades(self) -> list[tuple[int, int, int, int, int, int]]:
        """Count, lots, open, high, low, close (ticks) of each minute's trades."""
        return self._list("trades", lambda c: list(zip(*(x.tolist() for x in c[3:9]),
                                                       strict=True)))  # fmt: skip

    @property
    def quote(self) -> list[tuple[int, int, int, int, int]]:
        """Bid open, high, low, close and the spread (ticks) of each minute."""
        return self._list("quote", lambda c: list(zip(*(x.tolist() for x in c[9:14]),
                                                      strict=True)))  # fmt: skip

    def _trades(
        self, opens: Array, highs: Array, lows: Array, closes: Array, spreads: Array
    ) -> tuple[Array, ...]:
        """Each minute's trades: count, lots, and open, high, low, close in ticks (at the bid
        or the ask at random; three trades or more reach the minute's high and low)."""
        rng, count = self._rng, len(opens)
        n = rng.poisson(self._trade_rate, count) if self._trade_rate > 0 else np.zeros(count, int)
        t_open = opens + spreads * (rng.random(count) < 0.5)
        t_close = closes + spreads * (rng.random(count) < 0.5)
        busy = n > 2
        t_high = np.where(busy, np.maximum(np.maximum(t_open, t_close), highs + spreads),
                          np.maximum(t_open, t_close))  # fmt: skip
        t_low = np.where(busy, np.minimum(np.minimum(t_open, t_close), lows),
                         np.minimum(t_open, t_close))  # fmt: skip
        lots = np.maximum(n, np.rint(n * self._mean_size).astype(np.int64))
        traded = (n > 0).astype(np.int64)
        return (n.astype(np.int64), lots * traded, t_open * traded, t_high * traded,
                t_low * traded, t_close * traded)  # fmt: skip

    @property
    def head(self) -> int:
        """The first minute of the past: the first trading minute `HISTORY_DAYS` back."""
        day = dt.datetime.fromtimestamp(self.oldest, self.sessions.zone).date()
        while True:
            starts = [start for start, _, _, _ in self.sessions.windows(day)]
            later = [start for start in starts if start >= self.oldest]
            if later:
                return min(later)
            day += dt.timedelta(days=1)


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
        # newest first: the minutes from ``start`` up to (not including) ``end``
        first = _index_before(times, self.end)
        for i in range(len(times) - 1, first - 1, -1):
            minute = times[i]
            if minute < self.start or (self.use_rth and not rth[i]):
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
