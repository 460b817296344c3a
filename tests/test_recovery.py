"""Restart after a crash (hydra._recovery): cancels completed, brackets adopted as brackets,
policies kept, interrupted intents and rolls resumed (or reported)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing
from structlog.testing import capture_logs

from hydra import (
    OATS,
    ExecutionSettings,
    HydraConfig,
    InvalidValueError,
    OrderIntent,
    OrderStatus,
    Policy,
    Side,
)
from hydra._bracket import BracketIntent
from hydra._ids import IntentId, client_order_id_for, unstamped
from hydra._journal import EventKind, Journal
from hydra._journal_actor import run_inline
from hydra._messages import IntentFinished
from hydra._open_hydra import open_hydra
from hydra._reports import ExecutionReport
from hydra._settings import (
    BackoffSettings,
    BrokerSettings,
    Distance,
    RestartSettings,
    RiskLimits,
    ShutdownSettings,
    WorkingHours,
)
from hydra.sim import (
    Disconnect,
    DisplayedSize,
    MarketParams,
    ScriptedFlow,
    SimBroker,
    SimExchange,
    SimParams,
    open_sim_exchange,
)
from tests.journal_surgery import Crash, crash_from, crash_once
from tests.simulated import open_engine, quiet_oats
from tests.test_ladder_end_link_down import _LosingFirstCancels
from tests.test_sessions import RecordingBroker, ct, hours_params, oats, open_hours_engine

TWAP = ExecutionSettings(twap_slices=3, twap_horizon=300.0, twap_jitter=0.0)


async def _crash_while_working(exchange: SimExchange, path: Path, config: HydraConfig,
                               intent: OrderIntent, *, at: float = 130.0) -> None:
    """Submit ``intent``; the journal dies at ``at`` s (the process with it): the first
    write after that fails, and the finalizer gives up 10 s later."""
    with pytest.raises(BaseExceptionGroup):
        async with open_engine(exchange, path, config,
                               offload=crash_from(exchange.origin + at)) as engine:
            await engine.submit(intent)
            await trio.sleep_until(exchange.origin + at)
            await engine.record_control("crash")  # the first write after the crash


def _notes(path: Path, what: str) -> list[dict[str, Any]]:
    return Journal.open_read_only(path).notes(what)


def _seconds(path: Path, exchange: SimExchange, kind: str, what: str | None = None
             ) -> list[float]:
    """When each event ``kind`` (a note: ``what``) was journaled, seconds after the open."""
    db = Journal.open_read_only(path)
    rows = db._db.execute("SELECT recorded_at, payload FROM events WHERE kind = ? ORDER BY seq",
                          (kind,)).fetchall()
    start = exchange.params.session_start
    return [(dt.datetime.fromisoformat(at) - start).total_seconds() for at, payload in rows
            if what is None or f'"what": "{what}"' in payload]


async def test_cancels_asked_for_before_a_crash_are_completed_not_reworked(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """cancel_all while the link is down journals both cancels; the process dies before
    either reaches the broker; the restart cancels both orders (never re-works them), so the
    sell flow at 200 s fills nothing."""
    path = tmp_path / "j.sqlite"
    params = attrs.evolve(
        quiet_oats(spread_ticks=6, flows=(ScriptedFlow(at=200.0, side=Side.SELL, quantity=10),)),
        faults=(Disconnect(at=10.0, duration=60.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        crash = crash_once(path, lambda j: len(j.notes("cancel_requested")) == 2)
        with pytest.raises(BaseExceptionGroup) as crashed:
            async with open_engine(exchange, path, offload=crash) as engine:
                for _ in range(2):
                    await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                                    policy=Policy.PASSIVE))
                await trio.sleep_until(exchange.origin + 20.0)
                await engine.cancel_all()
        assert crashed.group_contains(Crash)
        assert len(exchange.open_orders()) == 2  # neither cancel was sent
        await trio.sleep_until(exchange.origin + 80.0)  # the link is back
        async with open_engine(exchange, path) as engine:
            reports = [await handle.wait_done() for handle in engine.adopted]
            assert exchange.open_orders() == ()
            await trio.sleep_until(exchange.origin + 250.0)
        assert exchange.statistics().orders == 2  # nothing placed again
        assert exchange.executions_since(exchange.params.session_start) == ()
    assert [(r.filled, [c.status for c in r.children]) for r in reports] == [
        (0, [OrderStatus.CANCELLED])] * 2
    assert _notes(path, "intent_resumed") == []


def _bracket() -> BracketIntent:
    return BracketIntent(contract=OATS, side=Side.BUY, quantity=2, entry_price="350.00",
                         take_profit_price="351.00", stop_price="349.00",
                         stop_limit_price="348.75", intent_id=IntentId("bracket"))


async def test_a_bracket_whose_entry_filled_is_adopted_as_a_bracket(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Killed right after the entry's fill is journaled: the restart adopts the take-profit
    and the stop as they stand (OCA intact, the stop armed), never reprices either and sells
    nothing; the kill switch leaves both working."""
    path = tmp_path / "j.sqlite"
    entry = client_order_id_for(IntentId("bracket"), 1)
    params = quiet_oats(flows=(ScriptedFlow(at=5.0, side=Side.SELL, quantity=2),))
    async with open_sim_exchange(params, seed=1) as exchange:
        crash = crash_once(path, lambda j: any(unstamped(f.client_order_id) == entry
                                                 for f in j.fills()))
        with pytest.raises(BaseExceptionGroup):
            async with open_engine(exchange, path, offload=crash) as engine:
                await (await engine.submit_bracket(_bracket())).wait_done()
        async with open_engine(exchange, path) as engine:
            (adopted,) = engine.adopted
            await trio.sleep(300.0)  # past any patience ladder
            assert not adopted.done
            await engine.kill("test")
            working = {unstamped(o.request.client_order_id): o.request
                       for o in exchange.open_orders()}
            assert not adopted.done
        report = await adopted.wait_done()
    take_profit, stop = (working[client_order_id_for(IntentId("bracket"), n)] for n in (2, 3))
    assert (take_profit.limit_price, take_profit.oca_group) == (Decimal("351.00"), "oca-bracket")
    assert (stop.stop_price, stop.limit_price) == (Decimal("349.00"), Decimal("348.75"))
    assert exchange.statistics().orders == 3
    assert _notes(path, "modify") == []
    assert report.filled == 2  # the entry, before the crash
    assert [c.prices for c in report.children] == [
        (Decimal("350.00"),), (Decimal("351.00"),), (Decimal("348.75"),)]


