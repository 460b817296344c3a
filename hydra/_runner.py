"""The runner's actors: the strategy hook on its daily schedule and the intent inbox (the
status is `hydra._status`'s).

They sit beside an open `Engine` and only submit intents to it; everything else (risk,
journal, reconnects) is the engine's. A bad inbox line is logged and the runner goes on; a
failing hook call is logged and journaled, and only a run of them halts trading.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import types
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path

import attrs
import structlog
import trio

from ._engine import Engine
from ._enums import Side
from ._errors import BrokerConnectionError, BrokerError, HookFailedError, HydraError
from ._ids import ExecutionId, IntentId
from ._inbox import ControlRequest, KillRequest, ResumeRequest, parse_inbox_line
from ._inbox_polls import EVERY_POLL, InboxPolls
from ._inbox_reader import InboxLine, InboxReader, OffloadedReader
from ._journal_actor import Offload, run_inline
from ._messages import EngineEvent, FillRecorded, SessionChanged
from ._orders import Fill, OrderIntent
from ._router import IntentHandle
from ._schedule import DailySchedule
from ._strategy_hook import (
    Holdings,
    Hook,
    StrategyContext,
    ask_hook,
    runs_in_thread,
    timed_out,
)
from .brokers import Broker

log = structlog.get_logger()

Clock = Callable[[], dt.datetime]


async def submit_logged(engine: Engine, intent: OrderIntent, *, source: str,
                        ) -> IntentHandle | None:
    """Submit ``intent``; an intent Hydra refuses is logged, not fatal to the runner (None)."""
    if await engine.was_submitted(intent.intent_id):
        log.info("intent_already_journaled", intent_id=intent.intent_id, source=source)
        return None
    try:
        return await engine.submit(intent)
    except HydraError as e:
        log.error("intent_refused", intent_id=intent.intent_id, source=source, error=str(e))
        return None


@attrs.frozen(kw_only=True)
class HookLimits:
    """How long one call of the hook may take, and how many failures in a row halt trading."""

    timeout: float
    max_failures: int


async def run_schedule(
    engine: Engine, broker: Broker, *, hook: Hook, name: str, schedule: DailySchedule,
    now: Clock, limits: HookLimits,
) -> None:
    """Call ``hook`` at each scheduled moment and submit what it asks for. A failed call is
    journaled (``hook_error``) and the runner goes on; ``limits.max_failures`` in a row halt
    trading (``strategy_halted``, until a resume), and the count starts again. After a
    restart the intents carried over for ``name`` count as its own (`Engine.carried_over`:
    the first run waits, as a live run waits for its closes, until the rolls the restart
    finishes have started their opens)."""
    thread = trio.CapacityLimiter(1)  # one hook thread, even while an abandoned call runs
    failures = 0
    with engine.subscribe() as events:
        own = OwnIntents(events)
        for handle in await engine.carried_over(hook=name):  # its intents of before a restart
            own.add(handle, await engine.journaled_fills(handle.intent.intent_id))
        while True:
            moment = schedule.next_after(now())
            await trio.sleep(max(0.0, (moment - now()).total_seconds()))
            positions = await _positions_within(limits.timeout, broker, hook=name)
            if positions is None:
                continue
            try:
                context = StrategyContext(
                    now=moment, positions=types.MappingProxyType(_net(positions)),
                    positions_by_month=_read_only(positions),
                    front_months=types.MappingProxyType(
                        await _release_months_within(limits.timeout, engine, hook=name)),
                    unfinished=_read_only(own.unfinished()))
                intents = await _ask_within(limits.timeout, hook, context, strategy=name,
                                            limiter=thread)
            except HookFailedError as e:
                failures += 1
                await _hook_failed(engine, name, e.reason, failures=failures, limits=limits)
                if failures == limits.max_failures:
                    failures = 0  # halted: after a resume, as many failures again halt again
                continue
            failures = 0
            log.info("strategy_ran", hook=name, intents=len(intents))
            replaced = [await own.replace(intent) for intent in intents]
            await _submit_closes_first(engine, [i for i in replaced if i is not None],
                                       held=positions, front_months=context.front_months,
                                       source=name, own=own)


class OwnIntents:
    """The intents the hook's runs have submitted that are not over yet (working, or held for
    the open; a restart's carried over too), and what each has filled so far, counted from
    the engine's ``events`` and the journal's fills, once each by execution id."""

    def __init__(self, events: trio.MemoryReceiveChannel[EngineEvent]) -> None:
        self._events = events
        self._live: list[IntentHandle] = []
        self._filled: dict[IntentId, dict[ExecutionId, int]] = {}

    def add(self, handle: IntentHandle, fills: Iterable[Fill] = ()) -> None:
        """Count ``handle``'s intent, with ``fills`` it had before (journaled: a restart's)."""
        self._live.append(handle)
        known = self._filled.setdefault(handle.intent.intent_id, {})
        known.update({fill.execution_id: fill.quantity for fill in fills})

    def unfinished(self) -> dict[str, dict[str | None, int]]:
        """What the live intents will yet buy (+) or sell (−), by symbol and month."""
        self._count_fills()
        left: dict[str, dict[str | None, int]] = {}
        for handle in self._live:
            intent = handle.intent
            months = left.setdefault(intent.contract.symbol, {})
            filled = sum(self._filled[intent.intent_id].values())
            still = intent.side.sign * max(0, intent.quantity - filled)
            months[intent.contract.expiry] = months.get(intent.contract.expiry, 0) + still
        return left

    async def replace(self, intent: OrderIntent) -> OrderIntent | None:
        """``intent``, made from what the live intents will yet trade, once those of them in
        its contract that go the other way are cancelled: a target lowered, or turned to the
        other side, while they work is not reached by trading against them. It is then sent
        net of what they left unfilled (None: nothing is left to send)."""
        against = [h for h in self._live if not h.done
                   and h.intent.contract == intent.contract
                   and h.intent.signed_quantity * intent.signed_quantity < 0]
        for handle in against:
            handle.cancel(reason=f"replaced by {intent.intent_id}: the hook's target changed")
        signed = intent.signed_quantity
        for handle in against:
            report = await handle.wait_done()
            signed += handle.intent.side.sign * (handle.intent.quantity - report.filled)
        if not against:
            return intent
        log.info("target_replaced", intent_id=intent.intent_id,
                 replaced=[h.intent.intent_id for h in against], quantity=signed)
        if signed == 0:
            return None
        return attrs.evolve(intent, side=Side.BUY if signed > 0 else Side.SELL,
                            quantity=abs(signed))

    def _count_fills(self) -> None:
        """Count the fills the engine has recorded since last asked, and forget the intents
        that are over."""
        while True:
            try:
                event = self._events.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel):
                break
            if isinstance(event, FillRecorded) and event.intent_id in self._filled:
                fill = event.fill
                self._filled[IntentId(event.intent_id)][fill.execution_id] = fill.quantity
        self._live = [h for h in self._live if not h.done]
        self._filled = {h.intent.intent_id: self._filled[h.intent.intent_id]
                        for h in self._live}


def _read_only(holdings: Mapping[str, Mapping[str | None, int]]) -> Holdings:
    return types.MappingProxyType({s: types.MappingProxyType(dict(months))
                                   for s, months in holdings.items()})


async def _submit_closes_first(engine: Engine, intents: list[OrderIntent], *, held: Holdings,
                               front_months: Mapping[str, str], source: str,
                               own: OwnIntents) -> None:
    """Submit ``intents`` (each kept in ``own``): first those that close a position in a
    month other than its product's front month, then, once they are over, the others (the
    position limit counts a position until its close fills: a target's roll sells the old
    month, then buys the new). All are journaled as the hook's first, and each roll (an open
    in a named month, after closes of its symbol) too: a restart between its legs finishes
    it (`Engine.record_roll`)."""
    closes = [i for i in intents if _closes(i, held, front_months)]
    opens = [i for i in intents if i not in closes]
    rolls = {o.intent_id: [c for c in closes if c.contract.symbol == o.contract.symbol]
             for o in opens if o.contract.expiry is not None}
    rolls = {intent_id: legs for intent_id, legs in rolls.items() if legs}
    if intents:
        await engine.record_hook_intents(source, intents)
    for opening in opens:
        if opening.intent_id in rolls:
            await engine.record_roll(rolls[opening.intent_id], opening, hook=source)
    handles = [await submit_logged(engine, intent, source=source) for intent in closes]
    for handle in handles:
        if handle is not None:
            own.add(handle)
    left: dict[str, int] = {}  # what the closes left open (signed), by symbol
    for intent, handle in zip(closes, handles, strict=True):
        filled = 0 if handle is None else (await handle.wait_done()).filled
        symbol, sign = intent.contract.symbol, 1 if intent.signed_quantity > 0 else -1
        left[symbol] = left.get(symbol, 0) - sign * (intent.quantity - filled)
    for intent in opens:
        still_open = abs(left.get(intent.contract.symbol, 0))
        opened = _less_what_stayed_open(intent, left)
        handle = None if opened is None else await submit_logged(engine, opened,
                                                                 source=source)
        if handle is not None:
            own.add(handle)
        elif opened is None and intent.intent_id in rolls:  # its closes left it open
            await engine.record_roll_not_done(intent, left_open=still_open)
        elif intent.intent_id in rolls:
            await engine.record_roll_open_skipped(intent, reason="refused")


def _less_what_stayed_open(intent: OrderIntent, left: dict[str, int]) -> OrderIntent | None:
    """``intent`` less what the closes of its symbol left open on its side (taken from
    ``left``): a roll whose close is rejected or partly filled opens no more than it closed,
    and the next run rolls the rest. None when nothing of it is left to send."""
    symbol = intent.contract.symbol
    still = left.get(symbol, 0)
    if still * intent.signed_quantity <= 0:
        return intent
    cut = min(abs(still), intent.quantity)
    left[symbol] = still - cut * (1 if still > 0 else -1)
    log.warning("target_cut", intent_id=intent.intent_id, symbol=symbol, by=cut,
                reason=f"the close of another {symbol} month left {abs(still)} open")
    if cut == intent.quantity:
        return None
    return attrs.evolve(intent, quantity=intent.quantity - cut)


def _closes(intent: OrderIntent, held: Holdings, front_months: Mapping[str, str]) -> bool:
    """True when ``intent`` reduces, at most to flat, a position held in a month other than
    its product's front month."""
    symbol, month = intent.contract.symbol, intent.contract.expiry
    if month is None or month == front_months.get(symbol):
        return False
    position = held.get(symbol, {}).get(month, 0)
    return position * intent.signed_quantity < 0 and intent.quantity <= abs(position)


