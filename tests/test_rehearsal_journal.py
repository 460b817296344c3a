"""A simulation's journal: ``hydra run --sim`` writes beside the paper journal, never into it.
The process tests run a real ``hydra run --sim`` on the real clock, bounded by timeouts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import trio
import trio.testing

from hydra._enums import NoteKind
from hydra._errors import InvalidValueError
from hydra._journal_records import read_journal
from hydra._rehearsal_journal import real_venues, sim_journal_path, simulation_journal
from hydra._settings import JournalSettings
from hydra.sim import open_sim_exchange
from tests.paper_journal import PaperJournal
from tests.simulated import open_engine, quiet_oats


def test_the_simulation_journal_sits_beside_the_paper_one() -> None:
    """``.sim`` goes before the suffix (or at the end of a name without one)."""
    assert sim_journal_path("hydra-journal.sqlite") == "hydra-journal.sim.sqlite"
    assert sim_journal_path("/data/run/paper.db") == "/data/run/paper.sim.db"
    assert sim_journal_path("journal") == "journal.sim"


def test_a_simulation_takes_its_own_audit_log() -> None:
    """A configured audit log is the paper run's: the simulation's goes beside its journal."""
    settings = simulation_journal(JournalSettings(path="p.sqlite", audit_path="p.jsonl"), None)
    assert (settings.path, settings.audit_path) == ("p.sim.sqlite", None)


@pytest.mark.parametrize("venue", ["paper", "live"])
def test_a_journal_that_traded_for_real_is_refused(tmp_path: Path, venue: str) -> None:
    """A journal whose engine_started says paper (or live) is refused, naming ``--journal``."""
    path = tmp_path / "j.sqlite"
    PaperJournal(path).start(venue).close()
    with pytest.raises(InvalidValueError) as refused:
        simulation_journal(JournalSettings(), str(path))
    assert refused.value.field == "--journal"
    assert str(refused.value).startswith(f"--journal: holds {venue} trading, and a simulation")


def test_an_older_start_note_may_be_paper(tmp_path: Path) -> None:
    """A start note with no venue (an older Hydra) is refused too: it may be paper."""
    paper = PaperJournal(tmp_path / "j.sqlite")
    paper.note("engine_started", broker="IBBroker")
    paper.close()
    assert real_venues(paper.path) == ["unrecorded"]


def test_simulations_missing_files_and_foreign_files_are_not_refused(tmp_path: Path) -> None:
    """A sim or rehearsal journal, no file, and a file that is no journal (opening it will
    say so) are no paper run to protect."""
    PaperJournal(tmp_path / "sim.sqlite").start("sim").close()
    PaperJournal(tmp_path / "rehearsal.sqlite").start("rehearsal").close()
    (tmp_path / "text.sqlite").write_text("not a journal")
    for name in ("sim.sqlite", "rehearsal.sqlite", "missing.sqlite", "text.sqlite"):
        assert real_venues(tmp_path / name) == []


def _config(tmp_path: Path, journal: Path) -> Path:
    config = tmp_path / "hydra.toml"
    config.write_text(f'[journal]\npath = "{journal}"\n[runner]\ninbox = "{tmp_path / "in"}"\n'
                      '[shutdown]\ndrain_timeout = 0.5\n[logging]\nformat = "json"\n')
    return config


def test_run_sim_with_the_paper_config_writes_its_own_journal(tmp_path: Path) -> None:
    """``hydra run --sim --config`` (the plan's rehearsal) journals to ``*.sim.sqlite`` with
    venue sim, and its audit log beside it; the paper journal's file is never made."""
    paper = tmp_path / "paper.sqlite"
    sim = tmp_path / "paper.sim.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-m", "hydra", "run", "--sim", "--config", str(_config(tmp_path, paper))],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (sim.exists() and _started(sim)):
            assert process.poll() is None and time.monotonic() < deadline, "never started"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert not paper.exists() and (tmp_path / "paper.sim.audit.jsonl").exists()
    (start,) = [r for r in read_journal(sim) if r.payload.get("what") == "engine_started"]
    assert start.payload["venue"] == "sim"


def _started(path: Path) -> bool:
    try:
        return any(r.payload.get("what") == "model_version" for r in read_journal(path))
    except InvalidValueError:  # created, not yet set up
        return False


def test_run_sim_refuses_a_paper_journal_in_one_line(tmp_path: Path) -> None:
    """``--journal`` naming the paper journal is refused for ``--sim`` in one line (exit 2),
    before anything connects, and the journal is left as it was."""
    paper = tmp_path / "paper.sqlite"
    PaperJournal(paper).start("paper").close()
    before = len(read_journal(paper))
    result = subprocess.run(
        [sys.executable, "-m", "hydra", "run", "--sim", "--config", str(_config(tmp_path, paper)),
         "--journal", str(paper)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (
        "hydra run --sim: --journal: holds paper trading, and a simulation never writes into "
        "it (leave --journal out for the simulation's own journal, or name a new file), got "
        f"{str(paper)!r}\n")
    assert len(read_journal(paper)) == before


@pytest.mark.parametrize("venue", [None, "sim", "paper", "live"])
async def test_only_a_rehearsal_may_open_its_journal_not_synced_at_every_commit(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, venue: str | None,
) -> None:
    """``open_hydra(durable=False)`` is the rehearsal's: for any other venue (the one
    ``hydra run`` records, or the broker's own when none is given) it is one error naming
    ``durable``, before the journal or its audit log is touched."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        with pytest.raises(InvalidValueError, match=r"^durable: .*for venue 'rehearsal' only"):
            async with open_engine(exchange, path, venue=venue, durable=False):
                pass  # never reached
        assert not os.listdir(tmp_path)
        async with open_engine(exchange, path, venue="rehearsal", durable=False) as engine:
            assert engine.statistics().fills == 0
    (start,) = [r for r in read_journal(path) if r.is_note(NoteKind.ENGINE_STARTED)]
    assert (start.payload["venue"], start.payload["durable"]) == ("rehearsal", False)
