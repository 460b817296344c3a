"""The sidecar ``<journal>.id``: a journal lived here, and this was its id.

Written when a journal is created (or first opened by a Hydra that gives journals ids) and
kept forever beside it, like the lock file. A journal that is later missing, empty, or has
another id is then refused (`JournalReplacedError`) rather than silently started afresh: a
new journal would not know the orders the old one sent, and would send its intents again.
Starting a new journal on purpose (``--new-journal``) rewrites the marker.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._durable_replace import replace_durably
from ._errors import JournalReplacedError
from ._ids import JournalId, is_journal_id


def marker_path(journal: str | os.PathLike[str]) -> Path:
    """The sidecar that remembers the id of the journal at ``journal``."""
    return Path(os.fspath(journal) + ".id")


def remembered_id(journal: str | os.PathLike[str]) -> JournalId | None:
    """The id of the journal that lived at ``journal``, or None when no marker says."""
    try:
        text = marker_path(journal).read_text().strip()
    except FileNotFoundError:
        return None
    return JournalId(text) if is_journal_id(text) else None


def check_same_journal(journal: str | os.PathLike[str], found: JournalId | None, *,
                       new_journal: bool) -> None:
    """Refuse the journal at ``journal`` (its id ``found``, None when the file is missing or
    empty) when the marker names another, unless ``new_journal``."""
    expected = remembered_id(journal)
    if new_journal or expected is None or found == expected:
        return
    raise JournalReplacedError(os.fspath(journal), expected=expected, found=found,
                               marker=os.fspath(marker_path(journal)))


def remember(journal: str | os.PathLike[str], journal_id: JournalId) -> None:
    """Write (atomically, durably) that the journal at ``journal`` has ``journal_id``."""
    path = marker_path(journal)
    if remembered_id(journal) == journal_id:
        return
    replace_durably(path, f"{journal_id}\n")
