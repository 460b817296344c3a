"""Hydra through IBBroker against the simulated gateway: the whole path a paper account takes.

The gateway runs the simulator on the real clock, so settings here are short (patience of a
fraction of a second) and every test has a hang guard.
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import trio
from structlog.testing import capture_logs

from hydra import (
    OATS,
    BackoffSettings,
    BrokerSettings,
    CommissionRecorded,
    Distance,
    EngineEvent,
    ExecutionReport,
    ExecutionSettings,
    HydraConfig,
    InvalidValueError,
    LiveTradingRefusedError,
    OrderIntent,
    OrderStatus,
    OrderStatusRecorded,
    Policy,
    RiskLimits,
    Side,
)
from hydra._engine import Engine
from hydra._errors import JournalBehindError
from hydra._ids import ClientOrderId, IntentId
from hydra._journal import EventKind, Journal
from hydra._open_hydra import open_hydra
from hydra._orders import OrderRequest
from hydra._settings import ShutdownSettings
from hydra._stop_reasons import leaves
from hydra.gateway import Gateway, serve_gateway
from hydra.ib import open_ib_broker
from hydra.sim import MarketParams, SimExchange, SimParams, open_sim_exchange

HANG_GUARD = 30
PARAMS = SimParams(
    markets=(MarketParams.oats(adv=0, daily_volatility=0.0, spread_ticks=((1, 1.0),)),),
    ack_latency=0.001,
    fill_latency=0.001,
)
FAST = HydraConfig(
    execution=ExecutionSettings(patience=0.2, twap_slices=3, twap_horizon=1.5, twap_jitter=0.0),
    broker=BrokerSettings(backoff=BackoffSettings(initial=0.05, cap=0.2, max_tries=20)),
    shutdown=ShutdownSettings(drain_timeout=5.0),
)


@attrs.frozen
class Served:
    gateway: Gateway
    exchange: SimExchange


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    with trio.fail_after(HANG_GUARD):
        async with open_sim_exchange(PARAMS, seed=3) as exchange, trio.open_nursery() as nursery:
            gateway = await nursery.start(functools.partial(
                serve_gateway, exchange, quote_interval=0.005))
            yield Served(gateway=gateway, exchange=exchange)
            nursery.cancel_scope.cancel(reason="test over")


@asynccontextmanager
async def open_ib_hydra(
    served: Served, journal: Path, config: HydraConfig = FAST
) -> AsyncIterator[Engine]:
    """Hydra through IBBroker on the served gateway (journal writes in a worker thread), on
    the exchange's day (its front month is the one month the gateway lists)."""
    settings = attrs.evolve(config.broker, port=served.gateway.port)
    async with open_ib_broker(settings) as broker:
        async with open_hydra(attrs.evolve(config, broker=settings), broker,
                              journal_path=journal, clock=_clock(served.exchange)) as engine:
            yield engine


def _clock(exchange: SimExchange) -> Callable[[], dt.datetime]:
    """The exchange's time on the wall clock (it runs on the real clock), readable from the
    journal's worker thread."""
    offset = exchange.timestamp(trio.current_time()) - dt.datetime.now(dt.UTC)
    return lambda: dt.datetime.now(dt.UTC) + offset


def _fills_once(journal: Path, exchange: SimExchange) -> int:
    fills = Journal.open(journal).fills()
    ids = [fill.execution_id for fill in fills]
    assert len(ids) == len(set(ids))
    executed = exchange.executions_since(exchange.params.session_start)
    assert sorted(ids) == sorted(fill.execution_id for fill in executed)
    return sum(fill.quantity for fill in fills)


async def _until_working(events: trio.MemoryReceiveChannel[EngineEvent]) -> None:
    """Until an order is journaled WORKING: the broker has acknowledged it (however long a
    loaded machine takes; a fixed sleep could end before the order even left)."""
    async for event in events:
        if isinstance(event, OrderStatusRecorded) and event.status is OrderStatus.WORKING:
            return


