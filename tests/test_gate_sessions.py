import json
from collections.abc import Callable
from pathlib import Path

import pytest

from hydra._enums import Side
from hydra._gate import gate_report, render_gate
from hydra._gate_sessions import counted, split_sessions
from hydra._journal_records import read_journal
from hydra._settings import SlippageSettings
from hydra.cli import main
from tests.paper_journal import PaperJournal, breaker_drill, gate_journal, healing_cycle

SETTINGS = SlippageSettings()

Hydra = Callable[..., int]


@pytest.fixture
def hydra() -> Hydra:
    """``hydra ARGS...``, in this process."""
    return lambda *argv: main([str(a) for a in argv])


def _failing(path: Path) -> list[str]:
    report = gate_report(read_journal(path), settings=SETTINGS)
    return [c.name for c in report.criteria if not c.passed]


def _drills(paper: PaperJournal, *, fills: int = 0) -> None:
    """Everything the gate asks for but the weeks: calibrated fills, a reconnect, a kill, a
    healing cycle and every breaker, on the journal's clock as it stands."""
    for number in range(fills):
        intent = f"sim-{number}"
        paper.intent(intent, side=Side.BUY, quantity=1, arrival_mid="400.00", predicted="1")
        order = paper.order(intent, side=Side.BUY, quantity=1, limit="400.25")
        paper.fill(order, f"se{number}", side=Side.BUY, quantity=1, price="400.00",
                   predicted="1", actual="1.25")
    paper.note("session_down", reason="connection reset")
    paper.note("reconnected", missed_fills=0)
    paper.note("kill_switch", reason="drill", working=0)
    healing_cycle(paper, cycle_id="heal-9", outcome="promoted")
    breaker_drill(paper)


def test_a_simulated_journal_meets_nothing(tmp_path: Path) -> None:
    """Five weeks that would pass, all in a sim session: every condition that needs evidence
    fails, and the report counts no paper session."""
    path = gate_journal(tmp_path / "j.sqlite", venue="sim").path
    report = gate_report(read_journal(path), settings=SETTINGS)
    assert _failing(path) == ["paper_operation", "slippage_calibrated", "reconnect_survived",
                              "kill_switch_exercised", "breakers_exercised",
                              "self_healing_cycle"]
    assert report.counted.to_json()["sessions"] == {"sim": 1}
    assert report.counted.summary() == "counted: 0 paper sessions"
    assert not report.passed


def test_drills_in_a_sim_session_do_not_count_for_paper(tmp_path: Path) -> None:
    """A paper run without drills, then a sim session with every drill, 40 fills and an
    error: the paper verdict is the paper run's, and the mixed journal is reported."""
    path = tmp_path / "j.sqlite"
    gate_journal(path, reconnect=False, kill=False, healed=False, breakers=False)
    sim = PaperJournal(path).at(36).start("sim")
    _drills(sim, fills=40)
    sim.note("unrecoverable_error", error="BrokerConnectionError('gave up')")
    sim.close()
    assert _failing(path) == ["reconnect_survived", "kill_switch_exercised",
                              "breakers_exercised", "self_healing_cycle"]
    report = gate_report(read_journal(path), settings=SETTINGS)
    calibration = report.criteria[1].evidence
    assert calibration["count"] == 36  # the paper fills alone
    assert report.counted.mixed
    assert report.counted.left_out["sim"]["sessions"] == 1
    text = render_gate(report)
    assert text.splitlines()[0].startswith(
        "counted: 1 paper session; MIXED journal, left out of every condition: 1 sim (")
    assert "2026-04-07 14:30 to 2026-04-07 14:30 UTC)" in text.splitlines()[0]


def test_a_later_sim_session_does_not_stretch_the_weeks(tmp_path: Path) -> None:
    """Three weeks of paper, then a sim session on day 30: operation still fails, on the
    paper span alone."""
    path = tmp_path / "j.sqlite"
    gate_journal(path, days=20, notes_day=10)
    PaperJournal(path).at(30).start("sim").close()
    operation = gate_report(read_journal(path), settings=SETTINGS).criteria[0]
    assert not operation.passed and operation.evidence["days"] == 20.0


def test_the_heal_after_a_close_belongs_to_the_session_it_closed(tmp_path: Path) -> None:
    """A healing cycle journaled after a sim session's stop note (as ``hydra run --sim`` heals
    after it closes) is the sim session's; after a paper stop, it counts."""
    path = tmp_path / "j.sqlite"
    gate_journal(path, healed=False)
    sim = PaperJournal(path).at(36).start("sim")
    sim.note("engine_stopped", reason="closed")
    healing_cycle(sim, cycle_id="heal-1", outcome="rolled_back")
    sim.close()
    assert _failing(path) == ["self_healing_cycle"]
    paper = PaperJournal(path).at(37).start("paper")
    paper.note("engine_stopped", reason="closed")
    healing_cycle(paper, cycle_id="heal-2", outcome="rolled_back")
    paper.close()
    assert _failing(path) == []


