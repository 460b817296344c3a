"""Trading windows by trading day, and IB's tradingHours and liquidHours text."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from hydra import LEAN_HOGS, OATS
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
    """Thanksgiving 2026 (Thursday, November 26): CLOSED, and no window Wednesday evening;
    Thursday evening's window opens Friday's trading day."""
    hours = ib_hours(OATS.trading_hours, dt.date(2026, 11, 25)).split(";")
    assert hours[:4] == [
        "20261124:1900-20261125:0745", "20261125:0830-20261125:1320",
        "20261126:CLOSED", "20261126:1900-20261127:0745",
    ]  # fmt: skip
    assert ib_hours(LEAN_HOGS.trading_hours, dt.date(2026, 12, 25)).startswith("20261225:CLOSED")


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)))
def test_windows_are_in_order_and_close_on_their_trading_day(day: dt.date) -> None:
    """Every window closes on its trading day after it opens, and they do not overlap."""
    windows = windows_of(OATS.trading_hours, day)
    assert all(w.closes.date() == day and w.opens < w.closes for w in windows)
    assert all(a.closes <= b.opens for a, b in itertools.pairwise(windows))
    text = ib_hours(OATS.trading_hours, day)
    assert text.startswith(f"{day:%Y%m%d}:CLOSED" if not windows else f"{windows[0].opens:%Y%m%d}")
