"""Where the inbox's reader waits: every poll, or only at the poll after a write it is told of."""

from __future__ import annotations

import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from hydra._inbox_polls import EVERY_POLL, InboxPolls, WrittenPolls


async def _run(polls: InboxPolls, writes: list[float], takes: list[float], *, told: bool,
               until: float) -> tuple[list[tuple[float, int]], int]:
    """A reader shaped as `hydra._runner.run_inbox` (a read at the start, then one after each
    wait) and a writer writing at ``writes`` (telling ``polls`` when ``told``), to ``until``
    (seconds from now, a whole second of the virtual clock): each read that found new writes
    (when, how many written by then), and how many times the reader read. A read that finds
    some takes the next of ``takes`` seconds (the runner submitting them) before it waits
    again."""
    start = trio.current_time()
    written: list[float] = []
    found: list[tuple[float, int]] = []
    reads = 0

    async def writer() -> None:
        for at in writes:
            await trio.sleep_until(start + at)
            written.append(at)
            if told:
                assert isinstance(polls, WrittenPolls)
                polls.written()

    async def reader() -> None:
        nonlocal reads
        seen, busy = 0, iter(takes)
        while True:
            reads += 1
            if len(written) > seen:
                seen = len(written)
                found.append((trio.current_time() - start, seen))
                await trio.sleep(next(busy))
            await polls.wait_next()

    with trio.move_on_at(start + until):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(reader)
            nursery.start_soon(writer)
    return found, reads


async def test_a_told_write_is_read_at_the_poll_that_read_it_every_second(
        autojump_clock: trio.testing.MockClock) -> None:
    """Writes at 0.5 s, 5.5 s and 5.75 s, a read that finds lines taking 1/32 s: every second's
    polls read them at 1 s and 6 + 1/32 s (the polls count from the end of the last read), and
    so do the polls told of the writes, which wake only for those two reads."""
    writes, takes = [0.5, 5.5, 5.75], [0.03125, 0.03125]
    every, every_reads = await _run(EVERY_POLL, writes, takes, told=False, until=10.0)
    told, told_reads = await _run(WrittenPolls(), writes, takes, told=True, until=10.0)
    assert every == told == [(1.0, 1), (6.03125, 3)]
    assert (every_reads, told_reads) == (10, 3)


async def test_a_write_told_while_the_reader_works_is_read_at_the_next_poll(
        autojump_clock: trio.testing.MockClock) -> None:
    """A write at 1.5 s, while the read at 1 s is still submitting (to 2.25 s), is read one
    poll after that read ended (3.25 s), as every second's polls read it."""
    writes, takes = [0.5, 1.5], [1.25, 0.0]
    assert await _run(EVERY_POLL, writes, takes, told=False, until=5.0) == (
        [(1.0, 1), (3.25, 2)], 4)
    assert await _run(WrittenPolls(), writes, takes, told=True, until=5.0) == (
        [(1.0, 1), (3.25, 2)], 3)


@given(seconds=st.lists(st.integers(0, 60), max_size=20),
       ticks=st.lists(st.integers(0, 20), min_size=20, max_size=20))
def test_the_told_polls_read_what_every_poll_reads_at_the_same_instants(
        seconds: list[int], ticks: list[int]) -> None:
    """For any writes (half a second off the whole seconds, several at one instant allowed)
    and any time the reads that find lines take (at most 20/1024 s each, so the polls never
    tie with a write: Trio would order the tie at random), the polls told of the writes read
    the same writes at the same instants as every second's polls, and wake for nothing else
    (once at the start, then once a read that finds lines)."""
    writes = sorted(s + 0.5 for s in seconds)
    takes = [t / 1024 for t in ticks]

    def run(polls: InboxPolls, told: bool) -> tuple[list[tuple[float, int]], int]:
        async def main() -> tuple[list[tuple[float, int]], int]:
            return await _run(polls, writes, takes, told=told, until=70.0)
        return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

    every, _ = run(EVERY_POLL, told=False)
    told, reads = run(WrittenPolls(), told=True)
    assert told == every
    assert reads == 1 + len(told)
