"""Historical data: the past the gateway generates from the market model, bars of every kind
and size built from it and from the live session, and ib_async's requests for them."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import trio
import trio_asyncio

from hydra._enums import Side
from hydra.gateway._history import WHAT, BarBuilder, Print, Touch
from hydra.gateway._past import HISTORY_DAYS, Past
from hydra.gateway._periods import PeriodError, bar_size, check_span, duration, end_time
from hydra.sim import MarketParams, SimParams
from tests.gateway_client import FEBRUARY, Served, connected, qualified, serving, wait_until

OATS = MarketParams.oats()
MONDAY_OPEN = dt.datetime(2025, 3, 3, 14, 30, tzinfo=dt.UTC).timestamp()  # 08:30 Chicago
CHICAGO = ZoneInfo("America/Chicago")


def past(seed: str = "1") -> Past:
    return Past(OATS, seed=seed, opening=MONDAY_OPEN, bid=1400, ask=1401)


def built(p: Past, what: str, size: int | str, start: float, end: float) -> BarBuilder:
    builder = BarBuilder(what=what, size=size, start=start, end=end, use_rth=False,
                         sessions=p.sessions)  # fmt: skip
    builder.add_past(p)
    return builder


def test_longer_bars_aggregate_shorter_ones() -> None:
    """Five-minute and daily bars are the one-minute bars merged: first open, highest high,
    lowest low, last close, volumes summed."""
    p, start = past(), MONDAY_OPEN - 2 * 86_400
    minutes = built(p, "TRADES", 60, start, MONDAY_OPEN).bars(Decimal("0.25"))
    for size in (300, "day"):
        for bar in built(p, "TRADES", size, start, MONDAY_OPEN).bars(Decimal("0.25")):
            inside = [m for m in minutes if _same_bar(m.start, bar.start, size, p)]
            assert bar.open == inside[0].open and bar.close == inside[-1].close
            assert bar.high == max(m.high for m in inside)
            assert bar.low == min(m.low for m in inside)
            assert bar.volume == sum(m.volume for m in inside)


@pytest.mark.parametrize("hours", [1, 30, 200])
def test_quote_minute_bars_are_the_minutes_between_start_and_end(hours: int) -> None:
    """MIDPOINT 1-minute bars from any start are one per past minute from the start up to the
    end, in order."""
    p = past()
    start, end = MONDAY_OPEN - hours * 3600 - 1234, MONDAY_OPEN - 600
    bars = built(p, "MIDPOINT", 60, start, end).bars(Decimal("0.25"))
    assert [b.start for b in bars] == sorted(m for m in p.times if start <= m < end)


def _same_bar(minute: int, start: int, size: int | str, p: Past) -> bool:
    if isinstance(size, int):
        return start <= minute < start + size
    day = p.days[p.times.index(minute)]
    return dt.datetime.fromtimestamp(start, CHICAGO).date() == day


@pytest.mark.parametrize("what", ["MIDPOINT", "BID", "ASK"])
def test_second_bars_run_through_their_minute(what: str) -> None:
    """A past minute's one-second bars open at its open, close at its close and reach its
    high and low."""
    p, start = past(), MONDAY_OPEN - 4 * 3600  # 04:30 Chicago: the overnight session trades
    [minute] = built(p, what, 60, start, start + 60).bars(Decimal("0.25"))
    seconds = built(p, what, 1, start, start + 60).bars(Decimal("0.25"))
    assert len(seconds) == 60
    assert (seconds[0].open, seconds[-1].close) == (minute.open, minute.close)
    assert max(s.high for s in seconds) == minute.high
    assert min(s.low for s in seconds) == minute.low


def test_live_bars_come_from_the_exchange_record() -> None:
    """From the opening, quote bars follow each change of the best bid and ask and trade bars
    each print; a bar with no change carries the quote that stood."""
    p = past()
    touches = [Touch(time=MONDAY_OPEN, bid=1400, ask=1401),
               Touch(time=MONDAY_OPEN + 70.5, bid=1402, ask=1403)]  # fmt: skip
    prints = [Print(time=MONDAY_OPEN + 10, price=1401, quantity=3),
              Print(time=MONDAY_OPEN + 20, price=1400, quantity=1)]  # fmt: skip
    builder = BarBuilder(what="BID", size=60, start=MONDAY_OPEN, end=MONDAY_OPEN + 180,
                         use_rth=False, sessions=p.sessions)  # fmt: skip
    builder.add_live(touches, prints)
    bids = [(b.open, b.high, b.close) for b in builder.bars(Decimal("0.25"))]
    assert bids == [(350, 350, 350), (350, Decimal("350.5"), Decimal("350.5")),
                    (Decimal("350.5"), Decimal("350.5"), Decimal("350.5"))]  # fmt: skip
    trades = BarBuilder(what="TRADES", size=60, start=MONDAY_OPEN, end=MONDAY_OPEN + 180,
                        use_rth=False, sessions=p.sessions)  # fmt: skip
    trades.add_live(touches, prints)
    [bar] = trades.bars(Decimal("0.25"))
    assert (bar.open, bar.close, bar.volume, bar.trades) == (Decimal("350.25"), 350, 4, 2)


def test_periods_are_read_as_ib_writes_them() -> None:
    """Bar sizes, durations and end times in IB's text; anything else is refused."""
    assert [bar_size(t) for t in ("1 secs", "5 mins", "1 hour", "1 day", "1 week")] == [
        1, 300, 3600, "day", "week"
    ]
    assert [duration(t) for t in ("60 S", "2 D", "1 W", "1 Y")] == [60, 172_800, 604_800,
                                                                      366 * 86_400]  # fmt: skip
    now = dt.datetime(2025, 3, 3, 14, 30, tzinfo=dt.UTC)
    assert end_time("", now=now, zone=CHICAGO) == now
    assert end_time("20250303 08:00:00", now=now, zone=CHICAGO) == dt.datetime(
        2025, 3, 3, 8, tzinfo=CHICAGO
    )
    assert end_time("20250303-14:00:00", now=now, zone=CHICAGO) == dt.datetime(
        2025, 3, 3, 14, tzinfo=dt.UTC
    )
    for bad in ("7 mins", "1 fortnight"):
        with pytest.raises(PeriodError):
            bar_size(bad)
    with pytest.raises(PeriodError):
        duration("2 days")


