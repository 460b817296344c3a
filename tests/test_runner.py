"""The runner's actors beside Hydra on the simulator, on the virtual clock."""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
import zoneinfo
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from hydra import OATS, Engine, HydraConfig, OrderIntent, Policy, SessionChanged, Side
from hydra._inbox import resume_line
from hydra._journal import EventKind, Journal
from hydra._journal_records import read_journal
from hydra._runner import HookLimits, _closes, run_inbox, run_schedule
from hydra._schedule import DailySchedule, parse_days
from hydra._settings import ExecutionSettings, RiskLimits
from hydra._strategy_hook import intents_from
from hydra.sim import Disconnect, MarketParams, SimBroker, SimExchange, SimParams, open_sim_exchange
from tests.simulated import journal_notes, open_engine, quiet_oats
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
    """At 08:35 exchange time the hook asks for 3 oats; Hydra buys 3 and nothing before.
    (Awaited in Trio: a plain hook's worker thread would let the virtual clock jump to its
    deadline; plain hooks are asked in tests/test_strategy_hook.py and in a real process.)"""

    async def hook(context: Any) -> dict[str, int]:
        return daily_targets(context)

    schedule = DailySchedule(at=dt.time(8, 35), days=parse_days("d", "Mon-Fri"), zone=CHICAGO)
    now = functools.partial(lambda: START + dt.timedelta(seconds=trio.current_time()))
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        broker_view = SimBroker(exchange)
        await broker_view.connect()
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            nursery.start_soon(functools.partial(
                run_schedule, engine, broker_view, hook=hook, name="daily_targets",
                schedule=schedule, now=now, limits=HookLimits(timeout=30.0, max_failures=3)))
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
            assert engine.statistics().finished == 2
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
    assert json.loads(inbox.with_suffix(".state").read_text())["deadlines"] == []  # sent


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


