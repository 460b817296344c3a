"""The session calendar (`hydra._core._sessions`) and the TWAP plan inside it."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydra._contracts import LEAN_HOGS, OATS
from hydra._core._sessions import SessionCalendar, held_until, parse_hours, weekly_calendar
from hydra._core._twap import plan_twap_in_sessions
from hydra._errors import InvalidValueError
from hydra._settings import ExecutionSettings
from hydra.sim._hours import CME_HOLIDAYS, sim_calendar

CT = zoneinfo.ZoneInfo("America/Chicago")
IB_OATS = "20261201:1900-20261202:0745;20261202:0830-20261202:1320;20261205:CLOSED"


def ct(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CT)


def oats_week(first: dt.date = dt.date(2026, 11, 29), days: int = 14) -> SessionCalendar:
    return weekly_calendar(OATS.trading_hours, zone="America/Chicago", first=first, days=days,
                           holidays=CME_HOLIDAYS)


# --- parsing IB's text ----------------------------------------------------------------------


def test_ibs_hours_parse_into_sessions_in_the_exchange_zone() -> None:
    """IB's overnight and day sessions are two sessions; a CLOSED day has none."""
    hours = parse_hours(IB_OATS, zone="US/Central")
    assert [(s.open, s.close) for s in hours.sessions] == [
        (ct(1, 19), ct(2, 7, 45)), (ct(2, 8, 30), ct(2, 13, 20))]
    assert hours.zone.key == "US/Central"
    assert hours.known_from == ct(1, 0) and hours.known_until == ct(6, 0)
    assert not hours.is_open(ct(5, 10))


def test_the_pre_970_format_parses_too() -> None:
    """``YYYYMMDD:HHMM-HHMM`` closes on its day, or the next when it is not after the open;
    commas separate one day's ranges."""
    hours = parse_hours("20261202:0830-1000,1030-1320;20261203:1900-0745", zone="US/Central")
    assert [(s.open, s.close) for s in hours.sessions] == [
        (ct(2, 8, 30), ct(2, 10)), (ct(2, 10, 30), ct(2, 13, 20)), (ct(3, 19), ct(4, 7, 45))]


def test_touching_sessions_are_one() -> None:
    """A session that opens as the one before closes continues it."""
    hours = parse_hours("20261202:0830-20261202:1000;20261202:1000-20261202:1320",
                        zone="America/Chicago")
    assert [(s.open, s.close) for s in hours.sessions] == [(ct(2, 8, 30), ct(2, 13, 20))]


@pytest.mark.parametrize(("text", "message"), [
    ("20261202:0830", "tradingHours: is not YYYYMMDD:HHMM-YYYYMMDD:HHMM or YYYYMMDD:CLOSED, "
                      "got '20261202:0830'"),
    ("20261302:CLOSED", "tradingHours: names a date that does not exist, got '20261302:CLOSED'"),
    ("20261202:1320-20261202:0830", "tradingHours: closes before it opens, "
                                    "got '20261202:1320-20261202:0830'"),
    ("20261202:0861-20261202:0900", "tradingHours: is not YYYYMMDD:HHMM-YYYYMMDD:HHMM or "
                                    "YYYYMMDD:CLOSED, got '20261202:0861-20261202:0900'"),
    ("", "tradingHours: must list days as YYYYMMDD:HHMM-YYYYMMDD:HHMM, got ''"),
])
def test_a_bad_day_is_one_line_naming_the_field_and_the_day(text: str, message: str) -> None:
    """Malformed hours are refused in one line that names the field and shows the day."""
    with pytest.raises(InvalidValueError) as raised:
        parse_hours(text, zone="US/Central", field="tradingHours")
    assert str(raised.value) == message


def test_an_unknown_time_zone_names_time_zone_id() -> None:
    """IB's ``timeZoneId`` is checked too."""
    with pytest.raises(InvalidValueError, match=r"^timeZoneId: is not a known time zone"):
        parse_hours(IB_OATS, zone="Mars/Olympus")


