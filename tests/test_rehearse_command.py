"""``hydra rehearse``: its refusals (in this process) and a real process interrupted mid-way.
The four weeks themselves are the bench's (bench/rehearse.py): a minute is too long here."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hydra._enums import NoteKind
from hydra._journal_records import read_journal
from hydra.cli import _rehearse_command, main
from tests.paper_journal import PaperJournal


def _refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["rehearse", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    return err.rstrip("\n")


def test_fewer_than_three_weeks_are_refused(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    """The drills need three weeks: ``--weeks 2`` is one line naming the option."""
    assert _refused(capsys, "--weeks", "2", "--journal", str(tmp_path / "r.sqlite")) == (
        "--weeks: must be a whole number of at least 3 (the drills fall in weeks 1 to 3), "
        "got 2")


def test_a_paper_journal_is_refused(capsys: pytest.CaptureFixture[str],
                                    tmp_path: Path) -> None:
    """A journal that traded paper is never a rehearsal's, and is left as it was."""
    path = tmp_path / "paper.sqlite"
    PaperJournal(path).start("paper").close()
    assert _refused(capsys, "--journal", str(path)) == (
        f"--journal: {str(path)!r} holds paper trading: a rehearsal never writes into it")
    assert len(read_journal(path)) == 1


def test_an_existing_journal_is_refused(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    """A rehearsal writes a new journal: an earlier rehearsal's is not extended."""
    path = tmp_path / "r.sqlite"
    PaperJournal(path).start("rehearsal").close()
    assert _refused(capsys, "--journal", str(path)) == (
        f"--journal: {str(path)!r} exists: a rehearsal writes a new journal (remove it, or "
        "name another file)")


def test_a_strategy_that_cannot_be_loaded_is_refused(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    """The configured hook is the rehearsal's: one that does not import is one line."""
    config = tmp_path / "hydra.toml"
    config.write_text('[runner]\nstrategy = "no_such_module:hook"\n')
    line = _refused(capsys, "--config", str(config), "--journal", str(tmp_path / "r.sqlite"))
    assert line.startswith("runner.strategy: cannot import no_such_module")
    assert not (tmp_path / "r.sqlite").exists()


def _closed_out(journal: Path) -> bool:
    """Every session of ``journal`` closed out: each ``engine_started`` followed by its
    ``engine_stopped`` (a healing cycle's notes may follow), and nothing unrecoverable."""
    notes = [r.payload["what"] for r in read_journal(journal) if r.kind.value == "note"
             if r.payload["what"] in ("engine_started", "engine_stopped", "unrecoverable_error")]
    return bool(notes) and notes == ["engine_started", "engine_stopped"] * (len(notes) // 2)


def _signalled(argv: list[str], *, cwd: Path,
               signals: tuple[tuple[signal.Signals, float], ...] = ((signal.SIGINT, 0.0),),
               ) -> tuple[str, str, list[bool]]:
    """``hydra rehearse`` with ``argv`` in a real process, sent each of ``signals`` (each
    followed by its wait, in seconds) as soon as it writes its first line on standard error:
    that line, the rest of standard error, and whether it still ran after each wait, once it
    has ended with exit status 130 and nothing on standard output."""
    process = subprocess.Popen([sys.executable, "-m", "hydra", "rehearse", *argv], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    running = []
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        for number, wait in signals:
            process.send_signal(number)
            time.sleep(wait)
            running.append(process.poll() is None)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert out == ""
    assert err.splitlines()[-1] == ("hydra rehearse: interrupted (the journal holds the days "
                                    "so far)")
    return first, err, running


def test_ctrl_c_stops_the_rehearsal_with_the_days_so_far_journaled(tmp_path: Path) -> None:
    """A real process prints a line per simulated day on standard error; Ctrl-C after the
    first ends it with one line (exit 130), the journal closed out with that day in it. With
    no --broker it went through the simulated gateway."""
    journal = tmp_path / "r.sqlite"
    first, _, _ = _signalled(["--journal", str(journal)], cwd=tmp_path)
    assert first.startswith("rehearse: day  1/20 Mon 2026-01-05 (week 1, baseline market): ")
    assert _closed_out(journal)  # the interrupted session too
    started = [r.payload for r in read_journal(journal)
               if r.kind.value == "note" and r.payload["what"] == "engine_started"]
    # by default through the simulated gateway and the IB client, as hydra run --sim trades
    assert {(p["broker"], p["address"].split(":")[0]) for p in started} == {
        ("IBBroker", "127.0.0.1")}
    assert {p["durable"] for p in started} == {False}  # synced at its checkpoints only


CARELESS_STRATEGY = '''
import sys, time

calls = 0

def hook(context):
    """A strategy that swallows every exception, even Ctrl-C, for a second on its first call."""
    global calls
    calls += 1
    if calls == 1:
        print("strategy: busy", file=sys.stderr, flush=True)
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            try:
                time.sleep(0.01)
            except BaseException:
                pass
    return {"ZO": 0}
'''


def test_ctrl_c_is_not_lost_in_a_strategy_that_swallows_it(tmp_path: Path) -> None:
    """Ctrl-C while the rehearsal's strategy runs (inline, as the rehearsal calls a plain
    function) stops the rehearsal, though the strategy catches every exception: the signal is
    not raised into whatever code the process is running (Trio's default), where a bare
    ``except`` or a finalizer could lose it and the rehearsal ran on to its end."""
    (tmp_path / "careless.py").write_text(CARELESS_STRATEGY)
    (tmp_path / "hydra.toml").write_text('[runner]\nstrategy = "careless:hook"\n')
    first, _, _ = _signalled(
        ["--journal", "r.sqlite", "--config", "hydra.toml", "--broker", "in-process",
         "--weeks", "3"], cwd=tmp_path)
    assert first == "strategy: busy\n"
    assert _closed_out(tmp_path / "r.sqlite")
    started = [r for r in read_journal(tmp_path / "r.sqlite") if r.is_note(NoteKind.ENGINE_STARTED)]
    assert len(started) == 1  # stopped on day 1


STUCK_STRATEGY = """
import sys, time

def hook(context):
    print("strategy: stuck", file=sys.stderr, flush=True)
    while True:  # never returns
        time.sleep(0.01)
"""


def test_a_second_ctrl_c_stops_a_rehearsal_whose_strategy_never_returns(
    tmp_path: Path,
) -> None:
    """A strategy that never returns holds the rehearsal (it runs in Trio's thread): the
    first Ctrl-C waits for it, the second raises in it and the rehearsal stops (exit 130),
    the session closed out."""
    (tmp_path / "stuck.py").write_text(STUCK_STRATEGY)
    (tmp_path / "hydra.toml").write_text('[runner]\nstrategy = "stuck:hook"\n')
    first, _, running = _signalled(
        ["--journal", "r.sqlite", "--config", "hydra.toml", "--broker", "in-process",
         "--weeks", "3"], cwd=tmp_path, signals=((signal.SIGINT, 1.0), (signal.SIGINT, 0.0)))
    assert first == "strategy: stuck\n"
    assert running[0]  # the first waited for the strategy
    assert _closed_out(tmp_path / "r.sqlite")


@pytest.mark.parametrize(("signals", "gap"), [
    ((signal.SIGINT, signal.SIGINT), 0.01),  # a double tap
    ((signal.SIGINT, signal.SIGINT), 0.2),  # again, impatient, while the session closes
    ((signal.SIGTERM,), 0.0),  # kill, as hydra run drains on it
    ((signal.SIGHUP, signal.SIGINT), 0.1),
], ids=["ctrl-c twice at once", "ctrl-c again while closing", "sigterm", "sighup, ctrl-c"])
def test_stop_signals_close_the_rehearsal_out_however_many_come(
    tmp_path: Path, signals: tuple[signal.Signals, ...], gap: float,
) -> None:
    """(The attacker's.) A second Ctrl-C used to be raised into the closing session, which
    then spun on the virtual clock for ever (6 times in 7), or ended with its session never
    closed out; SIGTERM killed the rehearsal with its session open. Now the first stop
    signal cancels, later ones change nothing, and the session is closed out (exit 130)."""
    first, _, _ = _signalled(
        ["--journal", "r.sqlite", "--broker", "in-process", "--weeks", "3"], cwd=tmp_path,
        signals=tuple((number, gap) for number in signals))
    assert first.startswith("rehearse: day  1/15")
    assert _closed_out(tmp_path / "r.sqlite")


def test_ctrl_c_during_the_report_after_the_last_day_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """(The attacker's.) Ctrl-C after the last day, while the gate report reads the journal
    (Trio is done: Python raises it there), used to end in a traceback (exit -2 in a real
    process); it is the interrupted line and exit 130."""

    async def no_days(rehearsal: object, days: object) -> list[object]:
        return []

    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(_rehearse_command, "rehearse", no_days)
    monkeypatch.setattr(_rehearse_command, "read_journal", lambda path: [])
    monkeypatch.setattr(_rehearse_command, "gate_report", interrupted)
    assert main(["rehearse", "--journal", str(tmp_path / "r.sqlite"), "--broker",
                 "in-process", "--weeks", "3"]) == 130
    assert capsys.readouterr().err == (
        "hydra rehearse: interrupted (the journal holds the days so far)\n")
