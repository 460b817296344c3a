"""The runner's actors beside Hydra on the simulator, on the virtual clock."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from pathlib import Path

import trio

from hydra._inbox import resume_line
from hydra._journal import EventKind, Journal
from hydra._runner import run_inbox, run_schedule, status_line
from hydra._schedule import DailySchedule, parse_days
from hydra.sim import SimBroker, open_sim_exchange
from tests.simulated import open_engine, quiet_oats
from tests.strategy_fixture import daily_targets

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
START = dt.datetime(2026, 11, 25, 8, 0, tzinfo=CHICAGO)  # a Wednesday, 35 minutes early


def _intents(path: Path) -> list[dict[str, object]]:
    journal = Journal.open_read_only(path)  # while the engine writes it
    try:
        return [p["intent"] for _, kind, p in journal.events() if kind is EventKind.INTENT]
    finally:
        journal.close()


async def test_strategy_hook_runs_on_schedule_toward_its_targets(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """At 08:35 exchange time the hook asks for 3 oats; Hydra buys 3 and nothing before."""
    schedule = DailySchedule(at=dt.time(8, 35), days=parse_days("d", "Mon-Fri"), zone=CHICAGO)
    now = functools.partial(lambda: START + dt.timedelta(seconds=trio.current_time()))
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        broker_view = SimBroker(exchange)
        await broker_view.connect()
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            nursery.start_soon(functools.partial(
                run_schedule, engine, broker_view, hook=daily_targets, name="daily_targets",
                schedule=schedule, now=now))
            await trio.sleep(35 * 60 - 1)
            assert _intents(path) == []
            await trio.sleep(600)
            nursery.cancel_scope.cancel(reason="test over")
        (intent,) = _intents(path)
        assert (intent["side"], intent["quantity"], intent["strategy"]) == (
            "BUY", 3, "daily_targets")
        (position,) = exchange.positions()
        assert position.quantity == 3


async def test_inbox_lines_are_worked_once_even_after_a_restart(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """New lines are submitted as they are written; a bad line is skipped; on restart the
    journal stops the same lines being worked again."""
    path, inbox = tmp_path / "j.sqlite", tmp_path / "inbox.jsonl"
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            nursery.start_soon(functools.partial(run_inbox, engine, path=inbox))
            await trio.sleep(5)
            with inbox.open("a") as file:
                file.write('{"symbol": "ZO", "side": "BUY", "quantity": 2}\nnot json\n')
                file.write('{"symbol": "ZO", "side": "SELL", "quantity"')  # not finished yet
            await trio.sleep(2)
            assert len(_intents(path)) == 1
            with inbox.open("a") as file:
                file.write(': 1}\n')
            await trio.sleep(200)
            assert "done 2" in status_line(engine)
            nursery.cancel_scope.cancel(reason="restart")
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            nursery.start_soon(functools.partial(run_inbox, engine, path=inbox))
            await trio.sleep(5)
            nursery.cancel_scope.cancel(reason="test over")
        assert [i["quantity"] for i in _intents(path)] == [2, 1]
        assert exchange.statistics().orders == 2


async def test_a_kill_line_in_the_inbox_halts_and_cancels(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Writing {"kill": ...} to the inbox trips the kill switch: the working order is
    cancelled and later lines are blocked."""
    path, inbox = tmp_path / "j.sqlite", tmp_path / "inbox.jsonl"
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            nursery.start_soon(functools.partial(run_inbox, engine, path=inbox))
            inbox.write_text('{"symbol": "ZO", "side": "BUY", "quantity": 2}\n')
            await trio.sleep(3)
            assert len(exchange.open_orders()) == 1
            with inbox.open("a") as file:
                file.write('{"kill": "drill"}\n{"symbol": "ZO", "side": "BUY", "quantity": 1}\n')
            await trio.sleep(3)
            assert exchange.open_orders() == ()
            stats = engine.statistics()
            assert stats.trading_state.value == "HALTED" and stats.blocked == 1
            nursery.cancel_scope.cancel(reason="test over")


async def test_a_kill_line_applies_once_and_a_resume_line_clears_it_across_restarts(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A kill line halts; after a restart that re-reads the inbox it is not applied again, a
    resume line clears the restored kill, and a third run applies neither again."""
    path, inbox = tmp_path / "j.sqlite", tmp_path / "inbox.jsonl"
    inbox.write_text('{"kill": "drill"}\n')

    async def run_once() -> str:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            nursery.start_soon(functools.partial(run_inbox, engine, path=inbox))
            await trio.sleep(3)
            nursery.cancel_scope.cancel(reason="test over")
            return engine.statistics().trading_state.value

    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        assert await run_once() == "HALTED"
        with inbox.open("a") as file:
            file.write(resume_line("drill over", request_id="resume-1") + "\n")
        assert await run_once() == "ACTIVE"
        assert await run_once() == "ACTIVE"
    notes = [p["what"] for _, kind, p in Journal.open(path).events() if kind is EventKind.NOTE]
    assert notes.count("kill_switch") == 1 and notes.count("resume") == 1
    assert notes.count("control_applied") == 2
