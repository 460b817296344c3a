"""The journal: a durable, append-only SQLite record of every intent, order, status and fill.

Synchronous and single-threaded on purpose: the journal actor owns one `Journal` and calls it
through `trio.to_thread`. Every `record_*` call is its own committed transaction (WAL,
``synchronous=FULL``), so a crash leaves a clean prefix of the history. A fill is recorded at
most once per execution id, enforced by a unique index, not by the caller.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import sqlite3
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from ._codec import fill_from_json, request_from_json, to_jsonable
from ._enums import OrderStatus
from ._ids import BrokerOrderId, ClientOrderId, IntentId
from ._orders import Fill, OrderIntent, OrderRequest

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    intent_id TEXT,
    client_order_id TEXT,
    execution_id TEXT,
    payload TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS one_fill_per_execution
    ON events(execution_id) WHERE kind = 'fill';
CREATE INDEX IF NOT EXISTS events_by_order ON events(client_order_id, kind);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'journal events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'journal events are append-only'); END;
CREATE VIEW IF NOT EXISTS fills AS
    SELECT seq, recorded_at, intent_id, client_order_id, execution_id,
           json_extract(payload, '$.fill.price') AS price,
           json_extract(payload, '$.fill.quantity') AS quantity,
           json_extract(payload, '$.fill.side') AS side,
           json_extract(payload, '$.fill.time') AS time,
           json_extract(payload, '$.predicted_bps') AS predicted_bps,
           json_extract(payload, '$.actual_bps') AS actual_bps
    FROM events WHERE kind = 'fill';
CREATE VIEW IF NOT EXISTS orders AS
    SELECT o.client_order_id, o.intent_id,
           json_extract(o.payload, '$.request.order_type') AS order_type,
           json_extract(o.payload, '$.request.limit_price') AS limit_price,
           json_extract(o.payload, '$.request.quantity') AS quantity,
           json_extract(o.payload, '$.dry') AS dry,
           (SELECT json_extract(s.payload, '$.status') FROM events s
             WHERE s.kind = 'status' AND s.client_order_id = o.client_order_id
             ORDER BY s.seq DESC LIMIT 1) AS status
    FROM events o WHERE o.kind = 'order';
"""


class EventKind(enum.Enum):
    INTENT = "intent"
    ORDER = "order"  # written before the order reaches the broker
    ACK = "ack"
    STATUS = "status"
    FILL = "fill"
    BLOCKED = "blocked"  # refused by the risk actor
    NOTE = "note"  # engine events: halt, kill, reconciliation differences


@attrs.frozen(kw_only=True)
class JournaledOrder:
    """An order as the journal knows it: what was sent and where it last stood."""

    request: OrderRequest
    dry: bool
    broker_order_id: BrokerOrderId | None
    status: OrderStatus
    filled: int


