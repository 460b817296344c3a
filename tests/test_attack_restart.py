"""Attacks on restart and shutdown: each test showed a defect on the code before its fix."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import trio

from hydra import (
    OATS,
    ExecutionSettings,
    HydraConfig,
    OrderIntent,
    OrderStatus,
    Policy,
    Side,
    TradingState,
)
from hydra._bracket import BracketIntent
from hydra._engine import Engine
from hydra._enums import NoteKind
from hydra._errors import RiskDeniedError
from hydra._ids import ClientOrderId, IntentId
from hydra._journal import EventKind, Journal
from hydra._journal_actor import run_inline
from hydra._journal_calls import RecordNote
from hydra._open_hydra import open_hydra
from hydra._settings import RiskLimits, ShutdownSettings
from hydra.sim import ScriptedFlow, SimBroker, SimExchange, open_sim_exchange
from tests.journal_surgery import (
    crash_once,
    drop_wal,
    kill_once_the_bracket_filled,
    lose_events_from_ack,
    lose_events_from_order,
)
from tests.simulated import open_engine, quiet_oats, still_oats
from tests.test_attack_witness import LEAVE

TWAP_SLOW = ExecutionSettings(twap_slices=3, twap_horizon=300.0, twap_jitter=0.0, patience=10.0)


async def test_a_fill_made_while_hydra_was_down_is_counted_once_in_the_restart_position(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A passive bid of 2 works when Hydra dies (right after its ack is journaled) and fills
    at 50 s while Hydra is down. The restart's book starts from the broker's positions (2
    held) and its resync journals the fill: booked again, the book held 4, and with
    max_position 3 a buy of 1 was refused. Expected: the buy of 1 fills, 3 held."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(risk=RiskLimits(max_position=3))
    params = quiet_oats(spread_ticks=6, flows=(ScriptedFlow(at=50.0, side=Side.SELL,
                                                            quantity=10),))
    async with open_sim_exchange(params, seed=1) as exchange:
        crash = crash_once(path, lambda j: any(k is EventKind.ACK for _, k, _ in j.events()))
        with pytest.raises(BaseExceptionGroup):
            async with open_engine(exchange, path, config, offload=crash) as engine:
                await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                                policy=Policy.PASSIVE, intent_id="rest"))
                await trio.sleep_until(exchange.origin + 20.0)
        await trio.sleep_until(exchange.origin + 60.0)
        refused = None
        async with open_engine(exchange, path, config) as engine:
            for handle in engine.adopted:
                await handle.wait_done()
            try:
                await (await engine.submit(OrderIntent(
                    contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS,
                    intent_id="one"))).wait_done()
            except RiskDeniedError as error:
                refused = str(error)
        held = sum(p.quantity for p in exchange.positions())
    assert (refused, held) == (None, 3)


async def _round_trips(engine: Engine, count: int) -> None:
    """Buy 1 at the ask and sell it at the bid, ``count`` times: each loses the spread."""
    for n in range(count):
        for side in (Side.BUY, Side.SELL):
            await (await engine.submit(OrderIntent(
                contract=OATS, side=side, quantity=1, policy=Policy.CROSS,
                intent_id=f"{side.value}-{n}"))).wait_done()


async def test_a_fill_journaled_after_the_last_risk_state_still_counts_in_the_days_loss(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Three losing round trips of 1 lot (a tick of spread and 5 dollars of commission: 17.50
    each); Hydra dies right after the last sell's fill is journaled, before the risk state
    that would count it. The restart restored the day's loss from the snapshot before that
    fill: 37.50 (two trips and a buy's commission), under the limit of 48, and a new buy went
    out. Expected: the replayed fill makes the loss 52.50, and the daily loss breaker blocks
    the buy."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(risk=RiskLimits(daily_loss_limit=Decimal(48)))
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        crash = crash_once(path, lambda j: sum(f.quantity for f in j.fills()
                                                  if f.side is Side.SELL) == 3)
        with pytest.raises(BaseExceptionGroup):
            async with open_engine(exchange, path, config, offload=crash) as engine:
                await _round_trips(engine, 3)
        assert sum(p.quantity for p in exchange.positions()) == 0
        async with open_engine(exchange, path, config) as engine:
            report = await (await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS,
                intent_id="after"))).wait_done()
            state = engine.statistics().trading_state
    assert (report.filled, report.blocked, state) == (0, True, TradingState.HALTED)
    assert exchange.statistics().orders == 6


async def test_a_bracket_whose_exits_the_journal_both_lost_is_followed_as_a_bracket(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A bracket's entry filled (2 long) and Hydra was killed; a lost -wal keeps the entry but
    loses both exits' orders, which work at the broker. Restarted with adopt_unknown, both
    exits are taken as the broker holds them: still working, the bracket followed (not
    reported as cut off before its legs were sent, which would cancel what was found)."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(flows=(ScriptedFlow(at=5.0, side=Side.SELL, quantity=2),))
    async with open_sim_exchange(params, seed=1) as exchange:
        await kill_once_the_bracket_filled(exchange, path)
        legs = sorted(o.client_order_id for o in exchange.open_orders())
        drop_wal(path)
        lose_events_from_order(path, legs[0])
        async with open_engine(exchange, path, LEAVE, adopt_unknown=True) as engine:
            await trio.sleep(30)
            working = sorted(o.client_order_id for o in exchange.open_orders())
            followed = [h.intent.intent_id for h in engine.adopted if not h.done]
    (resumed,) = Journal.open_read_only(path).notes("intent_resumed")
    assert (working, followed, resumed["lost_legs"]) == (legs, ["bracket"], legs)
    assert Journal.open_read_only(path).notes("intent_interrupted") == []


def _after_modify_notes(count: int, written: trio.Event) -> Callable[[Any], Any]:
    """A journal offload that sets ``written`` once ``count`` modify notes are written."""
    notes = 0

    async def offload(work: functools.partial[Any]) -> Any:
        nonlocal notes
        results = await run_inline(work)
        notes += sum(isinstance(call.__self__, RecordNote)
                     and call.__self__.what is NoteKind.MODIFY for call in work.args[0])
        if notes >= count:
            written.set()
        return results

    return offload


class _RecordingBroker(SimBroker):
    """A SimBroker that records each modify and cancel it is asked for, in order."""

    def __init__(self, exchange: SimExchange) -> None:
        super().__init__(exchange, client_id=1)
        self.calls: list[tuple[str, ClientOrderId]] = []

    async def modify(self, client_order_id: ClientOrderId, *, limit_price: Decimal,
                     quantity: int | None = None) -> None:
        self.calls.append(("modify", client_order_id))
        await super().modify(client_order_id, limit_price=limit_price, quantity=quantity)

    async def cancel(self, client_order_id: ClientOrderId) -> None:
        self.calls.append(("cancel", client_order_id))
        await super().cancel(client_order_id)


async def test_slices_cancelled_mid_modify_during_the_drain_are_never_modified_after(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Two TWAPs' first slices (bids of 2) step at 400/7 s while Hydra drains (the close has
    begun): the first modify takes the pacing token, the second waits for the next one (22
    ms), and a second stop signal (the runner's `cancel_all`) cancels both intents then.
    The cancels, served first, overtook the waiting modify, which then went to the broker
    for an order already cancelled. Expected: no order modified after its cancel."""
    path = tmp_path / "j.sqlite"
    modifying = trio.Event()
    config = HydraConfig(execution=TWAP_SLOW, shutdown=ShutdownSettings(drain_timeout=600.0))
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        broker = _RecordingBroker(exchange)
        stopping: list[float] = []
        async with trio.open_nursery() as signals:
            async with open_hydra(config, broker, journal_path=path,
                                  offload=_after_modify_notes(2, modifying),
                                  clock=lambda: exchange.timestamp(trio.current_time())
                                  ) as engine:
                handles = [await engine.submit(OrderIntent(
                    contract=OATS, side=Side.BUY, quantity=6, policy=Policy.TWAP,
                    intent_id=name)) for name in ("a", "b")]

                async def second_signal() -> None:
                    await modifying.wait()
                    stopping.append(trio.current_time() - exchange.origin)
                    await engine.cancel_all()
                    stopping.append(trio.current_time() - exchange.origin)

                signals.start_soon(second_signal)
        reports = [await handle.wait_done() for handle in handles]
        assert exchange.open_orders() == ()
    # Two cancels a pacing token (1/45 s) apart, the second confirmed after 30 ms.
    assert stopping == pytest.approx([400 / 7, 400 / 7 + 2 / 45 + 0.03])
    assert [action for action, _ in broker.calls] == ["modify", "cancel", "cancel"]
    cancelled: set[ClientOrderId] = set()
    for action, coid in broker.calls:
        assert not (action == "modify" and coid in cancelled), broker.calls
        if action == "cancel":
            cancelled.add(coid)
    assert [c.status for r in reports for c in r.children] == [OrderStatus.CANCELLED] * 2
    # The modification sent is in its slice's report; the one withdrawn by the cancel is not.
    modified = {coid for action, coid in broker.calls if action == "modify"}
    assert {c.client_order_id for r in reports for c in r.children
            if len(c.prices) == 2} == modified