async def _ask_within(seconds: float, hook: Hook, context: StrategyContext, *, strategy: str,
                      limiter: trio.CapacityLimiter) -> list[OrderIntent]:
    earlier_running = limiter.borrowed_tokens > 0
    with trio.move_on_after(seconds):
        return await ask_hook(hook, context, strategy=strategy, limiter=limiter)
    raise timed_out(seconds, in_thread=runs_in_thread(hook), earlier_running=earlier_running)


async def _release_months_within(seconds: float, engine: Engine, *, hook: str,
                                 ) -> dict[str, str]:
    """The front months of the trading day the hook's intents are released into (after 17:00
    Chicago with the market closed, the next day's: a target held for the open buys the month
    that is the front one then), asked within the hook's own timeout; today's when the broker
    does not answer in time (logged)."""
    with trio.move_on_after(seconds):
        return dict(await engine.front_months_at_release())
    log.warning("release_months_unknown", hook=hook,
                reason=f"no trading hours from the broker within {seconds:g} s: today's months")
    return dict(engine.front_months())


async def _positions_within(seconds: float, broker: Broker, *, hook: str,
                            ) -> dict[str, dict[str | None, int]] | None:
    """The broker's positions (see `_positions`), asked within the hook's own timeout; None
    (the run skipped, logged) when the broker fails or does not answer in time."""
    with trio.move_on_after(seconds):
        try:
            return await _positions(broker)
        except BrokerError as e:
            log.warning("strategy_skipped", hook=hook,
                        reason=f"no positions from the broker ({e})")
            return None
    log.warning("strategy_skipped", hook=hook,
                reason=f"no positions from the broker within {seconds:g} s")
    return None


