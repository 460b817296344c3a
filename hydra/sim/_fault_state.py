"""The faults in force: what the next order, execution report and quote will meet.

`Disconnect` is the exchange's own business (it owns the link and the clients); every other
fault only leaves state here for order entry, reporting and quoting to consume.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .._quotes import Quote
from ._faults import (
    BadQuotes,
    DelayExecution,
    DuplicateExecution,
    RejectNextOrder,
    StaleQuotes,
)
from ._params import MarketKey


class FaultState:
    """Pending rejections, duplicated and delayed executions, frozen and bad quotes."""

    def __init__(self) -> None:
        self._rejects: list[RejectNextOrder] = []
        self._duplicates = 0
        self._delays: list[float] = []
        self._stale: dict[MarketKey, tuple[float, Quote]] = {}
        self._bad: dict[MarketKey, tuple[float, str]] = {}  # until, problem

    def start(
        self,
        fault: RejectNextOrder | DuplicateExecution | DelayExecution | StaleQuotes | BadQuotes,
        now: float,
        *,
        symbols: Iterable[MarketKey],
        fresh_quote: Callable[[MarketKey, float], Quote],
    ) -> None:
        """``fault`` begins at ``now``; ``symbols`` are the markets (every month of a symbol
        goes stale with it)."""
        match fault:
            case RejectNextOrder():
                self._rejects.append(fault)
            case DuplicateExecution():
                self._duplicates += 1
            case DelayExecution():
                self._delays.append(fault.delay)
            case StaleQuotes():
                for key in symbols:
                    if fault.symbol in (None, key[0]):
                        self._stale[key] = (now + fault.duration, fresh_quote(key, now))
            case BadQuotes():
                for key in symbols:
                    if fault.symbol in (None, key[0]):
                        self._bad[key] = (now + fault.duration, fault.problem)

    def take_rejection(self) -> tuple[int, str] | None:
        """The code and reason of a pending `RejectNextOrder`, used up; or None."""
        if not self._rejects:
            return None
        fault = self._rejects.pop(0)
        return fault.code, fault.reason

    def take_delay(self) -> float:
        """Extra seconds for the next execution report (0 when none is pending)."""
        return self._delays.pop(0) if self._delays else 0.0

    def take_duplicate(self) -> bool:
        """True when the next execution report is to be sent twice."""
        if not self._duplicates:
            return False
        self._duplicates -= 1
        return True

    def stale_quote(self, key: MarketKey, now: float) -> Quote | None:
        """The frozen quote of market ``key`` while a `StaleQuotes` fault holds it, else None."""
        stale = self._stale.get(key)
        return stale[1] if stale is not None and now < stale[0] else None

    def bad_quote(self, key: MarketKey, now: float) -> str | None:
        """What is wrong with market ``key``'s quote while a `BadQuotes` fault holds, else None."""
        bad = self._bad.get(key)
        return bad[1] if bad is not None and now < bad[0] else None
