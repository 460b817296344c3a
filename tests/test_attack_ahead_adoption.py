"""Attacks on lots resting ahead of a TWAP's schedule becoming their slice's order."""

from __future__ import annotations

import itertools
import math
import os
import random
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hydra import HydraConfig, OrderIntent, OrderStatus
from hydra._contracts import OATS
from hydra._enums import Policy, Side
from hydra._ids import ClientOrderId, IntentId, client_order_id_for
from hydra._journal import Journal
from hydra._orders import TwapPart
from hydra._patience import Work
from hydra._quote_source import QuoteSource
from hydra._reports import ChildOrderReport
from hydra._settings import (
    Distance,
    ExecutionSettings,
    RestartSettings,
    RiskLimits,
    ShutdownSettings,
)
from hydra._twap_actor import run_twap
from hydra._worker_reports import collected, open_reports
from hydra.sim import Disconnect, DisplayedSize, OrderTicket, ScriptedFlow, open_sim_exchange
from tests.simulated import (
    FakeRisk,
    journal_notes,
    open_engine,
    open_fake_risk,
    quiet_oats,
    still_oats,
    stop_intent,
)
from tests.test_ladder_end_link_down import STEADY_RECONNECT
from tests.test_twap_restart import _bought, _config, _crash_at, _restart

INTENT = IntentId("int-a")
TWAP = ExecutionSettings(patience=60.0, slippage_guard=Distance.ticks(8), twap_slices=3,
                         twap_horizon=600.0, twap_jitter=0.0, twap_ahead=1)


async def _twap(*, quantity: int = 3, arrival_mid: str = "350.125",
                flows: tuple[tuple[float, Side, int], ...] = (), stop_at: float = math.inf,
                joins: tuple[tuple[float, str], ...] = (),
                max_order_quantity: int | None = None, fake_limits: dict[str, Any] | None = None,
                spread_ticks: int = 1, **settings: Any) -> tuple[FakeRisk, list[ChildOrderReport]]:
    """``quantity`` lots bought as a TWAP of 3 slices of 200 s with ``twap_ahead`` 1 (unless
    ``settings`` says otherwise) on still oats (350.00 / 350.25, 5 lots a level); each of
    ``flows`` is a crowd order of that side and size at that time. Returns the fake risk actor
    and every order's report, in the order they were sent."""
    work = Work(intent_id=INTENT, client_order_id=client_order_id_for(INTENT, 1), contract=OATS,
                side=Side.BUY, quantity=quantity, policy=Policy.PATIENCE,
                settings=attrs.evolve(TWAP, **settings), arrival_mid=Decimal(arrival_mid))
    ids = (client_order_id_for(INTENT, n) for n in itertools.count(2))
    report_to, reports = open_reports()
    async with open_sim_exchange(still_oats(spread_ticks=spread_ticks), seed=1) as exchange:
        async with open_fake_risk(exchange, OATS, **(fake_limits or {})) as (risk, fake), \
                trio.open_nursery() as crowd:
            async def at(when: float, act: Callable[[], object]) -> None:
                await trio.sleep(when)
                act()
            for when, side, lots in flows:
                crowd.start_soon(at, when, lambda s=side, n=lots: exchange.inject_flow(OATS, s, n))
            other = exchange.attach(lambda _: None)
            for n, (when, price) in enumerate(joins):
                crowd.start_soon(at, when, lambda n=n, p=price: exchange.place(other, OrderTicket(
                    client_order_id=ClientOrderId(f"crowd.{n}"), order_ref=IntentId("crowd"),
                    symbol="ZO", side=Side.BUY, quantity=1, order_type="LMT",
                    limit_price=Decimal(p))))
            source = QuoteSource(fake.broker.quote_nowait, max_age=10.0)
            with report_to, trio.move_on_at(stop_at):
                await run_twap(work, rng=random.Random(0), next_order_id=lambda: next(ids),
                               risk=risk, quotes=source.usable, report_to=report_to,
                               max_order_quantity=max_order_quantity,
                               why_unusable=source.problem)
            crowd.cancel_scope.cancel()
    return fake, collected(reports)


