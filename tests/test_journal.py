import datetime as dt
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import outcome
import pytest

from hydra._contracts import OATS
from hydra._core._risk_state import Charge
from hydra._enums import NoteKind, OrderStatus, Policy, Side
from hydra._errors import JournalWriteError
from hydra._ids import BrokerOrderId, ClientOrderId, ExecutionId, IntentId
from hydra._journal import CHECKPOINT_EVERY, EventKind, Journal
from hydra._orders import Fill, OrderIntent, OrderRequest, TwapPart
from tests.journal_process import JournalProcess

T0 = dt.datetime(2026, 11, 25, 14, 30, tzinfo=dt.UTC)


def _request(number: int = 1) -> OrderRequest:
    return OrderRequest(
        client_order_id=ClientOrderId(f"int-1.{number}"),
        intent_id=IntentId("int-1"),
        contract=OATS.for_month("202612"),
        side=Side.BUY,
        quantity=3,
        limit_price="350.25",
    )


def _fill(execution: str, quantity: int = 1, minute: int = 0) -> Fill:
    return Fill(
        execution_id=ExecutionId(execution),
        client_order_id=ClientOrderId("int-1.1"),
        symbol="ZO",
        side=Side.BUY,
        price="350.25",
        quantity=quantity,
        commission="2.50",
        time=T0 + dt.timedelta(minutes=minute),
    )


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal.open(tmp_path / "j.sqlite", clock=lambda: T0)


def test_write_ahead_order_is_live_until_final(journal: Journal) -> None:
    """An order written ahead is live (PENDING), acked keeps it live, a final status ends it."""
    journal.record_order(_request())
    (live,) = journal.live_orders()
    assert live.request == _request()
    assert live.status is OrderStatus.PENDING
    journal.record_ack(ClientOrderId("int-1.1"), BrokerOrderId(17))
    journal.record_status(ClientOrderId("int-1.1"), OrderStatus.WORKING)
    (live,) = journal.live_orders()
    assert (live.broker_order_id, live.status) == (17, OrderStatus.WORKING)
    journal.record_status(ClientOrderId("int-1.1"), OrderStatus.CANCELLED, reason="ladder done")
    assert journal.live_orders() == []


def test_dry_orders_are_never_live(journal: Journal) -> None:
    """A dry-run order is journaled but never counted as at the broker."""
    journal.record_order(_request(), dry=True)
    assert journal.live_orders() == []
    assert journal.orders()[0].dry


def test_an_order_keeps_the_part_of_its_twap_it_was_journaled_with(journal: Journal) -> None:
    """An order journaled with its part of a TWAP's schedule reads back with it, written
    beside the request; one journaled without (no TWAP, or an older Hydra) has none."""
    journal.record_order(_request(1), part=TwapPart(slice=2, slices=5, ahead=True))
    journal.record_order(_request(2))
    assert [o.part for o in journal.orders()] == [TwapPart(slice=2, slices=5, ahead=True), None]
    (first, second) = journal._db.execute(
        "SELECT payload FROM events WHERE kind = 'order' ORDER BY seq").fetchall()
    assert json.loads(first[0])["part"] == {"slice": 2, "slices": 5, "ahead": True}
    assert "part" not in json.loads(second[0])


def test_fill_recorded_once_per_execution_id(journal: Journal) -> None:
    """A repeated execution report is refused by the journal itself and changes nothing."""
    journal.record_order(_request())
    kwargs = {"intent_id": IntentId("int-1"), "predicted_bps": Decimal(3), "actual_bps": Decimal(2)}
    assert journal.record_fill(_fill("e1", 2), **kwargs)
    assert not journal.record_fill(_fill("e1", 2), **kwargs)
    assert journal.record_fill(_fill("e2", 1, minute=5), **kwargs)
    assert [f.execution_id for f in journal.fills()] == ["e1", "e2"]
    assert journal.orders()[0].filled == 3
    assert journal.last_fill_time() == T0 + dt.timedelta(minutes=5)


def test_events_are_append_only(journal: Journal, tmp_path: Path) -> None:
    """Neither an update nor a delete of a journal event is possible, even in raw SQL."""
    journal.record_note("halt", reason="test")
    db = sqlite3.connect(tmp_path / "j.sqlite")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE events SET kind = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM events")