# --- asking the calendar --------------------------------------------------------------------


def test_a_close_is_exclusive_and_an_open_inclusive() -> None:
    """At 07:45 the overnight session is over; at 08:30 the day session has begun."""
    hours = parse_hours(IB_OATS, zone="US/Central")
    assert hours.is_open(ct(2, 7, 44)) and not hours.is_open(ct(2, 7, 45))
    assert hours.close_of(ct(2, 7, 44)) == ct(2, 7, 45) and hours.close_of(ct(2, 8)) is None
    assert hours.next_open(ct(2, 7, 50)) == ct(2, 8, 30)
    assert hours.next_open(ct(2, 9)) == ct(2, 9)
    assert hours.next_open(ct(2, 13, 20)) is None  # nothing later is known


def test_open_seconds_skip_the_break() -> None:
    """From 07:00 to 09:00 the market trades 45 + 30 minutes."""
    hours = parse_hours(IB_OATS, zone="US/Central")
    assert hours.open_seconds(ct(2, 7), ct(2, 9)) == 75 * 60
    assert hours.after_open_seconds(ct(2, 7), 45 * 60) == ct(2, 8, 30)
    assert hours.after_open_seconds(ct(2, 7), 50 * 60) == ct(2, 8, 35)
    assert hours.after_open_seconds(ct(2, 7), 10 * 3600) is None


def test_saturday_waits_for_sunday_evening() -> None:
    """Oats close Friday 13:20 and open again Sunday 19:00, Chicago time."""
    week = oats_week()
    assert week.close_of(ct(4, 13)) == ct(4, 13, 20)
    assert week.next_open(ct(5, 12)) == ct(6, 19)


def test_hogs_trade_the_day_session_only() -> None:
    """Lean hogs open 08:30 and close 13:05, Monday to Friday."""
    week = weekly_calendar(LEAN_HOGS.trading_hours, zone="America/Chicago",
                           first=dt.date(2026, 11, 30), days=7)
    assert week.next_open(ct(1, 14)) == ct(2, 8, 30)
    assert week.open_seconds(ct(1, 0), ct(2, 0)) == (4 * 60 + 35) * 60


def test_a_holiday_closes_its_trading_day_and_the_night_before() -> None:
    """Thanksgiving 2026 (Thursday 26 November): oats close Wednesday 13:20 and open again at
    Thursday evening's session."""
    week = oats_week(first=dt.date(2026, 11, 23), days=7)
    assert week.close_of(ct(25, 13, month=11)) == ct(25, 13, 20, month=11)
    assert week.next_open(ct(25, 20, month=11)) == ct(26, 19, month=11)


def test_the_wait_over_a_change_of_daylight_saving_time_is_exact() -> None:
    """From Friday's close to Sunday's open across the end of daylight saving time (1 November
    2026) is 53 h 40 min of wall clock, plus the hour the clocks go back."""
    week = oats_week(first=dt.date(2026, 10, 29), days=6)
    friday_close, sunday_open = ct(30, 13, 20, month=10), ct(1, 19, month=11)
    assert week.next_open(friday_close) == sunday_open
    assert (sunday_open - friday_close.astimezone(dt.UTC)) == dt.timedelta(hours=54, minutes=40)


def test_the_simulator_knows_the_hours_around_now() -> None:
    """`sim_calendar` covers the day before and two weeks after the moment asked about."""
    hours = sim_calendar(OATS, ct(2, 7, 50))
    assert hours.covers(ct(1, 12)) and hours.covers(ct(14, 12))
    assert hours.next_open(ct(2, 7, 50)) == ct(2, 8, 30)


