"""Attacks on the inbox of a real ``hydra run --sim`` process (`hydra._inbox_reader`,
`hydra._inbox`): what is at the inbox's path, and how it is written, never hangs or ends the
run, and each good line is worked exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hydra._ids import IntentId
from hydra._journal import Journal
from hydra._journal_schema import connect_read_only

GOOD = '{{"symbol": "ZO", "side": "{side}", "quantity": 1, "policy": "cross", "intent_id": "{id}"}}'


def _line(intent_id: str, side: str = "BUY") -> str:
    return GOOD.format(side=side, id=intent_id) + "\n"


class Run:
    """A ``hydra run --sim`` child whose inbox is ``inbox`` (made by the test), its JSON log
    (standard error) in a file."""

    def __init__(self, tmp_path: Path, inbox: Path, *, risk: str = "", runner: str = "") -> None:
        self.journal, self.inbox, self.log = (tmp_path / "journal.sqlite", inbox,
                                              tmp_path / "stderr.log")
        config = tmp_path / "hydra.toml"
        config.write_text(f'[execution]\npatience = 1.0\n[journal]\npath = "{self.journal}"\n'
                          f'[runner]\ninbox = "{inbox}"\n{runner}\n[logging]\nformat = "json"\n'
                          f'{risk}')
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hydra", "run", "--sim", "--sim-hours", "none",
                 "--journal", str(self.journal), "--config", str(config)],
                stdout=subprocess.DEVNULL, stderr=log, text=True)

    def wait_for(self, condition: Callable[[], bool], what: str, *, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            assert self.process.poll() is None, f"exited before {what}: {self.log.read_text()}"
            assert time.monotonic() < deadline, (
                f"no {what} in {seconds} s ({self.cpu_seconds():.1f} s of CPU used by the run):"
                f" {self.log.read_text()[-20_000:]}")
            time.sleep(0.1)

    def cpu_seconds(self) -> float:
        """The CPU time the run has used (user and system, Linux's /proc): a slow run that
        used little CPU waited on something; one that used much was starved or busy."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def logged(self, event: str) -> list[dict[str, Any]]:
        lines = (line for line in self.log.read_text().splitlines() if line.startswith("{"))
        return [entry for entry in map(json.loads, lines) if entry.get("event") == event]

    def intents(self) -> list[str]:
        """The ids of the intents journaled, in order (one record each). Only the intent rows
        are read: polled ten times a second while the run journals thousands of events, a
        read of every payload would take a core from the run it waits for."""
        if not self.journal.exists() or not self.journal.stat().st_size:
            return []
        db = connect_read_only(self.journal)
        try:
            return [row[0] for row in db.execute(
                "SELECT intent_id FROM events WHERE kind = 'intent' ORDER BY seq")]
        finally:
            db.close()

    def stop(self) -> int:
        """SIGINT, then the exit status (the run must stop within 60 s)."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.mark.parametrize("make", [os.mkfifo, os.mkdir], ids=["a FIFO", "a directory"])
def test_a_fifo_or_a_directory_at_the_inbox_path_neither_hangs_nor_ends_the_run(
    tmp_path: Path, make: Callable[[Path], None],
) -> None:
    """Nothing but a regular file is read: one inbox_unreadable warning, the run goes on,
    and once a file takes the path its line is worked; Ctrl-C stops the run cleanly."""
    inbox = tmp_path / "inbox.jsonl"
    make(inbox)
    run = Run(tmp_path, inbox)
    try:
        run.wait_for(lambda: bool(run.logged("inbox_unreadable")), "inbox_unreadable warning")
        time.sleep(2.5)  # two more polls: warned once, not at every poll
        assert len(run.logged("inbox_unreadable")) == 1
        (inbox.unlink if inbox.is_fifo() else inbox.rmdir)()
        inbox.write_text(_line("after"))
        run.wait_for(lambda: run.intents() == ["after"], "the intent written after")
        assert run.stop() == 0, run.log.read_text()
    finally:
        run.kill()


def test_partial_hostile_swapped_and_recreated_inboxes_work_each_good_line_once(
    tmp_path: Path,
) -> None:
    """A line written in two parts is worked once complete; a 10 MB line and one of invalid
    UTF-8 are refused by number; the inbox a symlink swapped to another file, then that file
    deleted and created again: each good line worked exactly once, none twice."""
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    inbox = tmp_path / "inbox.jsonl"
    head, tail = _line("split")[:20], _line("split")[20:]
    first.write_text(head)
    inbox.symlink_to(first)
    run = Run(tmp_path, inbox)
    try:
        run.wait_for(lambda: bool(run.logged("runner_started")), "the start")
        time.sleep(1.5)  # a poll sees the partial line
        assert run.intents() == []
        with first.open("a") as file:
            file.write(tail)
        run.wait_for(lambda: run.intents() == ["split"], "the completed line")
        with first.open("ab") as file:
            file.write(b'{"symbol": "ZO", "note": "' + b"x" * 10_000_000 + b'"}\n')
            file.write(b'{"symbol": "Z\xff\xfeO", "side": "BUY", "quantity": 1}\n')
            file.write(_line("after-bad").encode())
        run.wait_for(lambda: run.intents() == ["split", "after-bad"], "the line after them")
        assert [e["line"] for e in run.logged("inbox_line_refused")] == [2, 3]
        second.write_text(_line("split", side="SELL") + _line("swapped"))
        inbox.unlink()
        inbox.symlink_to(second)  # a new generation: "split" again is refused, by the journal
        run.wait_for(lambda: "swapped" in run.intents(), "the swapped file's line")
        second.unlink()
        time.sleep(1.5)
        second.write_text(_line("recreated", side="SELL"))
        run.wait_for(lambda: "recreated" in run.intents(), "the recreated file's line")
        time.sleep(2.5)
        assert run.intents() == ["split", "after-bad", "swapped", "recreated"]
        assert run.stop() == 0, run.log.read_text()
    finally:
        run.kill()


def test_a_thousand_lines_at_once_are_each_worked_once_within_the_pacing(
    tmp_path: Path,
) -> None:
    """1,000 lines written at once, the 500th with the id of the first: 999 intents, each
    journaled once, the repeated id refused; orders never faster than the pacing allows."""
    inbox = tmp_path / "inbox.jsonl"
    lines = [_line(f"n{k}", side="BUY" if k % 2 else "SELL") for k in range(1000)]
    lines[499] = _line("n0")
    inbox.write_text("".join(lines))
    run = Run(tmp_path, inbox, risk="[risk]\nmax_orders_per_minute = 600\nmax_position = 5\n")
    try:
        run.wait_for(lambda: len(run.intents()) == 999, "999 intents", seconds=300)
        time.sleep(2)
        ids = run.intents()
        assert len(ids) == len(set(ids)) == 999
        assert [e["line"] for e in run.logged("inbox_line_refused")] == [500]
        assert run.stop() == 0, run.log.read_text()
    finally:
        run.kill()
    journal = Journal.open_read_only(run.journal)
    try:
        sent = sorted(at for intent_id in ids
                      for _, at in journal.intent_orders(IntentId(intent_id)))
    finally:
        journal.close()
    for earlier, later in zip(sent, sent[600:], strict=False):  # at most 600 a minute
        assert (later - earlier).total_seconds() >= 60
