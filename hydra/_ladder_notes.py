"""The ``ladder_stage`` note read back: when each stage left of an order's ladder ends.

The risk actor journals one as each stage of an order's ladder begins (the stage begun first,
each end on the journal's clock), with the TWAP slice the order works. The screens read it to
show where an order's ladder is; a restart reads it to resume a TWAP slice's order on the
ladder it had.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from ._codec import note_from_json
from ._enums import NoteKind
from ._errors import InvalidValueError, JournalNoteError


def _some_stage(_: object, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    if not value:
        raise InvalidValueError(attribute.name, list(value), "must name at least one stage")


@attrs.frozen(kw_only=True)
class StagesTold:
    """A ``ladder_stage`` note: when each stage left of an order's ladder ends (its first
    the stage begun), and the TWAP slice it works, k of n (None: no TWAP)."""

    stages: tuple[tuple[str, dt.datetime], ...] = attrs.field(validator=_some_stage)
    slice: tuple[int, int] | None = None


def read_stages_told(note: Mapping[str, Any]) -> StagesTold | None:
    """``note`` read as a `StagesTold`; None when it does not read so (no stages, an end that
    is no zoned ISO time, a slice that is not k of n: a hand-mended journal, another
    version's)."""
    try:
        return note_from_json(note, StagesTold, note=NoteKind.LADDER_STAGE.value)
    except JournalNoteError:
        return None