async def test_a_chase_while_lots_rest_ahead_does_not_start_their_slice_early(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The arrival mid (348.50) is 1.625 below the crowd's (350.125): past ``chase_at`` (0.75)
    of the 2.00 guard, so every ladder chases. The first slice goes to its last stage and takes
    the one-tick spread at once (filled at 30 ms); the second slice's lot then rests ahead at
    the bid. Its one stage ends on the chase at its first re-peg (1.03 s): the order is
    cancelled there, as before lots ahead could become their slice's order, and not handed to
    the second slice early: that slice starts at 200 s, the third at 400 s, as scheduled."""
    fake, children = await _twap(arrival_mid="348.50")
    placed = [(t, r.limit_price) for t, r in fake.placed]
    assert [t for t, _ in placed] == pytest.approx([0.0, 0.03, 200.0, 200.03, 400.0])
    assert [p for _, p in placed] == [Decimal("350.25"), Decimal("350.00")] * 2 + [
        Decimal("350.25")]
    assert [t for t, _ in fake.cancelled] == pytest.approx([1.03, 201.03])
    assert fake.modified == []
    assert [c.filled for c in children] == [1, 0, 1, 0, 1]


async def _engine_twap(path: Path, *, ahead: int, down_at: float, down_for: float,
                       flows: tuple[tuple[float, int], ...], stop_at: float | None,
                       stop: str, spread_ticks: int = 1, max_order_quantity: int = 50,
                       ) -> None:
    """15 lots in four 100 s slices on quiet oats 20 lots deep with ``twap_ahead`` ``ahead``,
    the link down at ``down_at`` for ``down_for``, crowd sells of (when, lots), the intent
    cancelled (or Hydra killed) at ``stop_at``. Never more than 15 bought; the report's
    filled is the position at the exchange; every order reported once, final; nothing
    working at the broker once the intent has reported and the link is back."""
    config = HydraConfig(execution=ExecutionSettings(twap_slices=4, twap_horizon=400.0,
                                                     twap_jitter=0.0, twap_ahead=ahead),
                         broker=STEADY_RECONNECT,
                         risk=RiskLimits(max_order_quantity=max_order_quantity))
    params = attrs.evolve(
        quiet_oats(spread_ticks=spread_ticks, displayed_size=DisplayedSize.fixed(20),
                   flows=tuple(ScriptedFlow(at=at, side=Side.SELL, quantity=lots)
                               for at, lots in flows)),
        faults=(Disconnect(at=down_at, duration=down_for),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path, config) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=15))
            if stop_at is not None:
                with trio.move_on_at(exchange.origin + stop_at):
                    await handle.wait_done()
                await stop_intent(engine, handle, stop)
            report = await handle.wait_done()
            await trio.sleep(600)
            assert exchange.open_orders() == ()
        held = sum(p.quantity for p in exchange.positions())
    assert held <= 15
    assert report.filled == held, report.children
    ids = [c.client_order_id for c in report.children]
    assert len(ids) == len(set(ids)), ids
    assert all(c.status.is_final for c in report.children), report.children
    if stop_at is None:
        assert held == 15 or down_for > 0


@settings(max_examples=int(os.environ.get("ATTACK_EXAMPLES", "10")), deadline=None)
@given(ahead=st.sampled_from([1, 2]), down_at=st.floats(1.0, 400.0),
       down_for=st.floats(0.5, 150.0),
       flows=st.lists(st.tuples(st.floats(0.0, 450.0), st.integers(1, 30)), max_size=3),
       stop_at=st.none() | st.floats(0.0, 420.0), stop=st.sampled_from(["cancel", "kill"]),
       spread_ticks=st.sampled_from([1, 2]), max_order_quantity=st.sampled_from([2, 50]))
def test_lots_ahead_adopted_across_a_disconnect_and_a_stop_never_overfill_or_orphan(
    ahead: int, down_at: float, down_for: float, flows: list[tuple[float, int]],
    stop_at: float | None, stop: str, spread_ticks: int, max_order_quantity: int,
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        trio.run(lambda: _engine_twap(
            Path(directory) / "j.sqlite", ahead=ahead, down_at=down_at, down_for=down_for,
            flows=tuple(flows), stop_at=stop_at, stop=stop, spread_ticks=spread_ticks,
            max_order_quantity=max_order_quantity),
            clock=trio.testing.MockClock(autojump_threshold=0))


async def _crash_and_resume(path: Path, *, ahead: int, crash_at: float,
                            flows: tuple[tuple[float, int], ...], spread_ticks: int) -> None:
    """15 lots as a TWAP of three 100 s slices with ``twap_ahead`` ``ahead``; the process dies
    at ``crash_at`` (its journal with it) and starts again on the journal, resuming: never more
    than 15 bought, what the intent's end journals is what was bought, nothing left working, and 15
    unless the resumed schedule ran out of time, which the intent's end says (a crash at 276 s,
    late in the last slice, ended at 11 until the slice's order resumed its journaled ladder)."""
    config = HydraConfig(execution=ExecutionSettings(twap_slices=3, twap_horizon=300.0,
                                                     twap_jitter=0.0, twap_ahead=ahead))
    params = quiet_oats(spread_ticks=spread_ticks,
                        flows=tuple(ScriptedFlow(at=at, side=Side.SELL, quantity=lots)
                                    for at, lots in flows))
    async with open_sim_exchange(params, seed=1) as exchange:
        await _crash_at(exchange, path, config, crash_at)
        await _restart(exchange, path, config)
        await trio.sleep(600)
        bought = _bought(exchange)
        assert bought <= 15
        assert exchange.open_orders() == ()
    (finished,) = journal_notes(path, "intent_finished")
    assert finished["filled"] == bought
    if bought < 15:
        assert finished["reason"].startswith(("ladder ended at", "slippage guard reached at"))


@settings(max_examples=int(os.environ.get("ATTACK_EXAMPLES", "10")), deadline=None)
@given(ahead=st.sampled_from([1, 2]), crash_at=st.floats(1.0, 290.0),
       flows=st.lists(st.tuples(st.floats(0.0, 350.0), st.integers(1, 12)), max_size=3),
       spread_ticks=st.sampled_from([1, 2]))
@example(ahead=1, crash_at=276.0, flows=[(1.0, 1)], spread_ticks=2)  # ended short: 11
def test_a_crash_while_lots_ahead_rest_or_work_their_slice_resumes_to_exactly_the_intent(
    ahead: int, crash_at: float, flows: list[tuple[float, int]], spread_ticks: int,
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        trio.run(lambda: _crash_and_resume(Path(directory) / "j.sqlite", ahead=ahead,
                                           crash_at=crash_at, flows=tuple(flows),
                                           spread_ticks=spread_ticks),
                 clock=trio.testing.MockClock(autojump_threshold=0))


@pytest.mark.parametrize("ahead", [0, 1])
async def test_the_last_slices_order_left_working_is_kept_at_a_restart_though_it_rested_ahead(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, ahead: int
) -> None:
    """2 lots in two 100 s slices with ``leave_working`` on a four-tick oats market (349.50 /
    350.50) and a 1-tick guard: slice 1 bids 349.75 and a crowd sell of 1 fills it at 10 s.
    With ``twap_ahead`` 1 slice 2's lot then rests ahead at 349.75, another client bids a lot
    there at 20 s (so ours is not alone at the touch), and it becomes slice 2's order at
    100 s; the guard keeps it from the ask, and at the schedule's end (200 s) it is left
    working, as the last slice's order is (without lots ahead it is placed at 100 s, at
    350.00, a tick inside the other client's bid). Hydra
    closes and starts again at 250 s: the order was left working on purpose by an intent
    that has finished, so the restart adopts it and leaves it working. Before the fix the
    restart took the order for lots resting ahead (its journaled part) and cancelled it."""
    path = tmp_path / "j.sqlite"
    # This market's quote changes only when the test acts: no quote goes stale here.
    config = HydraConfig(execution=ExecutionSettings(
        twap_slices=2, twap_horizon=200.0, twap_jitter=0.0, twap_ahead=ahead,
        leave_working=True, slippage_guard=Distance.ticks(1)),
        risk=RiskLimits(max_quote_age=1000.0))
    params = quiet_oats(spread_ticks=4, flows=(ScriptedFlow(at=10.0, side=Side.SELL,
                                                            quantity=1),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path, config) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                                     policy=Policy.TWAP))
            await trio.sleep_until(exchange.origin + 20.0)
            exchange.place(exchange.attach(lambda _: None), OrderTicket(
                client_order_id=ClientOrderId("crowd.1"), order_ref=IntentId("crowd"),
                symbol="ZO", side=Side.BUY, quantity=1, order_type="LMT",
                limit_price=Decimal("349.75")))
            report = await handle.wait_done()
            assert trio.current_time() - exchange.origin == pytest.approx(200.0)
        assert [(c.status, c.filled) for c in report.children] == [
            (OrderStatus.FILLED, 1), (OrderStatus.LEFT_WORKING, 0)]
        left = report.children[1].client_order_id
        (placed,) = [o for o, at in Journal.open_read_only(path).intent_orders(report.intent_id)
                     if o.request.client_order_id == left]
        assert placed.part == TwapPart(slice=2, slices=2, ahead=bool(ahead))
        assert placed.request.limit_price == Decimal("349.75" if ahead else "350.00")
        await trio.sleep_until(exchange.origin + 250.0)
        async with open_engine(exchange, path, config) as engine:
            (adopted,) = engine.adopted
            again = await adopted.wait_done()
        assert [(c.client_order_id, c.status) for c in again.children] == [
            (left, OrderStatus.LEFT_WORKING)]
        assert {o.client_order_id for o in exchange.open_orders()} == {left, "crowd.1"}
        assert exchange.statistics().orders == 3


async def test_a_twap_stopped_while_lots_ahead_are_released_sends_and_reports_nothing_more(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With ``twap_ahead`` 2 the 2 lots resting ahead from the first slice's fill (114.32 s)
    are not the second slice's lot alone: at 200 s they are cancelled, the cancel confirmed
    30 ms later. The TWAP is stopped at 200.01 s, in that wait: it ends when the cancel is
    confirmed (200.03 s) with the two orders it sent, each reported once. Before the fix the
    stop fell in the next slice's placement: an order never sent was reported (PENDING, with
    a price) after a 10 s wait for the risk actor's answer to it."""
    fake, children = await _twap(twap_ahead=2, stop_at=200.01)
    assert trio.current_time() == pytest.approx(200.03)
    assert [t for t, _ in fake.placed] == pytest.approx([0.0, 200.0 / 1.75 + 0.03])
    assert [(t, c) for t, c in fake.cancelled] == [(200.0, "int-a.2")]
    assert [(c.client_order_id, c.filled, c.status) for c in children] == [
        ("int-a.1", 1, OrderStatus.FILLED), ("int-a.2", 0, OrderStatus.CANCELLED)]


@pytest.mark.parametrize(("cancel_at", "ended_at", "last_reason"), [
    (150.0, 150.03, "stopped: intent int-a cancelled"),
    (200.01, 200.03, "ladder ended at 350.00")])
async def test_a_twap_cancelled_between_its_orders_says_it_was_cancelled(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, cancel_at: float, ended_at: float,
    last_reason: str,
) -> None:
    """The TWAP above through the engine, cancelled by the trader at 150 s (its lots resting
    ahead; it ends when their cancel is confirmed, 150.03 s) or at 200.01 s (after their
    release at 200 s, while that cancel is confirmed at 200.03 s, before the next order):
    either way 1 of 3 bought, and its end says the cancel. At 200.01 s the released order's
    own reason is its ladder's end, and the intent used to end with that: "ladder ended at
    350.00", as if nobody had stopped it."""
    config = HydraConfig(execution=attrs.evolve(TWAP, twap_ahead=2, twap_threshold=0.001))
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", config) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3,
                                                     intent_id=INTENT))
            await trio.sleep_until(exchange.origin + cancel_at)
            handle.cancel()
            report = await handle.wait_done()
            assert trio.current_time() - exchange.origin == pytest.approx(ended_at)
    assert report.filled == 1 and report.children[-1].reason == last_reason
    assert report.end_reason == "stopped: intent int-a cancelled"
    (finished,) = journal_notes(tmp_path / "j.sqlite", "intent_finished")
    assert finished["reason"] == "stopped: intent int-a cancelled"


