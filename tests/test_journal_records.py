import datetime as dt
from pathlib import Path

import pytest

from hydra._errors import InvalidValueError
from hydra._journal import EventKind
from hydra._journal_records import parse_time, read_journal
from tests.paper_journal import T0, PaperJournal


def test_records_come_back_in_order_with_their_times(tmp_path: Path) -> None:
    """Every event is read back in journal order, with its kind, time and payload."""
    paper = PaperJournal(tmp_path / "j.sqlite")
    paper.at(0).note("engine_started", broker="SimBroker", dry_run=False)
    paper.at(2).note("kill_switch", reason="drill", working=0)
    paper.close()
    first, second = read_journal(paper.path)
    assert (first.seq, first.kind, first.recorded_at) == (1, EventKind.NOTE, T0)
    assert second.recorded_at == T0 + dt.timedelta(days=2)
    assert second.is_note("kill_switch") and not second.is_note("reconnected")
    assert second.payload == {"what": "kill_switch", "reason": "drill", "working": 0}


def test_a_follower_reads_only_the_events_after_the_last_it_read(tmp_path: Path) -> None:
    """``after`` gives the events numbered after it: what was journaled since the last read."""
    paper = PaperJournal(tmp_path / "j.sqlite")
    paper.at(0).note("engine_started", broker="SimBroker", dry_run=False)
    (first,) = read_journal(paper.path)
    paper.at(1).note("kill_switch", reason="drill", working=0)
    paper.close()
    (later,) = read_journal(paper.path, after=first.seq)
    assert later.seq == first.seq + 1 and later.is_note("kill_switch")
    assert read_journal(paper.path, after=later.seq) == []


def test_a_missing_journal_is_refused_and_not_created(tmp_path: Path) -> None:
    """A path with no file is an error naming the path, and no file appears there."""
    path = tmp_path / "nope.sqlite"
    with pytest.raises(InvalidValueError, match="no such file") as info:
        read_journal(path)
    assert info.value.value == str(path)
    assert not path.exists()


def test_a_file_that_is_not_a_journal_is_refused(tmp_path: Path) -> None:
    """A file that is not a SQLite journal is an error saying so."""
    path = tmp_path / "notes.txt"
    path.write_text("not a database at all " * 20)
    with pytest.raises(InvalidValueError, match="not a Hydra journal"):
        read_journal(path)


def test_reading_writes_nothing(tmp_path: Path) -> None:
    """Reading leaves the events table exactly as it was."""
    paper = PaperJournal(tmp_path / "j.sqlite")
    paper.note("engine_started", broker="SimBroker", dry_run=False)
    paper.close()
    assert read_journal(paper.path) == read_journal(paper.path)
    assert len(read_journal(paper.path)) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-02", dt.datetime(2026, 3, 2, tzinfo=dt.UTC)),
        ("2026-03-02T14:30", dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)),
        ("2026-03-02T09:30-05:00", dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)),
    ],
)
def test_times_without_a_zone_are_utc(text: str, expected: dt.datetime) -> None:
    """An ISO date or time parses to an aware time, UTC when it names no zone."""
    assert parse_time(text) == expected


def test_a_bad_time_names_itself() -> None:
    """Text that is no ISO 8601 time is an error showing the text."""
    with pytest.raises(InvalidValueError, match="'last tuesday'"):
        parse_time("last tuesday")