async def test_a_line_read_again_after_a_restart_keeps_the_deadline_of_its_first_read(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A line first read at 13 s while the link is down (until 190 s) may wait until 313 s.
    Hydra is stopped at 62.5 s and started again at 200 s, and its inbox read at 260 s, the
    link down again (from 250 s to 340 s): the line, read again, waits only until 313 s (not
    560 s), is dropped then, and never sent."""
    path, inbox = tmp_path / "j.sqlite", tmp_path / "inbox.jsonl"
    params = attrs.evolve(quiet_oats(), faults=(Disconnect(at=10.0, duration=180.0),
                                                Disconnect(at=250.0, duration=90.0)))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            nursery.start_soon(_inbox(engine, inbox))
            await trio.sleep_until(12.5)
            inbox.write_text(_line())
            with capture_logs() as first:
                await trio.sleep_until(62.5)
            nursery.cancel_scope.cancel(reason="Hydra stopped")
        await trio.sleep_until(200.0)
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            await trio.sleep_until(260.0)
            nursery.start_soon(_inbox(engine, inbox))
            with capture_logs() as logs:
                await trio.sleep_until(313.0 - 0.001)
                assert [e for e in logs if e["event"] == "intent_expired"] == []
                await trio.sleep_until(313.0 + 0.001)
                assert [e["source"] for e in logs if e["event"] == "intent_expired"] == [
                    "inbox line 1"]
                await trio.sleep_until(400.0)
            nursery.cancel_scope.cancel(reason="test over")
        assert _intents(path) == [] and exchange.statistics().orders == 0
    deadline = (START + dt.timedelta(seconds=313)).isoformat()
    assert [e["deadline"] for e in first + logs if e["event"] == "intent_waiting_for_session"
            ] == [deadline, deadline]
    assert json.loads(inbox.with_suffix(".state").read_text())["deadlines"] == []  # dropped


async def test_a_line_is_worked_only_once_the_state_that_dates_it_is_saved(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The inbox's reads and saves offloaded to a disk that takes 3 s for each (a worker
    thread's, slow as a loaded disk is in milliseconds): the reads end at 3, 7, 11 and 15 s,
    the last finding the line written at 12.5 s, dated 315 s; the line is submitted at 15 s,
    its deadline then in the state file, and the save of its being done ends at 18 s."""
    path, inbox = tmp_path / "j.sqlite", tmp_path / "inbox.jsonl"

    async def slow_disk(call: Any) -> Any:
        await trio.sleep(3)
        return call()

    def deadlines() -> list[dict[str, object]]:
        kept: list[dict[str, object]] = json.loads(
            inbox.with_suffix(".state").read_text())["deadlines"]
        return kept

    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            nursery.start_soon(_inbox(engine, inbox, offload=slow_disk))
            await trio.sleep_until(12.5)
            inbox.write_text(_line())
            await trio.sleep_until(15.0 - 0.001)
            assert _intents(path) == []
            await trio.sleep_until(15.0 + 0.001)
            assert len(_intents(path)) == 1
            assert deadlines() == [
                {"lines": [1], "deadline": (START + dt.timedelta(seconds=315)).isoformat()}]
            await trio.sleep_until(18.0 - 0.001)
            assert len(deadlines()) == 1
            await trio.sleep_until(18.0 + 0.001)
            assert deadlines() == []
            nursery.cancel_scope.cancel(reason="test over")


async def test_a_line_whose_deadline_passed_while_hydra_was_stopped_is_dropped_saying_why(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A line first read at 13 s while the link is down may wait until 313 s; Hydra, stopped
    at 62.5 s and started again at 400 s with the link back, drops it at once as expired,
    naming the deadline, and sends nothing."""
    path, inbox = tmp_path / "j.sqlite", tmp_path / "inbox.jsonl"
    params = attrs.evolve(quiet_oats(), faults=(Disconnect(at=10.0, duration=380.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            nursery.start_soon(_inbox(engine, inbox))
            await trio.sleep_until(12.5)
            inbox.write_text(_line())
            await trio.sleep_until(62.5)
            nursery.cancel_scope.cancel(reason="Hydra stopped")
        await trio.sleep_until(400.0)
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            with capture_logs() as logs:
                nursery.start_soon(_inbox(engine, inbox))
                await trio.sleep(60)
            nursery.cancel_scope.cancel(reason="test over")
        assert _intents(path) == [] and exchange.statistics().orders == 0
    deadline = (START + dt.timedelta(seconds=313)).isoformat()
    assert [e["error"] for e in logs if e["event"] == "intent_expired"] == [
        f"its deadline {deadline!r} (inbox_deadline after it was first read) has passed: "
        "not sent"]


EVERY_DAY = DailySchedule(at=dt.time(8, 35), days=parse_days("d", "Mon-Sun"), zone=CHICAGO)
FIRST_CALL = 35 * 60.0  # virtual seconds from START to the first 08:35
DAY = 86_400.0


async def _start_hook(nursery: trio.Nursery, engine: Engine, exchange: SimExchange, hook: Any,
                      *, hook_timeout: float = 30.0, max_failures: int = 3) -> None:
    """The strategy actor calling ``hook`` (as "desk") at 08:35 every day, on virtual time."""
    broker = SimBroker(exchange)
    await broker.connect()
    nursery.start_soon(functools.partial(
        run_schedule, engine, broker, hook=hook, name="desk", schedule=EVERY_DAY, now=_now,
        limits=HookLimits(timeout=hook_timeout, max_failures=max_failures)))


async def test_a_failing_hook_is_journaled_and_the_runner_goes_on(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A hook that raises on day 1 and answers garbage on day 2 is journaled each time as
    hook_error with its reason and count; on day 3 its targets are worked, and the count
    starts again."""
    path, called = tmp_path / "j.sqlite", list[float]()
    answers: list[Any] = [ZeroDivisionError("division by zero"), "buy oats", {"ZO": 2}]

    async def hook(context: Any) -> Any:
        called.append(trio.current_time())
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            await _start_hook(nursery, engine, exchange, hook)
            await trio.sleep(FIRST_CALL + 2 * DAY + 600)
            nursery.cancel_scope.cancel(reason="test over")
            assert engine.statistics().trading_state.value == "ACTIVE"
    assert called == [FIRST_CALL, FIRST_CALL + DAY, FIRST_CALL + 2 * DAY]
    errors = journal_notes(path, "hook_error")
    assert [(e["hook"], e["failures"], e["reason"]) for e in errors] == [
        ("desk", 1, "raised ZeroDivisionError: division by zero"),
        ("desk", 2, "bad answer: strategy answer: must be target positions (symbol → "
                    "contracts) or intents, got 'buy oats'"),
    ]
    (intent,) = _intents(path)
    assert (intent["quantity"], intent["strategy"]) == (2, "desk")
    assert journal_notes(path, "strategy_halted") == []


async def test_failures_in_a_row_halt_trading_until_a_resume(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Two failures in a row (max_hook_failures = 2) halt trading, journaled as
    strategy_halted (not as a kill), never as unrecoverable_error; a resume clears it, and
    two more failures halt again."""
    path = tmp_path / "j.sqlite"

    async def hook(context: Any) -> Any:
        raise RuntimeError("model file missing")

    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            await _start_hook(nursery, engine, exchange, hook, max_failures=2)
            await trio.sleep(FIRST_CALL + DAY + 1)
            assert engine.statistics().trading_state.value == "HALTED"
            await engine.resume(reason="model file restored")
            assert engine.statistics().trading_state.value == "ACTIVE"
            await trio.sleep(DAY)
            assert engine.statistics().trading_state.value == "ACTIVE"  # one failure since
            await trio.sleep(DAY)
            assert engine.statistics().trading_state.value == "HALTED"
            nursery.cancel_scope.cancel(reason="test over")
    assert [e["failures"] for e in journal_notes(path, "hook_error")] == [1, 2, 1, 2]
    halts = journal_notes(path, "strategy_halted")
    assert [h["reason"] for h in halts] == [
        "strategy hook desk failed 2 times in a row (last: raised RuntimeError: model file "
        "missing)"] * 2
    assert journal_notes(path, "kill_switch") == []
    assert journal_notes(path, "unrecoverable_error") == []


async def test_a_hung_hook_times_out_while_the_engine_works_and_holds_one_thread(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A hook blocked in its thread is cut off at hook_timeout: meanwhile one intent fills
    and another's ladder steps (at 60 s); the next day's call waits for the same thread and
    is cut off too, saying so; the hook was entered once."""
    path, release, started = tmp_path / "j.sqlite", threading.Event(), threading.Event()
    entered: list[dt.datetime] = []

    def hook(context: Any) -> Any:
        entered.append(context.now)
        started.set()
        release.wait()
        return {}

    try:
        async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
            async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
                await _start_hook(nursery, engine, exchange, hook, hook_timeout=90.0)
                await trio.sleep(FIRST_CALL)
                with capture_logs() as logs:
                    handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY,
                                                             quantity=2, policy=Policy.CROSS))
                    await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1,
                                                    policy=Policy.PATIENCE))
                    await trio.sleep(30)
                    assert handle.report is not None and handle.report.filled == 2
                    await trio.sleep(DAY + 90)
                nursery.cancel_scope.cancel(reason="test over")
    finally:
        release.set()
    errors = [(e["event"], e["failures"], e["reason"].split(";")[0]) for e in logs
              if e["event"] == "hook_error"]
    assert errors == [
        ("hook_error", 1, "no answer within 90 s"),
        ("hook_error", 2, "no answer within 90 s (an earlier call, past its deadline, was "
                          "still running)"),
    ]
    events = [e["event"] if e["event"] != "ladder_stage" else e["stage"] for e in logs]
    assert events.index("stepped") < events.index("hook_error")
    assert started.wait(10) and len(entered) == 1


