"""The journal's file format: its tables, its schema version, and what a journal file must be.

``PRAGMA user_version`` carries `SCHEMA_VERSION`. Version 0 is the unversioned format of Hydra
before the version was stamped (the same ``events`` table); version 1 had no ``journal_meta``
table (so no journal id), version 2 no index by intent: a writer migrates each in place,
giving the journal its id and the index. A
file of a newer version, or one without Hydra's ``events`` table, is refused with one line
naming the file, by writers and readers alike; so is an event of a kind this Hydra does not know.
"""

from __future__ import annotations

import enum
import os
import sqlite3
from pathlib import Path

from ._enums import NoteKind as NoteKind  # re-exported: the journal's note kinds, kept in

# _enums because the pure core names them too
from ._errors import JournalFormatError

SCHEMA_VERSION = 3
"""The journal format this Hydra writes (``PRAGMA user_version``); 0 is the unversioned one,
2 added the ``journal_meta`` table (the journal's own id), 3 the index of events by intent (a
restart's per-intent reads were a scan of every event each)."""

MIGRATES_FROM = frozenset({0, 1, 2})
"""Older versions a writer upgrades in place (with a ``schema_migrated`` note)."""


class EventKind(enum.Enum):
    INTENT = "intent"
    ORDER = "order"  # written before the order reaches the broker
    ACK = "ack"
    STATUS = "status"
    FILL = "fill"
    BLOCKED = "blocked"  # refused by the risk actor
    NOTE = "note"  # engine events: halt, kill, reconciliation differences


EVENT_COLUMNS = frozenset(
    {"seq", "recorded_at", "kind", "intent_id", "client_order_id", "execution_id", "payload"}
)

# One statement each, so a creation or a migration runs inside one transaction (sqlite3's
# executescript would commit first). IF NOT EXISTS makes them the migration from version 0 too.
STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        recorded_at TEXT NOT NULL,
        kind TEXT NOT NULL,
        intent_id TEXT,
        client_order_id TEXT,
        execution_id TEXT,
        payload TEXT NOT NULL
    )""",
    """CREATE UNIQUE INDEX IF NOT EXISTS one_fill_per_execution
        ON events(execution_id) WHERE kind = 'fill'""",
    "CREATE INDEX IF NOT EXISTS events_by_order ON events(client_order_id, kind)",
    "CREATE INDEX IF NOT EXISTS events_by_intent ON events(intent_id, kind)",
    """CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'journal events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'journal events are append-only'); END""",
    """CREATE VIEW IF NOT EXISTS fills AS
        SELECT seq, recorded_at, intent_id, client_order_id, execution_id,
               json_extract(payload, '$.fill.price') AS price,
               json_extract(payload, '$.fill.quantity') AS quantity,
               json_extract(payload, '$.fill.side') AS side,
               json_extract(payload, '$.fill.time') AS time,
               json_extract(payload, '$.predicted_bps') AS predicted_bps,
               json_extract(payload, '$.actual_bps') AS actual_bps
        FROM events WHERE kind = 'fill'""",
    # The journal's identity (its ``journal_id``), written once with the journal: not an event.
    """CREATE TABLE IF NOT EXISTS journal_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TRIGGER IF NOT EXISTS journal_meta_no_update BEFORE UPDATE ON journal_meta
        BEGIN SELECT RAISE(ABORT, 'the journal id is written once'); END""",
    """CREATE TRIGGER IF NOT EXISTS journal_meta_no_delete BEFORE DELETE ON journal_meta
        BEGIN SELECT RAISE(ABORT, 'the journal id is written once'); END""",
    """CREATE VIEW IF NOT EXISTS orders AS
        SELECT o.client_order_id, o.intent_id,
               json_extract(o.payload, '$.request.order_type') AS order_type,
               json_extract(o.payload, '$.request.limit_price') AS limit_price,
               json_extract(o.payload, '$.request.quantity') AS quantity,
               json_extract(o.payload, '$.dry') AS dry,
               (SELECT json_extract(s.payload, '$.status') FROM events s
                 WHERE s.kind = 'status' AND s.client_order_id = o.client_order_id
                 ORDER BY s.seq DESC LIMIT 1) AS status
        FROM events o WHERE o.kind = 'order'""",
)


def is_new(path: str | os.PathLike[str]) -> bool:
    """True when there is nothing at ``path`` to lose: no file, or an empty one."""
    try:
        return Path(path).stat().st_size == 0
    except FileNotFoundError:
        return True


def found_version(db: sqlite3.Connection, path: str | os.PathLike[str]) -> int:
    """The schema version of the Hydra journal open as ``db``, read without writing; a
    `JournalFormatError` naming ``path`` when it is no Hydra journal, or a newer one."""
    name = os.fspath(path)
    try:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        columns = {row[1] for row in db.execute("PRAGMA table_info(events)")}
    except sqlite3.DatabaseError as e:
        raise JournalFormatError(name, f"not a Hydra journal ({e})") from e
    if not columns >= EVENT_COLUMNS:
        raise JournalFormatError(name, "not a Hydra journal (it has no Hydra events table)")
    if version > SCHEMA_VERSION:
        raise JournalFormatError(
            name, f"journal schema {version} is newer than this Hydra's {SCHEMA_VERSION}: "
            "upgrade Hydra")
    if version != SCHEMA_VERSION and version not in MIGRATES_FROM:
        raise JournalFormatError(name, f"journal schema {version} is unknown to this Hydra")
    return int(version)


def stored_journal_id(db: sqlite3.Connection) -> str | None:
    """The journal id stored in the journal open as ``db``; None for a journal older than
    version 2 (not migrated yet), which has none."""
    try:
        row = db.execute("SELECT value FROM journal_meta WHERE key = 'journal_id'").fetchone()
    except sqlite3.OperationalError:  # no journal_meta table: version 0 or 1
        return None
    return None if row is None else str(row[0])


def event_kind(text: str, *, seq: int, path: str | os.PathLike[str]) -> EventKind:
    """The `EventKind` named ``text``, or a `JournalFormatError` naming the kind."""
    try:
        return EventKind(text)
    except ValueError:
        raise JournalFormatError(
            os.fspath(path), f"event {seq} has a kind this Hydra does not know: {text!r} "
            "(written by a newer Hydra?)") from None


def connect_read_only(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A read-only connection (SQLite ``mode=ro``) to the Hydra journal at ``path``: it takes
    no lock, creates nothing and never writes, so it works while a Hydra writes the file."""
    name = os.fspath(path)
    if not Path(name).is_file():
        raise JournalFormatError(name, "no such file")
    uri = Path(name).resolve().as_uri() + "?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True, check_same_thread=False)
    except sqlite3.Error as e:
        raise JournalFormatError(name, f"cannot be opened ({e})") from e
    try:
        found_version(db, name)
    except BaseException:
        db.close()
        raise
    return db
