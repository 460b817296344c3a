"""Tests for the slippage model in the journal: versions and predictions written as notes and
read back, and `heal` running a cycle over a real journal's fills and journaling each step."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest

from hydra._enums import Policy
from hydra._errors import JournalFormatError, JournalLockedError
from hydra._healing import HealingFill, LeftOut, Outcome
from hydra._journal import EventKind, Journal
from hydra._journal_records import read_journal
from hydra._model_journal import OWN_PREDICTIONS_ONLY, JournalFills, heal, healing_fills
from hydra._model_store import current_model, cycles, ensure_model, model_versions
from hydra._settings import SlippageSettings
from tests.paper_journal import Clock
from tests.synthetic_fills import Regime, synthetic_fills, write_fills

SETTINGS = SlippageSettings()
CALM = Regime()


def _journal(path: Path, fills: list[HealingFill], *, stamped: bool = True, own: bool = True,
             pre_trade: Decimal | None = None) -> Clock:
    clock = Clock()
    journal = Journal.open(path, clock=clock)
    ensure_model(journal)
    write_fills(journal, clock, fills, stamped=stamped, own=own, pre_trade=pre_trade)
    journal.close()
    return clock


def test_the_first_version_is_journaled_once(tmp_path: Path) -> None:
    """ensure_model writes v1 into a journal without a version, and reads it back after."""
    journal = Journal.open(tmp_path / "j.sqlite")
    assert current_model(journal) is None
    first = ensure_model(journal)
    assert ensure_model(journal) == first == current_model(journal)
    journal.close()
    assert [v.version_id for v in model_versions(read_journal(tmp_path / "j.sqlite"))] == ["v1"]


def test_fills_are_read_with_their_prediction_and_version(tmp_path: Path) -> None:
    """A journaled fill comes back with the version, policy and terms of its prediction."""
    written = synthetic_fills(random.Random(1), [(3, CALM)], policy=Policy.CROSS)
    _journal(tmp_path / "j.sqlite", written)
    journal = Journal.open_read_only(tmp_path / "j.sqlite")
    read = healing_fills((kind, payload) for _, kind, payload in journal.events())
    journal.close()
    assert read == JournalFills(fills=tuple(written))


def _read(path: Path) -> JournalFills:
    journal = Journal.open_read_only(path)
    read = healing_fills((kind, payload) for _, kind, payload in journal.events())
    journal.close()
    return read


def test_fills_are_judged_on_their_own_predictions(tmp_path: Path) -> None:
    """Fills whose intents all had the same pre-trade estimate (7 bps) but their own
    predictions: the cycle sees each fill's own prediction and terms, and its residual is
    actual − that prediction, not − 7."""
    written = synthetic_fills(random.Random(1), [(5, CALM)])
    _journal(tmp_path / "j.sqlite", written, pre_trade=Decimal(7))
    read = list(_read(tmp_path / "j.sqlite").fills)
    assert read == written
    assert [f.residual_bps for f in read] == [f.actual_bps - f.predicted_bps for f in written]
    assert len({f.predicted_bps for f in read}) == 5
    journal = Journal.open_read_only(tmp_path / "j.sqlite")
    fills = [p for _, kind, p in journal.events() if kind is EventKind.FILL]
    journal.close()
    assert {p["predicted_bps"] for p in fills} == {"7"}  # the pre-trade estimate, kept


def test_an_old_journals_fills_are_judged_on_their_orders_predictions(tmp_path: Path) -> None:
    """Fills journaled before fills had their own predictions carry their order's: the cycle
    reads that one, with the version, policy and terms of the intent's note."""
    written = synthetic_fills(random.Random(1), [(3, CALM)], policy=Policy.CROSS)
    _journal(tmp_path / "j.sqlite", written, own=False)
    assert _read(tmp_path / "j.sqlite") == JournalFills(fills=tuple(written))


def _upgraded(path: Path, older: list[HealingFill], newer: list[HealingFill]) -> None:
    """A journal of ``older`` fills with only their orders' estimates, then ``newer`` ones
    with their own predictions (Hydra upgraded during a paper run)."""
    clock = _journal(path, older, own=False)
    journal = Journal.open(path, clock=clock)
    write_fills(journal, clock, newer)
    journal.close()


