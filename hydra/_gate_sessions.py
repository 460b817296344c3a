"""The journal's sessions, by the venue each traded against, for the gate to count paper only.

Each ``engine_started`` note opens a session of the venue it records (``paper``, ``sim``,
``live`` or ``rehearsal``); the session holds that note, everything up to its stop note
(``engine_stopped`` or ``unrecoverable_error``), and what follows the stop until the next start:
the healing cycle ``hydra run`` journals after it closed, or a later ``hydra model heal``, is
about the fills just made. A start note without a venue (written before Hydra recorded one) is
``unrecorded`` (``sim`` when its broker is the in-process `SimBroker`): it cannot be told from
a simulation, so it never counts as paper. Records before the first start (a schema migration)
belong to no session.

`counted` picks what the gate judges: the paper sessions; or, in a journal that has none but
has rehearsal sessions (``hydra rehearse``), those, marked as a rehearsal (which can never pass).
Everything else is left out of every condition, and a journal of mixed kinds says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._converter import fields_out, override
from ._enums import NoteKind
from ._fill_report import utc_minute
from ._journal_records import JournalRecord

PAPER, REHEARSAL, UNRECORDED = "paper", "rehearsal", "unrecorded"


def venue_of(start: JournalRecord) -> str:
    """The venue an ``engine_started`` note records, or what can be said without one."""
    venue = start.payload.get("venue")
    if isinstance(venue, str) and venue:
        return venue
    return "sim" if start.payload.get("broker") == "SimBroker" else UNRECORDED


@attrs.frozen(kw_only=True)
class Session:
    """One engine session: its venue and its records, the start note first."""

    venue: str
    records: tuple[JournalRecord, ...]

    @property
    def started(self) -> dt.datetime:
        return self.records[0].recorded_at

    @property
    def ended(self) -> dt.datetime:
        return self.records[-1].recorded_at


def split_sessions(records: Sequence[JournalRecord]
                   ) -> tuple[tuple[JournalRecord, ...], list[Session]]:
    """(the records before the first start, each session in order)."""
    before: list[JournalRecord] = []
    found: list[tuple[str, list[JournalRecord]]] = []
    for record in records:
        if record.is_note(NoteKind.ENGINE_STARTED):
            found.append((venue_of(record), [record]))
        elif found:
            found[-1][1].append(record)
        else:
            before.append(record)
    return tuple(before), [Session(venue=v, records=tuple(rs)) for v, rs in found]


@attrs.frozen(kw_only=True)
class Counted:
    """What the gate judges (``venue``'s sessions, their ``records``) and what it left out."""

    venue: str  # "paper", or "rehearsal" for a journal of rehearsals and no paper session
    records: tuple[JournalRecord, ...]
    sessions: Mapping[str, int]  # sessions per venue, every venue of the journal
    left_out: Mapping[str, Mapping[str, Any]]  # per venue left out: sessions, records, span
    before_first_start: int  # records before any engine start, left out

    @property
    def rehearsal(self) -> bool:
        return self.venue == REHEARSAL

    @property
    def mixed(self) -> bool:
        """Whether the journal holds sessions of more than one venue."""
        return len(self.sessions) > 1

    def summary(self) -> str:
        """One line: what was counted, and what was left out when the journal is mixed."""
        counted = self.sessions.get(self.venue, 0)
        line = f"counted: {counted} {self.venue} session{'s' * (counted != 1)}"
        if self.rehearsal:
            line += " (a rehearsal: it shows the evidence, it can never pass the paper gate)"
        if self.mixed:
            parts = [f"{v['sessions']} {venue} ({v['records']} records, {v['from']} to "
                     f"{v['to']} UTC)" for venue, v in self.left_out.items()]
            line += f"; MIXED journal, left out of every condition: {', '.join(parts)}"
        return line

    def to_json(self) -> dict[str, Any]:
        """What was counted as plain data: its fields but the records (`hydra._converter`),
        and the computed `rehearsal`, `mixed` and `summary`, which the converter, writing
        attributes, does not know."""
        return {**_counted_fields(self), "rehearsal": self.rehearsal, "mixed": self.mixed,
                "summary": self.summary()}


_counted_fields = fields_out(Counted, records=override(omit=True))


def counted(records: Sequence[JournalRecord]) -> Counted:
    """The sessions the gate counts (see the module docstring), and the rest described."""
    before, sessions = split_sessions(records)
    per_venue: dict[str, list[Session]] = {}
    for session in sessions:
        per_venue.setdefault(session.venue, []).append(session)
    venue = REHEARSAL if PAPER not in per_venue and REHEARSAL in per_venue else PAPER
    left_out = {other: {"sessions": len(group),
                        "records": sum(len(s.records) for s in group),
                        "from": utc_minute(group[0].started), "to": utc_minute(group[-1].ended)}
                for other, group in per_venue.items() if other != venue}
    return Counted(
        venue=venue,
        records=tuple(r for s in per_venue.get(venue, []) for r in s.records),
        sessions={v: len(group) for v, group in per_venue.items()},
        left_out=left_out, before_first_start=len(before))
