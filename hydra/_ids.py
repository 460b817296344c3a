"""Distinct identifier types, so an intent id is never passed where an order id belongs.

A client order id names the journal that wrote it: ``<journal id>:<intent id>.<sequence>``
(`OrderIds`), so the broker's orders and executions say which journal they belong to (the
broker is the journal's witness at start). An id without a journal id (``<intent id>.<n>``)
is one written before journals had ids, or by a test.
"""

from __future__ import annotations

import re
import uuid
from typing import NewType

import attrs

IntentId = NewType("IntentId", str)
"""Names one order intent, from the strategy (or generated)."""

ClientOrderId = NewType("ClientOrderId", str)
"""Hydra's id for one order sent to a broker; also sent as IB's ``orderRef``."""

BrokerOrderId = NewType("BrokerOrderId", int)
"""The broker's id for an order (IB's ``orderId``)."""

ExecutionId = NewType("ExecutionId", str)
"""The broker's id for one execution (IB's ``execId``); a fill is recorded once per id."""

JournalId = NewType("JournalId", str)
"""A journal's own random id, created with it and stamped into every client order id."""

_JOURNAL_ID = re.compile(r"j[0-9a-f]{12}")
_SEPARATOR = ":"


def new_intent_id() -> IntentId:
    """A fresh, unique intent id."""
    return IntentId(f"int-{uuid.uuid4().hex[:12]}")


def new_journal_id() -> JournalId:
    """A fresh, random journal id (``j`` and 12 hex digits)."""
    return JournalId(f"j{uuid.uuid4().hex[:12]}")


def is_journal_id(text: str) -> bool:
    return _JOURNAL_ID.fullmatch(text) is not None


def client_order_id_for(
    intent_id: IntentId, sequence: int, *, journal_id: JournalId | None = None
) -> ClientOrderId:
    """The client order id of an intent's ``sequence``-th order (stable across restarts of
    the same journal), stamped with ``journal_id`` when given."""
    stem = f"{intent_id}.{sequence}"
    return ClientOrderId(stem if journal_id is None else f"{journal_id}{_SEPARATOR}{stem}")


def journal_id_of(client_order_id: str) -> JournalId | None:
    """The journal id stamped into ``client_order_id``, or None when it carries none."""
    head, separator, _ = client_order_id.partition(_SEPARATOR)
    return JournalId(head) if separator and is_journal_id(head) else None


def unstamped(client_order_id: ClientOrderId) -> ClientOrderId:
    """``client_order_id`` without its journal id (``<intent id>.<n>``), for output that must
    read the same for every journal (a scenario's report)."""
    if journal_id_of(client_order_id) is None:
        return client_order_id
    return ClientOrderId(client_order_id.partition(_SEPARATOR)[2])


def intent_id_of(client_order_id: str) -> IntentId:
    """The intent an order belongs to (``[<journal id>:]<intent id>.<sequence>``); an id of
    another shape names its own intent."""
    rest = client_order_id
    if journal_id_of(client_order_id) is not None:
        rest = client_order_id.partition(_SEPARATOR)[2]
    intent, dot, _ = rest.rpartition(".")
    return IntentId(intent if dot and intent else rest)


def sequence_of(client_order_id: str) -> int | None:
    """The sequence number ending ``client_order_id`` (``...<intent id>.<n>``), or None for
    an id of another shape (another program's order)."""
    _, dot, tail = client_order_id.rpartition(".")
    return int(tail) if dot and tail.isdigit() and tail.isascii() else None


@attrs.frozen
class OrderIds:
    """One engine's client order ids: each stamped with its journal's id (None: unstamped)."""

    journal_id: JournalId | None = None

    def for_intent(self, intent_id: IntentId, sequence: int) -> ClientOrderId:
        return client_order_id_for(intent_id, sequence, journal_id=self.journal_id)


UNSTAMPED = OrderIds()
"""Client order ids without a journal id (``<intent id>.<n>``): tests and tools."""
