import datetime as dt
import functools
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import trio
import trio.testing

from hydra._audit import AuditLog, mask_accounts
from hydra._contracts import OATS
from hydra._enums import NoteKind, Side
from hydra._ids import BrokerOrderId, ClientOrderId, ExecutionId, IntentId
from hydra._journal import Journal
from hydra._journal_actor import JournalClient, JournalWrite, run_inline, run_journal
from hydra._journal_calls import FillsOfOrder, LatestNote
from hydra._orders import Fill, OrderIntent, OrderRequest
from hydra.sim import open_sim_exchange
from tests.simulated import open_engine, quiet_oats


def test_account_ids_are_masked_but_their_last_two_digits() -> None:
    """Live, paper and advisor account ids keep only a prefix and their last two digits."""
    text = "U1234567 DU7654321 F9876543 DF1122334 U12"
    assert mask_accounts(text) == "U*****67 DU*****21 F*****43 DF*****34 U12"


def test_each_line_is_json_with_event_and_correlation_id() -> None:
    """Every audit line is one JSON object naming the event, its journal sequence number, its
    time in UTC and the intent it belongs to."""
    buffer = io.StringIO()
    audit = AuditLog(buffer)
    at = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
    audit.write("fill", seq=7, recorded_at=at, correlation_id="int-1", account="DU1234567",
                price="350.25")
    (line,) = buffer.getvalue().splitlines()
    record = json.loads(line)
    assert record == {"event": "fill", "correlation_id": "int-1", "account": "DU*****67",
                      "price": "350.25", "seq": 7, "recorded_at": "2026-11-25T14:30:00+00:00"}


T0 = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=-6)))


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _fill(execution: str) -> Fill:
    return Fill(execution_id=ExecutionId(execution), client_order_id=ClientOrderId("int-1.1"),
                symbol="ZO", side=Side.BUY, price="350.25", quantity=1, time=T0)


def _request() -> OrderRequest:
    return OrderRequest(client_order_id=ClientOrderId("int-1.1"), intent_id=IntentId("int-1"),
                        contract=OATS, side=Side.BUY, quantity=2, limit_price="350.25")


def test_the_journal_mirrors_each_committed_event_once_and_no_read(tmp_path: Path) -> None:
    """Each event the journal commits is one audit line, in order, with its seq, UTC time and
    intent; a refused duplicate fill and the journal's queries add nothing."""
    audit = tmp_path / "audit.jsonl"
    journal = Journal.open(tmp_path / "j.sqlite", clock=lambda: T0, audit_path=audit)
    intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=2, intent_id=IntentId("int-1"))
    journal.record_intent(intent, arrival_mid=Decimal("350.125"), predicted_bps=None)
    journal.record_order(_request())
    journal.record_ack(ClientOrderId("int-1.1"), BrokerOrderId(7))  # intent looked up
    fill = {"intent_id": None, "predicted_bps": None, "actual_bps": None}
    assert journal.record_fill(_fill("e1"), **fill)
    assert not journal.record_fill(_fill("e1"), **fill)  # a duplicate execution report
    journal.record_note("broker_error", code=2104, account="DU1234567")
    journal.orders(), journal.fills(), list(journal.events()), journal.latest_note("risk_state")
    journal.close()
    lines = _lines(audit)
    assert [(x["seq"], x["event"], x["correlation_id"]) for x in lines] == [
        (1, "intent", "int-1"), (2, "order", "int-1"), (3, "ack", "int-1"),
        (4, "fill", "int-1"), (5, "broker_error", None)]
    assert {x["recorded_at"] for x in lines} == {"2026-11-25T14:30:00+00:00"}
    assert lines[3]["fill"]["execution_id"] == "e1"
    assert lines[4]["account"] == "DU*****67" and lines[4]["code"] == 2104


async def test_reads_through_the_journal_actor_never_write_to_the_audit_log(
    tmp_path: Path,
) -> None:
    """JournalClient.read answers without an audit line; a duplicate fill is mirrored once."""
    audit = tmp_path / "audit.jsonl"
    journal = Journal.open(tmp_path / "j.sqlite", audit_path=audit)
    send, receive = trio.open_memory_channel[JournalWrite](0)
    async with trio.open_nursery() as nursery:
        await nursery.start(functools.partial(run_journal, receive, journal=journal,
                                              offload=run_inline))
        client = JournalClient(send)
        async with client._outbox:
            await client.record_order(_request())
            for _ in range(2):
                await client.record_fill(_fill("e1"), intent_id=IntentId("int-1"),
                                         predicted_bps=None, actual_bps=None)
            assert len(await client.ask(FillsOfOrder(ClientOrderId("int-1.1")))) == 1
            assert await client.ask(LatestNote(NoteKind.RISK_STATE)) is None
    journal.close()
    assert [x["event"] for x in _lines(audit)] == ["order", "fill"]


async def test_open_hydra_mirrors_its_start_and_stop(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """engine_started and engine_stopped, written by open_hydra itself, are audit lines too."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path):
            pass
    lines = _lines(path.with_suffix(".audit.jsonl"))
    assert lines[0]["event"] == "engine_started" and lines[0]["broker"] == "SimBroker"
    assert lines[-1]["event"] == "engine_stopped" and lines[-1]["reason"] == "closed"
    assert [x["seq"] for x in lines] == list(range(1, len(lines) + 1))
