import random
from decimal import Decimal
from pathlib import Path

import pytest

from hydra._enums import NoteKind
from hydra._gate import Criterion, gate_check, gate_report, render_gate
from hydra._journal import Journal
from hydra._journal_records import read_journal
from hydra._model_journal import heal
from hydra._settings import SlippageSettings
from tests.paper_journal import (
    Clock,
    PaperJournal,
    breaker_drill,
    gate_journal,
    healing_cycle,
)
from tests.synthetic_fills import Regime, synthetic_fills, write_fills

SETTINGS = SlippageSettings()


def _criteria(path: Path, settings: SlippageSettings = SETTINGS) -> dict[str, Criterion]:
    return {c.name: c for c in gate_check(read_journal(path), settings=settings)}


FEWER_FILLS = SlippageSettings(min_fills=20)
"""For journals short of 30 days, and so of 30 fills, judged on everything but that."""


def _failing(criteria: dict[str, Criterion]) -> list[str]:
    return [name for name, c in criteria.items() if not c.passed]


def test_five_weeks_of_good_paper_trading_pass(tmp_path: Path) -> None:
    """Five weeks with fills, a reconnect, a kill drill and no error pass every condition."""
    criteria = _criteria(gate_journal(tmp_path / "j.sqlite").path)
    assert _failing(criteria) == []
    operation = criteria["paper_operation"].evidence
    assert (operation["days"], operation["events_per_week"]) == (35.0, [22, 21, 21, 21])
    assert operation["brokers"] == ["IBBroker"]
    assert criteria["slippage_calibrated"].evidence["count"] == 36
    assert criteria["reconnect_survived"].evidence["first_reconnect"].startswith("2026-03-31")
    assert criteria["kill_switch_exercised"].evidence["first"]["reason"] == "drill"
    assert criteria["self_healing_cycle"].evidence["first_completed"]["cycle_id"] == "heal-1"
    assert render_gate(gate_report(read_journal(tmp_path / "j.sqlite"), settings=SETTINGS)
                       ).endswith("live-capital gate: PASSED")


def test_under_four_weeks_fails_operation_only(tmp_path: Path) -> None:
    """27.9 days of activity is short of 28, and only the operation condition fails."""
    path = gate_journal(tmp_path / "j.sqlite", days=27.9, notes_day=20).path
    criteria = _criteria(path, FEWER_FILLS)
    assert _failing(criteria) == ["paper_operation"]
    assert criteria["paper_operation"].evidence["days"] == 27.9
    assert "27.9 days from 2026-03-02 14:30 to 2026-03-30 12:06 UTC" in (
        criteria["paper_operation"].summary)


def test_exactly_four_weeks_is_enough(tmp_path: Path) -> None:
    """First to last event exactly 28 days apart, active each week, passes operation."""
    paper = PaperJournal(tmp_path / "j.sqlite")
    for day in (0, 7, 14, 21, 28):
        paper.at(day).note("engine_started", broker="IBBroker", venue="paper", dry_run=False)
    paper.close()
    operation = _criteria(paper.path)["paper_operation"]
    assert operation.passed
    assert operation.evidence["events_per_week"] == [1, 1, 1, 1]


def test_operation_names_the_ports_and_accounts_the_starts_record(tmp_path: Path) -> None:
    """The port and masked account of each counted engine start are evidence, when recorded
    (a start without them names none)."""
    paper = PaperJournal(tmp_path / "j.sqlite")
    paper.at(0).start(port=4002, account="DU****12")
    paper.at(1).start(port=7497, account="DU****12")
    paper.at(2).start()
    paper.close()
    evidence = _criteria(paper.path)["paper_operation"].evidence
    assert (evidence["ports"], evidence["accounts"]) == ([4002, 7497], ["DU****12"])


def test_a_quiet_week_fails_operation_only(tmp_path: Path) -> None:
    """Five weeks with nothing journaled in the second fails operation, with the gap shown."""
    criteria = _criteria(gate_journal(tmp_path / "j.sqlite", quiet_week=2).path, FEWER_FILLS)
    assert _failing(criteria) == ["paper_operation"]
    assert criteria["paper_operation"].evidence["events_per_week"] == [22, 0, 21, 21]
    assert "events in weeks 1-4: 22, 0, 21, 21" in criteria["paper_operation"].summary


def test_an_uncalibrated_model_fails_calibration_only(tmp_path: Path) -> None:
    """Predictions running against the actual slippage fail calibration, with its numbers."""
    criteria = _criteria(gate_journal(tmp_path / "j.sqlite", calibrated=False).path)
    assert _failing(criteria) == ["slippage_calibrated"]
    evidence = criteria["slippage_calibrated"].evidence
    assert evidence["calibrated"] is False
    assert evidence["correlation"] == pytest.approx(-1.0)
    assert "NOT calibrated" in criteria["slippage_calibrated"].summary


