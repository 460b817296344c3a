"""Streams through ib_async: market depth from the simulated book, tick-by-tick trades and
quotes, real-time 5-second bars and historical bars kept up to date."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio
import trio_asyncio
from ib_async import TickByTickAllLast, TickByTickBidAsk

from hydra._enums import Side
from tests.gateway_client import PARAMS, Served, connected, qualified, serving, wait_until


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    async with serving(PARAMS) as served:
        yield served


def book(served: Served, side: Side, rows: int) -> list[tuple[float, float]]:
    return [(float(p), float(s)) for p, s in served.exchange.depth("ZO", side)[:rows]]


async def test_depth_shows_the_book_and_follows_it(served: Served) -> None:
    """reqMktDepth shows the simulated book's levels on both sides, and a trade that takes
    the best bid is reflected at once."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        ticker = ib.reqMktDepth(contract, numRows=3)

        def shown() -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
            bids = [(d.price, d.size) for d in ticker.domBids]
            asks = [(d.price, d.size) for d in ticker.domAsks]
            return bids, asks

        await wait_until(lambda: shown() == (book(served, Side.BUY, 3), book(served, Side.SELL, 3)))
        assert len(shown()[0]) == 3
        served.exchange.inject_flow("ZO", Side.SELL, 2)
        await wait_until(lambda: shown()[0] == book(served, Side.BUY, 3))
        ib.cancelMktDepth(contract)


async def test_tick_by_tick_trades_and_quotes(served: Served) -> None:
    """A Last tick arrives for each trade, with its (last) price and size; BidAsk ticks for
    the quote
    (ib_async keeps both in the contract's one ticker, and only the latest update's)."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        ticker = ib.reqTickByTickData(contract, "BidAsk")
        seen: list[object] = list(ticker.tickByTicks)
        ticker.updateEvent += lambda t: seen.extend(t.tickByTicks)
        ib.reqTickByTickData(contract, "Last")
        quote = served.exchange.quote("ZO")

        def of(kind: str) -> list[object]:
            return [t for t in seen if type(t).__name__ == kind]

        await wait_until(lambda: bool(of("TickByTickBidAsk")))
        first = of("TickByTickBidAsk")[0]
        assert isinstance(first, TickByTickBidAsk)
        assert (first.bidPrice, first.askPrice) == (float(quote.bid), float(quote.ask))
        served.exchange.inject_flow("ZO", Side.BUY, 3)
        await wait_until(lambda: bool(of("TickByTickAllLast")))
        [trade] = of("TickByTickAllLast")
        assert isinstance(trade, TickByTickAllLast)
        assert (trade.price, trade.size) == (float(served.exchange.last_trade("ZO") or 0), 3)


async def test_real_time_bars_every_five_seconds(served: Served) -> None:
    """reqRealTimeBars delivers a 5-second MIDPOINT bar at each boundary."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        bars = ib.reqRealTimeBars(contract, 5, "MIDPOINT", False)
        with trio.fail_after(7):
            await wait_until(lambda: len(bars) >= 1)
        bar = bars[-1]
        assert bar.time.timestamp() % 5 == 0
        assert bar.open_ == float(served.exchange.quote("ZO").mid)


async def test_keep_up_to_date_sends_the_newest_bar(served: Served) -> None:
    """With keepUpToDate the newest bar is sent again as the market changes it: a sweep of
    the offer lifts the newest MIDPOINT bar's high."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        bars = await trio_asyncio.aio_as_trio(ib.reqHistoricalDataAsync)(
            contract, "", "3600 S", "1 min", "MIDPOINT", False, 1, True
        )
        high = bars[-1].high
        served.exchange.inject_flow("ZO", Side.BUY, 30)
        await wait_until(lambda: bars[-1].high > high)
        assert bars[-1].high == float(served.exchange.quote("ZO").mid)
        ib.cancelHistoricalData(bars)
