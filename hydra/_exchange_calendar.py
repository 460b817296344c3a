"""A contract's exchange calendar from Hydra's own facts: its weekly windows (`ContractSpec`)
and CME's holidays and early closes (`hydra._holidays`).

A holiday closes the whole trading day it names (for the grains, the overnight session that
opens the evening before too); an early-close day (the day after Thanksgiving, Christmas Eve)
ends at `hydra._holidays.EARLY_CLOSE`, as the simulated gateway's hours say. The simulator and
the dashboard's banner read their sessions from here.
"""

from __future__ import annotations

import datetime as dt

from ._contracts import ContractSpec
from ._core._sessions import SessionCalendar, weekly_calendar
from ._holidays import early_closes, holidays, overnight_shut


def exchange_calendar(contract: ContractSpec, *, first: dt.date, days: int) -> SessionCalendar:
    """``contract``'s sessions for ``days`` days from ``first``, in its time zone."""
    years = {first.year, (first + dt.timedelta(days=days)).year}
    early = {d: t for year in years for d, t in early_closes(year).items()}
    return weekly_calendar(contract.trading_hours, zone=contract.time_zone, first=first,
                           days=days, holidays=set().union(*map(holidays, years)),
                           early_closes=early, no_overnight=filter(overnight_shut, early))