def _may_be_working(status: OrderStatus) -> bool:
    return not status.is_final or status is OrderStatus.LEFT_WORKING


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Journal:
    """One SQLite journal file. Not thread-safe: one owner (the journal actor) at a time."""

    def __init__(self, connection: sqlite3.Connection, clock: Callable[[], dt.datetime]) -> None:
        self._db = connection
        self._clock = clock

    @classmethod
    def open(cls, path: str | Path, *, clock: Callable[[], dt.datetime] = utc_now) -> Journal:
        """Open (creating if needed) the journal at ``path``, durable on every commit."""
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(_SCHEMA)
        return cls(db, clock)

    def close(self) -> None:
        self._db.close()

    def _append(self, kind: EventKind, payload: dict[str, Any], **keys: str | None) -> int:
        with self._db:
            cursor = self._db.execute(
                "INSERT INTO events (recorded_at, kind, intent_id, client_order_id, execution_id,"
                " payload) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    self._clock().isoformat(),
                    kind.value,
                    keys.get("intent_id"),
                    keys.get("client_order_id"),
                    keys.get("execution_id"),
                    json.dumps(to_jsonable(payload), sort_keys=True),
                ),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def record_intent(
        self, intent: OrderIntent, *, arrival_mid: Decimal | None, predicted_bps: Decimal | None
    ) -> None:
        payload = {"intent": intent, "arrival_mid": arrival_mid, "predicted_bps": predicted_bps}
        self._append(EventKind.INTENT, payload, intent_id=intent.intent_id)

    def record_order(self, request: OrderRequest, *, dry: bool = False) -> None:
        """Write-ahead: call this, and let it return, before the broker sees ``request``."""
        self._append(
            EventKind.ORDER,
            {"request": request, "dry": dry},
            intent_id=request.intent_id,
            client_order_id=request.client_order_id,
        )

    def record_ack(self, client_order_id: ClientOrderId, broker_order_id: BrokerOrderId) -> None:
        payload = {"broker_order_id": broker_order_id}
        self._append(EventKind.ACK, payload, client_order_id=client_order_id)

    def record_status(
        self, client_order_id: ClientOrderId, status: OrderStatus, *, reason: str | None = None
    ) -> None:
        payload = {"status": status, "reason": reason}
        self._append(EventKind.STATUS, payload, client_order_id=client_order_id)

    def record_fill(
        self,
        fill: Fill,
        *,
        intent_id: IntentId | None,
        predicted_bps: Decimal | None,
        actual_bps: Decimal | None,
    ) -> bool:
        """Record ``fill`` once; returns False (and records nothing) for a repeated execution.

        Without ``intent_id``, the intent of the journaled order the fill belongs to is used."""
        intent_id = intent_id or self._intent_of(fill.client_order_id)
        payload = {"fill": fill, "predicted_bps": predicted_bps, "actual_bps": actual_bps}
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

    def record_note(self, what: str, **details: Any) -> None:
        self._append(EventKind.NOTE, {"what": what, **details})

    def events(self) -> Iterator[tuple[int, EventKind, dict[str, Any]]]:
        """Every event in order: (sequence number, kind, payload)."""
        for seq, kind, payload in self._db.execute(
            "SELECT seq, kind, payload FROM events ORDER BY seq"
        ):
            yield seq, EventKind(kind), json.loads(payload)

    def fills(self) -> list[Fill]:
        rows = self._db.execute("SELECT payload FROM events WHERE kind = 'fill' ORDER BY seq")
        return [fill_from_json(json.loads(payload)["fill"]) for (payload,) in rows]

    def last_fill_time(self) -> dt.datetime | None:
        """When the newest journaled execution happened (the resync starting point)."""
        (time,) = self._db.execute("SELECT max(time) FROM fills").fetchone()
        return None if time is None else dt.datetime.fromisoformat(time)

    def orders(self) -> list[JournaledOrder]:
        """Every journaled order, in the order they were written."""
        return [self._order(payload) for (payload,) in self._db.execute(
            "SELECT payload FROM events WHERE kind = 'order' ORDER BY seq"
        )]

    def live_orders(self) -> list[JournaledOrder]:
        """Orders that were sent (not dry) and may still be at the broker: no final status
        yet, or left working on purpose when Hydra last stopped."""
        return [o for o in self.orders() if not o.dry and _may_be_working(o.status)]

    def unfinished_intents(self) -> list[tuple[IntentId, int, int]]:
        """(intent id, quantity, filled) of each intent with neither an ``intent_finished``
        nor an ``intent_interrupted`` note: a run stopped while working it."""
        closed = {intent_id for (intent_id,) in self._db.execute(
            "SELECT json_extract(payload, '$.intent_id') FROM events WHERE kind = 'note'"
            " AND json_extract(payload, '$.what') IN ('intent_finished', 'intent_interrupted')"
        )}
        found = []
        for (payload,) in self._db.execute(
            "SELECT payload FROM events WHERE kind = 'intent' ORDER BY seq"
        ):
            intent = json.loads(payload)["intent"]
            if intent["intent_id"] not in closed:
                (filled,) = self._db.execute(
                    "SELECT coalesce(sum(quantity), 0) FROM fills WHERE intent_id = ?",
                    (intent["intent_id"],),
                ).fetchone()
                found.append((IntentId(intent["intent_id"]), intent["quantity"], filled))
        return found

    def has_intent(self, intent_id: IntentId) -> bool:
        """True when ``intent_id`` was journaled before (by this run or an earlier one)."""
        row = self._db.execute(
            "SELECT 1 FROM events WHERE kind = 'intent' AND intent_id = ? LIMIT 1", (intent_id,)
        ).fetchone()
        return row is not None

    def arrival_mid(self, intent_id: IntentId) -> Decimal | None:
        """The arrival mid journaled with ``intent_id``, if any."""
        row = self._db.execute(
            "SELECT json_extract(payload, '$.arrival_mid') FROM events"
            " WHERE kind = 'intent' AND intent_id = ? ORDER BY seq LIMIT 1",
            (intent_id,),
        ).fetchone()
        return None if row is None or row[0] is None else Decimal(row[0])

    def order_request(self, client_order_id: ClientOrderId) -> OrderRequest | None:
        """The request journaled for ``client_order_id`` (sent or dry), if any."""
        row = self._db.execute(
            "SELECT payload FROM events WHERE kind = 'order' AND client_order_id = ?"
            " ORDER BY seq LIMIT 1",
            (client_order_id,),
        ).fetchone()
        return None if row is None else request_from_json(json.loads(row[0])["request"])

    def latest_note(self, what: str) -> dict[str, Any] | None:
        """The payload of the newest note ``what``, if there is one."""
        row = self._db.execute(
            "SELECT payload FROM events WHERE kind = 'note'"
            " AND json_extract(payload, '$.what') = ? ORDER BY seq DESC LIMIT 1",
            (what,),
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def control_applied(self, request_id: str) -> bool:
        """True when a ``control_applied`` note names ``request_id``."""
        row = self._db.execute(
            "SELECT 1 FROM events WHERE kind = 'note'"
            " AND json_extract(payload, '$.what') = 'control_applied'"
            " AND json_extract(payload, '$.request_id') = ? LIMIT 1",
            (request_id,),
        ).fetchone()
        return row is not None

    def _intent_of(self, client_order_id: ClientOrderId) -> IntentId | None:
        row = self._db.execute(
            "SELECT intent_id FROM events WHERE kind = 'order' AND client_order_id = ?"
            " ORDER BY seq LIMIT 1",
            (client_order_id,),
        ).fetchone()
        return None if row is None else IntentId(row[0])

    def _order(self, payload: str) -> JournaledOrder:
        data = json.loads(payload)
        request = request_from_json(data["request"])
        key = (request.client_order_id,)
        ack = self._db.execute(
            "SELECT payload FROM events WHERE client_order_id = ? AND kind = 'ack'"
            " ORDER BY seq DESC LIMIT 1",
            key,
        ).fetchone()
        status = self._db.execute(
            "SELECT payload FROM events WHERE client_order_id = ? AND kind = 'status'"
            " ORDER BY seq DESC LIMIT 1",
            key,
        ).fetchone()
        (filled,) = self._db.execute(
            "SELECT coalesce(sum(quantity), 0) FROM fills WHERE client_order_id = ?", key
        ).fetchone()
        return JournaledOrder(
            request=request,
            dry=data["dry"],
            broker_order_id=None if ack is None else json.loads(ack[0])["broker_order_id"],
            status=OrderStatus.PENDING if status is None else OrderStatus(
                json.loads(status[0])["status"]
            ),
            filled=filled,
        )
