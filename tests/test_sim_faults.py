"""Injected faults: disconnect, rejection, duplicated and delayed executions, stale and bad
quotes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import trio

from hydra._contracts import OATS
from hydra._enums import OrderStatus, Side
from hydra._errors import BrokerConnectionError, InvalidValueError, QuoteUnusableError
from hydra._ids import ClientOrderId, IntentId
from hydra._orders import OrderRequest
from hydra.brokers import (
    BrokerEvent,
    ConnectionLost,
    ConnectionRestored,
    FillReported,
    OrderStatusChanged,
)
from hydra.sim import (
    BadQuotes,
    DelayExecution,
    Disconnect,
    DisplayedSize,
    DuplicateExecution,
    Gap,
    MarketParams,
    OrderTicket,
    RejectNextOrder,
    ScriptedFlow,
    SimBroker,
    SimParams,
    StaleQuotes,
    open_sim_exchange,
)


def quiet_oats(*faults: object, **changes: object) -> SimParams:
    """Oats at 350.00 / 350.25 with 5 lots each side, no random flow, and ``faults``."""
    quiet: dict[str, object] = dict(
        adv=0,
        daily_volatility=0.0,
        spread_ticks=((1, 1.0),),
        displayed_size=DisplayedSize.fixed(5),
        impact_ticks_per_lot=0.0,
    )
    return SimParams(markets=(MarketParams.oats(**(quiet | changes)),), faults=faults)  # type: ignore[arg-type]


def buy(key: str, price: str, quantity: int = 1) -> OrderRequest:
    return OrderRequest(
        client_order_id=ClientOrderId(key),
        intent_id=IntentId("intent"),
        contract=OATS,
        side=Side.BUY,
        quantity=quantity,
        limit_price=Decimal(price),
    )


async def collect(broker: SimBroker, log: list[tuple[float, BrokerEvent]]) -> None:
    async for event in broker.events():
        log.append((trio.current_time(), event))


async def test_disconnect_drops_events_keeps_orders_and_resyncs(autojump_clock: object) -> None:
    """While down, orders rest and fill, events are dropped, order entry is refused; after
    ConnectionRestored the fill is found through the snapshots."""
    flows = (ScriptedFlow(at=15, side=Side.SELL, quantity=6),)
    params = quiet_oats(Disconnect(at=10, duration=20), flows=flows)
    async with open_sim_exchange(params, seed=1) as exchange, trio.open_nursery() as nursery:
        broker = SimBroker(exchange)
        await broker.connect()
        log: list[tuple[float, BrokerEvent]] = []
        nursery.start_soon(collect, broker, log)
        await broker.place(buy("a", "350.00"))
        await trio.sleep(12)
        with pytest.raises(BrokerConnectionError):
            await broker.place(buy("b", "350.00"))
        await trio.sleep(20)
        assert [o.client_order_id for o in await broker.open_orders()] == []
        fills = await broker.executions_since(params.session_start)
        [position] = await broker.positions()
        nursery.cancel_scope.cancel(reason="test over")
    assert [f.quantity for f in fills] == [1] and position.quantity == 1
    assert fills[0].time == params.session_start + dt.timedelta(seconds=15)
    kinds = [(time, type(event)) for time, event in log]
    assert (10.0, ConnectionLost) in kinds and (30.0, ConnectionRestored) in kinds
    assert not any(isinstance(event, FillReported) for _, event in log)
    assert exchange.statistics().dropped_while_down > 0


async def test_reject_next_order_rejects_only_the_next_one(autojump_clock: object) -> None:
    """The first order after the fault's time is REJECTED with its code; the next is not."""
    async with open_sim_exchange(quiet_oats(RejectNextOrder(at=1)), seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        await trio.sleep(2)
        await broker.place(buy("a", "350.00"))
        await broker.place(buy("b", "350.00"))
        await trio.sleep(1)
        statuses = [broker.events().receive_nowait() for _ in range(3)]
    changes = [e for e in statuses if isinstance(e, OrderStatusChanged)]
    assert [(e.client_order_id, e.status, e.code) for e in changes] == [
        ("a", OrderStatus.REJECTED, 201),
        ("b", OrderStatus.WORKING, None),
    ]


async def _fill_reports(*faults: object) -> list[tuple[float, BrokerEvent]]:
    async with open_sim_exchange(quiet_oats(*faults), seed=1) as exchange:
        log: list[tuple[float, BrokerEvent]] = []
        client = exchange.attach(lambda event: log.append((trio.current_time(), event)))
        exchange.place(client, _ticket())
        await trio.sleep(5)
    return [(time, e) for time, e in log if isinstance(e, FillReported | OrderStatusChanged)]


def _ticket() -> OrderTicket:
    return OrderTicket.from_request(buy("a", "350.25"))


async def test_duplicate_execution_delivers_one_execution_twice(autojump_clock: object) -> None:
    """A duplicated execution report arrives twice with the same execution id."""
    reports = [
        e for _, e in await _fill_reports(DuplicateExecution(at=0)) if isinstance(e, FillReported)
    ]
    assert len(reports) == 2 and reports[0] == reports[1]


async def test_delayed_execution_arrives_after_the_status(autojump_clock: object) -> None:
    """A delayed execution report arrives ``delay`` late, after the FILLED status."""
    log = await _fill_reports(DelayExecution(at=0, delay=2.0))
    assert [(time, type(e).__name__) for time, e in log][-2:] == [
        (0.030, "OrderStatusChanged"),
        (2.030, "FillReported"),
    ]


async def test_stale_quotes_stop_updating_for_the_duration(autojump_clock: object) -> None:
    """During a stale-quote fault the quote stays as it was when the fault began."""
    gaps = (Gap(at=6, change=Decimal("1.00")),)
    params = quiet_oats(StaleQuotes(at=5, duration=10, symbol="ZO"), gaps=gaps)
    async with open_sim_exchange(params, seed=1) as exchange:
        await trio.sleep(8)
        stale = exchange.quote("ZO")
        await trio.sleep(10)
        fresh = exchange.quote("ZO")
    assert (stale.ask, stale.time) == (Decimal("350.25"), 5.0)
    assert fresh.ask == Decimal("351.25") and fresh.time == 18.0


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("crossed", "unusable quote for 'ZO' (crossed): bid Decimal('350.25'), ask Decimal('350"),
        ("one-sided", "no two-sided quote for 'ZO' (one-sided): bid -1.0"),
        ("zero", "unusable quote for 'ZO' (zero): bid 0.0"),
        ("nan", "no two-sided quote for 'ZO' (nan): bid Decimal('350.00'), ask nan"),
    ],
)
async def test_bad_quotes_raise_from_quote_nowait_for_the_duration(
    autojump_clock: object, problem: str, message: str
) -> None:
    """During a bad-quote fault SimBroker.quote_nowait raises QuoteUnusableError naming the
    problem, as the IB adapter does; the exchange's own book is unchanged, and after it ends
    the quote is back."""
    params = quiet_oats(BadQuotes(at=5, duration=10, problem=problem, symbol="ZO"))
    async with open_sim_exchange(params, seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        await broker.subscribe_quotes(OATS)
        await trio.sleep(5)
        with pytest.raises(QuoteUnusableError) as info:
            broker.quote_nowait(OATS)
        assert exchange.quote("ZO").ask == Decimal("350.25")
        await trio.sleep(10)
        assert broker.quote_nowait(OATS).time == 15.0
    assert info.value.problem == problem and info.value.symbol == "ZO"
    assert str(info.value).startswith(message)


async def test_fault_in_the_past_is_refused(autojump_clock: object) -> None:
    """Injecting a fault earlier than now names the ``at`` field."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        await trio.sleep(3)
        with pytest.raises(InvalidValueError, match=r"^at:"):
            exchange.inject(Disconnect(at=1, duration=1))


def test_fault_values_are_validated() -> None:
    """A fault with a negative time or a zero duration names the field."""
    with pytest.raises(InvalidValueError, match=r"^at:"):
        Disconnect(at=-1, duration=1)
    with pytest.raises(InvalidValueError, match=r"^duration:"):
        StaleQuotes(at=0, duration=0)
    with pytest.raises(InvalidValueError, match=r"^problem:"):
        BadQuotes(at=0, duration=1, problem="wide")
