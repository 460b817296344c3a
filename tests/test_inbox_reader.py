"""The inbox file read line by line, across appends, rewrites, rotation and restarts."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
import trio
import trio.lowlevel
import trio.testing
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule
from structlog.testing import capture_logs

from hydra import InvalidValueError, run_in_thread, run_inline
from hydra._core._instants import LATEST
from hydra._inbox_reader import (
    COARSE_SETTLE_NS,
    SETTLE_NS,
    InboxLine,
    InboxReader,
    OffloadedReader,
    ReaderStatistics,
    Stamp,
)
from tests.test_durable_replace import steps, traced

T = TypeVar("T")


def _texts(lines: list[InboxLine]) -> list[tuple[int, str]]:
    return [(line.number, line.text) for line in lines]


def test_each_complete_line_is_read_once_with_its_number(tmp_path: Path) -> None:
    """Appended lines come once, numbered from 1 (blank lines count, and are skipped); a line
    still being written waits for its newline."""
    inbox = tmp_path / "inbox.jsonl"
    reader = InboxReader(inbox)
    assert reader.read_lines() == []
    inbox.write_text("a\n\nb\nc")
    assert _texts(reader.read_lines()) == [(1, "a"), (3, "b")]
    assert reader.read_lines() == []
    with inbox.open("a") as file:
        file.write("d\ne\n")
    assert _texts(reader.read_lines()) == [(4, "cd"), (5, "e")]
    assert reader.generation == 0


def test_a_restart_between_the_writes_of_a_rewrite_decides_nothing(tmp_path: Path) -> None:
    """The run before read "a\nb\n"; the next run starts while a writer rewriting it whole
    has written "a\n" of it, 1 ms ago (or "a\nb", the next line begun): nothing is decided
    until the rewrite's last write, which makes it the same file grown. A shorter file whose
    lines begin differently is a new generation at once."""
    inbox, state = tmp_path / "inbox.jsonl", tmp_path / "journal.sqlite.inbox"
    inbox.write_text("a\nb\n")
    InboxReader(inbox, state=state, clock=_settled).read_lines()
    inbox.write_text("a\n")
    settled_by = {"ns": 10**6}
    again = InboxReader(inbox, state=state,
                        clock=lambda: os.stat(inbox).st_ctime_ns + settled_by["ns"])
    assert (again.read_lines(), again.generation) == ([], 0)
    inbox.write_text("a\nb")
    assert (again.read_lines(), again.generation) == ([], 0)
    inbox.write_text("a\nb\nc\n")  # the rewrite's last write: the same file, grown
    assert ([(line.text, line.reread) for line in again.read_lines()], again.generation) == (
        [("a", True), ("b", True), ("c", False)], 0)
    inbox.write_text("a\nx\n")
    other = InboxReader(inbox, state=state,
                        clock=lambda: os.stat(inbox).st_ctime_ns + settled_by["ns"])
    assert (_texts(other.read_lines()), other.generation) == ([(1, "a"), (2, "x")], 1)

def _settled() -> int:
    """The filesystem's clock of a read that comes after any tick of it has passed."""
    return time.time_ns() + COARSE_SETTLE_NS + 1


def test_a_file_emptied_and_written_again_is_a_new_generation(tmp_path: Path) -> None:
    """Truncated and rewritten (even with the same first line), the file is read from its
    first line again as generation 1, and the reader says so."""
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("a\nb\n")
    reader = InboxReader(inbox, clock=_settled)
    assert _texts(reader.read_lines()) == [(1, "a"), (2, "b")]
    inbox.write_text("a\n")
    with capture_logs() as logs:
        assert _texts(reader.read_lines()) == [(1, "a")]
    assert reader.generation == 1
    assert [(e["event"], e["generation"]) for e in logs] == [("inbox_replaced", 1)]


