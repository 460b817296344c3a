"""Tests for the slippage model's reports: the current version and its history, as text and
JSON, from a journal `heal` wrote to."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from pathlib import Path

from hydra._converter import json_text
from hydra._core._model_versions import ModelVersion, Weights, first_version
from hydra._enums import NoteKind
from hydra._journal import Journal
from hydra._journal_records import read_journal
from hydra._model_journal import heal
from hydra._model_report import history_to_json, render_history, render_model
from hydra._model_store import ensure_model, model_versions
from hydra._settings import SlippageSettings
from tests.paper_journal import Clock
from tests.synthetic_fills import Regime, synthetic_fills, write_fills

SETTINGS = SlippageSettings()


def _healed(path: Path) -> Path:
    """Two hundred fills whose spread cost rose half-way, healed once, then sixty more and
    healed again (no drift in v2's fills)."""
    clock = Clock()
    journal = Journal.open(path, clock=clock)
    write_fills(journal, clock, synthetic_fills(random.Random(1), [
        (100, Regime()), (100, Regime(spread_extra=0.5))]))
    cycle = heal(journal, SETTINGS)
    assert cycle is not None and cycle.experiment is not None
    later = synthetic_fills(random.Random(2), [(60, Regime(spread_extra=0.5))],
                            version_id="v2", start=300,
                            weights=cycle.experiment.candidate.weights["ZO/patience"])
    write_fills(journal, clock, later)
    heal(journal, SETTINGS)
    journal.close()
    return path


def test_show_prints_the_current_version_and_its_weights(tmp_path: Path) -> None:
    """The current version's id, parent, reason, held-out RMSE and a weights table."""
    versions = model_versions(read_journal(_healed(tmp_path / "j.sqlite")))
    text = render_model(versions[-1]).splitlines()
    assert text[0] == "slippage model v2, made 2026-03-10 21:30 UTC, replacing v1"
    assert text[1].startswith("why: healing: drift: KS p=")
    assert text[2].startswith("held-out RMSE: ") and text[2].endswith(" bps over 30 fills")
    assert text[4].split() == ["symbol/policy", "bias", "bps", "spread", "impact"]
    assert text[5].startswith("ZO/patience")


def test_show_without_a_version_says_what_predicts() -> None:
    """A journal with no version: predictions use v1, the configured model."""
    assert render_model(None) == ("slippage model: no version journaled yet (predictions use "
                                  "v1, bias 0, spread weight 1, impact weight 1: the "
                                  "configured model)")


def test_history_lists_versions_and_cycles_in_journal_order(tmp_path: Path) -> None:
    """v1, the first cycle, v2 it promoted, and the second cycle, one line each."""
    lines = render_history(read_journal(_healed(tmp_path / "j.sqlite"))).splitlines()
    assert [line.split("  ", 1)[1].split(":")[0] for line in lines] == [
        "v1 current", "heal-1", "v2 current", "heal-2"]
    assert "v2 promoted: held-out RMSE" in lines[1]
    assert "heal-2: no drift: KS p=" in lines[3]


def test_history_as_json_has_every_version_and_cycle(tmp_path: Path) -> None:
    """The JSON names the current version and carries each version and cycle whole."""
    data = history_to_json(read_journal(_healed(tmp_path / "j.sqlite")))
    assert data["current"] == "v2"
    assert [v["version_id"] for v in data["versions"]] == ["v1", "v2"]
    assert [c["cycle_id"] for c in data["cycles"]] == ["heal-1", "heal-2"]
    assert data["cycles"][0]["decision"]["outcome"] == "promoted"


def test_an_empty_history_says_so() -> None:
    """No versions and no cycles: one line saying nothing is journaled."""
    assert render_history([]) == "slippage model history: nothing journaled yet"


V2_PAYLOAD = (
    '{"version_id": "v2", "created_at": "2026-03-02T14:35:00+00:00", "reason": "healing: '
    'drift", "parent": "v1", "weights": {"HE/twap": {"bias_bps": "-0.5", "spread_weight": '
    '"1", "impact_weight": "1"}, "ZO/patience": {"bias_bps": "1.25", "spread_weight": '
    '"0.900", "impact_weight": "0"}}, "heldout_residuals": ["3", "-4.0"], "heldout_rmse_bps":'
    ' "3.535533905932737622004221811"}')
"""A ``model_version`` note's payload as the writer of 2026-12-01 stored it."""

V1_PAYLOAD = (
    '{"version_id": "v1", "created_at": "2026-03-02T14:30:00+00:00", "reason": "the '
    'configured model: crossing cost plus impact_coefficient \\u00d7 daily_volatility_bps '
    '\\u00d7 \\u221aparticipation", "parent": null, "weights": {}, "heldout_residuals": [], '
    '"heldout_rmse_bps": null}')


def test_journaled_versions_read_back_and_print_as_they_always_have(tmp_path: Path) -> None:
    """A golden test: v1 as `ensure_model` journals it and a v2 note as stored on 2026-12-01
    read back as the versions written, and ``model history --json`` prints them byte for
    byte as it did then (weights sorted by key, decimals as strings, the held-out RMSE
    computed, None as null)."""
    clock = Clock()
    clock.now = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
    journal = Journal.open(tmp_path / "j.sqlite", clock=clock)
    ensure_model(journal)
    journal.record_note(NoteKind.MODEL_VERSION, version=json.loads(V2_PAYLOAD))
    journal.close()
    records = read_journal(tmp_path / "j.sqlite")
    v2 = ModelVersion(
        version_id="v2", created_at=clock.now + dt.timedelta(minutes=5),
        reason="healing: drift", parent="v1",
        weights={"HE/twap": Weights(bias_bps=Decimal("-0.5")),
                 "ZO/patience": Weights(bias_bps=Decimal("1.25"),
                                        spread_weight=Decimal("0.900"),
                                        impact_weight=Decimal(0))},
        heldout_residuals=(Decimal(3), Decimal("-4.0")))
    assert model_versions(records) == [first_version(clock.now), v2]
    assert records[0].payload["version"] == json.loads(V1_PAYLOAD)
    assert json_text(history_to_json(records)) == (
        f'{{"current": "v2", "versions": [{V1_PAYLOAD}, {V2_PAYLOAD}], "cycles": []}}')
