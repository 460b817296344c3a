"""CME Group's full-day closures, from the holiday rules."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydra._holidays import (
    EARLY_CLOSE,
    early_close,
    early_closes,
    easter,
    holidays,
    is_exchange_holiday,
    overnight_shut,
)


def test_the_closures_of_2026() -> None:
    """2026: Independence Day falls on a Saturday and is kept on Friday July 3."""
    assert sorted(holidays(2026)) == [
        dt.date(2026, 1, 1), dt.date(2026, 1, 19), dt.date(2026, 2, 16), dt.date(2026, 4, 3),
        dt.date(2026, 5, 25), dt.date(2026, 6, 19), dt.date(2026, 7, 3), dt.date(2026, 9, 7),
        dt.date(2026, 11, 26), dt.date(2026, 12, 25),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("day", "shut"),
    [
        (dt.date(2027, 12, 24), True),  # Christmas on a Saturday: the Friday before
        (dt.date(2027, 12, 31), False),  # New Year's Day 2028 on a Saturday closes nothing
        (dt.date(2028, 1, 1), False),
        (dt.date(2023, 1, 2), True),  # New Year's Day on a Sunday: the Monday after
        (dt.date(2021, 6, 18), False),  # Juneteenth closes the exchange from 2022
        (dt.date(2022, 6, 20), True),
        (dt.date(2025, 11, 28), False),  # the Friday after Thanksgiving trades (early close)
    ],
)
def test_observed_days(day: dt.date, shut: bool) -> None:
    """A holiday on a weekend is kept on the nearest weekday, as the exchange keeps it."""
    assert is_exchange_holiday(day) is shut


@pytest.mark.parametrize(
    "sunday", [dt.date(2024, 3, 31), dt.date(2025, 4, 20), dt.date(2026, 4, 5),
               dt.date(2027, 3, 28), dt.date(2038, 4, 25), dt.date(2285, 3, 22)],
)  # fmt: skip
def test_easter(sunday: dt.date) -> None:
    """Easter Sunday, known dates (2285: the earliest possible, March 22)."""
    assert easter(sunday.year) == sunday


@given(st.integers(min_value=1900, max_value=2200))
def test_every_holiday_is_a_weekday_and_easter_a_spring_sunday(year: int) -> None:
    """Closures fall on weekdays (nine or ten a year); Easter is a Sunday, March 22 to April 25."""
    assert all(day.weekday() < 5 for day in holidays(year))
    assert len(holidays(year)) in (8, 9, 10)
    sunday = easter(year)
    assert sunday.weekday() == 6 and dt.date(year, 3, 22) <= sunday <= dt.date(year, 4, 25)


@pytest.mark.parametrize(
    ("day", "closes"),
    [
        (dt.date(2026, 11, 27), EARLY_CLOSE),  # the Friday after Thanksgiving
        (dt.date(2026, 12, 24), EARLY_CLOSE),  # Christmas Eve on a Thursday
        (dt.date(2024, 12, 24), EARLY_CLOSE),  # on a Tuesday
        (dt.date(2027, 12, 24), None),  # on a Friday: the observed Christmas, shut all day
        (dt.date(2028, 12, 24), None),  # on a Sunday: nothing closes early
        (dt.date(2026, 12, 31), None),  # New Year's Eve trades full hours
        (dt.date(2026, 7, 2), None),  # so does the eve of Independence Day
        (dt.date(2026, 11, 25), None),  # and the day before Thanksgiving
    ],
)
def test_early_closes(day: dt.date, closes: dt.time | None) -> None:
    """CME's grains and livestock close at 12:05 CT on the Friday after Thanksgiving and on a
    Christmas Eve from Monday to Thursday; other days trade full hours or not at all."""
    assert early_close(day) == closes
    assert dt.time(12, 5) == EARLY_CLOSE


@given(st.integers(min_value=1990, max_value=2200))
def test_an_early_close_day_trades(year: int) -> None:
    """Each year has one or two early closes, on weekdays that are not holidays, and only the
    Friday after Thanksgiving loses its night session."""
    found = early_closes(year)
    assert len(found) in (1, 2)
    assert all(day.weekday() < 5 and not is_exchange_holiday(day) for day in found)
    assert [day for day in found if overnight_shut(day)] == [
        day for day in found if day.month == 11 and day.weekday() == 4
    ]
