"""The audit log: one JSON line per journaled event, account ids masked, intent as correlation id.

A plain text mirror of the journal for people and log shippers; the SQLite journal stays the
record Hydra itself trusts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import IO, Any

from ._codec import to_jsonable

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

    def write(self, what: str, *, correlation_id: str | None, **details: Any) -> None:
        line = json.dumps(
            {"event": what, "correlation_id": correlation_id, **to_jsonable(details)},
            sort_keys=True,
        )
        self._file.write(mask_accounts(line) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()
