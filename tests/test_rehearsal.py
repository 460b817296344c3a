"""The rehearsal's sessions on the virtual clock: the runner's actors, the drills, the healer.
The markets are quiet (no random flow or walk) so a simulated day costs little; the costs
changing is the bench's (bench/rehearse.py) to show on the real calendar."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import attrs
import pytest
import trio
import trio.testing

from hydra._enums import NoteKind
from hydra._gate import gate_report
from hydra._journal_records import JournalRecord, read_journal
from hydra._rehearsal import Rehearsal, rehearse
from hydra._rehearsal_broker import BrokerKind
from hydra._rehearsal_plan import BREAKER_DAY, KILL_DAY, RECONNECT_DAY, Day, plan_rehearsal
from hydra._settings import HydraConfig, SlippageSettings
from tests.simulated import quiet_oats

QUIET = quiet_oats().markets[0]
GOLDEN = json.loads((Path(__file__).parent / "golden" / "rehearsal_fills.json").read_text())
UTC = dt.UTC


def _quiet(numbers: list[int]) -> list[Day]:
    """The plan's days ``numbers``, each on the quiet market."""
    return [attrs.evolve(day, market=QUIET) for day in plan_rehearsal(4)
            if day.number in numbers]


def _notes(records: list[JournalRecord], what: NoteKind) -> list[JournalRecord]:
    return [r for r in records if r.is_note(what)]


def _at(day: Day, seconds: float) -> dt.datetime:
    return day.session_hours()[0].astimezone(UTC) + dt.timedelta(seconds=seconds)


async def test_a_session_runs_the_hook_the_inbox_and_then_the_healer(
        autojump_clock: trio.testing.MockClock, tmp_path: Path) -> None:
    """Day 1 opens at 14:30 UTC as a rehearsal; the hook's intent comes at its schedule
    (08:35 Chicago), the trader's every 400 s from 14:45 through the inbox; Hydra closes at
    19:20 and the healer runs after the close; a progress line a day says so. Each day's
    exchange names its executions by the date, so day 2's first fill is not taken for a
    repeat of day 1's (which would halt trading)."""
    lines: list[str] = []
    journal = tmp_path / "r.sqlite"
    day, _ = days = _quiet([1, 2])
    results = await rehearse(Rehearsal(config=HydraConfig(), journal=journal,
                                       broker=BrokerKind.IN_PROCESS, progress=lines.append),
                             days)
    records = [r for r in read_journal(journal) if r.recorded_at.date() == day.date]
    start = _notes(records, NoteKind.ENGINE_STARTED)[0]
    assert (start.recorded_at, start.payload["venue"]) == (_at(day, 0), "rehearsal")
    intents = [r for r in records if r.kind.value == "intent"]
    assert intents[0].payload["intent"]["strategy"] == "rehearsal"
    assert intents[0].recorded_at == _at(day, 300)
    assert intents[1].payload["intent"]["intent_id"] == "rehearsal-20260105-1"
    assert _at(day, 900) <= intents[1].recorded_at <= _at(day, 901)  # the inbox is polled
    assert len(intents) == 1 + 40  # 14:45 to 19:05 every 400 s
    (stop,) = _notes(records, NoteKind.ENGINE_STOPPED)
    assert _at(day, 17400) <= stop.recorded_at <= _at(day, 17400 + 30)
    assert _notes(records, NoteKind.HEAL_DETECTED)[0].seq > stop.seq
    assert [(r.fills, r.trading_state) for r in results] == [(41, "ACTIVE"), (41, "ACTIVE")]
    assert lines[0] == ("day  1/2 Mon 2026-01-05 (week 1, baseline market): 41 fills, risk "
                        "ACTIVE; heal-1: not enough fills; model v1")
    assert lines[1].startswith("day  2/2 Tue 2026-01-06 (week 1, baseline market): 41 fills")
    ids = [r.payload["fill"]["execution_id"] for r in read_journal(journal)
           if r.kind.value == "fill"]
    assert ids[0] == "sim.20260105.00000001" and "sim.20260106.00000001" in ids
    assert len(set(ids)) == len(ids)