async def _positions(broker: Broker) -> dict[str, dict[str | None, int]]:
    """The broker's positions by symbol and month (None: the broker names no month)."""
    positions: dict[str, dict[str | None, int]] = {}
    for position in await broker.positions():
        months = positions.setdefault(position.contract.symbol, {})
        if position.quantity:
            month = position.contract.expiry
            months[month] = months.get(month, 0) + position.quantity
    return positions


def _net(positions: Holdings) -> dict[str, int]:
    """Each symbol's position summed over its months."""
    return {symbol: sum(months.values()) for symbol, months in positions.items()}


async def _hook_failed(engine: Engine, name: str, reason: str, *, failures: int,
                       limits: HookLimits) -> None:
    log.error("hook_error", hook=name, reason=reason, failures=failures,
              max_failures=limits.max_failures)
    await engine.record_hook_error(name, reason, failures=failures)
    if failures == limits.max_failures:
        times = "1 time" if failures == 1 else f"{failures} times"
        why = f"strategy hook {name} failed {times} in a row (last: {reason})"
        log.error("strategy_halted", hook=name, reason=why)
        await engine.halt_strategy(why)


async def run_inbox(
    engine: Engine, *, path: Path, state: Path | None = None, durable: bool = True,
    now: Clock, wait: float, polls: InboxPolls = EVERY_POLL, offload: Offload = run_inline,
) -> None:
    """Submit each new JSON line of ``path`` as an intent, as the file grows, reading it at
    each of ``polls`` (every second; a rehearsal's after its trader's writes, see
    `hydra._inbox_polls`); what was read is kept in ``state`` (see `InboxReader`; flushed to
    the disk at each save unless not ``durable``, a rehearsal's), each read and save run
    through ``offload`` (``hydra run``'s `run_in_thread`, as its journal's; on Trio's thread
    by default, for a virtual clock; see `OffloadedReader`). A line is worked
    only once the state that dates it is saved. An intent that finds the broker session down
    waits for it until its deadline (its own, else ``wait`` seconds after it was first read,
    by this run or one before it: a line still waiting when Hydra stopped has no more time
    after a restart). Each line is told to the reader as done once it is handed to the
    engine, refused or dropped."""
    reader = OffloadedReader(
        InboxReader(path, state=state, durable=durable, now=now, wait=wait), offload)
    async with trio.open_nursery() as waiting:  # intents waiting for the session
        while True:
            (lines, generation), finished = await reader.read_lines(), []
            try:
                for line in lines:
                    done = functools.partial(reader.done, generation, [line.number])
                    if not await _take_line(engine, line, generation, waiting=waiting,
                                            now=now, done=done):
                        finished.append(line.number)
            finally:  # one save for the lot, and on the way out too
                with trio.CancelScope(shield=True):
                    await reader.done(generation, finished)
            await polls.wait_next()