def test_a_journal_that_gained_own_predictions_is_judged_on_those_alone(tmp_path: Path) -> None:
    """A journal whose older fills carry only their orders' estimates and whose newer ones
    their own predictions: the cycle reads the newer alone, so no window of the one kind is
    compared with a window of the other, and says how many it left out and why."""
    older = synthetic_fills(random.Random(1), [(3, CALM)])
    newer = synthetic_fills(random.Random(2), [(2, CALM)], start=10)
    path = tmp_path / "j.sqlite"
    _upgraded(path, older, newer)
    assert _read(path) == JournalFills(
        fills=tuple(newer), left_out=LeftOut(count=3, reason=OWN_PREDICTIONS_ONLY))


def test_heal_journals_the_fills_it_left_out_and_why(tmp_path: Path) -> None:
    """On a journal that spans the upgrade (40 fills with their orders' estimates, 60 with
    their own), the detection journaled says 40 were left out and why, in its evidence and
    at the end of its summary; it judged the 60 (30 baseline, 30 recent)."""
    path = tmp_path / "j.sqlite"
    _upgraded(path, synthetic_fills(random.Random(1), [(40, CALM)]),
              synthetic_fills(random.Random(2), [(60, CALM)], start=100))
    cycle = heal(path, SETTINGS)
    assert cycle is not None
    assert cycle.detection.left_out == LeftOut(count=40, reason=OWN_PREDICTIONS_ONLY)
    (detected,) = cycles(read_journal(path))
    step = detected["detected"]
    assert step["left_out"] == {"count": 40, "reason": OWN_PREDICTIONS_ONLY}
    assert (step["baseline_count"], step["recent_count"]) == (30, 30)
    assert step["summary"].endswith(f"; 40 fills left out: {OWN_PREDICTIONS_ONLY}")


def test_a_journal_of_one_kind_leaves_nothing_out(tmp_path: Path) -> None:
    """A journal whose fills all have their own predictions journals a detection with none
    left out, and a summary that does not mention it."""
    path = tmp_path / "j.sqlite"
    _journal(path, synthetic_fills(random.Random(1), [(60, CALM)]))
    cycle = heal(path, SETTINGS)
    assert cycle is not None and cycle.detection.left_out == LeftOut()
    (detected,) = cycles(read_journal(path))
    assert detected["detected"]["left_out"] == {"count": 0, "reason": None}
    assert "left out" not in detected["detected"]["summary"]


def test_heal_promotes_on_per_fill_residuals(tmp_path: Path) -> None:
    """A change in spread cost that only the fills' own predictions show (every intent's
    pre-trade estimate is the same 6 bps): heal detects it, fits the spread cost and
    promotes v2."""
    path = tmp_path / "j.sqlite"
    _journal(path, synthetic_fills(random.Random(1), [(100, CALM),
                                                      (100, Regime(spread_extra=0.5))]),
             pre_trade=Decimal(6))
    cycle = heal(path, SETTINGS)
    assert cycle is not None and cycle.decision is not None
    assert cycle.decision.outcome is Outcome.PROMOTED
    assert cycle.hypothesis is not None
    assert cycle.hypothesis.changes[0].startswith("ZO/patience: spread cost +")


def test_unstamped_fills_count_as_the_first_versions(tmp_path: Path) -> None:
    """A fill whose intent has no prediction note is v1's, with the intent's policy and no
    terms."""
    _journal(tmp_path / "j.sqlite", synthetic_fills(random.Random(1), [(2, CALM)]),
             stamped=False)
    journal = Journal.open_read_only(tmp_path / "j.sqlite")
    read = healing_fills((kind, payload) for _, kind, payload in journal.events()).fills
    journal.close()
    assert [(f.version_id, f.policy, f.crossing_bps) for f in read] == [
        ("v1", Policy.PATIENCE, None)] * 2


