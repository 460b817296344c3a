"""The journal: a durable, append-only SQLite record of every intent, order, status and fill.

Synchronous and single-threaded on purpose: the journal actor owns one `Journal` and calls it
through `trio.to_thread`. Every `record_*` call is its own committed transaction (WAL,
``synchronous=FULL``), so a crash leaves a clean prefix of the history. A rehearsal's journal
may be opened with ``durable=False`` (``synchronous=NORMAL``): a commit is still in the WAL when
the process is killed, but one the machine had not yet written to its disk is lost with power.
A fill is recorded at most once per execution id, enforced by a unique index, not by the
caller.

One process writes a journal at a time: `Journal.open` holds an OS lock on ``<journal>.lock``
until `Journal.close` (see `hydra._journal_lock`); `Journal.open_read_only` takes no lock and
never writes. The WAL is checkpointed into the database file at open, at close and every
`CHECKPOINT_EVERY` commits, so a lost or damaged ``-wal`` file costs at most the events since
the last checkpoint. With an `AuditLog`, each committed event is mirrored to it once.

A write that fails (disk full, an I/O error) commits nothing and raises `JournalWriteError`;
the failure goes to the audit log at once, and into the journal as a ``journal_write_failed``
note with the first write that succeeds after it (`close` tries once more).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import sqlite3
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import outcome
import structlog

from ._audit import AuditLog
from ._codec import fill_from_json, part_from_json, request_from_json
from ._converter import from_json, unstructure
from ._core._risk_state import Booked, Charge
from ._enums import OrderStatus
from ._errors import JournalWriteError
from ._ids import (
    BrokerOrderId,
    ClientOrderId,
    ExecutionId,
    IntentId,
    JournalId,
    intent_id_of,
    new_journal_id,
    sequence_of,
)
from ._journal_live import MAX_ASKED, MAY_BE_WORKING, LiveOrderTracker, last_event
from ._journal_lock import JournalLock
from ._journal_marker import check_same_journal, remember
from ._journal_records import unreadable_as_format_error
from ._journal_schema import (
    SCHEMA_VERSION,
    STATEMENTS,
    EventKind,
    NoteKind,
    connect_read_only,
    event_kind,
    found_version,
    is_new,
    stored_journal_id,
)
from ._orders import Fill, OrderIntent, OrderRequest, TwapPart

__all__ = ["CHECKPOINT_EVERY", "EventKind", "IntentRecord", "Journal", "JournaledOrder", "NoteKind",
           "utc_now"]

log = structlog.get_logger()

CHECKPOINT_EVERY = 200
"""Commits between two checkpoints of the WAL into the database file: the most events a lost
``-wal`` file can take with it."""

CHECKPOINT_WAIT = 1.0
"""Seconds a checkpoint waits for a reader (a report) to leave an older snapshot; the writer
is the only one, so this is the only wait the connection has. A checkpoint that gives up
copies what it can and the next one catches up."""

@attrs.frozen(kw_only=True)
class JournaledOrder:
    """An order as the journal knows it: what was sent and where it last stood."""

    request: OrderRequest
    dry: bool
    broker_order_id: BrokerOrderId | None
    status: OrderStatus
    filled: int
    part: TwapPart | None = None  # of its TWAP's schedule (None: no TWAP, or journaled before)


@attrs.frozen(kw_only=True)
class IntentRecord:
    """An intent as it was journaled when submitted."""

    intent: OrderIntent
    arrival_mid: Decimal | None
    predicted_bps: Decimal | None
    submitted_at: dt.datetime


_WITNESS_NOTES = (NoteKind.UNKNOWN_ORDER, NoteKind.UNKNOWN_EXECUTION,
                  NoteKind.UNKNOWN_COMPLETED_ORDER)
"""The notes the witness writes for what the broker showed that the journal did not know."""


def _may_be_working(status: OrderStatus) -> bool:
    return not status.is_final or status is OrderStatus.LEFT_WORKING


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_Inserted = tuple[int, dt.datetime, EventKind, dict[str, Any], dict[str, str | None]]
"""An appended event: seq, when, kind, its JSON payload and its keys (for the audit mirror)."""


class Journal:
    """One SQLite journal file. Not thread-safe: one owner (the journal actor) at a time."""

    def __init__(self, connection: sqlite3.Connection, clock: Callable[[], dt.datetime], *,
                 path: str, lock: JournalLock | None = None, audit: AuditLog | None = None
                 ) -> None:
        self._db = connection
        self._clock = clock
        self._path = path
        self._audit = audit
        self._lock = lock
        self._commits = 0
        self._pending: list[_Inserted] | None = None  # inside `apply_together`: not committed
        self._fills: list[Fill] = []  # decoded by `fills`, up to the event `_fills_to`
        self._fills_to = 0
        self._live = LiveOrderTracker()  # `live_orders`: followed from the events since
        self._witnessed: list[ClientOrderId] | None = None  # `_witnessed_orders`, read once
        # The first write failure not yet journaled, and when: noted with the next commit.
        self._failure: tuple[JournalWriteError, dt.datetime] | None = None
        # A journal dropped without close() still releases its lock (and closes its files).
        self._release = weakref.finalize(self, _release, connection, lock, audit)

    @classmethod
    def open(cls, path: str | Path, *, clock: Callable[[], dt.datetime] = utc_now,
             audit_path: str | Path | None = None, new_journal: bool = False,
             durable: bool = True) -> Journal:
        """Open the journal at ``path`` for writing, creating it if there is none, durable on
        every commit (with ``durable=False``, a rehearsal's: every commit survives a killed
        process, not a lost machine), and locked to this `Journal` until `close`.

        A journal another process (or `Journal`) writes is a `JournalLockedError` naming it; a
        file that is not a Hydra journal, or of a newer schema, a `JournalFormatError`. An older
        journal is migrated in place, with a ``schema_migrated`` note. With ``audit_path``,
        every event written from now on is mirrored to that JSON-lines file.

        The journal's id is remembered beside it (``<journal>.id``): a journal that is later
        missing, empty or another one is a `JournalReplacedError`, unless ``new_journal``."""
        name = os.fspath(path)
        lock = JournalLock.acquire(name)
        try:
            if is_new(name):
                check_same_journal(name, None, new_journal=new_journal)
            db, version = _open_for_writing(name, durable=durable)
        except BaseException:
            lock.release()
            raise
        audit = None if audit_path is None else AuditLog.open(audit_path)
        journal = cls(db, clock, path=name, lock=lock, audit=audit)
        try:
            check_same_journal(name, journal.journal_id, new_journal=new_journal)
            if version < SCHEMA_VERSION:
                journal._migrate(version)
            journal.checkpoint(truncate=True)  # the journal id too is in the database file
            assert journal.journal_id is not None
            remember(name, journal.journal_id)
        except BaseException:
            journal.close()
            raise
        return journal

    @classmethod
    def open_read_only(cls, path: str | Path) -> Journal:
        """The existing journal at ``path``, for queries only: no lock, no checkpoint, no
        write (SQLite ``mode=ro``), so it can be read while a Hydra writes it."""
        name = os.fspath(path)
        return cls(connect_read_only(name), utc_now, path=name)

    def close(self) -> None:
        """Journal a write failure not yet journaled (one last try), checkpoint the WAL into
        the database file, close it and release the lock. A checkpoint the disk refuses
        leaves the events in the WAL, where the next open finds them."""
        try:
            if self._lock is not None and self._lock.held:
                if self._failure is not None:
                    self.apply_together([])  # the failure note alone; it stays pending if refused
                self._checkpoint_if_possible(truncate=True)
        finally:
            self._release()

    @property
    def journal_id(self) -> JournalId | None:
        """This journal's own id (stamped into every client order id); None only for a journal
        older than schema version 2 opened read-only."""
        found = stored_journal_id(self._db)
        return None if found is None else JournalId(found)

    @property
    def write_failure(self) -> JournalWriteError | None:
        """The write failure the journal does not hold yet (it went to the audit log)."""
        return None if self._failure is None else self._failure[0]

    def _checkpoint_if_possible(self, *, truncate: bool = False) -> None:
        try:
            self.checkpoint(truncate=truncate)
        except sqlite3.OperationalError as e:  # disk full: the WAL keeps the events
            log.warning("journal_checkpoint_failed", path=self._path, error=str(e))

    def checkpoint(self, *, truncate: bool = False) -> bool:
        """Copy the WAL into the database file (and with ``truncate``, empty the WAL); False
        when a reader kept part of it back until the next checkpoint."""
        mode = "TRUNCATE" if truncate else "FULL"
        (busy, _, _) = self._db.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        return not busy

    def _migrate(self, version: int) -> None:
        """Bring a journal of schema ``version`` to `SCHEMA_VERSION`, noted, in one transaction."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for statement in STATEMENTS:
                self._db.execute(statement)
            _stamp_id(self._db)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            seq = self._insert(EventKind.NOTE, {"what": NoteKind.SCHEMA_MIGRATED,
                                                "from_version": version,
                                                "to_version": SCHEMA_VERSION}, {})
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._committed(seq)

    def _insert(self, kind: EventKind, payload: dict[str, Any], keys: dict[str, str | None]
                ) -> _Inserted:
        at = self._clock()
        data = unstructure(payload)
        cursor = self._db.execute(
            "INSERT INTO events (recorded_at, kind, intent_id, client_order_id, execution_id,"
            " payload) VALUES (?, ?, ?, ?, ?, ?)",
            (at.isoformat(), kind.value, keys.get("intent_id"), keys.get("client_order_id"),
             keys.get("execution_id"), json.dumps(data, sort_keys=True)),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid, at, kind, data, keys

    def _append(self, kind: EventKind, payload: dict[str, Any], **keys: str | None) -> int:
        if self._pending is None:  # a transaction of its own
            (result,) = self.apply_together([lambda j: j._append(kind, payload, **keys)])
            return int(result.unwrap())
        inserted = self._insert(kind, payload, keys)  # committed with the rest of the group
        self._pending.append(inserted)
        return inserted[0]

    def apply_together(self, calls: Sequence[Callable[[Journal], Any]]
                       ) -> list[outcome.Outcome[Any]]:
        """Run ``calls`` in order as one transaction (one fsync for all: a group commit) and
        the outcome of each. A call that raises is rolled back alone (a savepoint each);
        when the write itself fails (disk full), nothing is committed and every call's outcome
        is one `JournalWriteError`. A failure not yet journaled is noted first. Called from
        within a call of a group (the journal actor's), ``calls`` join that group, each in a
        savepoint of its own, and commit with it."""
        if self._pending is not None:
            return [self._in_savepoint(call) for call in calls]
        results: list[outcome.Outcome[Any]] = []
        self._pending = []
        try:
            self._db.execute("BEGIN IMMEDIATE")
            if self._failure is not None:
                self._pending.append(self._insert(EventKind.NOTE, self._failure_note(), {}))
            for call in calls:
                results.append(self._in_savepoint(call))
            self._db.execute("COMMIT")
        except sqlite3.Error as e:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._witnessed = None  # it may have been read with notes now rolled back
            failure = self._failed(e)
            return [outcome.Error(failure) for _ in calls]
        finally:
            committed, self._pending = self._pending, None
        self._failure = None
        try:
            for inserted in committed:
                self._committed(inserted)
        except OSError as e:  # the audit log's disk: committed, but the mirror is short
            failure = self._failed(e, where="audit log ")
            return [outcome.Error(failure) for _ in calls]
        return results

    def _failed(self, error: sqlite3.Error | OSError, *, where: str = "") -> JournalWriteError:
        """The `JournalWriteError` for ``error``; the first one is kept to be journaled later,
        and goes to the audit log and the log at once."""
        failure = JournalWriteError(where + _problem(error), path=self._path)
        failure.__cause__ = error
        if self._failure is not None:
            return failure
        self._failure = (failure, self._clock())
        log.error("journal_write_failed", path=self._path, error=failure.problem)
        if self._audit is not None:
            with contextlib.suppress(OSError):  # on the full disk too: the log line has it
                self._audit.write(NoteKind.JOURNAL_WRITE_FAILED, seq=None,
                                  recorded_at=self._failure[1], correlation_id=None,
                                  **self._failure_note(journaled=False))
        return failure

    def _failure_note(self, *, journaled: bool = True) -> dict[str, Any]:
        assert self._failure is not None
        failure, at = self._failure
        note: dict[str, Any] = {"what": NoteKind.JOURNAL_WRITE_FAILED, "error": failure.problem,
                                "failed_at": at.isoformat()}
        return note if journaled else {k: v for k, v in note.items() if k != "what"}

    def _in_savepoint(self, call: Callable[[Journal], Any]) -> outcome.Outcome[Any]:
        assert self._pending is not None
        mark = len(self._pending)
        self._db.execute("SAVEPOINT call")
        result: outcome.Outcome[Any] = outcome.capture(call, self)
        if isinstance(result, outcome.Error) and _is_write_failure(result.error):
            raise result.error  # the whole group fails: SQLite may have rolled it back already
        if isinstance(result, outcome.Error):
            self._db.execute("ROLLBACK TO call")
            del self._pending[mark:]
        self._db.execute("RELEASE call")
        return result

    def _committed(self, inserted: _Inserted) -> None:
        """After a commit: mirror the event to the audit log, checkpoint every so often."""
        seq, at, kind, data, keys = inserted
        if self._audit is not None:
            details = dict(data)
            what = str(details.pop("what")) if kind is EventKind.NOTE else kind.value
            self._audit.write(what, seq=seq, recorded_at=at,
                              correlation_id=self._correlation(keys, details), **details)
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0:
            self._checkpoint_if_possible()

    def _correlation(self, keys: dict[str, str | None], details: dict[str, Any]) -> str | None:
        """The intent an event belongs to: its own key, or its order's intent."""
        intent = keys.get("intent_id") or keys.get("correlation_id") or details.get("intent_id")
        if isinstance(intent, str):
            return intent
        order = keys.get("client_order_id") or details.get("client_order_id")
        return self._intent_of(ClientOrderId(order)) if isinstance(order, str) else None

    def record_intent(
        self, intent: OrderIntent, *, arrival_mid: Decimal | None, predicted_bps: Decimal | None
    ) -> None:
        payload = {"intent": intent, "arrival_mid": arrival_mid, "predicted_bps": predicted_bps}
        self._append(EventKind.INTENT, payload, intent_id=intent.intent_id)

    def record_order(self, request: OrderRequest, *, dry: bool = False,
                     part: TwapPart | None = None) -> None:
        """Write-ahead: call this, and let it return, before the broker sees ``request``
        (with the ``part`` of its TWAP's schedule it works, when it works one)."""
        parts = {} if part is None else {"part": part}
        self._append(
            EventKind.ORDER,
            {"request": request, "dry": dry, **parts},
            intent_id=request.intent_id,
            client_order_id=request.client_order_id,
        )

    def record_ack(self, client_order_id: ClientOrderId, broker_order_id: BrokerOrderId, *,
                   intent_id: str | None = None) -> None:
        """``intent_id`` is only the audit log's correlation id (looked up when not given)."""
        payload = {"broker_order_id": broker_order_id}
        self._append(EventKind.ACK, payload, client_order_id=client_order_id,
                     correlation_id=intent_id)

    def record_status(
        self, client_order_id: ClientOrderId, status: OrderStatus, *, reason: str | None = None,
        intent_id: str | None = None,
    ) -> None:
        """``intent_id`` is only the audit log's correlation id (looked up when not given)."""
        payload = {"status": status, "reason": reason}
        self._append(EventKind.STATUS, payload, client_order_id=client_order_id,
                     correlation_id=intent_id)

    def record_fill(
        self,
        fill: Fill,
        *,
        intent_id: IntentId | None,
        predicted_bps: Decimal | None,
        actual_bps: Decimal | None,
        fill_prediction: Mapping[str, Any] | None = None,
    ) -> bool:
        """Record ``fill`` once; returns False (and records nothing) for a repeated execution.

        ``predicted_bps`` is its order's (the intent's pre-trade estimate); ``fill_prediction``,
        kept only when given, the fill's own (`FillPrediction.to_json`). Without
        ``intent_id``, the intent of the journaled order the fill belongs to is used."""
        intent_id = intent_id or self._intent_of(fill.client_order_id)
        if intent_id is None and self._has_note(NoteKind.UNKNOWN_EXECUTION, "execution_id",
                                                fill.execution_id):
            return False  # adopted as a stranger's at a start: journaled already
        payload: dict[str, Any] = {"fill": fill, "predicted_bps": predicted_bps,
                                   "actual_bps": actual_bps}
        if fill_prediction is not None:
            payload["fill_prediction"] = dict(fill_prediction)
        try:
            self._append(
                EventKind.FILL,
                payload,
                intent_id=intent_id,
                client_order_id=fill.client_order_id,
                execution_id=fill.execution_id,
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def record_blocked(self, request: OrderRequest, *, denials: list[str]) -> None:
        payload = {"request": request, "denials": denials}
        keys = {"intent_id": request.intent_id, "client_order_id": request.client_order_id}
        self._append(EventKind.BLOCKED, payload, **keys)

    def record_note(self, what: NoteKind, **details: Any) -> None:
        """A note ``what`` with its details; an ``intent_id`` or ``client_order_id`` among
        them also keys the event, so lookups by intent or order find it by index."""
        keys = {key: value for key in ("intent_id", "client_order_id")
                if isinstance(value := details.get(key), str)}
        if what in _WITNESS_NOTES:
            self._witnessed = None  # read again when next asked
        self._append(EventKind.NOTE, {"what": what, **details}, **keys)

    def events(self) -> Iterator[tuple[int, EventKind, dict[str, Any]]]:
        """Every event in order: (sequence number, kind, payload); an event of a kind this
        Hydra does not know is a `JournalFormatError` naming it."""
        for seq, kind, payload in self._db.execute(
            "SELECT seq, kind, payload FROM events ORDER BY seq"
        ):
            yield seq, event_kind(kind, seq=seq, path=self._path), json.loads(payload)

    def fills(self) -> list[Fill]:
        """Every journaled fill, in order. Events are append-only, so the fills decoded once
        are kept and only newer ones are read (a restart asks once per adopted order)."""
        rows = self._db.execute("SELECT seq, payload FROM events WHERE kind = 'fill' AND seq > ?"
                                " ORDER BY seq", (self._fills_to,))
        for seq, payload in rows:
            self._fills.append(fill_from_json(json.loads(payload)["fill"]))
            self._fills_to = seq
        return list(self._fills)

    def fill_of(self, execution_id: ExecutionId) -> Fill | None:
        """The fill journaled for ``execution_id``, if any (to compare a repeated report with)."""
        row = self._db.execute("SELECT payload FROM events WHERE kind = 'fill'"
                               " AND execution_id = ?", (execution_id,)).fetchone()
        return None if row is None else fill_from_json(json.loads(row[0])["fill"])

    def known_order_ids(self) -> frozenset[ClientOrderId]:
        """Every client order id the journal knows: its orders (sent or dry), the broker's
        orders it was told to adopt as strangers (``unknown_order`` notes) and the ones it
        learnt had ended at the broker (``unknown_completed_order`` notes)."""
        rows = self._db.execute(
            "SELECT client_order_id FROM events WHERE kind = 'order' UNION"
            " SELECT json_extract(payload, '$.client_order_id') FROM events WHERE kind = 'note'"
            " AND json_extract(payload, '$.what') IN (?, ?)",
            (NoteKind.UNKNOWN_ORDER.value, NoteKind.UNKNOWN_COMPLETED_ORDER.value))
        return frozenset(ClientOrderId(coid) for (coid,) in rows if coid is not None)

    def known_execution_ids(self) -> frozenset[ExecutionId]:
        """Every execution id the journal knows: its fills and the executions it was told to
        adopt as strangers (``unknown_execution`` notes)."""
        rows = self._db.execute(
            "SELECT execution_id FROM events WHERE kind = 'fill' UNION"
            " SELECT json_extract(payload, '$.execution_id') FROM events WHERE kind = 'note'"
            " AND json_extract(payload, '$.what') = ?", (NoteKind.UNKNOWN_EXECUTION.value,))
        return frozenset(ExecutionId(x) for (x,) in rows if x is not None)

    def last_fill_time(self) -> dt.datetime | None:
        """When the newest journaled execution happened (the resync starting point)."""
        (time,) = self._db.execute("SELECT max(time) FROM fills").fetchone()
        return None if time is None else dt.datetime.fromisoformat(time)

    def orders(self) -> list[JournaledOrder]:
        """Every journaled order, in the order they were written."""
        return [self._order(*row) for row in self._db.execute(_ORDERS)]

    def live_orders(self) -> list[JournaledOrder]:
        """Orders that were sent (not dry) and may still be at the broker: no final status
        yet, or left working on purpose when Hydra last stopped. The first call asks the
        database of every order (each one's newest status by index); later calls read only
        the events appended since, and ask of the intents whose orders may be working
        (`LiveOrderTracker`; a refresh on a four-week journal: 0.3 ms, not 150)."""
        live = f"SELECT * FROM ({_ORDERS}) WHERE dry = 0 AND coalesce(status, ?) IN (?, ?, ?)"
        statuses = (OrderStatus.PENDING.value, *MAY_BE_WORKING)
        if not self._live.started:
            to = last_event(self._db)
            orders = [self._order(*row) for row in self._db.execute(live, statuses)]
            self._live.start(to=to, live=((o.request.client_order_id, o.request.intent_id)
                                          for o in orders))
            return orders
        intents = self._live.intents(self._db)
        if not intents:
            return []
        if len(intents) > MAX_ASKED:  # more than SQLite takes at once: ask of every order
            return [self._order(*row) for row in self._db.execute(live, statuses)]
        marks = ", ".join("?" * len(intents))
        return [self._order(*row) for row in self._db.execute(
            f"{live} AND intent_id IN ({marks})", (*statuses, *intents))]

    def unfinished_intents(self) -> list[tuple[IntentId, int, int]]:
        """(intent id, quantity, filled) of each intent with neither an ``intent_finished``
        nor an ``intent_interrupted`` note: a run stopped while working it."""
        found = self._db.execute(
            "SELECT intent_id, json_extract(payload, '$.intent.quantity') FROM events"
            " WHERE kind = 'intent' AND intent_id NOT IN ("
            "  SELECT json_extract(payload, '$.intent_id') FROM events WHERE kind = 'note'"
            "  AND json_extract(payload, '$.what') IN (?, ?)"
            "  AND json_extract(payload, '$.intent_id') IS NOT NULL)"
            " ORDER BY seq",
            (NoteKind.INTENT_FINISHED.value, NoteKind.INTENT_INTERRUPTED.value),
        ).fetchall()
        filled = dict(self._db.execute(
            "SELECT intent_id, sum(quantity) FROM fills WHERE intent_id IN"
            f" ({', '.join('?' * len(found))}) GROUP BY intent_id",
            [intent_id for intent_id, _ in found],
        ).fetchall()) if found else {}
        return [(IntentId(i), quantity, filled.get(i, 0)) for i, quantity in found]

    def has_intent(self, intent_id: IntentId) -> bool:
        """True when ``intent_id`` was journaled before (by this run or an earlier one), or the
        broker showed one of its orders at a start (a witness's note: the journal had lost it),
        so it is never submitted again, on a later day either."""
        row = self._db.execute(
            "SELECT 1 FROM events WHERE kind = 'intent' AND intent_id = ? LIMIT 1", (intent_id,)
        ).fetchone()
        return row is not None or intent_id in self.intents_behind()

    def arrival_mid(self, intent_id: IntentId) -> Decimal | None:
        """The arrival mid journaled with ``intent_id``, if any."""
        row = self._db.execute(
            "SELECT json_extract(payload, '$.arrival_mid') FROM events"
            " WHERE kind = 'intent' AND intent_id = ? ORDER BY seq LIMIT 1",
            (intent_id,),
        ).fetchone()
        return None if row is None or row[0] is None else Decimal(row[0])

    def now(self) -> dt.datetime:
        """The journal's clock: the time its next record would be stamped with."""
        return self._clock()

    def intent_record(self, intent_id: IntentId) -> IntentRecord | None:
        """``intent_id`` as journaled at submission, with when it was submitted."""
        row = self._db.execute(
            "SELECT recorded_at, payload FROM events WHERE kind = 'intent' AND intent_id = ?"
            " ORDER BY seq LIMIT 1", (intent_id,),
        ).fetchone()
        if row is None:
            return None
        recorded_at, payload = row
        data = json.loads(payload)
        # The id the journal files it by: a payload without one is not given a fresh random
        # one (`OrderIntent`'s default), which a restart would resume as nobody's intent.
        intent = {**data["intent"], "intent_id": intent_id}
        return from_json({**data, "intent": intent, "submitted_at": recorded_at}, IntentRecord)

    def intent_orders(self, intent_id: IntentId) -> list[tuple[JournaledOrder, dt.datetime]]:
        """Every order journaled for ``intent_id``, in order, with when it was journaled."""
        return [(self._order(*row), dt.datetime.fromisoformat(row[5])) for row in
                self._db.execute(f"SELECT * FROM ({_ORDERS}) WHERE intent_id = ?",
                                 (intent_id,)).fetchall()]

    def last_sequence(self, intent_id: IntentId) -> int:
        """The highest order number (`client_order_id_for`) ``intent_id`` used, sent or
        blocked, or that the broker showed at a start (the witness's notes); 0 when none."""
        rows = self._db.execute(
            "SELECT client_order_id FROM events WHERE intent_id = ? AND kind IN ('order',"
            " 'blocked')", (intent_id,)).fetchall()
        seen = [c for c in self._witnessed_orders() if intent_id_of(c) == intent_id]
        return max((sequence_of(coid) or 0 for coid in [*(c for (c,) in rows if c), *seen]),
                   default=0)

    def intent_fills(self, intent_id: IntentId) -> list[Fill]:
        """The fills journaled for ``intent_id``'s orders, in order."""
        rows = self._db.execute("SELECT payload FROM events WHERE kind = 'fill' AND intent_id = ?"
                                " ORDER BY seq", (intent_id,))
        return [fill_from_json(json.loads(payload)["fill"]) for (payload,) in rows]

    def notes_at(self, what: str, *, intent_id: IntentId | None = None,
                 ) -> list[tuple[dt.datetime, dict[str, Any]]]:
        """Every note ``what`` with when it was journaled, oldest first; only ``intent_id``'s
        when given (found by index)."""
        of_intent = "" if intent_id is None else " AND intent_id = ?"
        rows = self._db.execute(
            "SELECT recorded_at, payload FROM events WHERE kind = 'note'" + of_intent
            + " AND json_extract(payload, '$.what') = ? ORDER BY seq",
            (*(() if intent_id is None else (intent_id,)), what),
        )
        return [(dt.datetime.fromisoformat(at), dict(json.loads(payload)))
                for at, payload in rows]

    def notes(self, what: str) -> list[dict[str, Any]]:
        """The payload of every note ``what``, oldest first."""
        return [payload for _, payload in self.notes_at(what)]

    def intent_prediction(self, intent_id: IntentId) -> dict[str, Any] | None:
        """The ``slippage_predicted`` note of ``intent_id`` (its pre-trade estimate, with the
        version and the policy it was made for), if any."""
        row = self._db.execute(
            "SELECT payload FROM events WHERE intent_id = ? AND kind = 'note'"
            " AND json_extract(payload, '$.what') = ? ORDER BY seq LIMIT 1",
            (intent_id, NoteKind.SLIPPAGE_PREDICTED.value),
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def order_request(self, client_order_id: ClientOrderId) -> OrderRequest | None:
        """The request journaled for ``client_order_id`` (sent or dry), if any."""
        row = self._db.execute(
            "SELECT payload FROM events WHERE kind = 'order' AND client_order_id = ?"
            " ORDER BY seq LIMIT 1",
            (client_order_id,),
        ).fetchone()
        return None if row is None else request_from_json(json.loads(row[0])["request"])

    def latest_note(self, what: NoteKind) -> dict[str, Any] | None:
        """The payload of the newest note ``what``, if there is one."""
        row = self._db.execute(
            "SELECT payload FROM events WHERE kind = 'note'"
            " AND json_extract(payload, '$.what') = ? ORDER BY seq DESC LIMIT 1",
            (what,),
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def risk_state_and_since(self) -> tuple[dict[str, Any] | None, list[Booked]]:
        """The newest ``risk_state`` note, and what the risk book booked after it, oldest
        first: every fill (not another program's: a ``stranger_execution`` note, written
        right after its fill, names those) and every commission (``commission`` notes, with
        their fill's symbol). A restart replays them on the note
        (`hydra._core._risk_state.restored_account`); only the events after it are read."""
        note = self._db.execute(
            "SELECT seq, payload FROM events WHERE kind = 'note'"
            " AND json_extract(payload, '$.what') = ? ORDER BY seq DESC LIMIT 1",
            (NoteKind.RISK_STATE.value,)).fetchone()
        if note is None:
            return None, []  # nothing to replay on: the account is the broker's
        rows = self._db.execute(
            "SELECT e.kind, e.payload, (SELECT json_extract(f.payload, '$.fill.symbol')"
            "  FROM events f WHERE f.kind = 'fill'"
            "  AND f.execution_id = json_extract(e.payload, '$.execution_id'))"
            " FROM events e WHERE e.seq > :after AND (e.kind = 'fill' AND e.execution_id NOT IN ("
            "  SELECT json_extract(payload, '$.execution_id') FROM events WHERE seq > :after"
            "  AND kind = 'note' AND json_extract(payload, '$.what') = :stranger"
            "  AND json_extract(payload, '$.execution_id') IS NOT NULL)"
            " OR e.kind = 'note' AND json_extract(e.payload, '$.what') = :commission)"
            " ORDER BY e.seq",
            {"after": note[0],
             "stranger": NoteKind.STRANGER_EXECUTION.value,
             "commission": NoteKind.COMMISSION.value})
        since: list[Booked] = []
        for kind, payload, symbol in rows:
            data = json.loads(payload)
            if kind == EventKind.FILL.value:
                since.append(fill_from_json(data["fill"]))
            elif symbol is not None:
                since.append(Charge(symbol=symbol, commission=Decimal(data["commission"]),
                                    execution_id=ExecutionId(data["execution_id"])))
        return dict(json.loads(note[1])), since

    def adopted_as_unknown(self, client_order_id: ClientOrderId) -> bool:
        """True when ``client_order_id`` was adopted as a stranger (an ``unknown_order`` note:
        the journal was behind the broker and the operator said ``--adopt-unknown``)."""
        return self._has_note(NoteKind.UNKNOWN_ORDER, "client_order_id", client_order_id)

    def intents_behind(self) -> frozenset[IntentId]:
        """Intents with orders or executions the broker showed at a start that the journal
        had lost (working, completed or executed): the journal's account of them is short, so
        they are never resumed."""
        return frozenset(intent_id_of(coid) for coid in self._witnessed_orders())

    def _witnessed_orders(self) -> list[ClientOrderId]:
        """The client order ids of the witness's notes (orders and executions the broker
        showed at a start that the journal did not know), read from their payload: notes of
        schema 2 carry no intent column. Read once (every submission asks, through
        `has_intent`) and again after a witness's note is written."""
        if self._witnessed is None:
            rows = self._db.execute(
                "SELECT json_extract(payload, '$.client_order_id') FROM events"
                " WHERE kind = 'note' AND json_extract(payload, '$.what') IN (?, ?, ?)",
                tuple(kind.value for kind in _WITNESS_NOTES))
            self._witnessed = [ClientOrderId(coid) for (coid,) in rows if isinstance(coid, str)]
        return self._witnessed

    def control_applied(self, request_id: str) -> bool:
        """True when a ``control_applied`` note names ``request_id``."""
        return self._has_note(NoteKind.CONTROL_APPLIED, "request_id", request_id)

    def _has_note(self, what: NoteKind, key: str, value: str) -> bool:
        """True when a note ``what`` has ``value`` under ``key`` in its payload."""
        row = self._db.execute(
            "SELECT 1 FROM events WHERE kind = 'note' AND json_extract(payload, '$.what') = ?"
            " AND json_extract(payload, '$.' || ?) = ? LIMIT 1",
            (what.value, key, value),
        ).fetchone()
        return row is not None

    def _intent_of(self, client_order_id: ClientOrderId) -> IntentId | None:
        row = self._db.execute(
            "SELECT intent_id FROM events WHERE kind = 'order' AND client_order_id = ?"
            " ORDER BY seq LIMIT 1",
            (client_order_id,),
        ).fetchone()
        return None if row is None else IntentId(row[0])

    def _order(self, payload: str, ack: str | None, status: str | None, filled: int,
               dry: object, recorded_at: str, intent_id: str | None,
               seq: int) -> JournaledOrder:
        data = json.loads(payload)
        with self._reading(seq, "request"):
            request = request_from_json(data["request"])
        with self._reading(seq, "part"):
            part = None if data.get("part") is None else part_from_json(data["part"])
        return JournaledOrder(
            request=request,
            dry=data["dry"],
            broker_order_id=None if ack is None else json.loads(ack)["broker_order_id"],
            status=OrderStatus.PENDING if status is None else OrderStatus(status),
            filled=filled,
            part=part,
        )

    def _reading(self, seq: int, field: str) -> contextlib.AbstractContextManager[None]:
        """An order record's ``field`` that does not read (a damaged or hand-mended journal)
        as a `JournalFormatError` naming the journal, the event and the field."""
        return unreadable_as_format_error(
            self._path, lambda what: f"event {seq}, an order record: its {field} does not "
                                     f"read ({what})")


_ORDERS = """
    SELECT o.payload,
           (SELECT a.payload FROM events a WHERE a.client_order_id = o.client_order_id
             AND a.kind = 'ack' ORDER BY a.seq DESC LIMIT 1) AS ack,
           (SELECT json_extract(s.payload, '$.status') FROM events s
             WHERE s.client_order_id = o.client_order_id AND s.kind = 'status'
             ORDER BY s.seq DESC LIMIT 1) AS status,
           (SELECT coalesce(sum(json_extract(f.payload, '$.fill.quantity')), 0) FROM events f
             WHERE f.client_order_id = o.client_order_id AND f.kind = 'fill') AS filled,
           json_extract(o.payload, '$.dry') AS dry,
           o.recorded_at AS recorded_at, o.intent_id AS intent_id, o.seq AS seq
    FROM events o WHERE o.kind = 'order' ORDER BY o.seq"""
"""Each journaled order with its newest ack, its newest status and what filled, each found
through the ``events_by_order`` index; `Journal._order` makes it a `JournaledOrder`."""


_FILE_ERRORS = frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CORRUPT,
                          sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY,
                          sqlite3.SQLITE_PERM})
"""SQLite's primary result codes for a file that cannot take the write (disk full, I/O, a
damaged or read-only file), as opposed to a call's own error (a constraint, a bad query)."""


def _is_write_failure(error: BaseException) -> bool:
    """An error of the file, not of the call: the whole group fails with it."""
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(error, sqlite3.Error) and code is not None and code & 0xFF in _FILE_ERRORS


def _problem(error: sqlite3.Error | OSError) -> str:
    """A write failure in a few words: "disk full" when it is, else the error's own."""
    if isinstance(error, sqlite3.Error):
        full = getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    else:
        full = error.errno == errno.ENOSPC
    return "disk full" if full else " ".join(str(error).split())


def _open_for_writing(path: str, *, durable: bool) -> tuple[sqlite3.Connection, int]:
    """A writing connection to the journal at ``path`` (the lock is held) and the schema
    version found there; a new journal is created whole in one transaction, then put in WAL,
    synced to disk at every commit when ``durable``, else only at each checkpoint."""
    new = is_new(path)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                         timeout=CHECKPOINT_WAIT)
    try:
        if new:
            db.execute("BEGIN IMMEDIATE")
            for statement in STATEMENTS:
                db.execute(statement)
            _stamp_id(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        version = found_version(db, path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
    except BaseException:
        db.close()
        raise
    return db, version


def _stamp_id(db: sqlite3.Connection) -> None:
    """Give the journal in ``db`` (inside its creation or migration transaction) its id."""
    db.execute("INSERT OR IGNORE INTO journal_meta (key, value) VALUES ('journal_id', ?)",
               (new_journal_id(),))


def _release(db: sqlite3.Connection, lock: JournalLock | None, audit: AuditLog | None) -> None:
    try:
        db.close()
        if audit is not None:
            audit.close()
    finally:
        if lock is not None:
            lock.release()
