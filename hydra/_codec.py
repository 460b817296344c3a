"""Hydra values from the JSON-able dicts the journal and audit log hold.

`hydra._converter.unstructure` writes them and `hydra._converter.from_json` reads them back
(the one statement of each type's JSON form); these name what the journal reads. A note's
payload (`note_from_json`) may be damaged (a hand-mended journal, another version's): it is
read as a table is, each field checked, and the first problem is one `JournalNoteError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from ._converter import from_json, notes_converter, structure
from ._core._model_versions import FillPrediction
from ._errors import ConfigError, JournalNoteError, MissingKeyError
from ._orders import Fill, OrderRequest, TwapPart

T = TypeVar("T")


def request_from_json(data: dict[str, Any]) -> OrderRequest:
    """The `OrderRequest` that `unstructure` wrote."""
    return from_json(data, OrderRequest)


def fill_from_json(data: dict[str, Any]) -> Fill:
    """The `Fill` that `unstructure` wrote (one written before fills carried a delivery month
    loads with none)."""
    return from_json(data, Fill)


def note_from_json(data: Mapping[str, Any], cls: type[T], *, note: str) -> T:
    """The ``cls`` a ``note`` note's payload ``data`` holds; a field it lost or holds wrong (a
    number that is not finite among them) is a `JournalNoteError` naming the note and the
    field (a key it holds that ``cls`` lacks is ignored: a later version's)."""
    try:
        return structure(data, cls, using=notes_converter)
    except MissingKeyError as e:
        raise JournalNoteError(note, e.field, None, "is missing") from e
    except ConfigError as e:
        raise JournalNoteError(note, e.field, e.value, e.problem) from e


def fill_prediction_from_json(data: Mapping[str, Any]) -> FillPrediction:
    """The fill's own prediction a fill's payload keeps as its ``fill_prediction`` (as
    `FillPrediction.to_json` wrote it); a damaged one is a `JournalNoteError`."""
    return note_from_json(data, FillPrediction, note="fill_prediction")


def part_from_json(data: dict[str, Any]) -> TwapPart:
    """The `TwapPart` that `unstructure` wrote with an order."""
    return from_json(data, TwapPart)
