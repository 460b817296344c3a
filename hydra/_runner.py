"""The runner's actors: the strategy hook on its daily schedule, the intent inbox, the status.

They sit beside an open `Engine` and only submit intents to it; everything else (risk,
journal, reconnects) is the engine's. A bad inbox line or a failing hook answer is logged and
journaled, and the runner goes on.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import structlog
import trio

from ._engine import Engine
from ._errors import HydraError
from ._inbox import ControlRequest, KillRequest, ResumeRequest, parse_inbox_line
from ._orders import OrderIntent
from ._schedule import DailySchedule
from ._strategy_hook import Hook, StrategyContext, intents_from
from .brokers import Broker

log = structlog.get_logger()

INBOX_POLL_SECONDS = 1.0
"""How often the inbox file is checked for new lines (the standard library cannot watch it)."""

Clock = Callable[[], dt.datetime]


async def submit_logged(engine: Engine, intent: OrderIntent, *, source: str) -> None:
    """Submit ``intent``; an intent Hydra refuses is logged, not fatal to the runner."""
    if await engine.was_submitted(intent.intent_id):
        log.info("intent_already_journaled", intent_id=intent.intent_id, source=source)
        return
    try:
        await engine.submit(intent)
    except HydraError as e:
        log.error("intent_refused", intent_id=intent.intent_id, source=source, error=str(e))


async def run_schedule(
    engine: Engine, broker: Broker, *, hook: Hook, name: str, schedule: DailySchedule,
    now: Clock,
) -> None:
    """Call ``hook`` at each scheduled moment and submit what it asks for."""
    while True:
        moment = schedule.next_after(now())
        await trio.sleep(max(0.0, (moment - now()).total_seconds()))
        positions: dict[str, int] = {}
        for position in await broker.positions():
            symbol = position.contract.symbol
            positions[symbol] = positions.get(symbol, 0) + position.quantity
        try:
            answer = hook(StrategyContext(now=moment, positions=positions))
            intents = intents_from(answer, positions=positions, strategy=name)
        except HydraError as e:
            log.error("strategy_answer_refused", hook=name, error=str(e))
            continue
        log.info("strategy_ran", hook=name, intents=len(intents))
        for intent in intents:
            await submit_logged(engine, intent, source=name)


async def run_inbox(engine: Engine, *, path: Path) -> None:
    """Submit each new JSON line of ``path`` as an intent, as the file grows."""
    offset, number, partial = 0, 0, b""
    while True:
        data = _read_from(path, offset)
        offset += len(data)
        *lines, partial = (partial + data).split(b"\n")
        for raw in lines:
            number += 1
            if raw.strip():
                await _submit_line(engine, raw.decode("utf-8", "replace"), number)
        await trio.sleep(INBOX_POLL_SECONDS)


def _read_from(path: Path, offset: int) -> bytes:
    """What was appended since ``offset``. Read on Trio's thread on purpose: it is a small
    local file, and a worker thread would let a virtual clock jump past the read."""
    try:
        with path.open("rb") as file:
            file.seek(offset)
            return file.read()
    except FileNotFoundError:
        return b""


async def _submit_line(engine: Engine, line: str, number: int) -> None:
    try:
        request = parse_inbox_line(line, number=number)
    except HydraError as e:
        log.error("inbox_line_refused", line=number, error=str(e))
        return
    if isinstance(request, KillRequest | ResumeRequest):
        await _apply_once(engine, request, number)
        return
    await submit_logged(engine, request, source=f"inbox line {number}")


async def _apply_once(engine: Engine, request: ControlRequest, number: int) -> None:
    """Apply a control line unless the journal says it was applied before (a restart
    re-reads the inbox); journaled after it took effect, so a crash in between repeats it
    rather than losing it."""
    if await engine.control_applied(request.request_id):
        log.info("inbox_control_already_applied", line=number, request_id=request.request_id)
        return
    if isinstance(request, KillRequest):
        log.warning("kill_switch_requested", line=number, reason=request.reason)
        await engine.kill(request.reason)
    else:
        log.warning("resume_requested", line=number, reason=request.reason)
        await engine.resume(reason=request.reason)
    await engine.record_control(request.request_id, line=number)


def status_line(engine: Engine) -> str:
    stats = engine.statistics()
    link = "connected" if stats.session_up else "DISCONNECTED"
    return (f"hydra: {link} | risk {stats.trading_state.value} | working {stats.working} | "
            f"done {stats.finished} (blocked {stats.blocked}) | fills {stats.fills} "
            f"({stats.filled_quantity} lots)")


async def run_status(engine: Engine, *, stream: TextIO = sys.stderr) -> None:
    """A live status line on a terminal (every second); a JSON log line a minute otherwise."""
    tty = stream.isatty()
    while True:
        if tty:
            stream.write("\r" + status_line(engine).ljust(100))
            stream.flush()
        else:
            stats = engine.statistics()
            log.info("status", session_up=stats.session_up, trading_state=stats.trading_state.value,
                     working=stats.working, finished=stats.finished, fills=stats.fills)
        await trio.sleep(1.0 if tty else 60.0)
