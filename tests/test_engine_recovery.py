"""Hydra on the simulated exchange through TWAP, disconnects, duplicates, restarts and crashes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from hydra import OATS, ExecutionSettings, HydraConfig, OrderIntent, OrderStatus, Side
from hydra._ids import ClientOrderId, IntentId
from hydra._journal import EventKind, Journal
from hydra._journal_actor import run_inline
from hydra._messages import ReconcileDifference, SessionChanged
from hydra._orders import OrderRequest
from hydra._settings import Distance, RestartSettings, ShutdownSettings
from hydra.sim import (
    Disconnect,
    DuplicateExecution,
    Gap,
    ScriptedFlow,
    SimBroker,
    SimExchange,
    open_sim_exchange,
)
from tests.journal_surgery import crash_from
from tests.simulated import open_engine, quiet_oats

TWAP = ExecutionSettings(twap_slices=3, twap_horizon=300.0, twap_jitter=0.0)


def _journal(path: Path) -> Journal:
    return Journal.open(path)


def _order_times(path: Path, exchange: SimExchange) -> list[float]:
    """Seconds after the exchange opened at which each order was journaled."""
    start = exchange.params.session_start
    db = _journal(path)
    rows = db._db.execute("SELECT recorded_at FROM events WHERE kind = 'order' ORDER BY seq")
    return [(dt.datetime.fromisoformat(t) - start).total_seconds() for (t,) in rows]


def _assert_fills_once(path: Path, exchange: SimExchange) -> int:
    """Every execution of the exchange is journaled exactly once; the filled quantity."""
    fills = _journal(path).fills()
    ids = [fill.execution_id for fill in fills]
    assert len(ids) == len(set(ids))
    executed = exchange.executions_since(exchange.params.session_start)
    assert sorted(ids) == sorted(fill.execution_id for fill in executed)
    return sum(fill.quantity for fill in fills)


async def test_twap_slices_start_on_schedule(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """15 lots at 1% of ADV go as a TWAP: three slices of 5 at 0, 100 and 200 s, all filled
    (each step takes the one-tick spread's ask)."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        async with open_engine(exchange, path, HydraConfig(execution=TWAP)) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=15))
            report = await handle.wait_done()
        assert _order_times(path, exchange) == [0.0, 100.0, 200.0]
        assert [child.quantity for child in report.children] == [5, 5, 5]
        assert report.filled == 15 == _assert_fills_once(path, exchange)


async def test_disconnect_mid_twap_recovers_missed_fill_once(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A fill made while the link is down is journaled once after the reconnect and resync."""
    path = tmp_path / "j.sqlite"
    # Our first slice bids 350.00, alone at the touch; sell flow hits it while the link is down.
    params = attrs.evolve(
        quiet_oats(flows=(ScriptedFlow(at=15.0, side=Side.SELL, quantity=5),)),
        faults=(Disconnect(at=10.0, duration=20.0),),
    )
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path, HydraConfig(execution=TWAP)) as engine:
            events = engine.subscribe()
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=15))
            report = await handle.wait_done()
            assert engine.statistics().session_up
        assert exchange.statistics().dropped_while_down > 0
        assert report.filled == 15 == _assert_fills_once(path, exchange)
        assert report.children[0].fills[0].time == exchange.timestamp(exchange.origin + 15.0)
    notes = [p["what"] for _, kind, p in _journal(path).events() if kind is EventKind.NOTE]
    assert notes.index("session_down") < notes.index("reconnected")
    assert notes[0] == "engine_started" and notes[-1] == "engine_stopped"
    seen = []
    while True:
        try:
            seen.append(events.receive_nowait())
        except (trio.WouldBlock, trio.EndOfChannel):
            break
    assert [e.up for e in seen if isinstance(e, SessionChanged)] == [False, True]


async def test_duplicate_execution_report_is_journaled_once(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The exchange reports one execution twice; the journal and the report count it once."""
    path = tmp_path / "j.sqlite"
    params = attrs.evolve(quiet_oats(), faults=(DuplicateExecution(at=0.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3))
            report = await handle.wait_done()
        assert report.filled == 3 == _assert_fills_once(path, exchange)


LEAVE = HydraConfig(
    execution=ExecutionSettings(slippage_guard=Distance.ticks(2)),
    shutdown=ShutdownSettings(drain_timeout=1.0, leave_working=True),
)


async def test_restart_adopts_working_order_and_sends_no_duplicate(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """An order left working is adopted by orderRef on restart; fills made meanwhile count once."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(spread_ticks=6, flows=(ScriptedFlow(at=30.0, side=Side.SELL, quantity=2),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path, LEAVE) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3))
        first = await handle.wait_done()
        assert first.children[0].status is OrderStatus.LEFT_WORKING
        assert len(exchange.open_orders()) == 1
        await trio.sleep_until(exchange.origin + 40.0)  # 2 lots fill at 30 s while Hydra is down
        config = attrs.evolve(LEAVE, shutdown=ShutdownSettings(drain_timeout=600.0))
        async with open_engine(exchange, path, config) as engine:
            (adopted,) = engine.adopted
            report = await adopted.wait_done()
        assert exchange.statistics().orders == 1  # never placed again
        assert report.children[0].fills[0].quantity == 2
        assert _assert_fills_once(path, exchange) == report.filled


class _Crash(Exception):
    """Stands for the process dying between two journal writes."""


def _crash_after(writes: int) -> Callable[[Callable[[], Any]], Any]:
    count = 0

    async def offload(work: Callable[[], Any]) -> Any:
        nonlocal count
        count += 1
        if count > writes:
            raise _Crash(f"crash before journal write {count}")
        return await run_inline(work)

    return offload


@pytest.mark.parametrize("writes", range(0, 12))
async def test_crash_at_each_write_point_loses_and_duplicates_nothing(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, writes: int
) -> None:
    """Crash before journal write N, restart on the same journal: each fill once, no resend."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(flows=(ScriptedFlow(at=20.0, side=Side.SELL, quantity=1),))
    config = HydraConfig(execution=ExecutionSettings(slippage_guard=Distance.ticks(2)))
    async with open_sim_exchange(params, seed=1) as exchange:
        with pytest.raises(BaseExceptionGroup) as crashed:
            async with open_engine(exchange, path, config, offload=_crash_after(writes)) as engine:
                handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3))
                await handle.wait_done()
                await trio.sleep_forever()  # every write succeeded: crash at the next one
        assert crashed.group_contains(_Crash)
        last = list(_journal(path).events())[-1]
        assert last[2]["what"] == "unrecoverable_error" and "_Crash" in last[2]["error"]
        placed = exchange.statistics().orders
        async with open_engine(exchange, path, config) as engine:
            for adopted in engine.adopted:
                await adopted.wait_done()
        assert exchange.statistics().orders == placed  # recovery sends nothing new
        assert placed <= 1
        _assert_fills_once(path, exchange)
        journal = _journal(path)
        assert all(o.status is not OrderStatus.PENDING for o in journal.orders())
        assert [kind for _, kind, _ in journal.events()].count(EventKind.INTENT) <= 1


async def test_twap_slice_due_while_down_is_made_up_after_reconnect(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The second slice falls in a disconnect and is refused; the third works both (each step
    takes the one-tick spread's ask)."""
    path = tmp_path / "j.sqlite"
    params = attrs.evolve(quiet_oats(spread_ticks=1),
                          faults=(Disconnect(at=95.0, duration=20.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path, HydraConfig(execution=TWAP)) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=15))
            report = await handle.wait_done()
    statuses = [(child.quantity, child.status, child.denied_by) for child in report.children]
    assert statuses == [
        (5, OrderStatus.FILLED, ()),
        (5, OrderStatus.BLOCKED, ("session",)),
        (10, OrderStatus.FILLED, ()),
    ]
    assert report.filled == 15


async def _stranger_buys(exchange: SimExchange, quantity: int) -> None:
    """Another program on the account buys at the ask (Hydra's journal knows nothing of it)."""
    stranger = SimBroker(exchange, client_id=9)
    await stranger.connect()
    await stranger.place(OrderRequest(
        client_order_id=ClientOrderId("stranger.1"), intent_id=IntentId("stranger"),
        contract=OATS, side=Side.BUY, quantity=quantity,
        limit_price=exchange.quote("ZO").ask + OATS.tick_size,
    ))
    await trio.sleep(1)


async def test_resync_reports_a_position_hydra_cannot_explain(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """After a reconnect the broker's position is compared with Hydra's: a difference is
    journaled and published, not silently adopted."""
    path = tmp_path / "j.sqlite"
    params = attrs.evolve(quiet_oats(), faults=(Disconnect(at=10.0, duration=20.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path) as engine:
            events = engine.subscribe()
            await _stranger_buys(exchange, 2)
            await trio.sleep(60)
            assert engine.statistics().session_up
    differences = [e async for e in events if isinstance(e, ReconcileDifference)]
    assert [d.description for d in differences] == [
        "position in ZO: broker 2, Hydra's account 0"]
    notes = [p for _, kind, p in _journal(path).events()
             if kind is EventKind.NOTE and p["what"] == "reconcile_difference"]
    assert len(notes) == 1


async def test_carried_position_counts_toward_the_daily_loss_breaker(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A position held when Hydra starts is marked at the mid; when the market gaps against
    it by more than the daily loss limit, the next order is blocked."""
    params = quiet_oats(gaps=(Gap(at=60.0, change=Decimal("-30.00")),))  # cents per bushel
    async with open_sim_exchange(params, seed=1) as exchange:
        await _stranger_buys(exchange, 10)  # 10 lots × 30 cents × $50 = $15,000 down at 60 s
        async with open_engine(exchange, tmp_path / "j.sqlite") as engine:
            await trio.sleep_until(exchange.origin + 70)
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1))
            report = await handle.wait_done()
    assert report.blocked and "daily_loss" in (report.block_reason or "")


async def test_restart_reports_an_intent_a_crash_interrupted(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """With ``[restart] resume = false`` a TWAP cut off by a crash is not resumed on restart;
    it is journaled and published as interrupted, with what had filled (each step takes the
    one-tick spread's ask)."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=TWAP, restart=RestartSettings(resume=False))
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        with pytest.raises(BaseExceptionGroup):
            async with open_engine(exchange, path, config,
                                   offload=crash_from(150.0)) as engine:
                intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=15)
                await (await engine.submit(intent)).wait_done()
        async with open_engine(exchange, path, config) as engine:
            (interrupted,) = engine.interrupted
        async with open_engine(exchange, path, config) as engine:
            assert engine.interrupted == []  # reported once
    assert interrupted.description == (
        f"intent {intent.intent_id} was interrupted by a stop: 5 of 15 filled; its working "
        "order is adopted, the rest is not resumed")
