"""`rehearse`: weeks of the paper runner against the simulator, on Trio's virtual clock.

Each trading day of the plan (`hydra._rehearsal_plan`) is one session: a simulated exchange
opens for the day (its own seed; flat at the open, as a strategy flat overnight), Hydra opens
on it with the journal (``engine_started`` venue ``rehearsal``, so the gate never takes it for
paper), and the runner's own actors run until the close: the strategy hook on its schedule
(`hydra._runner.run_schedule`) and the inbox (`hydra._runner.run_inbox`), into which the
rehearsal's trader appends a one-lot intent every `INTENT_EVERY` seconds and the day's kill and
resume lines, telling the inbox's reader after each write: the reader wakes only at the poll
after a write, the one that would have read it (`hydra._inbox_polls.WrittenPolls`), so the
virtual clock jumps from write to write instead of stopping every second. Hydra closes
(drains, cancels), and the healing cycle runs over the journal, as ``hydra run`` heals after
its close. Hydra reaches each day's exchange in-process
(`SimBroker`), or through the simulated TCP gateway and the IB client as ``hydra run --sim``
does (`hydra._rehearsal_broker`, which says why the virtual clock stays exact on both).

`hydra rehearse` goes through the gateway by default (the issue's rehearsal "against the
simulated gateway"): four weeks in 40.1 s of wall time on the 2-CPU machine with the journal
on its disk, in-process 14.7 s (2026-12-02, BENCHMARKS.md, "Four weeks rehearsed"). A
`Rehearsal` built in code goes in-process unless it says otherwise: the tests' many short
rehearsals need no sockets.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import trio

from ._core._model_versions import FIRST_VERSION
from ._enums import NoteKind, Side
from ._healing import HealingCycle
from ._inbox import resume_line
from ._inbox_polls import WrittenPolls
from ._journal import Journal
from ._journal_actor import run_inline
from ._model_journal import heal
from ._model_store import current_model
from ._open_hydra import REHEARSAL_VENUE, open_hydra
from ._rehearsal_broker import BrokerKind, open_rehearsal_broker
from ._rehearsal_plan import REGIME_DAY, Day
from ._runner import HookLimits, run_inbox, run_schedule
from ._settings import HydraConfig, RiskLimits
from ._strategy_hook import Hook, StrategyContext, called_inline
from .sim import SimParams, open_sim_exchange

VENUE = REHEARSAL_VENUE
INTENT_EVERY = 400.0  # seconds between the trader's one-lot intents
POLICIES = ("patience", "cross", "cross")  # in turn: a crossing's cost follows the spread
FIRST_INTENT_AFTER = 900.0  # the trader's first intent, after the open
LAST_INTENT_BEFORE = 900.0  # no new intent in the session's last quarter hour
WRITE_OFFSET = 0.5  # the trader writes between the inbox's polls (a tie is Trio's to order)
LOW = Decimal(1)  # a breaker drill's limits, in dollars: the first fill trips them all


async def rehearsal_hook(context: StrategyContext) -> Mapping[str, int]:
    """The rehearsal's strategy when the configuration names none: long one oats contract on
    even days of the month, short one on odd days. An ``async def`` hook runs in Trio; a plain
    function would run in a worker thread, during which the virtual clock moves on."""
    return {"ZO": 1 if context.now.day % 2 == 0 else -1}


def drill_risk(limits: RiskLimits) -> RiskLimits:
    """``limits`` with every circuit breaker at $1."""
    return attrs.evolve(limits, daily_loss_limit=LOW, max_drawdown=LOW, max_position_value=LOW,
                        max_single_trade_loss=LOW)


@attrs.frozen(kw_only=True)
class DayResult:
    """What one session did: its fills, the risk state at the close, and the healing cycle
    after it (None when the model had no new fill to judge)."""

    day: Day
    fills: int
    trading_state: str
    cycle: HealingCycle | None
    cycle_id: str | None
    version: str

    def line(self, total: int) -> str:
        """The progress line of this day."""
        day = self.day
        drills = "; ".join(day.drills())
        heal = "no new fills to judge" if self.cycle is None else (
            self.cycle.detection.summary.split(":")[0] if self.cycle.decision is None
            else f"{self.cycle.detection.summary.split(':')[0]}, "
            f"{self.cycle.decision.outcome.value.replace('_', ' ')}")
        return (f"day {day.number:2}/{total} {day.date:%a %Y-%m-%d} (week {day.week}, "
                f"{'costly' if day.costly else 'baseline'} market): {self.fills} fills, risk "
                f"{self.trading_state}" + (f"; {drills}" if drills else "")
                + f"; {self.cycle_id or 'no cycle'}: {heal}; model {self.version}")


@attrs.frozen(kw_only=True)
class Rehearsal:
    """What ``rehearse`` needs besides the days: the configuration, the journal and inbox
    files, the seed, the strategy and where progress goes."""

    config: HydraConfig
    journal: Path
    seed: int = 1
    broker: BrokerKind = BrokerKind.IN_PROCESS
    hook: Hook = rehearsal_hook
    hook_name: str = "rehearsal"
    progress: Callable[[str], None] = print

    @property
    def inbox(self) -> Path:
        return self.journal.with_name(self.journal.name + ".inbox.jsonl")


def virtual_clock(start: dt.datetime) -> Callable[[], dt.datetime]:
    """Wall-clock time on the virtual clock: ``start`` at Trio time 0."""
    return lambda: start + dt.timedelta(seconds=trio.current_time())


async def rehearse(rehearsal: Rehearsal, days: Sequence[Day]) -> list[DayResult]:
    """Every day of ``days`` in turn, on the running Trio clock (a `trio.testing.MockClock`
    makes weeks pass in seconds); returns what each session did."""
    first_open = days[0].session_hours()[0].astimezone(dt.UTC)
    clock = virtual_clock(first_open - dt.timedelta(seconds=trio.current_time()))
    results: list[DayResult] = []
    for day in days:
        opens, closes = day.session_hours()
        await trio.sleep_until(trio.current_time() + max(0.0, (opens - clock()).total_seconds()))
        fills, state = await run_session(rehearsal, day, clock=clock, closes=closes,
                                         new_journal=not results)
        result = heal_after(rehearsal, day, clock=clock, fills=fills, state=state)
        rehearsal.progress(result.line(len(days)))
        results.append(result)
    return results


async def run_session(rehearsal: Rehearsal, day: Day, *, clock: Callable[[], dt.datetime],
                      closes: dt.datetime, new_journal: bool = False) -> tuple[int, str]:
    """One day's session: the exchange, Hydra and the runner's actors until ``closes``; the
    fills Hydra saw and its trading state at the close. The first session starts the journal
    (``new_journal``: where a journal was removed, its marker would refuse the start)."""
    # Each day's exchange draws a new past: measured from its bars, ADV and volatility would
    # jump from day to day (a paper run's past only gains a day), so the configured ones hold.
    config = attrs.evolve(rehearsal.config, market_facts=attrs.evolve(
        rehearsal.config.market_facts, from_bars=False))
    if day.breakers_low:
        config = attrs.evolve(config, risk=drill_risk(config.risk))
    params = SimParams(markets=(day.market,), session_start=clock(),
                       faults=() if day.drop is None else (day.drop,),
                       execution_prefix=f"sim.{day.date:%Y%m%d}")
    rehearsal.inbox.unlink(missing_ok=True)  # each session's inbox is a new generation
    async with open_sim_exchange(params, seed=rehearsal.seed * 1000 + day.number) as exchange:
        async with open_rehearsal_broker(exchange, rehearsal.broker,
                                         settings=config.broker) as broker, open_hydra(
                config, broker, journal_path=rehearsal.journal, offload=run_inline, clock=clock,
                venue=VENUE, seed=rehearsal.seed, new_journal=new_journal,
                durable=False) as engine:
            polls = WrittenPolls()  # the trader is the inbox's only writer, and tells it
            async with trio.open_nursery() as nursery:
                nursery.start_soon(functools.partial(
                    run_schedule, engine, broker, hook=called_inline(rehearsal.hook),
                    name=rehearsal.hook_name,
                    schedule=config.runner.daily_schedule(), now=clock,
                    limits=HookLimits(timeout=config.runner.hook_timeout,
                                      max_failures=config.runner.max_hook_failures)))
                nursery.start_soon(functools.partial(
                    run_inbox, engine, path=rehearsal.inbox,
                    state=Path(f"{rehearsal.journal}.inbox"), durable=False, now=clock,
                    wait=config.runner.inbox_deadline, polls=polls))
                nursery.start_soon(run_trader, rehearsal.inbox, day, trio.current_time(),
                                   (closes - clock()).total_seconds(), polls)
                await trio.sleep((closes - clock()).total_seconds())
                nursery.cancel_scope.cancel(reason="the session has closed")
            stats = engine.statistics()
        return stats.fills, stats.trading_state.value


async def run_trader(inbox: Path, day: Day, opened: float, seconds: float,
                     polls: WrittenPolls) -> None:
    """The rehearsal's trader: a one-lot intent every `INTENT_EVERY` seconds, policies in
    the turn of `POLICIES`, two buys and two sells in turn (none while the kill drill halts
    trading, none on the breaker drill's day: the strategy's first fill trips them), and the
    day's kill and resume lines, appended to ``inbox``, each told to the reader's ``polls``."""
    lines: list[tuple[float, str]] = []
    at, number = FIRST_INTENT_AFTER, 0
    halted = (day.kill_at or math.inf, day.resume_at or math.inf)
    while at <= seconds - LAST_INTENT_BEFORE and not day.breakers_low:
        number += 1
        if halted[0] <= at < halted[1]:  # the trader knows the drill: nothing to refuse
            at += INTENT_EVERY
            continue
        lines.append((at, json.dumps({
            "symbol": "ZO", "side": (Side.BUY if (number - 1) // 2 % 2 == 0 else Side.SELL).value,
            "quantity": 1, "policy": POLICIES[number % len(POLICIES)], "strategy": "rehearsal",
            "intent_id": f"rehearsal-{day.date:%Y%m%d}-{number}"})))
        at += INTENT_EVERY
    if day.kill_at is not None:
        lines.append((day.kill_at, json.dumps({"kill": "rehearsal drill"})))
    if day.resume_at is not None:
        lines.append((day.resume_at, resume_line(
            "rehearsal drill over", request_id=f"resume-{day.date:%Y%m%d}")))
    for at, line in sorted(lines):
        await trio.sleep_until(opened + at + WRITE_OFFSET)
        with inbox.open("a") as file:
            file.write(line + "\n")
        polls.written()


def heal_after(rehearsal: Rehearsal, day: Day, *, clock: Callable[[], dt.datetime],
               fills: int, state: str) -> DayResult:
    """The healing cycle over the journal after ``day``'s close, as ``hydra run`` runs one."""
    journal = Journal.open(rehearsal.journal, clock=clock, durable=False)
    try:
        cycle = heal(journal, rehearsal.config.slippage)
        detected = journal.notes(NoteKind.HEAL_DETECTED)
        model = current_model(journal)
    finally:
        journal.close()
    return DayResult(day=day, fills=fills, trading_state=state, cycle=cycle,
                     cycle_id=f"heal-{len(detected)}" if cycle is not None else None,
                     version=model.version_id if model is not None else FIRST_VERSION)


def regime_detected(results: Sequence[DayResult]) -> DayResult | None:
    """The first session from the regime change on whose healing cycle found drift."""
    return next((r for r in results if r.day.number >= REGIME_DAY and r.cycle is not None
                 and r.cycle.detection.drift), None)


def summary(results: Sequence[DayResult]) -> dict[str, Any]:
    """The rehearsal in figures: sessions, fills, cycles, and when the change was found."""
    found = regime_detected(results)
    cycles = [r.cycle for r in results if r.cycle is not None]
    return {
        "sessions": len(results), "fills": sum(r.fills for r in results),
        "cycles": len(cycles), "drift_found": sum(c.detection.drift for c in cycles),
        "promoted": sum(c.decision is not None and c.decision.outcome.value == "promoted"
                        for c in cycles),
        "regime_change_day": REGIME_DAY,
        "regime_detected_day": None if found is None else found.day.number,
        "sessions_to_detect": None if found is None else found.day.number - REGIME_DAY + 1,
        "model": results[-1].version if results else FIRST_VERSION,
    }
