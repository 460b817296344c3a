"""`Session` sans I/O: requests in, replies out, and the exchange's events (delivered through
the registry) turned into replies, on the simulator under the autojump clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal

import attrs
import pytest
import trio

from hydra._enums import Side
from hydra.brokers import BrokerEvent
from hydra.gateway import Catalog
from hydra.gateway import _replies as r
from hydra.gateway import _requests as q
from hydra.gateway._message_ids import ClientMessage
from hydra.gateway._order import IBOrder
from hydra.gateway._registry import Registry
from hydra.gateway._session import Session
from hydra.gateway._unserved import SILENT, unserved_replies
from hydra.sim import MarketParams, SimExchange, SimParams, open_sim_exchange

PARAMS = SimParams(
    markets=(MarketParams.oats(adv=0, daily_volatility=0.0),),
    ack_latency=0.03,
    fill_latency=0.02,
    session_start=dt.datetime(2025, 3, 3, 14, 30, tzinfo=dt.UTC),
)
ZO = q.ContractFields(symbol="ZO", sec_type="FUT", exchange="CBOT")


@attrs.define
class Client:
    session: Session
    events: list[tuple[float, BrokerEvent]]  # when each was delivered

    def deliver(self) -> list[r.Reply]:
        """The replies to the events delivered so far."""
        replies = [reply for _, event in self.events for reply in self.session.on_event(event)]
        self.events.clear()
        return replies


@pytest.fixture
async def exchange() -> AsyncIterator[SimExchange]:
    async with open_sim_exchange(PARAMS, seed=1) as exchange:
        yield exchange


def registry_of(exchange: SimExchange) -> Registry:
    catalog = Catalog((m.contract for m in PARAMS.markets), today=dt.date(2025, 3, 3))
    return Registry(exchange, catalog, account="DU1")


def connect(registry: Registry, client_id: int) -> Client:
    events: list[tuple[float, BrokerEvent]] = []
    exchange_client = registry.claim(client_id, lambda e: events.append((trio.current_time(), e)))
    assert exchange_client is not None
    session = Session(registry, client_id=client_id, exchange_client=exchange_client)
    return Client(session=session, events=events)


def place(order_id: int, order: IBOrder, *, what_if: bool = False) -> q.PlaceOrder:
    return q.PlaceOrder(order_id=order_id, contract=ZO, order=order, what_if=what_if)


def limit(action: str, quantity: int, price: Decimal) -> IBOrder:
    return IBOrder(action=action, quantity=Decimal(quantity), order_type="LMT", limit_price=price)


async def test_an_order_is_acknowledged_after_the_ack_latency(
    exchange: SimExchange, autojump_clock: trio.testing.MockClock
) -> None:
    """placeOrder answers nothing at once; at exactly the ack latency the open order and its
    Submitted status arrive, with the permId the order got when placed."""
    client = connect(registry_of(exchange), 1)
    bid = exchange.quote("ZO").bid
    start = trio.current_time()
    assert client.session.handle(place(1, limit("BUY", 1, bid - 1))) == []
    await trio.sleep(1)
    assert [when - start for when, _ in client.events] == [pytest.approx(0.03)] * 2
    replies = client.deliver()
    [open_order, status] = replies
    assert isinstance(open_order, r.OpenOrder) and isinstance(status, r.OrderStatusReport)
    assert (status.status, status.perm_id) == ("Submitted", open_order.perm_id)
    assert open_order.perm_id > 0


async def test_what_if_answers_at_once_and_places_nothing(
    exchange: SimExchange, autojump_clock: trio.testing.MockClock
) -> None:
    """A what-if order is answered in the same call, with one contract's margin as the change
    and the commission; the exchange never sees it."""
    client = connect(registry_of(exchange), 1)
    [answer] = client.session.handle(place(1, limit("SELL", 1, Decimal(350)), what_if=True))
    assert isinstance(answer, r.OpenOrder) and answer.what_if is not None
    assert (answer.what_if.change.initial, answer.what_if.change.maintenance) == (1485, 1350)
    assert answer.what_if.commission == Decimal("2.5")
    await trio.sleep(1)
    assert client.events == [] and exchange.working_orders() == frozenset()


async def test_a_global_cancel_is_reported_to_the_owner(
    exchange: SimExchange, autojump_clock: trio.testing.MockClock
) -> None:
    """Client 2's global cancel: client 1, who placed the order, gets the Cancelled status
    and error 202; client 2 gets nothing for an order that is not its own."""
    registry = registry_of(exchange)
    owner, other = connect(registry, 1), connect(registry, 2)
    owner.session.handle(place(1, limit("BUY", 1, exchange.quote("ZO").bid - 1)))
    await trio.sleep(0.1)
    owner.deliver()
    assert other.session.handle(q.GlobalCancel()) == []
    await trio.sleep(0.1)
    replies = owner.deliver()
    assert [type(x).__name__ for x in replies] == ["OrderStatusReport", "ErrorMessage"]
    assert isinstance(replies[0], r.OrderStatusReport) and replies[0].status == "Cancelled"
    assert other.deliver() == []


async def test_a_modification_replaces_the_order_described_back(
    exchange: SimExchange, autojump_clock: trio.testing.MockClock
) -> None:
    """Re-placing a working order id reprices it; open orders then describe the new price."""
    client = connect(registry_of(exchange), 1)
    bid = exchange.quote("ZO").bid
    client.session.handle(place(1, limit("BUY", 2, bid - 2)))
    await trio.sleep(0.1)
    client.deliver()
    client.session.handle(place(1, limit("BUY", 2, bid - 1)))
    await trio.sleep(0.1)
    client.deliver()
    [open_order, _, _] = client.session.handle(q.RequestOpenOrders())
    assert isinstance(open_order, r.OpenOrder)
    assert (open_order.order.limit_price, open_order.order.tif) == (bid - 1, "DAY")


async def test_a_refused_modification_of_a_resting_market_order_leaves_it_described(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A MKT sell larger than the book within its protection rests there (Submitted, its
    remaining shown); re-placing it with a price and a new quantity is refused by the exchange
    (105), and open orders still describe it as placed: MKT, no price, the first quantity and
    its true remaining. A cancel then takes it out."""
    market = MarketParams.oats(adv=0, daily_volatility=0.0, market_protection_ticks=1)
    async with open_sim_exchange(attrs.evolve(PARAMS, markets=(market,)), seed=1) as exchange:
        client = connect(registry_of(exchange), 1)
        bid = exchange.quote("ZO").bid
        sell = IBOrder(action="SELL", quantity=Decimal(60), order_type="MKT")
        client.session.handle(place(1, sell))
        await trio.sleep(0.5)
        last = [x for x in client.deliver() if isinstance(x, r.OrderStatusReport)][-1]
        assert last.status == "Submitted" and 0 < last.filled < 60
        assert last.remaining == 60 - last.filled
        client.session.handle(
            place(1, attrs.evolve(sell, quantity=Decimal(80), limit_price=bid + 1))
        )
        await trio.sleep(0.5)
        assert [x.code for x in client.deliver() if isinstance(x, r.ErrorMessage)] == [105]
        [open_order, status, _] = client.session.handle(q.RequestOpenOrders())
        assert isinstance(open_order, r.OpenOrder) and isinstance(status, r.OrderStatusReport)
        assert (open_order.order.order_type, open_order.order.quantity) == ("MKT", Decimal(60))
        assert open_order.order.limit_price is None
        assert (status.filled, status.remaining) == (last.filled, 60 - last.filled)
        client.session.handle(q.CancelOrder(order_id=1))
        await trio.sleep(0.5)
        assert "Cancelled" in [
            x.status for x in client.deliver() if isinstance(x, r.OrderStatusReport)
        ]
        assert exchange.working_orders() == frozenset()


