"""A strategy hook's target across a restart: the intents it had working are counted (and
replaced) as its own, and a roll cut between its legs is finished, at every cut point."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
from hydra._settings import ExecutionSettings, RestartSettings, RiskLimits
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

Target = Callable[[Any], dict[str, int]]


def _oats(start: dt.datetime, months: tuple[str, ...] = ("202505",)) -> SimParams:
    """Still oats (one tick wide, no flow) from ``start``."""
    return SimParams(
        markets=tuple(MarketParams.oats(contract=OATS.for_month(m), adv=0, daily_volatility=0.0,
                                        spread_ticks=((1, 1.0),)) for m in months),
        session_start=start, ack_latency=0.001, fill_latency=0.001)


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