async def _take_line(
    engine: Engine, line: InboxLine, generation: int, *, waiting: trio.Nursery, now: Clock,
    done: Callable[[], Awaitable[None]],
) -> bool:
    """Work one line; True when it waits for the session (in ``waiting``, which calls
    ``done`` when the wait ends), False when it is done with."""
    try:
        request = parse_inbox_line(line.text, number=line.number, generation=generation)
    except HydraError as e:
        log.error("inbox_line_refused", line=line.number, error=str(e))
        return False
    if isinstance(request, KillRequest | ResumeRequest):
        await _apply_once(engine, request, line.number)
        return False
    intent, source = request.intent, f"inbox line {line.number}"
    if await engine.was_submitted(intent.intent_id):
        if line.reread:
            log.info("intent_already_journaled", intent_id=intent.intent_id, source=source)
        else:  # a new line with the id of an old one
            log.warning("inbox_line_refused", line=line.number, intent_id=intent.intent_id,
                        error="intent_id: was already worked (ids must be new)")
        return False
    if request.deadline is not None and request.deadline <= now():
        log.error("inbox_line_refused", line=line.number, intent_id=intent.intent_id,
                  error=f"deadline: has passed, got {request.deadline.isoformat()!r}")
        return False
    deadline = request.deadline or line.deadline
    if deadline <= now():  # it was waiting for the session when Hydra stopped
        log.error("intent_expired", intent_id=intent.intent_id, source=source,
                  error=f"its deadline {deadline.isoformat()!r} (inbox_deadline after it was "
                  "first read) has passed: not sent")
        return False
    own = request.deadline  # also bounds a wait for the market to open (Engine.submit)
    outcome = await _submit_unless_down(engine, intent, source=source, deadline=own)
    if outcome is Outcome.DONE:
        return False
    log.warning("intent_waiting_for_session", intent_id=intent.intent_id, source=source,
                deadline=deadline.isoformat())
    seconds = (deadline - now()).total_seconds()
    waiting.start_soon(_submit_when_up, engine, intent, source, seconds, outcome, own, done)
    return True


