"""The slippage model's versions in the journal, without the healing cycle's statistics (so
an engine can predict without loading scipy): which version is current, the note stamping a
prediction with it, and the cycles the journal holds (`hydra._model_journal` runs a cycle).

- ``model_version``: a version became current (``v1``, the configured model, when the journal
  first needs one; each promoted candidate after it), with its weights, when and why.
- ``slippage_predicted``: the prediction made for an intent before it trades (its pre-trade
  estimate), keyed by the intent's id, with the version that made it and the terms it weighed.
  Each fill's own prediction is no note but part of the fill (``fill_prediction``, as
  `FillPrediction.to_json` writes it; the risk actor makes it: `hydra._fill_prediction`).
- ``heal_detected``, ``heal_hypothesis``, ``heal_experiment``, ``heal_decision``: the steps of
  one healing cycle, each with its ``cycle_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._converter import from_json, unstructure
from ._core._model_versions import ModelVersion, Prediction, first_version
from ._enums import NoteKind
from ._journal import Journal
from ._journal_records import JournalRecord

CYCLE_NOTES = (NoteKind.HEAL_DETECTED, NoteKind.HEAL_HYPOTHESIS, NoteKind.HEAL_EXPERIMENT,
               NoteKind.HEAL_DECISION)


def model_versions(records: Sequence[JournalRecord]) -> list[ModelVersion]:
    """Every version that became current, oldest first (empty for a journal that has none)."""
    return [from_json(r.payload["version"], ModelVersion) for r in records
            if r.is_note(NoteKind.MODEL_VERSION)]


def current_model(journal: Journal) -> ModelVersion | None:
    """The journal's current version of the slippage model: its newest ``model_version``."""
    notes = journal.notes(NoteKind.MODEL_VERSION)
    return from_json(notes[-1]["version"], ModelVersion) if notes else None


def ensure_model(journal: Journal) -> ModelVersion:
    """The current version, journaling ``v1`` (the configured model) first when there is none:
    what an engine predicts with (`ModelVersion.predict`)."""
    found = current_model(journal)
    if found is not None:
        return found
    version = first_version(journal.now())
    journal.record_note(NoteKind.MODEL_VERSION, version=unstructure(version))
    return version


def prediction_note(intent_id: str, prediction: Prediction) -> dict[str, Any]:
    """The details of the ``slippage_predicted`` note for ``intent_id``:
    ``record_note(NoteKind.SLIPPAGE_PREDICTED, **prediction_note(intent_id, prediction))``."""
    return {"intent_id": intent_id, **prediction.to_json()}


def cycles(records: Sequence[JournalRecord]) -> list[dict[str, Any]]:
    """Each journaled healing cycle, oldest first: its id, when it ran, and each step's
    payload under the step's name (``detected``, ``hypothesis``, ``experiment``,
    ``decision``; the last three only when drift was found)."""
    found: dict[str, dict[str, Any]] = {}
    for r in records:
        what = next((kind for kind in CYCLE_NOTES if r.is_note(kind)), None)
        if what is not None:
            cycle = found.setdefault(r.payload["cycle_id"], {
                "cycle_id": r.payload["cycle_id"], "at": r.recorded_at.isoformat()})
            cycle[what.removeprefix("heal_")] = r.payload["step"]
    return list(found.values())
