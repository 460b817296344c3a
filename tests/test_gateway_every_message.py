"""Every message ib_async's client can send gets, within its first second, a reply or the error
IB sends for it; only what IB itself acknowledges with nothing (`UNANSWERED`) gets nothing."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable

import pytest
import trio
from ib_async import ExecutionFilter, Future, LimitOrder, ScannerSubscription, WshEventData
from ib_async.client import Client

from hydra.gateway import encode_frame, serve_gateway
from hydra.gateway._message_ids import UNANSWERED, ClientMessage
from hydra.gateway._wire import FrameDecoder
from hydra.sim import MarketParams, SimParams, open_sim_exchange
from tests.gateway_client import FEBRUARY

PARAMS = SimParams(
    markets=(MarketParams.oats(adv=0, daily_volatility=0.0),),
    ack_latency=0.001,
    fill_latency=0.001,
    session_start=FEBRUARY,
)
ZO = Future("ZO", "202503", "CBOT")

CALLS: dict[str, Callable[[Client], None]] = {
    "reqMktData": lambda c: c.reqMktData(1, ZO, "", False, False, []),
    "cancelMktData": lambda c: c.cancelMktData(11),
    "placeOrder": lambda c: c.placeOrder(1, ZO, LimitOrder("BUY", 1, 340.0)),
    "cancelOrder": lambda c: c.cancelOrder(99),
    "reqOpenOrders": lambda c: c.reqOpenOrders(),
    "reqAccountUpdates": lambda c: c.reqAccountUpdates(True, "DU1234567"),
    "reqExecutions": lambda c: c.reqExecutions(1, ExecutionFilter()),
    "reqIds": lambda c: c.reqIds(1),
    "reqContractDetails": lambda c: c.reqContractDetails(1, ZO),
    "reqMktDepth": lambda c: c.reqMktDepth(1, ZO, 5, False, []),
    "cancelMktDepth": lambda c: c.cancelMktDepth(12, False),
    "reqNewsBulletins": lambda c: c.reqNewsBulletins(True),
    "cancelNewsBulletins": lambda c: c.cancelNewsBulletins(),
    "setServerLogLevel": lambda c: c.setServerLogLevel(3),
    "reqAutoOpenOrders": lambda c: c.reqAutoOpenOrders(True),
    "reqAllOpenOrders": lambda c: c.reqAllOpenOrders(),
    "reqManagedAccts": lambda c: c.reqManagedAccts(),
    "requestFA": lambda c: c.requestFA(1),
    "replaceFA": lambda c: c.replaceFA(3, 1, "<xml/>"),
    "reqHistoricalData": lambda c: c.reqHistoricalData(
        1, ZO, "", "1 D", "1 hour", "TRADES", False, 1, False, []
    ),
    "exerciseOptions": lambda c: c.exerciseOptions(1, ZO, 1, 1, "DU1234567", 0),
    "reqScannerSubscription": lambda c: c.reqScannerSubscription(1, ScannerSubscription(), [], []),
    "cancelScannerSubscription": lambda c: c.cancelScannerSubscription(1),
    "reqScannerParameters": lambda c: c.reqScannerParameters(),
    "cancelHistoricalData": lambda c: c.cancelHistoricalData(13),
    "reqCurrentTime": lambda c: c.reqCurrentTime(),
    # quote streams: trade streams of this market, which never trades, stay quiet as at IB
    "reqRealTimeBars": lambda c: c.reqRealTimeBars(1, ZO, 5, "MIDPOINT", False, []),
    "cancelRealTimeBars": lambda c: c.cancelRealTimeBars(1),
    "reqFundamentalData": lambda c: c.reqFundamentalData(1, ZO, "ReportSnapshot", []),
    "cancelFundamentalData": lambda c: c.cancelFundamentalData(1),
    "calculateImpliedVolatility": lambda c: c.calculateImpliedVolatility(1, ZO, 1.0, 350.0, []),
    "calculateOptionPrice": lambda c: c.calculateOptionPrice(1, ZO, 0.2, 350.0, []),
    "cancelCalculateImpliedVolatility": lambda c: c.cancelCalculateImpliedVolatility(1),
    "cancelCalculateOptionPrice": lambda c: c.cancelCalculateOptionPrice(1),
    "reqGlobalCancel": lambda c: c.reqGlobalCancel(),
    "reqMarketDataType": lambda c: c.reqMarketDataType(1),
    "reqPositions": lambda c: c.reqPositions(),
    "reqAccountSummary": lambda c: c.reqAccountSummary(1, "All", "NetLiquidation"),
    "cancelAccountSummary": lambda c: c.cancelAccountSummary(1),
    "cancelPositions": lambda c: c.cancelPositions(),
    "verifyRequest": lambda c: c.verifyRequest("app", "1"),
    "verifyMessage": lambda c: c.verifyMessage("data"),
    "queryDisplayGroups": lambda c: c.queryDisplayGroups(1),
    "subscribeToGroupEvents": lambda c: c.subscribeToGroupEvents(1, 1),
    "updateDisplayGroup": lambda c: c.updateDisplayGroup(1, "8314@SMART"),
    "unsubscribeFromGroupEvents": lambda c: c.unsubscribeFromGroupEvents(1),
    "startApi": lambda c: c.startApi(),
    "verifyAndAuthRequest": lambda c: c.verifyAndAuthRequest("app", "1", "key"),
    "verifyAndAuthMessage": lambda c: c.verifyAndAuthMessage("data", "response"),
    "reqPositionsMulti": lambda c: c.reqPositionsMulti(1, "DU1234567", ""),
    "cancelPositionsMulti": lambda c: c.cancelPositionsMulti(1),
    "reqAccountUpdatesMulti": lambda c: c.reqAccountUpdatesMulti(1, "DU1234567", "", False),
    "cancelAccountUpdatesMulti": lambda c: c.cancelAccountUpdatesMulti(1),
    "reqSecDefOptParams": lambda c: c.reqSecDefOptParams(1, "ZO", "CBOT", "FUT", 1),
    "reqSoftDollarTiers": lambda c: c.reqSoftDollarTiers(1),
    "reqFamilyCodes": lambda c: c.reqFamilyCodes(),
    "reqMatchingSymbols": lambda c: c.reqMatchingSymbols(1, "Z"),
    "reqMktDepthExchanges": lambda c: c.reqMktDepthExchanges(),
    "reqSmartComponents": lambda c: c.reqSmartComponents(1, "CBOT"),
    "reqNewsArticle": lambda c: c.reqNewsArticle(1, "BRFG", "id", []),
    "reqNewsProviders": lambda c: c.reqNewsProviders(),
    "reqHistoricalNews": lambda c: c.reqHistoricalNews(1, 1, "BRFG", "", "", 10, []),
    "reqHeadTimeStamp": lambda c: c.reqHeadTimeStamp(1, ZO, "TRADES", False, 1),
    "reqHistogramData": lambda c: c.reqHistogramData(1, ZO, False, "1 day"),
    "cancelHistogramData": lambda c: c.cancelHistogramData(1),
    "cancelHeadTimeStamp": lambda c: c.cancelHeadTimeStamp(1),
    "reqMarketRule": lambda c: c.reqMarketRule(26),
    "reqPnL": lambda c: c.reqPnL(1, "DU1234567", ""),
    "cancelPnL": lambda c: c.cancelPnL(1),
    "reqPnLSingle": lambda c: c.reqPnLSingle(1, "DU1234567", "", 1),
    "cancelPnLSingle": lambda c: c.cancelPnLSingle(1),
    "reqHistoricalTicks": lambda c: c.reqHistoricalTicks(
        1, ZO, "", "", 10, "TRADES", False, False, []
    ),
    "reqTickByTickData": lambda c: c.reqTickByTickData(1, ZO, "BidAsk", 0, False),
    "cancelTickByTickData": lambda c: c.cancelTickByTickData(1),
    "reqCompletedOrders": lambda c: c.reqCompletedOrders(True),
    "reqWshMetaData": lambda c: c.reqWshMetaData(1),
    "cancelWshMetaData": lambda c: c.cancelWshMetaData(1),
    "reqWshEventData": lambda c: c.reqWshEventData(1, WshEventData(conId=1)),
    "cancelWshEventData": lambda c: c.cancelWshEventData(1),
    "reqUserInfo": lambda c: c.reqUserInfo(1),
}


def frame_of(call: Callable[[Client], None]) -> bytes:
    """The frame ib_async's own encoder sends for ``call`` (at server version 157)."""
    client = Client(wrapper=None)
    frames: list[bytes] = []
    client.sendMsg = lambda msg: frames.append(client._prefix(msg.encode()))  # no event loop
    client.connState = Client.CONNECTED
    client._serverVersion = 157
    client.clientId = 1
    call(client)
    [frame] = frames
    return frame