async def test_a_stop_limit_modified_moves_its_stop_at_the_exchange(
    exchange: SimExchange, autojump_clock: trio.testing.MockClock
) -> None:
    """Re-placing a STP LMT with a new limit and a new auxPrice moves both at the exchange:
    a trade through the new stop (not the old one) triggers it."""
    client = connect(registry_of(exchange), 1)
    bid = exchange.quote("ZO").bid
    order = IBOrder(action="SELL", quantity=Decimal(1), order_type="STP LMT",
                    limit_price=bid - 5, aux_price=bid - 4)  # fmt: skip
    client.session.handle(place(1, order))
    await trio.sleep(0.1)
    client.deliver()
    client.session.handle(place(1, attrs.evolve(order, limit_price=bid - 1, aux_price=bid)))
    await trio.sleep(0.1)
    assert not [x for x in client.deliver() if isinstance(x, r.ErrorMessage)]
    exchange.inject_flow("ZO", Side.SELL, 1)  # prints at the bid: the new stop, not the old
    await trio.sleep(0.1)
    assert exchange.positions() and exchange.positions()[0].quantity == -1


async def test_cancelling_what_was_never_asked_for_is_refused(
    exchange: SimExchange, autojump_clock: trio.testing.MockClock
) -> None:
    """Market data, depth and historical data cancels of unknown ids get IB's 300, 310 and
    366; a real-time bars cancel gets nothing, as at IB."""
    session = connect(registry_of(exchange), 1).session
    codes = [
        reply.code
        for request in (
            q.CancelMarketData(ticker_id=4),
            q.CancelSubscription(message=ClientMessage.CANCEL_MKT_DEPTH, req_id=4),
            q.CancelSubscription(message=ClientMessage.CANCEL_HISTORICAL_DATA, req_id=4),
            q.CancelSubscription(message=ClientMessage.CANCEL_REAL_TIME_BARS, req_id=4),
        )
        for reply in session.handle(request)
        if isinstance(reply, r.ErrorMessage)
    ]
    assert codes == [300, 310, 366]