def test_a_shorter_file_read_within_its_tick_decides_nothing(tmp_path: Path) -> None:
    """Found shorter within a tick of its change, holding the beginning of what was read (a
    whole rewrite may be between its truncation and its write), the file is neither a new
    generation nor any lines; a later poll that finds it so, and settled, reads it as
    generation 1. One that begins differently is a new generation at once."""
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("a\nb\n")
    settled_by = {"ns": SETTLE_NS + 1}
    reader = InboxReader(inbox, clock=lambda: os.stat(inbox).st_ctime_ns + settled_by["ns"])
    reader.read_lines()
    inbox.write_text("a\n")
    settled_by["ns"] = SETTLE_NS
    with capture_logs() as logs:
        assert (reader.read_lines(), reader.generation, logs) == ([], 0, [])
    settled_by["ns"] = SETTLE_NS + 1
    assert (_texts(reader.read_lines()), reader.generation) == ([(1, "a")], 1)
    with inbox.open("a") as file:
        file.write("b\n")
    assert _texts(reader.read_lines()) == [(2, "b")]
    inbox.write_text("x\n")  # shorter than "a\nb\n", and not its beginning
    settled_by["ns"] = SETTLE_NS
    assert (_texts(reader.read_lines()), reader.generation) == ([(1, "x")], 2)


def test_a_rotated_file_is_a_new_generation(tmp_path: Path) -> None:
    """The day's file moved away and a new one written under the name: generation 1."""
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("a\nb\n")
    reader = InboxReader(inbox, clock=_settled)
    reader.read_lines()
    inbox.rename(tmp_path / "inbox-yesterday.jsonl")
    assert reader.read_lines() == []
    inbox.write_text("x\n")
    assert _texts(reader.read_lines()) == [(1, "x")]
    assert reader.generation == 1


def test_an_editor_save_that_appends_is_the_same_file(tmp_path: Path) -> None:
    """An editor replaces the file (a new inode) with the old text plus a line: only the new
    line is read, in the same generation."""
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("a\n")
    reader = InboxReader(inbox)
    reader.read_lines()
    saved = tmp_path / "inbox.jsonl.swp"
    saved.write_text("a\nb\n")
    saved.replace(inbox)
    assert _texts(reader.read_lines()) == [(2, "b")]
    assert reader.generation == 0


def test_a_restart_rereads_the_same_file_and_knows_a_rewritten_one(tmp_path: Path) -> None:
    """With a state file, a restart reads the same file as the same generation, marking the
    lines the last run read; a file rewritten while Hydra was stopped is a new generation."""
    inbox, state = tmp_path / "inbox.jsonl", tmp_path / "journal.sqlite.inbox"
    inbox.write_text("a\nb\n")
    InboxReader(inbox, state=state).read_lines()
    with inbox.open("a") as file:
        file.write("c\n")
    again = InboxReader(inbox, state=state)
    assert [(line.text, line.reread) for line in again.read_lines()] == [
        ("a", True), ("b", True), ("c", False)]
    assert again.generation == 0
    inbox.write_text("a\nb\nd\n")  # rewritten while stopped: line 3 differs
    rewritten = InboxReader(inbox, state=state)
    assert [(line.text, line.reread) for line in rewritten.read_lines()] == [
        ("a", False), ("b", False), ("d", False)]
    assert rewritten.generation == 1
    assert InboxReader(inbox, state=state).generation == 1


_DIGEST = hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("text", [
    "{not json",
    "[]",
    '{"generation": 1, "read": 0}',
    f'{{"generation": 1, "read": 0, "digest": "{_DIGEST}", "extra": 1}}',
    f'{{"generation": "1", "read": 0, "digest": "{_DIGEST}"}}',
    f'{{"generation": true, "read": 0, "digest": "{_DIGEST}"}}',
    f'{{"generation": -1, "read": 0, "digest": "{_DIGEST}"}}',
    '{"generation": 1, "read": 0, "digest": 7}',
])
def test_a_state_file_that_cannot_be_read_refuses_the_start(tmp_path: Path, text: str) -> None:
    """A damaged state file (not JSON, not an object, a key missing or unknown, a value of
    the wrong type or below zero) is an error naming it: guessing the generation could work
    old lines again."""
    state = tmp_path / "journal.sqlite.inbox"
    state.write_text(text)
    with pytest.raises(InvalidValueError) as caught:
        InboxReader(tmp_path / "inbox.jsonl", state=state)
    assert caught.value.field == "inbox state" and caught.value.value == str(state)