def test_every_write_is_durable_on_its_own(tmp_path: Path) -> None:
    """After each write, a fresh reader (as after a crash) sees exactly the writes so far."""
    path = tmp_path / "j.sqlite"
    journal = Journal.open(path, clock=lambda: T0)
    intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=3, intent_id=IntentId("int-1"))
    writes = [
        lambda: journal.record_intent(intent, arrival_mid=Decimal("350.125"), predicted_bps=None),
        lambda: journal.record_order(_request()),
        lambda: journal.record_ack(ClientOrderId("int-1.1"), BrokerOrderId(1)),
        lambda: journal.record_fill(
            _fill("e1"), intent_id=IntentId("int-1"), predicted_bps=None, actual_bps=None
        ),
    ]
    for count, write in enumerate(writes, start=1):
        write()
        reader = Journal.open_read_only(path)
        assert len(list(reader.events())) == count
        reader.close()


def test_a_journal_is_synced_at_every_commit_unless_opened_for_a_rehearsal(
    tmp_path: Path,
) -> None:
    """``synchronous`` FULL (2) as every writer opens it; NORMAL (1) only when asked, for a
    rehearsal's journal (its commits synced at each checkpoint)."""
    levels = []
    for name, durable in (("run.sqlite", True), ("rehearsal.sqlite", False)):
        journal = Journal.open(tmp_path / name, durable=durable)
        (level,) = journal._db.execute("PRAGMA synchronous").fetchone()
        journal.close()
        levels.append(level)
    default = Journal.open(tmp_path / "default.sqlite")
    levels.append(default._db.execute("PRAGMA synchronous").fetchone()[0])
    default.close()
    assert levels == [2, 1, 2]


def test_views_show_orders_and_fills(journal: Journal, tmp_path: Path) -> None:
    """The orders and fills views give an order's latest status and each fill's slippage."""
    journal.record_order(_request())
    journal.record_status(ClientOrderId("int-1.1"), OrderStatus.WORKING)
    journal.record_status(ClientOrderId("int-1.1"), OrderStatus.FILLED)
    journal.record_fill(
        _fill("e1", 3), intent_id=IntentId("int-1"), predicted_bps=Decimal("1.5"),
        actual_bps=Decimal("3.57"),
    )
    db = sqlite3.connect(tmp_path / "j.sqlite")
    assert db.execute("SELECT status, limit_price FROM orders").fetchall() == [
        ("FILLED", "350.25")
    ]
    assert db.execute("SELECT quantity, predicted_bps, actual_bps FROM fills").fetchall() == [
        (3, "1.5", "3.57")
    ]


def test_blocked_request_and_kinds(journal: Journal) -> None:
    """A risk block is journaled with its reasons, and events come back in order with kinds."""
    journal.record_blocked(_request(), denials=["max_order_quantity 3 exceeds limit 2"])
    ((_, kind, payload),) = list(journal.events())
    assert kind is EventKind.BLOCKED
    assert payload["denials"] == ["max_order_quantity 3 exceeds limit 2"]
    assert payload["request"]["limit_price"] == "350.25"


