"""IB's bar sizes, durations and end times as text (``"5 mins"``, ``"2 D"``,
``"20250303 14:30:00 US/Central"``), read into seconds and moments. Pure."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_UNIT_SECONDS = {
    "sec": 1, "secs": 1, "min": 60, "mins": 60, "hour": 3600, "hours": 3600,
}  # fmt: skip
_CALENDAR = {"day": "day", "days": "day", "week": "week", "weeks": "week", "month": "month"}
BAR_SIZES = (
    "1 secs", "5 secs", "10 secs", "15 secs", "30 secs",
    "1 min", "2 mins", "3 mins", "5 mins", "10 mins", "15 mins", "20 mins", "30 mins",
    "1 hour", "2 hours", "3 hours", "4 hours", "8 hours", "1 day", "1 week", "1 month",
)  # fmt: skip
"""The bar sizes IB takes."""
_DURATION_SECONDS = {"S": 1, "D": 86_400, "W": 7 * 86_400, "M": 31 * 86_400, "Y": 366 * 86_400}


MAX_BARS = 600_000
"""The most bars one request may span, its duration over its bar size: a year of 1-minute
bars (527,040 calendar minutes) is within it, a year of 30-second ones is not. IB refuses
requests far past its own table of durations for a bar size; here the limit keeps one
client from making the gateway build millions of bars (a year of 1-second bars is 31.6
million) while every other client waits."""


class PeriodError(ValueError):
    """A bar size, duration or end time IB would not take; the text says which."""


def check_span(size: int | str, seconds: int) -> None:
    """A `PeriodError` when ``seconds`` of bars of ``size`` are more than `MAX_BARS` (in IB's
    words for a duration too long for its bar size)."""
    if isinstance(size, int) and seconds // size > MAX_BARS:
        raise PeriodError(f"Time length exceed max. ({seconds // size:,} bars of {size} s; "
                          f"at most {MAX_BARS:,})")


def bar_size(text: str) -> int | str:
    """Seconds of an intraday bar, or ``"day"``, ``"week"``, ``"month"``."""
    if " ".join(text.split()) not in BAR_SIZES and text.strip() != "1 sec":
        raise PeriodError(f"Invalid bar size {text!r}")
    count, unit = text.split()
    if unit in _CALENDAR:
        return _CALENDAR[unit]
    return int(count) * _UNIT_SECONDS[unit]


def duration(text: str) -> int:
    """Seconds a duration like ``"3600 S"``, ``"2 D"`` or ``"1 Y"`` covers (a month is 31
    days, a year 366, so that they reach the same day a calendar month or year back)."""
    parts = text.split()
    if len(parts) != 2 or not parts[0].isdigit() or parts[1] not in _DURATION_SECONDS:
        raise PeriodError(f"Invalid duration {text!r}: an integer and S, D, W, M or Y")
    return int(parts[0]) * _DURATION_SECONDS[parts[1]]


def end_time(text: str, *, now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The end of a request: now when empty; ``yyyymmdd hh:mm:ss [zone]`` (the exchange's
    zone when none), ``yyyymmdd-hh:mm:ss`` (UTC), or a date (its end)."""
    text = text.strip()
    if not text:
        return now
    try:
        if len(text) == 8:
            day = dt.datetime.strptime(text, "%Y%m%d").replace(tzinfo=zone)
            return day + dt.timedelta(days=1)
        if "-" in text[:9]:
            return dt.datetime.strptime(text, "%Y%m%d-%H:%M:%S").replace(tzinfo=dt.UTC)
        date, clock, *named = text.split()
        when = dt.datetime.strptime(f"{date} {clock}", "%Y%m%d %H:%M:%S")
        return when.replace(tzinfo=ZoneInfo(named[0]) if named else zone)
    except (ValueError, ZoneInfoNotFoundError):
        raise PeriodError(f"Invalid end date/time {text!r}") from None
