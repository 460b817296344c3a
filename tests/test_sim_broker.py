"""SimBroker: the Broker protocol over the simulated exchange."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest
import trio

from hydra._contracts import LEAN_HOGS, OATS
from hydra._enums import OrderStatus, Side
from hydra._errors import BrokerConnectionError, BrokerError, InvalidValueError
from hydra._ids import ClientOrderId, IntentId
from hydra._orders import OrderRequest
from hydra.brokers import Broker, OrderAcknowledged, OrderStatusChanged
from hydra.sim import MarketParams, SimBroker, SimParams, open_sim_exchange
from tests.simulated import quiet_oats


def buy(key: str, price: str = "350.00", quantity: int = 2) -> OrderRequest:
    return OrderRequest(
        client_order_id=ClientOrderId(key),
        intent_id=IntentId("intent"),
        contract=OATS,
        side=Side.BUY,
        quantity=quantity,
        limit_price=Decimal(price),
    )


def test_sim_broker_is_a_broker() -> None:
    """SimBroker has every method of the Broker protocol (mypy checks the signatures)."""
    broker_type: type[Broker] = SimBroker
    for name in (
        "connect",
        "close",
        "place",
        "modify",
        "cancel",
        "events",
        "open_orders",
        "positions",
        "executions_since",
        "account",
        "subscribe_quotes",
        "quote_nowait",
        "contract_details",
        "daily_bars",
    ):
        assert callable(getattr(broker_type, name))


async def test_placing_before_connecting_raises(autojump_clock: object) -> None:
    """Order entry on a broker that is not connected raises BrokerConnectionError."""
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        with pytest.raises(BrokerConnectionError):
            await SimBroker(exchange).place(buy("a"))


async def test_place_is_acknowledged_and_shows_in_open_orders(autojump_clock: object) -> None:
    """A placed order is acknowledged with a broker id and listed with its request."""
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        await broker.place(buy("a"))
        ack = await broker.events().receive()
        assert trio.current_time() == 0.030
        [order] = await broker.open_orders()
    assert isinstance(ack, OrderAcknowledged) and ack.broker_order_id == order.broker_order_id
    assert order.request == buy("a")
    assert (order.status, order.filled, order.remaining) == (OrderStatus.WORKING, 0, 2)


async def test_modify_and_cancel_go_through_the_broker(autojump_clock: object) -> None:
    """A modified then cancelled order reports WORKING at its new price, then CANCELLED."""
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        await broker.place(buy("a"))
        await broker.modify(ClientOrderId("a"), limit_price=Decimal("349.75"), quantity=1)
        [order] = await broker.open_orders()
        await broker.cancel(ClientOrderId("a"))
        await trio.sleep(1)
        await broker.close()
        events = [event async for event in broker.events()]
    assert order.request.limit_price == Decimal("349.75") and order.remaining == 1
    statuses = [e.status for e in events if isinstance(e, OrderStatusChanged)]
    assert statuses == [OrderStatus.WORKING, OrderStatus.WORKING, OrderStatus.CANCELLED]


async def test_quotes_need_a_subscription(autojump_clock: object) -> None:
    """quote_nowait refuses an unsubscribed contract and answers once subscribed."""
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        with pytest.raises(BrokerError, match="subscribe_quotes"):
            broker.quote_nowait(OATS)
        await broker.subscribe_quotes(OATS)
        quote = broker.quote_nowait(OATS)
    assert (quote.bid, quote.ask, quote.bid_size) == (Decimal("350.00"), Decimal("350.25"), 5)


async def test_contract_details_know_only_the_exchanges_contracts(autojump_clock: object) -> None:
    """contract_details gives the traded contract and names the symbol when it is unknown."""
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        assert await broker.contract_details("ZO") == OATS
        with pytest.raises(InvalidValueError, match=r"^symbol:"):
            await broker.contract_details("XX")
        with pytest.raises(InvalidValueError, match=r"^symbol:"):
            await broker.subscribe_quotes(LEAN_HOGS)


async def test_daily_bars_are_the_models_past_then_todays_tape(autojump_clock: object) -> None:
    """The past weekdays come from the market's model, the same for the same exchange seed;
    once the crowd has traded, today's bar (2025-03-03, the session's day) is the last."""
    params = SimParams(markets=(MarketParams.oats(),))
    async with open_sim_exchange(params, seed=4) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        before = await broker.daily_bars(OATS, sessions=20)
        assert len(before) == 20 and before[-1].day == dt.date(2025, 2, 28)
        await trio.sleep(600)  # ten minutes of the crowd's flow
        after = await broker.daily_bars(OATS.for_month("202505"), sessions=20)
        traded = sum(p.quantity for p in exchange.tape("ZO"))
        assert traded > 0 and after[-1].day == dt.date(2025, 3, 3)
        assert after[-1].volume == traded and after[:-1] == before[1:]
    async with open_sim_exchange(params, seed=4) as exchange:
        again = SimBroker(exchange)
        await again.connect()
        assert await again.daily_bars(OATS, sessions=20) == before


async def test_daily_bars_refuse_an_unknown_contract_and_a_closed_session(
    autojump_clock: object,
) -> None:
    """A contract the exchange does not trade is refused by name; no session, no bars."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        broker = SimBroker(exchange)
        with pytest.raises(BrokerConnectionError):
            await broker.daily_bars(OATS, sessions=5)
        await broker.connect()
        with pytest.raises(InvalidValueError, match=r"^symbol:"):
            await broker.daily_bars(LEAN_HOGS, sessions=5)
        assert await broker.daily_bars(OATS, sessions=5) == ()  # no flow: no trades, no bars


