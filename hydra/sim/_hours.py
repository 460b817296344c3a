"""The simulated exchange's hours: each contract's weekly windows and CME's holidays
(`hydra._holidays`).

A holiday closes the whole trading day it names (for the grains, the overnight session that
opens the evening before too); an early-close day (the day after Thanksgiving, Christmas Eve)
ends at `hydra._holidays.EARLY_CLOSE`, as the simulated gateway's hours say.
"""

from __future__ import annotations

import datetime as dt

from .._contracts import ContractSpec
from .._core._sessions import SessionCalendar, weekly_calendar
from .._holidays import early_closes, holidays, overnight_shut

CALENDAR_DAYS = 15
"""How many days a calendar covers, from the day before the one asked about (IB sends about
a week; the runner asks again each time it needs the hours)."""


def sim_calendar(contract: ContractSpec, now: dt.datetime) -> SessionCalendar:
    """``contract``'s sessions around the aware ``now``, in its time zone."""
    day = now.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    years = {day.year, (day + dt.timedelta(days=CALENDAR_DAYS)).year}
    early = {d: t for year in years for d, t in early_closes(year).items()}
    return weekly_calendar(contract.trading_hours, zone=contract.time_zone, first=day,
                           days=CALENDAR_DAYS, holidays=set().union(*map(holidays, years)),
                           early_closes=early, no_overnight=filter(overnight_shut, early))