async def test_the_drills_are_journaled_where_the_gate_looks(
        autojump_clock: trio.testing.MockClock, tmp_path: Path) -> None:
    """The drop and reconnect on day 3, the inbox's kill and resume on day 9, every breaker
    on day 12 and its resume at day 13's open: each journaled at its virtual time, and the
    gate finds each in the rehearsal."""
    journal = tmp_path / "r.sqlite"
    days = _quiet([RECONNECT_DAY, KILL_DAY, BREAKER_DAY, BREAKER_DAY + 1])
    drop, kill, breakers, after = days
    results = await rehearse(Rehearsal(config=HydraConfig(), journal=journal,
                                       broker=BrokerKind.IN_PROCESS, progress=lambda _: None),
                             days)
    records = read_journal(journal)
    (down,) = _notes(records, NoteKind.SESSION_DOWN)
    (up,) = _notes(records, NoteKind.RECONNECTED)
    assert down.recorded_at == _at(drop, 3600)
    assert _at(drop, 3620) <= up.recorded_at <= _at(drop, 3650)
    (killed,) = _notes(records, NoteKind.KILL_SWITCH)
    assert _at(kill, 7200) <= killed.recorded_at <= _at(kill, 7201)
    resumes = _notes(records, NoteKind.RESUME)
    assert _at(kill, 10800) <= resumes[0].recorded_at <= _at(kill, 10801)
    trips = _notes(records, NoteKind.BREAKER_TRIPPED)
    assert sorted(t.payload["cause"] for t in trips) == [
        "daily_loss", "drawdown", "position_value", "single_trade_loss"]
    assert all(t.recorded_at.date() == breakers.date for t in trips)
    assert results[2].trading_state == "HALTED"
    (restored,) = _notes(records, NoteKind.RISK_STATE_RESTORED)
    assert restored.recorded_at == _at(after, 0)
    assert _at(after, 60) <= resumes[-1].recorded_at <= _at(after, 61)
    assert results[3].trading_state == "ACTIVE" and results[3].fills > 0
    report = gate_report(records, settings=SlippageSettings())
    met = {c.name for c in report.criteria if c.passed}
    assert {"reconnect_survived", "kill_switch_exercised", "breakers_exercised",
            "no_unrecoverable_error"} <= met
    assert report.counted.rehearsal and not report.passed


async def test_through_the_gateway_the_clock_never_jumps_past_a_reply(
        autojump_clock: trio.testing.MockClock, tmp_path: Path) -> None:
    """Through the simulated TCP gateway and IBBroker, on the drop day: every
    order's ack is journaled exactly the exchange's ack latency (30 ms) after the order, IB's
    1100 notice at the virtual instant the exchange's link went down, and Hydra reconnects
    after it came back; the engine records the IB client. The quiet market's quote never
    changes, and IB's quote is as old as its last change, so the age check is off here."""
    journal = tmp_path / "r.sqlite"
    (day,) = _quiet([RECONNECT_DAY])
    config = HydraConfig(risk=attrs.evolve(HydraConfig().risk, max_quote_age=math.inf))
    (result,) = await rehearse(Rehearsal(config=config, journal=journal,
                                         broker=BrokerKind.GATEWAY, progress=lambda _: None),
                               [day])
    records = read_journal(journal)
    (start,) = _notes(records, NoteKind.ENGINE_STARTED)
    assert (start.payload["broker"], start.payload["venue"]) == ("IBBroker", "rehearsal")
    placed = {r.client_order_id: r.recorded_at for r in records if r.kind.value == "order"}
    acks = [r.recorded_at - placed[r.client_order_id] for r in records if r.kind.value == "ack"]
    assert len(acks) == len(placed) > 30
    assert set(acks) == {dt.timedelta(seconds=0.03)}
    (down,) = _notes(records, NoteKind.SESSION_DOWN)
    (up,) = _notes(records, NoteKind.RECONNECTED)
    assert down.recorded_at == _at(day, 3600)
    assert _at(day, 3620) <= up.recorded_at <= _at(day, 3650)  # the supervisor's backoff
    assert result.fills == len(placed) and result.trading_state == "ACTIVE"


