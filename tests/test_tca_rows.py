"""Tests for bench/_tca_rows.py: every ``--rows`` line of `bench/tca.py` names the commit and
the simulator that made it; a resume refuses rows of another simulator (unless
``--allow-mixed``), takes unstamped ones with a warning, and ``--with-rows`` says which
commits made what it read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from _tca_rows import commits_read, mixed_simulators, sim_fingerprint, stamp, unstamped

from tests.test_attack_s22 import _tca_rows

BENCH = Path(__file__).resolve().parent.parent / "bench"
GRID = ["--seeds", "2", "--sizes", "2", "--scenarios", "oats-front", "--processes", "1"]


def _tca(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BENCH / "tca.py"), *GRID, *args],
                          capture_output=True, text=True)


def _stamped(path: Path, **fields: str) -> None:
    """``path``'s rows with ``fields`` in each."""
    rows = [{**json.loads(line), **fields} for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_the_simulators_fingerprint_changes_with_its_source(tmp_path: Path) -> None:
    """Two copies of a simulator's source have one fingerprint; a changed line, another."""
    (tmp_path / "sim").mkdir()
    (tmp_path / "sim" / "_a.py").write_text("x = 1\n")
    before = sim_fingerprint(tmp_path / "sim")
    assert sim_fingerprint(tmp_path / "sim") == before
    (tmp_path / "sim" / "_a.py").write_text("x = 2\n")
    assert sim_fingerprint(tmp_path / "sim") != before
    assert set(stamp()) == {"commit", "sim"}


def test_a_run_appended_to_the_rows_file_names_its_commit_and_simulator(tmp_path: Path) -> None:
    """The rows a run appends carry this checkout's commit and simulator fingerprint."""
    rows = tmp_path / "rows.jsonl"
    _tca_rows(rows, twice=0)
    kept = rows.read_text().splitlines()[:-1]  # the last run (oracle, SELL, seed 2) is run
    rows.write_text("".join(line + "\n" for line in kept))
    _stamped(rows, **stamp())
    done = _tca("--policies", "hydra,twap-cross,oracle", "--rows", str(rows))
    assert done.returncode == 0, done.stderr
    assert "1 to run" in done.stdout
    last = json.loads(rows.read_text().splitlines()[-1])
    assert (last["commit"], last["sim"]) == (stamp()["commit"], sim_fingerprint())


def test_resuming_rows_of_another_simulator_is_refused_in_one_line(tmp_path: Path) -> None:
    """Rows made by another simulator end the resume at once, in one line naming it and this
    one, before anything is run or appended; ``--allow-mixed`` goes on (with that line as a
    warning)."""
    rows = tmp_path / "rows.jsonl"
    _tca_rows(rows, twice=0)
    _stamped(rows, commit="0123456789ab", sim="feedfacecafe")
    before = rows.read_text()
    refused = _tca("--policies", "hydra,twap-cross,oracle", "--rows", str(rows))
    assert refused.returncode == 2
    (line,) = refused.stderr.splitlines()
    assert "feedfacecafe (12 runs)" in line and sim_fingerprint() in line
    assert "--allow-mixed" in line
    assert rows.read_text() == before
    allowed = _tca("--policies", "hydra,twap-cross,oracle", "--rows", str(rows),
                   "--allow-mixed")
    assert allowed.returncode == 0, allowed.stderr
    assert "0 to run" in allowed.stdout and "feedfacecafe" in allowed.stderr


def test_rows_written_before_the_stamp_are_taken_with_a_warning(tmp_path: Path) -> None:
    """Rows without a commit or fingerprint (written before them) are read as of unknown code:
    the resume goes on, with one warning line."""
    rows = tmp_path / "rows.jsonl"
    _tca_rows(rows, twice=0)
    done = _tca("--policies", "hydra,twap-cross,oracle", "--rows", str(rows))
    assert done.returncode == 0, done.stderr
    assert "0 to run" in done.stdout
    (warning,) = done.stderr.splitlines()
    assert warning.startswith("warning: ") and "12 runs carry no simulator fingerprint" in warning


def test_with_rows_says_which_commits_made_what_it_read(tmp_path: Path) -> None:
    """``--with-rows`` prints the commits of the runs it took from the file (unknown for
    unstamped ones)."""
    rows, baselines = tmp_path / "rows.jsonl", tmp_path / "baselines.jsonl"
    _tca_rows(rows, twice=0)
    _tca_rows(baselines, twice=0)
    lines = baselines.read_text().splitlines()
    baselines.write_text("".join(
        json.dumps({**json.loads(line), "commit": "0123456789ab", "sim": "feedfacecafe"}) + "\n"
        if json.loads(line)["seed"] == 1 else line + "\n" for line in lines))
    done = _tca("--policies", "hydra", "--rows", str(rows), "--with-rows", str(baselines))
    assert done.returncode == 0, done.stderr
    assert (f"8 runs read from {baselines}, made by 0123456789ab (4 runs), unknown (4 runs)"
            in done.stdout)


def test_the_lines_name_what_they_count() -> None:
    """The refusal counts another simulator's runs only; unstamped rows are neither refused
    nor counted there."""
    rows = [{"sim": "a", "commit": "c1"}, {"sim": "b", "commit": "c2"}, {"commit": "c3"}, {}]
    where = Path("rows.jsonl")
    assert mixed_simulators(rows, where, sim="a") == (
        "rows.jsonl: runs of another simulator (b (1 run); this one is a): refusing to mix "
        "them in one grid (--allow-mixed to go on, or start another rows file)")
    assert mixed_simulators(rows[:1] + rows[2:], where, sim="a") is None
    assert unstamped(rows[:2], where) is None
    assert commits_read(rows, where) == (
        "4 runs read from rows.jsonl, made by c1 (1 run), c2 (1 run), c3 (1 run), "
        "unknown (1 run)")
