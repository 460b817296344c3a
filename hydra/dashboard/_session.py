"""Whether a contract's market is open, on a break, or closed at a moment (pure).

A contract's `TradingSession` windows open on their ``days`` (as the simulated gateway reads
them: "Sun-Fri 19:00-07:45" opens each of those evenings and closes the next morning). Between
two windows of the same trading day (`hydra._schedule.trading_day`) the market is on a break;
otherwise, outside every window, it is closed.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from .._contracts import ContractSpec
from .._schedule import parse_days, trading_day


class SessionState(enum.Enum):
    OPEN = "open"
    BREAK = "break"
    CLOSED = "closed"


def _windows(contract: ContractSpec, around: dt.date) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Every window opening the day before ``around``, on it, or the day after."""
    zone = ZoneInfo(contract.time_zone)
    for offset in (-1, 0, 1):
        day = around + dt.timedelta(days=offset)
        for session in contract.trading_hours:
            if day.weekday() not in parse_days("days", session.days):
                continue
            closes = day + dt.timedelta(days=1) if session.close <= session.open else day
            yield (dt.datetime.combine(day, session.open, zone),
                   dt.datetime.combine(closes, session.close, zone))


def session_state(contract: ContractSpec, now: dt.datetime) -> SessionState:
    """``contract``'s market at the aware moment ``now``."""
    local = now.astimezone(ZoneInfo(contract.time_zone))
    windows = list(_windows(contract, local.date()))
    if any(start <= local < end for start, end in windows):
        return SessionState.OPEN
    closed = [end for _, end in windows if end <= local]
    opens = [start for start, _ in windows if start > local]
    if closed and opens and trading_day(max(closed)) == trading_day(min(opens)):
        return SessionState.BREAK
    return SessionState.CLOSED
