"""Regressions of the risk rebuild, each through the whole engine on the simulated exchange:
latching breakers, the kill and brackets, a place racing a disconnect, bad broker data, giving
up on a reconnect, and a close beyond the order-size limit."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing
from simulated import journal_notes, last_statuses, open_engine, quiet_oats

from hydra import (
    OATS,
    BackoffSettings,
    BracketIntent,
    BrokerConnectionError,
    BrokerSettings,
    ExecutionSettings,
    Fill,
    HydraConfig,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    OrderType,
    Policy,
    RiskLimits,
    Side,
    TradingState,
)
from hydra._errors import UnmanagedOrdersError
from hydra._ids import ClientOrderId, ExecutionId, unstamped
from hydra._journal import Journal
from hydra._journal_actor import run_inline
from hydra._open_hydra import open_hydra
from hydra._settings import BreakerSettings
from hydra._stop_reasons import leaves
from hydra.brokers import BrokerEvent, FillReported
from hydra.sim import (
    BadQuotes,
    Disconnect,
    DisplayedSize,
    Gap,
    MarketParams,
    SimBroker,
    SimExchange,
    SimParams,
    open_sim_exchange,
)

# --- reading the journal -------------------------------------------------------------------------






def _live_at(exchange: SimExchange) -> set[str]:
    return {unstamped(order.client_order_id) for order in exchange.open_orders()}



# --- fakes around a SimBroker ---------------------------------------------------------------------


class SlowFirstPlace:
    """A SimBroker whose first ``place`` takes ``delay`` seconds before it reaches the
    exchange (a gateway stalled mid-call); everything else is the SimBroker's."""

    def __init__(self, broker: SimBroker, *, delay: float) -> None:
        self._broker = broker
        self._delay = delay
        self.placed: list[tuple[float, str]] = []  # (virtual time reached the broker, id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._broker, name)

    async def place(self, request: OrderRequest) -> None:
        if not self.placed:
            self.placed.append((math.nan, unstamped(request.client_order_id)))
            await trio.sleep(self._delay)
            self.placed[0] = (trio.current_time(), unstamped(request.client_order_id))
        else:
            self.placed.append((trio.current_time(), unstamped(request.client_order_id)))
        await self._broker.place(request)


class InjectingBroker:
    """A SimBroker whose event stream also carries whatever the test pushes with `push`."""

    def __init__(self, broker: SimBroker) -> None:
        self._broker = broker
        self._send, self._events = trio.open_memory_channel[BrokerEvent](math.inf)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._broker, name)

    def events(self) -> trio.MemoryReceiveChannel[BrokerEvent]:
        return self._events

    def push(self, event: BrokerEvent) -> None:
        self._send.send_nowait(event)

    async def forward(self) -> None:
        """Copy the SimBroker's events into the merged stream until it ends."""
        async with self._broker.events() as events:
            async for event in events:
                self._send.send_nowait(event)


@asynccontextmanager
async def _open_injecting(
    exchange: SimExchange, path: Path, config: HydraConfig | None = None
) -> AsyncIterator[tuple[Any, InjectingBroker]]:
    broker = InjectingBroker(SimBroker(exchange, client_id=1))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(broker.forward)
        async with open_hydra(config or HydraConfig(), broker, journal_path=path,  # type: ignore[arg-type]
                              offload=run_inline,
                              clock=lambda: exchange.timestamp(trio.current_time())) as engine:
            yield engine, broker
        nursery.cancel_scope.cancel(reason="test over")


def _fill(exchange: SimExchange, coid: str, exec_id: str, *, quantity: int,
          price: Decimal = Decimal("349.25")) -> FillReported:
    """An execution as a broker reports it (a price of 0 included)."""
    fill = Fill(execution_id=ExecutionId(exec_id), client_order_id=ClientOrderId(coid),
                symbol="ZO", side=Side.BUY, price=price, quantity=quantity,
                time=exchange.timestamp(trio.current_time()))
    return FillReported(fill=fill)


# --- 1. the daily-loss breaker latches ------------------------------------------------------------

REDUCING_ON_LOSS = HydraConfig(risk=RiskLimits(
    daily_loss_limit=1000, breakers=BreakerSettings(daily_loss=TradingState.REDUCING)))


