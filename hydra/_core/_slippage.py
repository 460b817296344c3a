"""Slippage: what an execution cost against the arrival mid, what the pre-trade model predicted,
and how well the two agree (the reconciler, a pure function over journaled pairs).

All slippage is in basis points of the arrival mid and signed as a cost: positive means the
trade did worse than the mid at arrival (bought above it or sold below it).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from decimal import Decimal
from typing import TypeGuard

import attrs

from .._enums import Side
from .._errors import InvalidValueError
from .._quotes import Quote
from .._settings import SlippageSettings

BPS = Decimal(10_000)


def _require(field: str, value: object, *, ok: bool, problem: str) -> None:
    if not ok:
        raise InvalidValueError(field, value, problem)


def _finite(value: object) -> TypeGuard[Decimal]:
    return isinstance(value, Decimal) and value.is_finite()


def _check_price(field: str, value: object) -> None:
    ok = _finite(value) and value > 0
    _require(field, value, ok=ok, problem="must be a finite Decimal above zero")


def _check_non_negative(field: str, value: object) -> None:
    ok = _finite(value) and value >= 0
    _require(field, value, ok=ok, problem="must be a finite Decimal, zero or more")


def shortfall_bps(side: Side, *, average_price: Decimal, arrival_mid: Decimal) -> Decimal:
    """Implementation shortfall: side.sign × (average_price − arrival_mid) / arrival_mid × 10,000.

    Positive is a cost: a buy filled above the arrival mid, or a sell filled below it.
    """
    _check_price("average_price", average_price)
    _check_price("arrival_mid", arrival_mid)
    return side.sign * (average_price - arrival_mid) / arrival_mid * BPS


def predict_slippage_bps(
    *,
    spread: Decimal,
    mid: Decimal,
    aggressiveness: Decimal,
    participation: Decimal,
    settings: SlippageSettings,
) -> Decimal:
    """Pre-trade slippage estimate in bps: crossing cost plus market impact.

        aggressiveness × (spread / 2) / mid × 10,000
        + impact_coefficient × daily_volatility_bps × √participation

    ``aggressiveness`` is the share of the half-spread the order expects to pay: 0 for a passive
    order that rests at its near touch, 1 for one that crosses. ``participation`` is the order's
    quantity as a fraction of average daily volume; impact grows with its square root (the usual
    square-root law).
    """
    crossing, impact = slippage_terms(spread=spread, mid=mid, aggressiveness=aggressiveness,
                                      participation=participation, settings=settings)
    return crossing + impact


def slippage_terms(
    *,
    spread: Decimal,
    mid: Decimal,
    aggressiveness: Decimal,
    participation: Decimal,
    settings: SlippageSettings,
) -> tuple[Decimal, Decimal]:
    """The two terms of `predict_slippage_bps`, (crossing cost, market impact), in bps: what a
    model version weighs (`hydra._core._model_versions`)."""
    _check_non_negative("spread", spread)
    _check_price("mid", mid)
    _check_non_negative("participation", participation)
    ok = _finite(aggressiveness) and 0 <= aggressiveness <= 1
    _require("aggressiveness", aggressiveness, ok=ok, problem="must be a Decimal from 0 to 1")
    crossing = aggressiveness * (spread / 2) / mid * BPS
    impact = settings.impact_coefficient * settings.daily_volatility_bps * participation.sqrt()
    return crossing, impact


def fill_aggressiveness(side: Side, *, limit_price: Decimal, quote: Quote) -> Decimal:
    """How far into the crowd's spread an order's limit reached when it filled: the
    ``aggressiveness`` of `predict_slippage_bps` for that fill.

    0 at the crowd's near touch or behind it (a resting fill), 1 at its far touch or through
    it (a crossing fill), ½ at the mid, in proportion between; with no spread, 1 at the touch
    and 0 behind it. ``quote`` is the crowd's, our own order taken out of it
    (`hydra._core._crowd.crowd_quote`), as it stood before the fill.
    """
    _check_price("limit_price", limit_price)
    reach = side.sign * (limit_price - quote.near_touch(side))
    if not quote.spread:
        return Decimal(1) if reach >= 0 else Decimal(0)
    return min(max(reach / quote.spread, Decimal(0)), Decimal(1))


@attrs.frozen(kw_only=True)
class SlippageStats:
    """How predicted slippage compares with actual, over ``count`` fills (all in bps).

    ``bias_bps`` is mean(actual − predicted): positive means the model is optimistic. Bias and
    RMSE are 0 when ``count`` is 0; ``correlation`` is None below two pairs or when either side
    has no variance, and then the model is not ``calibrated``.
    """

    count: int
    bias_bps: Decimal
    rmse_bps: Decimal
    correlation: float | None
    calibrated: bool


def reconcile(
    pairs: Iterable[tuple[Decimal, Decimal]], *, settings: SlippageSettings
) -> SlippageStats:
    """Bias, RMSE and Pearson correlation of ``(predicted, actual)`` slippage pairs, in bps.

    Calibrated when |bias| ≤ ``max_bias_bps`` and correlation ≥ ``min_correlation``.
    """
    predicted, actual = _split(pairs)
    errors = [a - p for p, a in zip(predicted, actual, strict=True)]
    count = len(errors)
    bias = sum(errors, Decimal(0)) / count if count else Decimal(0)
    rmse = (sum((e * e for e in errors), Decimal(0)) / count).sqrt() if count else Decimal(0)
    correlation = _correlation(predicted, actual)
    calibrated = (
        correlation is not None
        and abs(bias) <= settings.max_bias_bps
        and correlation >= settings.min_correlation
    )
    return SlippageStats(
        count=count, bias_bps=bias, rmse_bps=rmse, correlation=correlation, calibrated=calibrated
    )


def _split(pairs: Iterable[tuple[Decimal, Decimal]]) -> tuple[list[Decimal], list[Decimal]]:
    predicted: list[Decimal] = []
    actual: list[Decimal] = []
    for p, a in pairs:
        for field, value in (("predicted", p), ("actual", a)):
            _require(field, value, ok=_finite(value), problem="must be a finite Decimal")
        predicted.append(p)
        actual.append(a)
    return predicted, actual


def _correlation(predicted: list[Decimal], actual: list[Decimal]) -> float | None:
    """Pearson's r, or None when it is undefined (fewer than two pairs, or a constant side)."""
    try:
        r = statistics.correlation([float(p) for p in predicted], [float(a) for a in actual])
    except statistics.StatisticsError:
        return None
    return r if math.isfinite(r) else None
