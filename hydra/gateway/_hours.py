"""When a contract trades: its windows of each trading day, exchange holidays shut, and IB's
``tradingHours`` / ``liquidHours`` text made from them. Pure.

A window belongs to the trading day on which it closes: oats' Sunday-evening window
(19:00–07:45 CT) is Monday's, and a holiday shuts every window of its trading day (the
evening before included), as `_holidays` says which days those are. On an early-close day
(`_holidays.early_close`: the Friday after Thanksgiving, Christmas Eve) every window ends by
12:05 CT, and after Thanksgiving the overnight window does not open. IB's text lists each
trading day from today for a week, in order, in the exchange's time zone (the contract
details' ``timeZoneId``): its windows as ``open-close`` with the date of each end, or
``day:CLOSED`` when it has none::

    20261201:1900-20261202:0745;20261202:0830-20261202:1320;…;20261205:CLOSED
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from .._contracts import TradingSession
from .._core._sessions import liquid_windows, opens_on
from .._holidays import early_close, is_exchange_holiday, overnight_shut

HOURS_DAYS = 7
"""The trading days IB's hours text covers, from today."""


@attrs.frozen(kw_only=True)
class Window:
    """One stretch of trading, in the exchange's local time (naive); ``regular`` for a day
    session (IB's liquid hours), not an overnight one."""

    opens: dt.datetime
    closes: dt.datetime
    regular: bool


def windows_of(sessions: Iterable[TradingSession], trading_day: dt.date) -> list[Window]:
    """The windows of ``trading_day``, in order; none on a weekend or an exchange holiday, cut
    at the early close on an early-close day."""
    if is_exchange_holiday(trading_day):
        return []
    early = early_close(trading_day)
    found = []
    for s in sessions:
        overnight = s.close <= s.open
        open_day = trading_day - dt.timedelta(days=1) if overnight else trading_day
        if not opens_on(s, open_day.weekday()) or (overnight and overnight_shut(trading_day)):
            continue
        opens = dt.datetime.combine(open_day, s.open)
        closes = dt.datetime.combine(trading_day, s.close if early is None else min(s.close, early))
        if closes > opens:
            found.append(Window(opens=opens, closes=closes, regular=not overnight))
    return sorted(found, key=lambda w: w.opens)


def ib_hours(sessions: Iterable[TradingSession], today: dt.date, *, liquid: bool = False) -> str:
    """IB's hours text for `HOURS_DAYS` trading days from ``today``; ``liquid``: the regular
    (day) sessions only, IB's ``liquidHours`` (all of them when there are only overnight
    ones)."""
    sessions = liquid_windows(sessions) if liquid else tuple(sessions)
    parts: list[str] = []
    for offset in range(HOURS_DAYS):
        day = today + dt.timedelta(days=offset)
        windows = windows_of(sessions, day)
        parts.extend(f"{w.opens:%Y%m%d:%H%M}-{w.closes:%Y%m%d:%H%M}" for w in windows)
        if not windows:
            parts.append(f"{day:%Y%m%d}:CLOSED")
    return ";".join(parts)
