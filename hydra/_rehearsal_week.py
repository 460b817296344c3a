"""`rehearse_week`: a simulated week of the runner left alone with a hostile strategy.

Issue 15's proof: one Hydra stays open for the whole week, as ``hydra run --sim`` does (no
restart between days), on a simulated exchange that keeps the contracts' hours (the grains'
overnight session, their break, the nights and the weekend), reached through the simulated
gateway (or in-process, `hydra._rehearsal_broker`), on Trio's virtual clock. Beside it run the
actors ``hydra run`` starts (`run_schedule`, `run_inbox`, `heal_after_each_close`), and:

- a hostile strategy (`hostile_hook`): on Tuesday it raises, on Wednesday it hangs past
  ``runner.hook_timeout``, on Friday it answers garbage; on Monday and Thursday it asks for a
  position of one lot;
- a trader who starts each day's inbox as a new file (the first day's created; then emptied
  and written again, or replaced by a rename, in turn; `ROTATIONS`) and adds a one-lot intent
  every `INTENT_EVERY` seconds of the day session;
- a kill drill on Wednesday: the kill line, and a resume line an hour later;
- on Tuesday the exchange's link drops for `DROP_SECONDS` just before the trader's 10:32
  intent, which waits for the session to come back.

`account` then reads the journal: each intent the trader wrote or the hook asked for is
journaled once and ends with an ``intent_finished`` that gives its reason when it ended short,
or was refused at the door with a logged reason; none is lost or worked twice.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import math
import os
import zoneinfo
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import trio

from ._contracts import OATS
from ._enums import NoteKind, Side
from ._gate import no_unrecoverable_error
from ._inbox import resume_line
from ._journal_actor import run_inline
from ._journal_records import JournalRecord
from ._open_hydra import open_hydra
from ._rehearsal import VENUE, virtual_clock
from ._rehearsal_broker import BrokerKind, open_rehearsal_broker
from ._rehearsal_plan import BASELINE
from ._runner import HookLimits, run_inbox, run_schedule
from ._schedule import EXCHANGE_ZONE
from ._session_healing import heal_after_each_close
from ._settings import HydraConfig
from ._strategy_hook import Hook, StrategyContext, called_inline
from .sim import Disconnect, MarketParams, SimParams, open_sim_exchange

TRADER = "trader"
"""The strategy the trader's inbox intents name; the hook's are named for its function."""
FIRST_MONDAY = dt.date(2026, 1, 12)
"""A week with no exchange holiday (any Monday would do)."""

STARTS, ENDS = dt.time(8, 0), dt.time(14, 0)
"""Hydra opens on the first day in the grains' break (Chicago time), and closes on the last day
after the day session's close."""

ROTATE_AT = dt.time(8, 32)  # after the day session's open, before the hook's 08:35
INTENT_EVERY = 1800.0  # seconds between the trader's intents, from the rotation
LAST_INTENT = dt.time(13, 0)
KILL_AT, RESUME_AT = dt.time(10, 1), dt.time(11, 1)
DROP_AT, DROP_SECONDS = dt.time(10, 32), 20.0
OFFSET = 0.5  # seconds: the trader writes between the inbox's polls, never at one


class Mood(enum.StrEnum):
    """What the hostile hook does on a day."""

    WELL = "answers well"
    RAISES = "raises"
    HANGS = "hangs past its time-out"
    GARBAGE = "answers garbage"


class Rotation(enum.StrEnum):
    """How a day's inbox file replaces the day before's."""

    NEW = "created"
    TRUNCATED = "emptied and written again"
    RENAMED = "replaced by a rename"


MOODS = (Mood.WELL, Mood.RAISES, Mood.HANGS, Mood.WELL, Mood.GARBAGE)  # Monday to Friday
ROTATIONS = (Rotation.TRUNCATED, Rotation.RENAMED)  # in turn, after the first day's


@attrs.frozen(kw_only=True)
class WeekDay:
    """One day of the week: the hook's mood, how the inbox rotates, whether the kill drill
    and the link's drop fall on it."""

    date: dt.date
    mood: Mood
    rotation: Rotation
    kill: bool
    drop: bool


def plan_week(first: dt.date = FIRST_MONDAY, *, days: Sequence[int] = range(5)) -> list[WeekDay]:
    """The week from the Monday ``first``: the weekdays ``days`` (0 Monday) in order. The first
    of them creates the inbox; the link drops on Tuesday, the kill drill falls on Wednesday."""
    chosen = sorted(days)
    return [WeekDay(date=first + dt.timedelta(days=n), mood=MOODS[n],
                    rotation=Rotation.NEW if i == 0 else ROTATIONS[(i - 1) % len(ROTATIONS)],
                    kill=n == 2, drop=n == 1)
            for i, n in enumerate(chosen)]


