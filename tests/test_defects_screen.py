"""Nothing a strategy hook prints is lost from the screen at exit, or mixed into a log line
or the status region: a line it leaves unfinished is a line of its own."""

from __future__ import annotations

import datetime as dt
import os
import pty
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO, cast

import pytest

from hydra._screen import MAX_PART_LINE, StatusScreen
from tests.terminal import hydra_run_on_a_pty, read_all

REDRAW = re.compile("\r(?:\x1b\\[\\d+A)?\x1b\\[J")
"""The status region's redraw: back up to its first line, and erase everything below."""

PRINTING_HOOK = '''
import pathlib


def targets(context):
    print("half a line from the hook", end="")
    pathlib.Path("called").touch()
    return {}
'''


def _screen_lines(output: bytes) -> list[str]:
    screen = output.decode("utf-8", "replace").replace("\r\n", "\n")
    return [line for piece in re.split(REDRAW, screen) for line in piece.split("\n")]


def test_a_hooks_unfinished_line_reaches_the_terminal_when_hydra_run_stops(
        tmp_path: Path) -> None:
    """hydra run --sim on a pseudo-terminal, its hook printing with end="": after SIGTERM the
    text is on the terminal, on a line of its own (not on a status or log line), and the run
    exits 0."""
    journal, inbox = tmp_path / "journal.sqlite", tmp_path / "inbox.jsonl"
    (tmp_path / "desk.py").write_text(PRINTING_HOOK)
    at = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=75)).replace(second=0, microsecond=0)
    config = tmp_path / "hydra.toml"
    config.write_text(f'[journal]\npath = "{journal}"\n[runner]\nstrategy = "desk:targets"\n'
                      f'inbox = "{inbox}"\nschedule = "{at:%H:%M}"\ndays = "Mon-Sun"\n'
                      'time_zone = "UTC"\n')
    process, leader = hydra_run_on_a_pty(config, journal, cwd=tmp_path)
    chunks: list[bytes] = []
    reader = threading.Thread(target=read_all, args=(leader, chunks))
    reader.start()
    try:
        deadline = time.monotonic() + 150
        while not (tmp_path / "called").exists():
            assert process.poll() is None and time.monotonic() < deadline, b"".join(chunks)
            time.sleep(0.2)
        time.sleep(1.0)  # a redraw or two of the status region after the print
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
        reader.join(timeout=10)
        os.close(leader)
    lines = _screen_lines(b"".join(chunks))
    assert "half a line from the hook" in lines, lines[-20:]
    assert any("strategy_ran" in line for line in lines)


@pytest.fixture
def pty_stream() -> Iterator[tuple[TextIO, int]]:
    leader, follower = pty.openpty()
    stream = os.fdopen(follower, "w")
    yield cast(TextIO, stream), leader
    stream.close()
    os.close(leader)


def _drain(leader: int) -> bytes:
    os.set_blocking(leader, False)
    data = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except BlockingIOError:
            return data
        if not chunk:
            return data
        data += chunk


def test_unfinished_lines_are_written_when_the_writer_stops(
        pty_stream: tuple[TextIO, int]) -> None:
    """A part-line on standard output and one on standard error are each written, as lines
    of their own, when the writer stops: neither is lost, neither joins the other."""
    terminal, leader = pty_stream
    screen = StatusScreen(terminal)
    output = screen.stream()
    screen.start_writer()
    screen.show(["hydra: status"])
    output.write("from the hook")
    screen.write("log li")
    screen.write("ne\nhalf a log")
    screen.clear()
    assert screen.stop_writer(within=10)
    lines = _screen_lines(_drain(leader))
    assert "from the hook" in lines and "log line" in lines and "half a log" in lines
    assert not [line for line in lines if "hydra: status" in line and line != "hydra: status"]


def test_a_hooks_part_line_never_joins_a_log_line(pty_stream: tuple[TextIO, int]) -> None:
    """While a hook's print waits for its newline, a log line goes out whole; the hook's
    line then goes out whole too."""
    terminal, leader = pty_stream
    screen = StatusScreen(terminal)
    output = screen.stream()
    output.write("hook: 3 of ")
    print("order_placed qty=1", file=screen)
    print("5 done", file=output)
    lines = _screen_lines(_drain(leader))
    assert [line for line in lines if line] == ["order_placed qty=1", "hook: 3 of 5 done"]


def test_a_line_that_never_ends_is_written_in_pieces(pty_stream: tuple[TextIO, int]) -> None:
    """A hook printing a dot at a time, never a newline: past MAX_PART_LINE characters the
    dots go out as a line of that length (memory stays bounded), the rest waits."""
    terminal, leader = pty_stream
    screen = StatusScreen(terminal)
    output = screen.stream()
    for _ in range(2 * MAX_PART_LINE + 10):
        output.write(".")
    lines = [line for line in _screen_lines(_drain(leader)) if line]
    assert lines == ["." * MAX_PART_LINE] * 2
