"""A strategy hook's target across a restart: the intents it had working are counted (and
replaced) as its own, and a roll cut between its legs is finished, at every cut point."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing
from structlog.testing import capture_logs

from hydra import OATS, HydraConfig, OrderIntent, Side
from hydra._engine import Engine
from hydra._enums import Policy
from hydra._ids import IntentId
from hydra._journal import EventKind, Journal
from hydra._roll_legs import RollClose, RollLeft
from hydra._runner import HookLimits, run_schedule
from hydra._schedule import DailySchedule, parse_days
from hydra._settings import ExecutionSettings, OutsideHours, RestartSettings, RiskLimits
from hydra.sim import MarketParams, SimBroker, SimExchange, SimParams, open_sim_exchange
from tests.journal_surgery import Crash, crash_once
from tests.simulated import open_engine

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
LIMITS = HookLimits(timeout=30.0, max_failures=3)
THURSDAY = dt.datetime(2025, 4, 10, 13, 30, tzinfo=dt.UTC)  # 08:30 Chicago
SCHEDULE = DailySchedule(at=dt.time(8, 35), days=parse_days("d", "Mon-Fri"), zone=CHICAGO)
SLOW = HydraConfig(  # a bid at mid rests two days (no flow) before its ladder steps
    execution=ExecutionSettings(patience=2 * 86400.0), risk=RiskLimits(max_position=10),
    restart=RestartSettings(resume=True))

Target = Callable[[Any], Awaitable[dict[str, int]]]


def _oats(start: dt.datetime, months: tuple[str, ...] = ("202505",), **changes: Any,
          ) -> SimParams:
    """Still oats (one tick wide, no flow) from ``start``."""
    return SimParams(
        markets=tuple(MarketParams.oats(contract=OATS.for_month(m), adv=0, daily_volatility=0.0,
                                        spread_ticks=((1, 1.0),)) for m in months),
        session_start=start, ack_latency=0.001, fill_latency=0.001, **changes)


def _targets(first: int, then: int) -> Target:
    """A hook (async: a thread would race the virtual clock) whose ZO target is ``first`` on
    its first run, Thursday's, and ``then`` after."""
    async def desk(context: Any) -> dict[str, int]:
        await trio.lowlevel.checkpoint()
        return {"ZO": first if context.now.weekday() == 3 else then}
    return desk


def _hook(engine: Engine, exchange: SimExchange, target: Target) -> Any:
    """The hook's runner beside ``engine``, asking a broker of its own for positions."""
    async def run() -> None:
        broker = SimBroker(exchange)
        await broker.connect()
        await run_schedule(engine, broker, hook=target, name="desk", schedule=SCHEDULE,
                           limits=LIMITS, now=lambda: exchange.timestamp(trio.current_time()))
    return run


def _acked(journal: Journal) -> bool:
    return any(kind is EventKind.ACK for _, kind, _ in journal.events())


def _held(exchange: SimExchange) -> dict[str | None, int]:
    return {p.contract.expiry: p.quantity for p in exchange.positions() if p.quantity}


def _intents(path: Path) -> list[tuple[str, str, int]]:
    """Each journaled intent: (strategy, side, quantity)."""
    journal = Journal.open_read_only(path)
    try:
        return [(p["intent"]["strategy"], p["intent"]["side"], p["intent"]["quantity"])
                for _, kind, p in journal.events() if kind is EventKind.INTENT]
    finally:
        journal.close()


async def _crash_while_working(exchange: SimExchange, path: Path, target: Target,
                               when: Callable[[Journal], bool] = _acked) -> float:
    """Run the hook from Thursday 08:30 until Hydra is killed (``when`` the journal first
    says so: its first order acknowledged); the virtual time of the kill."""
    with pytest.raises(BaseExceptionGroup) as crashed:
        async with open_engine(exchange, path, SLOW, offload=crash_once(path, when)) as engine, \
                trio.open_nursery() as nursery:
            nursery.start_soon(_hook(engine, exchange, target))
            await trio.sleep(86400)
    assert crashed.group_contains(Crash)
    return trio.current_time()


