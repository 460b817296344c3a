"""The <journal>.id marker: a journal that lived at a path is remembered, and a missing, empty
or different one there is refused unless a new journal is asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from hydra._errors import JournalReplacedError
from hydra._ids import JournalId
from hydra._journal import Journal
from hydra._journal_marker import check_same_journal, marker_path, remember, remembered_id

ID = JournalId("j0123456789ab")


def test_a_new_journal_writes_its_marker(tmp_path: Path) -> None:
    """Journal.open remembers the journal's id beside it; reopening changes nothing."""
    path = tmp_path / "j.sqlite"
    journal = Journal.open(path)
    journal_id = journal.journal_id
    journal.close()
    assert remembered_id(path) == journal_id == marker_path(path).read_text().strip()
    reopened = Journal.open(path)
    assert reopened.journal_id == journal_id
    reopened.close()


def test_a_missing_journal_is_refused_in_one_line(tmp_path: Path) -> None:
    """Where the marker names a journal and there is none: JournalReplacedError, one line."""
    path = tmp_path / "j.sqlite"
    remember(path, ID)
    with pytest.raises(JournalReplacedError) as refused:
        Journal.open(path)
    assert str(refused.value) == (
        f"journal {str(path)!r} is missing or empty, but journal {ID} lived there "
        f"({path}.id): restore it, or start a new one with --new-journal")
    assert not path.exists()  # nothing was created


def test_new_journal_replaces_the_marker(tmp_path: Path) -> None:
    """new_journal=True starts a journal where another lived, and remembers the new one."""
    path = tmp_path / "j.sqlite"
    remember(path, ID)
    journal = Journal.open(path, new_journal=True)
    assert journal.journal_id != ID and remembered_id(path) == journal.journal_id
    journal.close()


def test_no_marker_or_the_same_journal_passes(tmp_path: Path) -> None:
    """Nothing remembered, or the remembered journal itself: no refusal."""
    path = tmp_path / "j.sqlite"
    check_same_journal(path, None, new_journal=False)
    remember(path, ID)
    check_same_journal(path, ID, new_journal=False)
    with pytest.raises(JournalReplacedError, match="is another journal"):
        check_same_journal(path, JournalId("jffffffffffff"), new_journal=False)