class Outcome(enum.Enum):
    """What became of one attempt to submit an inbox intent."""

    DONE = "done"  # submitted, or refused for a reason of its own (logged)
    DOWN = "down"  # not tried: the engine says the session is down
    LINK_LOST = "link lost"  # the broker said the session is down before the engine knew


async def _submit_unless_down(engine: Engine, intent: OrderIntent, *, source: str,
                              deadline: dt.datetime | None) -> Outcome:
    """Submit ``intent``, unless the broker session is down (then nothing is journaled)."""
    if not engine.statistics().session_up:
        return Outcome.DOWN
    try:
        await engine.submit(intent, deadline=deadline)
    except BrokerError as e:
        if not engine.statistics().session_up:
            return Outcome.DOWN
        if isinstance(e, BrokerConnectionError):
            return Outcome.LINK_LOST
        log.error("intent_refused", intent_id=intent.intent_id, source=source, error=str(e))
    except HydraError as e:
        log.error("intent_refused", intent_id=intent.intent_id, source=source, error=str(e))
    return Outcome.DONE


async def _submit_when_up(engine: Engine, intent: OrderIntent, source: str, seconds: float,
                          outcome: Outcome, own: dt.datetime | None,
                          done: Callable[[], Awaitable[None]]) -> None:
    """Submit ``intent`` once the session is back, within ``seconds`` (``outcome``: why the
    last attempt did not), and call ``done`` when it is submitted or dropped (not when the
    engine closes first). Only the waiting is bounded: a submission under way is never cut
    off by the deadline."""
    deadline = trio.current_time() + seconds
    with engine.subscribe() as events:
        while outcome is not Outcome.DONE:
            with trio.move_on_at(deadline) as waiting:
                if outcome is Outcome.LINK_LOST and not await _session_changed(events):
                    return  # the engine is closing; else the engine now knows the link is down
                while not engine.statistics().session_up:
                    if not await _session_changed(events):
                        return
            if waiting.cancelled_caught:
                log.error("intent_expired", intent_id=intent.intent_id, source=source,
                          error=f"the broker session was still down after {seconds:.0f} s")
                await done()
                return
            outcome = await _submit_unless_down(engine, intent, source=source, deadline=own)
    await done()


async def _session_changed(events: trio.MemoryReceiveChannel[EngineEvent]) -> bool:
    """Wait for the next change of the broker session; False when the engine has closed."""
    async for event in events:
        if isinstance(event, SessionChanged):
            return True
    return False


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
