"""Tests for the healing cycle on synthetic fills with known changes: detect, hypothesise,
experiment, promote or roll back."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hydra._core._model_versions import first_version
from hydra._enums import Policy
from hydra._healing import (
    HealingFill,
    Outcome,
    detect,
    hypothesise,
    run_cycle,
    split,
    windows,
)
from hydra._healing_settings import HealingSettings
from hydra._settings import SlippageSettings
from tests.synthetic_fills import T0, Regime, synthetic_fills

SETTINGS = SlippageSettings()
V1 = first_version(T0)
CALM = Regime()


def _fills(seed: int, *regimes: tuple[int, Regime]) -> list[HealingFill]:
    return synthetic_fills(random.Random(seed), list(regimes))


def test_a_known_bias_shift_is_detected() -> None:
    """Sixty fills costing 4 bps more than the baseline sixty are called drift by the KS test,
    on every one of 50 seeds."""
    found = [detect(_fills(seed, (60, CALM), (60, Regime(bias=4.0))), V1, settings=SETTINGS)
             for seed in range(50)]
    assert all(d.distribution_shift for d in found)
    first = found[0]
    assert (first.baseline, first.baseline_count, first.recent_count) == ("oldest_fills", 60, 60)
    assert first.ks_p_value is not None and first.ks_p_value < 0.05
    assert first.summary.startswith("drift: KS p=")


def test_no_shift_is_called_drift_at_about_the_configured_rate() -> None:
    """Over 400 seeds of fills with no change, the KS test calls drift at most at its 5% rate
    (give or take sampling), and the two tests together stay near it."""
    found = [detect(_fills(seed, (120, CALM)), V1, settings=SETTINGS) for seed in range(400)]
    ks_rate = sum(d.distribution_shift for d in found) / len(found)
    drift_rate = sum(d.drift for d in found) / len(found)
    assert ks_rate <= 0.05 + 0.02  # the exact KS test is conservative: 4.3% here
    assert drift_rate <= 0.05 + 0.03
    assert sum(d.accuracy_drop for d in found) / len(found) <= 0.02


def test_a_stricter_p_value_calls_fewer_false_alarms() -> None:
    """drift_p_value 0.01 calls drift on fewer of the same unchanged seeds than 0.05."""
    strict = attrs.evolve(SETTINGS, healing=HealingSettings(drift_p_value=0.01))
    fills = [_fills(seed, (120, CALM)) for seed in range(200)]
    loose_count = sum(detect(f, V1, settings=SETTINGS).drift for f in fills)
    strict_count = sum(detect(f, V1, settings=strict).drift for f in fills)
    assert strict_count < loose_count
    assert strict_count / len(fills) <= 0.01 + 0.02


def test_an_accuracy_drop_without_a_shift_of_the_mean_is_detected() -> None:
    """Noise tripling (3 → 9 bps) with no bias raises the RMSE well past 10%: an accuracy
    drop."""
    detection = detect(_fills(3, (60, CALM), (60, Regime(noise=9.0))), V1, settings=SETTINGS)
    assert detection.accuracy_drop
    assert detection.rmse_p_value is not None and detection.rmse_p_value < 0.05
    assert detection.recent_rmse_bps is not None and detection.baseline_rmse_bps is not None
    assert detection.recent_rmse_bps > detection.baseline_rmse_bps * Decimal("1.1")


def test_too_few_fills_call_nothing() -> None:
    """With 29 fills in a window (30 needed) no test is run and no drift called."""
    detection = detect(_fills(1, (29, CALM), (29, Regime(bias=20.0))), V1, settings=SETTINGS)
    assert not detection.drift and detection.ks_p_value is None
    assert detection.summary == "not enough fills: 29 baseline and 29 recent, 30 needed in each"
    assert not run_cycle(_fills(1, (29, CALM), (29, Regime(bias=20.0))), V1, settings=SETTINGS,
                         now=T0).completed


def test_tied_residuals_are_judged_without_a_warning() -> None:
    """Residuals of two values only (a quiet market's identical fills: 37 and 37, as a
    rehearsal made them) defeat the exact KS p-value; the asymptotic one is used, silently
    (the test suite makes warnings errors, as a rehearsal found)."""
    values = [Decimal("-1.55")] * 18 + [Decimal("2.02")] * 19
    values += [Decimal("-1.55")] * 17 + [Decimal("2.02")] * 20
    fills = [HealingFill(symbol="ZO", policy=Policy.PATIENCE, version_id="v1",
                         time=T0 + dt.timedelta(minutes=n), predicted_bps=Decimal(5),
                         actual_bps=Decimal(5) + value) for n, value in enumerate(values)]
    detection = detect(fills, V1, settings=SETTINGS)
    assert (detection.baseline_count, detection.recent_count) == (37, 37)
    assert detection.ks_p_value is not None and not detection.distribution_shift


def test_only_the_current_versions_fills_are_compared() -> None:
    """Fills another version predicted are left out of both windows."""
    fills = _fills(1, (60, CALM)) + synthetic_fills(random.Random(2), [(60, Regime(bias=9.0))],
                                                    version_id="v0", start=60)
    _, baseline, recent = windows(fills, V1, settings=SETTINGS)
    assert len(baseline) == len(recent) == 30
    assert all(f.version_id == "v1" for f in recent)


@pytest.mark.parametrize(("regime", "named"), [
    (Regime(bias=4.0, noise=1.0), "ZO/patience: bias +"),
    (Regime(spread_extra=0.5, noise=1.0), "ZO/patience: spread cost +"),
    (Regime(impact_extra=2.0, noise=1.0), "ZO/patience: impact slope +"),
])
def test_the_hypothesis_names_what_changed(regime: Regime, named: str) -> None:
    """A bias, a dearer spread or a steeper impact is named as that term, and only that."""
    hypothesis = hypothesise(_fills(5, (80, regime)), settings=SETTINGS)
    assert len(hypothesis.changes) == 1
    assert hypothesis.changes[0].startswith(named)


def test_hypotheses_are_per_symbol_and_policy() -> None:
    """A bias in HE's TWAP orders is named for HE/twap, not for ZO's patient orders."""
    fills = (_fills(1, (40, Regime(noise=1.0)))
             + synthetic_fills(random.Random(2), [(40, Regime(bias=5.0, noise=1.0))],
                               symbol="HE", policy=Policy.TWAP))
    hypothesis = hypothesise(fills, settings=SETTINGS)
    assert [c.key for c in hypothesis.corrections] == ["HE/twap", "ZO/patience"]
    assert len(hypothesis.changes) == 1 and hypothesis.changes[0].startswith("HE/twap: bias +")


def test_a_better_candidate_is_promoted() -> None:
    """After a lasting spread-cost change the refitted candidate wins on the held-out fills and
    becomes v2, with its held-out residuals as its baseline."""
    cycle = run_cycle(_fills(1, (100, CALM), (100, Regime(spread_extra=0.5))), V1,
                      settings=SETTINGS, now=T0)
    assert cycle.experiment is not None and cycle.decision is not None
    assert cycle.decision.outcome is Outcome.PROMOTED
    assert cycle.decision.current_id == "v2"
    candidate = cycle.experiment.candidate
    assert (candidate.parent, candidate.created_at) == ("v1", T0)
    assert (cycle.experiment.training_count, cycle.experiment.heldout_count) == (70, 30)
    assert len(candidate.heldout_residuals) == 30
    assert candidate.weights["ZO/patience"].spread_weight > Decimal("1.2")
    assert cycle.experiment.candidate_rmse_bps < cycle.experiment.current_rmse_bps
    assert "v2 promoted: held-out RMSE" in cycle.decision.summary


def test_a_worse_candidate_is_rolled_back() -> None:
    """A shift that lasts through the training fills and is gone in the held-out ones gives a
    candidate that loses there: rolled back, v1 stays current."""
    cycle = run_cycle(_fills(1, (100, CALM), (70, Regime(bias=5.0)), (30, CALM)), V1,
                      settings=SETTINGS, now=T0)
    assert cycle.detection.drift and cycle.decision is not None
    assert cycle.decision.outcome is Outcome.ROLLED_BACK
    assert cycle.decision.current_id == "v1" and cycle.decision.candidate_id == "v2"
    assert cycle.decision.candidate_rmse_bps > cycle.decision.current_rmse_bps


def test_a_promoted_version_is_judged_against_its_own_held_out_fills() -> None:
    """The next cycle of v2 compares v2's fills with the residuals v2 had when promoted."""
    cycle = run_cycle(_fills(1, (100, CALM), (100, Regime(spread_extra=0.5))), V1,
                      settings=SETTINGS, now=T0)
    assert cycle.experiment is not None
    v2 = cycle.experiment.candidate
    later = synthetic_fills(random.Random(9), [(40, CALM)], version_id="v2", start=300)
    detection = detect(later, v2, settings=SETTINGS)
    assert (detection.baseline, detection.baseline_count, detection.recent_count) == (
        "heldout", 30, 40)


