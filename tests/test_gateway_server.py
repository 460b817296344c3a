"""The simulated gateway end to end: the real ib_async client, inside trio-asyncio, against
`serve_gateway` on 127.0.0.1."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import structlog
import trio
import trio_asyncio
from ib_async import IB, ContFuture, Future, LimitOrder, MarketOrder, Order

from hydra._contracts import OATS
from hydra._enums import Side
from hydra.gateway import Gateway, encode_frame, serve_gateway
from hydra.sim import MarketParams, SimParams, open_sim_exchange
from tests.gateway_client import (
    PARAMS,
    Served,
    connected,
    errors_of,
    qualified,
    serving,
    wait_until,
)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    async with serving(PARAMS) as served:
        yield served


async def test_connect_answers_every_startup_request(served: Served) -> None:
    """connectAsync completes with no request timed out (raiseSyncErrors would raise)."""
    start = trio.current_time()
    async with connected(served) as ib:
        assert ib.isConnected()
        assert ib.client.serverVersion() == 157
        assert ib.managedAccounts() == ["DU1234567"]
    assert trio.current_time() - start < 1


async def test_qualify_a_future_and_refuse_an_unknown_one(served: Served) -> None:
    """qualifyContractsAsync fills conId and month for ZO; an unknown symbol gets error 200."""
    async with connected(served) as ib:
        errors = errors_of(ib)
        contract = await qualified(ib)
        assert contract.conId > 0
        assert (contract.lastTradeDateOrContractMonth, contract.multiplier) == ("20250314", "5000")
        assert contract.localSymbol == "ZOH5"
        [details] = await trio_asyncio.aio_as_trio(ib.reqContractDetailsAsync)(contract)
        assert (details.minTick, details.priceMagnifier, details.contractMonth) == (
            0.25,
            100,
            "202503",
        )
        unknown = Future(symbol="ZZ", exchange="CBOT")
        assert await trio_asyncio.aio_as_trio(ib.qualifyContractsAsync)(unknown) == [None]
        assert [code for _, code in errors] == [200]


async def test_quotes_stream_from_the_simulator(served: Served) -> None:
    """Bid, ask and their sizes arrive as the exchange quotes them."""
    async with connected(served) as ib:
        ticker = ib.reqMktData(await qualified(ib))
        quote = served.exchange.quote("ZO")
        await wait_until(lambda: ticker.bid == float(quote.bid) and ticker.ask == float(quote.ask))
        assert (ticker.bidSize, ticker.askSize) == (quote.bid_size, quote.ask_size)


async def test_limit_at_the_ask_fills_with_commission(served: Served) -> None:
    """A buy limit at the ask fills; the fill carries its commission; the position follows."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        ask = served.exchange.quote("ZO").ask
        trade = ib.placeOrder(contract, LimitOrder("BUY", 1, float(ask), orderRef="int-a.0"))
        await wait_until(lambda: trade.isDone() and bool(trade.fills))
        await wait_until(lambda: trade.fills[0].commissionReport.commission > 0)
        assert trade.orderStatus.status == "Filled"
        assert trade.orderStatus.avgFillPrice == float(ask)
        [fill] = trade.fills
        assert (fill.execution.shares, fill.execution.side) == (1.0, "BOT")
        assert fill.commissionReport.commission == 2.5
        await wait_until(lambda: bool(ib.positions()))
        [position] = ib.positions()
        assert (position.contract.symbol, position.position) == ("ZO", 1.0)
        assert position.avgCost == float(ask) * 50  # dollars per contract: price × 5000 / 100


