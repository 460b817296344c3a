"""A journal writer serving write commands over a pipe, in a process of its own, to be
SIGKILLed by tests.

`serve` runs in the child (started by a ``forkserver`` that imported Hydra already, so a
new writer is up at once after a crash): it opens the journal, answers ``("ready", id)``,
then applies each write command it receives and answers ``{"n": N, "result": ...}`` only after
the `Journal` call returned, so an answered write is committed.
"""

from __future__ import annotations

import datetime as dt
from multiprocessing.connection import Connection
from typing import Any

import hydra._journal
from hydra._contracts import OATS
from hydra._enums import NoteKind, OrderStatus, Side
from hydra._ids import BrokerOrderId, ClientOrderId, ExecutionId, IntentId
from hydra._journal import Journal
from hydra._orders import Fill, OrderIntent, OrderRequest

T0 = dt.datetime(2026, 11, 25, 14, 30, tzinfo=dt.UTC)


def write(journal: Journal, command: dict[str, Any]) -> Any:
    """Apply one write command; what the `Journal` call returned."""
    n, op = command["n"], command["op"]
    if op == "intent":
        return journal.record_intent(
            OrderIntent(contract=OATS, side=Side.BUY, quantity=command["quantity"],
                        intent_id=IntentId(command["intent_id"])),
            arrival_mid=None, predicted_bps=None)
    if op == "order":
        return journal.record_order(OrderRequest(
            client_order_id=ClientOrderId(command["coid"]),
            intent_id=IntentId(command["intent_id"]), contract=OATS, side=Side.BUY,
            quantity=command["quantity"], limit_price="350.25"), dry=command["dry"])
    if op == "ack":
        return journal.record_ack(ClientOrderId(command["coid"]), BrokerOrderId(n))
    if op == "status":
        return journal.record_status(ClientOrderId(command["coid"]),
                                     OrderStatus(command["status"]), reason=f"w{n}")
    if op == "fill":
        fill = Fill(execution_id=ExecutionId(command["execution_id"]),
                    client_order_id=ClientOrderId(command["coid"]), symbol="ZO", side=Side.BUY,
                    price="350.25", quantity=command["quantity"], time=T0)
        return journal.record_fill(fill, intent_id=None, predicted_bps=None, actual_bps=None)
    if op == "note":
        return journal.record_note(NoteKind.RECONNECTED, number=n)
    raise ValueError(f"unknown op {op!r}")


def serve(connection: Connection, path: str, checkpoint_every: int, durable: bool) -> None:
    """Open the journal at ``path`` (with `CHECKPOINT_EVERY` set to ``checkpoint_every``,
    ``durable`` or not), answer ``("ready", journal id)``, then apply each write received and
    answer it."""
    hydra._journal.CHECKPOINT_EVERY = checkpoint_every
    journal = Journal.open(path, durable=durable)
    connection.send(("ready", journal.journal_id))
    while True:
        try:
            command = connection.recv()
        except EOFError:
            break
        try:
            answer = {"n": command["n"], "result": write(journal, command)}
        except Exception as e:  # the test fails on it, naming it
            answer = {"n": command["n"], "error": repr(e)}
        connection.send(answer)
    journal.close()
