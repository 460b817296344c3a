"""The simulated exchange's hours: each contract's exchange calendar
(`hydra._exchange_calendar`: its weekly windows, CME's holidays and early closes), and its
liquid hours, the same calendar of its day sessions only (`liquid_windows`), as the simulated
gateway's ``liquidHours`` say.
"""

from __future__ import annotations

import datetime as dt

import attrs

from .._contracts import ContractSpec
from .._core._sessions import SessionCalendar, liquid_windows
from .._exchange_calendar import exchange_calendar

CALENDAR_DAYS = 15
"""How many days a calendar covers, from the day before the one asked about (IB sends about
a week; the runner asks again each time it needs the hours)."""


def sim_calendar(contract: ContractSpec, now: dt.datetime) -> SessionCalendar:
    """``contract``'s sessions around the aware ``now``, in its time zone."""
    day = now.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    return exchange_calendar(contract, first=day, days=CALENDAR_DAYS)


def sim_liquid_calendar(contract: ContractSpec, now: dt.datetime) -> SessionCalendar:
    """``contract``'s liquid sessions around the aware ``now``: its day sessions, with the
    holidays and early closes of its trading calendar."""
    day_only = attrs.evolve(contract, trading_hours=liquid_windows(contract.trading_hours))
    return sim_calendar(day_only, now)
