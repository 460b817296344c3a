import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hydra import JournalLockedError
from hydra._journal import Journal
from hydra._journal_lock import lock_path
from hydra._journal_records import read_journal
from tests.journal_process import JournalProcess


def test_a_second_writer_in_another_process_is_refused_naming_the_holder(
    tmp_path: Path,
) -> None:
    """While one process writes a journal, another's Journal.open is refused at once with one
    line naming the holder's pid and start time."""
    path = tmp_path / "j.sqlite"
    with JournalProcess(path) as holder:
        with pytest.raises(JournalLockedError) as info:
            Journal.open(path)
        assert info.value.pid == holder.pid
        assert info.value.started_at is not None
        message = str(info.value)
        assert "\n" not in message
        assert f"pid {holder.pid} since {info.value.started_at}" in message
        assert json.loads(lock_path(path).read_text())["pid"] == holder.pid
        assert holder.close() == 0
    Journal.open(path).close()  # a clean exit released it


def test_the_lock_is_released_when_its_holder_is_killed(tmp_path: Path) -> None:
    """A writer killed by SIGKILL leaves no stale lock: the next writer opens at once."""
    path = tmp_path / "j.sqlite"
    with JournalProcess(path, notes=3) as holder:
        holder.kill()
    journal = Journal.open(path)
    assert len(list(journal.events())) == 3
    journal.close()


def test_readers_work_while_a_writer_holds_the_journal_and_write_nothing(
    tmp_path: Path,
) -> None:
    """read_journal and Journal.open_read_only read a held journal without the lock, and
    leave the database file exactly as it was."""
    path = tmp_path / "j.sqlite"
    with JournalProcess(path, notes=2) as holder:
        before = path.read_bytes()
        assert [r.payload["number"] for r in read_journal(path)] == [0, 1]
        reader = Journal.open_read_only(path)
        assert len(list(reader.events())) == 2
        with pytest.raises(Exception, match="readonly"):
            reader.record_note("reconnected")
        reader.close()
        assert path.read_bytes() == before
        assert holder.close() == 0


@pytest.mark.parametrize("command", ["fill-report", "gate-check"])
def test_the_report_commands_run_while_hydra_writes_the_journal(
    tmp_path: Path, command: str
) -> None:
    """hydra fill-report and hydra gate-check read a journal that a running writer holds."""
    path = tmp_path / "j.sqlite"
    with JournalProcess(path, notes=1):
        result = subprocess.run(
            [sys.executable, "-m", "hydra", command, "--journal", str(path), "--json"],
            capture_output=True, text=True, timeout=60,
        )
    assert result.returncode in (0, 1), result.stderr  # gate-check fails an empty paper run
    assert json.loads(result.stdout)["journal"] == str(path)


def test_a_second_writer_in_the_same_process_is_refused_until_the_first_closes(
    tmp_path: Path,
) -> None:
    """The lock belongs to one Journal, not to the process: a second open is refused, and
    works once the first is closed."""
    path = tmp_path / "j.sqlite"
    first = Journal.open(path)
    with pytest.raises(JournalLockedError, match="one Hydra per journal"):
        Journal.open(path)
    first.close()
    first.close()  # closing twice is harmless
    Journal.open(path).close()


def test_a_dropped_journal_releases_its_lock(tmp_path: Path) -> None:
    """A Journal garbage-collected without close() lets the next writer in."""
    path = tmp_path / "j.sqlite"
    Journal.open(path).record_note("reconnected")
    gc.collect()
    journal = Journal.open(path)
    assert len(list(journal.events())) == 1
    journal.close()


def test_hydra_run_on_a_held_journal_says_who_holds_it(tmp_path: Path) -> None:
    """hydra run on a journal another process writes exits with one line naming the holder,
    and starts nothing."""
    path = tmp_path / "j.sqlite"
    config = tmp_path / "hydra.toml"
    config.write_text(f'[journal]\npath = "{path}"\n[runner]\ninbox = "{tmp_path / "in"}"\n')
    with JournalProcess(path) as holder:
        result = subprocess.run(
            [sys.executable, "-m", "hydra", "run", "--sim",
             "--sim-hours", "none", "--config", str(config), "--journal", str(path)],
            capture_output=True, text=True, timeout=60,
        )
        assert result.returncode != 0
        (line,) = [x for x in result.stderr.splitlines() if f"pid {holder.pid}" in x]
        assert "open for writing" in line
        assert holder.close() == 0
    assert [r.payload["what"] for r in read_journal(path)] == []  # no engine_started
