"""IBBroker end to end: ib_async inside trio-asyncio against the simulated gateway on
127.0.0.1, started on port 0 in the same Trio run."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import TypeVar

import attrs
import pytest
import trio
import trio_asyncio

from hydra._contracts import OATS
from hydra._enums import OrderStatus, Side
from hydra._errors import (
    BrokerConnectionError,
    BrokerError,
    InvalidValueError,
    LiveTradingRefusedError,
)
from hydra._ids import ClientOrderId, IntentId
from hydra._orders import OrderRequest
from hydra._settings import BrokerSettings
from hydra.brokers import (
    BrokerErrorReported,
    BrokerEvent,
    CommissionReported,
    ConnectionLost,
    ConnectionRestored,
    FillReported,
    OrderAcknowledged,
    OrderStatusChanged,
)
from hydra.gateway import Gateway, serve_gateway
from hydra.ib import (
    IB_SYNC_TIMEOUT,
    LIVE_CONFIRMED_ENV,
    ClientIdInUseError,
    IBBroker,
    open_ib_broker,
)
from hydra.sim import MarketParams, SimExchange, SimParams, open_sim_exchange

# A still market (no random walk, no flow) so resting orders rest and the quote is known.
PARAMS = SimParams(
    markets=(MarketParams.oats(adv=0, daily_volatility=0.0), MarketParams.hogs(adv=0)),
    ack_latency=0.001,
    fill_latency=0.001,
)
HANG_GUARD = 10
E = TypeVar("E")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@attrs.frozen
class Served:
    gateway: Gateway
    exchange: SimExchange

    @property
    def settings(self) -> BrokerSettings:
        return BrokerSettings(port=self.gateway.port)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    with trio.fail_after(HANG_GUARD):
        async with open_sim_exchange(PARAMS, seed=7) as exchange, trio.open_nursery() as nursery:
            start = functools.partial(serve_gateway, exchange, quote_interval=0.005)
            gateway = await nursery.start(start)
            yield Served(gateway=gateway, exchange=exchange)
            nursery.cancel_scope.cancel(reason="test over")


def request(
    cid: str, price: Decimal, *, side: Side = Side.BUY, quantity: int = 1, **fields: object
) -> OrderRequest:
    return OrderRequest(
        client_order_id=ClientOrderId(cid),
        intent_id=IntentId(cid.rpartition(".")[0]),
        contract=OATS,
        side=side,
        quantity=quantity,
        limit_price=price,
        **fields,  # type: ignore[arg-type]
    )


async def until(broker: IBBroker, kind: type[E], seen: list[BrokerEvent] | None = None) -> E:
    """The next event of ``kind``; the ones before it go to ``seen``."""
    async for event in broker.events():
        if seen is not None:
            seen.append(event)
        if isinstance(event, kind):
            return event
    raise AssertionError(f"the event stream ended before a {kind.__name__}")


async def until_status(
    broker: IBBroker, status: OrderStatus, seen: list[BrokerEvent] | None = None
) -> OrderStatusChanged:
    while True:
        event = await until(broker, OrderStatusChanged, seen)
        if event.status is status:
            return event


@pytest.mark.parametrize("port", [4001, 7496])
@pytest.mark.parametrize(
    ("live", "environ"),
    [(False, {}), (False, {LIVE_CONFIRMED_ENV: "true"}), (True, {}),
     (True, {LIVE_CONFIRMED_ENV: "false"})],
)
def test_built_directly_on_a_live_port_it_refuses_before_anything_starts(
    port: int, live: bool, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """IBBroker on 4001 or 7496 without both live=True and HYDRA_LIVE_CONFIRMED=true raises
    in its constructor: no event loop, nothing listening, no connection attempted."""
    monkeypatch.delenv(LIVE_CONFIRMED_ENV, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(LiveTradingRefusedError, match=f"port {port} is a live trading port"):
        IBBroker(BrokerSettings(port=port), client_id=1, live=live)


@pytest.mark.parametrize("port", [4001, 7496])
async def test_built_directly_with_both_opt_ins_it_gets_past_the_check(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """live=True with HYDRA_LIVE_CONFIRMED=true builds an IBBroker for a live port, which
    says it is live and has not connected yet."""
    monkeypatch.setenv(LIVE_CONFIRMED_ENV, "true")
    async with trio_asyncio.open_loop():
        broker = IBBroker(BrokerSettings(port=port), client_id=1, live=True)
        assert broker.live and not broker.connected
        await broker.close()


async def test_live_on_a_non_live_port_is_refused_when_built(served: Served) -> None:
    """live=True on the simulated gateway's port is refused, as open_ib_broker refuses it."""
    with pytest.raises(LiveTradingRefusedError, match="not a known live port"):
        IBBroker(served.settings, client_id=1, live=True)
    async with open_ib_broker(served.settings) as broker:
        assert not broker.live and broker.connected


