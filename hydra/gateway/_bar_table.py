"""Bars as columns of numpy arrays, and their ``historicalData`` wire text made at once. Pure.

A year of one-minute bars is 100,000 bars or more, each eight fields of text: built and
formatted one bar at a time in Python that is most of a second of the gateway's loop, during
which it serves no other client. Here the commonest request (``TRADES`` bars of a minute or
longer from the generated past) is aggregated with numpy, grouping the minutes by the bar they
fall in, and every request's rows become one text of NUL-separated fields, each distinct price,
time of day and date formatted once.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from ._wire import decimal_text

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@attrs.frozen(eq=False)
class BarTable:
    """Bars oldest first: ``start`` in epoch seconds, prices in half ticks, ``value`` the
    half ticks × lots their WAP divides by the volume, ``days`` each bar's trading day (daily
    and longer bars) or None."""

    start: Ints
    open: Ints
    high: Ints
    low: Ints
    close: Ints
    volume: Ints
    trades: Ints
    value: Floats
    days: Sequence[dt.date | None] | None = None

    def __len__(self) -> int:
        return len(self.start)

    def part(self, start: int = 0, stop: int | None = None) -> BarTable:
        """The bars from index ``start`` to ``stop`` (as a slice takes them)."""
        at = slice(start, stop)
        return BarTable(self.start[at], self.open[at], self.high[at], self.low[at],
                        self.close[at], self.volume[at], self.trades[at], self.value[at],
                        days=None if self.days is None else list(self.days)[at])


def empty_table() -> BarTable:
    ints = np.zeros(0, np.int64)
    return BarTable(ints, ints, ints, ints, ints, ints, ints, np.zeros(0))


def trade_minutes_table(
    minutes: Ints, midnights: Ints, trades: Sequence[Ints], *, size: int,
) -> BarTable:  # fmt: skip
    """``TRADES`` bars of ``size`` seconds (a minute or more) from past minutes oldest first
    (their starts, the midnight of each one's local date, and the trade columns count, lots,
    open, high, low, close in ticks), minutes without trades already left out: each bar
    starts at its midnight plus a whole number of ``size``, as IB's bars do."""
    n, lots, t_open, t_high, t_low, t_close = trades
    if not len(minutes):
        return empty_table()
    starts = midnights + (minutes - midnights) // size * size
    firsts = np.flatnonzero(np.concatenate(([True], starts[1:] != starts[:-1])))
    lasts = np.concatenate((firsts[1:] - 1, [len(starts) - 1]))
    value = (lots * (t_high + t_low + t_close)).astype(np.float64) * 2 / 3
    return BarTable(
        start=starts[firsts], open=2 * t_open[firsts], high=2 * np.maximum.reduceat(t_high, firsts),
        low=2 * np.minimum.reduceat(t_low, firsts), close=2 * t_close[lasts],
        volume=np.add.reduceat(lots, firsts), trades=np.add.reduceat(n, firsts),
        value=np.add.reduceat(value, firsts),
    )  # fmt: skip


def joined(first: BarTable, then: BarTable) -> BarTable:
    """``first``'s bars, then ``then``'s, all later but maybe its first: a bar both hold (the
    one the session opened in) is merged (first open, highest high, lowest low, last close)."""
    if not len(first) or not len(then):
        return then if not len(first) else first
    if first.start[-1] == then.start[0]:
        last = BarTable(
            first.start[-1:], first.open[-1:], np.maximum(first.high[-1:], then.high[:1]),
            np.minimum(first.low[-1:], then.low[:1]), then.close[:1],
            first.volume[-1:] + then.volume[:1], first.trades[-1:] + then.trades[:1],
            first.value[-1:] + then.value[:1],
            days=None if first.days is None else list(first.days)[-1:],
        )  # fmt: skip
        first, then = _concat(first.part(0, -1), last), then.part(1)
    return _concat(first, then)


