"""Standard error on a terminal, shared by log lines and one status line below them.

Each log line is written above the status line: the status is cleared first and drawn again
after, so a log line never lands on the end of it. The status is cut to the terminal's width,
so it never wraps (a wrapped line would leave a copy behind at every redraw).
"""

from __future__ import annotations

import io
import shutil
import threading
from typing import TextIO

CLEAR_LINE = "\r\x1b[K"
"""Back to the start of the line, and erase it (ANSI)."""


class StatusScreen(io.TextIOBase):
    """A text stream over ``terminal`` for log lines, with `show` for the status line."""

    def __init__(self, terminal: TextIO) -> None:
        super().__init__()
        self._terminal = terminal
        self._status = ""
        self._pending = ""  # a log line written in parts, until its newline
        self._lock = threading.Lock()  # a worker thread may log while the status is drawn

    def isatty(self) -> bool:
        return self._terminal.isatty()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            if "\n" in self._pending:
                lines, _, self._pending = self._pending.rpartition("\n")
                self._terminal.write(f"{CLEAR_LINE}{lines}\n{self._fitted()}")
        return len(text)

    def flush(self) -> None:
        self._terminal.flush()

    def show(self, status: str) -> None:
        """Draw ``status`` in place of the last one."""
        with self._lock:
            self._status = status
            self._terminal.write(CLEAR_LINE + self._fitted())
            self._terminal.flush()

    def clear(self) -> None:
        """Take the status line away (before the last words of a run)."""
        self.show("")

    def _fitted(self) -> str:
        width = shutil.get_terminal_size().columns
        return self._status[:max(width - 1, 0)]  # the last column would wrap on some terminals