async def hostile_hook(context: StrategyContext) -> Any:
    """The week's strategy: its mood is the weekday's (`MOODS`). An ``async def`` hook, so
    its hang is on the virtual clock (a thread would let the clock run on while it works)."""
    weekday = context.now.astimezone(zoneinfo.ZoneInfo(EXCHANGE_ZONE)).weekday()
    mood = MOODS[weekday]
    if mood is Mood.RAISES:
        raise RuntimeError("the strategy's signal file is empty")
    if mood is Mood.HANGS:
        await trio.sleep(math.inf)
    if mood is Mood.GARBAGE:
        return {"ZO": "long"}
    return {"ZO": 1 if weekday % 2 == 0 else -1}


async def tame_hook(context: StrategyContext) -> Any:
    """The hostile hook's well-behaved twin (a bench's baseline): every day it answers as the
    hostile one does on a good day."""
    weekday = context.now.astimezone(zoneinfo.ZoneInfo(EXCHANGE_ZONE)).weekday()
    return {"ZO": 1 if weekday % 2 == 0 else -1}


@attrs.frozen(kw_only=True)
class Week:
    """What `rehearse_week` needs: the configuration, the journal, the seed, the market, the
    broker path, the strategy, and where a line per day goes."""

    config: HydraConfig
    journal: Path
    seed: int = 1
    market: MarketParams = BASELINE
    broker: BrokerKind = BrokerKind.GATEWAY
    hook: Hook = hostile_hook
    progress: Callable[[str], None] = print

    @property
    def inbox(self) -> Path:
        return self.journal.with_name(self.journal.name + ".inbox.jsonl")


