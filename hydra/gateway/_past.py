"""The market's past before the session, for historical data: its minutes generated from the
simulator's own model of the market. Pure.

The model is sampled once a minute, in the contract's trading hours only (`Sessions`, from
`_hours.windows_of`: holidays and early closes shut): the bid walks back from the opening quote
with the market's ``daily_volatility`` spread over the minutes a day trades, the spread is
drawn from ``spread_ticks``, and trades arrive at the market's ADV spread over the same
minutes. A seed gives the same past every time, whatever is asked first: minutes are generated
in one sequence, backwards from the opening, `_BLOCK` at a time, and kept (as numpy columns).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import numpy.typing as npt

from .._contracts import ContractSpec, TradingSession
from ..sim import MarketParams
from ._hours import windows_of

MINUTE = 60
_BLOCK = 4096
"""Minutes of the past drawn at once (numpy, several times faster than one at a time)."""
Array = npt.NDArray[np.int64]
HISTORY_DAYS = 400
"""How far back the past reaches (a little over a year, IB's usual for a futures month)."""


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