async def test_resting_order_is_modified_then_cancelled(served: Served) -> None:
    """Re-placing an order id reprices it; cancelling it reports Cancelled."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        bid = served.exchange.quote("ZO").bid
        order = LimitOrder("BUY", 2, float(bid - Decimal(5)))
        trade = ib.placeOrder(contract, order)
        await wait_until(lambda: trade.orderStatus.status == "Submitted")
        order.lmtPrice = float(bid - Decimal(3))
        ib.placeOrder(contract, order)
        [working] = served.exchange.open_orders()
        await wait_until(lambda: served.exchange.open_orders()[0].request.limit_price == bid - 3)
        assert working.remaining == 2
        ib.cancelOrder(order)
        await wait_until(trade.isDone)
        assert trade.orderStatus.status == "Cancelled"
        assert served.exchange.open_orders() == ()


async def test_off_tick_price_is_refused_with_110(served: Served) -> None:
    """A limit price off the 0.25 grid is refused with error 110 and the order is done."""
    async with connected(served) as ib:
        errors = errors_of(ib)
        contract = await qualified(ib)
        trade = ib.placeOrder(contract, LimitOrder("BUY", 1, 340.1))
        await wait_until(trade.isDone)
        assert errors == [(trade.order.orderId, 110)]


async def test_another_programs_market_order_walks_the_book(served: Served) -> None:
    """A market order from an ib_async program (not Hydra) fills at the ask, as an exchange
    would fill it."""
    async with connected(served) as ib:
        errors = errors_of(ib)
        contract = await qualified(ib)
        ask = served.exchange.quote("ZO").ask
        trade = ib.placeOrder(contract, MarketOrder("BUY", 1))
        await wait_until(trade.isDone)
        assert errors == [] and trade.orderStatus.status == "Filled"
        assert trade.fills[0].execution.price == float(ask)
        [position] = served.exchange.positions()
        assert position.quantity == 1


async def test_reusing_a_finished_order_id_is_refused_with_103(served: Served) -> None:
    """A new order with the id of a filled order is a duplicate order id (103)."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        ask = served.exchange.quote("ZO").ask
        trade = ib.placeOrder(contract, LimitOrder("BUY", 1, float(ask)))
        await wait_until(trade.isDone)
        errors = errors_of(ib)
        again = LimitOrder("SELL", 1, float(ask), orderId=trade.order.orderId)
        ib.client.placeOrder(again.orderId, contract, again)
        await wait_until(lambda: bool(errors))
        assert errors == [(trade.order.orderId, 103)]


