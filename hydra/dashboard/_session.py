"""Whether a contract's market is open, on a break, or closed at a moment (pure).

The contract's weekly windows, the exchange's holidays and early closes make its calendar
(`hydra._exchange_calendar`, as the simulator keeps them). Between two sessions
of the same trading day (`hydra._schedule.trading_day`) the market is on a break; otherwise,
outside every session, it is closed. Under ``hours = "liquid"`` (the default) only the
contract's liquid sessions count (`liquid_windows`, as the simulator gives them): oats' night
session is closed to Hydra, which sends nothing in it.
"""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from .._contracts import ContractSpec
from .._core._sessions import liquid_windows
from .._exchange_calendar import exchange_calendar
from .._schedule import trading_day


class SessionState(enum.Enum):
    OPEN = "open"
    BREAK = "break"
    CLOSED = "closed"


def session_state(contract: ContractSpec, now: dt.datetime, *, liquid: bool = False
                  ) -> SessionState:
    """``contract``'s market at the aware moment ``now`` (in its liquid sessions only, with
    ``liquid``)."""
    if liquid:
        contract = attrs.evolve(contract, trading_hours=liquid_windows(contract.trading_hours))
    first = now.astimezone(dt.UTC).date() - dt.timedelta(days=2)
    calendar = exchange_calendar(contract, first=first, days=5)
    if calendar.is_open(now):
        return SessionState.OPEN
    closed = [s.close for s in calendar.sessions if s.close <= now]
    opens = [s.open for s in calendar.sessions if s.open > now]
    if closed and opens and trading_day(max(closed)) == trading_day(min(opens)):
        return SessionState.BREAK
    return SessionState.CLOSED