async def _worked_with_commissions(engine: Engine, intent: OrderIntent) -> ExecutionReport:
    """Work ``intent`` to its end, then wait until the commission of each of its fills is
    journaled (IB reports it after the fill), so a restart finds it journaled."""
    events = engine.subscribe()
    report = await (await engine.submit(intent)).wait_done()
    executions = {fill.execution_id for fill in report.fills}
    commissioned: set[str] = set()
    async for event in events:
        if isinstance(event, CommissionRecorded):
            commissioned.add(event.execution_id)
        if executions <= commissioned:
            break
    return report


async def test_an_intent_is_worked_and_journaled_through_ib(
    served: Served, tmp_path: Path
) -> None:
    """Submit through open_hydra with IBBroker: the ladder fills it, each fill journaled once,
    the broker's order carrying the client order id as orderRef."""
    path = tmp_path / "j.sqlite"
    async with open_ib_hydra(served, path) as engine:
        handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2))
        report = await handle.wait_done()
    assert report.filled == 2 == _fills_once(path, served.exchange)
    assert {f.client_order_id for f in report.fills} == {report.children[0].client_order_id}


async def test_the_commission_ib_reports_after_each_fill_is_published(
    served: Served, tmp_path: Path
) -> None:
    """IB reports a fill's commission after the fill; once journaled it is published too, so
    a subscriber (the dashboard's PnL) is not left behind the journal."""
    with trio.fail_after(HANG_GUARD):
        async with open_ib_hydra(served, tmp_path / "j.sqlite") as engine:
            events = engine.subscribe()
            report = await (await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=2))).wait_done()
            executions = {f.execution_id for f in report.fills}
            commissioned: dict[str, Decimal] = {}
            async for event in events:
                if isinstance(event, CommissionRecorded):
                    commissioned[event.execution_id] = event.commission
                    if set(commissioned) == executions:
                        break
    assert executions and all(c > 0 for c in commissioned.values())


async def test_gateway_drop_mid_twap_reconnects_and_journals_each_fill_once(
    served: Served, tmp_path: Path
) -> None:
    """All connections drop during a TWAP; Hydra reconnects, resyncs and finishes it."""
    path = tmp_path / "j.sqlite"
    async with open_ib_hydra(served, path) as engine:
        handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=15))
        await trio.sleep(0.3)
        served.gateway.drop_all_connections(reason="test")
        report = await handle.wait_done()
        assert engine.statistics().session_up
    assert served.gateway.statistics().drops >= 1
    assert report.filled == 15 == _fills_once(path, served.exchange)


async def test_restart_adopts_working_order_by_order_ref(served: Served, tmp_path: Path) -> None:
    """An order left working when Hydra stopped is adopted by orderRef; nothing is resent."""
    path = tmp_path / "j.sqlite"
    leave = attrs.evolve(FAST, execution=attrs.evolve(
        FAST.execution, patience=30.0, slippage_guard=Distance.ticks(0)),
        shutdown=ShutdownSettings(drain_timeout=0.1, leave_working=True))
    async with open_ib_hydra(served, path, leave) as engine:
        events = engine.subscribe()
        await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1))
        await _until_working(events)
    assert len(served.exchange.open_orders()) == 1
    stop = attrs.evolve(leave, execution=attrs.evolve(leave.execution, patience=0.2))
    async with open_ib_hydra(served, path, stop) as engine:
        (adopted,) = engine.adopted
        await adopted.wait_done()
    assert served.exchange.statistics().orders == 1
    assert served.exchange.open_orders() == ()


async def test_live_port_is_refused_before_any_connection() -> None:
    """Port 4001 (live IB Gateway) without --live and HYDRA_LIVE_CONFIRMED is refused."""
    with pytest.raises(LiveTradingRefusedError):
        async with open_ib_broker(BrokerSettings(port=4001)):
            pass  # pragma: no cover - never reached


