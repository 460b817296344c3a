"""The healing cycle run over the journal: its fills read as the cycle sees them, one cycle
run (`hydra._healing.run_cycle`) for the current version, and each step journaled, with the
version it promotes, in one transaction. `heal` is the entry point; the versions themselves
and the prediction notes are `hydra._model_store`'s."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from ._codec import fill_prediction_from_json
from ._converter import unstructure
from ._core._model_versions import FIRST_VERSION
from ._enums import NoteKind, Policy
from ._errors import JournalFormatError, JournalNoteError
from ._healing import HealingCycle, HealingFill, LeftOut, Outcome, run_cycle
from ._journal import EventKind, Journal
from ._model_store import ensure_model
from ._settings import SlippageSettings

OWN_PREDICTIONS_ONLY = (
    "journaled before Hydra stamped each fill with its own prediction, they carry only their "
    "order's pre-trade estimate; judged beside fills with their own, a window of the one "
    "against a window of the other would be a change of measure called drift")
"""Why a journal that gained per-fill predictions heals on those fills alone."""

UNREADABLE = (
    "their prediction lost a field, holds a wrong one, or holds a NaN or an infinity (a damaged "
    "or hand-mended journal's): they measure nothing, and in a window one made every statistic "
    "NaN, \"no drift\" at every cycle after it")
"""Why a fill whose prediction cannot be read is left out."""


@attrs.frozen(kw_only=True)
class JournalFills:
    """The fills the cycle judges, and those the journal holds that it leaves out."""

    fills: tuple[HealingFill, ...]
    left_out: LeftOut = LeftOut()


def healing_fills(events: Iterable[tuple[EventKind, Mapping[str, Any]]]) -> JournalFills:
    """Every journaled fill with both a predicted and an actual slippage, as the cycle sees it,
    from the journal's ``(kind, payload)`` events in order. A fill with its own prediction
    (``fill_prediction``) is judged on it: residual = actual − what the version predicted for
    that fill, with the terms it weighed. An older fill carries only its order's pre-trade
    estimate: its version, policy and terms come from its intent's ``slippage_predicted``
    note; a fill of an intent predicted before predictions were stamped counts as ``v1``'s,
    with the intent's own policy (``auto`` when it had none) and no terms. Once fills have
    their own predictions, the older ones are left out, counted, with the reason
    (`OWN_PREDICTIONS_ONLY`)."""
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
        elif (kind is EventKind.FILL and payload.get("actual_bps") is not None
              and (payload.get("fill_prediction") or payload.get("predicted_bps")) is not None):
            fills.append(payload)
    if any(payload.get("fill_prediction") is not None for payload in fills):
        own = (_own_prediction(p) for p in fills if p.get("fill_prediction") is not None)
        judged = [f for f in own if f is not None and _finite(f)]
        older = sum(1 for p in fills if p.get("fill_prediction") is None)
        unreadable = len(fills) - older - len(judged)
        reasons = [reason for count, reason in ((older, OWN_PREDICTIONS_ONLY),
                                                 (unreadable, UNREADABLE)) if count]
        return JournalFills(fills=tuple(judged), left_out=LeftOut(
            count=older + unreadable, reason="; ".join(reasons) or None))
    found = []
    for payload in fills:
        intent_id = intent_of.get(payload["fill"]["client_order_id"], "")
        found.append(_healing_fill(payload, predicted.get(intent_id),
                                   policies.get(intent_id, Policy.AUTO)))
    judged = [f for f in found if _finite(f)]
    unreadable = len(found) - len(judged)
    return JournalFills(fills=tuple(judged), left_out=LeftOut(
        count=unreadable, reason=UNREADABLE if unreadable else None))


def _finite(fill: HealingFill) -> bool:
    numbers = (fill.predicted_bps, fill.actual_bps, fill.crossing_bps, fill.impact_bps)
    return all(n is None or n.is_finite() for n in numbers)


def _own_prediction(payload: Mapping[str, Any]) -> HealingFill | None:
    """The fill as its own prediction has it; None when that cannot be read (a field lost or
    wrong in a damaged or hand-mended journal: one such fill ended `hydra run`'s cycle)."""
    fill = payload["fill"]
    try:
        own = fill_prediction_from_json(payload["fill_prediction"]).prediction
        actual = Decimal(payload["actual_bps"])
    except (JournalNoteError, TypeError, ArithmeticError):  # the last two: the actual's
        return None
    return HealingFill(
        symbol=fill["symbol"], time=dt.datetime.fromisoformat(fill["time"]),
        predicted_bps=own.bps, actual_bps=actual,
        version_id=own.version_id, policy=own.policy, crossing_bps=own.crossing_bps,
        impact_bps=own.impact_bps)


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
    read = healing_fills((kind, payload) for _, kind, payload in journal.events())
    fills = read.fills
    newest = max((f.time for f in fills if f.version_id == version.version_id), default=None)
    detections = journal.notes(NoteKind.HEAL_DETECTED)
    # The newest fill of the version each cycle saw (older notes: their recent window's end,
    # which is None when the window was empty, so such a cycle was run again).
    seen = [d.get("fills_to", d["step"]["recent_to"]) for d in detections
            if d["step"]["version_id"] == version.version_id]
    if seen and (newest is None or (seen[-1] is not None
                                    and newest <= dt.datetime.fromisoformat(seen[-1]))):
        return None  # the last cycle of this version saw every fill it has
    cycle = run_cycle(fills, version, settings=settings, now=journal.now(),
                      left_out=read.left_out)
    _record(journal, f"heal-{len(detections) + 1}", cycle, fills_to=newest)
    return cycle


def _record(journal: Journal, cycle_id: str, cycle: HealingCycle, *,
            fills_to: dt.datetime | None) -> None:
    """The cycle's notes (the detection's with ``fills_to``, the newest fill of the version
    it saw), and a promoted version, in one transaction."""
    seen = None if fills_to is None else fills_to.isoformat()
    calls = [lambda j: j.record_note(NoteKind.HEAL_DETECTED, cycle_id=cycle_id,
                                     step=unstructure(cycle.detection), fills_to=seen)]
    steps = [(NoteKind.HEAL_HYPOTHESIS, cycle.hypothesis),
             (NoteKind.HEAL_EXPERIMENT, cycle.experiment), (NoteKind.HEAL_DECISION, cycle.decision)]
    calls += [_note(what, cycle_id, unstructure(step)) for what, step in steps if step is not None]
    if cycle.decision is not None and cycle.decision.outcome is Outcome.PROMOTED:
        assert cycle.experiment is not None
        version = unstructure(cycle.experiment.candidate)
        calls.append(lambda j: j.record_note(NoteKind.MODEL_VERSION, version=version,
                                             cycle_id=cycle_id))
    for result in journal.apply_together(calls):
        result.unwrap()


def _note(what: NoteKind, cycle_id: str, step: Mapping[str, Any]) -> Callable[[Journal], None]:
    return lambda j: j.record_note(what, cycle_id=cycle_id, step=dict(step))
