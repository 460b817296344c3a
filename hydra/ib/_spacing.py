"""`MessageSpacer`: ib_async's messages to IB kept under IB's rate, and never written in clumps
once they have had to wait. Sans-I/O: the clock, the timer and the write are passed in
(`hydra.ib._broker` passes the asyncio loop's and the socket's).

The risk actor paces order entry (`hydra._risk_actor.pacing_bucket`), but the requests around it
(contract details, market data, positions, executions, open orders) reach IB unpaced, and IB
counts every message against its 50 a second. ib_async's own throttle, which this replaces, lets
45 messages through in any one second and holds the rest until the oldest of those is a second
old, then writes as many as fit *at once*. A start's requests and a burst of orders together
engage it, and from then on it writes clumps exactly one second after earlier clumps; IB (and
the simulated gateway) counts its second on arrival, so a clump read a few milliseconds sooner
than the one before lands in the same second and is refused with error 100: a cancel or an
order lost, and IB's error names neither.

Here, as there, a message goes out at once while fewer than ``MESSAGES_PER_SECOND`` were written
in the last second and none waits; the rest wait, and go out one at a time, each when the last
second has room and at least ``1 / RELEASES_PER_SECOND`` after the write before it. A late timer
writes one message, never a catch-up clump, and the writes of a second that was full are spaced,
so the next second has no clump to meet.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable

MESSAGES_PER_SECOND = 45
"""The most messages written in any one second (ib_async's figure, 5 under IB's 50)."""

RELEASES_PER_SECOND = 46
"""How fast messages that had to wait are written: one at a time, evenly, a little faster than
the risk actor's default pacing of order entry (45 a second), so a backlog drains."""

WINDOW = 1.0


class MessageSpacer:
    """Writes what it is sent, in order, within ``MESSAGES_PER_SECOND`` in any second; what must
    wait is written by a timer, spaced. Synchronous and single-threaded."""

    def __init__(
        self,
        write: Callable[[bytes], None],
        *,
        clock: Callable[[], float],
        call_at: Callable[[float, Callable[[], None]], object],
    ) -> None:
        self._write = write
        self._clock = clock
        self._call_at = call_at
        self._gap = 1 / RELEASES_PER_SECOND
        self._written: collections.deque[float] = collections.deque()  # times, the last second
        self._waiting: collections.deque[bytes] = collections.deque()
        self._next = -math.inf  # the earliest time a message that waited may be written
        self._timer_set = False
        self._when_drained: list[Callable[[], None]] = []

    def send(self, message: bytes) -> None:
        """Write ``message`` now if nothing waits and the last second has room, else later."""
        now = self._clock()
        if not self._waiting and self._room(now):
            self._write_now(message, now)
            return
        self._waiting.append(message)
        self._next = max(self._next, self._last() + self._gap)
        self._set_timer(now)

    def clear(self) -> None:
        """Forget what waits: the session it was for is gone (a new one starts empty)."""
        self._waiting.clear()
        self._drained()

    def when_drained(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once nothing waits (at once if nothing does)."""
        self._when_drained.append(callback)
        if not self._waiting:
            self._drained()

    def __len__(self) -> int:
        return len(self._waiting)

    def _room(self, now: float) -> bool:
        while self._written and self._written[0] + WINDOW <= now:  # as `_due` reckons it
            self._written.popleft()
        return len(self._written) < MESSAGES_PER_SECOND

    def _last(self) -> float:
        return self._written[-1] if self._written else -math.inf

    def _write_now(self, message: bytes, now: float) -> None:
        self._written.append(now)
        self._write(message)

    def _due(self, now: float) -> float:
        """When the first message waiting may go: spaced, and when the last second has room."""
        self._room(now)
        full = len(self._written) >= MESSAGES_PER_SECOND
        return max(self._next, self._written[0] + WINDOW if full else -math.inf)

    def _set_timer(self, now: float) -> None:
        if not self._timer_set:
            self._timer_set = True
            self._call_at(self._due(now), self._release)

    def _release(self) -> None:
        self._timer_set = False
        now = self._clock()
        if self._waiting and now >= self._due(now):
            self._write_now(self._waiting.popleft(), now)
            self._next = now + self._gap
        if self._waiting:
            self._set_timer(now)
        else:
            self._drained()

    def _drained(self) -> None:
        callbacks, self._when_drained = self._when_drained, []
        for callback in callbacks:
            callback()