def test_no_reconnect_fails_reconnect_only(tmp_path: Path) -> None:
    """A journal without a reconnected note fails the reconnect condition alone."""
    criteria = _criteria(gate_journal(tmp_path / "j.sqlite", reconnect=False).path)
    assert _failing(criteria) == ["reconnect_survived"]
    assert criteria["reconnect_survived"].evidence == {
        "reconnects": 0, "session_losses": 0, "first_reconnect": None}


def test_an_unrecoverable_error_fails_its_condition_only(tmp_path: Path) -> None:
    """An unrecoverable_error note fails that condition and names the error."""
    criteria = _criteria(gate_journal(tmp_path / "j.sqlite", error=True).path)
    assert _failing(criteria) == ["no_unrecoverable_error"]
    evidence = criteria["no_unrecoverable_error"].evidence
    assert evidence["unrecoverable_errors"] == 1
    assert evidence["first"]["error"] == "BrokerConnectionError('gave up')"


def test_no_kill_drill_fails_kill_switch_only(tmp_path: Path) -> None:
    """A journal without a kill_switch note fails the kill-switch condition alone."""
    criteria = _criteria(gate_journal(tmp_path / "j.sqlite", kill=False).path)
    assert _failing(criteria) == ["kill_switch_exercised"]
    assert criteria["kill_switch_exercised"].evidence == {"kill_switch_uses": 0, "first": None}


def test_an_empty_journal_fails_everything_it_can(tmp_path: Path) -> None:
    """No events: every condition but 'no unrecoverable error' fails."""
    criteria = {c.name: c for c in gate_check([], settings=SETTINGS)}
    assert _failing(criteria) == ["paper_operation", "slippage_calibrated",
                                  "reconnect_survived", "kill_switch_exercised",
                                  "breakers_exercised", "self_healing_cycle"]
    assert criteria["paper_operation"].summary == "no event in a counted session"


def test_a_start_without_a_stop_is_an_unclean_stop(tmp_path: Path) -> None:
    """A second engine start with no stop note in between counts one unclean stop."""
    paper = PaperJournal(tmp_path / "j.sqlite")
    for day, what in [(0, "engine_started"), (1, "engine_started"), (2, "engine_stopped"),
                      (3, "engine_started"), (4, "engine_stopped")]:
        paper.at(day).note(what, venue="paper")
    paper.close()
    evidence = _criteria(paper.path)["no_unrecoverable_error"].evidence
    assert evidence["unclean_stops"] == 1


def test_the_verdict_names_the_failing_conditions(tmp_path: Path) -> None:
    """The text ends with how many conditions fail and which."""
    report = gate_report(read_journal(gate_journal(tmp_path / "j.sqlite", kill=False,
                                                   reconnect=False).path), settings=SETTINGS)
    text = render_gate(report)
    assert "FAIL  kill_switch_exercised: 0 kill switch uses" in text
    assert text.endswith("NOT PASSED (2 of 7 failing: reconnect_survived, "
                         "kill_switch_exercised)")


def test_calibration_needs_the_minimum_of_fills(tmp_path: Path) -> None:
    """29 calibrated fills are one short of slippage.min_fills (30): calibration fails, and
    says so in its one line."""
    criteria = _criteria(gate_journal(tmp_path / "j.sqlite", days=28).path)
    calibration = criteria["slippage_calibrated"]
    assert calibration.evidence["count"] == 29 and calibration.evidence["calibrated"] is True
    assert not calibration.passed
    assert calibration.summary.endswith("; needs at least 30 fills")
    assert "\n" not in calibration.summary
    fewer = {c.name: c for c in gate_check(read_journal(tmp_path / "j.sqlite"),
                                           settings=SlippageSettings(min_fills=29))}
    assert fewer["slippage_calibrated"].passed


def test_no_healing_cycle_fails_its_condition_only(tmp_path: Path) -> None:
    """A journal without a completed healing cycle fails self_healing_cycle alone."""
    criteria = _criteria(gate_journal(tmp_path / "j.sqlite", healed=False).path)
    assert _failing(criteria) == ["self_healing_cycle"]
    assert criteria["self_healing_cycle"].summary == (
        "0 healing cycles, 0 completed (0 promoted, 0 rolled back)")


