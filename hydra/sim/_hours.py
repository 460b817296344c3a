"""The simulated exchange's hours: each contract's weekly windows and CME's holidays.

A holiday closes the whole trading day it names (for the grains, the overnight session that
opens the evening before too). Early closes (the day after Thanksgiving, Christmas Eve) are not
modelled: those days trade their full hours here.
"""

from __future__ import annotations

import datetime as dt

from .._contracts import ContractSpec
from .._core._sessions import SessionCalendar, weekly_calendar

CME_HOLIDAYS = frozenset(dt.date.fromisoformat(day) for day in (
    "2025-01-01", "2025-01-20", "2025-02-17", "2025-04-18", "2025-05-26", "2025-06-19",
    "2025-07-04", "2025-09-01", "2025-11-27", "2025-12-25",
    "2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25", "2026-06-19",
    "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25",
    "2027-01-01", "2027-01-18", "2027-02-15", "2027-03-26", "2027-05-31", "2027-06-18",
    "2027-07-05", "2027-09-06", "2027-11-25", "2027-12-24",
))
"""The days CME's grain and livestock markets are closed, 2025 to 2027."""

CALENDAR_DAYS = 15
"""How many days a calendar covers, from the day before the one asked about (IB sends about
a week; the runner asks again each time it needs the hours)."""


def sim_calendar(contract: ContractSpec, now: dt.datetime) -> SessionCalendar:
    """``contract``'s sessions around the aware ``now``, in its time zone."""
    day = now.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    return weekly_calendar(contract.trading_hours, zone=contract.time_zone,
                           first=day, days=CALENDAR_DAYS, holidays=CME_HOLIDAYS)