def test_two_runs_of_a_seed_journal_the_same_fills(tmp_path: Path) -> None:
    """A day of the real (random) market run twice on one seed journals the same fills, at
    the same virtual instants and prices: the trader writes half a second off the inbox's
    polls, so no write ties with a read (Trio orders tied tasks at random)."""
    day = plan_rehearsal(4)[0]

    def fills(journal: Path) -> list[tuple[dt.datetime, object, object]]:
        rehearsal = Rehearsal(config=HydraConfig(), journal=journal, progress=lambda _: None)
        trio.run(rehearse, rehearsal, [day], clock=trio.testing.MockClock(autojump_threshold=0))
        return [(r.recorded_at, r.payload["fill"]["execution_id"], r.payload["fill"]["price"])
                for r in read_journal(journal) if r.kind.value == "fill"]

    first = fills(tmp_path / "a.sqlite")
    assert len(first) > 30 and fills(tmp_path / "b.sqlite") == first


@pytest.mark.parametrize("broker", [BrokerKind.IN_PROCESS, BrokerKind.GATEWAY])
def test_the_inbox_read_after_each_write_journals_the_fills_of_the_read_every_second(
        broker: BrokerKind, tmp_path: Path) -> None:
    """A golden test: days of the real market, in-process (the drop day and the kill drill's)
    and through the gateway (the drop day), journal the very fills (instant, price, side,
    quantity, execution id) they journaled when the runner read the inbox every second
    (``tests/golden/rehearsal_fills.json``, main at b5c6d77; recorded again at 43d9235, where
    an order first in the crowd's queue waits for the flow, and when our own takes that empty
    the touch began to move the latent mid as the crowd's do): the reader now wakes only at
    the poll after each of the trader's writes, the one that read it before. One in-process
    fill is recorded 0.48 s earlier since the exchange wakes for every flow while one of our
    orders rests (it came late before, at the next whole-second call)."""
    golden = GOLDEN[broker.value]
    days = [day for day in plan_rehearsal(4) if day.number in golden["days"]]
    journal = tmp_path / "r.sqlite"
    rehearsal = Rehearsal(config=HydraConfig(), journal=journal, broker=broker,
                          progress=lambda _: None)
    trio.run(rehearse, rehearsal, days, clock=trio.testing.MockClock(autojump_threshold=0))
    fills = [[r.recorded_at.isoformat(), *(r.payload["fill"][key] for key in (
        "price", "side", "quantity", "execution_id"))]
        for r in read_journal(journal) if r.kind.value == "fill"]
    assert fills == golden["fills"]


def _inbox_read(journal: Path) -> tuple[int, int]:
    """The bytes of the rehearsal's inbox its saved state says were read, and its size."""
    state = json.loads(Path(f"{journal}.inbox").read_text())
    return state["read"], Path(f"{journal}.inbox.jsonl").stat().st_size


async def test_the_inbox_state_is_saved_without_a_flush_as_the_journal_commits(
        autojump_clock: trio.testing.MockClock, tmp_path: Path, flushed: list[str]) -> None:
    """A rehearsal's inbox state file is saved after each read, never flushed to the disk
    (on a disk where a flush takes milliseconds, four weeks of saves took 7.5 s); its journal
    is opened with ``durable=False`` too. Only the journal's marker, written once, is."""
    journal = tmp_path / "r.sqlite"
    await rehearse(Rehearsal(config=HydraConfig(), journal=journal,
                             broker=BrokerKind.IN_PROCESS, progress=lambda _: None), _quiet([1]))
    read, size = _inbox_read(journal)
    assert read == size > 0
    assert flushed == ["r.sqlite.id.new", tmp_path.name]  # the marker, then its folder
    started = [r.payload for r in read_journal(journal) if r.is_note(NoteKind.ENGINE_STARTED)]
    assert [p["durable"] for p in started] == [False]
