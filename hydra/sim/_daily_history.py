"""A simulated market's daily bars before the session, from its own model. Pure.

The market model's daily figures set the past: each trading day's marketable flow is a Poisson
count at ``adv / mean_flow_size`` arrivals of ``mean_flow_size`` lots on average (so volume
averages the market's ADV), and the close walks back from ``start_mid`` with log returns of
standard deviation ``daily_volatility``. A day without trades has no bar, as IB gives none;
nor has a day CME does not trade (a weekend, an exchange holiday: `hydra._holidays`). The
model's flow is a day's, not an hour's, so an early-close day (the Friday after Thanksgiving)
is drawn as a whole day's volume.
The walk runs backwards from the session, so a seed gives the same bars whatever is asked
first, and asking for more sessions only adds older ones.

The simulated gateway generates its minute-level past in `hydra.gateway._history`; the two
agree in their daily figures (ADV and volatility), not bar for bar.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator, Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from .._core._market_stats import DailyBar
from .._holidays import is_exchange_holiday
from ._market import Print
from ._params import MarketParams


def trading_days_before(today: dt.date) -> Iterator[dt.date]:
    """The days CME trades before ``today`` (weekdays but its holidays), newest first,
    without end."""
    day = today - dt.timedelta(days=1)
    while True:
        if day.weekday() < 5 and not is_exchange_holiday(day):
            yield day
        day -= dt.timedelta(days=1)


def past_daily_bars(
    params: MarketParams, *, seed: str, today: dt.date, sessions: int
) -> tuple[DailyBar, ...]:
    """The bars of the ``sessions`` trading days before ``today`` (oldest first) that
    traded."""
    rng = random.Random(f"{seed}:daily")
    tick = params.contract.tick_size
    rate = params.adv / params.mean_flow_size
    sigma = params.daily_volatility
    close = float(params.start_mid)
    bars = []
    for day, _ in zip(trading_days_before(today), range(sessions), strict=False):
        opened = close * math.exp(-rng.gauss(0.0, sigma)) if sigma else close
        swing = abs(rng.gauss(0.0, sigma / 2)) if sigma else 0.0
        arrivals = _poisson(rng, rate)
        if arrivals:
            high, low = max(opened, close) * math.exp(swing), min(opened, close) * math.exp(-swing)
            bars.append(DailyBar(
                day=day, open=_on_tick(opened, tick), high=_on_tick(high, tick),
                low=_on_tick(low, tick), close=_on_tick(close, tick),
                volume=max(arrivals, round(arrivals * params.mean_flow_size))))
        close = opened
    return tuple(reversed(bars))


def live_daily_bar(tape: Sequence[Print], *, today: dt.date, tick: Decimal) -> DailyBar | None:
    """Today's bar so far, from the session's prints (None before the first)."""
    if not tape:
        return None
    prices = [p.price for p in tape]
    return DailyBar(day=today, open=prices[0] * tick, high=max(prices) * tick,
                    low=min(prices) * tick, close=prices[-1] * tick,
                    volume=sum(p.quantity for p in tape))


def _on_tick(price: float, tick: Decimal) -> Decimal:
    ticks = (Decimal(repr(price)) / tick).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return max(ticks, Decimal(1)) * tick


def _poisson(rng: random.Random, rate: float) -> int:
    """A Poisson count (its normal approximation above 30 arrivals)."""
    if rate <= 0:
        return 0
    if rate > 30:
        return max(0, round(rng.gauss(rate, math.sqrt(rate))))
    limit, count, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
