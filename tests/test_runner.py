"""The runner's actors beside Hydra on the simulator, on the virtual clock."""

from __future__ import annotations

import datetime as dt
import functools
import json
import zoneinfo
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
from structlog.testing import capture_logs

from hydra import OATS, Engine, SessionChanged
from hydra._inbox import resume_line
from hydra._journal import EventKind, Journal
from hydra._journal_records import read_journal
from hydra._runner import run_inbox, run_schedule, status_line
from hydra._schedule import DailySchedule, parse_days
from hydra.sim import Disconnect, SimBroker, SimExchange, open_sim_exchange
from tests.simulated import open_engine, quiet_oats
from tests.strategy_fixture import daily_targets

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
START = dt.datetime(2026, 11, 25, 8, 0, tzinfo=CHICAGO)  # a Wednesday, 35 minutes early


def _now() -> dt.datetime:
    return START + dt.timedelta(seconds=trio.current_time())


def _inbox(engine: Engine, inbox: Path, **changes: Any) -> Any:
    """The inbox actor on ``inbox``, its state beside the test's journal, on virtual time."""
    kwargs = {"path": inbox, "state": inbox.with_suffix(".state"), "now": _now, "wait": 300.0}
    return functools.partial(run_inbox, engine, **(kwargs | changes))


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
            nursery.start_soon(_inbox(engine, inbox))
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
            nursery.start_soon(_inbox(engine, inbox))
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
            nursery.start_soon(_inbox(engine, inbox))
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
            nursery.start_soon(_inbox(engine, inbox))
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


def _line(**fields: Any) -> str:
    return json.dumps({"symbol": "ZO", "side": "BUY", "quantity": 1} | fields) + "\n"


async def test_a_new_days_file_is_worked_even_where_it_repeats_the_old_one(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The inbox emptied and written again, its second line the same id-less line as the old
    file's first, is new work, line by line; a restart on it works nothing twice."""
    path, inbox = tmp_path / "j.sqlite", tmp_path / "inbox.jsonl"
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            nursery.start_soon(_inbox(engine, inbox))
            inbox.write_text(_line())
            await trio.sleep(100)
            inbox.write_text(_line(side="SELL") + _line())  # the next day's file
            await trio.sleep(100)
            nursery.cancel_scope.cancel(reason="restart")
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            nursery.start_soon(_inbox(engine, inbox))
            await trio.sleep(5)
            nursery.cancel_scope.cancel(reason="test over")
        assert [i["side"] for i in _intents(path)] == ["BUY", "SELL", "BUY"]
        assert exchange.statistics().orders == 3


async def test_bad_lines_are_refused_by_number_and_the_runner_goes_on(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A huge quantity, deep nesting, a NUL or a 200,000-character id, an id reused by a new
    line and a month the broker does not list are each refused with the line's number before
    anything is journaled or sent; the line after them is worked."""
    path, inbox = tmp_path / "j.sqlite", tmp_path / "inbox.jsonl"
    inbox.write_text(
        '{"symbol": "ZO", "side": "BUY", "quantity": ' + "9" * 5000 + "}\n"
        + "[" * 100_000 + "]" * 100_000 + "\n"
        + _line(intent_id="a\u0000b") + _line(intent_id="x" * 200_000)
        + _line(intent_id="first") + _line(intent_id="first", quantity=2)
        + _line(month="202612") + _line(quantity=3))
    # Hydra's front month on 2025-03-03 (what lines naming no month trade); 202612 is not listed
    listed = quiet_oats(contract=OATS.for_month("202505"))
    async with open_sim_exchange(listed, seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            with capture_logs() as logs:
                nursery.start_soon(_inbox(engine, inbox))
                await trio.sleep(100)
            nursery.cancel_scope.cancel(reason="test over")
    refused = [(e["event"], e.get("line") or e["source"]) for e in logs
               if e["event"] in ("inbox_line_refused", "intent_refused")]
    assert refused == [("inbox_line_refused", 1), ("inbox_line_refused", 2),
                       ("inbox_line_refused", 3), ("inbox_line_refused", 4),
                       ("inbox_line_refused", 6), ("intent_refused", "inbox line 7")]
    (first, last) = _intents(path)
    assert (first["intent_id"], first["quantity"], last["quantity"]) == ("first", 1, 3)
    assert str(last["intent_id"]).startswith("inbox-8-")
    assert exchange.statistics().orders == 2


async def _session_times(engine: Engine, times: list[tuple[float, bool]]) -> None:
    async for event in engine.subscribe():
        if isinstance(event, SessionChanged):
            times.append((trio.current_time(), event.up))


def _intent_times(path: Path, exchange: SimExchange) -> list[float]:
    """The virtual times the journal recorded each intent at."""
    start = exchange.timestamp(exchange.origin)
    return [exchange.origin + (r.recorded_at - start).total_seconds()
            for r in read_journal(path) if r.kind is EventKind.INTENT]


async def test_an_intent_read_while_the_session_is_down_is_sent_when_it_returns(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A line read while the broker link is down waits, and is journaled and sent the moment
    the session is back."""
    path, inbox = tmp_path / "j.sqlite", tmp_path / "inbox.jsonl"
    params = attrs.evolve(quiet_oats(), faults=(Disconnect(at=10.0, duration=20.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            times: list[tuple[float, bool]] = []
            nursery.start_soon(_session_times, engine, times)
            nursery.start_soon(_inbox(engine, inbox))
            await trio.sleep(12.5)
            inbox.write_text(_line())
            with capture_logs() as logs:
                await trio.sleep(60)
            nursery.cancel_scope.cancel(reason="test over")
        (down, _), (up, _) = times
        assert 10.0 <= down < 12.5 < 30.0 <= up
        assert _intent_times(path, exchange) == [pytest.approx(up, abs=1e-6)]
        assert exchange.statistics().orders == 1
    assert [e["event"] for e in logs if e["event"].startswith("intent_wait")] == [
        "intent_waiting_for_session"]


async def test_an_intent_whose_deadline_passes_while_the_session_is_down_is_dropped(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A line whose own deadline comes before the session is back is dropped at the deadline,
    with a log line, and never sent."""
    path, inbox = tmp_path / "j.sqlite", tmp_path / "inbox.jsonl"
    params = attrs.evolve(quiet_oats(), faults=(Disconnect(at=10.0, duration=20.0),))
    deadline = (START + dt.timedelta(seconds=20)).isoformat()
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            nursery.start_soon(_inbox(engine, inbox))
            await trio.sleep(12.5)
            inbox.write_text(_line(deadline=deadline))
            with capture_logs() as logs:
                await trio.sleep(20.0 - 12.5 - 0.001)
                assert [e for e in logs if e["event"] == "intent_expired"] == []
                await trio.sleep(0.002)
                assert [e["source"] for e in logs if e["event"] == "intent_expired"] == [
                    "inbox line 1"]
                await trio.sleep(60)
            nursery.cancel_scope.cancel(reason="test over")
        assert _intents(path) == [] and exchange.statistics().orders == 0
