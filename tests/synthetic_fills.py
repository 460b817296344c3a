"""Synthetic fills for the healing cycle: predictions from a version's weights on the model's two
terms, and actual slippage with a known change from a given fill on, from a seeded
`random.Random`; and the same fills written into a real journal as the engine writes them."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import attrs

from hydra._contracts import OATS
from hydra._core._model_versions import FillPrediction, Prediction, Weights
from hydra._enums import NoteKind, Policy, Side
from hydra._healing import HealingFill
from hydra._ids import ClientOrderId, ExecutionId, IntentId
from hydra._journal import Journal
from hydra._model_store import prediction_note
from hydra._orders import Fill, OrderIntent, OrderRequest
from tests.paper_journal import T0, Clock


def _bps(value: float) -> Decimal:
    return Decimal(f"{value:.4f}")


@attrs.frozen(kw_only=True)
class Regime:
    """How actual slippage departs from the prediction: a bias, extra weight on the crossing
    cost and on the impact term, and the noise's standard deviation (all in bps)."""

    bias: float = 0.0
    spread_extra: float = 0.0
    impact_extra: float = 0.0
    noise: float = 3.0


def synthetic_fills(rng: random.Random, regimes: list[tuple[int, Regime]], *,
                    symbol: str = "ZO", policy: Policy = Policy.PATIENCE,
                    version_id: str = "v1", weights: Weights | None = None,
                    start: int = 0) -> list[HealingFill]:
    """``count`` fills under each ``(count, regime)`` in turn, an hour apart from ``start``
    hours after T0; crossing costs of 3, 6 or 9 bps and impact from 0.5 to 4 bps, predicted
    with ``weights`` (the configured model's when None)."""
    weights = weights or Weights()
    fills = []
    for count, regime in regimes:
        for _ in range(count):
            crossing, impact = rng.choice([3.0, 6.0, 9.0]), rng.uniform(0.5, 4.0)
            actual = (crossing + impact + regime.bias + regime.spread_extra * crossing
                      + regime.impact_extra * impact + rng.gauss(0, regime.noise))
            fills.append(HealingFill(
                symbol=symbol, policy=policy, version_id=version_id,
                time=T0 + dt.timedelta(hours=start + len(fills)),
                predicted_bps=weights.predict(crossing_bps=_bps(crossing),
                                              impact_bps=_bps(impact)),
                actual_bps=_bps(actual),
                crossing_bps=_bps(crossing), impact_bps=_bps(impact)))
    return fills


def write_fills(journal: Journal, clock: Clock, fills: list[HealingFill], *,
                stamped: bool = True, own: bool = True,
                pre_trade: Decimal | None = None) -> None:
    """Each fill (of oats) as a router and risk actor journal it, at the fill's time: the
    intent, its prediction note (when ``stamped``), the order, and the fill with its actual
    slippage, its order's pre-trade estimate (``pre_trade``, else the fill's prediction) and,
    when ``own`` (and ``stamped``), its own prediction, the fill's. Without ``own`` the fill is
    journaled as before fills had their own predictions: the fill's prediction is its
    order's."""
    for fill in fills:
        clock.now = fill.time
        intent_id = IntentId(f"int-{fill.time:%m%d%H}")
        intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=1, intent_id=intent_id,
                             policy=fill.policy)
        estimate = fill.predicted_bps if pre_trade is None or not own else pre_trade
        journal.record_intent(intent, arrival_mid=Decimal(400), predicted_bps=estimate)
        prediction = None
        if stamped:
            assert fill.crossing_bps is not None and fill.impact_bps is not None
            prediction = Prediction(version_id=fill.version_id, symbol="ZO", policy=fill.policy,
                                    bps=fill.predicted_bps, crossing_bps=fill.crossing_bps,
                                    impact_bps=fill.impact_bps)
            noted = attrs.evolve(prediction, bps=estimate) if own else prediction
            journal.record_note(NoteKind.SLIPPAGE_PREDICTED, **prediction_note(intent_id, noted))
        order = ClientOrderId(f"{intent_id}.1")
        journal.record_order(OrderRequest(client_order_id=order, intent_id=intent_id,
                                          contract=OATS, side=Side.BUY, quantity=1,
                                          limit_price=Decimal(401)))
        journal.record_fill(
            Fill(execution_id=ExecutionId(f"e-{intent_id}"), client_order_id=order,
                 symbol="ZO", side=Side.BUY, price=Decimal(400), quantity=1, time=fill.time),
            intent_id=intent_id, predicted_bps=estimate, actual_bps=fill.actual_bps,
            fill_prediction=None if prediction is None or not own else FillPrediction(
                prediction=prediction, limit_price=Decimal(401), bid=Decimal("399.75"),
                ask=Decimal("400.25"), aggressiveness=Decimal(1),
                participation=Decimal(1) / 1500).to_json())
