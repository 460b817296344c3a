"""Standard error on a terminal, shared by log lines and a status region of a few lines
below them.

Each log line is written above the region: the region is erased first (the cursor goes up to
its first line, and everything below is cleared) and drawn again after, so a log line never
lands on one of its lines, and scrolls up above it. Each line of the region is cut to the
terminal's width, so it never wraps (a wrapped line would leave a copy behind at every
redraw), and the region never takes more than the terminal's height less one line.

While `status_screen` is open, whatever is printed to ``sys.stderr`` (a warning) and, when it
is the same terminal, to ``sys.stdout`` (a strategy hook's ``print``) goes through the screen
too, above the region.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import TextIO, cast

ERASE_BELOW = "\x1b[J"
"""Erase from the cursor to the end of the screen (ANSI)."""

FALLBACK_SIZE = os.terminal_size((80, 24))


def up(lines: int) -> str:
    """Back to the start of the line, then ``lines`` lines up (ANSI)."""
    return "\r" + (f"\x1b[{lines}A" if lines > 0 else "")


def terminal_size(terminal: TextIO) -> os.terminal_size:
    """``terminal``'s columns and lines; ``COLUMNS`` and ``LINES`` take precedence, as in
    `shutil.get_terminal_size` (which asks standard output, not the status region's stream)."""
    try:
        size = os.get_terminal_size(terminal.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):  # not a terminal, or no descriptor
        size = FALLBACK_SIZE
    return os.terminal_size((_env_number("COLUMNS") or size.columns or FALLBACK_SIZE.columns,
                             _env_number("LINES") or size.lines or FALLBACK_SIZE.lines))


def _env_number(name: str) -> int:
    try:
        return max(0, int(os.environ.get(name, "")))
    except ValueError:
        return 0


class StatusScreen(io.TextIOBase):
    """A text stream over ``terminal`` for log lines, with `show` for the status region."""

    def __init__(self, terminal: TextIO) -> None:
        super().__init__()
        self._terminal = terminal
        self._region: list[str] = []
        self._drawn = 0  # lines of the region on the terminal now
        self._pending = ""  # a log line written in parts, until its newline
        self._lock = threading.Lock()  # a worker thread may log while the region is drawn

    def isatty(self) -> bool:
        return self._terminal.isatty()

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._terminal.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._terminal.encoding

    def size(self) -> os.terminal_size:
        """The terminal's size now (it may change between two redraws)."""
        return terminal_size(self._terminal)

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            if "\n" in self._pending:
                lines, _, self._pending = self._pending.rpartition("\n")
                self._terminal.write(f"{self._erase()}{lines}\n{self._draw()}")
        return len(text)

    def flush(self) -> None:
        self._terminal.flush()

    def show(self, lines: Sequence[str]) -> None:
        """Draw ``lines`` in place of the region drawn last."""
        with self._lock:
            self._region = list(lines)
            self._terminal.write(self._erase() + self._draw())
            self._terminal.flush()

    def clear(self) -> None:
        """Take the region away (before the last words of a run)."""
        self.show([])

    def _erase(self) -> str:
        return up(self._drawn - 1) + ERASE_BELOW

    def _draw(self) -> str:
        size = self.size()
        lines = [line[:max(size.columns - 1, 0)]  # the last column would wrap on some terminals
                 for line in self._region[:max(size.lines - 1, 1)]]
        self._drawn = len(lines)
        return "\n".join(lines)


@contextlib.contextmanager
def status_screen() -> Iterator[StatusScreen | None]:
    """A `StatusScreen` over standard error when it is a terminal (else None), taking
    ``sys.stderr``, and ``sys.stdout`` when it is the same terminal, until it closes; then
    the region is cleared, so the last words of a run go on a line of their own."""
    terminal = sys.stderr
    if not terminal.isatty():
        yield None
        return
    screen = StatusScreen(terminal)
    streams = (sys.stdout, sys.stderr)
    sys.stderr = cast(TextIO, screen)
    if _same_terminal(streams[0], terminal):
        sys.stdout = cast(TextIO, screen)
    try:
        yield screen
    finally:
        screen.clear()
        sys.stdout, sys.stderr = streams


def _same_terminal(stream: TextIO, terminal: TextIO) -> bool:
    try:
        return stream.isatty() and os.path.samestat(os.fstat(stream.fileno()),
                                                    os.fstat(terminal.fileno()))
    except (OSError, ValueError, io.UnsupportedOperation):
        return False