def test_the_holdout_is_the_newest_fills() -> None:
    """Walk-forward: every held-out fill is newer than every training fill."""
    training, heldout = split(_fills(1, (100, CALM)), settings=SETTINGS)
    assert (len(training), len(heldout)) == (70, 30)
    assert max(f.time for f in training) < min(f.time for f in heldout)


cycle_inputs = st.tuples(
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=120),
    st.builds(Regime, bias=st.floats(-8, 8), spread_extra=st.floats(-0.5, 0.5),
              impact_extra=st.floats(-2, 2), noise=st.floats(0.5, 10)),
    st.floats(min_value=0, max_value=0.5),
)


@settings(max_examples=40, deadline=None)
@given(cycle_inputs)
def test_a_candidate_is_promoted_only_when_it_wins_by_the_margin(
        case: tuple[int, int, Regime, float]) -> None:
    """Whatever the fills, a promoted candidate's held-out RMSE is at most (1 − margin) × the
    current version's, and a rolled-back one's is not; a decision only follows drift."""
    seed, changed, regime, margin = case
    tuned = attrs.evolve(SETTINGS, healing=HealingSettings(promote_margin=margin))
    cycle = run_cycle(_fills(seed, (100, CALM), (changed, regime)), V1, settings=tuned, now=T0)
    if cycle.decision is None:
        assert not cycle.detection.drift
        return
    assert cycle.detection.drift
    bound = cycle.decision.current_rmse_bps * (1 - Decimal(repr(margin)))
    wins = cycle.decision.candidate_rmse_bps <= bound
    assert (cycle.decision.outcome is Outcome.PROMOTED) == (
        wins and cycle.decision.candidate_rmse_bps < cycle.decision.current_rmse_bps)


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_the_cycle_is_deterministic(seed: int) -> None:
    """The same fills give the same cycle, step for step."""
    fills = _fills(seed, (80, CALM), (80, Regime(bias=3.0)))
    first = run_cycle(fills, V1, settings=SETTINGS, now=T0)
    again = run_cycle(list(reversed(fills)), V1, settings=SETTINGS, now=T0)
    assert first == again
