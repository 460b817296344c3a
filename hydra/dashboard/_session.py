"""Whether a contract's market is open, on a break, or closed at a moment (pure).

The contract's weekly windows, the exchange's holidays and early closes make its calendar
(`hydra._exchange_calendar`, as the simulator keeps them). Between two sessions
of the same trading day (`hydra._schedule.trading_day`) the market is on a break; otherwise,
outside every session, it is closed.
"""

from __future__ import annotations

import datetime as dt
import enum

from .._contracts import ContractSpec
from .._exchange_calendar import exchange_calendar
from .._schedule import trading_day


class SessionState(enum.Enum):
    OPEN = "open"
    BREAK = "break"
    CLOSED = "closed"


def session_state(contract: ContractSpec, now: dt.datetime) -> SessionState:
    """``contract``'s market at the aware moment ``now``."""
    first = now.astimezone(dt.UTC).date() - dt.timedelta(days=2)
    calendar = exchange_calendar(contract, first=first, days=5)
    if calendar.is_open(now):
        return SessionState.OPEN
    closed = [s.close for s in calendar.sessions if s.close <= now]
    opens = [s.open for s in calendar.sessions if s.open > now]
    if closed and opens and trading_day(max(closed)) == trading_day(min(opens)):
        return SessionState.BREAK
    return SessionState.CLOSED