def _wal(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _seqs(path: Path) -> list[int]:
    journal = Journal.open_read_only(path)
    try:
        return [seq for seq, _, _ in journal.events()]
    finally:
        journal.close()


def test_a_lost_wal_loses_at_most_the_events_since_the_last_checkpoint(tmp_path: Path) -> None:
    """A writer killed after 2N + 50 commits, its -wal then lost: the 2N events checkpointed
    every N commits are in the database file, a clean prefix."""
    path = tmp_path / "j.sqlite"
    with JournalProcess(path, notes=2 * CHECKPOINT_EVERY + 50) as writer:
        writer.kill()
    assert _wal(path).stat().st_size > 0  # the last 50 were only in the WAL
    _wal(path).unlink()
    kept = _seqs(path)
    assert kept == list(range(1, len(kept) + 1))
    assert 2 * CHECKPOINT_EVERY <= len(kept) < 2 * CHECKPOINT_EVERY + 50


def test_opening_checkpoints_what_a_killed_writer_left_in_the_wal(tmp_path: Path) -> None:
    """The next writer's open folds a killed writer's WAL into the database file, so losing
    the -wal after that (another kill) loses nothing."""
    path = tmp_path / "j.sqlite"
    with JournalProcess(path, notes=30) as writer:
        writer.kill()
    with JournalProcess(path) as next_writer:
        next_writer.kill()
    _wal(path).unlink(missing_ok=True)
    assert _seqs(path) == list(range(1, 31))


def test_closing_leaves_nothing_in_the_wal(tmp_path: Path) -> None:
    """After close every event is in the database file itself: the -wal is gone or empty."""
    path = tmp_path / "j.sqlite"
    journal = Journal.open(path)
    for _ in range(5):
        journal.record_note("reconnected")
    reader = Journal.open_read_only(path)  # a reader keeps SQLite from removing the -wal
    journal.close()
    assert not _wal(path).exists() or _wal(path).stat().st_size == 0
    reader.close()
    _wal(path).unlink(missing_ok=True)
    assert _seqs(path) == [1, 2, 3, 4, 5]


def test_calls_applied_together_commit_once_and_fail_alone(tmp_path: Path) -> None:
    """A group commit runs each call in order in one transaction; a call that raises is rolled
    back alone and returns its error, the others are committed and answered."""
    journal = Journal.open(tmp_path / "j.sqlite")
    calls = [
        lambda j: j.record_note("first"),
        lambda j: (j.record_note("undone"), 1 / 0),
        lambda j: j.record_note("third"),
        lambda j: [p["what"] for _, _, p in j.events()][-2:],
    ]
    results = journal.apply_together(calls)
    assert [type(r).__name__ for r in results] == ["Value", "Error", "Value", "Value"]
    assert isinstance(results[1].error, ZeroDivisionError)  # type: ignore[union-attr]
    assert results[3].unwrap() == ["first", "third"]
    journal.close()
    reopened = Journal.open_read_only(tmp_path / "j.sqlite")
    notes = [p["what"] for _, kind, p in reopened.events() if kind is EventKind.NOTE]
    assert "undone" not in notes and notes[-2:] == ["first", "third"]


def _fill_up(journal: Journal) -> None:
    """Cap the journal at the pages it has (SQLITE_FULL, "database or disk is full", on the
    next write that needs a new page: the real full-disk path of SQLite)."""
    (pages,) = journal._db.execute("PRAGMA page_count").fetchone()
    journal._db.execute(f"PRAGMA max_page_count = {pages}")


def test_a_write_on_a_full_disk_commits_nothing_and_is_noted_once_space_is_back(
    tmp_path: Path,
) -> None:
    """A write SQLite refuses for lack of space raises JournalWriteError ("disk full") from
    the SQLite error, leaves no trace of itself, goes to the audit log at once, and is journaled
    as journal_write_failed with the first write that succeeds afterwards."""
    audit = tmp_path / "a.jsonl"
    journal = Journal.open(tmp_path / "j.sqlite", audit_path=audit)
    _fill_up(journal)
    with pytest.raises(JournalWriteError, match=r"^journal write failed: disk full$") as failed:
        for n in range(50):
            journal.record_note(NoteKind.RECONNECTED, n=n, pad="x" * 2000)
    assert isinstance(failed.value, OSError)
    assert isinstance(failed.value.__cause__, sqlite3.OperationalError)
    written = len(list(journal.events()))
    assert journal.write_failure is failed.value
    journal._db.execute("PRAGMA max_page_count = 1000000")
    journal.record_note(NoteKind.MANUAL)
    events = [payload for _, _, payload in journal.events()]
    assert len(events) == written + 2
    assert events[-2]["what"] == "journal_write_failed" and events[-2]["error"] == "disk full"
    assert events[-1] == {"what": "manual"} and journal.write_failure is None
    journal.close()
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(x["event"], x["seq"] is None) for x in lines[-3:]] == [
        ("journal_write_failed", True), ("journal_write_failed", False), ("manual", False)]


def test_a_group_on_a_full_disk_fails_whole(tmp_path: Path) -> None:
    """When the disk refuses one call of a group commit, every call of the group gets the
    same JournalWriteError and none of them is journaled; a duplicate fill is still only its
    own call's answer."""
    journal = Journal.open(tmp_path / "j.sqlite")
    _fill_up(journal)
    results = journal.apply_together([
        lambda j: j.record_note(NoteKind.RECONNECTED),
        lambda j: j.record_note(NoteKind.SESSION_DOWN, pad="x" * 20000),
    ])
    errors = {id(r.error) for r in results if isinstance(r, outcome.Error)}
    assert len(results) == 2 and len(errors) == 1
    assert list(journal.events()) == []
    journal.close()  # one more try of the failure note: still refused, nothing raised