def message_id(frame: bytes) -> ClientMessage:
    decoder = FrameDecoder()
    decoder.feed(frame)
    fields = decoder.next_frame()
    assert fields is not None
    return ClientMessage(int(fields[0]))


def test_every_sending_method_of_ib_async_is_covered() -> None:
    """The calls above are every ib_async client method that sends, and between them they send
    every `ClientMessage`."""
    senders = {
        name
        for name, method in vars(Client).items()
        if inspect.isfunction(method)
        and "self.send(" in inspect.getsource(method)
        and name not in ("send", "sendMsg")
    }
    assert set(CALLS) == senders
    assert {message_id(frame_of(call)) for call in CALLS.values()} == set(ClientMessage)


@pytest.fixture
async def port() -> AsyncIterator[int]:
    with trio.fail_after(30):
        async with open_sim_exchange(PARAMS, seed=3) as exchange, trio.open_nursery() as nursery:
            start = functools.partial(serve_gateway, exchange)
            gateway = await nursery.start(start)
            yield gateway.port
            nursery.cancel_scope.cancel(reason="test over")


class Conversation:
    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.decoder = FrameDecoder()

    async def next_frame(self) -> tuple[str, ...]:
        while (fields := self.decoder.next_frame()) is None:
            self.decoder.feed(await self.stream.receive_some())
        return fields


async def started(port: int, client_id: int) -> Conversation:
    """A raw client past the handshake and the start-up messages (the last is notice 2158)."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(b"API\0" + encode_frame(["v157..178"]))
    talk = Conversation(stream)
    await talk.next_frame()  # server version and time
    await stream.send_all(encode_frame([71, 2, client_id, ""]))
    while (await talk.next_frame())[:4] != ("4", "2", "-1", "2158"):
        pass
    return talk


@pytest.mark.parametrize("name", sorted(CALLS))
async def test_each_message_is_answered_within_a_second(port: int, name: str) -> None:
    """The first reply to the message comes within a second; an `UNANSWERED` message's only
    answer is none (the reply to a reqCurrentTime sent after it comes first)."""
    frame = frame_of(CALLS[name])
    talk = await started(port, client_id=7)
    sent = trio.current_time()
    await talk.stream.send_all(frame)
    if message_id(frame) in UNANSWERED:
        await talk.stream.send_all(encode_frame([49, 1]))
        first = await talk.next_frame()
        assert first[0] == "49", f"{name} was answered with {first}"
    else:
        with trio.fail_after(1):
            first = await talk.next_frame()
        assert first[:4] != ("4", "2", "-1", "505"), f"{name} is not known: {first}"
    assert trio.current_time() - sent < 1
    await talk.stream.aclose()