async def test_connect_and_read_contract_details(served: Served) -> None:
    """Connecting answers, and ZO's details carry IB's tick, multiplier and magnifier."""
    async with open_ib_broker(served.settings) as broker:
        assert broker.connected
        spec = await broker.contract_details("ZO")
        assert (spec.tick_size, spec.multiplier, spec.price_magnifier) == (
            Decimal("0.25"), Decimal(5000), 100
        )
        assert spec.point_value == 50
        assert spec.expiry == "202505"  # on 2025-03-03 March oats are in delivery
        assert spec.months == OATS.months
    assert not broker.connected


async def test_daily_bars_of_a_listed_month_and_a_refused_one(served: Served) -> None:
    """Daily TRADES bars come back as Hydra's (none from this market without trades); a
    month the gateway does not list is refused by name, not answered with silence."""
    async with open_ib_broker(served.settings) as broker:
        with trio.fail_after(HANG_GUARD):
            assert await broker.daily_bars(OATS.for_month("202505"), sessions=5) == ()
            with pytest.raises(InvalidValueError, match="ZO 202612"):
                await broker.daily_bars(OATS.for_month("202612"), sessions=5)


async def test_unknown_symbol_is_an_invalid_value(served: Served) -> None:
    """An unknown symbol is refused with InvalidValueError (IB answers 200)."""
    async with open_ib_broker(served.settings) as broker:
        with pytest.raises(InvalidValueError, match="ZZ"):
            await broker.contract_details("ZZ")


async def test_quotes_follow_the_exchange(served: Served) -> None:
    """quote_nowait refuses before subscribing; subscribe_quotes returns once a two-sided
    quote is in, and quote_nowait then reports the exchange's."""
    async with open_ib_broker(served.settings) as broker:
        with pytest.raises(BrokerError, match="subscribe_quotes"):
            broker.quote_nowait(OATS)
        await broker.subscribe_quotes(OATS)
        quote = broker.quote_nowait(OATS)
        expected = served.exchange.quote("ZO")
        assert (quote.bid, quote.ask) == (expected.bid, expected.ask)
        assert (quote.bid_size, quote.ask_size) == (expected.bid_size, expected.ask_size)


async def test_a_quote_ib_keeps_current_is_stamped_when_read(served: Served) -> None:
    """IB streams changes only, so a quote its feed vouches for (updated since the feed was
    last in doubt, `hydra.ib._feed`) is stamped with the Trio time it is read, not the wall
    clock's: a still market's quote does not age. (This fixture runs on the real clock.)"""
    async with open_ib_broker(served.settings) as broker:
        await broker.subscribe_quotes(OATS)
        before = trio.current_time()
        first = broker.quote_nowait(OATS)
        assert before <= first.time <= trio.current_time()
        await trio.sleep(0.05)
        before = trio.current_time()
        again = broker.quote_nowait(OATS)
        assert before <= again.time <= trio.current_time()
        assert again.time >= first.time + 0.05
        assert (again.bid, again.ask) == (first.bid, first.ask)


async def test_limit_at_the_ask_fills_once_then_its_commission(served: Served) -> None:
    """A buy at the ask is acknowledged and reported filled once (keyed by orderRef) with
    commission 0 when its execution arrives, then its commission once as CommissionReported
    when the gateway's commission report comes; FILLED comes after the fill."""
    async with open_ib_broker(served.settings) as broker:
        ask = served.exchange.quote("ZO").ask
        await broker.place(request("int-a.0", ask))
        seen: list[BrokerEvent] = []
        filled = await until_status(broker, OrderStatus.FILLED, seen)
        if not any(isinstance(e, CommissionReported) for e in seen):
            await until(broker, CommissionReported, seen)
        assert (filled.filled, filled.remaining) == (1, 0)
        [ack] = [e for e in seen if isinstance(e, OrderAcknowledged)]
        assert ack.client_order_id == "int-a.0" and ack.broker_order_id > 0
        [fill] = [e.fill for e in seen if isinstance(e, FillReported)]
        assert (fill.client_order_id, fill.price, fill.quantity) == ("int-a.0", ask, 1)
        assert fill.commission == 0
        [commission] = [e for e in seen if isinstance(e, CommissionReported)]
        assert commission == CommissionReported(
            execution_id=fill.execution_id, client_order_id=ClientOrderId("int-a.0"),
            commission=Decimal("2.50"),
        )
        assert seen.index(filled) > seen.index(FillReported(fill=fill))
        assert seen.index(commission) > seen.index(FillReported(fill=fill))
        statuses = [e.status for e in seen if isinstance(e, OrderStatusChanged)]
        assert statuses == [OrderStatus.WORKING, OrderStatus.FILLED]
        with trio.move_on_after(0.05):
            async for more in broker.events():
                if isinstance(more, FillReported | CommissionReported):
                    pytest.fail(f"the execution was reported again: {more}")


