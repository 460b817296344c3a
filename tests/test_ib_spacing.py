"""The message spacer on a scripted clock and timer: what it writes, and when."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydra.ib._spacing import MESSAGES_PER_SECOND, RELEASES_PER_SECOND, MessageSpacer

GAP = 1 / RELEASES_PER_SECOND


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

    def times(self) -> list[float]:
        return [t for t, _ in self.written]


def test_a_burst_goes_out_at_once_up_to_the_limit_then_spaced() -> None:
    """60 messages at once: 45 now (a start's requests are not slowed), the other 15 once
    the first second is over, one gap apart, in order."""
    line = Line()
    spacer = line.spacer()
    for n in range(60):
        spacer.send(b"%d" % n)
    assert line.times() == [0.0] * MESSAGES_PER_SECOND
    line.run()
    assert [m for _, m in line.written] == [b"%d" % n for n in range(60)]
    assert line.times()[MESSAGES_PER_SECOND:] == pytest.approx(
        [1.0 + n * GAP for n in range(15)], abs=1e-12)
    assert len(spacer) == 0


def test_a_late_timer_writes_one_message_not_a_catch_up_clump() -> None:
    """A release timer that fires half a second late writes one message; the next waits a
    gap."""
    line = Line()
    spacer = line.spacer()
    for n in range(MESSAGES_PER_SECOND + 3):
        spacer.send(b"%d" % n)
    line.fire(late=0.5)
    line.run()
    assert line.times()[MESSAGES_PER_SECOND:] == pytest.approx(
        [1.5, 1.5 + GAP, 1.5 + 2 * GAP], abs=1e-12)


def test_a_message_behind_a_waiting_one_waits_even_when_the_second_has_room() -> None:
    """Order is kept: once one message waits, the next queues behind it."""
    line = Line()
    spacer = line.spacer()
    for _ in range(MESSAGES_PER_SECOND + 1):
        spacer.send(b"early")
    line.now = 1.0
    spacer.send(b"late")
    line.run()
    assert [m for _, m in line.written[-2:]] == [b"early", b"late"]
    assert line.times()[-2:] == pytest.approx([1.0, 1.0 + GAP], abs=1e-12)


def test_what_waits_for_a_session_that_is_gone_is_never_written() -> None:
    """Cleared (a reconnect), the old session's queue is dropped and whoever waited for it
    to drain is told."""
    line = Line()
    spacer = line.spacer()
    drained: list[float] = []
    for _ in range(MESSAGES_PER_SECOND):
        spacer.send(b"sent")
    spacer.send(b"old")
    spacer.when_drained(lambda: drained.append(line.now))
    assert drained == []
    spacer.clear()
    assert drained == [0.0]
    line.run()
    assert b"old" not in [m for _, m in line.written]


def test_drained_is_told_when_the_last_waiting_message_is_written() -> None:
    """when_drained calls back at once with nothing waiting, else with the last write."""
    line = Line()
    spacer = line.spacer()
    told: list[float] = []
    spacer.when_drained(lambda: told.append(line.now))
    assert told == [0.0]
    for _ in range(MESSAGES_PER_SECOND + 2):
        spacer.send(b"m")
    spacer.when_drained(lambda: told.append(line.now))
    line.run()
    assert told == [0.0, pytest.approx(1.0 + GAP)]


@given(st.lists(st.tuples(st.floats(min_value=0.0, max_value=3.0),
                          st.integers(min_value=1, max_value=30)), max_size=12),
       st.floats(min_value=0.0, max_value=0.05))
def test_no_second_is_over_the_limit_and_waiting_messages_never_clump(
    bursts: list[tuple[float, int]], late: float,
) -> None:
    """Whatever bursts are sent when, and however late timers fire: every message is
    written, in order; no second (as a receiver counts it, from any write) holds more than
    MESSAGES_PER_SECOND; a message that had to wait is written a gap or more after the
    write before it."""
    line = Line()
    spacer = line.spacer()
    sent: list[tuple[float, int]] = []
    for at, size in sorted(bursts):
        while line.timers and min(w for w, _ in line.timers) + late <= at:
            line.fire(late=late)
        line.now = max(line.now, at)
        for _ in range(size):
            sent.append((line.now, len(sent)))
            spacer.send(b"%d" % len(sent))
    line.run()
    times = line.times()
    assert [m for _, m in line.written] == [b"%d" % (n + 1) for n in range(len(sent))]
    assert all(sum(1 for t in times if start <= t < start + 1.0) <= MESSAGES_PER_SECOND
               for start in times)
    for (before, after), (sent_at, _) in zip(itertools.pairwise(times), sent[1:], strict=True):
        if after > sent_at:
            assert after - before >= GAP - 1e-12
