"""A ladder that ends while the link is down: its cancel cannot go out, so its order is still
Hydra's until the broker says it is over (the cancel goes again after the reconnect's resync,
which tells what filled meanwhile); the report is final only then, and a TWAP never works
again the lots that order may still fill."""

from __future__ import annotations

import tempfile
from pathlib import Path

import attrs
import pytest
import trio
import trio.testing
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hydra import (
    OATS,
    ExecutionSettings,
    HydraConfig,
    OrderIntent,
    OrderStatus,
    Policy,
    Side,
)
from hydra._errors import UnmanagedOrdersError
from hydra._ids import ClientOrderId, unstamped
from hydra._journal_actor import run_inline
from hydra._open_hydra import open_hydra
from hydra._patience import CANCEL_HELD
from hydra._reports import ExecutionReport
from hydra._settings import BackoffSettings, BrokerSettings
from hydra.sim import (
    Disconnect,
    DisplayedSize,
    ScriptedFlow,
    SimBroker,
    SimExchange,
    open_sim_exchange,
)
from tests.simulated import journal_notes, last_statuses, open_engine, quiet_oats, stop_intent

STEADY_RECONNECT = BrokerSettings(backoff=BackoffSettings(jitter=0.0))
"""Reconnect tries without jitter: the resync's time is a round number."""


async def _worked(exchange: SimExchange, path: Path, config: HydraConfig,
                  intent: OrderIntent) -> tuple[ExecutionReport, float, int]:
    """Work ``intent`` to its report; then give whatever still rests 600 s to fill. The
    report, when it came (seconds after the open), and the position held at the exchange."""
    async with open_engine(exchange, path, config) as engine:
        handle = await engine.submit(intent)
        report = await handle.wait_done()
        done_at = trio.current_time() - exchange.origin
        await trio.sleep(600)
    return report, done_at, sum(p.quantity for p in exchange.positions())


