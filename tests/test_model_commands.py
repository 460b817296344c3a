"""``hydra model show | history | heal``: the slippage model's versions and one healing cycle
from the command line, on journals of synthetic fills with a known change."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from hydra._journal import Journal
from hydra._model_journal import OWN_PREDICTIONS_ONLY
from hydra._model_store import ensure_model
from hydra.cli import main
from tests.paper_journal import Clock
from tests.synthetic_fills import Regime, synthetic_fills, write_fills


def _journal(path: Path) -> None:
    """100 calm fills, then 100 with a lasting extra spread cost: a cycle promotes v2."""
    clock = Clock()
    journal = Journal.open(path, clock=clock)
    ensure_model(journal)
    write_fills(journal, clock, synthetic_fills(random.Random(1), [
        (100, Regime()), (100, Regime(spread_extra=0.5))]))
    journal.close()


def test_heal_runs_one_cycle_then_show_and_history_tell_of_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """heal prints each step and promotes v2; show names v2 and why; history --json lists
    both versions and the cycle; the next heal finds v2 without fills, and the one after
    that has nothing new to look at."""
    path = tmp_path / "j.sqlite"
    _journal(path)
    assert main(["model", "heal", "--journal", str(path)]) == 0
    healed = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in healed] == [
        "detect", "hypothesis", "experiment", "decision"]
    assert "promoted" in healed[-1]
    assert main(["model", "show", "--journal", str(path)]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("slippage model v2, made ") and "replacing v1" in shown
    assert main(["model", "history", "--journal", str(path), "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert [v["version_id"] for v in history["versions"]] == ["v1", "v2"]
    assert len(history["cycles"]) == 1
    assert main(["model", "heal", "--journal", str(path)]) == 0  # v2 has no fills yet
    assert capsys.readouterr().out.startswith("detect: not enough fills: ")
    assert main(["model", "heal", "--journal", str(path)]) == 0
    assert capsys.readouterr().out == ("no fills newer than the last healing cycle saw: "
                                       "nothing to heal\n")


def test_heal_on_a_journal_a_running_hydra_holds_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """heal needs the journal to itself: while another writer holds it, exit 2, one line."""
    path = tmp_path / "j.sqlite"
    _journal(path)
    holder = Journal.open(path)
    try:
        assert main(["model", "heal", "--journal", str(path)]) == 2
    finally:
        holder.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hydra model heal: ") and "one Hydra" in err[0]


def test_show_on_a_journal_without_a_model_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "j.sqlite"
    Journal.open(path).close()
    assert main(["model", "show", "--journal", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["current"] is None


GOLDEN = Path(__file__).parent / "golden" / "model_heal.txt"


def _heal_outputs(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """``model heal --json`` twice (a promoting cycle, then v2 without fills: None fields),
    then each healing note's payload as the journal stores it, one a line; the time a
    version was made (the wall clock's) shows as ``<now>``."""
    _journal(path)
    texts = []
    for _ in range(2):
        assert main(["model", "heal", "--journal", str(path), "--json"]) == 0
        texts.append(capsys.readouterr().out.replace(str(path), "<journal>"))
    journal = Journal.open(path)
    texts += [json.dumps(payload, sort_keys=True) + "\n" for _, _, payload in journal.events()
              if str(payload.get("what", "")).startswith(("heal_", "model_version"))]
    journal.close()
    return re.sub(r'"created_at": "[^"]*"', '"created_at": "<now>"', "".join(texts))


def test_heal_json_and_its_notes_are_as_they_were(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A golden test: ``model heal --json`` and the healing notes it journals are, byte for
    byte, what they were on 2026-12-01 (``tests/golden/model_heal.txt``), with the
    detection's ``left_out`` added on 2026-12-02."""
    assert _heal_outputs(tmp_path / "j.sqlite", capsys) == GOLDEN.read_text()


def test_heal_and_history_say_how_many_fills_were_left_out_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a journal that spans the upgrade to per-fill predictions (40 fills with only their
    orders' estimates, then 60 with their own), heal's detect line and history's cycle line
    (and its --json) say that 40 fills were left out and why."""
    path = tmp_path / "j.sqlite"
    clock = Clock()
    journal = Journal.open(path, clock=clock)
    ensure_model(journal)
    write_fills(journal, clock, synthetic_fills(random.Random(1), [(40, Regime())]), own=False)
    write_fills(journal, clock, synthetic_fills(random.Random(2), [(60, Regime())], start=100))
    journal.close()
    said = f"40 fills left out: {OWN_PREDICTIONS_ONLY}"
    assert main(["model", "heal", "--journal", str(path)]) == 0
    detect = capsys.readouterr().out.splitlines()[0]
    assert detect.startswith("detect: ") and detect.endswith(said)
    assert main(["model", "history", "--journal", str(path)]) == 0
    assert detect.removeprefix("detect: ") in capsys.readouterr().out.splitlines()[-1]
    assert main(["model", "history", "--journal", str(path), "--json"]) == 0
    (cycle,) = json.loads(capsys.readouterr().out)["cycles"]
    assert cycle["detected"]["left_out"] == {"count": 40, "reason": OWN_PREDICTIONS_ONLY}
