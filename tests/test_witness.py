"""The broker as the journal's witness at start: a journal behind the broker is refused (or,
told so, adopts what it did not know as strangers); other programs' orders are strangers; an
intent the broker has seen is never sent again; a replaced journal is refused."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import trio

from hydra import (
    OATS,
    ExecutionSettings,
    HydraConfig,
    InvalidValueError,
    OrderIntent,
    Policy,
    Side,
    TradingState,
)
from hydra._core._witness import hear_witness
from hydra._errors import JournalBehindError, JournalReplacedError
from hydra._ids import ClientOrderId, ExecutionId, IntentId, JournalId, client_order_id_for
from hydra._journal import EventKind, Journal
from hydra._orders import Fill, OrderRequest
from hydra._schedule import trading_day_start
from hydra._settings import Distance, ShutdownSettings
from hydra._stop_reasons import leaves
from hydra.sim import ScriptedFlow, SimBroker, open_sim_exchange
from tests.journal_surgery import drop_wal
from tests.simulated import open_engine, quiet_oats

OURS = JournalId("j0123456789ab")
OTHER = JournalId("jba9876543210")
LEAVE = HydraConfig(
    execution=ExecutionSettings(slippage_guard=Distance.ticks(2)),
    shutdown=ShutdownSettings(drain_timeout=1.0, leave_working=True),
)


def _coid(intent: str, n: int = 1, journal: JournalId | None = OURS) -> ClientOrderId:
    return client_order_id_for(IntentId(intent), n, journal_id=journal)


def _fill(coid: ClientOrderId, execution: str) -> Fill:
    return Fill(execution_id=ExecutionId(execution), client_order_id=coid, symbol="ZO",
                side=Side.BUY, price=Decimal("350"), quantity=1,
                time=dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC))


# --- the pure decision -----------------------------------------------------------------------


def test_orders_and_executions_of_this_journal_it_does_not_know_mean_it_is_behind() -> None:
    """Our id on a working order or an execution the journal has no order for: behind."""
    testimony = hear_witness(
        OURS, working=[_coid("a"), _coid("b")], executions=[_fill(_coid("a"), "e1")], completed=[],
        known_orders=frozenset({_coid("b")}), known_executions=frozenset())
    assert testimony.behind
    assert testimony.unknown_orders == (_coid("a"),)
    assert [f.execution_id for f in testimony.unknown_executions] == ["e1"]
    assert testimony.seen_intents == {"a", "b"}
    assert testimony.strangers == ()


def test_a_fill_of_a_known_order_made_while_down_is_not_behind() -> None:
    """An execution the journal lacks, of an order it knows, is a resync's job, not a sign."""
    testimony = hear_witness(
        OURS, working=[_coid("a")], executions=[_fill(_coid("a"), "e9")], completed=[],
        known_orders=frozenset({_coid("a")}), known_executions=frozenset())
    assert not testimony.behind


def test_other_programs_and_other_journals_are_strangers() -> None:
    """Orders without this journal's id are strangers, never behind, never 'seen' intents."""
    testimony = hear_witness(
        OURS, working=[ClientOrderId("ib.0.7"), _coid("x", journal=OTHER)],
        executions=[_fill(_coid("x", journal=OTHER), "e1")], completed=[],
        known_orders=frozenset(), known_executions=frozenset())
    assert not testimony.behind
    assert testimony.strangers == ("ib.0.7", _coid("x", journal=OTHER))
    assert testimony.seen_intents == frozenset()


def test_executions_adopted_before_are_not_behind_again() -> None:
    """An execution already journaled (as a stranger) does not refuse the next start."""
    testimony = hear_witness(OURS, working=[], executions=[_fill(_coid("a"), "e1")],
                             completed=[], known_orders=frozenset(),
                             known_executions=frozenset({"e1"}))
    assert not testimony.behind


def test_completed_orders_count_as_seen_without_making_the_journal_behind() -> None:
    """An order the broker completed today (cancelled, unfilled) that a lost ``-wal`` took
    from the journal: its intent is seen (never sent again) and it is named for the journal
    to note, without making the journal behind (it holds no risk)."""
    testimony = hear_witness(
        OURS, working=[_coid("t", 2)], executions=[_fill(_coid("t", 1), "e1")],
        completed=[_coid("t", 1), _coid("t", 4), _coid("gone", 3), _coid("z", 9, OTHER)],
        known_orders=frozenset({_coid("t", 1), _coid("t", 2)}),
        known_executions=frozenset({"e1"}))
    assert not testimony.behind
    assert testimony.unknown_completed == (_coid("t", 4), _coid("gone", 3))
    assert testimony.seen_intents == {"t", "gone"}
    assert testimony.strangers == ()


def test_the_trading_day_starts_at_five_in_the_evening_in_chicago() -> None:
    """Executions are asked for since 17:00 Chicago before the trading day."""
    start = trading_day_start(dt.datetime(2026, 3, 3, 15, tzinfo=dt.UTC))
    assert start == dt.datetime(2026, 3, 2, 23, tzinfo=dt.UTC)  # 17:00 CST