def test_the_state_file_is_replaced_whole(tmp_path: Path) -> None:
    """The state is written to a new file and renamed over the old one: no temporary file is
    left behind."""
    inbox, state = tmp_path / "inbox.jsonl", tmp_path / "journal.sqlite.inbox"
    inbox.write_text("a\n")
    InboxReader(inbox, state=state).read_lines()
    assert sorted(os.listdir(tmp_path)) == ["inbox.jsonl", "journal.sqlite.inbox"]


def test_a_state_file_that_cannot_be_written_is_logged_and_reading_goes_on(
    tmp_path: Path,
) -> None:
    """Where the state cannot be saved (its folder is gone, the disk is full) the reader logs
    it and still returns the new lines."""
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("a\n")
    reader = InboxReader(inbox, state=tmp_path / "gone" / "journal.sqlite.inbox")
    with capture_logs() as logs:
        assert _texts(reader.read_lines()) == [(1, "a")]
    assert [e["event"] for e in logs] == ["inbox_state_not_saved"]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


READ_AT = dt.datetime(2026, 12, 1, 14, 0, tzinfo=dt.UTC)


def _at(seconds: float) -> Callable[[], dt.datetime]:
    return lambda: READ_AT + dt.timedelta(seconds=seconds)


def test_a_state_file_of_an_earlier_run_reads_back(tmp_path: Path) -> None:
    """A state file as the reader wrote it before the converter wrote it (the same keys and
    forms) gives the same generation, and is written again in that form, with the deadlines
    of the lines read since (its own lines, read again, get new ones: it kept none)."""
    inbox, state = tmp_path / "inbox.jsonl", tmp_path / "journal.sqlite.inbox"
    inbox.write_text("a\n")
    read, grown = _digest(b"a\n"), _digest(b"a\nb\n")
    prefixes = [_digest(b"a\n")[:8], _digest(b"a\nb\n")[:8]]
    state.write_text(f'{{"generation": 2, "read": 2, "digest": "{read}"}}')
    reader = InboxReader(inbox, state=state, now=_at(0), wait=300)
    assert reader.generation == 2
    with inbox.open("a") as file:
        file.write("b\n")
    assert [(line.text, line.reread, line.deadline) for line in reader.read_lines()] == [
        ("a", True, _at(300)()), ("b", False, _at(300)())]
    assert state.read_text() == (
        f'{{"generation": 2, "read": 4, "digest": "{grown}", "deadlines": [{{"lines": [1, 2], '
        f'"deadline": "2026-12-01T14:05:00+00:00"}}], '
        f'"prefixes": ["{prefixes[0]}", "{prefixes[1]}"]}}')


def test_a_line_read_again_after_a_restart_keeps_the_deadline_it_was_first_read_with(
    tmp_path: Path,
) -> None:
    """Lines first read at 0 s get the deadline ``wait`` later (300 s); read again by the
    next run at 100 s they keep it, while a line new to that run gets 400 s."""
    inbox, state = tmp_path / "inbox.jsonl", tmp_path / "journal.sqlite.inbox"
    inbox.write_text("a\n\nb\n")
    first = InboxReader(inbox, state=state, now=_at(0), wait=300)
    assert [line.deadline for line in first.read_lines()] == [_at(300)()] * 2
    with inbox.open("a") as file:
        file.write("c\n")
    again = InboxReader(inbox, state=state, now=_at(100), wait=300)
    assert [(line.number, line.reread, line.deadline) for line in again.read_lines()] == [
        (1, True, _at(300)()), (3, True, _at(300)()), (4, False, _at(400)())]


