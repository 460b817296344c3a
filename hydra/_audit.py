"""The audit log: one JSON line per journaled event, account ids masked, intent as correlation id.

A plain text mirror of the journal for people and log shippers; the SQLite journal stays the
record Hydra itself trusts. The journal writes a line after each commit (`hydra._journal`), so
the log holds what the journal holds: every event once, no reads, no refused duplicates. Each
line has ``recorded_at`` (ISO 8601, UTC), the journal's ``seq``, the ``event`` (the kind, or a
note's name) and the ``correlation_id`` (the intent), then the event's own fields.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import IO, Any

from ._converter import unstructure

_ACCOUNT = re.compile(r"\b(D?[UF])(\d+)(\d{2})\b")


def mask_accounts(text: str) -> str:
    """IB account ids (U1234567, DU1234567, F…, DF…) with all but the last two digits hidden."""
    return _ACCOUNT.sub(lambda m: m[1] + "*" * len(m[2]) + m[3], text)


class AuditLog:
    """An append-only JSON-lines file, flushed after every line."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file

    @classmethod
    def open(cls, path: str | Path) -> AuditLog:
        return cls(open(path, "a", encoding="utf-8"))

    def write(self, what: str, *, seq: int | None, recorded_at: dt.datetime,
              correlation_id: str | None, **details: Any) -> None:
        """One line for the journal's event ``seq`` (None: an event the journal could not
        take, a failed write); the fixed fields win over ``details``."""
        fixed = {"recorded_at": recorded_at.astimezone(dt.UTC).isoformat(), "seq": seq,
                 "event": what, "correlation_id": correlation_id}
        line = json.dumps({**unstructure(details), **fixed}, sort_keys=True)
        self._file.write(mask_accounts(line) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()