async def test_a_bracket_cut_off_before_its_stop_was_sent_is_reported_not_adopted(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Killed right after the take-profit is journaled (the stop never sent): the restart
    reports the bracket, cancels the staged entry and adopts nothing as a patience order."""
    path = tmp_path / "j.sqlite"
    take_profit = client_order_id_for(IntentId("bracket"), 2)
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        crash = crash_once(path, lambda j: any(unstamped(o.request.client_order_id) == take_profit
                                                 for o in j.orders()))
        with pytest.raises(BaseExceptionGroup):
            async with open_engine(exchange, path, offload=crash) as engine:
                await (await engine.submit_bracket(_bracket())).wait_done()
        async with open_engine(exchange, path) as engine:
            (interrupted,) = engine.interrupted
            reports = [await handle.wait_done() for handle in engine.adopted]
            assert exchange.open_orders() == ()
        placed = exchange.statistics().orders
    assert interrupted.description == (
        "bracket bracket was interrupted before all its legs were sent (journaled: entry, "
        f"take-profit); not adopted, {placed} staged order(s) cancelled")
    assert all(c.status is OrderStatus.CANCELLED for r in reports for c in r.children)
    assert [n["intent_id"] for n in _notes(path, "intent_interrupted")] == ["bracket"]
    assert _notes(path, "modify") == []


async def test_an_adopted_passive_order_stays_passive(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A passive order left working is adopted with its policy: it rests at the near touch,
    never steps, and is cancelled when its passive stage ends, 105 s after it was placed."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=ExecutionSettings(slippage_guard=Distance.ticks(2)),
                         shutdown=ShutdownSettings(drain_timeout=1.0, leave_working=True))
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with open_engine(exchange, path, config) as engine:
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                            policy=Policy.PASSIVE))
        await trio.sleep_until(exchange.origin + 40.0)
        async with open_engine(exchange, path) as engine:
            (adopted,) = engine.adopted
            report = await adopted.wait_done()
    (child,) = report.children
    assert child.prices == (Decimal("349.25"),)  # the bid, where it was placed
    assert child.status is OrderStatus.CANCELLED
    assert _notes(path, "modify") == []
    assert _seconds(path, exchange, "note", "cancel_requested") == [105.0]


async def test_an_interrupted_twap_resumes_its_remaining_slices(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A 3-slice TWAP whose journal dies at 130 s (slice 2 working) restarts at 140 s (the
    finalizer's bound): slice 2 is adopted as the first of the 2 slices left over the 160 s
    left of the horizon, and the last slice goes at 220 s; the report counts the first
    slice's fills too (each step takes the one-tick spread's ask)."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=TWAP)
    intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=15)
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        await _crash_while_working(exchange, path, config, intent)
        assert trio.current_time() - exchange.origin == 140.0
        async with open_engine(exchange, path, config) as engine:
            (adopted,) = engine.adopted
            report = await adopted.wait_done()
    (resumed,) = _notes(path, "intent_resumed")
    assert (resumed["slices"], resumed["horizon"], resumed["remaining"]) == (2, 160.0, 10)
    assert resumed["arrival_mid"] == "350.125" and resumed["policy"] == "twap"
    assert _seconds(path, exchange, "order") == [0.0, 100.0, 220.0]
    assert report.filled == 15 and report.quantity == 15
    assert [unstamped(c.client_order_id) for c in report.children] == [
        client_order_id_for(intent.intent_id, n) for n in (1, 2, 3)]


async def test_a_resumed_twap_whose_adopted_order_is_short_of_its_last_slice_finishes(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Each slice of 5 goes as orders of 3 and 2 (``max_order_quantity``), each filling at
    its step. The journal dies at 210 s in slice 3's first order: the restart at 220 s
    resumes one slice of the 5 lots left, the adopted order holds 3 of them, and the other
    2 are worked after it in the same slice (its last stage takes the spread), so the
    intent still fills 15."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=TWAP, risk=RiskLimits(max_order_quantity=3))
    intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=15)
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        await _crash_while_working(exchange, path, config, intent, at=210.0)
        async with open_engine(exchange, path, config) as engine:
            (adopted,) = engine.adopted
            report = await adopted.wait_done()
    (resumed,) = _notes(path, "intent_resumed")
    assert (resumed["slices"], resumed["remaining"]) == (1, 5)
    assert report.filled == 15 and report.quantity == 15


def _two_months() -> SimParams:
    return SimParams(markets=tuple(
        MarketParams.oats(contract=OATS.for_month(month), adv=0, daily_volatility=0.0,
                          spread_ticks=((2, 1.0),), displayed_size=DisplayedSize.fixed(5))
        for month in ("202605", "202607")))


@pytest.mark.parametrize("resume", [True, False])
async def test_a_roll_stopped_between_its_legs_opens_what_was_closed(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, resume: bool
) -> None:
    """Killed after the close of 3 May lots finished, before July was opened: the restart
    opens 3 July lots (resume), or reports exactly what was closed (resume = false)."""
    path = tmp_path / "j.sqlite"
    may = OATS.for_month("202605")
    close_id, open_id = IntentId("close"), IntentId("open")
    config = HydraConfig(restart=RestartSettings(resume=resume))
    crash = crash_once(path, lambda j: any(
        n["intent_id"] == close_id for n in j.notes("intent_finished")))
    async with open_sim_exchange(_two_months(), seed=1) as exchange:
        async with open_engine(exchange, path, config) as engine:
            await (await engine.submit(OrderIntent(contract=may, side=Side.BUY,
                                                   quantity=3))).wait_done()
        with pytest.raises(BaseExceptionGroup):
            async with open_engine(exchange, path, config, offload=crash) as engine:
                await engine.roll(may, to_expiry="202607", intent_ids=(close_id, open_id))
        async with open_engine(exchange, path, config) as engine:
            events = engine.subscribe()
            interrupted = [d.description for d in engine.interrupted]
            reports = []
            if resume:  # the open leg reports like any intent
                async for event in events:
                    if isinstance(event, IntentFinished):
                        reports.append(event.report)
                        break
        held = {p.contract.expiry: p.quantity for p in exchange.positions()}
    (started,) = _notes(path, "roll_started")
    assert (started["close_intent_id"], started["open_intent_id"]) == ("close", "open")
    if resume:
        assert held == {"202605": 0, "202607": 3}
        assert [(r.intent_id, r.side, r.filled) for r in reports] == [("open", Side.BUY, 3)]
        assert interrupted == []
    else:
        assert held == {"202605": 0}
        assert interrupted == ["roll of ZO from 202605 to 202607 stopped between its legs: "
                               "3 closed, none opened in 202607"]
        assert not Journal.open_read_only(path).has_intent(open_id)
    assert [kind for _, kind, _ in Journal.open_read_only(path).events()].count(
        EventKind.INTENT) == (3 if resume else 2)


def _snapshot(path: Path, to: Path) -> None:
    """A consistent copy of the journal as it is now (what a backup of the file alone keeps
    once the ``-wal`` written after it is lost)."""
    source, target = sqlite3.connect(path), sqlite3.connect(to)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _restore(backup: Path, path: Path) -> None:
    """Put ``backup`` in the journal's place, its ``-wal`` and ``-shm`` files lost."""
    backup.replace(path)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def test_an_intent_whose_orders_the_journal_lost_is_not_resumed_beside_them(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A 3-slice TWAP; the journal is put back to a copy of 50 s (it knows the intent and
    slice 1, not slice 2, working at the broker since 100 s). Restarted with adopt_unknown,
    slice 2 is adopted as unknown (left to the trader), and the intent is reported
    interrupted, not resumed: no slice 3 goes beside slice 2, nothing overfills."""
    path, backup = tmp_path / "j.sqlite", tmp_path / "backup.sqlite"
    config = HydraConfig(execution=TWAP)
    intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=15, intent_id="lost-twap")
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        with pytest.raises(BaseExceptionGroup):
            async with open_engine(exchange, path, config,
                                   offload=crash_from(exchange.origin + 130.0)) as engine:
                await engine.submit(intent)
                await trio.sleep_until(exchange.origin + 50.0)
                _snapshot(path, backup)
                await trio.sleep_until(exchange.origin + 130.0)
                await engine.record_control("crash")
        _restore(backup, path)
        async with open_engine(exchange, path, config, adopt_unknown=True) as engine:
            assert [unstamped(c) for c in engine.witness.unknown_orders] == ["lost-twap.2"]
            assert [d.description for d in engine.interrupted] == [
                "intent lost-twap was interrupted by a stop: 0 of 15 filled; not resumed (the"
                " journal had lost some of its orders, which the broker showed at start: any"
                " still working is adopted as unknown and left to the trader)"]
            (reported,) = engine.adopted  # its journaled part, reported: nothing to work
            assert (await reported.wait_done()).filled == 0  # slice 1 rested, unfilled
            await trio.sleep_until(exchange.origin + 400.0)
        assert exchange.statistics().orders == 2
        filled = sum(f.quantity for f in exchange.executions_since(
            dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))
        assert filled <= intent.quantity
    assert [n["intent_id"] for n in _notes(path, "intent_interrupted")] == ["lost-twap"]
    assert _notes(path, "intent_resumed") == []


async def test_fills_made_while_down_are_journaled_before_the_restart_resumes(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Slice 2 of a 3-slice TWAP fills while Hydra is down (five one-lot sells from 131 s hit
    it). The restart's resync journals those fills before recovery reads the intent's history,
    so the resumed TWAP works only the 10 lots left: 15 bought, not 20."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=TWAP)
    intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=15)
    params = quiet_oats(flows=tuple(ScriptedFlow(at=131.0 + n, side=Side.SELL, quantity=1)
                                    for n in range(5)))
    async with open_sim_exchange(params, seed=1) as exchange:
        await _crash_while_working(exchange, path, config, intent)
        async with open_engine(exchange, path, config) as engine:
            (resumed,) = engine.adopted
            report = await resumed.wait_done()
        bought = sum(f.quantity for f in exchange.executions_since(
            dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))
    assert (bought, report.filled, exchange.statistics().orders) == (15, 15, 3)
    (note,) = _notes(path, "intent_resumed")
    assert note["remaining"] == 10  # slice 1 (at the touch) filled nothing, slice 2 took 5


async def test_a_fill_older_than_the_journals_newest_is_still_journaled_on_restart(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A passive bid fills while Hydra is down, and the journal's newest fill is later than
    that execution (after a lost -wal, fills come back out of time order). The restart still
    journals it: the resync reads at least the trading day's executions, not only those after
    the newest journaled one (the crash bench lost a fill that way)."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(spread_ticks=6, flows=(ScriptedFlow(at=50.0, side=Side.SELL,
                                                            quantity=10),))
    async with open_sim_exchange(params, seed=1) as exchange:
        crash = crash_once(path, lambda j: any(kind is EventKind.ACK for _, kind, _ in j.events()))
        with pytest.raises(BaseExceptionGroup):
            async with open_engine(exchange, path, offload=crash) as engine:
                await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                                policy=Policy.PASSIVE, intent_id="rest"))
                await trio.sleep_until(exchange.origin + 20.0)
        await trio.sleep_until(exchange.origin + 60.0)
        (execution,) = exchange.executions_since(exchange.params.session_start)
        journal = Journal.open(path)
        journal.record_fill(attrs.evolve(execution, execution_id="later",
                                         client_order_id="elsewhere.1",
                                         time=execution.time + dt.timedelta(hours=1)),
                            intent_id=None, predicted_bps=None, actual_bps=None)
        journal.close()
        async with open_engine(exchange, path) as engine:
            for handle in engine.adopted:
                await handle.wait_done()
    journaled = {f.execution_id: f for f in Journal.open_read_only(path).fills()}
    assert journaled[execution.execution_id].quantity == 2


async def test_a_resumed_intent_can_be_cancelled_by_its_id(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """engine.cancel reaches an intent a restart resumed, not only those of this run: the
    resumed TWAP stops at once (its working slice cancelled, no last slice) and reports."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=TWAP)
    intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=15, intent_id="resumed")
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        await _crash_while_working(exchange, path, config, intent)
        async with open_engine(exchange, path, config) as engine:
            (resumed,) = engine.adopted
            engine.cancel(intent.intent_id)
            report = await resumed.wait_done()
            with pytest.raises(InvalidValueError, match="is not worked by this engine"):
                engine.cancel(IntentId("nothing"))
        assert exchange.open_orders() == ()
    assert report.filled < 15
    assert exchange.statistics().orders == 2  # slice 3 never sent


# --- a resumed intent and the session hours ------------------------------------------------

PATIENT = HydraConfig(execution=ExecutionSettings(patience=600.0))


async def _crash_with_a_patience_intent(exchange: SimExchange, path: Path, *,
                                        crash_at: float, cancel: bool = True) -> None:
    """A run that submits a 2-lot patience intent at once and dies ``crash_at`` seconds in
    (at a later submission's journal look-up), its intent unfinished; the trader then cancels
    its order at the broker (unless not ``cancel``), so a restart works the whole intent
    again with a new order."""
    with pytest.raises(BaseExceptionGroup) as crashed:
        async with open_hydra(PATIENT, RecordingBroker(exchange), journal_path=path,
                              offload=crash_from(crash_at),
                              clock=lambda: exchange.timestamp(trio.current_time())) as engine:
            await engine.submit(oats(2, intent_id=IntentId("single")))
            await trio.sleep(crash_at + 1)
            await engine.submit(oats(1))
    assert crashed.group_contains(Crash)
    if not cancel:
        return
    trader = exchange.attach(lambda _: None, client_id=1)  # in TWS, while Hydra is down
    (order,) = exchange.open_orders()
    exchange.cancel(trader, order.client_order_id)
    exchange.detach(trader)


@pytest.mark.parametrize(("hours", "opens"), [
    (WorkingHours.TRADING, ct(2, 19)), (WorkingHours.LIQUID, ct(3, 8, 30))])
async def test_a_single_order_resumed_in_the_break_waits_for_the_open(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, hours: WorkingHours,
    opens: dt.datetime,
) -> None:
    """A patience intent submitted at 13:00 is cut off by a crash at 13:05; Hydra is
    restarted at 13:25, after the close. The trader expects the resumed intent held as a new
    one is: nothing sent until the next open of the hours it works in (19:00 in the trading
    hours, 08:30 the next day in the liquid ones), its first order placed then exactly."""
    path = tmp_path / "j.sqlite"
    restarted = attrs.evolve(PATIENT, execution=attrs.evolve(PATIENT.execution, hours=hours))
    async with open_sim_exchange(hours_params(ct(2, 13)), seed=1) as exchange:
        await _crash_with_a_patience_intent(exchange, path, crash_at=5 * 60)
        await trio.sleep_until(exchange.origin + 25 * 60)
        with capture_logs() as logs:
            async with open_hours_engine(exchange, path, restarted) as (_, broker):
                await trio.sleep(20 * 3600)
    assert broker.sent[0] == ("place", opens)
    (held,) = [e for e in logs if e["event"] == "intent_waiting_for_open"]
    assert (held["intent_id"], held["opens"], held["resumed"]) == (
        "single", opens.astimezone(dt.UTC).isoformat(), True)


async def test_a_single_order_resumed_near_the_close_ends_its_ladder_before_it(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Restarted at once after a crash at 13:10, the resumed intent has less than its
    ladder (600 s patience, 1050 s) before the 13:20 close: the trader expects it shortened,
    as a new intent's is, so that nothing is sent from the close until the 19:00 open."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(hours_params(ct(2, 13)), seed=1) as exchange:
        await _crash_with_a_patience_intent(exchange, path, crash_at=10 * 60)
        async with open_hours_engine(exchange, path, PATIENT) as (engine, broker):
            (resumed,) = engine.adopted
            await resumed.wait_done()
            done_at = exchange.timestamp(trio.current_time())
    assert broker.sent and not [at for _, at in broker.sent if at >= ct(2, 13, 20)]
    assert done_at < ct(2, 13, 20)


async def test_a_resumed_intent_held_for_the_open_ends_at_once_when_hydra_closes(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Its order still working after the crash at 13:05, the intent is resumed at 13:25 in
    the break, the order adopted and held for the open. Hydra is closed at 13:26: the trader
    expects no drain spent waiting on it (as for a new held intent) and the adopted order
    cancelled, not left at the broker unaccounted for."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(hours_params(ct(2, 13)), seed=1) as exchange:
        await _crash_with_a_patience_intent(exchange, path, crash_at=5 * 60, cancel=False)
        await trio.sleep_until(exchange.origin + 25 * 60)
        async with open_hours_engine(exchange, path, PATIENT) as (engine, broker):
            (resumed,) = engine.adopted
            await trio.sleep(60)
        closed = exchange.timestamp(trio.current_time())
        report = await resumed.wait_done()
        assert exchange.open_orders() == ()
    assert [kind for kind, _ in broker.sent] == ["cancel"]
    assert closed == ct(2, 13, 26) + dt.timedelta(milliseconds=30)  # the cancel confirmed
    assert report.children[-1].status is OrderStatus.CANCELLED


STEADY_RECONNECT = HydraConfig(broker=BrokerSettings(backoff=BackoffSettings(jitter=0.0)))
"""Reconnect tries without jitter: the resync's time is a round number."""


async def _restart_completing_a_cancel(exchange: SimExchange, path: Path,
                                       broker: SimBroker) -> tuple[ExecutionReport, float]:
    """A passive buy of 2 (resting 3 ticks under the market) cancelled at 20 s while the link
    is down (10 s to 70 s): its cancel is journaled and the process dies. The restart at 80 s
    on ``broker`` completes that cancel; the link drops again at 80.01 s, before the cancel's
    confirmation (30 ms), for 100 s. The adopted intent's report, and when it came (seconds
    after the open)."""
    crash = crash_once(path, lambda j: len(j.notes("cancel_requested")) == 1)
    with pytest.raises(BaseExceptionGroup) as crashed:
        async with open_engine(exchange, path, STEADY_RECONNECT, offload=crash) as engine:
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                            policy=Policy.PASSIVE, intent_id=IntentId("rest")))
            await trio.sleep_until(exchange.origin + 20.0)
            await engine.cancel_all()
    assert crashed.group_contains(Crash)
    await trio.sleep_until(exchange.origin + 80.0)  # the link is back
    async with open_hydra(STEADY_RECONNECT, broker, journal_path=path, offload=run_inline,
                          clock=lambda: exchange.timestamp(trio.current_time())) as engine:
        (handle,) = engine.adopted
        report = await handle.wait_done()
        done_at = trio.current_time() - exchange.origin
        await trio.sleep(300)
    return report, done_at


def _down_twice(*flows: ScriptedFlow) -> SimParams:
    return attrs.evolve(
        quiet_oats(spread_ticks=6, displayed_size=DisplayedSize.fixed(20), flows=flows),
        faults=(Disconnect(at=10.0, duration=60.0), Disconnect(at=80.01, duration=100.0)))


async def test_a_restarts_cancel_held_for_the_link_is_reported_at_the_resync(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The restart's cancel of the earlier run's order reaches the exchange, but its
    confirmation is lost with the link (down from 80.01 s): the risk actor holds the cancel.
    Before the fix the intent reported at 90 s (CANCEL_CONFIRM_SECONDS) that the order was
    WORKING. Expected: the report waits for the reconnect's resync (201.01 s: tries 1, 2, 4,
    8, 16, 30, 30, 30 s) and says CANCELLED."""
    async with open_sim_exchange(_down_twice(), seed=1) as exchange:
        report, done_at = await _restart_completing_a_cancel(
            exchange, tmp_path / "j.sqlite", SimBroker(exchange, client_id=1))
        assert exchange.open_orders() == ()
    assert done_at == pytest.approx(201.01)
    assert [(c.status, c.filled) for c in report.children] == [(OrderStatus.CANCELLED, 0)]


async def test_a_restarts_held_cancel_reports_what_filled_while_the_link_was_down(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The same, with the restart's cancel lost on its way (`_LosingFirstCancels`) and sell
    flow at 120 s, while the link is down, filling the 2 lots still resting. Before the fix
    the report said WORKING with 0 filled at 90 s. Expected: at the resync (201.01 s) it says
    FILLED, 2, as the exchange holds."""
    async with open_sim_exchange(_down_twice(ScriptedFlow(at=120.0, side=Side.SELL,
                                                          quantity=40)), seed=1) as exchange:
        report, done_at = await _restart_completing_a_cancel(
            exchange, tmp_path / "j.sqlite", _LosingFirstCancels(exchange))
        held = sum(p.quantity for p in exchange.positions())
    assert held == 2
    assert done_at == pytest.approx(201.01)
    assert [(c.status, c.filled) for c in report.children] == [(OrderStatus.FILLED, 2)]
    assert report.filled == 2