def test_a_line_done_with_is_forgotten_and_read_again_gets_a_new_deadline(
    tmp_path: Path,
) -> None:
    """Lines read at 0 s, the first of them done with (handed to the engine): the state keeps
    only the second's deadline, and a run at 400 s gives the first a new one (700 s) while the
    second keeps its own, passed (300 s). Another generation's line numbers change nothing."""
    inbox, state = tmp_path / "inbox.jsonl", tmp_path / "journal.sqlite.inbox"
    inbox.write_text("a\nb\n")
    reader = InboxReader(inbox, state=state, now=_at(0), wait=300)
    reader.read_lines()
    reader.done(1, [2])
    reader.done(0, [1])
    assert json.loads(state.read_text())["deadlines"] == [
        {"lines": [2], "deadline": _at(300)().isoformat()}]
    again = InboxReader(inbox, state=state, now=_at(400), wait=300)
    assert [(line.text, line.deadline) for line in again.read_lines()] == [
        ("a", _at(700)()), ("b", _at(300)())]


def test_a_settled_unchanged_file_is_polled_without_a_read(tmp_path: Path) -> None:
    """Once a read came well after the file's last change, polls of the unchanged file only
    stat it; an append is read at the next poll."""
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("a\n")
    later = inbox.stat().st_ctime_ns + SETTLE_NS + 1  # the read comes after the file settled
    reader = InboxReader(inbox, clock=lambda: later)
    assert _texts(reader.read_lines()) == [(1, "a")]
    assert reader.read_lines() == reader.read_lines() == []
    assert reader.statistics() == ReaderStatistics(polls=3, reads=1)
    with inbox.open("a") as file:
        file.write("b\n")
    assert _texts(reader.read_lines()) == [(2, "b")]
    assert reader.statistics() == ReaderStatistics(polls=4, reads=2)