def test_heal_journals_every_step_and_the_promoted_version(tmp_path: Path) -> None:
    """A lasting change in spread cost: heal journals detection, hypothesis, experiment and a
    promotion, and v2 becomes the journal's current version."""
    path = tmp_path / "j.sqlite"
    _journal(path, synthetic_fills(random.Random(1), [(100, CALM),
                                                      (100, Regime(spread_extra=0.5))]))
    cycle = heal(path, SETTINGS)
    assert cycle is not None and cycle.decision is not None
    assert cycle.decision.outcome is Outcome.PROMOTED
    records = read_journal(path)
    (found,) = cycles(records)
    assert found["cycle_id"] == "heal-1"
    assert set(found) == {"cycle_id", "at", "detected", "hypothesis", "experiment", "decision"}
    assert found["detected"]["drift"] is True
    assert found["hypothesis"]["changes"][0].startswith("ZO/patience: spread cost +")
    assert found["decision"]["outcome"] == "promoted"
    versions = model_versions(records)
    assert [v.version_id for v in versions] == ["v1", "v2"]
    assert versions[-1].parent == "v1" and versions[-1].heldout_residuals
    journal = Journal.open(path)
    current = current_model(journal)
    journal.close()
    assert current is not None and current.version_id == "v2"


def test_heal_journals_a_roll_back_and_keeps_the_version(tmp_path: Path) -> None:
    """A shift that is gone in the held-out fills: the candidate is journaled as rolled back
    and v1 stays current."""
    path = tmp_path / "j.sqlite"
    _journal(path, synthetic_fills(random.Random(1), [(100, CALM), (70, Regime(bias=5.0)),
                                                      (30, CALM)]))
    cycle = heal(path, SETTINGS)
    assert cycle is not None and cycle.decision is not None
    assert cycle.decision.outcome is Outcome.ROLLED_BACK
    records = read_journal(path)
    assert [c["decision"]["outcome"] for c in cycles(records)] == ["rolled_back"]
    assert [v.version_id for v in model_versions(records)] == ["v1"]


def test_no_drift_journals_the_detection_alone(tmp_path: Path) -> None:
    """Unchanged fills: one heal_detected note, no other step."""
    path = tmp_path / "j.sqlite"
    _journal(path, synthetic_fills(random.Random(2), [(120, CALM)]))
    cycle = heal(path, SETTINGS)
    assert cycle is not None and not cycle.detection.drift
    (found,) = cycles(read_journal(path))
    assert set(found) == {"cycle_id", "at", "detected"}


def test_heal_waits_for_new_fills(tmp_path: Path) -> None:
    """A second heal with no fill newer than the first one saw journals nothing; after new
    fills it runs again as heal-2."""
    path = tmp_path / "j.sqlite"
    _journal(path, synthetic_fills(random.Random(2), [(120, CALM)]))
    assert heal(path, SETTINGS) is not None
    assert heal(path, SETTINGS) is None
    clock = Clock()
    journal = Journal.open(path, clock=clock)
    write_fills(journal, clock, synthetic_fills(random.Random(3), [(5, CALM)], start=200))
    assert heal(journal, SETTINGS) is not None
    journal.close()
    assert [c["cycle_id"] for c in cycles(read_journal(path))] == ["heal-1", "heal-2"]


def test_a_new_version_without_fills_is_checked_once(tmp_path: Path) -> None:
    """After a promotion, v2 has no fills: one heal notes that, the next journals nothing."""
    path = tmp_path / "j.sqlite"
    _journal(path, synthetic_fills(random.Random(1), [(100, CALM),
                                                      (100, Regime(spread_extra=0.5))]))
    assert heal(path, SETTINGS) is not None
    cycle = heal(path, SETTINGS)
    assert cycle is not None and cycle.detection.version_id == "v2"
    assert cycle.detection.summary.startswith("not enough fills: 30 baseline and 0 recent")
    assert heal(path, SETTINGS) is None
    assert len(cycles(read_journal(path))) == 2


def test_heal_refuses_a_journal_another_writer_holds(tmp_path: Path) -> None:
    """Healing by path while a Hydra holds the journal is a JournalLockedError."""
    path = tmp_path / "j.sqlite"
    holder = Journal.open(path)
    with pytest.raises(JournalLockedError):
        heal(path, SETTINGS)
    holder.close()


def test_heal_creates_no_journal(tmp_path: Path) -> None:
    """Healing a path with no journal is a JournalFormatError, and leaves no file."""
    with pytest.raises(JournalFormatError, match="no such file"):
        heal(tmp_path / "missing.sqlite", SETTINGS)
    assert list(tmp_path.iterdir()) == []