async def test_executions_and_orders_survive_a_reconnect(served: Served) -> None:
    """After a disconnect, a new connection with the same client id sees its executions and
    its working order, under the same order ids."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        quote = served.exchange.quote("ZO")
        filled = ib.placeOrder(contract, LimitOrder("BUY", 1, float(quote.ask)))
        resting = ib.placeOrder(contract, LimitOrder("BUY", 1, float(quote.bid - 2)))
        await wait_until(lambda: filled.isDone() and resting.orderStatus.status == "Submitted")
    await wait_until(lambda: served.gateway.statistics().clients == ())
    async with connected(served) as ib:
        fills = await trio_asyncio.aio_as_trio(ib.reqExecutionsAsync)()
        assert [(f.execution.orderId, f.execution.shares) for f in fills] == [
            (filled.order.orderId, 1.0)
        ]
        # connectAsync's own reqExecutions stored the fill and its commission report
        assert [f.commissionReport.commission for f in ib.fills()] == [2.5]
        assert [t.order.orderId for t in ib.openTrades()] == [resting.order.orderId]
        [position] = await trio_asyncio.aio_as_trio(ib.reqPositionsAsync)()
        assert position.position == 1.0


async def test_a_client_id_in_use_is_refused_with_326(served: Served) -> None:
    """A second connection with a connected client id gets 326 and is closed; the first one
    keeps working."""
    async with connected(served, client_id=5) as first:
        second = IB()
        errors = errors_of(second)
        with pytest.raises((ConnectionError, TimeoutError)):
            # The gateway answers 326 and closes: the connect fails at once. Its own timeout
            # is only a bound, and long enough that a loaded machine still reads the 326.
            await trio_asyncio.aio_as_trio(second.connectAsync)(
                "127.0.0.1", served.gateway.port, clientId=5, timeout=10
            )
        assert (-1, 326) in errors
        assert first.isConnected()
        assert await trio_asyncio.aio_as_trio(first.reqCurrentTimeAsync)()


async def test_several_clients_at_once(served: Served) -> None:
    """Two client ids connect together; each sees only its own open orders."""
    async with connected(served, client_id=1) as one, connected(served, client_id=2) as two:
        contract = await qualified(one)
        bid = served.exchange.quote("ZO").bid
        trade = one.placeOrder(contract, LimitOrder("BUY", 1, float(bid - 1)))
        await wait_until(lambda: trade.orderStatus.status == "Submitted")
        assert served.gateway.statistics().clients == (1, 2)
        assert await trio_asyncio.aio_as_trio(two.reqOpenOrdersAsync)() == []
        mine = await trio_asyncio.aio_as_trio(one.reqOpenOrdersAsync)()
        assert [t.order.orderId for t in mine] == [trade.order.orderId]


async def raw_client(served: Served) -> trio.SocketStream:
    return await trio.open_tcp_stream("127.0.0.1", served.gateway.port)


async def read_until_closed(stream: trio.SocketStream) -> bytes:
    data = b""
    while chunk := await stream.receive_some():
        data += chunk
    return data


@pytest.mark.parametrize(
    ("garbage", "reason"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", "does not start with"),
        (b"API\0" + b"\xff\xff\xff\xff", "over the limit"),
        (b"API\0" + encode_frame(["v157..178"])[:5], "inside a frame"),
        (b"API\0" + encode_frame(["v1..2"]), "speaks only 157"),
    ],
)
async def test_garbage_closes_only_that_connection(
    served: Served, garbage: bytes, reason: str
) -> None:
    """Garbage, an oversized or truncated frame closes that connection with a logged reason;
    a connected client keeps being served."""
    async with connected(served) as ib:
        with structlog.testing.capture_logs() as logs:
            stream = await raw_client(served)
            await stream.send_all(garbage)
            if reason == "inside a frame":
                await stream.send_eof()
            assert await read_until_closed(stream) in (b"",)
            await stream.aclose()
            await wait_until(lambda: any(e["event"] == "gateway_connection_closed" for e in logs))
        [closed] = [e for e in logs if e["event"] == "gateway_connection_closed"]
        assert reason in closed["reason"]
        assert await trio_asyncio.aio_as_trio(ib.reqCurrentTimeAsync)()
        assert served.gateway.statistics().clients == (1,)


async def test_more_than_50_messages_a_second_get_error_100(served: Served) -> None:
    """A client sending 60 requests at once gets error 100 for the ones over the limit."""
    stream = await raw_client(served)
    await stream.send_all(b"API\0" + encode_frame(["v157..178"]) + encode_frame([71, 2, 9, ""]))
    await stream.send_all(b"".join(encode_frame([49, 1]) for _ in range(60)))
    data = b""
    while data.count(b"\x00100\x00") < 10:
        data += await stream.receive_some()
    assert data.count(b"\x00100\x00Max rate") == 10
    await stream.aclose()


async def test_drop_all_connections_then_reconnect(served: Served) -> None:
    """The fault switch drops every client; ib_async sees the disconnect and can reconnect."""
    async with connected(served, client_id=1) as one, connected(served, client_id=2) as two:
        served.gateway.drop_all_connections(reason="test")
        await wait_until(lambda: not one.isConnected() and not two.isConnected())
    assert served.gateway.statistics().drops == 1
    async with connected(served, client_id=1) as again:
        assert again.isConnected()


async def test_drop_at_schedules_the_fault(served: Served) -> None:
    """serve_gateway(drop_at=…) drops connections at that time after start."""
    async with trio.open_nursery() as nursery:
        start = functools.partial(serve_gateway, served.exchange, drop_at=0.5)  # after connecting
        gateway: Gateway = await nursery.start(start)
        ib = IB()
        await trio_asyncio.aio_as_trio(ib.connectAsync)("127.0.0.1", gateway.port, clientId=3)
        await wait_until(lambda: not ib.isConnected())
        assert gateway.statistics().drops == 1
        nursery.cancel_scope.cancel(reason="test over")


async def test_stop_limit_and_oca_group_reach_the_exchange(served: Served) -> None:
    """A STP LMT order is accepted and works; when one order of an OCA group fills, the
    exchange cancels the other."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        quote = served.exchange.quote("ZO")
        stop = Order(
            action="SELL",
            totalQuantity=1,
            orderType="STP LMT",
            lmtPrice=float(quote.bid - 5),
            auxPrice=float(quote.bid - 4),
        )
        stop_trade = ib.placeOrder(contract, stop)
        resting = ib.placeOrder(
            contract, LimitOrder("BUY", 1, float(quote.bid - 2), ocaGroup="g", ocaType=1)
        )
        taking = ib.placeOrder(
            contract, LimitOrder("BUY", 1, float(quote.ask), ocaGroup="g", ocaType=1)
        )
        await wait_until(lambda: taking.isDone() and resting.isDone())
        assert (taking.orderStatus.status, resting.orderStatus.status) == ("Filled", "Cancelled")
        assert stop_trade.orderStatus.status == "Submitted"
        [working] = served.exchange.open_orders()
        assert working.request.stop_price == quote.bid - 4