# --- on the simulated exchange ---------------------------------------------------------------


async def _leave_an_order_behind(exchange: object, path: Path) -> tuple[IntentId, Path]:
    """Run once with the journal backed up first, leave a 3-lot bid working, then put the
    backup back (as a lost -wal file would): the journal no longer knows the order."""
    Journal.open(path).close()
    backup = path.with_name("backup.sqlite")
    shutil.copy(path, backup)
    async with open_engine(exchange, path, LEAVE) as engine:  # type: ignore[arg-type]
        handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3,
                                                 intent_id="lost"))
    await handle.wait_done()
    shutil.copy(backup, path)
    drop_wal(path)
    return IntentId("lost"), path


async def test_a_journal_that_lost_an_order_is_refused(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """After a lost -wal the broker's order and its fill carry this journal's id but are not
    in the journal: Hydra refuses to start, in one line, and sends nothing."""
    params = quiet_oats(spread_ticks=6, flows=(ScriptedFlow(at=30.0, side=Side.SELL,
                                                            quantity=1),))
    async with open_sim_exchange(params, seed=1) as exchange:
        await _leave_an_order_behind(exchange, tmp_path / "j.sqlite")
        await trio.sleep_until(exchange.origin + 40.0)  # one lot fills while Hydra is down
        with pytest.raises(BaseException) as raised:
            async with open_engine(exchange, tmp_path / "j.sqlite", LEAVE):
                pass  # pragma: no cover - never reached
        assert exchange.statistics().orders == 1
        assert len(exchange.open_orders()) == 1
    behind = [e for e in leaves(raised.value) if isinstance(e, JournalBehindError)]
    assert [str(e).split(" (")[0] for e in behind] == [
        "journal is behind the broker: 1 order and 1 execution it does not know"]


async def test_adopt_unknown_journals_them_as_strangers_and_never_resends(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """With adopt_unknown the unknown order and execution are journaled and reported, the
    order is left to the trader (still working after a clean exit), and its intent counts as
    submitted: submitting it again is refused."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(spread_ticks=6, flows=(ScriptedFlow(at=30.0, side=Side.SELL,
                                                            quantity=1),))
    async with open_sim_exchange(params, seed=1) as exchange:
        intent_id, _ = await _leave_an_order_behind(exchange, path)
        await trio.sleep_until(exchange.origin + 40.0)
        async with open_engine(exchange, path, adopt_unknown=True) as engine:
            events = engine.subscribe()
            assert await engine.was_submitted(intent_id)
            with pytest.raises(InvalidValueError, match="already submitted"):
                await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3,
                                                intent_id=intent_id))
            assert engine.adopted == []
        assert exchange.statistics().orders == 1
        assert len(exchange.open_orders()) == 1  # left to the trader, not cancelled
        async with open_engine(exchange, path):  # adopted once: the next start goes on
            pass
    journal = Journal.open(path)
    notes = [p["what"] for _, kind, p in journal.events() if kind is EventKind.NOTE]
    assert notes.count("unknown_order") == 1 and notes.count("unknown_execution") == 1
    assert journal.orders() == []
    assert journal.fills() == []  # the adopted execution, re-reported at the next start
    del events  # the differences were published before the subscription; journaled above


async def test_an_order_the_broker_completed_that_the_journal_lost_is_never_sent_again(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A passive bid cancelled at the end of a run whose journal is then put back to before
    it (a lost -wal): nothing of it works or filled, so the journal is not behind, but the
    broker's completed orders still show it. It is journaled as seen, its intent is never
    sent again, its number is never reused, and the intent is journaled as ended."""
    path = tmp_path / "j.sqlite"
    Journal.open(path).close()
    backup = path.with_name("backup.sqlite")
    shutil.copy(path, backup)
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with open_engine(exchange, path) as engine:
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                            policy=Policy.PASSIVE, intent_id="gone"))
        assert exchange.open_orders() == ()
        shutil.copy(backup, path)
        drop_wal(path)
        async with open_engine(exchange, path) as engine:
            assert not engine.witness.behind
            assert engine.witness.unknown_completed == (_coid("gone", 1, _journal_id(path)),)
            with pytest.raises(InvalidValueError, match="already submitted"):
                await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                                intent_id="gone"))
        assert exchange.statistics().orders == 1
    journal = Journal.open_read_only(path)
    (seen,) = journal.notes("unknown_completed_order")
    assert seen["intent_id"] == "gone"
    assert journal.last_sequence(IntentId("gone")) == 1  # the next order would be .2
    (ended,) = journal.notes("intent_interrupted")  # the intent ends with its reason
    assert (ended["intent_id"], ended["filled"]) == ("gone", 0)
    assert ended["reason"] == ("the journal had lost intent gone; its orders had ended at the"
                               " broker (0 filled today): not resumed")