def _chicago(date: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(date, time, tzinfo=zoneinfo.ZoneInfo(EXCHANGE_ZONE))


async def rehearse_week(week: Week, days: Sequence[WeekDay]) -> list[str]:
    """The week on the running Trio clock; returns the ids of the intents the trader wrote."""
    start = _chicago(days[0].date, STARTS).astimezone(dt.UTC)
    clock = virtual_clock(start - dt.timedelta(seconds=trio.current_time()))
    ends = _chicago(days[-1].date, ENDS)
    drops = tuple(Disconnect(at=(_chicago(day.date, DROP_AT) - start).total_seconds(),
                             duration=DROP_SECONDS) for day in days if day.drop)
    params = SimParams(markets=(week.market,), session_start=start, sessions=True,
                       faults=drops)
    config = attrs.evolve(week.config, market_facts=attrs.evolve(week.config.market_facts,
                                                                 from_bars=False))
    runner = config.runner
    week.inbox.unlink(missing_ok=True)
    async with open_sim_exchange(params, seed=week.seed) as exchange, open_rehearsal_broker(
            exchange, week.broker, settings=config.broker) as broker, open_hydra(
            config, broker, journal_path=week.journal, offload=run_inline, clock=clock,
            venue=VENUE, seed=week.seed, new_journal=True, durable=False) as engine:
        async with trio.open_nursery() as nursery:  # the actors, as hydra run starts them
            nursery.start_soon(functools.partial(
                run_schedule, engine, broker, hook=called_inline(week.hook),
                name=week.hook.__name__,
                schedule=runner.daily_schedule(), now=clock,
                limits=HookLimits(timeout=runner.hook_timeout,
                                  max_failures=runner.max_hook_failures)))
            nursery.start_soon(functools.partial(
                run_inbox, engine, path=week.inbox, state=Path(f"{week.journal}.inbox"),
                durable=False, now=clock, wait=runner.inbox_deadline))
            nursery.start_soon(functools.partial(
                heal_after_each_close, engine, broker, [engine.in_front_month(OATS)],
                settings=config.slippage, now=clock))
            written = await run_rotating_trader(week, days, clock=clock)
            await trio.sleep(max(0.0, (ends - clock()).total_seconds()))
            nursery.cancel_scope.cancel(reason="the week is over")
    return written


async def run_rotating_trader(week: Week, days: Sequence[WeekDay], *,
                              clock: Callable[[], dt.datetime]) -> list[str]:
    """Each day: the inbox rotated at `ROTATE_AT` with the day's first intent, an intent
    every `INTENT_EVERY` seconds after it, and the kill drill's lines; a progress line at the
    day's last intent. Returns the intent ids written."""
    written: list[str] = []
    for day in days:
        (first_at, first), *rest = day_lines(day)
        await _sleep_until(clock, first_at)
        rotate(week.inbox, day.rotation, first)
        for at, line in rest:
            await _sleep_until(clock, at)
            with week.inbox.open("a") as file:
                file.write(line + "\n")
        parsed = [json.loads(line) for line in (first, *(line for _, line in rest))]
        written += [data["intent_id"] for data in parsed if "intent_id" in data]
        week.progress(f"{day.date:%a %Y-%m-%d}: hook {day.mood.value}, inbox "
                      f"{day.rotation.value}" + (", kill drill" if day.kill else "")
                      + (", link drop" if day.drop else ""))
    return written


def day_lines(day: WeekDay) -> list[tuple[dt.datetime, str]]:
    """The trader's lines of ``day`` and when each is written, in order."""
    at, last = _chicago(day.date, ROTATE_AT), _chicago(day.date, LAST_INTENT)
    lines: list[tuple[dt.datetime, str]] = []
    number = 0
    while at <= last:
        number += 1
        lines.append((at, json.dumps({
            "symbol": "ZO", "side": (Side.BUY if number % 2 else Side.SELL).value, "quantity": 1,
            "policy": "cross" if number % 3 == 0 else "patience", "strategy": TRADER,
            "intent_id": f"week-{day.date:%Y%m%d}-{number}"})))
        at += dt.timedelta(seconds=INTENT_EVERY)
    if day.kill:
        lines.append((_chicago(day.date, KILL_AT), json.dumps({"kill": "kill drill"})))
        lines.append((_chicago(day.date, RESUME_AT), resume_line(
            "kill drill over", request_id=f"resume-{day.date:%Y%m%d}")))
    shifted = [(t + dt.timedelta(seconds=OFFSET), line) for t, line in lines]
    return sorted(shifted, key=lambda pair: pair[0])


def rotate(inbox: Path, rotation: Rotation, first_line: str) -> None:
    """Start the day's inbox holding ``first_line``, as ``rotation`` says."""
    if rotation is Rotation.RENAMED:
        fresh = inbox.with_name(inbox.name + ".new")
        fresh.write_text(first_line + "\n")
        os.replace(fresh, inbox)
    else:  # created, or emptied and written again in place
        inbox.write_text(first_line + "\n")


async def _sleep_until(clock: Callable[[], dt.datetime], moment: dt.datetime) -> None:
    await trio.sleep(max(0.0, (moment - clock()).total_seconds()))


@attrs.frozen(kw_only=True)
class Accounting:
    """Every intent of the week and what became of it."""

    journaled: int  # intents the journal holds
    from_hook: int  # of them, the hook's
    finished_filled: int
    finished_short: int  # ended short, each with its reason
    refused: int  # refused before the journal, each with a logged reason
    lost: tuple[str, ...]  # written, neither journaled nor refused
    duplicated: tuple[str, ...]  # journaled more than once
    unfinished: tuple[str, ...]  # journaled without one intent_finished
    short_without_reason: tuple[str, ...]
    fills: int
    hook_errors: tuple[str, ...]  # the days' dates (Chicago) of each hook_error
    strategy_halts: int
    reconnects: int
    kills: int
    resumes: int
    no_unrecoverable_error: bool

    @property
    def complete(self) -> bool:
        return not (self.lost or self.duplicated or self.unfinished or self.short_without_reason)


def account(records: Sequence[JournalRecord], written: Iterable[str],
            logs: Iterable[Mapping[str, Any]]) -> Accounting:
    """What the journal (and the refusals among the week's log entries) says became of each
    intent of the week."""
    intents = [r for r in records if r.kind.value == "intent"]
    ids = [str(r.intent_id) for r in intents]
    finished: dict[str, list[JournalRecord]] = {}
    for note in (r for r in records if r.is_note(NoteKind.INTENT_FINISHED)):
        finished.setdefault(str(note.intent_id), []).append(note)
    ends = [notes[0].payload for notes in finished.values()]
    short = [p for p in ends if p["filled"] < p["quantity"]]
    refused = {str(entry.get("intent_id")) for entry in logs if entry.get("event") in
               {"intent_refused", "inbox_line_refused", "intent_expired"}}
    zone = zoneinfo.ZoneInfo(EXCHANGE_ZONE)
    return Accounting(
        journaled=len(set(ids)),
        from_hook=sum(r.payload["intent"]["strategy"] != TRADER for r in intents),
        finished_filled=len(ends) - len(short), finished_short=len(short),
        refused=len(refused - set(ids)),
        lost=tuple(sorted(set(written) - set(ids) - refused)),
        duplicated=tuple(sorted({i for i in ids if ids.count(i) > 1})),
        unfinished=tuple(sorted(i for i in set(ids) if len(finished.get(i, ())) != 1)),
        short_without_reason=tuple(sorted(str(p["intent_id"]) for p in short
                                          if not p.get("reason"))),
        fills=sum(r.kind.value == "fill" for r in records),
        hook_errors=tuple(f"{r.recorded_at.astimezone(zone):%a}" for r in records
                          if r.is_note(NoteKind.HOOK_ERROR)),
        strategy_halts=sum(r.is_note(NoteKind.STRATEGY_HALTED) for r in records),
        reconnects=sum(r.is_note(NoteKind.RECONNECTED) for r in records),
        kills=sum(r.is_note(NoteKind.KILL_SWITCH) for r in records),
        resumes=sum(r.is_note(NoteKind.RESUME) for r in records),
        no_unrecoverable_error=no_unrecoverable_error(records).passed,
    )
