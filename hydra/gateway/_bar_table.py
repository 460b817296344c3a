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
from collections.abc import Sequence
from decimal import Decimal

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
        first, then = _concat(_cut(first, stop=-1), last), _cut(then, start=1)
    return _concat(first, then)


def _cut(t: BarTable, *, start: int = 0, stop: int | None = None) -> BarTable:
    at = slice(start, stop)
    return BarTable(t.start[at], t.open[at], t.high[at], t.low[at], t.close[at], t.volume[at],
                    t.trades[at], t.value[at], days=None if t.days is None else list(t.days)[at])


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
    distinct, where = np.unique(prices, return_inverse=True)
    texts = np.array([decimal_text(int(p) * half) for p in distinct.tolist()], dtype=object)
    o, h, lo, c = np.split(texts[where.reshape(-1)], 4)
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
    wholes, at_whole = np.unique(whole, return_inverse=True)
    fractions, at_fraction = np.unique(fraction, return_inverse=True)
    whole_texts = np.array([str(w) for w in wholes.tolist()], dtype=object)
    fraction_texts = np.array([f".{f:04d}".rstrip("0").rstrip(".") for f in fractions.tolist()],
                              dtype=object)  # fmt: skip
    texts = whole_texts[at_whole.reshape(-1)] + fraction_texts[at_fraction.reshape(-1)]
    return list(texts.tolist())


def _dates(table: BarTable, format_date: int, zone: dt.tzinfo) -> list[str]:
    """Each bar's date field: epoch seconds (format 2) or local time and zone; a daily bar's
    its trading day."""
    if table.days is not None and all(d is not None for d in table.days):
        return [f"{d:%Y%m%d}" for d in table.days]
    if format_date == 2:
        return list(map(str, table.start.tolist()))
    starts = table.start
    hours, where = np.unique(starts // 3600, return_inverse=True)
    offsets = np.array([_offset(int(hour) * 3600, zone) for hour in hours.tolist()], np.int64)
    local = starts + offsets[where.reshape(-1)]
    days, day_at = np.unique(local // 86_400, return_inverse=True)
    day_texts = np.array([f"{dt.date(1970, 1, 1) + dt.timedelta(days=int(d)):%Y%m%d}"
                          for d in days.tolist()], dtype=object)  # fmt: skip
    seconds, second_at = np.unique(local % 86_400, return_inverse=True)
    time_texts = np.array([f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d} {zone}"
                           for s in seconds.tolist()], dtype=object)  # fmt: skip
    d_texts = day_texts[day_at.reshape(-1)].tolist()
    t_texts = time_texts[second_at.reshape(-1)].tolist()
    return [f"{d} {t}" for d, t in zip(d_texts, t_texts, strict=True)]


def _offset(epoch: int, zone: dt.tzinfo) -> int:
    """The zone's offset from UTC in seconds during the hour starting at ``epoch`` (a change
    of daylight saving time falls on a whole hour)."""
    offset = dt.datetime.fromtimestamp(epoch, zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds())
