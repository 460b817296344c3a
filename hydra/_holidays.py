"""The days CME Group's futures (CBOT grains, CME livestock) do not trade. Pure.

Source: CME Group's holiday calendar, which closes its agricultural futures on the US federal
and exchange holidays: New Year's Day, Martin Luther King Jr. Day, Presidents' Day, Good
Friday, Memorial Day, Juneteenth (since 2022), Independence Day, Labor Day, Thanksgiving and
Christmas. They are computed from those rules, not read from a downloaded calendar: a holiday
on a Saturday is kept the Friday before, one on a Sunday the Monday after, except New Year's
Day on a Saturday, which closes nothing (as at CME and NYSE). One-off closures (a national day
of mourning) are not modelled.

Early closes (`early_close`), from CME Group's holiday schedules for its grains and livestock
since 2020 (the years whose published calendars these rules were read from; before 2020 the
early close was at 12:15 or 12:00 CT, not modelled): on the Friday after Thanksgiving and on
Christmas Eve when it falls on Monday to Thursday (on a Friday it is the observed Christmas
holiday, on a weekend nothing closes early), the day session closes at 12:05 CT. The Friday
after Thanksgiving has no overnight session either: the grains stay shut from Wednesday's
close until Friday 08:30 CT (`overnight_shut`). New Year's Eve and the eve of Independence
Day trade full hours at CME's agricultural futures in those calendars.
"""

from __future__ import annotations

import datetime as dt
import functools

EARLY_CLOSE = dt.time(12, 5)
"""When the day session of an early-close day ends, Chicago time (CME's holiday schedules,
grains and livestock alike, since 2020)."""


def is_exchange_holiday(day: dt.date) -> bool:
    """Whether CME Group's agricultural futures are shut all of ``day``."""
    return day in holidays(day.year)


def early_close(day: dt.date) -> dt.time | None:
    """When the day session of ``day`` closes early (Chicago time), or None: a full day."""
    if day == _thanksgiving(day.year) + dt.timedelta(days=1):
        return EARLY_CLOSE
    if day.month == 12 and day.day == 24 and day.weekday() < 4:
        return EARLY_CLOSE
    return None


def early_closes(year: int) -> dict[dt.date, dt.time]:
    """The early-close days of ``year`` and when each closes."""
    days = (dt.date(year, 11, 1) + dt.timedelta(days=d) for d in range(61))  # November, December
    return {day: closes for day in days if (closes := early_close(day)) is not None}


def overnight_shut(day: dt.date) -> bool:
    """Whether the overnight session of trading day ``day`` (opening the evening before) does
    not open although ``day`` trades: the Friday after Thanksgiving."""
    return day == _thanksgiving(day.year) + dt.timedelta(days=1)


@functools.cache
def holidays(year: int) -> frozenset[dt.date]:
    """The full-day closures of ``year``."""
    found = {
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day: third Monday of January
        _nth_weekday(year, 2, 0, 3),  # Presidents' Day: third Monday of February
        easter(year) - dt.timedelta(days=2),  # Good Friday
        _last_weekday(year, 5, 0),  # Memorial Day: last Monday of May
        _observed(dt.date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day: first Monday of September
        _thanksgiving(year),
        _observed(dt.date(year, 12, 25)),
    }
    if year >= 2022:
        found.add(_observed(dt.date(year, 6, 19)))
    new_year = dt.date(year, 1, 1)
    if new_year.weekday() != 5:  # on a Saturday, not moved to the Friday before
        found.add(_observed(new_year))
    return frozenset(found)


def easter(year: int) -> dt.date:
    """Easter Sunday of the Gregorian calendar (Meeus's computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday) // 451
    month, day = divmod(h + weekday - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _thanksgiving(year: int) -> dt.date:
    return _nth_weekday(year, 11, 3, 4)  # the fourth Thursday of November


def _observed(day: dt.date) -> dt.date:
    if day.weekday() == 5:
        return day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    after = dt.date(year + month // 12, month % 12 + 1, 1)
    last = after - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)
