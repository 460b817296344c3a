"""The journal read back for reports: its events as `JournalRecord` values, opened read-only.

`Journal.open` creates a missing file, locks it and sets it up for writing; a report must do
none of that, so `read_journal` opens the file with SQLite's read-only mode (``mode=ro``), takes
no lock and only selects. It may run while Hydra writes: the journal is in WAL mode, so a reader
sees the last committed event. A file that is no Hydra journal, a journal of a newer schema and
an event of a kind this Hydra does not know are each one `JournalFormatError` naming the file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from ._enums import NoteKind
from ._errors import InvalidValueError, JournalFormatError
from ._journal_schema import EventKind, connect_read_only, event_kind


@contextlib.contextmanager
def unreadable_as_format_error(path: str, problem: Callable[[str], str]) -> Iterator[None]:
    """A record that does not read (a damaged or hand-mended journal: a field lost, a price
    that is no number) as a `JournalFormatError` of ``path`` whose problem is ``problem`` of
    what went wrong ("no side" for a field lost)."""
    try:
        yield
    except (InvalidValueError, ArithmeticError, KeyError, TypeError, ValueError) as e:
        what = f"no {e.args[0]}" if isinstance(e, KeyError) else str(e) or type(e).__name__
        raise JournalFormatError(path, problem(what)) from e


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 date or time as an aware datetime; one without a zone is taken as UTC."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as e:
        raise InvalidValueError(
            "time", text, "must be an ISO 8601 date or time, like 2026-03-02 or "
            "2026-03-02T14:30:00+00:00"
        ) from e
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@attrs.frozen(kw_only=True)
class JournalRecord:
    """One event of the journal: when it was recorded, its kind, its keys and its payload."""

    seq: int
    recorded_at: dt.datetime
    kind: EventKind
    intent_id: str | None
    client_order_id: str | None
    payload: Mapping[str, Any]

    @classmethod
    def from_row(cls, row: tuple[Any, ...], *, path: str) -> JournalRecord:
        """The record of a ``seq, recorded_at, kind, intent_id, client_order_id, payload`` row
        of the journal at ``path`` (named if the row's kind is unknown)."""
        seq, recorded_at, kind, intent_id, client_order_id, payload = row
        return cls(
            seq=seq,
            recorded_at=parse_time(recorded_at),
            kind=event_kind(kind, seq=seq, path=path),
            intent_id=intent_id,
            client_order_id=client_order_id,
            payload=json.loads(payload),
        )

    def is_note(self, what: NoteKind) -> bool:
        """Whether this is a note of kind ``what`` (``reconnected``, ``kill_switch``, …)."""
        return self.kind is EventKind.NOTE and self.payload.get("what") == what


_SELECT = (
    "SELECT seq, recorded_at, kind, intent_id, client_order_id, payload FROM events"
    " WHERE seq > ? ORDER BY seq"
)


def read_journal(path: str | os.PathLike[str], *, after: int = 0) -> list[JournalRecord]:
    """Every event of the journal at ``path``, in order, without writing to it (only those
    after the event numbered ``after``, when given: a reader that follows the journal).

    A missing file, one that is not a Hydra journal, a newer journal or an unknown event kind
    is a `JournalFormatError` (an `InvalidValueError` on the field ``journal`` whose value is
    the path)."""
    name = os.fspath(path)
    db = connect_read_only(name)
    try:
        return [JournalRecord.from_row(row, path=name) for row in db.execute(_SELECT, (after,))]
    except sqlite3.Error as e:
        raise JournalFormatError(name, f"not a Hydra journal ({e})") from e
    finally:
        db.close()
