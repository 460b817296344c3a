"""Market facts from daily bars: average daily volume (ADV) and daily volatility. Pure.

ADV is the mean volume of the latest complete sessions; daily volatility is the sample
standard deviation of the log returns between their closes, in basis points. Too few sessions
(or no volume at all) give no figure, and a reason instead: the caller falls back to its
configured one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import statistics
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import attrs

from .._errors import InvalidValueError
from .._validate import non_negative_int, positive, to_decimal

BPS = 10_000


@attrs.frozen(kw_only=True)
class DailyBar:
    """One session's trades: its trading day, prices in the contract's units, and its
    volume in contracts."""

    day: dt.date = attrs.field()
    open: Decimal = attrs.field(converter=to_decimal, validator=positive)
    high: Decimal = attrs.field(converter=to_decimal, validator=positive)
    low: Decimal = attrs.field(converter=to_decimal, validator=positive)
    close: Decimal = attrs.field(converter=to_decimal, validator=positive)
    volume: int = attrs.field(validator=non_negative_int)

    @day.validator
    def _a_date(self, field: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise InvalidValueError(field.name, value, "must be a date (not a time of day)")


@attrs.frozen(kw_only=True)
class MarketStats:
    """What the bars say: ADV (contracts a day) and daily volatility (bps) over ``sessions``
    complete sessions; a figure that could not be measured is None, its reason beside it."""

    sessions: int
    adv: int | None
    volatility_bps: Decimal | None
    adv_problem: str | None = None
    volatility_problem: str | None = None


def complete_sessions(
    bars: Iterable[DailyBar], *, before: dt.date, sessions: int
) -> tuple[DailyBar, ...]:
    """The latest ``sessions`` bars of days before ``before`` (today's session is not over),
    oldest first, one per day (the last given for a day wins)."""
    _count("sessions", sessions)
    by_day = {bar.day: bar for bar in bars if bar.day < before}
    return tuple(by_day[day] for day in sorted(by_day)[-sessions:])


def average_daily_volume(bars: Iterable[DailyBar]) -> Decimal:
    """The mean volume of ``bars`` (at least one), in contracts a day."""
    volumes = [bar.volume for bar in bars]
    return Decimal(sum(volumes)) / len(volumes)


def daily_volatility_bps(bars: Iterable[DailyBar]) -> Decimal:
    """The sample standard deviation of the log returns between consecutive closes of
    ``bars`` (at least three), in bps, to a hundredth."""
    closes = [float(bar.close) for bar in bars]
    returns = [math.log(b / a) for a, b in itertools.pairwise(closes)]
    return Decimal(repr(round(statistics.stdev(returns) * BPS, 2)))


def market_stats(
    bars: Iterable[DailyBar], *, before: dt.date, sessions: int, min_sessions: int
) -> MarketStats:
    """ADV and daily volatility over the latest ``sessions`` complete sessions before
    ``before``; fewer than ``min_sessions`` of them (at least three) measure neither, and a
    market that traded nothing in them has no ADV."""
    _count("min_sessions", min_sessions)
    used = complete_sessions(bars, before=before, sessions=sessions)
    wanted = max(3, min_sessions)
    if len(used) < wanted:
        problem = f"{len(used)} complete daily bars, fewer than the {wanted} needed"
        return MarketStats(sessions=len(used), adv=None, volatility_bps=None,
                           adv_problem=problem, volatility_problem=problem)
    adv = int(average_daily_volume(used).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    return MarketStats(sessions=len(used), adv=adv or None,
                       volatility_bps=daily_volatility_bps(used),
                       adv_problem=None if adv else f"no volume in {len(used)} sessions")


def _count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidValueError(name, value, "must be a whole number above zero")