def test_a_group_called_within_a_group_joins_it(tmp_path: Path) -> None:
    """A call of a group (the journal actor's) that runs a group of its own (a healing cycle's
    notes): the inner calls join the outer transaction, a failing one is rolled back alone,
    and everything else commits together."""
    journal = Journal.open(tmp_path / "j.sqlite")

    def inner(j: Journal) -> list[outcome.Outcome[object]]:
        return j.apply_together([lambda k: k.record_note(NoteKind.RECONNECTED),
                                 lambda k: 1 / 0,
                                 lambda k: k.record_note(NoteKind.SESSION_DOWN)])

    first, outer = journal.apply_together([lambda j: j.record_note(NoteKind.ENGINE_STARTED),
                                           inner])
    kept, failed, also = outer.unwrap()
    assert isinstance(failed, outcome.Error) and isinstance(failed.error, ZeroDivisionError)
    assert [r.unwrap() for r in (first, kept, also)] == [None, None, None]
    assert [p["what"] for _, _, p in journal.events()] == [
        NoteKind.ENGINE_STARTED, NoteKind.RECONNECTED, NoteKind.SESSION_DOWN]
    journal.close()


def test_the_risk_state_comes_with_what_was_booked_after_it(tmp_path: Path) -> None:
    """The newest risk_state note, then every fill and commission journaled after it in
    order; another program's execution (a stranger_execution note) and what came before the
    note are left out."""
    journal = Journal.open(tmp_path / "j.sqlite", clock=lambda: T0)
    journal.record_order(_request())
    journal.record_fill(_fill("x1"), intent_id=None, predicted_bps=None, actual_bps=None)
    journal.record_note(NoteKind.RISK_STATE, trading_day="old")
    journal.record_note(NoteKind.RISK_STATE, trading_day="new")
    journal.record_note(NoteKind.COMMISSION, execution_id="x1", commission="1.25")
    journal.record_fill(_fill("x2"), intent_id=None, predicted_bps=None, actual_bps=None)
    journal.record_fill(_fill("stranger"), intent_id=None, predicted_bps=None, actual_bps=None)
    journal.record_note(NoteKind.STRANGER_EXECUTION, execution_id="stranger")
    note, since = journal.risk_state_and_since()
    journal.close()
    assert note is not None and note["trading_day"] == "new"
    charge = Charge(symbol="ZO", commission=Decimal("1.25"), execution_id=ExecutionId("x1"))
    assert since == [charge, _fill("x2")]


def test_a_journal_without_a_risk_state_has_nothing_to_replay(tmp_path: Path) -> None:
    """No risk_state note: None, and no fills read (the account is then the broker's)."""
    journal = Journal.open(tmp_path / "j.sqlite", clock=lambda: T0)
    journal.record_fill(_fill("x1"), intent_id=None, predicted_bps=None, actual_bps=None)
    assert journal.risk_state_and_since() == (None, [])
    journal.close()


def test_an_intent_journaled_before_reads_back_and_is_written_the_same(tmp_path: Path) -> None:
    """An intent event as an earlier journal stored it reads back with its exact arrival mid
    and prediction and its submission time; today's writer stores the very same text, and a
    payload key a later version adds is ignored by the reader."""
    written = ('{"arrival_mid": "350.125", "intent": {"contract": {"expiry": null, "symbol":'
               ' "ZO"}, "intent_id": "int-9", "policy": "passive", "quantity": 7, "side": "BUY",'
               ' "strategy": "momo"}, "predicted_bps": "1.50"}')
    intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=7, strategy="momo",
                         intent_id=IntentId("int-9"), policy=Policy.PASSIVE)
    path = tmp_path / "j.sqlite"
    journal = Journal.open(path, clock=lambda: T0)
    journal.record_intent(intent, arrival_mid=Decimal("350.125"), predicted_bps=Decimal("1.50"))
    journal.close()
    with sqlite3.connect(path) as db:
        (payload,) = db.execute("SELECT payload FROM events WHERE kind = 'intent'").fetchone()
        assert payload == written
        db.execute("CREATE TEMP TABLE later AS SELECT * FROM events WHERE kind = 'intent'")
        db.execute("UPDATE later SET seq = seq + 1000, intent_id = 'int-10', payload ="
                   " json_set(replace(payload, 'int-9', 'int-10'), '$.later_field', 1)")
        db.execute("INSERT INTO events SELECT * FROM later")
    db.close()
    journal = Journal.open(path, clock=lambda: T0)
    record = journal.intent_record(IntentId("int-9"))
    assert record is not None
    assert (record.intent, record.arrival_mid, record.predicted_bps, record.submitted_at) == (
        intent, Decimal("350.125"), Decimal("1.50"), T0)
    later = journal.intent_record(IntentId("int-10"))
    assert later is not None and later.intent.intent_id == "int-10"
    journal.close()
