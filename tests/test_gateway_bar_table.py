"""Bars as columns (`hydra.gateway._bar_table`): the minutes of the past grouped at once, and
the rows' wire text made at once, each the same as one bar at a time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hydra.gateway._bar_table import wap_texts, wire_rows
from hydra.gateway._history import BarBuilder, Print, Touch
from hydra.gateway._past import Past
from hydra.gateway._session_history import bar_row
from hydra.sim import MarketParams

OATS = MarketParams.oats()
# 2025-03-10 08:30 Chicago, the day after daylight saving time began: the past spans it
OPENING = dt.datetime(2025, 3, 10, 13, 30, tzinfo=dt.UTC).timestamp()
CHICAGO = ZoneInfo("America/Chicago")
TICK = Decimal("0.25")


PAST = Past(OATS, seed="7", opening=OPENING, bid=1400, ask=1401)
PAST.reach(OPENING - 10 * 86_400)


Row = tuple[int, int, int, int, int, int, int, float]


def reference_trade_bars(size: int, start: float, end: float, rth_only: bool) -> list[Row]:
    """TRADES bars one minute at a time, as the gateway built them before `_bar_table`."""
    bars: dict[int, list[float]] = {}
    for i in range(len(PAST.times) - 1, -1, -1):
        minute, midnight = PAST.times[i], PAST.midnights[i]
        n, lots, to, th, tl, tc = PAST.trades[i]
        if not n or not start <= minute < end or (rth_only and not PAST.rth[i]):
            continue
        key = midnight + (minute - midnight) // size * size
        bar = bars.setdefault(key, [key, 2 * to, 2 * th, 2 * tl, 2 * tc, 0, 0, 0.0])
        bar[2], bar[3], bar[4] = max(bar[2], 2 * th), min(bar[3], 2 * tl), 2 * tc
        bar[5] += lots
        bar[6] += n
        bar[7] += lots * (th + tl + tc) * 2 / 3
    return [(int(b[0]), int(b[1]), int(b[2]), int(b[3]), int(b[4]), int(b[5]), int(b[6]), b[7])
            for _, b in sorted(bars.items())]  # fmt: skip


@given(size=st.sampled_from([60, 120, 300, 900, 1800, 3600, 4 * 3600, 8 * 3600]),
       back=st.integers(1, 10 * 24 * 60), length=st.integers(1, 10 * 24 * 60),
       rth=st.booleans())  # fmt: skip
def test_trade_bars_at_once_are_the_bars_one_minute_at_a_time(
    size: int, back: int, length: int, rth: bool,
) -> None:
    """Whatever the bar size and the window (across a change of daylight saving time), the
    bars grouped with numpy are those built minute by minute: same starts, open, high, low,
    close, volume and count, and the WAP's sum to a float's rounding."""
    start = OPENING - back * 60
    end = min(OPENING, start + length * 60)
    builder = BarBuilder(what="TRADES", size=size, start=start, end=end, use_rth=rth,
                         sessions=PAST.sessions)  # fmt: skip
    builder.add_past(PAST)
    table = builder.table()
    expected = reference_trade_bars(size, start, end, rth)
    got = list(zip(table.start.tolist(), table.open.tolist(), table.high.tolist(),
                   table.low.tolist(), table.close.tolist(), table.volume.tolist(),
                   table.trades.tolist(), strict=True))  # fmt: skip
    assert got == [b[:7] for b in expected]
    assert np.allclose(table.value, [b[7] for b in expected])


@given(what=st.sampled_from(["TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK"]),
       size=st.sampled_from([1, 30, 60, 3600, "day"]), format_date=st.sampled_from([1, 2]),
       back=st.integers(1, 3 * 24 * 60))  # fmt: skip
@settings(max_examples=40)
def test_the_rows_text_is_each_bars_row_joined(
    what: str, size: int | str, format_date: int, back: int,
) -> None:
    """Every kind and size of bar, past and live: the rows' text is each bar's row (its date
    per formatDate, prices, volume, WAP and count as `bar_row` writes them) joined by NULs."""
    start = OPENING - back * 60
    end = start + (120 if size == 1 else 2 * 86_400)
    builder = BarBuilder(what=what, size=size, start=start, end=end, use_rth=False,
                         sessions=PAST.sessions)  # fmt: skip
    builder.add_past(PAST)
    touches = [Touch(time=OPENING, bid=1400, ask=1401),
               Touch(time=OPENING + 75, bid=1401, ask=1403)]  # fmt: skip
    builder.add_live(touches, [Print(time=OPENING + 5, price=1401, quantity=2)])
    one_at_a_time = [field for bar in builder.bars(TICK)
                     for field in bar_row(bar, format_date, CHICAGO)]  # fmt: skip
    assert wire_rows(builder.table(), TICK, format_date=format_date, zone=CHICAGO) == "\0".join(
        one_at_a_time)


def test_the_bar_the_session_opens_in_is_one_bar() -> None:
    """A 12-hour bar holding the past's last minutes (the night session to 07:45) and the
    session's first trade is one bar: the past's open, the session's close, volumes and counts
    added."""
    start = OPENING - 4 * 3600
    builder = BarBuilder(what="TRADES", size=12 * 3600, start=start, end=OPENING + 600,
                         use_rth=False, sessions=PAST.sessions)  # fmt: skip
    builder.add_past(PAST)
    past_only = builder.table()
    builder.add_live([], [Print(time=OPENING + 60, price=1390, quantity=5)])
    both = builder.table()
    assert len(both) == len(past_only) == 1
    assert both.open[-1] == past_only.open[-1] and both.close[-1] == 2 * 1390
    assert both.volume[-1] == past_only.volume[-1] + 5
    assert both.trades[-1] == past_only.trades[-1] + 1
    assert both.low[-1] == min(past_only.low[-1], 2 * 1390)


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), max_size=50))
def test_wap_text_is_the_price_to_four_decimals(prices: list[float]) -> None:
    """Each WAP's text is plain (no exponent, no trailing zero), has at most four decimals and
    is the price to within half of the fourth."""
    texts = wap_texts(np.array(prices, np.float64))
    for price, text in zip(prices, texts, strict=True):
        value = Decimal(text)
        assert "e" not in text.lower() and not (text.endswith("0") and "." in text)
        assert -value.as_tuple().exponent <= 4 if "." in text else text.isdigit()
        assert abs(float(value) - price) <= 0.00005 + price * 1e-15
