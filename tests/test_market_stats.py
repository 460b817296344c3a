"""ADV and daily volatility from daily bars (`hydra._core._market_stats`)."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import statistics
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydra._core._market_stats import (
    DailyBar,
    average_daily_volume,
    complete_sessions,
    daily_volatility_bps,
    market_stats,
)
from hydra._errors import InvalidValueError
from tests.strategies import daily_bar_series

TODAY = dt.date(2026, 12, 1)


def _bar(day: dt.date, close: Decimal | int | str = 350, volume: int = 1000) -> DailyBar:
    return DailyBar(day=day, open=close, high=close, low=close, close=close, volume=volume)


def _days(count: int, *, before: dt.date = TODAY) -> list[dt.date]:
    return [before - dt.timedelta(days=count - n) for n in range(count)]


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=3, max_value=40))
def test_adv_of_constant_volumes_is_that_volume(volume: int, count: int) -> None:
    """Sessions that all traded the same volume have that volume as their ADV."""
    stats = market_stats([_bar(d, volume=volume) for d in _days(count)], before=TODAY,
                         sessions=count, min_sessions=3)
    assert stats.adv == (volume or None)
    assert stats.sessions == count


@given(st.decimals(min_value=1, max_value=100_000, places=2),
       st.integers(min_value=3, max_value=40))
def test_volatility_of_a_constant_price_is_zero(close: Decimal, count: int) -> None:
    """Closes that never move have no volatility."""
    assert daily_volatility_bps([_bar(d, close) for d in _days(count)]) == 0


@given(daily_bar_series(min_size=1))
def test_adv_lies_between_the_smallest_and_largest_volume(bars: list[DailyBar]) -> None:
    """The mean volume is never outside the volumes it averages."""
    volumes = [bar.volume for bar in bars]
    assert min(volumes) <= average_daily_volume(bars) <= max(volumes)


@given(daily_bar_series(min_size=3), st.sampled_from([Decimal(2), Decimal("0.5"), Decimal(10)]))
def test_volatility_does_not_depend_on_the_price_level(bars: list[DailyBar],
                                                       scale: Decimal) -> None:
    """Scaling every price leaves log returns, and so the volatility, as they were."""
    ordered = sorted(bars, key=lambda b: b.day)
    scaled = [_bar(b.day, b.close * scale, b.volume) for b in ordered]
    assert abs(daily_volatility_bps(scaled) - daily_volatility_bps(ordered)) <= Decimal("0.02")


@given(daily_bar_series(), st.integers(min_value=1, max_value=50))
def test_complete_sessions_are_the_latest_before_today_in_order(bars: list[DailyBar],
                                                                sessions: int) -> None:
    """At most ``sessions`` bars, all before today, oldest first, and no older bar left out
    for a newer one."""
    before = dt.date(2025, 6, 1)
    used = complete_sessions(bars, before=before, sessions=sessions)
    days = [bar.day for bar in used]
    assert days == sorted(days) and len(days) <= sessions
    assert all(day < before for day in days)
    skipped = [b.day for b in bars if b.day < before and b.day not in days]
    assert not skipped or not days or max(skipped) < min(days)


def test_volatility_is_the_sample_deviation_of_log_returns_in_bps() -> None:
    """Closes 100, 101, 100, 102: the deviation of their three log returns, × 10,000."""
    closes = [100, 101, 100, 102]
    returns = [math.log(b / a) for a, b in itertools.pairwise(closes)]
    expected = round(statistics.stdev(returns) * 10_000, 2)
    bars = [_bar(d, c) for d, c in zip(_days(4), closes, strict=True)]
    assert daily_volatility_bps(bars) == Decimal(repr(expected))
    assert 100 < expected < 200  # about 1.4% a day


def test_todays_session_is_not_counted() -> None:
    """A bar for today (its session is not over) is left out of both figures."""
    bars = [_bar(d, volume=1000) for d in _days(5)] + [_bar(TODAY, 999, volume=1)]
    stats = market_stats(bars, before=TODAY, sessions=5, min_sessions=5)
    assert (stats.adv, stats.volatility_bps, stats.sessions) == (1000, 0, 5)


def test_only_the_latest_sessions_are_measured() -> None:
    """With 30 bars and ``sessions`` 10, the ten newest give the ADV."""
    bars = [_bar(d, volume=5 if n < 20 else 100) for n, d in enumerate(_days(30))]
    assert market_stats(bars, before=TODAY, sessions=10, min_sessions=3).adv == 100


def test_a_day_given_twice_counts_once_the_last_given() -> None:
    """A repeated day (a broker's correction) replaces the earlier bar."""
    days = _days(3)
    bars = [_bar(d, volume=10) for d in days] + [_bar(days[0], volume=40)]
    assert market_stats(bars, before=TODAY, sessions=3, min_sessions=3).adv == 20


def test_too_few_sessions_measure_nothing_and_say_why() -> None:
    """Fewer complete sessions than ``min_sessions``: neither figure, and the reason."""
    stats = market_stats([_bar(d) for d in _days(4)], before=TODAY, sessions=20,
                         min_sessions=5)
    assert (stats.adv, stats.volatility_bps) == (None, None)
    assert stats.adv_problem == stats.volatility_problem == (
        "4 complete daily bars, fewer than the 5 needed")


def test_volatility_needs_three_sessions_whatever_min_sessions_says() -> None:
    """Two closes make one return, which has no deviation: three sessions at least."""
    stats = market_stats([_bar(d) for d in _days(2)], before=TODAY, sessions=5, min_sessions=1)
    assert stats.volatility_bps is None
    assert stats.volatility_problem == "2 complete daily bars, fewer than the 3 needed"


def test_a_market_that_traded_nothing_has_no_adv() -> None:
    """Sessions of zero volume give no ADV (a participation of infinity), and say so."""
    stats = market_stats([_bar(d, volume=0) for d in _days(5)], before=TODAY, sessions=5,
                         min_sessions=5)
    assert stats.adv is None and stats.adv_problem == "no volume in 5 sessions"
    assert stats.volatility_bps == 0


@pytest.mark.parametrize(("field", "value"), [
    ("close", 0), ("close", "nan"), ("open", -1), ("volume", -1), ("volume", 1.5),
    ("day", "2026-12-01"), ("day", dt.datetime(2026, 12, 1, tzinfo=dt.UTC)),
])
def test_a_bad_bar_names_its_field(field: str, value: object) -> None:
    """A bar with a price that is not above zero or a volume that is not a count is refused,
    naming the field."""
    fields: dict[str, object] = {"day": TODAY, "open": 1, "high": 1, "low": 1, "close": 1,
                                 "volume": 1}
    with pytest.raises(InvalidValueError) as caught:
        DailyBar(**{**fields, field: value})  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.parametrize("name", ["sessions", "min_sessions"])
@pytest.mark.parametrize("value", [0, -3, True])
def test_counts_must_be_whole_and_positive(name: str, value: object) -> None:
    """A session count of zero, below zero or a bool is refused by name."""
    counts: dict[str, object] = {"sessions": 5, "min_sessions": 3, name: value}
    with pytest.raises(InvalidValueError) as caught:
        market_stats([], before=TODAY, **counts)  # type: ignore[arg-type]
    assert caught.value.field == name
