"""Tests for the slippage measure, the pre-trade model and the reconciler."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydra._contracts import ContractSpec
from hydra._core._slippage import SlippageStats, predict_slippage_bps, reconcile, shortfall_bps
from hydra._enums import Side
from hydra._errors import InvalidValueError
from hydra._quotes import Quote
from hydra._settings import SlippageSettings
from tests.strategies import contract_and_quote, sides

D = Decimal
SETTINGS = SlippageSettings(
    impact_coefficient=D("0.5"), daily_volatility_bps=D(120), max_bias_bps=D(2),
    min_correlation=0.3,
)


def test_buy_above_arrival_is_a_cost() -> None:
    """A buy averaging 401 against a 400 arrival mid cost 25 bps."""
    assert shortfall_bps(Side.BUY, average_price=D(401), arrival_mid=D(400)) == D(25)


def test_sell_above_arrival_is_a_gain() -> None:
    """A sell averaging 401 against a 400 arrival mid has a shortfall of -25 bps."""
    assert shortfall_bps(Side.SELL, average_price=D(401), arrival_mid=D(400)) == D(-25)


@pytest.mark.parametrize("bad", [D(0), D(-1), D("NaN"), D("Infinity"), 400.0])
def test_shortfall_refuses_a_bad_arrival_mid(bad: object) -> None:
    """A zero, negative, non-finite or float arrival mid is refused, naming the field."""
    with pytest.raises(InvalidValueError, match="arrival_mid"):
        shortfall_bps(Side.BUY, average_price=D(400), arrival_mid=bad)  # type: ignore[arg-type]


@given(contract_and_quote(), sides, st.integers(min_value=-40, max_value=40))
def test_shortfall_sign_matches_side(
    contract_quote: tuple[ContractSpec, Quote], side: Side, ticks_away: int
) -> None:
    """The shortfall's sign is the side's sign times the sign of (average − arrival mid)."""
    contract, quote = contract_quote
    average = quote.mid + ticks_away * contract.tick_size
    bps = shortfall_bps(side, average_price=average, arrival_mid=quote.mid)
    direction = (average > quote.mid) - (average < quote.mid)
    assert (bps > 0) - (bps < 0) == side.sign * direction


def test_prediction_adds_crossing_cost_and_square_root_impact() -> None:
    """Half of a 0.5 spread on a 400 mid is 6.25 bps; 0.5 × 120 × √0.04 adds 12 bps."""
    predicted = predict_slippage_bps(
        spread=D("0.5"), mid=D(400), aggressiveness=D(1), participation=D("0.04"),
        settings=SETTINGS,
    )
    assert predicted == D("18.25")


def test_passive_order_with_no_participation_predicts_zero() -> None:
    """Aggressiveness 0 and participation 0 predict no slippage at all."""
    predicted = predict_slippage_bps(
        spread=D(1), mid=D(400), aggressiveness=D(0), participation=D(0), settings=SETTINGS
    )
    assert predicted == 0


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("aggressiveness", {"aggressiveness": D("1.5")}),
        ("aggressiveness", {"aggressiveness": D(-1)}),
        ("participation", {"participation": D(-1)}),
        ("participation", {"participation": D("NaN")}),
        ("spread", {"spread": D(-1)}),
        ("mid", {"mid": D(0)}),
    ],
)
def test_prediction_validates_its_inputs(field: str, overrides: dict[str, Decimal]) -> None:
    """Out-of-range model inputs are refused with the field named."""
    kwargs = {
        "spread": D(1), "mid": D(400), "aggressiveness": D("0.5"), "participation": D("0.01"),
        **overrides,
    }
    with pytest.raises(InvalidValueError, match=field):
        predict_slippage_bps(**kwargs, settings=SETTINGS)


HAND_PAIRS = [(D(1), D(2)), (D(2), D(1)), (D(3), D(4)), (D(4), D(5))]


def test_reconcile_hand_computed_example() -> None:
    """Errors 1, -1, 1, 1 give bias 0.5 and RMSE 1; r = 6 / √50 ≈ 0.8485."""
    stats = reconcile(HAND_PAIRS, settings=SETTINGS)
    assert stats.count == 4
    assert stats.bias_bps == D("0.5")
    assert stats.rmse_bps == D(1)
    assert stats.correlation == pytest.approx(6 / math.sqrt(50))
    assert stats.calibrated


def test_reconcile_bias_beyond_threshold_is_not_calibrated() -> None:
    """A bias above max_bias_bps is not calibrated even with good correlation."""
    settings = SlippageSettings(max_bias_bps=D("0.4"), min_correlation=0.3)
    assert not reconcile(HAND_PAIRS, settings=settings).calibrated


def test_reconcile_weak_correlation_is_not_calibrated() -> None:
    """A correlation below min_correlation is not calibrated even with no bias."""
    settings = SlippageSettings(min_correlation=0.9)
    assert not reconcile(HAND_PAIRS, settings=settings).calibrated


def test_reconcile_with_no_pairs() -> None:
    """No pairs: count 0, zero bias and RMSE, no correlation, not calibrated."""
    assert reconcile([], settings=SETTINGS) == SlippageStats(
        count=0, bias_bps=D(0), rmse_bps=D(0), correlation=None, calibrated=False
    )


def test_reconcile_one_pair_has_no_correlation() -> None:
    """A single pair has a bias and RMSE but no correlation, so it is not calibrated."""
    stats = reconcile([(D(1), D(1))], settings=SETTINGS)
    assert (stats.count, stats.bias_bps, stats.correlation, stats.calibrated) == (
        1, D(0), None, False
    )


def test_reconcile_constant_predictions_have_no_correlation() -> None:
    """Zero variance on one side leaves the correlation undefined (None), not calibrated."""
    stats = reconcile([(D(3), D(1)), (D(3), D(5))], settings=SETTINGS)
    assert stats.correlation is None
    assert not stats.calibrated


def test_reconcile_refuses_nan() -> None:
    """A NaN in the journaled pairs is an error, not a silent statistic."""
    with pytest.raises(InvalidValueError, match="actual"):
        reconcile([(D(1), D("NaN"))], settings=SETTINGS)
