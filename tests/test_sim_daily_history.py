"""The simulated market's daily bars before the session (`hydra.sim._daily_history`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from hydra._core._market_stats import market_stats
from hydra._enums import Side
from hydra.sim import MarketParams
from hydra.sim._daily_history import live_daily_bar, past_daily_bars, trading_days_before
from hydra.sim._market import Print

TODAY = dt.date(2025, 3, 3)  # a Monday


def test_a_seed_gives_the_same_bars_and_more_sessions_only_add_older_ones() -> None:
    """The walk runs back from the session: 30 sessions end with the 10 that 10 gave."""
    oats = MarketParams.oats()
    ten = past_daily_bars(oats, seed="1:ZO", today=TODAY, sessions=10)
    thirty = past_daily_bars(oats, seed="1:ZO", today=TODAY, sessions=30)
    assert ten == past_daily_bars(oats, seed="1:ZO", today=TODAY, sessions=10)
    assert thirty[-10:] == ten and len(thirty) == 30
    assert past_daily_bars(oats, seed="2:ZO", today=TODAY, sessions=10) != ten


def test_bars_are_weekdays_before_today_oldest_first_on_the_tick() -> None:
    """No weekend, no today; every price a multiple of the tick; the last close near the
    market's starting mid."""
    hogs = MarketParams.hogs()
    bars = past_daily_bars(hogs, seed="1:HE", today=TODAY, sessions=20)
    days = [bar.day for bar in bars]
    assert days == sorted(days) and days[-1] == dt.date(2025, 2, 28) and TODAY not in days
    assert all(day.weekday() < 5 for day in days)
    tick = hogs.contract.tick_size
    assert all(p % tick == 0 for b in bars for p in (b.open, b.high, b.low, b.close))
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)
    assert abs(bars[-1].close - hogs.start_mid) <= tick


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=0, max_value=10**6))
def test_a_year_of_bars_measures_the_models_adv_and_volatility(seed: int) -> None:
    """Over 250 sessions the measured ADV is within 5% of the model's and the volatility
    within 15% of its ``daily_volatility`` (sampling error of 249 returns is about 4.5%)."""
    oats = MarketParams.oats()
    bars = past_daily_bars(oats, seed=str(seed), today=TODAY, sessions=250)
    stats = market_stats(bars, before=TODAY, sessions=250, min_sessions=250)
    assert stats.adv is not None and stats.volatility_bps is not None
    assert abs(stats.adv - oats.adv) <= oats.adv * 0.05
    model_bps = Decimal(repr(oats.daily_volatility * 10_000))
    assert abs(stats.volatility_bps - model_bps) <= model_bps * Decimal("0.15")


def test_a_market_without_flow_has_no_bars() -> None:
    """No marketable flow (ADV 0): no trades, so no daily bar at all, as IB gives none."""
    quiet = MarketParams.oats(adv=0)
    assert past_daily_bars(quiet, seed="1", today=TODAY, sessions=20) == ()


def test_a_market_that_does_not_move_closes_where_it_starts() -> None:
    """No volatility: every bar's prices are the starting mid."""
    still = MarketParams.oats(daily_volatility=0.0)
    bars = past_daily_bars(still, seed="1", today=TODAY, sessions=5)
    assert {p for b in bars for p in (b.open, b.high, b.low, b.close)} == {still.start_mid}


def test_todays_bar_is_the_tape_so_far() -> None:
    """The live session's prints make today's bar: first, highest, lowest, last, and lots."""
    tape = [Print(time=1.0, aggressor=Side.BUY, quantity=2, price=1401),
            Print(time=2.0, aggressor=Side.SELL, quantity=3, price=1398),
            Print(time=3.0, aggressor=Side.BUY, quantity=1, price=1400)]
    bar = live_daily_bar(tape, today=TODAY, tick=Decimal("0.25"))
    assert bar is not None
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (
        Decimal("350.25"), Decimal("350.25"), Decimal("349.50"), Decimal("350.00"), 6)
    assert live_daily_bar([], today=TODAY, tick=Decimal("0.25")) is None


def test_trading_days_before_skip_the_weekend() -> None:
    """Before Monday 2025-03-03 come Friday the 28th and Thursday the 27th."""
    days = trading_days_before(TODAY)
    assert [next(days), next(days)] == [dt.date(2025, 2, 28), dt.date(2025, 2, 27)]


def test_no_bar_on_a_cme_holiday_or_a_weekend() -> None:
    """Over the 2025 year-end the bars skip Thanksgiving (Nov 27), Christmas and New Year's
    Day as well as weekends: every day of the 30 sessions before 2026-01-05 is one CME
    trades, and the oldest is 30 trading days back (2025-11-19)."""
    oats = MarketParams.oats()
    bars = past_daily_bars(oats, seed="1:ZO", today=dt.date(2026, 1, 5), sessions=30)
    days = [bar.day for bar in bars]
    assert len(days) == 30 and days[0] == dt.date(2025, 11, 19)
    assert days[-1] == dt.date(2026, 1, 2)
    closed = {dt.date(2025, 11, 27), dt.date(2025, 12, 25), dt.date(2026, 1, 1)}
    assert not closed & set(days) and all(day.weekday() < 5 for day in days)
    assert dt.date(2025, 11, 28) in days  # the early close trades (a day's volume: see below)


def test_good_friday_has_no_bar() -> None:
    """Good Friday 2025 (April 18) closes CME's grains: the bar before Monday the 21st is
    Thursday the 17th's."""
    bars = past_daily_bars(MarketParams.oats(), seed="1:ZO", today=dt.date(2025, 4, 21),
                           sessions=2)
    assert [bar.day for bar in bars] == [dt.date(2025, 4, 16), dt.date(2025, 4, 17)]