def _journal_id(path: Path) -> JournalId:
    reader = Journal.open_read_only(path)
    try:
        assert reader.journal_id is not None
        return reader.journal_id
    finally:
        reader.close()


async def test_another_programs_order_is_reported_and_left_alone(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A working order without this journal's id is journaled and published as a stranger;
    Hydra neither adopts nor cancels it."""
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        stranger = SimBroker(exchange, client_id=9)
        await stranger.connect()
        await stranger.place(OrderRequest(
            client_order_id=ClientOrderId("ib.0.7"), intent_id=IntentId("manual"),
            contract=OATS, side=Side.BUY, quantity=1, limit_price=Decimal("340.00")))
        async with open_engine(exchange, tmp_path / "j.sqlite") as engine:
            assert engine.adopted == []
            assert engine.witness.strangers == ("ib.0.7",)
        assert [o.client_order_id for o in exchange.open_orders()] == ["ib.0.7"]
    notes = [p for _, kind, p in Journal.open(tmp_path / "j.sqlite").events()
             if kind is EventKind.NOTE and p["what"] == "stranger_order"]
    assert [n["client_order_id"] for n in notes] == ["ib.0.7"]


@pytest.mark.parametrize("damage", ["emptied", "deleted", "replaced"])
async def test_a_journal_replaced_where_one_lived_is_refused_unless_new_journal(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, damage: str
) -> None:
    """The <journal>.id marker remembers the journal: an emptied, deleted or replaced file is
    refused in one line; new_journal=True starts a new journal, and the old journal's order
    still at the broker is reported as a stranger, never re-sent or cancelled."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with open_engine(exchange, path, LEAVE) as engine:
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1,
                                            policy=Policy.PASSIVE, intent_id="rest"))
        first = Journal.open(path)
        old_id = first.journal_id
        first.close()
        drop_wal(path)
        if damage == "emptied":
            path.write_bytes(b"")
        elif damage == "deleted":
            path.unlink()
        else:
            path.unlink()
            Journal.open(tmp_path / "other.sqlite").close()
            shutil.copy(tmp_path / "other.sqlite", path)
        with pytest.raises(JournalReplacedError) as refused:
            async with open_engine(exchange, path):
                pass  # pragma: no cover - never reached
        assert "\n" not in str(refused.value) and "--new-journal" in str(refused.value)
        assert str(old_id) in str(refused.value)
        async with open_engine(exchange, path, new_journal=True) as engine:
            assert engine.witness.strangers == (exchange.open_orders()[0].client_order_id,)
        assert exchange.statistics().orders == 1 and len(exchange.open_orders()) == 1
    assert Journal.open(path).journal_id != old_id
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with open_engine(exchange, path):  # the new journal is remembered now
            pass


async def test_a_reused_execution_id_with_other_details_is_an_anomaly(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A restarted exchange numbers executions from 1 again: the new execution collides with
    a journaled one of another quantity. It is a broker anomaly journaled with both versions,
    trading HALTED, never a silent drop."""
    path = tmp_path / "j.sqlite"
    intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=3, policy=Policy.CROSS)
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path) as engine:
            assert (await (await engine.submit(intent)).wait_done()).filled == 3
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:  # a restarted exchange
        async with open_engine(exchange, path) as engine:
            second = attrs.evolve(intent, quantity=2, intent_id="again")
            report = await (await engine.submit(second)).wait_done()
            assert engine.statistics().trading_state.value == "HALTED"
    assert report.filled == 0
    journal = Journal.open(path)
    (anomaly,) = [p for _, kind, p in journal.events()
                  if kind is EventKind.NOTE and p["what"] == "broker_anomaly"]
    assert "reported again with a different quantity 3 → 2" in anomaly["problem"]
    assert anomaly["journaled"]["quantity"] == 3 and anomaly["reported"]["quantity"] == 2
    assert [f.quantity for f in journal.fills()] == [3]



async def test_a_fill_of_an_order_adopted_as_unknown_does_not_halt(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """An order adopted with adopt_unknown is the trader's: when it fills later, on Hydra's own
    session, the fill is journaled as a stranger's and trading stays ACTIVE (it used to latch
    HALTED as an anomaly, and every later start came up halted)."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(spread_ticks=6, flows=(
        ScriptedFlow(at=30.0, side=Side.SELL, quantity=1),
        ScriptedFlow(at=60.0, side=Side.SELL, quantity=1)))
    async with open_sim_exchange(params, seed=1) as exchange:
        await _leave_an_order_behind(exchange, path)
        await trio.sleep_until(exchange.origin + 40.0)
        async with open_engine(exchange, path, adopt_unknown=True) as engine:
            await trio.sleep_until(exchange.origin + 70.0)
            assert engine.statistics().trading_state is TradingState.ACTIVE
    journal = Journal.open_read_only(path)
    notes = [p["what"] for _, kind, p in journal.events() if kind is EventKind.NOTE]
    assert "stranger_execution" in notes and "broker_anomaly" not in notes
