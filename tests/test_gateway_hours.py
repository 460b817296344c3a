"""Trading windows by trading day, and IB's tradingHours and liquidHours text."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from hydra import LEAN_HOGS, OATS
from hydra._holidays import early_close
from hydra.gateway._hours import ib_hours, windows_of

TUESDAY = dt.date(2026, 12, 1)


def test_oats_hours_in_ibs_format_with_the_morning_break() -> None:
    """Oats trade 19:00–07:45 and, after the break, 08:30–13:20, each trading day listed in
    order from today, the weekend CLOSED; Sunday evening's window is Monday's."""
    hours = ib_hours(OATS.trading_hours, TUESDAY).split(";")
    assert hours == [
        "20261130:1900-20261201:0745", "20261201:0830-20261201:1320",
        "20261201:1900-20261202:0745", "20261202:0830-20261202:1320",
        "20261202:1900-20261203:0745", "20261203:0830-20261203:1320",
        "20261203:1900-20261204:0745", "20261204:0830-20261204:1320",
        "20261205:CLOSED", "20261206:CLOSED",
        "20261206:1900-20261207:0745", "20261207:0830-20261207:1320",
    ]  # fmt: skip


def test_liquid_hours_are_the_day_sessions() -> None:
    """IB's liquid hours of oats are the day session only; hogs trade only by day."""
    liquid = ib_hours(OATS.trading_hours, TUESDAY, liquid=True).split(";")
    assert liquid[:2] == ["20261201:0830-20261201:1320", "20261202:0830-20261202:1320"]
    assert "1900" not in ";".join(liquid)
    assert ib_hours(LEAN_HOGS.trading_hours, TUESDAY, liquid=True) == ib_hours(
        LEAN_HOGS.trading_hours, TUESDAY
    )


def test_a_holiday_shuts_its_trading_day_and_the_evening_before() -> None:
    """Martin Luther King Jr. Day 2026 (Monday, January 19): CLOSED, and no window Sunday
    evening; Monday evening's window opens Tuesday's trading day."""
    hours = ib_hours(OATS.trading_hours, dt.date(2026, 1, 16)).split(";")
    assert hours[2:7] == [
        "20260117:CLOSED", "20260118:CLOSED", "20260119:CLOSED",
        "20260119:1900-20260120:0745", "20260120:0830-20260120:1320",
    ]  # fmt: skip
    assert ib_hours(LEAN_HOGS.trading_hours, dt.date(2026, 12, 25)).startswith("20261225:CLOSED")


def test_the_friday_after_thanksgiving_closes_at_1205_without_a_night_session() -> None:
    """CME's grains stay shut from Wednesday's close to Friday 08:30 and close at 12:05; the
    hogs' day session closes at 12:05 too."""
    hours = ib_hours(OATS.trading_hours, dt.date(2026, 11, 25)).split(";")
    assert hours[2:5] == ["20261126:CLOSED", "20261127:0830-20261127:1205", "20261128:CLOSED"]
    hogs = ib_hours(LEAN_HOGS.trading_hours, dt.date(2026, 11, 27)).split(";")
    assert hogs[0] == "20261127:0830-20261127:1205"


def test_christmas_eve_closes_early_after_its_night_session() -> None:
    """Christmas Eve 2026 (a Thursday): the night session from 19:00 on the 23rd, then 08:30
    to 12:05; Christmas Day CLOSED with no window on the evening before."""
    hours = ib_hours(OATS.trading_hours, dt.date(2026, 12, 24)).split(";")
    assert hours[:4] == [
        "20261223:1900-20261224:0745", "20261224:0830-20261224:1205",
        "20261225:CLOSED", "20261226:CLOSED",
    ]  # fmt: skip
    liquid = ib_hours(LEAN_HOGS.trading_hours, dt.date(2026, 12, 24), liquid=True)
    assert liquid.startswith("20261224:0830-20261224:1205;20261225:CLOSED")


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)))
def test_windows_are_in_order_and_close_on_their_trading_day(day: dt.date) -> None:
    """Every window closes on its trading day after it opens, and they do not overlap."""
    windows = windows_of(OATS.trading_hours, day)
    assert all(w.closes.date() == day and w.opens < w.closes for w in windows)
    early = early_close(day)
    assert early is None or all(w.closes.time() <= early for w in windows)
    assert all(a.closes <= b.opens for a, b in itertools.pairwise(windows))
    text = ib_hours(OATS.trading_hours, day)
    assert text.startswith(f"{day:%Y%m%d}:CLOSED" if not windows else f"{windows[0].opens:%Y%m%d}")
