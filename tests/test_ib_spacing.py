"""The message spacer on a scripted clock and timer: what it writes, and when."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydra.ib._spacing import MESSAGES_PER_SECOND, MessageSpacer

GAP = 1 / MESSAGES_PER_SECOND


@attrs.define
class Line:
    """A clock, a timer that fires only when the test says, and a wire that records writes."""

    now: float = 0.0
    timers: list[tuple[float, Callable[[], None]]] = attrs.Factory(list)
    written: list[tuple[float, bytes]] = attrs.Factory(list)

    def spacer(self) -> MessageSpacer:
        return MessageSpacer(lambda m: self.written.append((self.now, m)),
                             clock=lambda: self.now, call_at=self._call_at)

    def _call_at(self, when: float, callback: Callable[[], None]) -> None:
        self.timers.append((when, callback))

    def fire(self, *, late: float = 0.0) -> None:
        """Run the earliest timer, ``late`` seconds after it was due."""
        self.timers.sort(key=lambda timer: timer[0])
        when, callback = self.timers.pop(0)
        self.now = max(self.now, when + late)
        callback()

    def run(self) -> None:
        while self.timers:
            self.fire()


def test_a_burst_is_written_in_order_one_gap_apart() -> None:
    """60 messages sent at once: the first now, each next exactly one gap after it."""
    line = Line()
    spacer = line.spacer()
    for n in range(60):
        spacer.send(b"%d" % n)
    assert line.written == [(0.0, b"0")]
    line.run()
    assert [m for _, m in line.written] == [b"%d" % n for n in range(60)]
    assert [t for t, _ in line.written] == pytest.approx([n * GAP for n in range(60)], abs=1e-12)
    assert len(spacer) == 0


def test_a_late_timer_writes_one_message_not_a_catch_up_clump() -> None:
    """A timer that fires half a second late writes one message; the next waits a gap."""
    line = Line()
    spacer = line.spacer()
    for n in range(3):
        spacer.send(b"%d" % n)
    line.fire(late=0.5)
    line.run()
    times = [t for t, _ in line.written]
    assert times == pytest.approx([0.0, GAP + 0.5, 2 * GAP + 0.5], abs=1e-12)


def test_a_message_after_a_quiet_spell_is_written_at_once() -> None:
    """A message sent a gap or more after the last write goes out with no timer."""
    line = Line()
    spacer = line.spacer()
    spacer.send(b"a")
    line.now = 5.0
    spacer.send(b"b")
    assert line.written == [(0.0, b"a"), (5.0, b"b")]
    assert line.timers == []


def test_what_waits_for_a_session_that_is_gone_is_never_written() -> None:
    """Cleared (a reconnect), the old session's queue is dropped; new messages keep the gap."""
    line = Line()
    spacer = line.spacer()
    for message in (b"old-1", b"old-2", b"old-3"):
        spacer.send(message)
    spacer.clear()
    spacer.send(b"new")
    line.run()
    assert line.written == [(0.0, b"old-1"), (pytest.approx(GAP), b"new")]


@given(st.lists(st.floats(min_value=0.0, max_value=3.0), max_size=80))
def test_no_second_holds_more_than_the_spaced_count(sends: list[float]) -> None:
    """Whenever messages are sent, and however late timers fire, any one second of writes
    holds at most MESSAGES_PER_SECOND + 1 messages (IB refuses above 50)."""
    line = Line()
    spacer = line.spacer()
    for at in sorted(sends):
        while line.timers and min(w for w, _ in line.timers) <= at:
            line.fire(late=0.003)
        line.now = max(line.now, at)
        spacer.send(b"m")
    line.run()
    times = [t for t, _ in line.written]
    assert len(times) == len(sends)
    assert all(b - a >= GAP - 1e-12 for a, b in itertools.pairwise(times))
    assert all(sum(1 for t in times if start <= t < start + 1.0) <= MESSAGES_PER_SECOND + 1
               for start in times)