async def test_a_burst_of_intents_never_trips_ib_pacing(served: Served, tmp_path: Path) -> None:
    """100 intents in half a second (200 a second) reach the gateway with no error 100, and
    each order ends at the broker (filled or cancelled): none is lost to a refused message."""
    path = tmp_path / "j.sqlite"
    burst = attrs.evolve(FAST, risk=RiskLimits(
        max_open_orders=500, max_orders_per_minute=1000, max_position=500))
    async with open_ib_hydra(served, path, burst) as engine:
        handles = []
        for _ in range(100):
            handles.append(await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS)))
            await trio.sleep(0.005)
        reports = [await handle.wait_done() for handle in handles]
    assert all(not report.blocked for report in reports)
    notes = [p for _, _, p in Journal.open(path).events() if p.get("what") == "broker_error"]
    assert not [note for note in notes if note["code"] == 100]
    assert [c.status for r in reports for c in r.children if not c.status.is_final] == []
    assert served.exchange.open_orders() == ()
    assert Decimal(sum(r.filled for r in reports)) == _fills_once(path, served.exchange)



MAY, JULY, SEPTEMBER = (OATS.for_month(m) for m in ("202605", "202607", "202609"))
THREE_MONTHS = SimParams(
    markets=tuple(
        MarketParams.oats(contract=contract, start_mid=mid, adv=0, daily_volatility=0.0,
                          spread_ticks=((2, 1.0),))
        for contract, mid in ((MAY, Decimal(350)), (JULY, Decimal(356)),
                              (SEPTEMBER, Decimal(360)))
    ),
    ack_latency=0.001,
    fill_latency=0.001,
)


@pytest.fixture
async def served_months() -> AsyncIterator[Served]:
    """The simulated gateway listing three months of oats, each its own market."""
    with trio.fail_after(HANG_GUARD):
        async with open_sim_exchange(THREE_MONTHS, seed=3) as exchange, \
                trio.open_nursery() as nursery:
            gateway = await nursery.start(functools.partial(
                serve_gateway, exchange, quote_interval=0.005))
            yield Served(gateway=gateway, exchange=exchange)
            nursery.cancel_scope.cancel(reason="test over")


async def test_roll_through_ib_moves_a_deferred_month_to_the_next(
    served_months: Served, tmp_path: Path
) -> None:
    """Through IBBroker, 3 lots of July oats bought, then rolled: July is closed and 3 of
    September opened, each priced off its own month. After a restart (IB's positions are all
    Hydra knows), May has nothing to close and September closes; the journal's fills name
    their months."""
    path = tmp_path / "j.sqlite"
    exchange = served_months.exchange
    async with open_ib_hydra(served_months, path) as engine:
        bought = await engine.submit(OrderIntent(contract=JULY, side=Side.BUY, quantity=3))
        assert (await bought.wait_done()).filled == 3
        closed, opened = await engine.roll(JULY, to_expiry="202609")
    assert (closed.side, closed.filled) == (Side.SELL, 3)
    assert opened is not None and (opened.side, opened.filled) == (Side.BUY, 3)
    assert all(abs(f.price - 356) < 2 for f in closed.fills)
    assert all(abs(f.price - 360) < 2 for f in opened.fills)
    settings = attrs.evolve(FAST.broker, port=served_months.gateway.port)
    async with open_ib_broker(settings) as broker, open_hydra(
        attrs.evolve(FAST, broker=settings), broker, journal_path=path
    ) as engine:
        held = {p.contract: p.quantity for p in await broker.positions()}
        assert held == {JULY: 0, SEPTEMBER: 3}
        with pytest.raises(InvalidValueError, match="has no position to close"):
            await engine.close_position(MAY)
        flat = await (await engine.close_position(SEPTEMBER)).wait_done()
    assert (flat.side, flat.filled) == (Side.SELL, 3)
    assert {p.contract.expiry: p.quantity for p in exchange.positions()} == {
        "202607": 0, "202609": 0
    }
    journaled = {f.execution_id: f.expiry for f in Journal.open(path).fills()}
    assert journaled == {
        f.execution_id: f.expiry for f in exchange.executions_since(exchange.params.session_start)
    }
    assert sorted(set(journaled.values())) == ["202607", "202609"]


@asynccontextmanager
async def _serve_again() -> AsyncIterator[Served]:
    """A second simulated gateway on a fresh exchange: a restarted gateway, whose execution
    ids start again at ``sim.00000001``."""
    async with open_sim_exchange(PARAMS, seed=3) as exchange, trio.open_nursery() as nursery:
        gateway = await nursery.start(functools.partial(
            serve_gateway, exchange, quote_interval=0.005))
        yield Served(gateway=gateway, exchange=exchange)
        nursery.cancel_scope.cancel(reason="test over")


