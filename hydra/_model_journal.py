"""The slippage model's versions and healing cycles in the journal: written as notes, read back.

- ``model_version``: a version became current (``v1``, the configured model, when the journal
  first needs one; each promoted candidate after it), with its weights, when and why.
- ``slippage_predicted``: the prediction made for an intent, keyed by the intent's id, with the
  version that made it and the terms it weighed.
- ``heal_detected``, ``heal_hypothesis``, ``heal_experiment``, ``heal_decision``: the steps of
  one healing cycle, each with its ``cycle_id``; a cycle's notes (and the version it promotes)
  are committed together.

`heal` is the entry point: it reads the journal's fills, runs the cycle
(`hydra._healing.run_cycle`) for the current version and journals each step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from ._core._model_versions import FIRST_VERSION, ModelVersion, Prediction, first_version
from ._enums import NoteKind, Policy
from ._errors import JournalFormatError
from ._healing import HealingCycle, HealingFill, Outcome, run_cycle
from ._journal import EventKind, Journal
from ._journal_records import JournalRecord
from ._settings import SlippageSettings

CYCLE_NOTES = (NoteKind.HEAL_DETECTED, NoteKind.HEAL_HYPOTHESIS, NoteKind.HEAL_EXPERIMENT,
               NoteKind.HEAL_DECISION)


def model_versions(records: Sequence[JournalRecord]) -> list[ModelVersion]:
    """Every version that became current, oldest first (empty for a journal that has none)."""
    return [ModelVersion.from_json(r.payload["version"]) for r in records
            if r.is_note(NoteKind.MODEL_VERSION)]


def current_model(journal: Journal) -> ModelVersion | None:
    """The journal's current version of the slippage model: its newest ``model_version``."""
    notes = journal.notes(NoteKind.MODEL_VERSION)
    return ModelVersion.from_json(notes[-1]["version"]) if notes else None


def ensure_model(journal: Journal) -> ModelVersion:
    """The current version, journaling ``v1`` (the configured model) first when there is none:
    what an engine predicts with (`ModelVersion.predict`)."""
    found = current_model(journal)
    if found is not None:
        return found
    version = first_version(journal.now())
    journal.record_note(NoteKind.MODEL_VERSION, version=version.to_json())
    return version


def prediction_note(intent_id: str, prediction: Prediction) -> dict[str, Any]:
    """The details of the ``slippage_predicted`` note for ``intent_id``:
    ``record_note(NoteKind.SLIPPAGE_PREDICTED, **prediction_note(intent_id, prediction))``."""
    return {"intent_id": intent_id, **prediction.to_json()}


def healing_fills(events: Iterable[tuple[EventKind, Mapping[str, Any]]]) -> list[HealingFill]:
    """Every journaled fill with both a predicted and an actual slippage, as the cycle sees it,
    from the journal's ``(kind, payload)`` events in order: its version, policy and terms from
    its intent's ``slippage_predicted`` note; a fill of an intent predicted before predictions
    were stamped counts as ``v1``'s, with the intent's own policy (``auto`` when it had none)
    and no terms."""
    predicted: dict[str, Mapping[str, Any]] = {}
    policies: dict[str, Policy] = {}
    intent_of: dict[str, str] = {}  # client order id → intent id
    fills: list[Mapping[str, Any]] = []
    for kind, payload in events:
        if kind is EventKind.NOTE and payload.get("what") == NoteKind.SLIPPAGE_PREDICTED:
            predicted.setdefault(payload["intent_id"], payload)
        elif kind is EventKind.INTENT:
            intent = payload["intent"]
            policies.setdefault(intent["intent_id"], Policy(intent.get("policy") or "auto"))
        elif kind is EventKind.ORDER:
            request = payload["request"]
            intent_of[request["client_order_id"]] = request["intent_id"]
        elif (kind is EventKind.FILL and payload.get("predicted_bps") is not None
              and payload.get("actual_bps") is not None):
            fills.append(payload)
    found = []
    for payload in fills:
        intent_id = intent_of.get(payload["fill"]["client_order_id"], "")
        found.append(_healing_fill(payload, predicted.get(intent_id),
                                   policies.get(intent_id, Policy.AUTO)))
    return found


def _healing_fill(payload: Mapping[str, Any], note: Mapping[str, Any] | None,
                  policy: Policy) -> HealingFill:
    fill = payload["fill"]
    return HealingFill(
        symbol=fill["symbol"], time=dt.datetime.fromisoformat(fill["time"]),
        predicted_bps=Decimal(payload["predicted_bps"]),
        actual_bps=Decimal(payload["actual_bps"]),
        version_id=FIRST_VERSION if note is None else note["version_id"],
        policy=policy if note is None else Policy(note["policy"]),
        crossing_bps=None if note is None else Decimal(note["crossing_bps"]),
        impact_bps=None if note is None else Decimal(note["impact_bps"]))


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


def heal(journal: Journal | str | Path, settings: SlippageSettings
         ) -> HealingCycle | None:
    """Run one healing cycle over the journal's fills and journal each step; None (and nothing
    journaled) when the current version has no fill newer than the last cycle saw.

    ``journal`` is an open `Journal` (the runner's, after a session's close) or the path of one,
    which is opened (and locked) for the cycle: a journal a running Hydra holds is refused with
    `JournalLockedError`, a missing file a `JournalFormatError`."""
    if isinstance(journal, Journal):
        return _heal(journal, settings)
    if not Path(journal).exists():
        raise JournalFormatError(str(journal), "no such file")
    opened = Journal.open(journal)
    try:
        return _heal(opened, settings)
    finally:
        opened.close()


def _heal(journal: Journal, settings: SlippageSettings) -> HealingCycle | None:
    version = ensure_model(journal)
    fills = healing_fills((kind, payload) for _, kind, payload in journal.events())
    newest = max((f.time for f in fills if f.version_id == version.version_id), default=None)
    detections = journal.notes(NoteKind.HEAL_DETECTED)
    seen = [d["step"]["recent_to"] for d in detections
            if d["step"]["version_id"] == version.version_id]
    if seen and (newest is None or (seen[-1] is not None
                                    and newest <= dt.datetime.fromisoformat(seen[-1]))):
        return None  # the last cycle of this version saw every fill it has
    cycle = run_cycle(fills, version, settings=settings, now=journal.now())
    _record(journal, f"heal-{len(detections) + 1}", cycle)
    return cycle


def _record(journal: Journal, cycle_id: str, cycle: HealingCycle) -> None:
    """The cycle's notes, and a promoted version, in one transaction."""
    steps = [(NoteKind.HEAL_DETECTED, cycle.detection),
             (NoteKind.HEAL_HYPOTHESIS, cycle.hypothesis),
             (NoteKind.HEAL_EXPERIMENT, cycle.experiment), (NoteKind.HEAL_DECISION, cycle.decision)]
    calls = [_note(what, cycle_id, step.to_json()) for what, step in steps if step is not None]
    if cycle.decision is not None and cycle.decision.outcome is Outcome.PROMOTED:
        assert cycle.experiment is not None
        version = cycle.experiment.candidate.to_json()
        calls.append(lambda j: j.record_note(NoteKind.MODEL_VERSION, version=version,
                                             cycle_id=cycle_id))
    for result in journal.apply_together(calls):
        result.unwrap()


def _note(what: NoteKind, cycle_id: str, step: Mapping[str, Any]) -> Callable[[Journal], None]:
    return lambda j: j.record_note(what, cycle_id=cycle_id, step=dict(step))