async def test_daily_loss_breaker_latches_through_recovery_and_restart(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A 20-cent gap against 2 long lots (2000 USD, limit 1000) latches REDUCING: the next buy
    is refused even after the price gaps back (the old design re-judged the breaker on each
    order and let it through), a sell that reduces still goes out, and a restart on the same
    day is still latched."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(gaps=(Gap(at=100.0, change=Decimal("-20")),
                              Gap(at=200.0, change=Decimal("20"))))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path, REDUCING_ON_LOSS) as engine:
            bought = await (await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=2, policy=Policy.CROSS))).wait_done()
            assert bought.filled == 2
            await trio.sleep_until(exchange.origin + 110.0)
            refused = await (await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS))).wait_done()
            assert refused.blocked and "daily_loss" in (refused.block_reason or "")
            assert engine.statistics().trading_state is TradingState.REDUCING
            await trio.sleep_until(exchange.origin + 210.0)  # the price is back where it was
            again = await (await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS))).wait_done()
            assert again.blocked and "latched" in (again.block_reason or "")
            sold = await (await engine.submit(OrderIntent(
                contract=OATS, side=Side.SELL, quantity=1, policy=Policy.CROSS))).wait_done()
            assert not sold.blocked and sold.filled == 1
            assert engine.statistics().trading_state is TradingState.REDUCING
        async with open_engine(exchange, path, REDUCING_ON_LOSS) as engine:
            assert engine.statistics().trading_state is TradingState.REDUCING
            after = await (await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS))).wait_done()
            assert after.blocked and "daily_loss" in (after.block_reason or "")
    states = journal_notes(path, "trading_state")
    assert states[0]["state"] == "REDUCING" and "daily_loss" in states[0]["reason"]
    assert [n["cause"] for n in journal_notes(path, "breaker_tripped")] == ["daily_loss"]
    assert journal_notes(path, "risk_state_restored")[0]["latched"] == ["daily_loss"]


# --- 2. the kill keeps a bracket's stop -----------------------------------------------------------

BRACKET = BracketIntent(contract=OATS, side=Side.BUY, quantity=2,
                        entry_price=Decimal("350.25"), take_profit_price=Decimal("352.00"),
                        stop_price=Decimal("348.50"), stop_limit_price=Decimal("348.25"),
                        intent_id="br")


async def test_kill_keeps_the_stop_of_a_filled_bracket_working(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """After a kill with a filled bracket entry, its protective stop (and the take-profit in
    its OCA group) still work at the exchange: the old kill cancelled every order."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite") as engine:
            await engine.submit_bracket(BRACKET)
            await trio.sleep(5)
            assert _live_at(exchange) == {"br.2", "br.3"}  # the entry filled at once
            await engine.kill("drill")
            await trio.sleep(1)
            assert engine.statistics().trading_state is TradingState.HALTED
            stops = [unstamped(o.client_order_id) for o in exchange.open_orders()
                     if o.request.order_type is OrderType.STOP_LIMIT]
            assert stops == ["br.3"]
            assert _live_at(exchange) == {"br.2", "br.3"}


async def test_close_position_flattens_a_bracket_position_after_a_kill(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """After a kill with a filled bracket entry, close_position is allowed and flattens the
    2 lots, as Engine.kill's docstring promises."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite") as engine:
            await engine.submit_bracket(BRACKET)
            await trio.sleep(5)
            await engine.kill("drill")
            closing = await (await engine.close_position(OATS, intent_id="flat")).wait_done()
            assert not closing.blocked, closing.block_reason
            assert closing.filled == 2
            assert sum(p.quantity for p in exchange.positions()) == 0


# --- 3. a place in flight across a disconnect -----------------------------------------------------


async def test_a_place_stalled_across_a_disconnect_leaves_journal_and_exchange_agreeing(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The first place takes 3 s while the link drops at 0.5 s for 0.4 s: the engine lives on,
    and no order is live at the exchange that the journal calls CANCELLED (the old design
    settled the order as gone on the resync while the place was still in flight)."""
    path = tmp_path / "j.sqlite"
    params = attrs.evolve(quiet_oats(spread_ticks=6),
                          faults=(Disconnect(at=0.5, duration=0.4),))
    async with open_sim_exchange(params, seed=1) as exchange:
        broker = SlowFirstPlace(SimBroker(exchange, client_id=1), delay=3.0)
        async with open_hydra(HydraConfig(), broker, journal_path=path,  # type: ignore[arg-type]
                              offload=run_inline,
                              clock=lambda: exchange.timestamp(trio.current_time())) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                                     policy=Policy.PASSIVE, intent_id="race"))
            await trio.sleep_until(exchange.origin + 10.0)
            assert broker.placed[0] == (pytest.approx(exchange.origin + 3.0), "race.1")
            statuses = last_statuses(path)
            assert _live_at(exchange) == {"race.1"}
            assert statuses["race.1"] is OrderStatus.WORKING  # not settled as gone on resync
            assert engine.statistics().session_up
            engine.cancel("race")
            await handle.wait_done()
        assert exchange.open_orders() == ()
    statuses = last_statuses(path)
    assert statuses["race.1"] is OrderStatus.CANCELLED
    assert not journal_notes(path, "unrecoverable_error")


# --- 4. bad broker data never ends the engine -----------------------------------------------------


async def test_bad_quotes_during_a_patience_intent_do_not_end_the_engine(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Crossed quotes from 55 s to 75 s, over the ladder's step at 60 s, count as one unusable
    episode; the intent still reports and the engine still trades afterwards."""
    path = tmp_path / "j.sqlite"
    params = attrs.evolve(quiet_oats(spread_ticks=6),
                          faults=(BadQuotes(at=55.0, duration=20.0, problem="crossed"),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                                     intent_id="patient"))
            report = await handle.wait_done()
            assert engine.statistics().unusable_quote_episodes >= 1
            later = await (await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS))).wait_done()
            assert later.filled == 1
    assert report.intent_id == "patient" and report.filled == 2
    assert report.children[0].quote_waits >= 1
    assert report.children[0].quote_problem == "crossed"
    assert next(n["intent_id"] for n in journal_notes(path, "intent_finished")) == "patient"
    assert not journal_notes(path, "unrecoverable_error")