async def test_market_data_is_pushed_with_last_and_volume(served: Served) -> None:
    """Trades in the market (anyone's) reach the ticker as last price, last size and volume,
    with the bid they left, without any polling interval."""
    async with connected(served) as ib:
        ticker = ib.reqMktData(await qualified(ib))
        quote = served.exchange.quote("ZO")
        await wait_until(lambda: ticker.bid == float(quote.bid))
        served.exchange.inject_flow("ZO", Side.SELL, 1)
        await wait_until(lambda: ticker.volume == 1)
        assert (ticker.last, ticker.lastSize) == (float(quote.bid), 1)
        served.exchange.inject_flow("ZO", Side.SELL, 2)
        await wait_until(lambda: ticker.volume == 3)
        after = served.exchange.quote("ZO")
        assert (ticker.bid, ticker.bidSize, ticker.lastSize) == (
            float(after.bid),
            after.bid_size,
            2,
        )


async def test_completed_orders_list_finished_orders(served: Served) -> None:
    """reqCompletedOrders returns each finished order with its final status and fills."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        quote = served.exchange.quote("ZO")
        filled = ib.placeOrder(contract, LimitOrder("BUY", 2, float(quote.ask), orderRef="f"))
        resting = ib.placeOrder(contract, LimitOrder("BUY", 1, float(quote.bid - 2)))
        await wait_until(lambda: filled.isDone() and resting.orderStatus.status == "Submitted")
        ib.cancelOrder(resting.order)
        await wait_until(resting.isDone)
    async with connected(served, client_id=2) as ib:
        trades = await trio_asyncio.aio_as_trio(ib.reqCompletedOrdersAsync)(True)
    assert [
        (t.contract.localSymbol, t.order.action, t.order.totalQuantity, t.orderStatus.status)
        for t in trades
    ] == [("ZOH5", "BUY", 2.0, "Filled"), ("ZOH5", "BUY", 1.0, "Cancelled")]
    assert (trades[0].order.orderRef, trades[0].order.filledQuantity) == ("f", 2.0)
    assert trades[0].order.permId == filled.order.permId > 0


async def test_held_bracket_orders_are_presubmitted_until_released(served: Served) -> None:
    """A transmit=False parent and its child wait as PreSubmitted; once transmitted the parent
    works (Submitted), the child stays PreSubmitted until the parent fills, then works."""
    async with connected(served) as ib:
        contract = await qualified(ib)
        quote = served.exchange.quote("ZO")
        parent = ib.placeOrder(contract, LimitOrder("BUY", 1, float(quote.bid), transmit=False))
        await wait_until(lambda: parent.orderStatus.status == "PreSubmitted")
        child = ib.placeOrder(
            contract,
            LimitOrder("SELL", 1, float(quote.ask + 5), parentId=parent.order.orderId),
        )
        await wait_until(lambda: child.orderStatus.status == "PreSubmitted")
        await wait_until(lambda: parent.orderStatus.status == "Submitted")
        served.exchange.inject_flow("ZO", Side.SELL, 100)
        await wait_until(lambda: parent.orderStatus.status == "Filled")
        await wait_until(lambda: child.orderStatus.status == "Submitted")


async def test_a_rejected_order_ends_inactive(served: Served) -> None:
    """After the rejection error (201) the order's status is Inactive, as IB reports it."""
    async with connected(served) as ib:
        errors = errors_of(ib)
        order = Order(action="BUY", totalQuantity=1, orderType="MOC")  # not supported
        trade = ib.placeOrder(await qualified(ib), order)
        await wait_until(lambda: trade.orderStatus.status == "Inactive")
        assert errors == [(trade.order.orderId, 201)]