async def test_positions_executions_and_account_after_a_fill(served: Served) -> None:
    """After a fill, positions, executions_since and account reflect it."""
    async with open_ib_broker(served.settings) as broker:
        ask = served.exchange.quote("ZO").ask
        await broker.place(request("int-b.0", ask, quantity=2))
        await until_status(broker, OrderStatus.FILLED)
        [position] = [p for p in await broker.positions() if p.quantity]
        assert (position.contract.symbol, position.quantity, position.average_price) == (
            "ZO", 2, ask
        )
        [fill] = await broker.executions_since(EPOCH)
        assert (fill.client_order_id, fill.quantity, fill.commission) == (
            "int-b.0", 2, Decimal("5.00")
        )
        assert await broker.executions_since(fill.time + dt.timedelta(seconds=1)) == ()
        account = await broker.account()
        assert account.commission == Decimal("5.00")
        assert account == attrs.evolve(served.exchange.account(), commission=Decimal("5.00"))


async def test_a_burst_asking_for_the_hours_sends_one_request(served: Served) -> None:
    """Every intent asks for its contract's trading or liquid hours; fifty at once, of both
    kinds, ask IB once (the rest read what that request got: both come in one contract
    details), since IB's 50 messages a second count these too."""
    async with open_ib_broker(served.settings) as broker:
        await broker.trading_hours(OATS)  # qualifies the contract first, as an intent would
        asked = 0
        real = broker._ib.reqContractDetailsAsync

        async def counted(contract: object) -> object:
            nonlocal asked
            asked += 1
            return await real(contract)  # type: ignore[arg-type]

        broker._ib.reqContractDetailsAsync = counted  # type: ignore[method-assign]
        broker._hours.clear()  # as if the hours kept had run out
        async with trio.open_nursery() as nursery:
            for n in range(50):
                nursery.start_soon(broker.liquid_hours if n % 2 else broker.trading_hours, OATS)
        again, liquid = await broker.trading_hours(OATS), await broker.liquid_hours(OATS)
    assert asked == 1 and again is not None and again.zone.key == "America/Chicago"
    assert liquid is not None and liquid.sessions and liquid.sessions != again.sessions


async def test_resting_order_is_modified_then_cancelled(served: Served) -> None:
    """A modify shows its new price in open_orders; a cancel ends in CANCELLED."""
    async with open_ib_broker(served.settings) as broker:
        bid = served.exchange.quote("ZO").bid
        await broker.place(request("int-c.0", bid - 5, quantity=2))
        await until(broker, OrderAcknowledged)
        await broker.modify(ClientOrderId("int-c.0"), limit_price=bid - 3)
        [working] = await broker.open_orders()
        assert working.client_order_id == "int-c.0"
        assert (working.request.limit_price, working.request.quantity) == (bid - 3, 2)
        assert working.request.intent_id == "int-c"
        assert working.status is OrderStatus.WORKING
        await broker.cancel(ClientOrderId("int-c.0"))
        cancelled = await until_status(broker, OrderStatus.CANCELLED)
        assert cancelled.client_order_id == "int-c.0"
        assert await broker.open_orders() == ()
        assert await broker.completed_orders() == ("int-c.0",)  # reqCompletedOrders


async def test_refusals_of_unknown_and_finished_orders_are_error_events(served: Served) -> None:
    """Cancel or modify of an unknown order is 135, of a finished one 161 / 104."""
    async with open_ib_broker(served.settings) as broker:
        await broker.cancel(ClientOrderId("nobody.0"))
        event = await until(broker, BrokerErrorReported)
        assert (event.code, event.client_order_id) == (135, "nobody.0")
        await broker.place(request("int-d.0", served.exchange.quote("ZO").ask))
        await until_status(broker, OrderStatus.FILLED)
        await broker.cancel(ClientOrderId("int-d.0"))
        assert (await until(broker, BrokerErrorReported)).code == 161
        await broker.modify(ClientOrderId("int-d.0"), limit_price=Decimal(300))
        assert (await until(broker, BrokerErrorReported)).code == 104


