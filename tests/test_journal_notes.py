"""Golden tests of the journal notes a restart, the status region, the dashboard, the fill
report and the healing cycle read (``roll_started``, ``hook_intent``, ``ladder_stage`` and a
fill's ``fill_prediction``): a good note's value, and each damaged one's one line naming the
note and the field, or its reading as absent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import trio
import trio.testing

from hydra import HydraConfig
from hydra._enums import NoteKind
from hydra._errors import JournalFormatError
from hydra._fill_report import fill_report
from hydra._journal import Journal
from hydra._journal_records import read_journal
from hydra._model_journal import heal
from hydra._settings import RestartSettings, SlippageSettings
from hydra._working_view import Ladder, told_ladder
from hydra.sim import open_sim_exchange
from tests.simulated import open_engine
from tests.test_attack_s22 import (
    _journal_with_a_damaged_prediction,
    _journal_with_a_roll_note,
    _leaves,
)
from tests.test_target_restart import FRIDAY_ROLL, _oats

# --- roll_started --------------------------------------------------------------------------


async def _roll_start_error(path: Path, **note: object) -> BaseException | None:
    """What starting on a journal whose ``roll_started`` note has ``note``'s fields raises
    (None: it started), before anything is sent."""
    _journal_with_a_roll_note(path, **note)
    config = HydraConfig(restart=RestartSettings(resume=True))
    async with open_sim_exchange(_oats(FRIDAY_ROLL, ("202505", "202507")), seed=1) as exchange:
        try:
            async with open_engine(exchange, path, config):
                pass
        except Exception as e:  # what the start raised, read by the test
            (error,) = _leaves(e)
            return error
        finally:
            assert not [p for p in exchange.positions() if p.quantity]
    return None


async def test_a_good_roll_started_note_starts(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """A ``roll_started`` note as Hydra writes it (a hook's: every field) starts the engine."""
    assert await _roll_start_error(tmp_path / "j.sqlite") is None


@pytest.mark.parametrize(("note", "line"), [
    ({"to_expiry": None}, "to_expiry is missing"),
    ({"to_expiry": 202507}, "to_expiry must be a string, got 202507"),
    ({"to_expiry": ""}, "to_expiry must not be empty, got ''"),
    ({"open_intent_id": None}, "open_intent_id is missing"),
    ({"close_intent_id": None}, "close_intent_id is missing"),
    ({"side": "LONG"}, "side must be one of 'BUY', 'SELL', got 'LONG'"),
    ({"close_side": "short"}, "close_side must be one of 'BUY', 'SELL', got 'short'"),
    ({"quantity": "two"}, "quantity must be a whole number, got 'two'"),
    ({"quantity": True}, "quantity must be a whole number, got True"),
    ({"quantity": 0}, "quantity must be a whole number of lots, got 0"),
    ({"close_quantity": -1}, "close_quantity must be a whole number of lots, got -1"),
    ({"policy": "hurry"}, "policy must be one of 'auto', 'patience', 'twap', 'cross', "
                          "'passive', got 'hurry'"),
])
async def test_a_damaged_roll_started_note_is_one_line_naming_its_field(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, note: dict[str, object],
    line: str,
) -> None:
    """A ``roll_started`` note that lost a field or holds a wrong one refuses the start with
    one `JournalFormatError` line: the journal, the note, the field and what it held (a lost
    one said "to_expiry is missing or not text, got None")."""
    error = await _roll_start_error(tmp_path / "j.sqlite", **note)
    assert isinstance(error, JournalFormatError), repr(error)
    assert str(error) == f"hydra-journal.sqlite: a roll_started note's {line}"


async def test_a_hooks_roll_started_note_without_its_close_side_is_one_line(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """A hook's ``roll_started`` note (it names its hook) that lost its close's side is one
    line naming the note and the field."""
    error = await _roll_start_error(tmp_path / "j.sqlite", close_side=None)
    assert isinstance(error, JournalFormatError), repr(error)
    assert str(error) == ("hydra-journal.sqlite: a roll_started note's close_side is missing "
                          "(a hook's roll names it)")


# --- hook_intent ---------------------------------------------------------------------------


async def _carried_over(path: Path, **note: object) -> list[str]:
    journal = Journal.open(path, clock=lambda: FRIDAY_ROLL)
    journal.record_note(NoteKind.HOOK_INTENT, **note)
    journal.close()
    async with open_sim_exchange(_oats(FRIDAY_ROLL), seed=1) as exchange, \
            open_engine(exchange, path) as engine:
        return [h.intent.intent_id for h in await engine.carried_over(hook="desk")]


async def test_a_good_hook_intent_note_is_read(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """A ``hook_intent`` note naming intents the journal does not hold carries none over."""
    assert await _carried_over(tmp_path / "j.sqlite", hook="desk", intent_ids=["i-1"]) == []


@pytest.mark.parametrize(("note", "line"), [
    ({"hook": "desk"}, "intent_ids is missing"),
    ({"hook": "desk", "intent_ids": 7}, "intent_ids must be an array, got 7"),
    ({"hook": "desk", "intent_ids": ["i-1", 2]}, "intent_ids[1] must be a string, got 2"),
    ({"intent_ids": ["i-1"]}, "hook is missing"),
    ({"hook": 5, "intent_ids": []}, "hook must be a string, got 5"),
])
async def test_a_damaged_hook_intent_note_is_one_line_naming_its_field(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, note: dict[str, object],
    line: str,
) -> None:
    """A ``hook_intent`` note that lost a field or holds a wrong one is one `JournalFormatError`
    line naming the note and the field when the hook's first run counts what was carried
    over for it (it said "intent_ids is None, not a list of intent ids", and named no item
    of the list)."""
    with pytest.raises(BaseExceptionGroup) as raised:
        await _carried_over(tmp_path / "j.sqlite", **note)
    (error,) = _leaves(raised.value)
    assert isinstance(error, JournalFormatError), repr(error)
    assert str(error) == f"hydra-journal.sqlite: a hook_intent note's {line}"


# --- ladder_stage --------------------------------------------------------------------------

NOW = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
GOOD_STAGES = [["RESTING", "2026-03-02T14:30:40+00:00"], ["STEPPED", "2026-03-02T14:31:00+00:00"],
               ["CROSSING", "2026-03-02T14:31:10+00:00"]]


def test_a_good_ladder_stage_note_tells_the_ladder() -> None:
    """A ``ladder_stage`` note tells the stage now, the seconds it has left, whether it is
    the last, and which of a TWAP's slices it works."""
    assert told_ladder({"stages": GOOD_STAGES, "slice": [2, 3]}, NOW + dt.timedelta(seconds=50)
                       ) == Ladder(stage="STEPPED", left=10.0, last=False, slices=(2, 3))
    assert told_ladder({"stages": GOOD_STAGES}, NOW + dt.timedelta(seconds=99)
                       ) == Ladder(stage="CROSSING", left=0.0, last=True, slices=None)


@pytest.mark.parametrize("told", [
    {},
    {"stages": []},
    {"stages": "RESTING"},
    {"stages": [["RESTING"]]},
    {"stages": [["RESTING", "soon"]]},
    {"stages": [["RESTING", "2026-03-02T14:31:00"]]},  # no zone: cannot be compared with now
    {"stages": [["RESTING", 1772461860]]},
    {"stages": GOOD_STAGES, "slice": [1]},
    {"stages": GOOD_STAGES, "slice": "1/3"},
])
def test_a_damaged_ladder_stage_note_is_read_as_absent(told: dict[str, object]) -> None:
    """A ``ladder_stage`` note that lost its stages or holds wrong ones is no note (its
    ladder is then derived from the order's placement)."""
    assert told_ladder(told, NOW) is None


# --- fill_prediction -----------------------------------------------------------------------

TWO, ONE = Decimal(2), Decimal(1)


def test_a_good_fill_prediction_is_read_by_the_report_and_the_cycle(tmp_path: Path) -> None:
    """Each fill's own prediction gives the report its predicted bps, version and
    aggressiveness, and the healing cycle judges every fill on it."""
    path = _journal_with_a_damaged_prediction(tmp_path / "j.sqlite", {}, fills=3, at=1)
    report = fill_report(read_journal(path), settings=SlippageSettings())
    assert [(f.predicted_bps, f.predicted_by, f.aggressiveness) for f in report.fills] == [
        (ONE, "v1", ONE), (TWO, "v1", ONE), (Decimal(3), "v1", ONE)]
    path = _journal_with_a_damaged_prediction(tmp_path / "k.sqlite", {}, fills=80, at=70)
    cycle = heal(path, SlippageSettings())
    assert cycle is not None and cycle.detection.recent_count == 40


@pytest.mark.parametrize("damage", [
    {"version_id": None}, {"version_id": 7}, {"predicted_bps": "abc"},
    {"predicted_bps": "NaN"}, {"predicted_bps": "Infinity"}, {"predicted_bps": None},
    {"crossing_bps": None}, {"impact_bps": "-Infinity"}, {"policy": "hurry"},
    {"bid": "[]"}, {"participation": None},
])
def test_a_damaged_fill_prediction_is_read_as_absent(
    tmp_path: Path, damage: dict[str, str | None],
) -> None:
    """A fill whose own prediction lost a field or holds a wrong one (or a number that is not
    finite) shows no prediction, version or aggressiveness in the report, and the healing
    cycle leaves it out; the other fills are read as ever. (The report showed each field it
    could read on its own: a prediction by 'v1' of 2 bps from a note whose policy or
    crossing bps was damaged, one the healing cycle refused.)"""
    path = _journal_with_a_damaged_prediction(tmp_path / "j.sqlite", damage, fills=3, at=1)
    fills = fill_report(read_journal(path), settings=SlippageSettings()).fills
    assert (fills[1].predicted_bps, fills[1].predicted_by, fills[1].aggressiveness) == (
        None, None, None)
    assert [(f.predicted_bps, f.aggressiveness) for f in (fills[0], fills[2])] == [
        (ONE, ONE), (Decimal(3), ONE)]
    path = _journal_with_a_damaged_prediction(tmp_path / "k.sqlite", damage, fills=80, at=70)
    cycle = heal(path, SlippageSettings())
    assert cycle is not None and cycle.detection.recent_count == 39