async def test_account_starts_at_the_starting_cash(autojump_clock: object) -> None:
    """Before any fill, cash and equity are the starting cash and nothing is realized."""
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        account = await broker.account()
    assert account.cash == account.equity == Decimal(100_000)
    assert account.realized == account.unrealized == account.commission == 0


async def test_two_clients_share_one_exchange(autojump_clock: object) -> None:
    """A second client sees the first one's orders, and each gets its own order events."""
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        first, second = SimBroker(exchange), SimBroker(exchange)
        await first.connect()
        await second.connect()
        await first.place(buy("a"))
        await trio.sleep(1)
        assert [o.client_order_id for o in await second.open_orders()] == ["a"]
        await second.cancel(ClientOrderId("a"))
        await trio.sleep(1)
        first_events = [first.events().receive_nowait() for _ in range(2)]
        [cancelled] = [second.events().receive_nowait()]
    assert isinstance(first_events[0], OrderAcknowledged)
    assert isinstance(cancelled, OrderStatusChanged) and cancelled.status is OrderStatus.CANCELLED


async def test_closed_broker_cannot_reconnect(autojump_clock: object) -> None:
    """After close the event stream ends and connect refuses."""
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        await broker.close()
        with pytest.raises(BrokerConnectionError):
            await broker.connect()
        assert [event async for event in broker.events()] == []


async def test_a_later_session_with_the_same_client_id_takes_over_events(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A new SimBroker under an earlier one's client id receives that session's order events."""
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        first = SimBroker(exchange, client_id=1)
        await first.connect()
        await first.place(buy("a", price="350.00"))  # behind the 5 lots displayed at the bid
        await trio.sleep(1)
        second = SimBroker(exchange, client_id=1)
        await second.connect()
        exchange.inject_flow("ZO", Side.SELL, 7)
        await trio.sleep(1)
        first_events = _names(first.events())
        second_events = _names(second.events())
    assert "OrderAcknowledged" in first_events and "FillReported" not in first_events
    assert "FillReported" in second_events


def _names(channel: trio.MemoryReceiveChannel[object]) -> list[str]:
    names = []
    while True:
        try:
            names.append(type(channel.receive_nowait()).__name__)
        except trio.WouldBlock:
            return names


async def test_quotes_and_positions_follow_the_contracts_month(autojump_clock: object) -> None:
    """A subscription is per month; an order's contract picks its month's market; positions
    come one per month; contract_details(symbol) gives the symbol's first market."""
    march, may = OATS.for_month("202603"), OATS.for_month("202605")
    quiet = dict(adv=0, daily_volatility=0.0, spread_ticks=((1, 1.0),))
    params = SimParams(
        markets=(
            MarketParams.oats(contract=march, **quiet),
            MarketParams.oats(contract=may, start_mid=Decimal("360.125"), **quiet),
        )
    )
    async with open_sim_exchange(params, seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        await broker.subscribe_quotes(may)
        assert broker.quote_nowait(may).bid == Decimal("360.00")
        with pytest.raises(BrokerError, match="ZO 202603"):
            broker.quote_nowait(march)
        with pytest.raises(InvalidValueError, match="ZO 202607"):
            await broker.subscribe_quotes(OATS.for_month("202607"))
        await broker.place(attrs.evolve(buy("m", "350.25", quantity=1), contract=march))
        await broker.place(attrs.evolve(buy("y", "360.25", quantity=2), contract=may))
        await trio.sleep(1)
        positions = await broker.positions()
        assert await broker.contract_details("ZO") == march
    assert [(p.contract.expiry, p.quantity) for p in positions] == [("202603", 1), ("202605", 2)]
