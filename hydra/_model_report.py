"""The slippage model as the journal holds it, for reading: the current version with its
weights, and the history of versions and healing cycles (what ``hydra model show`` and
``hydra model history [--json]`` print).

Pure: it reads `JournalRecord` values (`hydra._journal_records.read_journal`); nothing here
opens a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._converter import from_json, unstructure
from ._core._model_versions import ModelVersion
from ._enums import NoteKind
from ._fill_report import table, utc_minute
from ._journal_records import JournalRecord
from ._model_store import cycles, model_versions

CONFIGURED = "bias 0, spread weight 1, impact weight 1: the configured model"


def render_model(version: ModelVersion | None) -> str:
    """The current version: its id, when and why it was made, its held-out RMSE and weights."""
    if version is None:
        return f"slippage model: no version journaled yet (predictions use v1, {CONFIGURED})"
    rms = version.heldout_rmse_bps
    rows = [[key, f"{w.bias_bps:+.2f}", f"{w.spread_weight:.3f}", f"{w.impact_weight:.3f}"]
            for key, w in sorted(version.weights.items())]
    lines = [
        f"slippage model {version.version_id}, made {utc_minute(version.created_at)} UTC"
        + ("" if version.parent is None else f", replacing {version.parent}"),
        f"why: {version.reason}",
        "held-out RMSE: " + ("-" if rms is None else
                             f"{rms:.2f} bps over {len(version.heldout_residuals)} fills"),
        f"weights (any symbol and policy not listed: {CONFIGURED}):" if rows else
        f"weights: {CONFIGURED}, for every symbol and policy",
    ]
    if rows:
        lines += table(["symbol/policy", "bias bps", "spread", "impact"], rows, left=1)
    return "\n".join(lines)


def history_to_json(records: Sequence[JournalRecord]) -> dict[str, Any]:
    """Every version that became current and every healing cycle, oldest first."""
    versions = model_versions(records)
    return {"current": versions[-1].version_id if versions else None,
            "versions": [unstructure(v) for v in versions], "cycles": cycles(records)}


def render_history(records: Sequence[JournalRecord]) -> str:
    """One line per version made current and per healing cycle, in journal order (UTC)."""
    by_id = {c["cycle_id"]: c for c in cycles(records)}
    lines = []
    for record in records:
        if record.is_note(NoteKind.MODEL_VERSION):
            version = from_json(record.payload["version"], ModelVersion)
            text = f"{version.version_id} current: {version.reason}"
        elif record.is_note(NoteKind.HEAL_DETECTED):
            cycle = by_id[record.payload["cycle_id"]]
            steps = [cycle[s]["summary"] for s in ("detected", "hypothesis", "decision")
                     if s in cycle]
            text = f"{cycle['cycle_id']}: {'; '.join(steps)}"
        else:
            continue
        lines.append(f"{utc_minute(record.recorded_at)}  {text}")
    return "\n".join(lines) or "slippage model history: nothing journaled yet"
