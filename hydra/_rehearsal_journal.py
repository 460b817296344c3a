"""Which journal a simulation writes to: its own, never the paper (or live) one.

``hydra run --sim`` writes by default to `sim_journal_path` of ``journal.path`` (``hydra-journal
.sqlite`` → ``hydra-journal.sim.sqlite``), and its audit log beside that, so a rehearsal with
the paper configuration cannot start the paper run's clock or feed it simulated fills. A journal
named explicitly (``--journal``), or found at the default, is refused for a simulation when its
``engine_started`` notes say it traded paper or live, or come from an older Hydra that did not
say (it may be paper).
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from ._errors import InvalidValueError, JournalFormatError
from ._gate_sessions import PAPER, UNRECORDED, split_sessions
from ._journal_records import read_journal
from ._settings import JournalSettings

NOT_SIMULATED = frozenset({PAPER, "live", UNRECORDED})
"""The venues a simulation must never write beside."""


def sim_journal_path(path: str) -> str:
    """The simulation's own journal beside the journal at ``path``: ``.sim`` before its
    suffix."""
    p = Path(path)
    return str(p.with_name(f"{p.stem}.sim{p.suffix}")) if p.suffix else f"{path}.sim"


def real_venues(path: str | os.PathLike[str]) -> list[str]:
    """The venues of the journal's sessions that were no simulation (empty for a missing file,
    or one that is no journal: opening it will say what is wrong)."""
    if not Path(path).exists():
        return []
    try:
        records = read_journal(path)
    except JournalFormatError:
        return []
    _, sessions = split_sessions(records)
    return sorted({s.venue for s in sessions} & NOT_SIMULATED)


def simulation_journal(settings: JournalSettings, journal: str | None) -> JournalSettings:
    """The journal settings of a simulation: ``journal`` (when given) or the simulation's own
    beside ``settings.path``, its audit log beside it; `InvalidValueError` on ``--journal``
    for a journal that traded paper or live."""
    path = journal or sim_journal_path(settings.path)
    venues = real_venues(path)
    if venues:
        raise InvalidValueError("--journal", path, f"holds {' and '.join(venues)} trading, and "
                                "a simulation never writes into it (leave --journal out for "
                                "the simulation's own journal, or name a new file)")
    return attrs.evolve(settings, path=path, audit_path=None)
