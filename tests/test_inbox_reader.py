"""The inbox file read line by line, across appends, rewrites, rotation and restarts."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from hydra import InvalidValueError
from hydra._inbox_reader import InboxLine, InboxReader


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


def test_a_file_emptied_and_written_again_is_a_new_generation(tmp_path: Path) -> None:
    """Truncated and rewritten (even with the same first line), the file is read from its
    first line again as generation 1, and the reader says so."""
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("a\nb\n")
    reader = InboxReader(inbox)
    assert _texts(reader.read_lines()) == [(1, "a"), (2, "b")]
    inbox.write_text("a\n")
    with capture_logs() as logs:
        assert _texts(reader.read_lines()) == [(1, "a")]
    assert reader.generation == 1
    assert [(e["event"], e["generation"]) for e in logs] == [("inbox_replaced", 1)]


def test_a_rotated_file_is_a_new_generation(tmp_path: Path) -> None:
    """The day's file moved away and a new one written under the name: generation 1."""
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("a\nb\n")
    reader = InboxReader(inbox)
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


def test_a_state_file_of_an_earlier_run_reads_back(tmp_path: Path) -> None:
    """A state file as the reader wrote it before the converter wrote it (the same keys and
    forms) gives the same generation, and is written again in that form."""
    inbox, state = tmp_path / "inbox.jsonl", tmp_path / "journal.sqlite.inbox"
    written = f'{{"generation": 2, "read": 0, "digest": "{_DIGEST}"}}'
    state.write_text(written)
    reader = InboxReader(inbox, state=state)
    assert reader.generation == 2
    inbox.write_text("a\n")
    assert _texts(reader.read_lines()) == [(1, "a")]
    digest = hashlib.sha256(b"a\n").hexdigest()
    assert state.read_text() == f'{{"generation": 2, "read": 2, "digest": "{digest}"}}'
