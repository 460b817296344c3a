"""A contract's market state at a moment: open, on a break, closed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hydra import LEAN_HOGS, OATS, WorkingHours
from hydra.dashboard._session import SessionState, session_state

CHICAGO = ZoneInfo("America/Chicago")


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of the week of Monday 2026-03-02, in Chicago."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=CHICAGO)


@pytest.mark.parametrize(("moment", "state"), [
    (_at(2, 9), SessionState.OPEN),  # Monday's day session
    (_at(2, 8, 0), SessionState.BREAK),  # 07:45-08:30, between the night and day sessions
    (_at(2, 14), SessionState.CLOSED),  # after 13:20: the next session is tomorrow's
    (_at(2, 19, 0), SessionState.OPEN),  # the evening session opens at 19:00 sharp
    (_at(3, 2), SessionState.OPEN),  # overnight, Tuesday 02:00
    (_at(7, 12), SessionState.CLOSED),  # Saturday noon
    (_at(8, 19, 30), SessionState.OPEN),  # Sunday evening
    (_at(6, 19, 30), SessionState.CLOSED),  # Friday evening: the week's last close was 13:20
])
def test_oats_sessions(moment: dt.datetime, state: SessionState) -> None:
    """Oats' night and day sessions, their morning break and the closed afternoon."""
    assert session_state(OATS, moment) is state


def test_hogs_close_after_their_one_session() -> None:
    """Hogs have one day session: closed before and after it, open in it (UTC moments too)."""
    assert session_state(LEAN_HOGS, _at(2, 8)) is SessionState.CLOSED
    assert session_state(LEAN_HOGS, _at(2, 10).astimezone(dt.UTC)) is SessionState.OPEN
    assert session_state(LEAN_HOGS, _at(2, 13, 5)) is SessionState.CLOSED


def test_a_holiday_is_closed_the_evening_before_too() -> None:
    """Good Friday (2026-04-03) shuts its trading day: the Thursday evening session that would
    open it and the Friday day session."""
    thursday_evening = dt.datetime(2026, 4, 2, 19, 30, tzinfo=CHICAGO)
    friday_morning = dt.datetime(2026, 4, 3, 9, tzinfo=CHICAGO)
    assert session_state(OATS, thursday_evening) is SessionState.CLOSED
    assert session_state(OATS, friday_morning) is SessionState.CLOSED
    assert session_state(OATS, dt.datetime(2026, 4, 2, 9, tzinfo=CHICAGO)) is SessionState.OPEN


def test_the_day_after_thanksgiving_closes_at_the_early_close() -> None:
    """Friday 2026-11-27, after Thanksgiving: oats trade a short day session only (no night
    session before it) and close at 12:05, as the simulated gateway's hours say."""
    friday = dt.date(2026, 11, 27)

    def at(hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(friday, dt.time(hour, minute), tzinfo=CHICAGO)

    assert session_state(OATS, at(2)) is SessionState.CLOSED
    assert session_state(OATS, at(10)) is SessionState.OPEN
    assert session_state(OATS, at(12, 30)) is SessionState.CLOSED


@pytest.mark.parametrize(("moment", "state"), [
    (_at(2, 9), SessionState.OPEN),  # Monday's day session
    (_at(2, 8, 0), SessionState.CLOSED),  # before the day's first liquid session
    (_at(2, 19, 30), SessionState.CLOSED),  # the night session is not liquid
    (_at(3, 2), SessionState.CLOSED),  # overnight, Tuesday 02:00
    (_at(3, 13, 19), SessionState.OPEN),  # a minute before the day session closes
])
def test_oats_in_the_liquid_hours_are_open_in_the_day_session_only(
    moment: dt.datetime, state: SessionState,
) -> None:
    """In the liquid hours (Hydra's default) the banner says oats are closed through the
    night session, when Hydra holds their intents for 08:30."""
    assert session_state(OATS, moment, hours=WorkingHours.LIQUID) is state