async def test_two_delivery_months_are_two_contracts(served: Served) -> None:
    """With ZO March and May in the simulator, each month is its own contract: quotes, orders
    and positions stay apart."""
    march, may = OATS.for_month("202603"), OATS.for_month("202605")
    still = dict(adv=0, daily_volatility=0.0)
    params = SimParams(
        markets=(
            MarketParams.oats(contract=march, **still),
            MarketParams.oats(contract=may, start_mid=Decimal("360.00"), **still),
        ),
        ack_latency=0.001,
        fill_latency=0.001,
    )
    async with open_sim_exchange(params, seed=7) as exchange, trio.open_nursery() as nursery:
        gateway = await nursery.start(serve_gateway, exchange)
        async with connected(Served(gateway=gateway, exchange=exchange)) as ib:
            months = [
                Future(symbol="ZO", exchange="CBOT", lastTradeDateOrContractMonth=m)
                for m in ("202603", "202605")
            ]
            await trio_asyncio.aio_as_trio(ib.qualifyContractsAsync)(*months)
            assert [c.localSymbol for c in months] == ["ZOH6", "ZOK6"]
            tickers = [ib.reqMktData(c) for c in months]
            bids = [float(exchange.quote(c).bid) for c in (march, may)]
            await wait_until(lambda: [t.bid for t in tickers] == bids)
            buy = ib.placeOrder(months[0], LimitOrder("BUY", 1, float(exchange.quote(march).ask)))
            sell = ib.placeOrder(months[1], LimitOrder("SELL", 2, float(exchange.quote(may).bid)))
            await wait_until(lambda: buy.isDone() and sell.isDone())
            await wait_until(lambda: len(ib.positions()) == 2)
            positions = sorted((p.contract.localSymbol, p.position) for p in ib.positions())
            assert positions == [("ZOH6", 1.0), ("ZOK6", -2.0)]
        nursery.cancel_scope.cancel(reason="test over")


async def test_cont_future_qualifies_to_the_front_month(served: Served) -> None:
    """ContFuture('ZO', 'CBOT') qualifies to the front month's conId, and quotes stream for it."""
    async with connected(served) as ib:
        front = await qualified(ib)
        continuous = ContFuture("ZO", "CBOT")
        await trio_asyncio.aio_as_trio(ib.qualifyContractsAsync)(continuous)
        assert (continuous.conId, continuous.localSymbol) == (front.conId, "ZOH5")
        ticker = ib.reqMktData(continuous)
        await wait_until(lambda: ticker.bid == float(served.exchange.quote("ZO").bid))
