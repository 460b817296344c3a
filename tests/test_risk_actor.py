"""The risk actor and its finalizer, through the whole engine on the simulated exchange."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import trio
import trio.testing
from simulated import journal_notes, last_statuses, open_engine, quiet_oats
from structlog.testing import capture_logs

from hydra import (
    OATS,
    EngineEvent,
    ExecutionSettings,
    FillRecorded,
    HydraConfig,
    IntentId,
    OrderIntent,
    OrderSent,
    OrderStatus,
    OrderStatusRecorded,
    Policy,
    RiskDeniedError,
    RiskLimits,
    Side,
    StageRecorded,
    TradingState,
)
from hydra._ids import ClientOrderId, unstamped
from hydra._journal_actor import run_inline
from hydra._open_hydra import open_hydra
from hydra.sim import SimBroker, SimExchange, open_sim_exchange


async def test_an_outer_cancellation_settles_every_working_order(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Leaving open_hydra by an outer cancel scope cancels the resting order at the exchange,
    journals it CANCELLED, finishes the intent and notes engine_stopped."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        with trio.move_on_after(5):
            async with open_engine(exchange, path) as engine:
                await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                                policy=Policy.PASSIVE, intent_id="rest"))
                await trio.sleep(100)
        assert trio.current_time() - exchange.origin < 30
        assert exchange.open_orders() == ()
    assert last_statuses(path) == {"rest.1": OrderStatus.CANCELLED}
    assert [n["intent_id"] for n in journal_notes(path, "intent_finished")] == ["rest"]
    assert journal_notes(path, "engine_stopped") and not journal_notes(path, "unrecoverable_error")


async def test_fifty_concurrent_intents_never_exceed_the_position_limit(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Fifty 5-lot buys at once with max_position 20: working orders count as exposure, so the
    position at the exchange never passes 20."""
    config = HydraConfig(risk=RiskLimits(max_position=20, max_open_orders=100,
                                         max_orders_per_minute=1000))
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", config) as engine:
            handles = [await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=5, policy=Policy.CROSS))
                for _ in range(50)]
            reports = [await handle.wait_done() for handle in handles]
            held = sum(p.quantity for p in await engine._broker.positions())
    assert 0 < held <= 20
    assert sum(r.filled for r in reports) == held
    assert any(r.blocked and "position" in (r.block_reason or "") for r in reports)


async def test_a_kill_survives_a_restart_until_resume(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A kill is restored by the next open_hydra on the same journal: new orders are refused
    until an explicit resume, which is journaled."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path) as engine:
            await engine.kill("drill")
        async with open_engine(exchange, path) as engine:
            assert engine.statistics().trading_state is TradingState.HALTED
            refused = await (await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=1))).wait_done()
            assert refused.blocked and "drill" in (refused.block_reason or "")
            await engine.resume(reason="drill over")
            assert engine.statistics().trading_state is TradingState.ACTIVE
            sent = await (await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS))).wait_done()
            assert not sent.blocked
    assert [n["reason"] for n in journal_notes(path, "resume")] == ["drill over"]
    assert last_statuses(path)[unstamped(sent.children[0].client_order_id)] is OrderStatus.FILLED


async def test_an_intent_beyond_the_position_limit_is_refused_at_submit(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A 200-lot intent under max_position 100 is refused before anything is journaled or
    sent, naming the limit."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite") as engine:
            with pytest.raises(RiskDeniedError, match="position 200 exceeds limit 100"):
                await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=200,
                                                intent_id="huge"))
            assert not await engine.was_submitted("huge")
        assert exchange.statistics().orders == 0


