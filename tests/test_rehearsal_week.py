"""The hostile week on the virtual clock, cut to Tuesday and Wednesday: the hook raises, then
hangs; the inbox is created, then emptied and written again; the kill drill. The whole week is
the bench's (bench/sim_week.py). The market is quiet (no random flow or walk), so a day costs
little; its quote never changes, and IB's quote is as old as its last change, so the age check
is off."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from pathlib import Path

import attrs
import trio
import trio.testing
from structlog.testing import capture_logs

from hydra._enums import NoteKind
from hydra._journal_records import JournalRecord, read_journal
from hydra._rehearsal_broker import BrokerKind
from hydra._rehearsal_week import (
    Mood,
    Rotation,
    Week,
    account,
    day_lines,
    hostile_hook,
    plan_week,
    rehearse_week,
)
from hydra._settings import HydraConfig, RunnerSettings
from hydra._strategy_hook import StrategyContext
from tests.simulated import quiet_oats

CT = zoneinfo.ZoneInfo("America/Chicago")
QUIET = quiet_oats().markets[0]
AGELESS = HydraConfig(risk=attrs.evolve(HydraConfig().risk, max_quote_age=math.inf))


def _ct(day: int, hour: int, minute: int, second: float = 0) -> dt.datetime:
    return (dt.datetime(2026, 1, day, hour, minute, tzinfo=CT)
            + dt.timedelta(seconds=second)).astimezone(dt.UTC)


def _notes(records: list[JournalRecord], what: NoteKind) -> list[JournalRecord]:
    return [r for r in records if r.is_note(what)]


def test_the_week_rotates_the_inbox_in_turn_and_kills_on_wednesday() -> None:
    """The first day creates the inbox; later days empty it or replace it, in turn; the
    moods follow the weekdays; only Tuesday has the link's drop, only Wednesday the kill
    drill."""
    week = plan_week()
    assert [(d.date.isoformat(), d.mood, d.rotation, d.kill, d.drop) for d in week] == [
        ("2026-01-12", Mood.WELL, Rotation.NEW, False, False),
        ("2026-01-13", Mood.RAISES, Rotation.TRUNCATED, False, True),
        ("2026-01-14", Mood.HANGS, Rotation.RENAMED, True, False),
        ("2026-01-15", Mood.WELL, Rotation.TRUNCATED, False, False),
        ("2026-01-16", Mood.GARBAGE, Rotation.RENAMED, False, False)]
    assert plan_week(days=[2, 1])[0].rotation is Rotation.NEW


def test_a_day_writes_nine_intents_half_a_second_off_the_minute() -> None:
    """From 08:32 to 13:00 Chicago every half hour (nine one-lot intents), each half a second
    after the minute, so no write ties with an inbox poll; the kill drill adds its two lines
    in time order."""
    wednesday = plan_week(days=[2])[0]
    lines = day_lines(wednesday)
    assert len(lines) == 9 + 2
    assert lines[0][0] == _ct(14, 8, 32, 0.5)
    assert '"kill": "kill drill"' in lines[3][1] and lines[3][0] == _ct(14, 10, 1, 0.5)
    assert [at for at, _ in lines] == sorted(at for at, _ in lines)


async def test_the_hook_answers_by_its_weekday(autojump_clock: trio.testing.MockClock) -> None:
    """Monday a long lot, Tuesday a raise, Wednesday no answer, Friday a target that is no
    number."""
    def context(day: int) -> StrategyContext:
        return StrategyContext(now=_ct(day, 8, 35), positions={})

    assert await hostile_hook(context(12)) == {"ZO": 1}
    try:
        await hostile_hook(context(13))
    except RuntimeError as e:
        assert str(e) == "the strategy's signal file is empty"
    with trio.move_on_after(3600) as hang:
        await hostile_hook(context(14))
    assert hang.cancelled_caught
    assert await hostile_hook(context(16)) == {"ZO": "long"}


async def test_two_hostile_days_through_the_gateway_account_for_every_intent(
        autojump_clock: trio.testing.MockClock, tmp_path: Path) -> None:
    """One Hydra through the simulated gateway from Tuesday 08:00 to Wednesday 14:00: the
    hook's raise (08:35) and hang (cut off at 08:35:30) are each journaled as ``hook_error``
    and trading goes on (two failures, three halt); Tuesday's 10:32 intent, written while the
    link is down (10:32:00 to 10:32:20), is worked once Hydra has reconnected; the kill line
    and the resume line act at the inbox poll after they are written; every intent the trader
    wrote is journaled once and finished, the two the kill blocked with their reason; no
    unrecoverable error."""
    week = Week(config=AGELESS, journal=tmp_path / "w.sqlite", market=QUIET,
                progress=lambda _: None)
    with capture_logs() as logs:
        written = await rehearse_week(week, plan_week(days=[1, 2]))
    records = read_journal(week.journal)
    errors = _notes(records, NoteKind.HOOK_ERROR)
    assert [(e.recorded_at, e.payload["reason"]) for e in errors] == [
        (_ct(13, 8, 35), "raised RuntimeError: the strategy's signal file is empty"),
        (_ct(14, 8, 35, 30), "no answer within 30 s; cancelled")]
    (down,) = _notes(records, NoteKind.SESSION_DOWN)
    (up,) = _notes(records, NoteKind.RECONNECTED)
    assert down.recorded_at == _ct(13, 10, 32)
    (late,) = [r for r in records if r.kind.value == "intent"
               and r.intent_id == "week-20260113-5"]
    assert _ct(13, 10, 32, 20) <= up.recorded_at <= late.recorded_at <= _ct(13, 10, 33)
    (kill,) = _notes(records, NoteKind.KILL_SWITCH)
    (resume,) = _notes(records, NoteKind.RESUME)
    assert _ct(14, 10, 1, 0.5) <= kill.recorded_at <= _ct(14, 10, 1, 1.5)
    assert _ct(14, 11, 1, 0.5) <= resume.recorded_at <= _ct(14, 11, 1, 1.5)
    (replaced,) = [e for e in logs if e["event"] == "inbox_replaced"]  # emptied, rewritten
    assert replaced["generation"] == 1 and replaced["lines_read"] == 9
    accounting = account(records, written, logs)
    assert len(written) == 18 and accounting.complete
    assert (accounting.journaled, accounting.refused, accounting.from_hook) == (18, 0, 0)
    assert (accounting.finished_filled, accounting.finished_short) == (16, 2)
    assert (accounting.hook_errors, accounting.strategy_halts) == (("Tue", "Wed"), 0)
    assert accounting.reconnects == 1
    assert accounting.no_unrecoverable_error
    started = _notes(records, NoteKind.ENGINE_STARTED)
    assert [s.payload["broker"] for s in started] == ["IBBroker"]  # one process all along


async def test_as_many_failures_in_a_row_as_allowed_halt_until_the_resume(
        autojump_clock: trio.testing.MockClock, tmp_path: Path) -> None:
    """With ``max_hook_failures = 2``, Wednesday's hang is the second failure in a row: the
    strategy halt is journaled at 08:35:30, the trader's intents are blocked with their reason
    until the kill drill's resume clears it, and every intent is still accounted for
    (in-process, the same runner; Wednesday's inbox is replaced by a rename, read as a new
    generation)."""
    config = attrs.evolve(AGELESS, runner=RunnerSettings(max_hook_failures=2))
    week = Week(config=config, journal=tmp_path / "w.sqlite", market=QUIET,
                broker=BrokerKind.IN_PROCESS, progress=lambda _: None)
    tuesday, wednesday = plan_week(days=[1, 2])
    with capture_logs() as logs:
        written = await rehearse_week(week, [
            tuesday, attrs.evolve(wednesday, rotation=Rotation.RENAMED)])
    (replaced,) = [e for e in logs if e["event"] == "inbox_replaced"]
    assert replaced["generation"] == 1 and replaced["lines_read"] == 9
    records = read_journal(week.journal)
    (halt,) = _notes(records, NoteKind.STRATEGY_HALTED)
    assert halt.recorded_at == _ct(14, 8, 35, 30)
    accounting = account(records, written, logs)
    assert accounting.complete and accounting.strategy_halts == 1
    assert accounting.finished_short == 4  # 09:02 and 09:32 (the strategy), 10:02 and 10:32
    assert accounting.no_unrecoverable_error
