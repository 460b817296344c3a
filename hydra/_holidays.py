"""The days CME Group's futures (CBOT grains, CME livestock) do not trade. Pure.

Source: CME Group's holiday calendar, which closes its agricultural futures on the US federal
and exchange holidays: New Year's Day, Martin Luther King Jr. Day, Presidents' Day, Good
Friday, Memorial Day, Juneteenth (since 2022), Independence Day, Labor Day, Thanksgiving and
Christmas. They are computed from those rules, not read from a downloaded calendar: a holiday
on a Saturday is kept the Friday before, one on a Sunday the Monday after, except New Year's
Day on a Saturday, which closes nothing (as at CME and NYSE). Early closes (the Friday after
Thanksgiving, Christmas Eve) and one-off closures (a national day of mourning) are not
modelled: those days trade full hours here.
"""

from __future__ import annotations

import datetime as dt
import functools


def is_exchange_holiday(day: dt.date) -> bool:
    """Whether CME Group's agricultural futures are shut all of ``day``."""
    return day in holidays(day.year)


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
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving: fourth Thursday of November
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