async def test_an_execution_of_an_order_whose_ack_the_journal_lost_is_booked_once(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A cross buy of 2 filled; a lost -wal keeps its order but loses its ack, status and
    fill. The restart's resync journals the broker's execution, settles the order FILLED and
    finishes the intent with nothing sent again; the position is the broker's 2 (the book
    held 4, and with max_position 3 a buy of 1 was refused)."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(risk=RiskLimits(max_position=3))
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path, config) as engine:
            await (await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=2, policy=Policy.CROSS,
                intent_id="buy2"))).wait_done()
        lose_events_from_ack(path, "buy2.1")
        async with open_engine(exchange, path, config) as engine:
            (adopted,) = engine.adopted
            report = await adopted.wait_done()
            one = await (await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS,
                intent_id="one"))).wait_done()
        held = sum(p.quantity for p in exchange.positions())
    assert (report.filled, one.filled, held, exchange.statistics().orders) == (2, 1, 3, 2)
    journal = Journal.open_read_only(path)
    (order, _) = journal.orders()
    assert (order.status, order.filled) == (OrderStatus.FILLED, 2)
    assert [n["filled"] for n in journal.notes("intent_finished")] == [2, 1]


async def test_a_bracket_whose_stop_filled_after_its_ack_was_lost_is_over_not_cut_off(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A bracket's entry filled (2 long) and Hydra was killed; a lost -wal loses the stop's
    ack and all after it; the stop then fills while Hydra is down (a sweep at 40 s). The
    restart took the bracket for one cut off before its stop was sent ("interrupted before
    all its legs were sent") because the stop had no ack. Expected: the bracket is over, its
    stop filled, finished with 2 filled."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(flows=(ScriptedFlow(at=5.0, side=Side.SELL, quantity=2),
                               ScriptedFlow(at=40.0, side=Side.SELL, quantity=40)))
    async with open_sim_exchange(params, seed=1) as exchange:
        await kill_once_the_bracket_filled(exchange, path)
        lose_events_from_ack(path, "bracket.3")
        await trio.sleep_until(exchange.origin + 60.0)
        assert exchange.open_orders() == ()
        async with open_engine(exchange, path) as engine:
            (adopted,) = engine.adopted
            report = await adopted.wait_done()
            interrupted = engine.interrupted
        held = sum(p.quantity for p in exchange.positions())
    assert (interrupted, report.filled, held) == ([], 2, 0)
    journal = Journal.open_read_only(path)
    assert [n["filled"] for n in journal.notes("intent_finished")] == [2]
    assert journal.notes("intent_interrupted") == []


