"""A daily schedule in the exchange's time zone: "08:35 on Mon-Fri, America/Chicago"."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

import attrs

from ._errors import InvalidValueError

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_time(field: str, text: Any) -> dt.time:
    """"HH:MM" (24-hour) as a time; anything else names ``field``."""
    match = _TIME.match(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidValueError(field, text, "must be a time of day as HH:MM (24-hour)")
    return dt.time(int(match[1]), int(match[2]))


def parse_days(field: str, text: Any) -> frozenset[int]:
    """"Mon-Fri", "Mon,Wed,Fri" or "Sun-Thu" as weekday numbers (Monday is 0)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidValueError(field, text, "must name days like Mon-Fri or Mon,Wed,Fri")
    days: set[int] = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        try:
            start = DAY_NAMES.index(first)
            end = DAY_NAMES.index(last) if last else start
        except ValueError:
            raise InvalidValueError(field, text, f"days are {', '.join(DAY_NAMES)}") from None
        days.update((start + step) % 7 for step in range((end - start) % 7 + 1))
    return frozenset(days)


def parse_zone(field: str, name: Any) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidValueError(field, name, "is not a known time zone") from None


@attrs.frozen(kw_only=True)
class DailySchedule:
    """A time of day on some weekdays, in one time zone."""

    at: dt.time
    days: frozenset[int]
    zone: zoneinfo.ZoneInfo

    def next_after(self, now: dt.datetime) -> dt.datetime:
        """The first scheduled moment strictly after ``now`` (an aware datetime)."""
        local = now.astimezone(self.zone)
        for offset in range(8):
            day = local.date() + dt.timedelta(days=offset)
            moment = dt.datetime.combine(day, self.at, tzinfo=self.zone)
            if day.weekday() in self.days and moment > local:
                return moment
        raise InvalidValueError("days", sorted(self.days), "must name at least one weekday")


EXCHANGE_ZONE = "America/Chicago"
TRADING_DAY_ROLLS_AT = dt.time(17, 0)
"""CME's trading day for grains and livestock starts in the evening: from 17:00 Chicago time a
moment belongs to the next day's session."""


def trading_day(moment: dt.datetime) -> dt.date:
    """The exchange's trading day (America/Chicago) that the aware ``moment`` belongs to."""
    local = moment.astimezone(zoneinfo.ZoneInfo(EXCHANGE_ZONE))
    roll = local.time() >= TRADING_DAY_ROLLS_AT
    return local.date() + dt.timedelta(days=1) if roll else local.date()


def trading_day_start(moment: dt.datetime) -> dt.datetime:
    """When the exchange's trading day that ``moment`` belongs to began (17:00 Chicago the
    evening before)."""
    day = trading_day(moment) - dt.timedelta(days=1)
    return dt.datetime.combine(day, TRADING_DAY_ROLLS_AT, tzinfo=zoneinfo.ZoneInfo(EXCHANGE_ZONE))