def test_a_detection_without_drift_is_no_completed_cycle(tmp_path: Path) -> None:
    """Cycles that found no drift never decided: the condition still fails, counting them."""
    paper = PaperJournal(tmp_path / "j.sqlite").start()
    healing_cycle(paper.at(1), cycle_id="heal-1", outcome=None)
    healing_cycle(paper.at(2), cycle_id="heal-2", outcome=None)
    paper.close()
    healing = _criteria(paper.path)["self_healing_cycle"]
    assert not healing.passed
    assert (healing.evidence["cycles"], healing.evidence["completed"]) == (2, 0)


@pytest.mark.parametrize("outcome", ["promoted", "rolled_back"])
def test_either_outcome_completes_a_cycle(tmp_path: Path, outcome: str) -> None:
    """A promotion and a roll-back each pass, with the cycle's steps as the evidence."""
    paper = PaperJournal(tmp_path / "j.sqlite").start()
    healing_cycle(paper.at(1), cycle_id="heal-1", outcome=None)
    healing_cycle(paper.at(3), cycle_id="heal-2", outcome=outcome)
    paper.close()
    healing = _criteria(paper.path)["self_healing_cycle"]
    assert healing.passed
    first = healing.evidence["first_completed"]
    assert first["cycle_id"] == "heal-2" and first["at"].startswith("2026-03-05")
    assert first["detected"].startswith("drift: KS p=")
    assert first["hypothesis"] == "ZO/patience: bias +2.67 bps"
    assert healing.evidence[outcome] == 1
    assert f"; first heal-2 at 2026-03-05 14:30 UTC: v2 {outcome.replace('_', ' ')}" in (
        healing.summary)


def test_a_cycle_heal_ran_passes_the_gate_condition(tmp_path: Path) -> None:
    """The cycle `heal` journals over real fills (a promotion) meets the condition, and the
    evidence names the version it made current."""
    path = tmp_path / "j.sqlite"
    clock = Clock()
    journal = Journal.open(path, clock=clock)
    journal.record_note(NoteKind.ENGINE_STARTED, broker="IBBroker", venue="paper")
    write_fills(journal, clock, synthetic_fills(random.Random(1), [
        (100, Regime()), (100, Regime(spread_extra=0.5))]))
    assert heal(journal, SETTINGS) is not None
    journal.close()
    healing = _criteria(path)["self_healing_cycle"]
    assert healing.passed
    assert (healing.evidence["promoted"], healing.evidence["current_version"]) == (1, "v2")
    assert "spread cost" in healing.evidence["first_completed"]["hypothesis"]


def test_no_breaker_drill_fails_breakers_only(tmp_path: Path) -> None:
    """A journal where no breaker ever tripped fails breakers_exercised alone, naming all four."""
    criteria = _criteria(gate_journal(tmp_path / "j.sqlite", breakers=False).path)
    assert _failing(criteria) == ["breakers_exercised"]
    assert criteria["breakers_exercised"].summary == (
        "0 of 4 breakers seen to trip; never tripped: daily_loss, drawdown, position_value, "
        "single_trade_loss")


def test_every_breaker_must_trip(tmp_path: Path) -> None:
    """Three breakers drilled of four: the one missing is named; its evidence is None."""
    paper = PaperJournal(tmp_path / "j.sqlite").start()
    breaker_drill(paper.at(1), causes=("daily_loss", "drawdown", "position_value"))
    paper.close()
    breakers = _criteria(paper.path)["breakers_exercised"]
    assert not breakers.passed
    assert breakers.summary == "3 of 4 breakers seen to trip; never tripped: single_trade_loss"
    first = breakers.evidence["first_trips"]
    assert first["single_trade_loss"] is None
    assert first["position_value"]["latched"] == "REDUCING"
    assert (breakers.evidence["trips"], breakers.evidence["resumes"]) == (3, 3)


def test_calibration_judges_each_fills_own_prediction(tmp_path: Path) -> None:
    """Fills whose own predictions track their cost, of intents all estimated at 6 bps
    before they traded: the model is calibrated, for the gate judges what the healing cycle
    fits, each fill's own prediction; the pre-trade estimates alone say nothing (no
    correlation)."""
    path = tmp_path / "j.sqlite"
    clock = Clock()
    journal = Journal.open(path, clock=clock)
    journal.record_note(NoteKind.ENGINE_STARTED, broker="IBBroker", venue="paper")
    write_fills(journal, clock, synthetic_fills(random.Random(1), [(40, Regime(noise=1.0))]),
                pre_trade=Decimal(6))
    journal.close()
    calibrated = _criteria(path)["slippage_calibrated"]
    assert calibrated.passed
    assert calibrated.evidence["count"] == 40 and calibrated.evidence["correlation"] > 0.9