async def test_pnl_single_of_a_held_contract(
    exchange: SimExchange, autojump_clock: trio.testing.MockClock
) -> None:
    """reqPnLSingle reports the position, its value at the mid and its unrealized PnL; an
    unknown conId gets 200."""
    registry = registry_of(exchange)
    client = connect(registry, 1)
    ask = exchange.quote("ZO").ask
    client.session.handle(place(1, limit("BUY", 2, ask)))
    await trio.sleep(0.1)
    con_id = registry.catalog.listings[0].wire.con_id
    [pnl] = client.session.handle(q.RequestPnLSingle(req_id=3, account="DU1", con_id=con_id))
    mid = exchange.quote("ZO").mid
    assert isinstance(pnl, r.PnLSingle)
    assert (pnl.position, pnl.value) == (2, 2 * mid * 50)
    assert pnl.unrealized == (mid - ask) * 2 * 50
    [refused] = client.session.handle(q.RequestPnLSingle(req_id=4, account="DU1", con_id=1))
    assert isinstance(refused, r.ErrorMessage) and refused.code == 200


def test_every_unserved_request_but_the_silent_ones_is_answered() -> None:
    """Each message parsed as unserved gets an answer from `_unserved`, but the few IB
    acknowledges with nothing."""
    catalog = Catalog((m.contract for m in PARAMS.markets), today=dt.date(2025, 3, 3))
    for message in ClientMessage:
        request = q.parse_request((str(int(message)), *["1"] * 300))
        if isinstance(request, q.UnservedRequest):
            answered = bool(unserved_replies(request, catalog))
            assert answered is (message not in SILENT), message.name


async def test_a_cold_year_of_history_lets_other_clients_in(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A year of 1-minute bars on a cold gateway is made a step at a time with a checkpoint
    after each (a block of the past drawn, a run of rows made): another client is answered in
    between, at many stages of the drawing, all at the same virtual instant; then the year's
    bars come in one reply, as `handle` would make them in one go."""
    params = attrs.evolve(PARAMS, markets=(MarketParams.oats(),))
    async with open_sim_exchange(params, seed=1) as exchange:
        registry = registry_of(exchange)
        drawing, other = connect(registry, 1), connect(registry, 2)
        request = q.RequestHistoricalData(
            req_id=5, contract=ZO, end="", bar_size="1 min", duration="1 Y", use_rth=False,
            what_to_show="TRADES", format_date=2, keep_up_to_date=False,
        )  # fmt: skip
        listing = registry.catalog.resolve(ZO)
        assert listing is not None
        past, start, seen, answered = registry.past(listing), trio.current_time(), [], []

        async def draw() -> None:
            answered.extend(await drawing.session.answer(request))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(draw)
            while not answered:
                await trio.lowlevel.checkpoint()
                [answer] = other.session.handle(q.RequestCurrentTime())
                assert isinstance(answer, r.CurrentTime)
                seen.append(len(past.times))
        assert trio.current_time() == start
        partly = [n for n in seen if 0 < n < len(past.times)]
        assert len(set(partly)) > 10  # answered at many stages of the drawing
        assert seen.count(len(past.times)) > 3  # and while the rows were made
        [reply] = answered
        assert isinstance(reply, r.HistoricalData) and reply.count > 100_000
        assert reply == drawing.session.handle(request)[0]


async def test_two_clients_asking_a_cold_year_at_once_get_the_same_bars(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Two clients that ask for the same cold year at once draw the one past between them, a
    block each in turn, and get the bars a single request would have got."""
    params = attrs.evolve(PARAMS, markets=(MarketParams.oats(),))
    request = q.RequestHistoricalData(
        req_id=5, contract=ZO, end="", bar_size="1 hour", duration="1 Y", use_rth=False,
        what_to_show="TRADES", format_date=1, keep_up_to_date=False,
    )  # fmt: skip
    async with open_sim_exchange(params, seed=1) as exchange:
        registry = registry_of(exchange)
        first, second = connect(registry, 1), connect(registry, 2)
        replies: dict[int, list[r.Reply]] = {}

        async def ask(client: Client, key: int) -> None:
            replies[key] = await client.session.answer(request)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(ask, first, 1)
            nursery.start_soon(ask, second, 2)
    async with open_sim_exchange(params, seed=1) as exchange:
        alone = connect(registry_of(exchange), 1).session.handle(request)
    assert replies[1] == replies[2] == alone
    [reply] = alone
    assert isinstance(reply, r.HistoricalData) and reply.count > 4_000  # hours that traded


async def test_a_year_of_one_second_bars_is_refused_at_once(
    exchange: SimExchange, autojump_clock: trio.testing.MockClock
) -> None:
    """A year of 1-second bars (31.6 million) gets IB's 162 at once, naming the limit, and
    nothing of the past is drawn for it: one client cannot keep the gateway busy for minutes."""
    registry = registry_of(exchange)
    client = connect(registry, 1)
    request = q.RequestHistoricalData(
        req_id=9, contract=ZO, end="", bar_size="1 secs", duration="1 Y", use_rth=False,
        what_to_show="MIDPOINT", format_date=2, keep_up_to_date=False,
    )  # fmt: skip
    [reply] = await client.session.answer(request)
    assert isinstance(reply, r.ErrorMessage) and (reply.req_id, reply.code) == (9, 162)
    assert "Time length exceed max. (31,622,400 bars of 1 s; at most 600,000)" in reply.message
    listing = registry.catalog.resolve(ZO)
    assert listing is not None and registry.past(listing).times == []
