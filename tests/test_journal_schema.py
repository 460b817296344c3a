import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

import hydra
from hydra import JournalFormatError
from hydra._journal import Journal
from hydra._journal_records import read_journal
from hydra._journal_schema import SCHEMA_VERSION, STATEMENTS, EventKind, NoteKind
from hydra.cli import main

# Hydra's journal before the schema version was stamped: the same tables, user_version 0.
LEGACY_NOTE = (
    "INSERT INTO events (recorded_at, kind, payload)"
    " VALUES ('2026-03-02T14:30:00+00:00', 'note', '{\"what\": \"engine_started\"}')"
)


def _user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def _legacy_journal(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    for statement in STATEMENTS:
        db.execute(statement)
    db.execute(LEGACY_NOTE)
    db.commit()
    db.close()


def test_a_new_journal_carries_the_schema_version(tmp_path: Path) -> None:
    """A journal Hydra creates has PRAGMA user_version set to this Hydra's schema version."""
    path = tmp_path / "j.sqlite"
    Journal.open(path).close()
    assert _user_version(path) == SCHEMA_VERSION


def test_an_empty_file_becomes_a_new_journal(tmp_path: Path) -> None:
    """A zero-byte file holds nothing to lose: it is taken as a new journal."""
    path = tmp_path / "j.sqlite"
    path.touch()
    Journal.open(path).close()
    assert _user_version(path) == SCHEMA_VERSION


def test_an_unversioned_hydra_journal_is_migrated_with_a_note(tmp_path: Path) -> None:
    """A journal of the unversioned format keeps its events, gets the schema version and a
    schema_migrated note; opening it again migrates nothing more."""
    path = tmp_path / "j.sqlite"
    _legacy_journal(path)
    Journal.open(path).close()
    Journal.open(path).close()
    assert _user_version(path) == SCHEMA_VERSION
    old, migrated = read_journal(path)
    assert old.is_note(NoteKind.ENGINE_STARTED)
    assert migrated.is_note(NoteKind.SCHEMA_MIGRATED)
    assert migrated.payload == {"what": "schema_migrated", "from_version": 0,
                                "to_version": SCHEMA_VERSION}


def test_a_version_1_journal_is_migrated_and_given_its_id(tmp_path: Path) -> None:
    """A journal of schema 1 (no journal_meta table, so no id) is migrated in place: it gets
    the journal_meta table and a journal id, kept on every later open, and a schema_migrated
    note from version 1."""
    path = tmp_path / "j.sqlite"
    db = sqlite3.connect(path)
    for statement in STATEMENTS:
        if "journal_meta" not in statement:
            db.execute(statement)
    db.execute(LEGACY_NOTE)
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    assert Journal.open_read_only(path).journal_id is None
    journal = Journal.open(path)
    journal_id = journal.journal_id
    journal.close()
    assert journal_id is not None and _user_version(path) == SCHEMA_VERSION == 3
    assert Journal.open(path).journal_id == journal_id
    _, migrated = read_journal(path)
    assert migrated.payload == {"what": "schema_migrated", "from_version": 1,
                                "to_version": SCHEMA_VERSION}


def test_a_journal_of_schema_2_gets_the_index_by_intent(tmp_path: Path) -> None:
    """Version 3 adds the index of events by intent; a version-2 journal is migrated in place
    (its id kept) and noted, and the restart's per-intent reads use the index."""
    path = tmp_path / "j.sqlite"
    db = sqlite3.connect(path)
    for statement in STATEMENTS:
        if "events_by_intent" not in statement:
            db.execute(statement)
    db.execute("INSERT INTO journal_meta (key, value) VALUES ('journal_id', 'j0123456789ab')")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    Journal.open(path).close()
    assert _user_version(path) == 3
    assert Journal.open_read_only(path).journal_id == "j0123456789ab"
    (migrated,) = read_journal(path)
    assert migrated.payload == {"what": "schema_migrated", "from_version": 2,
                                "to_version": 3}
    db = sqlite3.connect(path)
    (plan,) = {row[-1] for row in db.execute(
        "EXPLAIN QUERY PLAN SELECT seq FROM events WHERE intent_id = 'x' AND kind = 'fill'")}
    db.close()
    assert "events_by_intent" in plan


def test_the_journal_id_cannot_be_changed(tmp_path: Path) -> None:
    """The journal_meta table is written once: an update or a delete is refused."""
    path = tmp_path / "j.sqlite"
    Journal.open(path).close()
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="written once"):
        db.execute("UPDATE journal_meta SET value = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="written once"):
        db.execute("DELETE FROM journal_meta")
    db.close()


def test_an_unversioned_journal_is_read_as_it_is(tmp_path: Path) -> None:
    """The reports read an unversioned journal without migrating (or touching) it."""
    path = tmp_path / "j.sqlite"
    _legacy_journal(path)
    (record,) = read_journal(path)
    assert record.is_note(NoteKind.ENGINE_STARTED)
    assert _user_version(path) == 0


@pytest.mark.parametrize("open_journal", [Journal.open, read_journal, Journal.open_read_only])
def test_a_newer_journal_is_refused_in_one_line(
    tmp_path: Path, open_journal: Callable[[Path], object]
) -> None:
    """A journal of a newer schema is refused by writers and readers alike, unchanged."""
    path = tmp_path / "j.sqlite"
    Journal.open(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(JournalFormatError) as info:
        open_journal(path)
    assert str(info.value) == (
        f"{path}: journal schema 99 is newer than this Hydra's {SCHEMA_VERSION}: upgrade Hydra"
    )
    assert _user_version(path) == 99


def _other_database(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE trades (id INTEGER PRIMARY KEY, price TEXT)")
    db.commit()
    db.close()


def _empty_database(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 5")  # a header, no tables: not empty, not a journal
    db.close()


def _text_file(path: Path) -> None:
    path.write_text("fill,price\n1,350.25\n")


def _zeros(path: Path) -> None:
    path.write_bytes(b"\0" * 4096)


@pytest.mark.parametrize("make", [_other_database, _empty_database, _text_file, _zeros])
@pytest.mark.parametrize("open_journal", [Journal.open, read_journal])
def test_a_file_that_is_not_a_hydra_journal_is_refused_untouched(
    tmp_path: Path, make: Callable[[Path], None], open_journal: Callable[[Path], object]
) -> None:
    """Another SQLite database, a header without tables, a text file or a block of zeros is
    refused with one line naming the file, and left byte for byte as it was."""
    path = tmp_path / "j.sqlite"
    make(path)
    before = path.read_bytes()
    with pytest.raises(JournalFormatError) as info:
        open_journal(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not a Hydra journal") and "\n" not in message
    assert path.read_bytes() == before
    assert not path.with_name(path.name + "-wal").exists()


def _journal_with_kind(path: Path, kind: str) -> None:
    journal = Journal.open(path)
    journal.record_note("engine_started")
    journal._db.execute(
        "INSERT INTO events (recorded_at, kind, payload) VALUES (?, ?, '{}')",
        ("2026-03-02T14:30:00+00:00", kind),
    )
    journal.close()


def test_an_unknown_event_kind_is_refused_naming_the_kind(tmp_path: Path) -> None:
    """An event of a kind this Hydra does not know is one error naming the kind, for the
    records reader and the journal alike."""
    path = tmp_path / "j.sqlite"
    _journal_with_kind(path, "order_v2")
    with pytest.raises(JournalFormatError, match=r"event 2 has a kind .*'order_v2'"):
        read_journal(path)
    journal = Journal.open_read_only(path)
    with pytest.raises(JournalFormatError, match="'order_v2'"):
        list(journal.events())
    journal.close()


@pytest.mark.parametrize("command", ["fill-report", "gate-check"])
def test_the_reports_refuse_an_unknown_kind_in_one_line(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """fill-report and gate-check print one line naming the unknown kind, no traceback."""
    path = tmp_path / "j.sqlite"
    _journal_with_kind(path, "order_v2")
    assert main([command, "--journal", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "'order_v2'" in err and str(path) in err


def _notes_written_in(source: str) -> set[str]:
    """The note kinds in ``record_note(NoteKind.…)`` calls and ``JournalNote(what=NoteKind.…)``
    effects."""
    return set(re.findall(r"record_note\(\s*NoteKind\.(\w+)", source)) | set(
        re.findall(r"JournalNote\(\s*what=NoteKind\.(\w+)", source))


def _notes_named_by_string_in(source: str) -> set[str]:
    """The note names written as string literals: a note name Hydra must not spell out."""
    return set(re.findall(r"""(?:record_note|latest_note|is_note)\(\s*["'](\w+)""", source)) | set(
        re.findall(r"""JournalNote\(\s*what=["'](\w+)""", source)) | set(
        re.findall(r"""\$\.what'\) = '(\w+)'""", source))


def test_note_kinds_name_every_note_hydra_writes() -> None:
    """Each note Hydra writes is named by a NoteKind member (so the list stays whole)."""
    package = Path(hydra.__file__).parent
    written = set().union(*(_notes_written_in(p.read_text()) for p in package.rglob("*.py")))
    assert written  # the scan finds the notes
    assert written <= {kind.name for kind in NoteKind}


def test_no_note_is_named_by_a_string_literal() -> None:
    """Hydra writes and reads notes by NoteKind, never by a string spelled out in place."""
    package = Path(hydra.__file__).parent
    spelled = {str(p.relative_to(package)): found for p in package.rglob("*.py")
               if (found := _notes_named_by_string_in(p.read_text()))}
    assert spelled == {}


def test_event_kinds_are_the_documented_seven() -> None:
    """The event kinds are those the journal documents (a new one needs a schema version)."""
    assert [kind.value for kind in EventKind] == [
        "intent", "order", "ack", "status", "fill", "blocked", "note"]
