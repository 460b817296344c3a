"""When the runner reads the inbox: at polls `INBOX_POLL_SECONDS` apart, each counted from the
end of the read before it.

``hydra run`` cannot be told when someone writes the inbox (the standard library cannot watch a
file), so it sleeps to every poll (`EveryPoll`), and most polls find the file as it was. A
rehearsal's inbox has one writer, its own trader, which says when it has written
(`WrittenPolls.written`): the reader then sleeps until a write is told of, and then to the first
poll at or after it, the poll that would have read it, skipping the polls that would have found
nothing. The reads come at the instants they came at before, so the journal is the same, and the
virtual clock no longer stops every second of a session for the inbox (it can jump from one
write to the next).
"""

from __future__ import annotations

import math
from typing import Protocol

import trio

INBOX_POLL_SECONDS = 1.0
"""How often the inbox file is checked for new lines (the standard library cannot watch it)."""


class InboxPolls(Protocol):
    """Where the inbox's reader waits between reads."""

    async def wait_next(self) -> None:
        """Return at the next poll that may find a new line."""


class EveryPoll:
    """Every poll, `INBOX_POLL_SECONDS` after the last read ended: anyone may write the file."""

    async def wait_next(self) -> None:
        await trio.sleep(INBOX_POLL_SECONDS)


EVERY_POLL = EveryPoll()  # holds no state: one serves every reader


class WrittenPolls:
    """The polls after a write, for an inbox whose every writer calls `written` after each
    write (in the task step of the write). One reader waits on it at a time."""

    def __init__(self) -> None:
        self._written = trio.Event()
        self._first = math.inf  # when the oldest write not yet read was told of

    def written(self) -> None:
        """Tell the reader a line was written now."""
        self._first = min(self._first, trio.current_time())
        self._written.set()

    async def wait_next(self) -> None:
        """Sleep until a write is told of, then to the poll `EveryPoll` would have read it
        at: the first at or after the write of the ``last + n × INBOX_POLL_SECONDS`` (``last``:
        now, the end of the last read), each added up as its sleeps would add them, so the
        instant is the same float. The read follows in this task step, so it sees every write
        told of before the return, and a write after it waits for the next call."""
        last = trio.current_time()
        await self._written.wait()
        poll = last + INBOX_POLL_SECONDS
        while poll < self._first:
            poll += INBOX_POLL_SECONDS
        await trio.sleep_until(poll)
        self._written, self._first = trio.Event(), math.inf
