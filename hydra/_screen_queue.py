"""What waits to be written to a terminal that may be stopped (Ctrl-S, say): log lines up to
a bound, past it only counted, and the status region's newest lines alone (a redraw replaces
the one before it, drawn or not). Pure: no I/O, no threads; `StatusScreen` locks around it.

The journal keeps every record, so a log line dropped here is lost only to the terminal; the
count of them is said once the terminal takes output again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

MAX_LINES = 1000
"""Log lines kept for a stopped terminal (a few hundred kilobytes at most)."""


def dropped_line(count: int) -> str:
    """The line written in place of ``count`` log lines dropped past the bound."""
    return f"hydra: {count} log lines dropped while the terminal was stopped"


@attrs.frozen(kw_only=True)
class ScreenBatch:
    """What to write next: ``lines`` (oldest first), then `dropped_line` when ``dropped``,
    then the region: ``region`` when it was shown again since, else the one drawn last."""

    lines: tuple[str, ...]
    dropped: int
    region: tuple[str, ...] | None


class ScreenQueue:
    """Log lines (at most ``max_lines``, the later ones counted) and the newest region."""

    def __init__(self, *, max_lines: int = MAX_LINES) -> None:
        self._max_lines = max_lines
        self._lines: list[str] = []
        self._dropped = 0
        self._region: tuple[str, ...] | None = None

    def put_lines(self, lines: Iterable[str]) -> None:
        for line in lines:
            if len(self._lines) < self._max_lines:
                self._lines.append(line)
            else:
                self._dropped += 1

    def put_region(self, lines: Sequence[str]) -> None:
        self._region = tuple(lines)

    def pending(self) -> bool:
        return bool(self._lines or self._dropped or self._region is not None)

    def take_nowait(self) -> ScreenBatch | None:
        """Everything waiting, as one batch, and the queue empty again; None when nothing."""
        if not self.pending():
            return None
        batch = ScreenBatch(lines=tuple(self._lines), dropped=self._dropped, region=self._region)
        self._lines, self._dropped, self._region = [], 0, None
        return batch