async def test_a_target_worked_across_a_restart_is_not_bought_again(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Flat; Thursday's 08:35 run asks for +2 ZO, a bid resting at mid, and Hydra is killed
    once it is acknowledged. Restarted at once, it resumes the bid, still resting at
    Friday's run, which asks for +2 again: nothing more is bought (the resumed intent is
    the hook's), and once the ladder crosses (Sunday 08:35) the position is 2, not 4 (a
    second bid, from Friday's run, would have crossed by Sunday 20:35)."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(_oats(THURSDAY), seed=1) as exchange:
        killed = await _crash_while_working(exchange, path, _targets(2, 2))
        assert exchange.timestamp(killed) == dt.datetime(2025, 4, 10, 13, 35, 0, 1000,
                                                         tzinfo=dt.UTC)
        async with open_engine(exchange, path, SLOW) as engine, trio.open_nursery() as nursery:
            (resumed,) = engine.adopted
            nursery.start_soon(_hook(engine, exchange, _targets(2, 2)))
            await trio.sleep(84.5 * 3600)  # to Sunday 21:00, past a second bid's crossing
            assert (await resumed.wait_done()).filled == 2
            nursery.cancel_scope.cancel(reason="test over")
        held = _held(exchange)
    assert held == {"202505": 2}
    assert _intents(path) == [("desk", "BUY", 2)]


FRIDAY_ROLL = dt.datetime(2025, 4, 24, 14, 30, tzinfo=dt.UTC)  # Thursday; ZON5 front on Friday


def _events(kind: EventKind) -> Callable[[Journal], int]:
    return lambda journal: sum(k is kind for _, k, _ in journal.events())


@pytest.mark.parametrize(("cut", "held", "legs"), [
    pytest.param(lambda j: len(j.notes("roll_started")) == 1, {"202505": 1}, [],
                 id="before-the-close-is-journaled"),
    pytest.param(lambda j: _events(EventKind.FILL)(j) == 2, {"202507": 1},
                 [("desk", "SELL", 1), ("desk", "BUY", 1)], id="after-the-close-filled"),
    pytest.param(lambda j: _events(EventKind.INTENT)(j) == 3, {"202507": 1},
                 [("desk", "SELL", 1), ("desk", "BUY", 1)], id="after-the-open-is-journaled"),
])
async def test_a_targets_roll_killed_at_each_step_ends_rolled_once(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, cut: Callable[[Journal], bool],
    held: dict[str, int], legs: list[tuple[str, str, int]],
) -> None:
    """Long 1 ZOK5; Friday 2025-04-25's 08:35 run rolls it toward +1 ZO in ZON5, and Hydra is
    killed at ``cut``. Restarted at once (the next run is Monday's): a roll killed before
    its close was journaled sent nothing, and the restart sends nothing (the next run rolls);
    killed later, it ends long 1 ZON5, each leg journaled once."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=ExecutionSettings(patience=0.2),
                         risk=RiskLimits(max_position=1))
    async with open_sim_exchange(_oats(FRIDAY_ROLL, ("202505", "202507")), seed=1) as exchange:
        async with open_engine(exchange, path, config) as engine:
            bought = await engine.submit(OrderIntent(contract=OATS.for_month("202505"),
                                                     side=Side.BUY, quantity=1))
            assert (await bought.wait_done()).filled == 1
        with pytest.raises(BaseExceptionGroup) as crashed:
            async with open_engine(exchange, path, config,
                                   offload=crash_once(path, cut)) as engine, \
                    trio.open_nursery() as nursery:
                nursery.start_soon(_hook(engine, exchange, _targets(1, 1)))
                await trio.sleep(2 * 86400)
        assert crashed.group_contains(Crash)
        async with open_engine(exchange, path, config) as engine, \
                trio.open_nursery() as nursery:
            nursery.start_soon(_hook(engine, exchange, _targets(1, 1)))
            await trio.sleep(3600)
            nursery.cancel_scope.cancel(reason="test over")
        positions = _held(exchange)
    assert positions == held
    assert _intents(path) == [("default", "BUY", 1), *legs]


def _roll(quantity: int | None, *closes: tuple[int, int], side: Side = Side.BUY) -> RollLeft:
    return RollLeft(closes=tuple(RollClose(intent_id=IntentId(f"c{n}"), signed_quantity=q,
                                           filled=f) for n, (q, f) in enumerate(closes)),
                    open_intent_id=IntentId("o"), target=OATS.for_month("202507"), side=side,
                    strategy="desk", quantity=quantity, hook=None if quantity is None else "desk",
                    policy=Policy.PATIENCE if quantity is None else None)


def test_a_rolls_open_is_what_its_closes_let_it_open() -> None:
    """`Engine.roll`'s open buys what its close sold; a target's opens its own quantity less
    what its closes left open on its side (as the runner cuts it), all of it when it goes
    the closes' way, and what each close filled in the end counts over the journal's."""
    assert _roll(None, (-3, 2)).to_open({}) == 2
    assert _roll(None, (-3, 2)).to_open({IntentId("c0"): 3}) == 3
    assert _roll(5, (-3, 2)).to_open({}) == 4  # a long of 1 not sold: 1 less bought
    assert _roll(1, (-3, 0), (-1, 1)).to_open({}) == 0
    assert _roll(2, (-3, 0), side=Side.SELL).to_open({}) == 2  # a target turned short
    assert _roll(2, (3, 1), side=Side.SELL).to_open({}) == 0  # a short not bought back


async def _restarted(exchange: SimExchange, path: Path, target: Target, *, hours: float,
                     config: HydraConfig = SLOW) -> list[Any]:
    """Restart with the hook beside it for ``hours``; the adopted intents' reports (None:
    still working) and what was logged."""
    with capture_logs() as logs:
        async with open_engine(exchange, path, config) as engine, trio.open_nursery() as nursery:
            adopted = list(engine.adopted)
            nursery.start_soon(_hook(engine, exchange, target))
            await trio.sleep(hours * 3600)
            reports = [handle.report for handle in adopted]
            nursery.cancel_scope.cancel(reason="test over")
    return [reports, logs]


async def test_a_target_turned_short_cancels_the_bid_a_restart_resumed(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Killed while Thursday's +2 bid rests, restarted at once; Friday's run asks for -1: the
    resumed bid is cancelled as a live one would be (``target_replaced``) and 1 is sold, not
    3 against a bid that goes on buying."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(_oats(THURSDAY), seed=1) as exchange:
        await _crash_while_working(exchange, path, _targets(2, -1))
        (report,), logs = await _restarted(exchange, path, _targets(2, -1), hours=24.5)
    assert report is not None and report.filled == 0
    assert _intents(path) == [("desk", "BUY", 2), ("desk", "SELL", 1)]
    (replaced,) = [e for e in logs if e["event"] == "target_replaced"]
    assert (replaced["replaced"], replaced["quantity"]) == ([report.intent_id], -1)


async def test_an_intent_of_the_hooks_strategy_name_from_elsewhere_is_not_the_hooks(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """A bid for 1 submitted by hand (an inbox line) with strategy "desk", the hook's name,
    rests when Hydra is killed; after the restart, the hook's Friday run asks for -1: the
    hand's bid is not cancelled as the hook's (it goes on working), and the hook sells 1."""
    path = tmp_path / "j.sqlite"

    async def quiet(context: Any) -> dict[str, int]:
        await trio.lowlevel.checkpoint()
        return {} if context.now.weekday() == 3 else {"ZO": -1}

    async with open_sim_exchange(_oats(THURSDAY), seed=1) as exchange:
        with pytest.raises(BaseExceptionGroup) as crashed:
            async with open_engine(exchange, path, SLOW,
                                   offload=crash_once(path, _acked)) as engine:
                await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1,
                                                strategy="desk"))
                await trio.sleep(3600)
        assert crashed.group_contains(Crash)
        (report,), logs = await _restarted(exchange, path, quiet, hours=24.5)
    assert report is None  # still working
    assert _intents(path) == [("desk", "BUY", 1), ("desk", "SELL", 1)]
    assert not [e for e in logs if e["event"] == "target_replaced"]


async def test_a_target_worked_across_two_restarts_in_a_row_is_bought_once(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Killed while Thursday's +2 bid rests, killed again as the restart resumes it, then
    restarted: Friday's run asks for +2 again and buys nothing; the bid alone brings the
    position to 2."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(_oats(THURSDAY), seed=1) as exchange:
        await _crash_while_working(exchange, path, _targets(2, 2))
        await _crash_while_working(exchange, path, _targets(2, 2),
                                   when=lambda j: len(j.notes("intent_resumed")) == 1)
        (report,), _ = await _restarted(exchange, path, _targets(2, 2), hours=84.5)
        held = _held(exchange)
    assert report is not None and report.filled == 2
    assert held == {"202505": 2}
    assert _intents(path) == [("desk", "BUY", 2)]


async def test_a_resumed_target_that_ends_unfilled_is_bought_again_at_the_next_run(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Killed while Thursday's +2 bid rests; restarted, the resumed bid is cancelled by the
    trader at once: Friday's run asks for +2 again and, the bid being over, buys 2."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(_oats(THURSDAY), seed=1) as exchange:
        await _crash_while_working(exchange, path, _targets(2, 2))
        async with open_engine(exchange, path, SLOW) as engine, trio.open_nursery() as nursery:
            (resumed,) = engine.adopted
            engine.cancel(resumed.intent.intent_id)
            assert (await resumed.wait_done()).filled == 0
            nursery.start_soon(_hook(engine, exchange, _targets(2, 2)))
            await trio.sleep(24.5 * 3600)
            nursery.cancel_scope.cancel(reason="test over")
    assert _intents(path) == [("desk", "BUY", 2), ("desk", "BUY", 2)]


async def test_a_targets_roll_whose_open_was_refused_opens_nothing_at_a_later_restart(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Long 1 ZOK5 with ``max_position = 1``; Friday's run asks for +2 ZO: the ZOK5 sale fills
    and the ZON5 buy of 2 is refused (``roll_open_skipped``). Restarted with the limit raised
    to 2, Hydra opens nothing of that old roll (the hook's next run decides)."""
    path = tmp_path / "j.sqlite"
    one = HydraConfig(execution=ExecutionSettings(patience=0.2), risk=RiskLimits(max_position=1))
    async with open_sim_exchange(_oats(FRIDAY_ROLL, ("202505", "202507")), seed=1) as exchange:
        async with open_engine(exchange, path, one) as engine, trio.open_nursery() as nursery:
            bought = await engine.submit(OrderIntent(contract=OATS.for_month("202505"),
                                                     side=Side.BUY, quantity=1))
            assert (await bought.wait_done()).filled == 1
            nursery.start_soon(_hook(engine, exchange, _targets(2, 2)))
            await trio.sleep(86400)  # past Friday's 08:35 run
            nursery.cancel_scope.cancel(reason="test over")
        assert _held(exchange) == {}
        two = attrs.evolve(one, risk=RiskLimits(max_position=2))
        await _restarted(exchange, path, _targets(2, 2), hours=1, config=two)
        held = _held(exchange)
    assert held == {}
    assert _intents(path) == [("default", "BUY", 1), ("desk", "SELL", 1)]