async def test_the_hook_cannot_change_the_positions_it_is_told(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The positions a hook is given are read-only: a hook that writes to them fails its
    call (journaled) and the targets are not skewed."""
    path = tmp_path / "j.sqlite"

    async def hook(context: Any) -> dict[str, int]:
        context.positions["ZO"] = 5
        return {"ZO": 1}

    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            await _start_hook(nursery, engine, exchange, hook)
            await trio.sleep(FIRST_CALL + 1)
            nursery.cancel_scope.cancel(reason="test over")
    (error,) = journal_notes(path, "hook_error")
    assert error["reason"] == ("raised TypeError: 'mappingproxy' object does not support item "
                               "assignment")
    assert _intents(path) == []


async def test_a_day_without_positions_from_the_broker_is_skipped(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """At 08:35 the link is down: the broker cannot give positions, the call is skipped
    (logged, not a hook failure) and the runner asks the hook again the next day."""
    path, called = tmp_path / "j.sqlite", list[float]()

    async def hook(context: Any) -> dict[str, int]:
        called.append(trio.current_time())
        return {}

    params = attrs.evolve(quiet_oats(), faults=(Disconnect(at=FIRST_CALL - 10, duration=60),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            with capture_logs() as logs:
                await _start_hook(nursery, engine, exchange, hook)
                await trio.sleep(FIRST_CALL + DAY + 1)
            nursery.cancel_scope.cancel(reason="test over")
    assert called == [FIRST_CALL + DAY]
    (skipped,) = [e for e in logs if e["event"] == "strategy_skipped"]
    assert skipped["reason"] == ("no positions from the broker (not connected to the simulated "
                                 "exchange)")
    assert journal_notes(path, "hook_error") == []


async def test_an_async_hook_past_its_deadline_is_cancelled_at_exactly_the_deadline(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """An ``async def`` hook that never answers is cancelled at 08:35 + hook_timeout exactly
    (it runs in Trio: nothing is left behind) and journaled as a time-out."""
    path, cancelled_at = tmp_path / "j.sqlite", list[float]()

    async def hook(context: Any) -> dict[str, int]:
        try:
            await trio.sleep_forever()
        finally:
            cancelled_at.append(trio.current_time())

    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            await _start_hook(nursery, engine, exchange, hook, hook_timeout=20.0)
            await trio.sleep(FIRST_CALL + 60)
            nursery.cancel_scope.cancel(reason="test over")
    assert cancelled_at == [FIRST_CALL + 20]
    (error,) = journal_notes(path, "hook_error")
    assert error["reason"] == "no answer within 20 s; cancelled"


async def test_a_target_rolls_the_position_out_of_a_month_near_delivery(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Long 1 ZOK5 from Thursday 2025-04-24, when it is the front month. At Friday's 08:35
    the front month is ZON5 (ZOK5's first notice, 30 April, is 5 days off) and the hook asks
    for +1 ZO, which it holds: the trader expects it rolled (sell the ZOK5, then buy a ZON5:
    with a position limit of 1, not both at once), not left in the month going to delivery,
    and the hook told what it holds by month."""
    start = dt.datetime(2025, 4, 24, 14, 30, tzinfo=dt.UTC)
    params = SimParams(
        markets=tuple(MarketParams.oats(contract=OATS.for_month(m), adv=0, daily_volatility=0.0,
                                        spread_ticks=((1, 1.0),)) for m in ("202505", "202507")),
        session_start=start, ack_latency=0.001, fill_latency=0.001)
    told: list[Any] = []

    async def hook(context: Any) -> dict[str, int]:
        told.append((dict(context.positions), {s: dict(m) for s, m in
                                               context.positions_by_month.items()},
                     dict(context.front_months)))
        return {"ZO": 1}

    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(params, seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        async with open_engine(exchange, path, HydraConfig(
                execution=ExecutionSettings(patience=0.2), risk=RiskLimits(max_position=1)),
                ) as engine, trio.open_nursery() as nursery:
            bought = await engine.submit(OrderIntent(contract=OATS.for_month("202505"),
                                                     side=Side.BUY, quantity=1))
            assert (await bought.wait_done()).filled == 1
            nursery.start_soon(functools.partial(
                run_schedule, engine, broker, hook=hook, name="desk", schedule=EVERY_DAY,
                now=lambda: exchange.timestamp(trio.current_time()),
                limits=HookLimits(timeout=30.0, max_failures=3)))
            await trio.sleep(86400)
            nursery.cancel_scope.cancel(reason="test over")
        held = {p.contract.expiry: p.quantity for p in exchange.positions()}
    assert told == [({"ZO": 1}, {"ZO": {"202505": 1}}, {"ZO": "202507", "HE": "202505"})]
    assert [(i["contract"]["expiry"], i["side"], i["quantity"], i["strategy"])
            for i in _intents(path)][1:] == [("202505", "SELL", 1, "desk"),
                                             ("202507", "BUY", 1, "desk")]
    assert {m: q for m, q in held.items() if q} == {"202507": 1}


def test_only_an_intent_closing_a_month_other_than_the_front_goes_first() -> None:
    """Held +3 ZOZ6 with ZOH7 the front month: selling up to 3 ZOZ6 closes it (it goes
    first); selling 4 (a reversal), buying ZOZ6, the front month's orders and a month not
    held (a spread's leg) are not held back."""
    held = {"ZO": {"202612": 3}}
    front = {"ZO": "202703"}

    def order(month: str | None, side: Side, quantity: int) -> OrderIntent:
        contract = OATS if month is None else OATS.for_month(month)
        return OrderIntent(contract=contract, side=side, quantity=quantity)

    assert [_closes(o, held, front) for o in (
        order("202612", Side.SELL, 3), order("202612", Side.SELL, 1),
        order("202612", Side.SELL, 4), order("202612", Side.BUY, 1),
        order("202703", Side.SELL, 1), order(None, Side.SELL, 1),
        order("202705", Side.SELL, 1))] == [True, True, False, False, False, False, False]


MONTHS = st.dictionaries(st.sampled_from([None, "202612", "202703", "202705"]),
                         st.integers(-5, 5), max_size=4)


@given(held=MONTHS, unfinished=MONTHS, target=st.integers(-5, 5),
       front=st.sampled_from([None, "202703"]))
def test_a_target_counts_the_hooks_unfinished_intents(
    held: dict[str | None, int], unfinished: dict[str | None, int], target: int,
    front: str | None,
) -> None:
    """Whatever is held and whatever the hook's own intents will still trade, once those and
    the new orders are over the front month (with no month) holds the target and every other
    month is flat: nothing the unfinished intents do is asked for again."""
    intents = intents_from({"ZO": target}, positions={"ZO": held}, unfinished={"ZO": unfinished},
                           front_months={} if front is None else {"ZO": front}, strategy="s")
    after: dict[str | None, int] = {}
    for month, quantity in [*held.items(), *unfinished.items()]:
        month = front if month is None else month
        after[month] = after.get(month, 0) + quantity
    for intent in intents:
        month = intent.contract.expiry
        after[month] = after.get(month, 0) + intent.signed_quantity
    assert after.pop(front, 0) == target
    assert {m: q for m, q in after.items() if q} == {}
    assert len({i.contract.expiry for i in intents}) == len(intents)  # one order a month


@pytest.mark.parametrize("durable", [True, False], ids=["hydra run's", "a rehearsal's"])
async def test_the_inbox_state_is_flushed_to_the_disk_unless_a_rehearsal_says_not(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, flushed: list[str], durable: bool,
) -> None:
    """``hydra run``'s inbox (``run_inbox`` as it calls it, ``durable`` left out) flushes its
    state file to the disk at each save; a rehearsal's (``durable=False``) saves the same
    state without a flush, as its journal commits without one."""
    path, inbox = tmp_path / "j.sqlite", tmp_path / "inbox.jsonl"
    inbox.write_text('{"symbol": "ZO", "side": "BUY", "quantity": 1, "intent_id": "a"}\n')
    changes = {} if durable else {"durable": False}
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            nursery.start_soon(_inbox(engine, inbox, **changes))
            await trio.sleep(5)
            nursery.cancel_scope.cancel(reason="test over")
    assert [i["intent_id"] for i in _intents(path)] == ["a"]
    state = json.loads(inbox.with_suffix(".state").read_text())
    assert state["read"] == inbox.stat().st_size
    saves = [name for name in flushed if name == "inbox.state.new"]
    assert (len(saves) >= 2) if durable else (saves == [])