async def test_a_restarted_gateway_reusing_an_execution_id_is_an_anomaly(
    served: Served, tmp_path: Path
) -> None:
    """The restarted gateway's first execution reuses a journaled id with another side:
    a broker anomaly with both versions, trading HALTED and the order cancelled, never a
    silent drop that leaves it working."""
    path = tmp_path / "j.sqlite"
    async with open_ib_hydra(served, path) as engine:
        first = await (await engine.submit(OrderIntent(
            contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS))).wait_done()
    assert first.filled == 1
    async with _serve_again() as again, open_ib_hydra(again, path) as engine:
        second = await (await engine.submit(OrderIntent(
            contract=OATS, side=Side.SELL, quantity=1, policy=Policy.CROSS))).wait_done()
        assert engine.statistics().trading_state.value == "HALTED"
        assert again.exchange.open_orders() == ()
    assert second.filled == 0
    journal = Journal.open(path)
    (anomaly,) = [p for _, kind, p in journal.events()
                  if kind is EventKind.NOTE and p["what"] == "broker_anomaly"]
    assert anomaly["journaled"]["execution_id"] == anomaly["reported"]["execution_id"]
    assert (anomaly["journaled"]["side"], anomaly["reported"]["side"]) == ("BUY", "SELL")


async def test_a_journal_behind_the_gateway_is_refused_then_adopted(
    served: Served, tmp_path: Path
) -> None:
    """Through IB: an order left working whose journal lost it (a backup put back) carries
    the journal's id in its orderRef: the start is refused; with adopt_unknown it is
    journaled, left working, and its intent is never sent again."""
    path = tmp_path / "j.sqlite"
    Journal.open(path).close()
    backup = tmp_path / "backup.sqlite"
    shutil.copy(path, backup)
    leave = attrs.evolve(FAST, execution=attrs.evolve(
        FAST.execution, patience=30.0, slippage_guard=Distance.ticks(0)),
        shutdown=ShutdownSettings(drain_timeout=0.1, leave_working=True))
    async with open_ib_hydra(served, path, leave) as engine:
        events = engine.subscribe()
        await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1,
                                        intent_id="lost"))
        await _until_working(events)
    shutil.copy(backup, path)
    with pytest.raises(BaseException) as raised:
        async with open_ib_hydra(served, path, leave):
            pass  # pragma: no cover - never reached
    assert any(isinstance(e, JournalBehindError) for e in leaves(raised.value))
    settings = attrs.evolve(leave.broker, port=served.gateway.port)
    async with open_ib_broker(settings) as broker:
        async with open_hydra(attrs.evolve(leave, broker=settings), broker, journal_path=path,
                              adopt_unknown=True, clock=_clock(served.exchange)) as engine:
            assert await engine.was_submitted(IntentId("lost"))
            assert engine.adopted == []
    assert served.exchange.statistics().orders == 1
    assert len(served.exchange.open_orders()) == 1  # left to the trader



@pytest.fixture
async def served_now() -> AsyncIterator[Served]:
    """A gateway whose session started now: its executions fall in today's trading day. It
    gives no hours (a market that never closes): with the exchange's, a test run after the
    close or at a weekend would hold its intents for the next open."""
    params = attrs.evolve(PARAMS, session_start=dt.datetime.now(dt.UTC).replace(microsecond=0))
    with trio.fail_after(HANG_GUARD):
        async with open_sim_exchange(params, seed=3) as exchange, trio.open_nursery() as nursery:
            gateway = await nursery.start(functools.partial(
                serve_gateway, exchange, quote_interval=0.005, hours=False))
            yield Served(gateway=gateway, exchange=exchange)
            nursery.cancel_scope.cancel(reason="test over")