async def test_each_fill_is_one_log_line_and_re_reports_are_one_count(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Each new fill is logged once with its price, quantity and slippage to two decimals;
    a restart, which re-reports the day's executions, logs one count of them instead of a
    line each."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        with capture_logs() as first:
            async with open_engine(exchange, path) as engine:
                reports = [await (await engine.submit(OrderIntent(
                    contract=OATS, side=side, quantity=2, policy=Policy.CROSS))).wait_done()
                    for side in (Side.BUY, Side.SELL, Side.BUY)]
        with capture_logs() as second:
            async with open_engine(exchange, path):
                pass
    fills = [e for e in first if e["event"] == "fill"]
    assert [(f["side"], f["quantity"], f["price"]) for f in fills] == [
        (fill.side.value, fill.quantity, str(fill.price)) for r in reports for fill in r.fills]
    assert len(fills) == 3 and all(f["symbol"] == "ZO" for f in fills)
    assert all(f["slippage_bps"] == f"{Decimal(f['slippage_bps']):.2f}" for f in fills)
    assert [e for e in second if e["event"] == "fill"] == []
    (duplicates,) = [e for e in second if e["event"] == "duplicate_executions_ignored"]
    assert duplicates["count"] == len(fills)


async def test_an_intent_ended_by_a_kill_journals_why_in_its_finished_note(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The intent_finished note carries the end reason (what fill-report shows): the kill's,
    for a resting order the kill cancelled; none for an intent that filled."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with open_engine(exchange, path) as engine:
            filled = await (await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS))).wait_done()
            resting = await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=2, policy=Policy.PASSIVE))
            await trio.sleep(5)
            await engine.kill("drill")
            killed = await resting.wait_done()
    notes = {n["intent_id"]: n for n in journal_notes(path, "intent_finished")}
    assert notes[filled.intent_id]["reason"] is None
    assert notes[killed.intent_id]["reason"] == killed.end_reason
    assert killed.end_reason == "stopped: kill switch: drill"