async def test_anomalous_executions_halt_without_ending_the_engine(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """An execution of 6 lots for a 2-lot order and one for an order nobody placed each
    journal a broker_anomaly and latch HALTED, the orders are cancelled, and open_hydra still
    closes cleanly (the old design raised out of the risk actor and ended Hydra)."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with _open_injecting(exchange, path) as (engine, broker):
            for name in ("over", "other"):
                await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                                policy=Policy.PASSIVE, intent_id=name))
            await trio.sleep(1)
            assert _live_at(exchange) == {"over.1", "other.1"}
            over = f"{Journal.open_read_only(path).journal_id}:over.1"  # as Hydra placed it
            broker.push(_fill(exchange, over, "x-over", quantity=6))
            broker.push(_fill(exchange, "ghost.1", "x-ghost", quantity=1))
            await trio.sleep(1)
            assert engine.statistics().trading_state is TradingState.HALTED
            assert exchange.open_orders() == ()
    anomalies = [n for n in journal_notes(path, "broker_anomaly") if "problem" in n]
    assert [unstamped(n["client_order_id"]) for n in anomalies] == ["over.1", "ghost.1"]
    assert "6 lots for an order with 2 of 2 remaining" in anomalies[0]["problem"]
    assert "does not know" in anomalies[1]["problem"]
    assert journal_notes(path, "engine_stopped") and not journal_notes(path, "unrecoverable_error")


async def test_a_price_zero_execution_halts_without_ending_the_engine(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """An execution at price 0 for a resting order journals a broker_anomaly and latches
    HALTED; the intent reports with no average price, and open_hydra still closes cleanly."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with _open_injecting(exchange, path) as (engine, broker):
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                            policy=Policy.PASSIVE, intent_id="zero"))
            await trio.sleep(1)
            broker.push(_fill(exchange, "zero.1", "x-zero", quantity=1, price=Decimal(0)))
            await trio.sleep(1)
            assert engine.statistics().trading_state is TradingState.HALTED
            assert exchange.open_orders() == ()
    anomalies = [n for n in journal_notes(path, "broker_anomaly") if "problem" in n]
    assert [n["client_order_id"] for n in anomalies] == ["zero.1"]
    assert "price 0 is not a positive number" in anomalies[0]["problem"]
    assert journal_notes(path, "engine_stopped") and not journal_notes(path, "unrecoverable_error")


