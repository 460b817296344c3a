"""Untriggered stop orders of one contract, in whole ticks. Pure and synchronous.

The trigger is IB's default for futures, the last trade price: a SELL stop triggers on a print
at or below its stop, a BUY stop on a print at or above it. One market event may print at
several prices (a sweep), so the caller passes the lowest and highest price it printed.
"""

from __future__ import annotations

from .._enums import Side


class Stops:
    """The armed stops of one contract, each triggered at most once."""

    def __init__(self) -> None:
        self._armed: dict[str, tuple[Side, int]] = {}  # key -> (side, stop in ticks), arming order

    def __bool__(self) -> bool:
        return bool(self._armed)

    def __contains__(self, key: str) -> bool:
        return key in self._armed

    def arm(self, key: str, side: Side, stop: int) -> None:
        """Watch ``key``'s stop (re-arming a known key moves its stop, keeping its turn)."""
        self._armed[key] = (side, stop)

    def disarm(self, key: str) -> None:
        self._armed.pop(key, None)

    def triggered(self, low: int, high: int) -> list[str]:
        """The stops that prints between ``low`` and ``high`` touch, in arming order; they are
        disarmed."""
        hit = [
            key
            for key, (side, stop) in self._armed.items()
            if (low <= stop if side is Side.SELL else high >= stop)
        ]
        for key in hit:
            del self._armed[key]
        return hit