def test_a_start_without_a_venue_is_not_paper(tmp_path: Path) -> None:
    """An engine_started note of an older Hydra (no venue) cannot be told from the simulated
    gateway: left out as unrecorded; one of the in-process SimBroker is sim."""
    paper = PaperJournal(tmp_path / "j.sqlite")
    paper.at(0).note("schema_migrated", version=9)
    paper.at(1).note("engine_started", broker="IBBroker")
    paper.at(2).note("engine_started", broker="SimBroker")
    paper.close()
    records = read_journal(paper.path)
    before, sessions = split_sessions(records)
    assert [r.payload["what"] for r in before] == ["schema_migrated"]
    assert [s.venue for s in sessions] == ["unrecorded", "sim"]
    chosen = counted(records)
    assert (chosen.venue, chosen.records, chosen.before_first_start) == ("paper", (), 1)


def test_a_rehearsal_meets_every_condition_and_never_passes(tmp_path: Path) -> None:
    """A journal of rehearsal sessions is judged on them: every condition met, marked as a
    rehearsal, and the gate not passed."""
    path = gate_journal(tmp_path / "j.sqlite", venue="rehearsal").path
    report = gate_report(read_journal(path), settings=SETTINGS)
    assert all(c.passed for c in report.criteria)
    assert report.counted.rehearsal and not report.passed
    assert render_gate(report).endswith(
        "live-capital gate: NOT PASSED (a rehearsal: every condition met, but only paper "
        "trading counts)")


def test_rehearsals_beside_paper_are_left_out(tmp_path: Path) -> None:
    """A paper session and a rehearsal in one journal: paper is counted, the rehearsal left
    out, and the journal is mixed."""
    path = tmp_path / "j.sqlite"
    gate_journal(path)
    PaperJournal(path).at(40).start("rehearsal").close()
    report = gate_report(read_journal(path), settings=SETTINGS)
    assert report.passed and report.counted.mixed
    assert list(report.counted.left_out) == ["rehearsal"]


@pytest.mark.parametrize("venue", ["sim", "live"])
def test_gate_check_reports_a_mixed_journal_in_one_line_and_json(
        hydra: Hydra, tmp_path: Path, capsys: pytest.CaptureFixture[str], venue: str) -> None:
    """``hydra gate-check`` names what it left out in one line, and ``--json`` says it too."""
    path = tmp_path / "j.sqlite"
    gate_journal(path)
    PaperJournal(path).at(40).start(venue).close()
    assert hydra("gate-check", "--journal", path) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "MIXED" in line]
    assert lines == [f"counted: 1 paper session; MIXED journal, left out of every condition: "
                     f"1 {venue} (1 records, 2026-04-11 14:30 to 2026-04-11 14:30 UTC)"]
    assert hydra("gate-check", "--journal", path, "--json") == 0
    sessions = json.loads(capsys.readouterr().out)["sessions"]
    assert (sessions["mixed"], sessions["sessions"]) == (True, {"paper": 1, venue: 1})


def test_gate_check_marks_a_rehearsal(hydra: Hydra, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A rehearsal journal's report says REHEARSAL and exits 1 with every condition met."""
    path = gate_journal(tmp_path / "j.sqlite", venue="rehearsal").path
    assert hydra("gate-check", "--journal", path) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"Live-capital gate (REHEARSAL), from {path}\n")
    assert out.count("\nPASS  ") == 7


def test_gate_json_states_every_key_of_what_it_counted(tmp_path: Path) -> None:
    """The gate's JSON: whether it passed, what it counted (its venue, whether a rehearsal or
    mixed, sessions per venue, what it left out, the records before any start, the summary
    line) and each condition's fields."""
    path = tmp_path / "j.sqlite"
    gate_journal(path)
    PaperJournal(path).at(40).start("sim").close()
    report = gate_report(read_journal(path), settings=SETTINGS)
    data = json.loads(json.dumps(report.to_json()))
    assert list(data) == ["passed", "sessions", "criteria"]
    assert data["sessions"] == {
        "venue": "paper", "rehearsal": False, "mixed": True,
        "sessions": {"paper": 1, "sim": 1},
        "left_out": {"sim": {"sessions": 1, "records": 1, "from": "2026-04-11 14:30",
                             "to": "2026-04-11 14:30"}},
        "before_first_start": 0, "summary": report.counted.summary()}
    assert [list(c) for c in data["criteria"]] == [
        ["name", "requirement", "passed", "summary", "evidence"]] * len(report.criteria)
