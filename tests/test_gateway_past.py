"""The market's generated past (`hydra.gateway._past`): the same for a seed, consistent minute
by minute, in the contract's trading hours, holidays and early closes shut."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hydra.gateway._past import HISTORY_DAYS, Past
from hydra.sim import MarketParams

OATS = MarketParams.oats()
MONDAY_OPEN = dt.datetime(2025, 3, 3, 14, 30, tzinfo=dt.UTC).timestamp()  # 08:30 Chicago
CHICAGO = ZoneInfo("America/Chicago")


def past(seed: str = "1", opening: float = MONDAY_OPEN) -> Past:
    return Past(OATS, seed=seed, opening=opening, bid=1400, ask=1401)


def test_the_past_is_the_same_for_a_seed_however_far_it_is_asked() -> None:
    """Asking a week back, then a day, gives the minutes a fresh past gives for a day."""
    deep, shallow = past(), past()
    deep.reach(MONDAY_OPEN - 7 * 86_400)
    shallow.reach(MONDAY_OPEN - 86_400)
    n = len(shallow.times)
    assert (deep.times[:n], deep.quote[:n], deep.trades[:n]) == (
        shallow.times, shallow.quote, shallow.trades
    )
    assert past("2").quote[:10] != deep.quote[:10] or past("2").reach(MONDAY_OPEN - 60) is None


def test_every_past_minute_is_a_consistent_bar_and_its_trades_lie_within_its_quote() -> None:
    """A minute's bid high is at or above its open and close, its low at or below them and a
    tick at least; its trades are within the bid low and the ask high; a minute's close is the
    open of the minute after it; trades' lots are at least their count."""
    p = past()
    p.reach(MONDAY_OPEN - 30 * 86_400)
    for i, ((o, h, lo, c, spread), (n, lots, to, th, tl, tc)) in enumerate(
        zip(p.quote, p.trades, strict=True)
    ):
        assert lo >= 1 and lo <= min(o, c) <= max(o, c) <= h and spread >= 1
        assert i == 0 or c == p.quote[i - 1][0]
        if n:
            assert lots >= n and lo <= min(to, tl, tc) <= max(to, th, tc) <= h + spread
        else:
            assert (lots, to, th, tl, tc) == (0, 0, 0, 0, 0)


def test_the_past_ends_at_the_opening_quote_and_keeps_to_trading_hours() -> None:
    """The newest minute closes at the opening bid; no minute falls in the 07:45–08:30 break
    or on a Saturday; the head is about `HISTORY_DAYS` back."""
    p = past()
    p.reach(MONDAY_OPEN - 3 * 86_400)
    assert p.quote[0][3] == 1400 and p.quote[0][4] == 1
    for minute in p.times:
        local = dt.datetime.fromtimestamp(minute, CHICAGO)
        assert local.weekday() != 5
        assert not dt.time(7, 45) <= local.time() < dt.time(8, 30)
    assert MONDAY_OPEN - p.head == pytest.approx(HISTORY_DAYS * 86_400, abs=3 * 86_400)


def test_no_past_minute_after_an_early_close() -> None:
    """Before the session of Monday 2026-11-30, the Friday after Thanksgiving has minutes only
    from 08:30 to its 12:05 early close, and Thanksgiving Day and its evening none."""
    opening = dt.datetime(2026, 11, 30, 14, 30, tzinfo=dt.UTC).timestamp()
    p = past(opening=opening)
    p.reach(opening - 6 * 86_400)
    friday = [dt.datetime.fromtimestamp(m, CHICAGO) for m in p.times
              if dt.datetime.fromtimestamp(m, CHICAGO).date() == dt.date(2026, 11, 27)]
    assert friday and min(friday).time() == dt.time(8, 30) and max(friday).time() == dt.time(12, 4)
    thursday = [m for m in p.times if dt.datetime.fromtimestamp(m, CHICAGO).date()
                == dt.date(2026, 11, 26)]  # fmt: skip
    assert thursday == []