async def test_the_last_slice_adopting_its_lots_ahead_is_the_final_order_and_takes_at_its_end(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """On a two-tick market (349.75 / 350.25) each order joins the crowd's 5 lots at 349.75
    (``join_wait`` 1 s). A crowd sell of 6 at 10 s fills slice 1, and slice 2's lot rests ahead
    from 10.02 s; it becomes slice 2's order at 200 s and a sell of 6 at 250 s fills it. Slice
    3's lot rests ahead from 250.02 s and becomes slice 3's order at 400 s: the intent's final
    order, so its last stage (from 400 + 1.5 × 200/1.75 s) takes the two-tick spread, which a
    slice before the last never does (its step went a tick inside, to 350.00). Three orders,
    none cancelled, each told its slice's ladder at its start."""
    fake, children = await _twap(spread_ticks=2, arrival_mid="350.00", join_wait=1.0,
                                 flows=((10.0, Side.SELL, 6), (250.0, Side.SELL, 6)))
    assert [t for t, _ in fake.placed] == pytest.approx([0.0, 10.02, 250.02])
    assert {r.limit_price for _, r in fake.placed} == {Decimal("349.75")}
    assert fake.cancelled == []
    crossing = 400.0 + 1.5 * 200.0 / 1.75
    assert [(c, p) for _, c, p in fake.modified] == [("int-a.3", Decimal("350.00")),
                                                     ("int-a.3", Decimal("350.25"))]
    assert [t for t, _, _ in fake.modified] == pytest.approx([400.0 + 200.0 / 1.75, crossing])
    starts = [(t, told.client_order_id, told.stages[0][0]) for t, told in fake.told
              if len(told.stages) == 3]
    assert starts == [(0.0, "int-a.1", "RESTING"), (200.0, "int-a.2", "RESTING"),
                      (400.0, "int-a.3", "RESTING")]
    assert [(c.filled, c.status) for c in children] == [(1, OrderStatus.FILLED)] * 3


async def test_lots_ahead_partly_filled_become_their_slice_and_count_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """6 lots in three slices of 2: slice 1 takes at its step and slice 2's 2 lots rest ahead
    from 114.32 s; a crowd sell of 6 at 150 s takes the bid's 5 crowd lots and 1 of ours, and
    another client bids a lot behind ours at 160 s. At 200 s the order still holds 1 lot,
    exactly what slice 2 has left: it becomes slice 2's order for that lot (the lot filled
    ahead not worked again), told slice 2's ladder. First in the queue now, it does not take
    the one-tick spread at its step (200 + 200/1.75 s) or after: no sell comes, and its ladder
    ends at 400 s with the lot unfilled. Slice 3 catches up with 3 lots and takes at its step:
    6 bought, three orders, each reported once with what it filled."""
    fake, children = await _twap(quantity=6, flows=((150.0, Side.SELL, 6),),
                                 joins=((160.0, "350.00"),))
    step = 200.0 / 1.75
    assert [(t, r.quantity) for t, r in fake.placed] == [
        (0.0, 2), (pytest.approx(step + 0.03), 2), (pytest.approx(400.03), 3)]
    assert [(t, c) for t, c in fake.cancelled] == [(400.0, "int-a.2")]
    assert [t for t, _, _ in fake.modified] == pytest.approx([step, 400.03 + step])
    told = [(t, told.stages[0][0]) for t, told in fake.told if told.client_order_id == "int-a.2"]
    assert [s for _, s in told] == ["RESTING", "RESTING", "STEPPED", "CROSSING"]
    assert told[1][0] == 200.0
    assert [(c.client_order_id, c.filled) for c in children] == [
        ("int-a.1", 2), ("int-a.2", 1), ("int-a.3", 3)]


@pytest.mark.parametrize("ahead", [0, 1])
async def test_a_slice_left_working_at_a_close_resumes_its_ladder_from_the_slices_start(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, ahead: int
) -> None:
    """15 lots in three 100 s slices on a one-tick market; Hydra closes at 110 s leaving
    orders working (``[shutdown] leave_working``). Slice 1 took at its step (57 s); slice 2's
    order, placed at 100 s (or, with ``twap_ahead`` 1, resting ahead from 57.17 s and become
    slice 2's at 100 s), is left working. At the restart (120 s) it is adopted and its ladder
    resumed 20 s in, from when slice 2 began: it steps and takes at 160 s (the default
    patience of 60 s). Before the fix the order that had rested ahead was cancelled at the
    restart; its ladder counted from 57 s, it would take at once."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(
        execution=ExecutionSettings(twap_slices=3, twap_horizon=300.0, twap_jitter=0.0,
                                    twap_ahead=ahead),
        shutdown=ShutdownSettings(drain_timeout=1.0, leave_working=True))
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        async with open_engine(exchange, path, config) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=15,
                                                     policy=Policy.TWAP))
            await trio.sleep(110)
        first = await handle.wait_done()
        assert [(c.status, c.filled) for c in first.children] == [
            (OrderStatus.FILLED, 5), (OrderStatus.LEFT_WORKING, 0)]
        await trio.sleep_until(exchange.origin + 120.0)
        async with open_engine(exchange, path, config) as engine:
            (adopted,) = engine.adopted
            report = await adopted.wait_done()
            assert trio.current_time() - exchange.origin == pytest.approx(160.03)
        assert [(c.client_order_id, c.status, c.filled) for c in report.children] == [
            (first.children[1].client_order_id, OrderStatus.FILLED, 5)]
        assert exchange.open_orders() == ()
        assert _bought(exchange) == 10


@pytest.mark.parametrize("ahead", [0, 1])
async def test_a_twap_not_resumed_adopts_its_working_slices_order_though_it_rested_ahead(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, ahead: int
) -> None:
    """With ``[restart] resume = false`` the TWAP stopped at 130 s goes no further, and its
    working order is adopted at its stage. Slice 2's order began slice 2 at 100 s (placed
    then, or with ``twap_ahead`` 1 resting ahead from 57.17 s and become slice 2's): at the
    restart (140 s) it is adopted 40 s into its ladder, steps and takes at 160 s: 10 of 15
    bought, the intent reported interrupted. Before the fix the order that had rested ahead
    was cancelled at the restart (5 bought), where the guide says a working order is
    adopted."""
    path = tmp_path / "j.sqlite"
    config = attrs.evolve(_config(ahead), restart=RestartSettings(resume=False))
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        await _crash_at(exchange, path, config, 130.0)
        await _restart(exchange, path, config)
        assert trio.current_time() - exchange.origin == pytest.approx(160.03)
        assert _bought(exchange) == 10
        assert exchange.open_orders() == ()
    (note,) = Journal.open_read_only(path).notes("intent_interrupted")
    assert (note["filled"], note["quantity"]) == (5, 15)