def test_a_same_size_rewrite_in_the_tick_of_the_read_is_seen(tmp_path: Path) -> None:
    """Read in the same tick as the file's last change, the reader trusts no stamp: the file
    rewritten in place with as many bytes and its modification time put back is read at the
    next poll, a new generation; until the file settles every poll reads it."""
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("a\n")
    same_tick = inbox.stat().st_ctime_ns  # the clock has not moved on from the write
    reader = InboxReader(inbox, clock=lambda: same_tick)
    assert _texts(reader.read_lines()) == [(1, "a")]
    before = inbox.stat()
    with inbox.open("r+b") as file:
        file.write(b"b\n")
    os.utime(inbox, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (inbox.stat().st_size, inbox.stat().st_mtime_ns) == (before.st_size,
                                                                before.st_mtime_ns)
    assert _texts(reader.read_lines()) == [(1, "b")]
    assert reader.generation == 1
    assert reader.read_lines() == []
    assert reader.statistics() == ReaderStatistics(polls=3, reads=3)


def test_a_file_replaced_by_a_rename_after_it_settled_is_read(tmp_path: Path) -> None:
    """A settled file replaced by a rename of a file of the same size and times is another
    inode: read at the next poll, a new generation."""
    inbox, other = tmp_path / "inbox.jsonl", tmp_path / "next.jsonl"
    inbox.write_text("a\n")
    other.write_text("b\n")
    status = inbox.stat()
    os.utime(other, ns=(status.st_atime_ns, status.st_mtime_ns))
    later = max(inbox.stat().st_ctime_ns, other.stat().st_ctime_ns) + SETTLE_NS + 1
    reader = InboxReader(inbox, clock=lambda: later)
    reader.read_lines()
    other.replace(inbox)
    assert _texts(reader.read_lines()) == [(1, "b")]
    assert reader.generation == 1


@pytest.mark.parametrize(("changed_ns", "read_ns", "settled"), [
    (1_000_000_123, 1_000_000_123 + SETTLE_NS + 1, True),
    (1_000_000_123, 1_000_000_123 + SETTLE_NS, False),  # within a tick: a write may follow
    (1_000_000_123, 1_000_000_000, False),  # stamped after the reader's clock (skew)
    (5_000_000_000, 5_000_000_000 + SETTLE_NS + 1, False),  # whole seconds: a coarse clock
    (5_000_000_000, 5_000_000_000 + COARSE_SETTLE_NS + 1, True),
])
def test_a_stamp_proves_nothing_until_its_filesystem_tick_has_passed(
    changed_ns: int, read_ns: int, settled: bool,
) -> None:
    """A stamp is trusted only from a read more than a tick of the filesystem's clock after
    the file's last change: 20 ms where the stamps are finer than a millisecond, 2 s where
    they are whole milliseconds or coarser."""
    stamp = Stamp(device=1, inode=2, size=3, modified_ns=changed_ns, changed_ns=changed_ns)
    assert stamp.settled_at(read_ns) is settled


class FullReread:
    """The inbox as a reader that reads the whole file at every poll takes it (the reader's
    behaviour before it trusted stamps): lines as (number, text, reread)."""

    def __init__(self) -> None:
        self.generation = 0
        self.seen = b""  # every byte read of this generation, an unfinished line too
        self.fresh = True  # nothing read by this run yet (a restart reads from line 1)
        self.reread = 0  # bytes the run before this one read
        self.number = 0

    def poll(self, data: bytes | None, *, settled: bool) -> list[tuple[int, str, bool]]:
        """The lines of ``data`` (None: no file), read ``settled`` (after the file's tick)."""
        if data is None or (not settled and self.may_be_rewriting(data)):
            return []
        if not data.startswith(self.seen):
            self.generation += 1
            self.seen, self.fresh, self.reread, self.number = b"", True, 0, 0
        if not self.fresh and len(data) == len(self.seen):
            return []
        start = 0 if self.fresh else self.seen.rfind(b"\n") + 1
        self.seen, self.fresh = data, False
        lines = []
        for raw in data[start:].split(b"\n")[:-1]:
            self.number += 1
            start += len(raw) + 1
            if raw.strip():
                lines.append((self.number, raw.decode("utf-8", "replace"), start <= self.reread))
        return lines

    def may_be_rewriting(self, data: bytes) -> bool:
        """Shorter than what was read and its beginning (after a restart, its complete lines
        are: the reader keeps their digests, not the bytes)."""
        shorter = len(data) < len(self.seen)
        known = data[:data.rfind(b"\n") + 1] if self.fresh else data
        return shorter and self.seen.startswith(known)

    def restart(self) -> None:
        self.fresh, self.reread, self.number = True, len(self.seen), 0


_LINES = st.lists(st.text(alphabet="ab {}", max_size=4), max_size=3)


class InboxFile(RuleBasedStateMachine):
    """The reader that trusts stamps against `FullReread`, on a real file written as traders
    and editors write it; after the file settled, unchanged polls read nothing.

    The one real wait (`settle`) waits for the filesystem's clock to pass a tick, a condition
    the reader depends on, never a budget a slow machine can miss."""

    @initialize()
    def start(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.inbox = Path(self.folder.name) / "inbox.jsonl"
        self.state = Path(self.folder.name) / "journal.sqlite.inbox"
        self.now_ns = time.time_ns()  # the filesystem's clock as the reader reads it
        self.reader = InboxReader(self.inbox, state=self.state, clock=lambda: self.now_ns)
        self.model = FullReread()
        self.quiet = False  # the file settled and was read since it last changed

    def teardown(self) -> None:
        folder = getattr(self, "folder", None)
        if folder is not None:
            folder.cleanup()

    def _changed(self) -> None:
        self.quiet = False

    @rule(lines=_LINES)
    def append_lines(self, lines: list[str]) -> None:
        with self.inbox.open("a") as file:
            file.write("".join(f"{line}\n" for line in lines))
        self._changed()

    @rule(text=st.text(alphabet="ab{", min_size=1, max_size=3))
    def append_partial_line(self, text: str) -> None:
        """Part of a line, its newline still to come (an `append_lines` finishes it)."""
        with self.inbox.open("a") as file:
            file.write(text)
        self._changed()

    @rule(lines=_LINES)
    def truncate_and_rewrite(self, lines: list[str]) -> None:
        self.inbox.write_text("".join(f"{line}\n" for line in lines))
        self._changed()

    @rule(lines=_LINES)
    def replace_by_rename(self, lines: list[str]) -> None:
        saved = self.inbox.with_name("inbox.jsonl.swp")
        saved.write_text("".join(f"{line}\n" for line in lines))
        saved.replace(self.inbox)
        self._changed()

    @precondition(lambda self: self.inbox.exists() and self.inbox.stat().st_size > 0)
    @rule(at=st.integers(min_value=0, max_value=100))
    def rewrite_same_size_and_mtime(self, at: int) -> None:
        """One byte changed in place, the size kept and the modification time put back."""
        before = self.inbox.stat()
        data = bytearray(self.inbox.read_bytes())
        at %= len(data)
        data[at] = ord("a") if data[at] != ord("a") else ord("b")
        with self.inbox.open("r+b") as file:
            file.write(data)
        os.utime(self.inbox, ns=(before.st_atime_ns, before.st_mtime_ns))
        self._changed()

    @rule()
    def remove(self) -> None:
        self.inbox.unlink(missing_ok=True)
        self._changed()

    @rule()
    def restart(self) -> None:
        self.reader = InboxReader(self.inbox, state=self.state, clock=lambda: self.now_ns)
        self.model.restart()
        self._changed()  # a new reader has read nothing yet

    @rule()
    def poll(self) -> None:
        reads = self.reader.statistics().reads
        self._compare()
        if self.quiet:
            assert self.reader.statistics().reads == reads, "a settled file was read again"

    @precondition(lambda self: self.inbox.exists())
    @rule()
    def settle(self) -> None:
        """Wait out a tick of the filesystem's clock, then poll: the file has settled."""
        while not Stamp.of(self.inbox.stat()).settled_at(time.time_ns()):
            time.sleep(SETTLE_NS / 1e9)
        self._compare()
        self.quiet = True

    def _compare(self) -> None:
        self.now_ns = time.time_ns()
        try:
            data: bytes | None = self.inbox.read_bytes()
            settled = Stamp.of(self.inbox.stat()).settled_at(self.now_ns)
        except FileNotFoundError:
            data, settled = None, False
        taken = [(line.number, line.text, line.reread) for line in self.reader.read_lines()]
        assert taken == self.model.poll(data, settled=settled)
        assert self.reader.generation == self.model.generation


InboxFile.TestCase.settings = settings(max_examples=40, stateful_step_count=30)
test_the_reader_takes_what_a_full_reread_takes = InboxFile.TestCase


def test_lines_read_with_one_deadline_for_ever_are_kept_as_one(tmp_path: Path) -> None:
    """Waiting for ever, every line gets the last instant a datetime holds; the state keeps
    the lines read at three polls as one entry."""
    inbox, state = tmp_path / "inbox.jsonl", tmp_path / "journal.sqlite.inbox"
    reader = InboxReader(inbox, state=state, now=_at(0), wait=1e12)
    for text in ["a\n", "b\n\n", "c\n"]:
        with inbox.open("a") as file:
            file.write(text)
        assert [line.deadline for line in reader.read_lines()] == [LATEST]
    assert json.loads(state.read_text())["deadlines"] == [
        {"lines": [1, 2, 4], "deadline": LATEST.isoformat()}]

READER = ("import datetime as dt, sys; from pathlib import Path; "
          "from hydra._inbox_reader import InboxReader; "
          "at = dt.datetime.fromisoformat(sys.argv[3]); "
          "InboxReader(Path(sys.argv[1]), state=Path(sys.argv[2]), now=lambda: at, "
          "wait=300).read_lines()")


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
@pytest.mark.parametrize(("inject", "code", "deadline"), [
    (None, 0, _at(300)()),
    ("rename,renameat,renameat2:signal=KILL:when=1", -signal.SIGKILL, None),
    ("fsync:signal=KILL:when=2", -signal.SIGKILL, _at(300)()),
], ids=["not killed", "killed at the rename", "killed at the folder's flush"])
def test_a_reader_killed_while_saving_leaves_its_line_one_deadline(
    tmp_path: Path, inject: str | None, code: int, deadline: dt.datetime | None,
) -> None:
    """A reader in a real process reads a line at 0 s and saves its state, the new state
    flushed to the disk before its rename and the rename flushed after. Killed before the
    rename, it leaves the state before the read (it never handed the line on): the next run,
    at 100 s, reads the line as new, with the deadline 400 s. Killed after it, the next run
    reads the line again, with the deadline it was first read with, 300 s."""
    inbox, state = tmp_path / "inbox.jsonl", tmp_path / "journal.sqlite.inbox"
    inbox.write_text("a\n")
    run = [sys.executable, "-B", "-c", READER, str(inbox), str(state), _at(0)().isoformat()]
    assert traced(run, tmp_path / "trace", inject=inject) == code
    if inject is None:
        assert steps(tmp_path / "trace", tmp_path) == [
            "write journal.sqlite.inbox.new", "fsync journal.sqlite.inbox.new",
            "rename journal.sqlite.inbox.new journal.sqlite.inbox", "fsync ."]
    again = InboxReader(inbox, state=state, now=_at(100), wait=300)
    assert [(line.reread, line.deadline) for line in again.read_lines()] == [
        (True, deadline) if deadline else (False, _at(400)())]


async def test_offloaded_calls_save_one_at_a_time_in_the_order_they_were_made(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Six lines read, then each told done by a task of its own, the first on the slowest
    disk (its save takes 6 s, the last's 1 s): the saves run one after another, in the order
    the calls were made, each leaving the state its call made (the line's deadline gone), so
    the state file only loses deadlines, and ends with none, at 1 + 6 + 5 + ... + 1 = 22 s."""
    inbox, state = tmp_path / "inbox.jsonl", tmp_path / "journal.sqlite.inbox"
    inbox.write_text("".join(f"{n}\n" for n in range(1, 7)))
    delays, running, kept = [1.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0], [0], []

    async def disk(call: Callable[[], T]) -> T:  # a save that takes the delay its turn has
        running[0] += 1
        assert running[0] == 1, "two saves at once"
        await trio.sleep(delays.pop(0))
        result = call()
        kept.append([n for p in json.loads(state.read_text())["deadlines"] for n in p["lines"]])
        running[0] -= 1
        return result

    reader = OffloadedReader(InboxReader(inbox, state=state, now=_at(0), wait=300), disk)
    lines, generation = await reader.read_lines()
    assert ([line.number for line in lines], generation, trio.current_time()) == (
        [1, 2, 3, 4, 5, 6], 0, 1.0)
    async with trio.open_nursery() as nursery:
        for line in lines:
            nursery.start_soon(reader.done, generation, [line.number])
            await trio.lowlevel.checkpoint()  # the calls are made in the order of the lines
    assert trio.current_time() == 22.0
    assert kept == [[1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6], [3, 4, 5, 6], [4, 5, 6], [5, 6], [6], []]


async def test_run_in_thread_reads_and_saves_off_trios_thread(tmp_path: Path) -> None:
    """Through `run_in_thread` (``hydra run``'s), the read and its save run in a worker
    thread; inline (a virtual clock's), on Trio's."""
    inbox, state = tmp_path / "inbox.jsonl", tmp_path / "journal.sqlite.inbox"
    inbox.write_text("a\n")
    threads = []

    def clock() -> int:  # the reader asks it at each read
        threads.append(threading.get_ident())
        return time.time_ns()

    for offload in (run_in_thread, run_inline):
        reader = OffloadedReader(InboxReader(inbox, state=state, clock=clock), offload)
        lines, _ = await reader.read_lines()
        assert [line.text for line in lines] == ["a"]
        await reader.done(0, [1])
    assert [t == threading.get_ident() for t in threads] == [False, True]
    assert json.loads(state.read_text())["deadlines"] == []
