"""Standard error on a terminal, shared by log lines and a status region of a few lines
below them.

Each log line is written above the region: the region is erased first (the cursor goes up to
its first line, and everything below is cleared) and drawn again after, so a log line never
lands on one of its lines, and scrolls up above it. Each line of the region is cut to the
terminal's width, so it never wraps (a wrapped line would leave a copy behind at every
redraw), and the region never takes more than the terminal's height less one line.

While `status_screen` is open, whatever is printed to ``sys.stderr`` (a warning) and, when it
is the same terminal, to ``sys.stdout`` (a strategy hook's ``print``) goes through the screen
too, above the region. Each stream puts its own lines together, so a hook's line printed in
parts never joins a log line; a line still unfinished when the writer stops is written as a
line of its own (``print("x", end="")`` is not lost at exit).

A terminal stopped by Ctrl-S takes no output, and a write to it blocks until Ctrl-Q: so the
thread that logs or shows never writes to the terminal. A thread of the screen's own does, and
only the newest region and a bounded number of log lines wait for it (see `ScreenQueue`).
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TextIO, cast

from ._screen_queue import MAX_LINES, ScreenBatch, ScreenQueue, dropped_line

ERASE_BELOW = "\x1b[J"
"""Erase from the cursor to the end of the screen (ANSI)."""

FALLBACK_SIZE = os.terminal_size((80, 24))

MAX_PART_LINE = 4096
"""The longest unfinished line kept for its newline (a hook printing dots all day without one
has them written in lines of this length)."""

EXIT_FLUSH_SECONDS = 5.0
"""How long the end of a run waits for a stopped terminal to take what is queued."""


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
    """A text stream over ``terminal`` for log lines, with `show` for the status region.

    Writing and showing only queue (see `ScreenQueue`); the queue is painted on the terminal
    at once (a stream that cannot block: a test's), or, once `start_writer` was called, by a
    thread of its own, so that nothing the engine does waits on a terminal stopped by Ctrl-S.
    """

    def __init__(self, terminal: TextIO, *, max_lines: int = MAX_LINES) -> None:
        super().__init__()
        self._terminal = terminal
        self._queue = ScreenQueue(max_lines=max_lines)
        self._ready = threading.Condition()  # guards the queue; the writer waits on it
        self._partial: dict[TextIO, str] = {}  # each stream's line written in parts
        self._painting = threading.Lock()  # a worker thread may log while the region is drawn
        self._region: tuple[str, ...] = ()  # as drawn last (by the painter only)
        self._drawn = 0  # lines of the region on the terminal now
        self._writer: threading.Thread | None = None
        self._stopping = False

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
        return self.write_from(cast(TextIO, self), text)

    def write_from(self, stream: TextIO, text: str) -> int:
        """Queue ``text`` written to ``stream``: its lines once each is whole."""
        with self._ready:
            pending = self._partial.pop(stream, "") + text
            if "\n" in pending:
                lines, _, pending = pending.rpartition("\n")
                self._queue.put_lines(lines.split("\n"))
                self._ready.notify()
            while len(pending) > MAX_PART_LINE:  # a line that never ends is cut, not kept
                self._queue.put_lines([pending[:MAX_PART_LINE]])
                pending = pending[MAX_PART_LINE:]
                self._ready.notify()
            if pending:
                self._partial[stream] = pending
        self._paint_unless_threaded()
        return len(text)

    def stream(self) -> TextIO:
        """Another stream onto this screen (standard output's), whose lines are put together
        apart from those written to the screen itself."""
        return cast(TextIO, ScreenStream(self))

    def flush(self) -> None:
        """Nothing to wait for: what is queued goes out as soon as the terminal takes it."""

    def show(self, lines: Sequence[str]) -> None:
        """Draw ``lines`` in place of the region drawn last."""
        with self._ready:
            self._queue.put_region(lines)
            self._ready.notify()
        self._paint_unless_threaded()

    def clear(self) -> None:
        """Take the region away (before the last words of a run)."""
        self.show([])

    def start_writer(self) -> None:
        """Paint from a thread of its own from now on, writing to the terminal's descriptor
        (not through its buffer, whose lock a write blocked at exit would hold)."""
        self._terminal.flush()
        self._writer = threading.Thread(target=self._run_writer, name="hydra-screen",
                                        daemon=True)  # a stopped terminal must not hold exit
        self._writer.start()

    def stop_writer(self, *, within: float) -> bool:
        """Let the writer paint what is queued, for at most ``within`` seconds; False if the
        terminal did not take it all by then (what is left is lost with the process)."""
        assert self._writer is not None
        with self._ready:
            self._queue.put_lines(self._partial.values())  # unfinished: each a line of its own
            self._partial.clear()
            self._stopping = True
            self._ready.notify()
        self._writer.join(within)
        return not self._writer.is_alive()

    def _run_writer(self) -> None:
        descriptor = self._terminal.fileno()
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._stopping or self._queue.pending())
                if not self._queue.pending():
                    return
            try:
                self._paint(functools.partial(_write_all, descriptor, self.encoding))
            except OSError:  # the terminal is gone (EIO once hung up): it takes nothing more,
                return  # and the run goes on without it (the journal keeps every record)

    def _paint_unless_threaded(self) -> None:
        if self._writer is None:
            self._paint(self._write_terminal)

    def _write_terminal(self, text: str) -> None:
        self._terminal.write(text)
        self._terminal.flush()

    def _paint(self, write: Callable[[str], None]) -> None:
        with self._painting:
            with self._ready:
                batch = self._queue.take_nowait()
            if batch is not None:
                write(self._painted(batch))

    def _painted(self, batch: ScreenBatch) -> str:
        logged = [*batch.lines, *([dropped_line(batch.dropped)] if batch.dropped else [])]
        erase = self._erase()
        if batch.region is not None:
            self._region = batch.region
        return erase + "".join(f"{line}\n" for line in logged) + self._draw()

    def _erase(self) -> str:
        return up(self._drawn - 1) + ERASE_BELOW

    def _draw(self) -> str:
        size = self.size()
        lines = [line[:max(size.columns - 1, 0)]  # the last column would wrap on some terminals
                 for line in self._region[:max(size.lines - 1, 1)]]
        self._drawn = len(lines)
        return "\n".join(lines)


class ScreenStream(io.TextIOBase):
    """A text stream whose lines go through a `StatusScreen`, put together on their own."""

    def __init__(self, screen: StatusScreen) -> None:
        super().__init__()
        self._screen = screen

    def isatty(self) -> bool:
        return self._screen.isatty()

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._screen.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._screen.encoding

    def write(self, text: str) -> int:
        return self._screen.write_from(cast(TextIO, self), text)

    def flush(self) -> None:
        """Nothing to wait for (see `StatusScreen.flush`)."""


def _write_all(descriptor: int, encoding: str, text: str) -> None:
    data = text.encode(encoding, "backslashreplace")
    while data:
        data = data[os.write(descriptor, data):]


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
        sys.stdout = screen.stream()
    screen.start_writer()
    try:
        yield screen
    finally:
        screen.clear()
        screen.stop_writer(within=EXIT_FLUSH_SECONDS)
        sys.stdout, sys.stderr = streams


def _same_terminal(stream: TextIO, terminal: TextIO) -> bool:
    try:
        return stream.isatty() and os.path.samestat(os.fstat(stream.fileno()),
                                                    os.fstat(terminal.fileno()))
    except (OSError, ValueError, io.UnsupportedOperation):
        return False