async def test_off_tick_price_is_rejected_with_110(served: Served) -> None:
    """A price off ZO's tick (sent with a finer-tick contract) is REJECTED with code 110."""
    fine = attrs.evolve(OATS, tick_size=Decimal("0.05"))
    async with open_ib_broker(served.settings) as broker:
        await broker.contract_details("ZO")
        off_tick = attrs.evolve(request("int-e.0", Decimal(1)), contract=fine,
                                limit_price=served.exchange.quote("ZO").bid - Decimal("0.1"))
        await broker.place(off_tick)
        rejected = await until_status(broker, OrderStatus.REJECTED)
        assert (rejected.client_order_id, rejected.code) == ("int-e.0", 110)
        assert rejected.remaining == 1


async def test_informational_errors_change_no_order(served: Served) -> None:
    """2104, 2106 and 399 (even naming a working order) change no order's status."""
    async with open_ib_broker(served.settings) as broker:
        bid = served.exchange.quote("ZO").bid
        await broker.place(request("int-f.0", bid - 2))
        ack = await until(broker, OrderAcknowledged)
        await until_status(broker, OrderStatus.WORKING)
        wrapper = broker._ib.wrapper  # the gateway sends no 399: play IB's messages in
        wrapper.error(-1, 2104, "Market data farm connection is OK:usfarm", "")
        wrapper.error(-1, 2106, "HMDS data farm connection is OK:ushmds", "")
        wrapper.error(ack.broker_order_id, 399, "Order message warning", "")
        event = await until(broker, BrokerErrorReported)
        assert (event.code, event.client_order_id) == (399, "int-f.0")
        [working] = await broker.open_orders()
        assert working.status is OrderStatus.WORKING
        with trio.move_on_after(0.05):
            changed = await until(broker, OrderStatusChanged)
            pytest.fail(f"an informational error changed an order: {changed}")


async def test_a_refused_modify_leaves_the_order_cancellable(served: Served) -> None:
    """A modify the gateway refuses (201: it would trade against our own resting sell) leaves
    the bid working, though ib_async marks its trade Cancelled: the later cancel's real
    CANCELLED still reaches Hydra (it was swallowed, and the order left unmanaged)."""
    async with open_ib_broker(served.settings) as broker:
        quote = served.exchange.quote("ZO")
        await broker.place(request("int-s.0", quote.ask, side=Side.SELL))
        await until_status(broker, OrderStatus.WORKING)
        await broker.place(request("int-m.0", quote.bid))
        await until_status(broker, OrderStatus.WORKING)
        await broker.modify(ClientOrderId("int-m.0"), limit_price=quote.ask)
        refused = await until(broker, BrokerErrorReported)
        assert (refused.code, refused.client_order_id) == (201, "int-m.0")
        working = {o.client_order_id: o.status for o in await broker.open_orders()}
        assert working == {"int-s.0": OrderStatus.WORKING, "int-m.0": OrderStatus.WORKING}
        await broker.cancel(ClientOrderId("int-m.0"))
        cancelled = await until_status(broker, OrderStatus.CANCELLED)
        assert cancelled.client_order_id == "int-m.0"


async def test_drop_then_reconnect_keeps_the_fills(served: Served) -> None:
    """The gateway's drop-all fault is ConnectionLost; connect() again restores the session
    and executions_since still has the fill made before."""
    async with open_ib_broker(served.settings) as broker:
        await broker.place(request("int-g.0", served.exchange.quote("ZO").ask))
        await until_status(broker, OrderStatus.FILLED)
        served.gateway.drop_all_connections(reason="test")
        await until(broker, ConnectionLost)
        assert not broker.connected
        with pytest.raises(BrokerConnectionError):
            await broker.place(request("int-g.1", served.exchange.quote("ZO").ask))
        while True:
            try:
                await broker.connect()
                break
            except ClientIdInUseError:  # the old session may not be gone yet: back off
                await trio.sleep(0.01)
        await until(broker, ConnectionRestored)
        [fill] = await broker.executions_since(EPOCH)
        assert (fill.client_order_id, fill.commission) == ("int-g.0", Decimal("2.50"))
        await broker.subscribe_quotes(OATS)


