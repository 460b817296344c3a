"""Log lines and the status region sharing a terminal: never on one line, never wrapped."""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import pty
import re
import struct
import sys
import termios
import threading
from typing import TextIO, cast

import pytest

from hydra._screen import ERASE_BELOW, ScreenStream, StatusScreen, status_screen, terminal_size


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "20")
    monkeypatch.setenv("LINES", "4")


def test_a_log_line_goes_above_the_status_region() -> None:
    """A log line written in parts erases the region first (up to its first line, then
    everything below) and draws it again after; each line is cut to one column less than the
    terminal's width."""
    terminal = Terminal()
    screen = StatusScreen(terminal)
    screen.show(["hydra: connected | risk ACTIVE", "  working 1"])
    print("order_placed qty=1", file=screen)  # print writes the text, then the newline
    assert terminal.getvalue() == (
        f"\r{ERASE_BELOW}hydra: connected | \n  working 1"
        f"\r\x1b[1A{ERASE_BELOW}order_placed qty=1\nhydra: connected | \n  working 1")
    assert screen.isatty()


def test_the_region_never_takes_the_whole_terminal() -> None:
    """On a terminal 4 lines high the region keeps 3 lines; the next redraw goes up 2."""
    terminal = Terminal()
    screen = StatusScreen(terminal)
    screen.show([f"line {n}" for n in range(10)])
    screen.show(["one"])
    assert terminal.getvalue() == (
        f"\r{ERASE_BELOW}line 0\nline 1\nline 2\r\x1b[2A{ERASE_BELOW}one")


def test_clearing_leaves_an_empty_line_for_the_last_words() -> None:
    """After clear(), what is written next starts on an empty line where the region began."""
    terminal = Terminal()
    screen = StatusScreen(terminal)
    screen.show(["status", "more"])
    screen.clear()
    print("bye", file=screen)
    assert terminal.getvalue().endswith(f"\r\x1b[1A{ERASE_BELOW}\r{ERASE_BELOW}bye\n")


def test_the_size_is_the_streams_own_terminals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without COLUMNS and LINES the size is asked of the stream's terminal (not standard
    output's); a stream with no terminal gets 80 by 24."""
    monkeypatch.delenv("COLUMNS")
    monkeypatch.delenv("LINES")
    leader, follower = pty.openpty()
    try:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 132, 0, 0))
        with os.fdopen(follower, "w", closefd=False) as stream:
            assert tuple(terminal_size(stream)) == (132, 30)
    finally:
        os.close(leader)
        os.close(follower)
    assert tuple(terminal_size(Terminal())) == (80, 24)


def test_a_bad_columns_variable_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """COLUMNS that is not a number falls back to the terminal's own width."""
    monkeypatch.setenv("COLUMNS", "wide")
    assert tuple(terminal_size(Terminal())) == (80, 4)


def test_while_open_stray_prints_go_above_the_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """With standard error and output on one terminal, status_screen takes both: a print to
    either (a strategy hook's) lands above the region, not on it; on closing, the region is
    cleared and both streams are given back."""
    leader, follower = pty.openpty()
    try:
        with os.fdopen(follower, "w", closefd=False) as err, \
                os.fdopen(follower, "w", closefd=False) as out:
            monkeypatch.setattr(sys, "stderr", err)
            monkeypatch.setattr(sys, "stdout", out)
            with status_screen() as screen:
                assert screen is not None and sys.stderr is screen
                assert isinstance(sys.stdout, ScreenStream)  # its own part-lines
                screen.show(["hydra: region"])
                print("from a hook")
                print("a warning", file=sys.stderr)
            assert (sys.stdout, sys.stderr) == (out, err)
        written = os.read(leader, 4096).replace(b"\r\n", b"\n")
    finally:
        os.close(leader)
        os.close(follower)
    # The writer thread may paint the three in one batch or more: the region is erased
    # before each log line, the lines come in order, and the region is cleared at the end.
    erased = re.sub(rb"\r(?:\x1b\[\d+A)?\x1b\[J", b"", written)
    assert erased.replace(b"hydra: region", b"") == b"from a hook\na warning\n"
    assert erased.endswith(b"a warning\n")  # the region cleared after the last line


def test_off_a_terminal_there_is_no_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Standard error not a terminal: no screen, and the streams are left alone."""
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with status_screen() as screen:
        assert screen is None and sys.stderr is err


class _Pipe(io.TextIOBase):
    """A terminal that takes nothing until its reader reads: a pipe already full."""

    def __init__(self, descriptor: int) -> None:
        super().__init__()
        self.descriptor = descriptor

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.descriptor

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


def test_a_full_terminal_blocks_no_caller_and_loses_only_counted_lines() -> None:
    """The writer thread is stuck in a write to a full pipe while ten log lines are written
    and the region shown again (each returns at once); once the pipe is read, the lines kept
    (two at most wait) come out in order, the others are counted in a "dropped" line, and the
    newest region is drawn last."""
    readable, writable = os.pipe()
    os.set_blocking(writable, False)
    with contextlib.suppress(BlockingIOError):
        while True:
            os.write(writable, b"\0" * 65536)
    os.set_blocking(writable, True)
    screen = StatusScreen(cast(TextIO, _Pipe(writable)), max_lines=2)
    screen.start_writer()
    screen.show(["hydra: first"])
    for n in range(10):
        print(f"line {n}", file=screen)
    screen.show(["hydra: last"])
    written = bytearray()
    reader = threading.Thread(target=_read_into, args=(readable, written))
    reader.start()
    assert screen.stop_writer(within=60)  # a hang guard: it is done once the pipe is read
    os.close(writable)
    reader.join()
    os.close(readable)
    erased = re.split(r"\r(?:\x1b\[\d+A)?\x1b\[J", written.lstrip(b"\0").decode())
    logged = [line for piece in erased for line in piece.split("\n")[:-1]]
    kept = [line for line in logged if line.startswith("line ")]
    counts = [int(m[1]) for line in logged if (m := re.fullmatch(
        r"hydra: (\d+) log lines dropped while the terminal was stopped", line))]
    assert kept == sorted(kept) and len(kept) <= 4 and len(kept) + sum(counts) == 10
    assert erased[-1].split("\n")[-1] == "hydra: last"


def _read_into(descriptor: int, into: bytearray) -> None:
    while chunk := os.read(descriptor, 65536):
        into += chunk


def test_a_terminal_hung_up_ends_the_writer_not_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The terminal's other end closed (a dropped SSH session): the writer's next write fails
    with EIO; it stops writing, quietly (no thread dies with a traceback), and writing and
    showing go on returning at once."""
    died: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", died.append)
    leader, follower = pty.openpty()
    try:
        with os.fdopen(follower, "w", closefd=False) as terminal:
            screen = StatusScreen(terminal)
            screen.start_writer()
            os.close(leader)
            print("after the hang-up", file=screen)
            assert screen.stop_writer(within=60)  # a hang guard: it ends at the first write
            screen.show(["hydra: region"])
    finally:
        os.close(follower)
    assert not died
