"""Client messages: what the real ib_async client sends parses into typed requests."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from ib_async import ExecutionFilter, Future, LimitOrder, Order, TagValue
from ib_async.client import Client

from hydra.gateway._message_ids import ClientMessage
from hydra.gateway._order import IBOrder
from hydra.gateway._requests import (
    CancelMarketData,
    CancelOrder,
    ClientRequest,
    PlaceOrder,
    RequestAccountUpdates,
    RequestContractDetails,
    RequestCurrentTime,
    RequestExecutions,
    RequestHistoricalData,
    RequestMarketData,
    StartApi,
    UnknownMessage,
    UnservedRequest,
    parse_request,
)
from hydra.gateway._wire import FrameDecoder, WireError


def sent_by_ib_async(call: Callable[[Client], None]) -> ClientRequest:
    """What ib_async's own encoder sends for ``call``, parsed by the gateway."""
    client = Client(wrapper=None)
    frames: list[bytes] = []
    client.conn.sendMsg = frames.append
    client.connState = Client.CONNECTED
    client._serverVersion = 157
    call(client)
    decoder = FrameDecoder()
    decoder.feed(b"".join(frames))
    fields = decoder.next_frame()
    assert fields is not None
    return parse_request(fields)


ZO = Future("ZO", "202503", "CBOT")


def test_place_order_keeps_the_fields_the_gateway_uses() -> None:
    """placeOrder's order id, contract, prices, orderRef, OCA group, parent and transmit."""
    order = LimitOrder("BUY", 2, 350.25, orderRef="int-1.0", ocaGroup="g1", transmit=False)
    order.parentId = 3
    request = sent_by_ib_async(lambda c: c.placeOrder(7, ZO, order))
    assert isinstance(request, PlaceOrder)
    assert request.order_id == 7
    assert request.order == IBOrder(
        action="BUY",
        quantity=Decimal(2),
        order_type="LMT",
        limit_price=Decimal("350.25"),
        tif="",
        oca_group="g1",
        order_ref="int-1.0",
        transmit=False,
        parent_id=3,
    )
    assert request.contract.symbol == "ZO"
    assert request.contract.last_trade_date_or_contract_month == "202503"
    assert request.contract.exchange == "CBOT"


def test_stop_limit_carries_its_stop_as_aux_price() -> None:
    """A STP LMT order's trigger travels as auxPrice."""
    order = Order(
        action="SELL", totalQuantity=1, orderType="STP LMT", lmtPrice=349.0, auxPrice=349.5
    )
    request = sent_by_ib_async(lambda c: c.placeOrder(8, ZO, order))
    assert isinstance(request, PlaceOrder)
    o = request.order
    assert (o.order_type, o.limit_price, o.aux_price) == (
        "STP LMT",
        Decimal("349.0"),
        Decimal("349.5"),
    )


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda c: c.startApi(), StartApi(client_id=-1, capabilities="")),
        (lambda c: c.cancelOrder(9), CancelOrder(order_id=9)),
        (lambda c: c.cancelMktData(4), CancelMarketData(ticker_id=4)),
        (lambda c: c.reqCurrentTime(), RequestCurrentTime()),
        (
            lambda c: c.reqAccountUpdates(True, "DU1"),
            RequestAccountUpdates(subscribe=True, account="DU1"),
        ),
        (
            lambda c: c.reqExecutions(3, ExecutionFilter(clientId=2, symbol="ZO")),
            RequestExecutions(req_id=3, client_id=2, symbol="ZO"),
        ),
    ],
)
def test_small_requests_parse(call: Callable[[Client], None], expected: ClientRequest) -> None:
    """Requests with a few fields parse to their typed values."""
    assert sent_by_ib_async(call) == expected


def test_market_data_and_contract_details_carry_the_contract() -> None:
    """reqMktData and reqContractDetails carry the twelve contract fields."""
    market = sent_by_ib_async(lambda c: c.reqMktData(5, ZO, "", True, False, []))
    assert isinstance(market, RequestMarketData)
    assert (market.ticker_id, market.snapshot, market.contract.symbol) == (5, True, "ZO")
    details = sent_by_ib_async(lambda c: c.reqContractDetails(6, ZO))
    assert isinstance(details, RequestContractDetails)
    assert (details.req_id, details.contract.sec_type) == (6, "FUT")


def test_unserved_requests_keep_their_request_id() -> None:
    """A request for a service the gateway does not have (news) keeps the request id its
    refusal names; a message id no client sends is not a protocol error."""
    request = sent_by_ib_async(lambda c: c.reqHistoricalNews(8, 1, "BRFG", "", "", 10, []))
    assert request == UnservedRequest(message=ClientMessage.REQ_HISTORICAL_NEWS, req_id=8)
    assert parse_request(("60", "1")) == UnknownMessage(message_id=60)


def test_what_if_is_read_past_the_order_tail() -> None:
    """whatIfOrder's flag is found behind placeOrder's optional groups (here an algo)."""
    order = LimitOrder("BUY", 1, 350.0, whatIf=True, algoStrategy="Adaptive")
    order.algoParams = [TagValue("adaptivePriority", "Normal")]
    request = sent_by_ib_async(lambda c: c.placeOrder(9, ZO, order))
    assert isinstance(request, PlaceOrder) and request.what_if
    plain = sent_by_ib_async(lambda c: c.placeOrder(9, ZO, LimitOrder("BUY", 1, 350.0)))
    assert isinstance(plain, PlaceOrder) and not plain.what_if


def test_historical_data_request_fields() -> None:
    """reqHistoricalData's end, bar size, duration, what to show and keepUpToDate."""
    request = sent_by_ib_async(
        lambda c: c.reqHistoricalData(4, ZO, "", "2 D", "5 mins", "MIDPOINT", True, 2, True, [])
    )
    assert request == RequestHistoricalData(
        req_id=4,
        contract=request.contract,  # type: ignore[union-attr]
        end="",
        bar_size="5 mins",
        duration="2 D",
        use_rth=True,
        what_to_show="MIDPOINT",
        format_date=2,
        keep_up_to_date=True,
    )


@pytest.mark.parametrize(
    "fields",
    [("abc",), ("4", "1"), ("3", "x"), ("71", "2")],
)
def test_malformed_requests_are_protocol_errors(fields: tuple[str, ...]) -> None:
    """A bad message id, a truncated message or a non-number where a number belongs."""
    with pytest.raises(WireError):
        parse_request(fields)
