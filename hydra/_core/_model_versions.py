"""Versions of the slippage model: the weights a version puts on the pre-trade model's terms per
symbol and policy, when and why it was made, and predictions stamped with the version that made
them.

A version predicts, for an order of ``symbol`` worked by ``policy``,

    bias_bps + spread_weight × crossing_bps + impact_weight × impact_bps

where crossing and impact are the configured model's two terms (`slippage_terms`): for an
intent before it trades (`ModelVersion.predict`, its policy's expected aggressiveness and its
whole quantity), and for each fill (`ModelVersion.predict_fill`, the aggressiveness its order's
limit had against the crowd's quote before the fill, and the fill's own quantity). The first
version, ``v1``, is the configured model itself (bias 0, both weights 1, for every key); the
healing cycle (`hydra._core._healing`) makes the next ones. Pure values, with their JSON shape
for the journal's notes (a version's is `hydra._converter`'s, which this pure layer cannot
import).
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Mapping, Sequence
from decimal import Decimal

import attrs

from .._enums import Policy, Side
from .._quotes import Quote
from .._settings import SlippageSettings
from ._routing import participation as share_of_adv
from ._slippage import fill_aggressiveness, slippage_terms

FIRST_VERSION = "v1"
FIRST_REASON = ("the configured model: crossing cost plus impact_coefficient × "
                "daily_volatility_bps × √participation")


def model_key(symbol: str, policy: Policy) -> str:
    """The key a version's weights are kept under: ``ZO/patience``."""
    return f"{symbol}/{policy.value}"


def rmse(residuals: Sequence[Decimal]) -> Decimal | None:
    """The root mean square of ``residuals`` (None for none)."""
    if not residuals:
        return None
    return (sum((r * r for r in residuals), Decimal(0)) / len(residuals)).sqrt()


@attrs.frozen(kw_only=True)
class Weights:
    """What one version makes of the model's terms for one symbol and policy."""

    bias_bps: Decimal = Decimal(0)
    spread_weight: Decimal = Decimal(1)
    impact_weight: Decimal = Decimal(1)

    def predict(self, *, crossing_bps: Decimal, impact_bps: Decimal) -> Decimal:
        return self.bias_bps + self.spread_weight * crossing_bps + self.impact_weight * impact_bps


@attrs.frozen(kw_only=True)
class Prediction:
    """A pre-trade slippage estimate, stamped with the version that made it and the terms it
    weighed (what the healing cycle refits)."""

    version_id: str
    symbol: str
    policy: Policy
    bps: Decimal
    crossing_bps: Decimal
    impact_bps: Decimal

    def to_json(self) -> dict[str, str]:
        """The note the journal keeps beside the intent (``slippage_predicted``)."""
        return {"version_id": self.version_id, "symbol": self.symbol,
                "policy": self.policy.value, "predicted_bps": str(self.bps),
                "crossing_bps": str(self.crossing_bps), "impact_bps": str(self.impact_bps)}


@attrs.frozen(kw_only=True)
class FillPrediction:
    """One fill's own prediction, and what it was made from: the order's limit when it
    filled, the crowd's quote before the fill (our order out of it), the aggressiveness the
    one had against the other (`fill_aggressiveness`) and the fill's participation."""

    prediction: Prediction
    limit_price: Decimal
    bid: Decimal
    ask: Decimal
    aggressiveness: Decimal
    participation: Decimal

    def to_json(self) -> dict[str, str]:
        """What a fill's journal payload keeps as its ``fill_prediction`` (read back by
        `hydra._codec.fill_prediction_from_json`)."""
        return {**self.prediction.to_json(), "limit_price": str(self.limit_price),
                "bid": str(self.bid), "ask": str(self.ask),
                "aggressiveness": str(self.aggressiveness),
                "participation": str(self.participation)}


def _frozen(value: Mapping[str, Weights]) -> Mapping[str, Weights]:
    return types.MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class ModelVersion:
    """One version of the slippage model: its weights per key (a key it does not list gets
    `Weights()`, the configured model), when and why it was made, the version it replaced,
    and its residuals (actual − predicted) on the held-out fills it was judged on: the baseline
    the next drift check compares with."""

    version_id: str
    created_at: dt.datetime
    reason: str
    parent: str | None = None
    weights: Mapping[str, Weights] = attrs.field(factory=dict, converter=_frozen)
    heldout_residuals: tuple[Decimal, ...] = ()

    @property
    def heldout_rmse_bps(self) -> Decimal | None:
        return rmse(self.heldout_residuals)

    def weights_for(self, symbol: str, policy: Policy) -> Weights:
        return self.weights.get(model_key(symbol, policy), Weights())

    def predict(self, *, symbol: str, policy: Policy, spread: Decimal, mid: Decimal,
                aggressiveness: Decimal, participation: Decimal,
                settings: SlippageSettings) -> Prediction:
        """This version's estimate for an order (arguments as `predict_slippage_bps`; the
        daily volatility is ``symbol``'s, `SlippageSettings.for_symbol`)."""
        crossing, impact = slippage_terms(spread=spread, mid=mid, aggressiveness=aggressiveness,
                                          participation=participation,
                                          settings=settings.for_symbol(symbol))
        bps = self.weights_for(symbol, policy).predict(crossing_bps=crossing, impact_bps=impact)
        return Prediction(version_id=self.version_id, symbol=symbol, policy=policy, bps=bps,
                          crossing_bps=crossing, impact_bps=impact)

    def predict_fill(self, *, symbol: str, policy: Policy, side: Side, limit_price: Decimal,
                     quote: Quote, quantity: int, adv: int | None,
                     settings: SlippageSettings) -> FillPrediction:
        """This version's estimate for one fill of ``quantity`` lots of an order of
        ``symbol`` (its intent worked by ``policy``: the weights' key) whose limit was
        ``limit_price``, against the crowd's ``quote`` before the fill; participation is the
        fill's quantity over ``adv`` (0 with no ADV, as for an intent)."""
        aggressiveness = fill_aggressiveness(side, limit_price=limit_price, quote=quote)
        participation = share_of_adv(quantity, adv=adv) if adv else Decimal(0)
        prediction = self.predict(symbol=symbol, policy=policy, spread=quote.spread,
                                  mid=quote.mid, aggressiveness=aggressiveness,
                                  participation=participation, settings=settings)
        return FillPrediction(prediction=prediction, limit_price=limit_price, bid=quote.bid,
                              ask=quote.ask, aggressiveness=aggressiveness,
                              participation=participation)


def first_version(created_at: dt.datetime) -> ModelVersion:
    """``v1``: the configured model, for every symbol and policy."""
    return ModelVersion(version_id=FIRST_VERSION, created_at=created_at, reason=FIRST_REASON)


def next_version_id(version_id: str) -> str:
    """The id after ``version_id``: ``v1`` → ``v2``."""
    return f"v{int(version_id.removeprefix('v')) + 1}"