async def test_client_id_in_use_is_a_connection_error_naming_it(served: Served) -> None:
    """A second session with a client id in use fails fast with ClientIdInUseError, a
    BrokerConnectionError naming the id; the first keeps working."""
    async with open_ib_broker(served.settings, client_id=5) as first:
        # fast: well before ib_async's own wait for the start-up answers would give up
        with trio.fail_after(IB_SYNC_TIMEOUT / 2), \
                pytest.raises(ClientIdInUseError, match="client id 5") as caught:
            async with open_ib_broker(served.settings, client_id=5):
                pytest.fail("connected with a client id in use")
        assert isinstance(caught.value, BrokerConnectionError)
        assert caught.value.client_id == 5
        assert (await first.contract_details("ZO")).symbol == "ZO"


async def test_unreachable_gateway_is_a_connection_error(served: Served) -> None:
    """Nothing listening is a BrokerConnectionError, not an asyncio error."""
    with trio.socket.socket() as sock:
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(BrokerConnectionError, match="could not connect"):
        async with open_ib_broker(BrokerSettings(port=port)):
            pytest.fail("connected to nothing")


async def test_ib_link_loss_and_restore_codes(served: Served) -> None:
    """1100 is ConnectionLost and connect() refuses until 1101, which is ConnectionRestored
    and resubscribes quotes."""
    async with open_ib_broker(served.settings) as broker:
        await broker.subscribe_quotes(OATS)
        wrapper = broker._ib.wrapper  # the gateway has no switch for these: play IB's messages
        wrapper.error(-1, 1100, "Connectivity between IB and Trader Workstation has been lost.", "")
        assert "1100" in (await until(broker, ConnectionLost)).reason
        assert not broker.connected
        with pytest.raises(BrokerConnectionError, match="lost IB"):
            await broker.connect()
        wrapper.error(-1, 1101, "Connectivity restored - data lost.", "")
        await until(broker, ConnectionRestored)
        await broker.connect()
        expected = served.exchange.quote("ZO")
        while True:
            try:
                assert broker.quote_nowait(OATS).bid == expected.bid
                break
            except BrokerError:
                await trio.sleep(0.005)


async def test_fills_positions_and_quotes_name_the_month_ib_lists(served: Served) -> None:
    """The gateway lists oats in its front month: the fill, the execution and the position
    name that month; ZO and ZO in that month quote as one market; a month IB does not list
    is refused."""
    async with open_ib_broker(served.settings) as broker:
        front = (await broker.contract_details("ZO")).expiry
        assert front is not None
        await broker.place(request("int-m.0", served.exchange.quote("ZO").ask))
        fill = (await until(broker, FillReported)).fill
        assert (fill.symbol, fill.expiry) == ("ZO", front)
        [executed] = await broker.executions_since(EPOCH)
        assert (executed.execution_id, executed.expiry) == (fill.execution_id, front)
        [position] = [p for p in await broker.positions() if p.quantity]
        assert (position.contract.symbol, position.contract.expiry) == ("ZO", front)
        await broker.subscribe_quotes(OATS)
        await broker.subscribe_quotes(OATS.for_month(front))
        both = [broker.quote_nowait(c) for c in (OATS, OATS.for_month(front))]
        assert [(q.bid, q.ask) for q in both] == [(both[0].bid, both[0].ask)] * 2
        with pytest.raises(InvalidValueError, match="IB lists no such futures contract"):
            await broker.subscribe_quotes(OATS.for_month("209912"))


async def test_sixty_messages_at_once_reach_the_gateway_within_ibs_limit(
    autojump_clock: object, served: Served,
) -> None:
    """30 orders placed and cancelled as fast as the calls go (60 messages, no pacing above
    the broker) all reach the gateway, none refused with error 100: the broker writes them
    evenly spaced, so no second holds more than IB's 50 on arrival. On the virtual clock: in
    real time a loaded machine can starve the gateway's reader for a second and have it read
    a second's messages at one instant (the full suite saw that, at a load average of 8)."""
    async with open_ib_broker(served.settings) as broker:
        bid = served.exchange.quote("ZO").bid
        ids = [ClientOrderId(f"int-s{n}.0") for n in range(30)]
        for cid in ids:
            await broker.place(request(cid, bid - 5))
        for cid in ids:
            await broker.cancel(cid)
        cancelled: set[str] = set()
        refused: list[BrokerErrorReported] = []
        async for event in broker.events():
            if isinstance(event, BrokerErrorReported) and event.code == 100:
                refused.append(event)
                break
            if isinstance(event, OrderStatusChanged) and event.status is OrderStatus.CANCELLED:
                cancelled.add(event.client_order_id)
                if len(cancelled) == len(ids):
                    break
    assert refused == []
    assert cancelled == set(ids)
    assert served.exchange.open_orders() == ()