async def test_a_targets_roll_whose_open_a_restart_finds_refused_goes_on_without_it(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Long 1 ZOK5; Friday's run sells it toward +1 ZO in ZON5 and Hydra is killed once the
    sale is journaled finished. Restarted on Saturday with ``outside_hours = "refuse"``, the open is
    refused: logged and journaled (``roll_open_skipped``), Hydra goes on, and a second
    restart on Monday does not open it either (the hook's run decides)."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(
        execution=ExecutionSettings(patience=0.2, outside_hours=OutsideHours.REFUSE),
        risk=RiskLimits(max_position=1))
    params = _oats(FRIDAY_ROLL, ("202505", "202507"), sessions=True)
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path, config) as engine:
            bought = await engine.submit(OrderIntent(contract=OATS.for_month("202505"),
                                                     side=Side.BUY, quantity=1))
            assert (await bought.wait_done()).filled == 1
        with pytest.raises(BaseExceptionGroup) as crashed:
            async with open_engine(exchange, path, config, offload=crash_once(
                    path, lambda j: len(j.notes("intent_finished")) == 2)) as engine, \
                    trio.open_nursery() as nursery:
                nursery.start_soon(_hook(engine, exchange, _targets(1, 1)))
                await trio.sleep(2 * 86400)
        assert crashed.group_contains(Crash)
        await trio.sleep(86400)  # to Saturday morning: oats closed
        with capture_logs() as logs:
            async with open_engine(exchange, path, config):
                await trio.sleep(60)
        (refused,) = [e for e in logs if e["event"] == "roll_open_refused"]
        await trio.sleep(2 * 86400)  # to Monday morning: oats open
        async with open_engine(exchange, path, config):
            await trio.sleep(3600)
        held = _held(exchange)
    assert "closed" in refused["error"]
    assert held == {}
    assert _intents(path) == [("default", "BUY", 1), ("desk", "SELL", 1)]
