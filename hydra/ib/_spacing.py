"""`MessageSpacer`: every message to IB written one at a time, evenly spaced. Sans-I/O: the clock,
the timer and the write are passed in (`hydra.ib._broker` passes the asyncio loop's and the
socket's).

The risk actor paces order entry (`hydra._risk_actor.pacing_bucket`), but the requests around it
(contract details, market data, positions, executions, open orders) reach IB unpaced, and IB
counts every message against its 50 a second. ib_async's own throttle, which this replaces, lets
45 messages through in any one second and holds the rest until the oldest of those is a second
old, then writes as many as fit *at once*. A start's requests and a burst of orders together
engage it, and from then on it writes clumps exactly one second after earlier clumps; IB (and
the simulated gateway) counts its second on arrival, so a clump read a few milliseconds sooner
than the one before lands in the same second and is refused with error 100: a cancel or an
order lost, and IB's error names neither. Spaced evenly, no second holds more than
``MESSAGES_PER_SECOND + 1`` messages as written, and a late timer writes one message, never a
catch-up clump.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable

MESSAGES_PER_SECOND = 46
"""The most messages written in a second: above the risk actor's default pacing of order entry
(45), so order entry alone is never held back here, and 4 under IB's 50, room for arrivals
that bunch."""


class MessageSpacer:
    """Writes what it is sent in order, each message at least ``1 / per_second`` seconds after
    the one before; what must wait is written by a timer. Synchronous and single-threaded."""

    def __init__(
        self,
        write: Callable[[bytes], None],
        *,
        clock: Callable[[], float],
        call_at: Callable[[float, Callable[[], None]], object],
        per_second: float = MESSAGES_PER_SECOND,
    ) -> None:
        self._write = write
        self._clock = clock
        self._call_at = call_at
        self._interval = 1 / per_second
        self._waiting: collections.deque[bytes] = collections.deque()
        self._next = -math.inf  # the earliest time the next message may be written
        self._timer_set = False

    def send(self, message: bytes) -> None:
        """Write ``message`` now if its turn has come, else once it has."""
        self._waiting.append(message)
        if not self._timer_set:
            self._write_due()

    def clear(self) -> None:
        """Forget what waits: the session it was for is gone (a new one starts empty)."""
        self._waiting.clear()

    def __len__(self) -> int:
        return len(self._waiting)

    def _write_due(self) -> None:
        self._timer_set = False
        now = self._clock()
        if self._waiting and now >= self._next:
            self._write(self._waiting.popleft())
            self._next = now + self._interval
        if self._waiting:
            self._timer_set = True
            self._call_at(self._next, self._write_due)