def _concat(a: BarTable, b: BarTable) -> BarTable:
    c = np.concatenate
    days = None if a.days is None or b.days is None else [*a.days, *b.days]
    return BarTable(c((a.start, b.start)), c((a.open, b.open)), c((a.high, b.high)),
                    c((a.low, b.low)), c((a.close, b.close)), c((a.volume, b.volume)),
                    c((a.trades, b.trades)), c((a.value, b.value)), days=days)


def wire_rows(table: BarTable, tick: Decimal, *, format_date: int, zone: dt.tzinfo) -> str:
    """The bars as ``historicalData`` rows, fields joined by NULs (no NUL at either end): date
    (per ``format_date``, or the trading day of a daily bar), open, high, low, close, volume,
    WAP and trade count, each text as IB's wire writes it."""
    if not len(table):
        return ""
    half = tick / 2
    prices = np.concatenate((table.open, table.high, table.low, table.close))
    o, h, lo, c = np.split(texts_of(prices, lambda p: decimal_text(p * half)), 4)
    columns = (_dates(table, format_date, zone), o.tolist(), h.tolist(), lo.tolist(),
               c.tolist(), list(map(str, table.volume.tolist())), waps(table, float(half)),
               list(map(str, table.trades.tolist())))  # fmt: skip
    return "\0".join(itertools.chain.from_iterable(zip(*columns, strict=True)))


def waps(table: BarTable, half: float) -> list[str]:
    """Each bar's volume-weighted price (`wap_texts`; ``half``: the price of half a tick); a
    bar without volume (a quote bar) its typical price."""
    volume = table.volume.astype(np.float64)
    typical = (table.high + table.low + table.close) / 3
    return wap_texts(np.where(volume > 0, table.value / np.where(volume > 0, volume, 1),
                              typical) * half)  # fmt: skip


def wap_texts(prices: Floats) -> list[str]:
    """Prices (not negative) rounded to 4 decimals (half to even) as plain text, no trailing
    zeros: the whole part and the fraction each formatted once per distinct value."""
    units = np.rint(prices * 10_000).astype(np.int64)
    whole, fraction = np.divmod(units, 10_000)
    texts = texts_of(whole, str) + texts_of(fraction, lambda f: f".{f:04d}".rstrip("0").rstrip("."))
    return list(texts.tolist())


def texts_of(values: Ints, text: Callable[[int], str]) -> npt.NDArray[np.object_]:
    """``text`` of each value, made once per distinct value."""
    return by_value(values, text, object)


def by_value(values: Ints, make: Callable[[int], Any], dtype: Any) -> npt.NDArray[Any]:
    """``make`` of each value, called once per distinct value: through a table over the
    values' range when it is short (no sort), else over the distinct values."""
    if not len(values):
        return np.array([], dtype=dtype)
    low, high = int(values.min()), int(values.max())
    if high - low <= len(values) // 4 + 1024:
        return np.array([make(v) for v in range(low, high + 1)], dtype=dtype)[values - low]
    distinct, where = np.unique(values, return_inverse=True)
    return np.array([make(v) for v in distinct.tolist()], dtype=dtype)[where.reshape(-1)]


def _dates(table: BarTable, format_date: int, zone: dt.tzinfo) -> list[str]:
    """Each bar's date field: epoch seconds (format 2) or local time and zone; a daily bar's
    its trading day."""
    if table.days is not None and all(d is not None for d in table.days):
        return [f"{d:%Y%m%d}" for d in table.days]
    if format_date == 2:
        return list(map(str, table.start.tolist()))
    hours = table.start // 3600
    offsets = by_value(hours, lambda hour: _offset(hour * 3600, zone), np.int64)
    local = table.start + offsets
    days = texts_of(local // 86_400,
                    lambda d: f"{dt.date(1970, 1, 1) + dt.timedelta(days=d):%Y%m%d} ")
    times = texts_of(local % 86_400,
                     lambda s: f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d} {zone}")
    return list((days + times).tolist())


def _offset(epoch: int, zone: dt.tzinfo) -> int:
    """The zone's offset from UTC in seconds during the hour starting at ``epoch`` (a change
    of daylight saving time falls on a whole hour)."""
    offset = dt.datetime.fromtimestamp(epoch, zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds())