def test_an_intent_is_held_in_a_break_and_close_to_a_close() -> None:
    """In the break it waits for 08:30; with under a minute left it waits for the next open;
    without hours for now, nothing is held."""
    hours = parse_hours(IB_OATS + ";20261202:1900-20261203:0745", zone="US/Central")
    assert held_until(hours, ct(2, 7, 50), min_left=60) == ct(2, 8, 30)
    assert held_until(hours, ct(2, 9), min_left=60) is None
    assert held_until(hours, ct(2, 13, 19, ), min_left=60) is None
    assert held_until(hours, ct(2, 13, 19, ) + dt.timedelta(seconds=1), min_left=60) == ct(2, 19)
    assert held_until(hours, ct(9, 12), min_left=60) is None  # past what IB said
    assert held_until(None, ct(5, 12), min_left=60) is None
    closed = parse_hours("20261205:CLOSED", zone="US/Central")
    assert held_until(closed, ct(5, 12), min_left=60) == ct(6, 0)  # then ask again


# --- the TWAP inside the sessions -----------------------------------------------------------


def test_a_twap_over_the_close_is_cut_at_the_close() -> None:
    """An hour's TWAP at 13:00 has its 20 minutes to the close."""
    settings = ExecutionSettings(twap_horizon=3600, twap_slices=4, twap_jitter=0.0)
    plan = plan_twap_in_sessions(8, settings=settings, rng=random.Random(1), start=ct(2, 13),
                                 calendar=oats_week())
    assert plan.starts == (0.0, 300.0, 600.0, 900.0) and plan.durations == (300.0,) * 4


def test_a_carried_twap_resumes_at_the_next_open() -> None:
    """With carry, the hour is session time: 20 minutes today, 40 from 19:00."""
    settings = ExecutionSettings(twap_horizon=3600, twap_slices=4, twap_jitter=0.0,
                                 twap_carry=True)
    start = ct(2, 13)
    plan = plan_twap_in_sessions(8, settings=settings, rng=random.Random(1), start=start,
                                 calendar=oats_week())
    starts = [start + dt.timedelta(seconds=s) for s in plan.starts]
    assert starts == [ct(2, 13), ct(2, 13, 15), ct(2, 19, 10), ct(2, 19, 25)]
    assert plan.durations == (900.0, 300.0, 900.0, 900.0)  # the second one cut at 13:20


def test_a_twap_outside_the_sessions_is_an_error() -> None:
    """The plan is made only inside a session (the router holds an intent until then)."""
    with pytest.raises(InvalidValueError, match=r"^start: is outside the sessions"):
        plan_twap_in_sessions(8, settings=ExecutionSettings(), rng=random.Random(1),
                              start=ct(5, 12), calendar=oats_week())


week_minutes = st.integers(min_value=0, max_value=7 * 24 * 60 - 1)


@given(minute=week_minutes, quantity=st.integers(1, 200), slices=st.integers(1, 20),
       horizon=st.floats(60, 3 * 86_400), carry=st.booleans(), seed=st.integers(0, 2**32))
def test_every_twap_slice_lies_inside_one_session(
    minute: int, quantity: int, slices: int, horizon: float, carry: bool, seed: int,
) -> None:
    """Whatever the start, horizon and carry, each slice starts and ends inside one session,
    and the slices sum to the quantity."""
    calendar = oats_week()
    start = ct(30, 0, month=11) + dt.timedelta(minutes=minute)
    start = calendar.next_open(start) or start
    if calendar.close_of(start) is None:
        return
    settings = ExecutionSettings(twap_horizon=horizon, twap_slices=slices, twap_carry=carry)
    plan = plan_twap_in_sessions(quantity, settings=settings, rng=random.Random(seed),
                                 start=start, calendar=calendar)
    assert plan.quantity == quantity
    for _, offset, duration in plan.slices():
        begins = start + dt.timedelta(seconds=offset)
        session = calendar.session_at(begins)
        assert session is not None and duration > 0
        assert begins + dt.timedelta(seconds=duration) <= session.close
        assert carry or session.open <= start