@pytest.mark.parametrize(("size", "span", "refused"), [
    ("1 min", "1 Y", False), ("30 secs", "1 Y", True), ("1 secs", "2 D", False),
    ("1 secs", "1 M", True), ("1 day", "9999 Y", False),
])  # fmt: skip
def test_a_span_of_too_many_bars_is_refused(size: str, span: str, refused: bool) -> None:
    """A request spanning more than `MAX_BARS` bars is refused (a year of 1-minute bars is
    not; a month of 1-second bars, 2.7 million, is); daily and longer bars are never."""
    if refused:
        with pytest.raises(PeriodError, match=r"^Time length exceed max\. \(.* at most 600,000\)$"):
            check_span(bar_size(size), duration(span))
    else:
        check_span(bar_size(size), duration(span))


# --- through ib_async ----------------------------------------------------------------------------

LIVE = SimParams(
    markets=(MarketParams.oats(),), ack_latency=0.001, fill_latency=0.001, session_start=FEBRUARY
)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    async with serving(LIVE) as served:
        yield served


@pytest.mark.parametrize("what", WHAT)
async def test_ib_async_gets_hourly_bars_of_each_kind(served: Served, what: str) -> None:
    """A day of hourly bars of each kind, in the exchange's zone, oldest first."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        bars = await trio_asyncio.aio_as_trio(ib.reqHistoricalDataAsync)(
            contract, "", "1 D", "1 hour", what, False, 1
        )
        assert len(bars) >= 10
        assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in bars)
        assert [b.date for b in bars] == sorted(b.date for b in bars)
        assert bars[0].date.tzinfo == CHICAGO


async def test_history_runs_into_the_live_session(served: Served) -> None:
    """The last past minute closes where the live session's first minute opens."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        bars = await trio_asyncio.aio_as_trio(ib.reqHistoricalDataAsync)(
            contract, "", "2 D", "1 min", "BID", False, 2
        )
        opening = served.exchange.params.session_start
        before = [b for b in bars if b.date < opening]
        after = [b for b in bars if b.date >= opening]
        assert before and after
        assert before[-1].close == after[0].open == float(served.exchange.touches("ZO")[0][1])


async def test_head_timestamp_and_a_bad_request(served: Served) -> None:
    """The head timestamp is the first minute of the past; a bar size IB does not have is
    refused with IB's historical data error 162, so ib_async returns no bars at once."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        head = await trio_asyncio.aio_as_trio(ib.reqHeadTimeStampAsync)(contract, "TRADES",
                                                                          False, 1)  # fmt: skip
        opening = served.exchange.params.session_start
        assert dt.timedelta(days=HISTORY_DAYS - 3) < opening - head < dt.timedelta(
            days=HISTORY_DAYS
        )
        with trio.fail_after(1):
            bars = await trio_asyncio.aio_as_trio(ib.reqHistoricalDataAsync)(
                contract, "", "1 D", "7 mins", "TRADES", False, 1
            )
        assert len(bars) == 0


async def test_quotes_carry_the_days_open_high_low_close_and_volume(served: Served) -> None:
    """reqMktData gives the trading day's open, high, low and volume (the overnight session
    before the opening included) and the previous day's close, as daily bars show them."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        days = await trio_asyncio.aio_as_trio(ib.reqHistoricalDataAsync)(
            contract, "", "5 D", "1 day", "TRADES", False, 1
        )
        ticker = ib.reqMktData(contract)
        await wait_until(lambda: ticker.close == ticker.close and ticker.high == ticker.high)
        today, yesterday = days[-1], days[-2]
        assert ticker.close == yesterday.close and ticker.open == today.open
        assert ticker.high >= today.high and ticker.low <= today.low
        assert ticker.volume >= today.volume > 0


async def test_historical_ticks_of_the_live_session(served: Served) -> None:
    """reqHistoricalTicks gives the session's trades (price and size) and quote changes."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        served.exchange.inject_flow("ZO", Side.BUY, 2)
        end = served.exchange.timestamp(trio.current_time())
        start = served.exchange.params.session_start
        trades = await trio_asyncio.aio_as_trio(ib.reqHistoricalTicksAsync)(
            contract, start, "", 1000, "TRADES", False
        )
        tape = served.exchange.tape("ZO")
        assert trades and [(t.price, t.size) for t in trades] == [
            (float(p.price * Decimal("0.25")), p.quantity) for p in tape
        ][: len(trades)]
        quotes = await trio_asyncio.aio_as_trio(ib.reqHistoricalTicksAsync)(
            contract, "", end, 10, "BID_ASK", False
        )
        assert quotes and all(q.priceBid < q.priceAsk for q in quotes)
