"""The journal read back for reports: its events as `JournalRecord` values, opened read-only.

`Journal.open` creates a missing file and sets it up for writing; a report must do neither, so
`read_journal` opens the file with SQLite's read-only mode and only selects. It may run while
Hydra writes: the journal is in WAL mode, so a reader sees the last committed event.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ._errors import InvalidValueError
from ._journal import EventKind


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
    def from_row(cls, row: tuple[Any, ...]) -> JournalRecord:
        """The record of a ``seq, recorded_at, kind, intent_id, client_order_id, payload`` row."""
        seq, recorded_at, kind, intent_id, client_order_id, payload = row
        return cls(
            seq=seq,
            recorded_at=parse_time(recorded_at),
            kind=EventKind(kind),
            intent_id=intent_id,
            client_order_id=client_order_id,
            payload=json.loads(payload),
        )

    def is_note(self, what: str) -> bool:
        """Whether this is a note of kind ``what`` (``reconnected``, ``kill_switch``, …)."""
        return self.kind is EventKind.NOTE and self.payload.get("what") == what


_SELECT = (
    "SELECT seq, recorded_at, kind, intent_id, client_order_id, payload FROM events ORDER BY seq"
)


def read_journal(path: str | os.PathLike[str]) -> list[JournalRecord]:
    """Every event of the journal at ``path``, in order, without writing to it.

    A missing file, or one that is not a Hydra journal, is an `InvalidValueError` on the field
    ``journal`` whose value is the path."""
    name = os.fspath(path)
    if not Path(name).is_file():
        raise InvalidValueError("journal", name, "no such file")
    uri = Path(name).resolve().as_uri() + "?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as e:
        raise InvalidValueError("journal", name, f"cannot be opened ({e})") from e
    try:
        return [JournalRecord.from_row(row) for row in db.execute(_SELECT)]
    except sqlite3.Error as e:
        raise InvalidValueError("journal", name, f"is not a Hydra journal ({e})") from e
    finally:
        db.close()