async def test_a_strategy_halt_survives_a_restart_until_resume(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The runner's halt for a failing hook is latched like the kill switch: the next start
    is HALTED until a resume, and it is journaled as strategy_halted, never as a kill."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path) as engine:
            await engine.halt_strategy("strategy hook desk failed 3 times in a row")
        async with open_engine(exchange, path) as engine:
            assert engine.statistics().trading_state is TradingState.HALTED
            await engine.resume(reason="hook fixed")
            assert engine.statistics().trading_state is TradingState.ACTIVE
    (halt,) = journal_notes(path, "strategy_halted")
    assert (halt["cause"], halt["reason"]) == (
        "strategy_halted", "strategy hook desk failed 3 times in a row")
    assert journal_notes(path, "kill_switch") == []
    assert journal_notes(path, "resume")[0]["cleared"] == ["strategy_halted"]


async def test_each_order_sent_is_published_when_the_sender_sends_it(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The placement, the ladder's repricing and the cancel each reach the engine's
    subscribers as an `OrderSent` in the virtual instant the sender hands them to the
    broker, with the limit as sent."""
    config = HydraConfig(execution=ExecutionSettings(patience=60.0))
    sent: list[tuple[float, str, str, Decimal | None]] = []

    async def listen(events: trio.MemoryReceiveChannel[EngineEvent], start: float) -> None:
        async for event in events:
            if isinstance(event, OrderSent):
                sent.append((trio.current_time() - start, event.action.value, event.intent_id,
                             event.limit_price))

    async with open_sim_exchange(quiet_oats(spread_ticks=8), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", config) as engine:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(listen, engine.subscribe(), trio.current_time())
                await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3,
                                                intent_id="sent"))
                await trio.sleep(61)
                engine.cancel(IntentId("sent"))
                await trio.sleep(1)
                nursery.cancel_scope.cancel(reason="test over")
    assert sent == [(0.0, "place", "sent", Decimal("349.25")),
                    (60.0, "modify", "sent", Decimal("349.50")),
                    (61.0, "cancel", "sent", Decimal("349.50"))]


async def test_a_fill_its_commission_and_the_final_status_are_each_published(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Each thing the risk actor journals of an order after it is sent is also published:
    its status (WORKING at the ack, FILLED at the end) and its fills (the simulator's carry
    their commission; IB's comes after: tests/test_ib_engine.py), so a subscriber's view of
    the journal is never behind the journal."""
    published: list[tuple[str, object]] = []

    async def listen(events: trio.MemoryReceiveChannel[EngineEvent]) -> None:
        async for event in events:
            if isinstance(event, OrderStatusRecorded):
                published.append(("status", event.status))
            elif isinstance(event, FillRecorded):
                published.append(("fill", event.fill.quantity))

    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite") as engine:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(listen, engine.subscribe())
                await (await engine.submit(OrderIntent(
                    contract=OATS, side=Side.BUY, quantity=2, policy=Policy.CROSS))).wait_done()
                await trio.sleep(1)
                nursery.cancel_scope.cancel(reason="test over")
    assert published[0] == ("status", OrderStatus.WORKING)
    assert published[-1] == ("status", OrderStatus.FILLED)
    assert [q for what, q in published if what == "fill"] == [2]


class _LosingFirstCancels(SimBroker):
    """IB refusing a message over its rate limit (error 100, which names no order): the first
    cancel of each order never reaches the exchange."""

    def __init__(self, exchange: SimExchange) -> None:
        super().__init__(exchange, client_id=1)
        self.lost: list[str] = []

    async def cancel(self, client_order_id: ClientOrderId) -> None:
        if client_order_id in self.lost:
            await super().cancel(client_order_id)
            return
        self.lost.append(client_order_id)
        await trio.lowlevel.checkpoint()


async def test_the_finalizer_cancels_again_an_order_whose_cancel_was_lost(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The ladder's cancel is lost at the broker and never answered; the finalizer asks again
    rather than wait on it, so Hydra leaves with the order cancelled, not unmanaged."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=ExecutionSettings(patience=1.0))
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        broker = _LosingFirstCancels(exchange)
        async with open_hydra(config, broker, journal_path=path, offload=run_inline,
                              clock=lambda: exchange.timestamp(trio.current_time())) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                                     policy=Policy.PASSIVE, intent_id="rest"))
            report = await handle.wait_done()
            # the ladder's 1.75 s, then the worker's 10 s wait for its cancel's answer
            assert trio.current_time() - exchange.origin == pytest.approx(11.75)
        assert exchange.open_orders() == ()
    assert report.filled == 0
    assert [unstamped(c) for c in broker.lost] == ["rest.1"]
    assert last_statuses(path) == {"rest.1": OrderStatus.CANCELLED}
    assert journal_notes(path, "order_unmanaged") == []


async def test_each_ladder_stage_is_journaled_and_published_with_its_due_time(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A resting buy that never fills: its placement at 0 s and its steps at 60 s and 90 s
    are each journaled as a ``ladder_stage`` note (every stage left with its end on the
    journal's clock) and published as StageRecorded with the next step's due time; nothing
    is told between the steps."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=ExecutionSettings(patience=60.0))
    async with open_sim_exchange(quiet_oats(spread_ticks=8), seed=1) as exchange:
        async with open_engine(exchange, path, config) as engine:
            events = engine.subscribe()
            start = trio.current_time()
            await (await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                                   intent_id="told"))).wait_done()
        opened = exchange.params.session_start
        told = [(e.stage, (e.next_step_at - opened).total_seconds())
                async for e in events if isinstance(e, StageRecorded)]
    assert start == exchange.origin
    assert told == [("RESTING", 60.0), ("STEPPED", 90.0), ("CROSSING", 105.0)]
    notes = journal_notes(path, "ladder_stage")
    assert [[stage for stage, _ in n["stages"]] for n in notes] == [
        ["RESTING", "STEPPED", "CROSSING"], ["STEPPED", "CROSSING"], ["CROSSING"]]
    assert [n["intent_id"] for n in notes] == ["told"] * 3 and "slice" not in notes[0]
    assert [at for _, at in notes[0]["stages"]] == [
        (opened + dt.timedelta(seconds=s)).isoformat() for s in (60, 90, 105)]
