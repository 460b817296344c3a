import datetime as dt

import pytest

from hydra._errors import InvalidValueError
from hydra._rehearsal_plan import (
    BASELINE,
    BREAKER_DAY,
    COSTLY,
    KILL_DAY,
    RECONNECT_DAY,
    REGIME_DAY,
    plan_rehearsal,
)
from hydra.sim import Disconnect


def test_four_weeks_are_20_sessions_from_a_monday_to_the_monday_28_days_on() -> None:
    """The session calendar's days: weekdays but Martin Luther King Day (an exchange holiday),
    the first and last sessions 28 days apart (the gate's four weeks); each day's week is its
    calendar week."""
    days = plan_rehearsal(4)
    assert len(days) == 20
    assert (days[0].date, days[-1].date) == (dt.date(2026, 1, 5), dt.date(2026, 2, 2))
    assert all(day.date.weekday() < 5 for day in days)
    assert dt.date(2026, 1, 19) not in [day.date for day in days]
    assert [day.week for day in days] == [1] * 5 + [2] * 5 + [3] * 4 + [4] * 5 + [5]
    assert [day.date for day in days if day.number in (10, 11)] == [
        dt.date(2026, 1, 16), dt.date(2026, 1, 20)]


def test_three_weeks_over_christmas_skip_both_holidays_and_keep_every_drill() -> None:
    """From 2026-12-21, Christmas and New Year's Day have no session: 14 sessions, and the
    breaker drill's resume (session 13) falls on 2027-01-08."""
    days = plan_rehearsal(3, first=dt.date(2026, 12, 21))
    dates = [day.date for day in days]
    assert len(days) == 14 and dt.date(2026, 12, 25) not in dates
    assert dt.date(2027, 1, 1) not in dates
    assert dates[BREAKER_DAY] == dt.date(2027, 1, 8) and days[BREAKER_DAY].resume_at == 60.0


def test_the_session_is_the_grain_day_session_in_chicago() -> None:
    """08:30-13:20 Chicago (after the break), from the session calendar: 14:30-19:20 UTC in
    January."""
    opens, closes = plan_rehearsal(4)[0].session_hours()
    assert (opens.astimezone(dt.UTC), closes.astimezone(dt.UTC)) == (
        dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 5, 19, 20, tzinfo=dt.UTC))


def test_each_drill_falls_on_its_day() -> None:
    """The drop on day 3, costs changing from day 6 (week 2), the kill and its resume on day
    9, the breakers on day 12 and their resume at the next open."""
    days = {day.number: day for day in plan_rehearsal(4)}
    assert [n for n, d in days.items() if d.drop is not None] == [RECONNECT_DAY]
    assert days[RECONNECT_DAY].drop == Disconnect(at=3600.0, duration=20.0)
    assert [n for n, d in days.items() if d.costly] == list(range(REGIME_DAY, 21))
    assert (days[REGIME_DAY - 1].market, days[REGIME_DAY].market) == (BASELINE, COSTLY)
    assert days[REGIME_DAY].week == 2
    assert [(n, d.kill_at) for n, d in days.items() if d.kill_at] == [(KILL_DAY, 7200.0)]
    assert [(n, d.resume_at) for n, d in days.items() if d.resume_at] == [
        (KILL_DAY, 10800.0), (BREAKER_DAY + 1, 60.0)]
    assert [n for n, d in days.items() if d.breakers_low] == [BREAKER_DAY]
    assert days[KILL_DAY].drills() == ["kill switch from the inbox", "explicit resume"]


@pytest.mark.parametrize("weeks", [0, 2, True, 3.5])
def test_fewer_than_three_weeks_are_refused(weeks: object) -> None:
    """The drills need three weeks; anything else is refused naming ``weeks``."""
    with pytest.raises(InvalidValueError) as refused:
        plan_rehearsal(weeks)  # type: ignore[arg-type]
    assert refused.value.field == "weeks"


def test_a_calendar_starts_on_a_monday() -> None:
    """Another first day is refused naming it."""
    with pytest.raises(InvalidValueError, match="first: must be a Monday, got '2026-01-06'"):
        plan_rehearsal(4, first=dt.date(2026, 1, 6))