async def test_closing_the_position_of_an_adopted_bracket_cancels_its_exits_first(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A bracket's entry filled (2 long), Hydra was killed, and the restart adopted its
    take-profit and stop. `close_position` cancels the brackets of the symbol before it
    flattens, but looked only at this run's brackets: the adopted exits stayed working after
    the position was sold, each able to open a new one. Expected: flat, nothing working."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(flows=(ScriptedFlow(at=5.0, side=Side.SELL, quantity=2),))
    async with open_sim_exchange(params, seed=1) as exchange:
        await kill_once_the_bracket_filled(exchange, path)
        async with open_engine(exchange, path, LEAVE) as engine:
            (adopted,) = engine.adopted
            closing = await (await engine.close_position(OATS)).wait_done()
            working = exchange.open_orders()
            over = adopted.done
        held = sum(p.quantity for p in exchange.positions())
    assert (closing.filled, held, working, over) == (2, 0, (), True)


async def test_cancel_by_id_reaches_an_order_left_working_and_an_adopted_bracket(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """After a restart, `engine.cancel` reaches what the restart adopted and did not resume:
    an order left working at the last close (its intent had finished) and a bracket whose
    entry had filled; each is cancelled at the broker and its handle reports."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(spread_ticks=6, flows=(ScriptedFlow(at=5.0, side=Side.SELL,
                                                            quantity=2),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path, LEAVE) as engine:
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1,
                                            policy=Policy.PASSIVE, intent_id="rest"))
            await engine.submit_bracket(BracketIntent(
                contract=OATS, side=Side.BUY, quantity=2, entry_price="349.50",
                take_profit_price="351.00", stop_price="349.00", stop_limit_price="348.75",
                intent_id=IntentId("bracket")))
            await trio.sleep(30)
        assert len(exchange.open_orders()) == 3  # the bid, the bracket's exits
        async with open_engine(exchange, path) as engine:
            adopted = {h.intent.intent_id: h for h in engine.adopted}
            for intent_id in ("rest", "bracket"):
                engine.cancel(IntentId(intent_id))
                await adopted[intent_id].wait_done()
            working = exchange.open_orders()
    assert (sorted(adopted), working) == (["bracket", "rest"], ())


async def test_a_lost_stop_of_a_bracket_cut_short_is_left_to_the_trader(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A bracket's entry filled (2 long); a lost -wal loses both exits' orders, and the
    trader cancels the take-profit before the restart. With adopt_unknown the stop is adopted
    as unknown (left to the trader); the bracket, its take-profit gone, is reported cut
    short, and its stop, which the journal never knew, is left working: never cancelled."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(flows=(ScriptedFlow(at=5.0, side=Side.SELL, quantity=2),))
    async with open_sim_exchange(params, seed=1) as exchange:
        await kill_once_the_bracket_filled(exchange, path)
        take_profit, stop = sorted(o.client_order_id for o in exchange.open_orders())
        drop_wal(path)
        lose_events_from_order(path, take_profit)
        trader = SimBroker(exchange, client_id=1)
        await trader.connect()
        await trader.cancel(take_profit)
        await trio.sleep(1)
        await trader.close()
        async with open_engine(exchange, path, LEAVE, adopt_unknown=True) as engine:
            await trio.sleep(30)
            working = [o.client_order_id for o in exchange.open_orders()]
            interrupted = engine.interrupted
    assert working == [stop]
    assert [d.description.split(" (")[0] for d in interrupted] == [
        "bracket bracket was interrupted before all its legs were sent"]


def _slow_writes(*kinds: NoteKind, started: trio.Event) -> Callable[[Any], Any]:
    """A journal offload whose writes of notes ``kinds`` take a second each (a busy disk);
    ``started`` is set when the first of them begins."""

    async def offload(work: functools.partial[Any]) -> Any:
        if any(isinstance(call.__self__, RecordNote) and call.__self__.what in kinds
               for call in work.args[0]):
            started.set()
            await trio.sleep(1.0)
        return await run_inline(work)

    return offload


async def test_a_slice_stepped_as_the_drain_ends_reports_the_price_it_was_cancelled_at(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A TWAP's first slice (a bid at 349.50) steps to 349.75 at 400/7 s, during a close with
    a drain of 0.5 s (the first stop signal); the modify note takes a second to write, so the
    drain's deadline cancels the slice while its modification is in flight. The modification
    still goes out (then the cancel): the order is cancelled at 349.75, and the trader
    expects the slice's report to show that price too, not only 349.50."""
    path = tmp_path / "j.sqlite"
    started = trio.Event()
    config = HydraConfig(execution=TWAP_SLOW, shutdown=ShutdownSettings(drain_timeout=0.5))
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        broker = _RecordingBroker(exchange)
        async with open_hydra(config, broker, journal_path=path, offload=_slow_writes(
                NoteKind.MODIFY, NoteKind.CANCEL_REQUESTED, started=started),
                clock=lambda: exchange.timestamp(trio.current_time())) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=6,
                                                     policy=Policy.TWAP, intent_id="twap"))
            await started.wait()
            assert trio.current_time() - exchange.origin == pytest.approx(400 / 7)
        (child,) = (await handle.wait_done()).children
    assert [action for action, _ in broker.calls] == ["modify", "cancel"]
    journal = Journal.open_read_only(path)
    assert [n["limit_price"] for n in journal.notes("modify")] == ["349.75"]
    assert (child.status, child.prices) == (OrderStatus.CANCELLED,
                                            (Decimal("349.50"), Decimal("349.75")))
