"""Tests for the slippage model's versions: weights per symbol and policy, stamped
predictions, and the JSON the journal keeps."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from hydra._converter import from_json, unstructure
from hydra._core._model_versions import (
    FIRST_VERSION,
    ModelVersion,
    Weights,
    first_version,
    model_key,
    next_version_id,
)
from hydra._core._slippage import predict_slippage_bps
from hydra._enums import Policy
from hydra._settings import SlippageSettings

SETTINGS = SlippageSettings()
T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
D = Decimal

amounts = st.decimals(min_value=-50, max_value=50, places=4)
fractions = st.decimals(min_value=0, max_value=1, places=3)
policies = st.sampled_from([Policy.PATIENCE, Policy.TWAP, Policy.CROSS, Policy.PASSIVE])


@given(spread=st.decimals(min_value=0, max_value=5, places=2),
       mid=st.decimals(min_value=1, max_value=5000, places=2),
       aggressiveness=fractions, participation=fractions, policy=policies)
def test_first_version_predicts_as_the_configured_model(
        spread: Decimal, mid: Decimal, aggressiveness: Decimal, participation: Decimal,
        policy: Policy) -> None:
    """v1's prediction is `predict_slippage_bps`'s, stamped v1, for any order."""
    prediction = first_version(T0).predict(
        symbol="ZO", policy=policy, spread=spread, mid=mid, aggressiveness=aggressiveness,
        participation=participation, settings=SETTINGS)
    assert prediction.version_id == FIRST_VERSION
    assert prediction.bps == predict_slippage_bps(
        spread=spread, mid=mid, aggressiveness=aggressiveness, participation=participation,
        settings=SETTINGS)
    assert prediction.bps == prediction.crossing_bps + prediction.impact_bps


def test_impact_uses_the_symbols_own_volatility() -> None:
    """A symbol with a volatility of its own (measured from its bars at start) has its impact
    from it; another symbol keeps ``daily_volatility_bps``."""
    settings = SlippageSettings(daily_volatility_bps=D(120), volatility_bps={"HE": D(200)})
    order = {"spread": D("0.25"), "mid": D("400"), "aggressiveness": D(0),
             "participation": D("0.01"), "settings": settings}
    version = first_version(T0)
    assert version.predict(symbol="HE", policy=Policy.TWAP, **order).impact_bps == D(10)
    assert version.predict(symbol="ZO", policy=Policy.TWAP, **order).impact_bps == D(6)


def test_weights_apply_to_their_symbol_and_policy_only() -> None:
    """A version's weights for ZO/cross change ZO's crossing orders, not its patient ones."""
    version = ModelVersion(version_id="v2", created_at=T0, reason="test", weights={
        model_key("ZO", Policy.CROSS): Weights(bias_bps=D(1), spread_weight=D(2),
                                               impact_weight=D(0))})
    order = {"spread": D("0.25"), "mid": D("400"), "aggressiveness": D(1),
             "participation": D("0.01"), "settings": SETTINGS}
    cross = version.predict(symbol="ZO", policy=Policy.CROSS, **order)
    patient = version.predict(symbol="ZO", policy=Policy.PATIENCE, **order)
    assert cross.crossing_bps == D("3.125") and cross.impact_bps == D(6)
    assert cross.bps == D(1) + 2 * D("3.125")
    assert patient.bps == D("3.125") + D(6)
    assert cross.to_json()["version_id"] == "v2"


@given(weights=st.dictionaries(st.sampled_from(["ZO/patience", "HE/twap", "ZO/cross"]),
                               st.builds(Weights, bias_bps=amounts, spread_weight=amounts,
                                         impact_weight=amounts)),
       residuals=st.lists(amounts, max_size=20))
def test_a_version_survives_its_json(weights: dict[str, Weights],
                                     residuals: list[Decimal]) -> None:
    """A version read back from its note's JSON equals the version written."""
    version = ModelVersion(version_id="v3", created_at=T0, reason="a reason", parent="v2",
                           weights=weights, heldout_residuals=tuple(residuals))
    assert from_json(json.loads(json.dumps(unstructure(version))), ModelVersion) == version


def test_held_out_rmse_is_the_root_mean_square_of_the_residuals() -> None:
    """Residuals 3 and −4 give a held-out RMSE of √12.5; none give None."""
    version = ModelVersion(version_id="v2", created_at=T0, reason="r",
                           heldout_residuals=(D(3), D(-4)))
    assert version.heldout_rmse_bps == D("12.5").sqrt()
    assert first_version(T0).heldout_rmse_bps is None


def test_version_ids_count_up() -> None:
    """v1 is followed by v2, v9 by v10."""
    assert (next_version_id("v1"), next_version_id("v9")) == ("v2", "v10")