def test_the_ib_adapter_reports_a_price_zero_execution_as_a_fill() -> None:
    """IB's execution at price 0.0 becomes a FillReported the risk book can judge as a broker
    anomaly, not an exception in the IB translator."""
    import datetime as dt

    from ib_async import CommissionReport, Execution
    from ib_async import Fill as IBFill
    from ib_async import Future as IBFuture

    from hydra._ids import IntentId
    from hydra.ib._seen import ExecutionSeen
    from hydra.ib._translate import Translator

    time = dt.datetime(2025, 3, 3, 15, 0, tzinfo=dt.UTC)
    translator = Translator()
    translator.placed(OrderRequest(client_order_id=ClientOrderId("z.1"),
                                   intent_id=IntentId("z"), contract=OATS, side=Side.BUY,
                                   quantity=2, limit_price=Decimal("340.25")), 7)
    execution = Execution(execId="e0", time=time, side="BOT", shares=1, price=0.0, orderId=7,
                          clientId=1, orderRef="z.1")
    seen = ExecutionSeen(client_order_id=ClientOrderId("z.1"),
                         fill=IBFill(IBFuture(symbol="ZO"), execution, CommissionReport(), time))
    events = translator.translate(seen)
    assert [type(e) for e in events] == [FillReported]


# --- 5. giving up on the reconnect ----------------------------------------------------------------


async def test_giving_up_the_reconnect_names_the_resting_order_unmanaged(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """With two 1-second reconnect tries against a long disconnect, open_hydra ends with
    UnmanagedOrdersError naming the resting order, journaled as order_unmanaged (the old
    design journaled it CANCELLED though it was still working at the exchange)."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(broker=BrokerSettings(
        backoff=BackoffSettings(max_tries=2, initial=1, cap=1, jitter=0.0)))
    params = attrs.evolve(quiet_oats(spread_ticks=6),
                          faults=(Disconnect(at=5.0, duration=10_000.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        with pytest.RaisesGroup(BrokerConnectionError, UnmanagedOrdersError,
                                flatten_subgroups=True) as raised:
            async with open_engine(exchange, path, config) as engine:
                await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                                policy=Policy.PASSIVE, intent_id="rest"))
                await trio.sleep(1000)
        # down at 5 s, tries at 6 and 7 s; the worker's cancel is held for the link (no
        # confirmation to wait for), and the finalizer does not wait on a link that is down
        assert trio.current_time() - exchange.origin == pytest.approx(7.0)
        assert _live_at(exchange) == {"rest.1"}  # really left at the exchange
    unmanaged = [e for e in leaves(raised.value) if isinstance(e, UnmanagedOrdersError)]
    assert [[unstamped(c) for c in e.client_order_ids] for e in unmanaged] == [["rest.1"]]
    assert [unstamped(n["client_order_id"]) for n in journal_notes(path, "order_unmanaged")] == [
        "rest.1"]
    assert last_statuses(path)["rest.1"] is OrderStatus.WORKING


# --- 6. a close larger than the order-size limit --------------------------------------------------

DEEP_OATS = SimParams(markets=(MarketParams.oats(
    adv=0, daily_volatility=0.0, spread_ticks=((1, 1.0),),
    displayed_size=DisplayedSize.fixed(200), impact_ticks_per_lot=0.0),))


async def test_close_position_beyond_the_order_limit_is_worked_in_orders_within_it(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Closing 68 lots under max_order_quantity 50 sends orders of at most 50 that together
    fill 68 (the old close sent one 68-lot order, which risk refused)."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(risk=RiskLimits(max_order_quantity=50),
                         execution=ExecutionSettings(patience=10.0))
    async with open_sim_exchange(DEEP_OATS, seed=1) as exchange:
        async with open_engine(exchange, path, config) as engine:
            for quantity in (50, 18):
                bought = await (await engine.submit(OrderIntent(
                    contract=OATS, side=Side.BUY, quantity=quantity,
                    policy=Policy.CROSS))).wait_done()
                assert bought.filled == quantity
            assert sum(p.quantity for p in exchange.positions()) == 68
            closing = await (await engine.close_position(OATS, intent_id="flat")).wait_done()
    assert not closing.blocked, closing.block_reason
    assert closing.children and all(c.quantity <= 50 for c in closing.children)
    assert closing.filled == 68 == sum(c.filled for c in closing.children)
    assert sum(p.quantity for p in exchange.positions()) == 0