async def test_a_start_refused_as_behind_latches_nothing(served_now: Served, tmp_path: Path,
                                                         ) -> None:
    """The lost order had filled: asking IB for the day's executions makes ib_async report
    that fill on the new session. The refused start journals no anomaly (it used to latch
    HALTED, so every later start came up halted), and the adopting start trades ACTIVE."""
    path = tmp_path / "j.sqlite"
    Journal.open(path).close()
    backup = tmp_path / "backup.sqlite"
    shutil.copy(path, backup)
    async with open_ib_hydra(served_now, path) as engine:
        handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1,
                                                 policy=Policy.CROSS, intent_id="filled"))
        assert (await handle.wait_done()).filled == 1
    shutil.copy(backup, path)
    with pytest.raises(BaseException) as raised:
        async with open_ib_hydra(served_now, path):
            pass  # pragma: no cover - never reached
    assert any(isinstance(e, JournalBehindError) for e in leaves(raised.value))
    notes = [p["what"] for _, kind, p in Journal.open_read_only(path).events()
             if kind is EventKind.NOTE]
    assert "broker_anomaly" not in notes and "breaker_tripped" not in notes
    settings = attrs.evolve(FAST.broker, port=served_now.gateway.port)
    async with open_ib_broker(settings) as broker:
        async with open_hydra(attrs.evolve(FAST, broker=settings), broker, journal_path=path,
                              adopt_unknown=True) as engine:
            assert engine.statistics().trading_state.value == "ACTIVE"


async def test_a_restart_does_not_journal_a_commission_twice(
    served: Served, tmp_path: Path
) -> None:
    """IB reports the day's executions and their commissions again after a restart: the
    journal keeps one commission note per execution (it held one per restart before)."""
    path = tmp_path / "j.sqlite"
    for _ in range(3):
        async with open_ib_hydra(served, path, FAST) as engine:
            await _worked_with_commissions(engine, OrderIntent(
                contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS))
    journal = Journal.open_read_only(path)
    fills = [p["fill"]["execution_id"] for _, kind, p in journal.events()
             if kind is EventKind.FILL]
    commissions = [p["execution_id"] for _, kind, p in journal.events()
                   if kind is EventKind.NOTE and p["what"] == "commission"]
    assert fills and sorted(commissions) == sorted(fills)


async def test_a_restart_counts_the_re_reported_executions_in_one_line(
    served: Served, tmp_path: Path
) -> None:
    """Through IB a start brings the day's executions and their commissions again: each
    execution journaled before is counted, not logged one by one (a commission re-report
    between them does not end the count)."""
    path = tmp_path / "j.sqlite"
    with capture_logs() as logs:
        for _ in range(3):
            async with open_ib_hydra(served, path, FAST) as engine:
                await _worked_with_commissions(engine, OrderIntent(
                    contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS))
    assert [e for e in logs if e["event"] == "duplicate_execution_ignored"] == []
    counts = [e["count"] for e in logs if e["event"] == "duplicate_executions_ignored"]
    fills = [e for e in logs if e["event"] == "fill"]
    # The second start re-reports one execution, the third two, each both on IB's stream at
    # connect and in the start's own resync: at most those two bursts a start.
    assert len(fills) == 3 and len(counts) <= 4 and sum(counts) == 2 * (1 + 2)


async def test_an_order_whose_step_ib_refuses_is_still_cancelled_and_confirmed(
    served: Served, tmp_path: Path
) -> None:
    """The ladder's cross would trade against the account's own resting sell: the gateway
    refuses the modification (201) and ib_async marks the trade Cancelled though the bid still
    works. The patience order's cancel is then confirmed and the intent reports CANCELLED (it
    was left unconfirmed and Hydra stopped with the order unmanaged)."""
    other = attrs.evolve(FAST.broker, port=served.gateway.port, client_id=9)
    async with open_ib_broker(other) as seller:
        await seller.place(OrderRequest(
            client_order_id=ClientOrderId("m.1"), intent_id=IntentId("m"), contract=OATS,
            side=Side.SELL, quantity=1, limit_price=served.exchange.quote("ZO").ask))
        async with open_ib_hydra(served, tmp_path / "j.sqlite") as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1))
            report = await handle.wait_done()
    assert report.filled == 0
    assert [child.status for child in report.children] == [OrderStatus.CANCELLED]
    assert [o.client_order_id for o in served.exchange.open_orders()] == ["m.1"]
