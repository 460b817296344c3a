"""Which orders of a journal may still be working, followed from the events appended since
the last look (`Journal.live_orders`), so a refresh reads its new events, not every order.

An order may be working while its newest status is PENDING, WORKING or LEFT_WORKING, or it has
none yet. Events are append-only and numbered in the order they were committed, so reading
them in order from the last one seen keeps the set true: an ``order`` event adds its order, a
``status`` event adds or removes it by the status. The set names each order's intent, which
the journal's index of events by intent finds the orders of.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from ._enums import OrderStatus

MAY_BE_WORKING = (OrderStatus.PENDING.value, OrderStatus.WORKING.value,
                  OrderStatus.LEFT_WORKING.value)
"""The statuses of an order that may still be at the broker."""

MAX_ASKED = 500
"""The most intents asked of by name in one query (SQLite's limit on its parameters is far
higher; past this many, a query over every order is as quick)."""

_NEW_EVENTS = """
    SELECT seq, kind, client_order_id, intent_id,
           CASE kind WHEN 'status' THEN json_extract(payload, '$.status') END
    FROM events WHERE seq > ? AND kind IN ('order', 'status') ORDER BY seq"""

_INTENT_OF_ORDER = ("SELECT intent_id FROM events WHERE client_order_id = ? AND kind = 'order'"
                    " LIMIT 1")


def last_event(db: sqlite3.Connection) -> int:
    """The number of the newest event (0 in an empty journal)."""
    return int(db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])


class LiveOrderTracker:
    """The orders that may be working (client order id → intent id) up to an event."""

    def __init__(self) -> None:
        self._to: int | None = None  # None: not started
        self._live: dict[str, str] = {}

    @property
    def started(self) -> bool:
        return self._to is not None

    def start(self, *, to: int, live: Iterable[tuple[str, str]]) -> None:
        """Start from ``live`` (client order id, intent id), read as of event ``to`` or later
        (an event after ``to`` read again changes nothing)."""
        self._to, self._live = to, dict(live)

    def intents(self, db: sqlite3.Connection) -> list[str]:
        """The intents of the orders that may be working now, after reading the events
        appended since the last call."""
        assert self._to is not None
        for seq, kind, client_order_id, intent_id, status in db.execute(_NEW_EVENTS,
                                                                        (self._to,)):
            self._to = seq
            if kind == "order":
                self._live[client_order_id] = intent_id
            elif status not in MAY_BE_WORKING:
                self._live.pop(client_order_id, None)
            elif client_order_id not in self._live:  # back from a final status: rare
                row = db.execute(_INTENT_OF_ORDER, (client_order_id,)).fetchone()
                if row is not None:
                    self._live[client_order_id] = row[0]
        return sorted(set(self._live.values()))