async def test_a_patience_ladder_ending_while_the_link_is_down_reports_what_the_broker_filled(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """8 lots with patience on a two-tick oats market 20 lots deep, the link down from 80 s to
    180 s: the ladder's crossing step (90 s) is refused, its end (105 s) cannot cancel, and
    sell flow fills the 8 resting lots at 150 s while the link is down. Before the fix the
    intent reported WORKING with 0 filled at 115 s (its cancel's 10 s wait) and left the order
    to no one. Expected: the report waits for the reconnect's resync (201 s) and says
    FILLED, 8."""
    params = attrs.evolve(
        quiet_oats(displayed_size=DisplayedSize.fixed(20),
                   flows=(ScriptedFlow(at=150.0, side=Side.SELL, quantity=40),)),
        faults=(Disconnect(at=80.0, duration=100.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        report, done_at, held = await _worked(
            exchange, tmp_path / "j.sqlite", HydraConfig(broker=STEADY_RECONNECT),
            OrderIntent(contract=OATS, side=Side.BUY, quantity=8, policy=Policy.PATIENCE))
    assert held == 8
    assert report.filled == 8
    assert [c.status for c in report.children] == [OrderStatus.FILLED]
    assert done_at == 201.0  # the reconnect's resync (tries 1, 2, 4, 8, 16, 30, 30, 30 s)


async def test_lots_resting_ahead_whose_cancel_waits_on_the_link_are_not_worked_again(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """15 lots in three 100 s slices with ``twap_ahead`` 50 on a one-tick oats market 20 lots
    deep: slice 1 takes at its step (57 s), then slices 2 and 3's 10 lots rest ahead at the
    bid; the link is down from 80 s to 140 s, so their cancel at 100 s cannot go out, and sell
    flow fills them at 130 s. Before the fix the ahead order was reported with 0 filled at
    110 s and slice 3 bought the 10 lots again at 200 s: 25 long for 15. Expected: 15, all
    reported, the ahead order's at the reconnect's resync (141 s), the TWAP's at slice 3's
    start (200 s), with nothing left to buy."""
    config = HydraConfig(execution=ExecutionSettings(twap_slices=3, twap_horizon=300.0,
                                                     twap_jitter=0.0, twap_ahead=50),
                         broker=STEADY_RECONNECT)
    params = attrs.evolve(
        quiet_oats(spread_ticks=1, displayed_size=DisplayedSize.fixed(20),
                   flows=(ScriptedFlow(at=130.0, side=Side.SELL, quantity=40),)),
        faults=(Disconnect(at=80.0, duration=60.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        report, done_at, held = await _worked(
            exchange, tmp_path / "j.sqlite", config,
            OrderIntent(contract=OATS, side=Side.BUY, quantity=15))
    assert held == 15
    assert report.filled == 15
    assert all(c.status.is_final for c in report.children), report.children
    assert done_at == 200.0


@pytest.mark.parametrize("stop", ["cancel", "kill"])
async def test_an_intent_stopped_while_the_link_is_down_reports_what_the_broker_filled(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, stop: str
) -> None:
    """8 lots resting passively on a two-tick market, the link down from 20 s to 120 s, the
    intent cancelled (or the engine killed) at 40 s: its cancel cannot go out, and sell flow
    fills the 8 lots at 60 s.
    The intent reports at 50 s (its cancel's 10 s wait) WORKING with 0 filled, where the broker
    filled 8 (no lot is worked again: the intent is over). Expected: its report says 8."""
    params = attrs.evolve(
        quiet_oats(displayed_size=DisplayedSize.fixed(20),
                   flows=(ScriptedFlow(at=60.0, side=Side.SELL, quantity=40),)),
        faults=(Disconnect(at=20.0, duration=100.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite",
                               HydraConfig(broker=STEADY_RECONNECT)) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=8,
                                                     policy=Policy.PASSIVE))
            await trio.sleep(40)
            await stop_intent(engine, handle, stop)
            report = await handle.wait_done()
            await trio.sleep(600)
        held = sum(p.quantity for p in exchange.positions())
    assert held == 8
    assert report.filled == held


async def _twap_across_a_disconnect(path: Path, *, down_at: float, down_for: float,
                                    flow_at: float, ahead: int) -> None:
    config = HydraConfig(execution=ExecutionSettings(twap_slices=4, twap_horizon=400.0,
                                                     twap_jitter=0.0, twap_ahead=ahead))
    params = attrs.evolve(
        quiet_oats(displayed_size=DisplayedSize.fixed(20),
                   flows=(ScriptedFlow(at=flow_at, side=Side.SELL, quantity=40),)),
        faults=(Disconnect(at=down_at, duration=down_for),))
    async with open_sim_exchange(params, seed=1) as exchange:
        report, _, held = await _worked(exchange, path, config,
                                        OrderIntent(contract=OATS, side=Side.BUY, quantity=15))
    assert held <= 15
    assert report.filled == held
    assert all(c.status.is_final for c in report.children), report.children


@settings(max_examples=10, deadline=None)
@given(down_at=st.floats(1.0, 400.0), down_for=st.floats(1.0, 150.0),
       flow_at=st.floats(0.0, 500.0), ahead=st.sampled_from([0, 50]))
@example(down_at=150.0, down_for=100.0, flow_at=260.0, ahead=0)
@example(down_at=80.0, down_for=100.0, flow_at=150.0, ahead=50)
def test_a_twap_across_a_disconnect_never_buys_more_than_its_quantity(
    down_at: float, down_for: float, flow_at: float, ahead: int
) -> None:
    """15 lots in four 100 s slices (with lots ahead or not), the link down at any time in
    the horizon for up to 150 s, sell flow at any time: never more than 15 bought, and the
    report's filled is the position at the exchange."""
    with tempfile.TemporaryDirectory() as directory:
        trio.run(lambda: _twap_across_a_disconnect(
            Path(directory) / "j.sqlite", down_at=down_at, down_for=down_for,
            flow_at=flow_at, ahead=ahead), clock=trio.testing.MockClock(autojump_threshold=0))


class _LosingFirstCancels(SimBroker):
    """IB refusing a message over its rate limit (error 100, which names no order): the first
    cancel of each order that reaches the broker never reaches the exchange."""

    def __init__(self, exchange: SimExchange) -> None:
        super().__init__(exchange, client_id=1)
        self.lost: list[str] = []

    async def cancel(self, client_order_id: ClientOrderId) -> None:
        if client_order_id in self.lost:
            await super().cancel(client_order_id)
            return
        self.lost.append(client_order_id)
        await trio.lowlevel.checkpoint()


async def test_a_held_cancel_sent_after_the_resync_and_lost_keeps_its_confirmation_limit(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """2 lots resting passively, the link down from 20 s to 120 s: the ladder's end (105 s)
    holds its cancel, the resync (141 s) sends it, and the broker loses it. The ladder waits
    for that cancel's confirmation CANCEL_CONFIRM_SECONDS, as for any sent cancel (never for
    ever), and reports at 151 s; the finalizer cancels again at the close. Before the fix
    the ladder reported at 115 s, 10 s after a cancel that had not gone out."""
    path = tmp_path / "j.sqlite"
    params = attrs.evolve(quiet_oats(), faults=(Disconnect(at=20.0, duration=100.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        broker = _LosingFirstCancels(exchange)
        async with open_hydra(HydraConfig(broker=STEADY_RECONNECT), broker, journal_path=path,
                              offload=run_inline,
                              clock=lambda: exchange.timestamp(trio.current_time())) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                                     policy=Policy.PASSIVE, intent_id="rest"))
            report = await handle.wait_done()
            assert trio.current_time() - exchange.origin == 151.0
        assert exchange.open_orders() == ()
    assert [unstamped(c) for c in broker.lost] == ["rest.1"]
    assert report.filled == 0
    assert last_statuses(path) == {"rest.1": OrderStatus.CANCELLED}
    assert journal_notes(path, "order_unmanaged") == []


async def test_hydra_closing_before_the_reconnect_says_the_held_order_still_works(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """8 lots resting passively, the link down from 20 s for 400 s, the intent cancelled at
    40 s: its cancel is held, and Hydra is closed at 60 s, done at 90 s (its 30 s drain),
    before the link comes back. The intent's report says the order still works at the
    broker (never that it is over), the journal has it unmanaged with its cancel asked for,
    and the next start (the link back) completes that cancel: nothing is worked again,
    nothing left resting."""
    path = tmp_path / "j.sqlite"
    params = attrs.evolve(quiet_oats(displayed_size=DisplayedSize.fixed(20)),
                          faults=(Disconnect(at=20.0, duration=400.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        with pytest.RaisesGroup(UnmanagedOrdersError, flatten_subgroups=True):
            async with open_engine(exchange, path) as engine:
                handle = await engine.submit(OrderIntent(
                    contract=OATS, side=Side.BUY, quantity=8, policy=Policy.PASSIVE,
                    intent_id="held"))
                await trio.sleep(40)
                handle.cancel()
                await trio.sleep(20)
        report = handle.report
        assert report is not None
        assert trio.current_time() - exchange.origin == 90.0  # 60 s and the 30 s drain
        assert [unstamped(c) for c in {o.request.client_order_id
                                       for o in exchange.open_orders()}] == ["held.1"]
        (child,) = report.children
        assert child.status is OrderStatus.WORKING and child.filled == 0
        assert child.reason is not None and child.reason.endswith(CANCEL_HELD)
        assert [unstamped(n["client_order_id"]) for n in journal_notes(
            path, "order_unmanaged")] == ["held.1"]
        assert [unstamped(n["client_order_id"]) for n in journal_notes(
            path, "cancel_requested")] == ["held.1"]
        await trio.sleep_until(exchange.origin + 500.0)
        async with open_engine(exchange, path) as engine:
            await trio.sleep(30)
        assert exchange.open_orders() == ()
        assert exchange.statistics().orders == 1
    assert last_statuses(path) == {"held.1": OrderStatus.CANCELLED}


async def test_a_kill_while_the_link_is_down_returns_at_once_and_the_report_waits_for_the_resync(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """8 lots resting passively, the link down from 20 s to 120 s, the engine killed at 40 s:
    the kill returns at once (the intent has stopped working; its order's cancel is held),
    and the intent's report comes at the reconnect's resync (141 s) with the 8 lots sell
    flow filled at 60 s. Before the fix the kill returned at 50 s (10 s waiting for a
    confirmation that could not come) and the report said 0 filled."""
    params = attrs.evolve(
        quiet_oats(displayed_size=DisplayedSize.fixed(20),
                   flows=(ScriptedFlow(at=60.0, side=Side.SELL, quantity=40),)),
        faults=(Disconnect(at=20.0, duration=100.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite",
                               HydraConfig(broker=STEADY_RECONNECT)) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=8,
                                                     policy=Policy.PASSIVE))
            await trio.sleep(40)
            await engine.kill()
            assert trio.current_time() - exchange.origin == 40.0
            assert not handle.done
            report = await handle.wait_done()
            assert trio.current_time() - exchange.origin == 141.0
    assert report.filled == 8
    assert [c.status for c in report.children] == [OrderStatus.FILLED]
