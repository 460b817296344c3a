"""What waits for a stopped terminal: a bounded number of log lines, the newest region."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hydra._screen_queue import ScreenBatch, ScreenQueue, dropped_line


def test_log_lines_past_the_bound_are_counted_not_kept() -> None:
    """Three lines kept of five; the two after them counted; the queue empty once taken."""
    queue = ScreenQueue(max_lines=3)
    queue.put_lines(["a", "b"])
    queue.put_lines(["c", "d", "e"])
    assert queue.take_nowait() == ScreenBatch(lines=("a", "b", "c"), dropped=2, region=None)
    assert queue.take_nowait() is None
    assert not queue.pending()


def test_only_the_newest_region_is_drawn() -> None:
    """Two redraws before the terminal takes output: only the second is drawn; a region
    shown empty (the clear at exit) is still something to draw."""
    queue = ScreenQueue()
    queue.put_region(["hydra: 1"])
    queue.put_region(["hydra: 2", "  working 0"])
    assert queue.take_nowait() == ScreenBatch(lines=(), dropped=0,
                                              region=("hydra: 2", "  working 0"))
    queue.put_region([])
    assert queue.take_nowait() == ScreenBatch(lines=(), dropped=0, region=())


def test_the_dropped_line_says_how_many() -> None:
    assert dropped_line(7) == "hydra: 7 log lines dropped while the terminal was stopped"


@given(st.integers(min_value=0, max_value=5),
       st.lists(st.one_of(st.lists(st.text(max_size=3), max_size=4), st.none()), max_size=30))
def test_every_log_line_is_written_or_counted_in_order(
    max_lines: int, steps: list[list[str] | None],
) -> None:
    """Lines put (a list) and takes (None) in any order: the lines taken are those put, in
    order, less the dropped ones, which are counted; a batch never holds more than the bound."""
    queue, put, taken, dropped = ScreenQueue(max_lines=max_lines), [], [], 0
    for step in [*steps, None]:
        if step is not None:
            queue.put_lines(step)
            put.extend(step)
        elif (batch := queue.take_nowait()) is not None:
            assert len(batch.lines) <= max_lines
            taken.extend(batch.lines)
            dropped += batch.dropped
    assert len(taken) + dropped == len(put)
    assert _in_order(taken, put)


def _in_order(part: list[str], whole: list[str]) -> bool:
    rest = iter(whole)
    return all(item in rest for item in part)
