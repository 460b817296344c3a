"""The simulated exchange through its own entry point, on the autojump clock."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import TypeVar

import attrs
import trio

from hydra._contracts import OATS
from hydra._enums import OrderStatus, Side
from hydra._ids import BrokerOrderId, ClientOrderId, IntentId
from hydra._quotes import Quote
from hydra.brokers import (
    BrokerErrorReported,
    BrokerEvent,
    ErrorCode,
    FillReported,
    OrderAcknowledged,
    OrderStatusChanged,
    PositionChanged,
)
from hydra.sim import (
    DisplayedSize,
    Gap,
    MarketParams,
    OrderTicket,
    ScriptedFlow,
    SimExchange,
    SimParams,
    open_sim_exchange,
)
from hydra.sim._market import Market, Print
from tests.simulated import still_oats

E = TypeVar("E")


def ticket(key: str, side: Side, price: str, quantity: int = 1, **changes: object) -> OrderTicket:
    fields: dict[str, object] = dict(
        client_order_id=ClientOrderId(key),
        order_ref=IntentId("intent"),
        symbol="ZO",
        side=side,
        quantity=quantity,
        order_type="LMT",
        limit_price=Decimal(price),
    )
    return OrderTicket(**(fields | changes))  # type: ignore[arg-type]


def recorder(exchange: SimExchange) -> tuple[int, list[tuple[float, BrokerEvent]]]:
    log: list[tuple[float, BrokerEvent]] = []
    client = exchange.attach(lambda event: log.append((trio.current_time(), event)))
    return client, log


def of_type(log: list[tuple[float, BrokerEvent]], kind: type[E]) -> list[tuple[float, E]]:
    return [(time, event) for time, event in log if isinstance(event, kind)]


async def test_ack_arrives_after_exactly_the_ack_latency(autojump_clock: object) -> None:
    """A new order is acknowledged, then reported WORKING, exactly 0.030 s after placing it."""
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("a", Side.BUY, "350.00"))
        await trio.sleep(1)
    assert [time for time, _ in log] == [0.030, 0.030]
    ack, status = log[0][1], log[1][1]
    assert ack == OrderAcknowledged(
        client_order_id=ClientOrderId("a"), broker_order_id=BrokerOrderId(1)
    )
    assert isinstance(status, OrderStatusChanged) and status.status is OrderStatus.WORKING


async def test_order_behind_displayed_size_fills_only_after_that_size_trades(
    autojump_clock: object,
) -> None:
    """A bid behind 5 displayed lots fills only after 5 lots of selling, 0.020 s after the trade."""
    flows = (
        ScriptedFlow(at=10, side=Side.SELL, quantity=5),
        ScriptedFlow(at=20, side=Side.SELL, quantity=1),
    )
    async with open_sim_exchange(still_oats(flows=flows), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("a", Side.BUY, "350.00"))
        await trio.sleep(15)
        assert of_type(log, FillReported) == []
        await trio.sleep(10)
    [(time, report)] = of_type(log, FillReported)
    assert time == 20.020
    assert report.fill.price == Decimal("350.00") and report.fill.quantity == 1
    assert report.fill.time == SimParams().session_start + dt.timedelta(seconds=20)


async def test_flow_fills_an_order_partly_then_fully(autojump_clock: object) -> None:
    """An order better than the touch fills 2 of 3 lots, then the last one, reporting each."""
    flows = (
        ScriptedFlow(at=5, side=Side.SELL, quantity=2),
        ScriptedFlow(at=6, side=Side.SELL, quantity=4),
    )
    async with open_sim_exchange(
        still_oats(spread_ticks=2, flows=flows), seed=1
    ) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("a", Side.BUY, "350.00", quantity=3))  # inside the spread
        await trio.sleep(10)
    fills = [(time, e.fill.quantity) for time, e in of_type(log, FillReported)]
    assert fills == [(5.020, 2), (6.020, 1)]
    statuses = [(e.status, e.filled, e.remaining) for _, e in of_type(log, OrderStatusChanged)]
    assert statuses[-2:] == [(OrderStatus.WORKING, 2, 1), (OrderStatus.FILLED, 3, 0)]


async def test_two_of_our_orders_at_one_price_fill_in_time_order(autojump_clock: object) -> None:
    """Price-time priority: the first of two bids at one price fills first."""
    flows = (ScriptedFlow(at=5, side=Side.SELL, quantity=6),)
    async with open_sim_exchange(still_oats(flows=flows), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("first", Side.BUY, "350.00"))
        await trio.sleep(1)
        exchange.place(client, ticket("second", Side.BUY, "350.00"))
        await trio.sleep(10)
    assert [e.fill.client_order_id for _, e in of_type(log, FillReported)] == ["first"]


async def test_marketable_limit_fills_at_once_up_to_its_limit(autojump_clock: object) -> None:
    """A buy at 350.50 takes 5 lots at 350.25 and 5 at 350.50, and rests the rest as the bid."""
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("a", Side.BUY, "350.50", quantity=12))
        await trio.sleep(1)
        quote = exchange.quote("ZO")
    fills = [(time, e.fill.price, e.fill.quantity) for time, e in of_type(log, FillReported)]
    assert fills == [(0.030, Decimal("350.25"), 5), (0.030, Decimal("350.50"), 5)]
    assert (quote.bid, quote.bid_size, quote.ask) == (Decimal("350.50"), 2, Decimal("350.75"))


async def test_off_tick_price_is_rejected_with_110(autojump_clock: object) -> None:
    """A price between ticks is REJECTED with IB's code 110."""
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("a", Side.BUY, "350.10"))
        await trio.sleep(1)
    [(time, status)] = of_type(log, OrderStatusChanged)
    assert (time, status.status, status.code) == (
        0.030,
        OrderStatus.REJECTED,
        ErrorCode.PRICE_OFF_TICK,
    )


async def test_unsupported_order_type_is_rejected_with_201(autojump_clock: object) -> None:
    """An order type the exchange does not support (TRAIL) is REJECTED with code 201."""
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("a", Side.BUY, "350.00", order_type="TRAIL"))
        await trio.sleep(1)
    [(_, status)] = of_type(log, OrderStatusChanged)
    assert (status.status, status.code) == (OrderStatus.REJECTED, 201)
    assert status.reason is not None and "TRAIL" in status.reason


async def test_modify_and_cancel_of_unknown_order_report_135(autojump_clock: object) -> None:
    """Modifying or cancelling an order the exchange never saw reports error 135."""
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.modify(client, ClientOrderId("nope"), limit_price=Decimal("350.00"))
        exchange.cancel(client, ClientOrderId("nope"))
        await trio.sleep(1)
    errors = [(time, e.code, e.client_order_id) for time, e in of_type(log, BrokerErrorReported)]
    assert errors == [(0.030, 135, "nope"), (0.030, 135, "nope")]


async def test_modify_and_cancel_of_finished_order_report_104_and_161(
    autojump_clock: object,
) -> None:
    """A filled order can be neither modified (104) nor cancelled (161)."""
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("a", Side.BUY, "350.25"))
        await trio.sleep(1)
        exchange.modify(client, ClientOrderId("a"), limit_price=Decimal("350.00"))
        exchange.cancel(client, ClientOrderId("a"))
        await trio.sleep(1)
    assert [e.code for _, e in of_type(log, BrokerErrorReported)] == [104, 161]


async def test_cancel_takes_the_order_out_and_reports_cancelled(autojump_clock: object) -> None:
    """A cancelled order no longer fills and is reported CANCELLED after the ack latency."""
    flows = (ScriptedFlow(at=5, side=Side.SELL, quantity=20),)
    async with open_sim_exchange(still_oats(flows=flows), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("a", Side.BUY, "350.00"))
        await trio.sleep(1)
        exchange.cancel(client, ClientOrderId("a"))
        await trio.sleep(10)
        assert exchange.open_orders() == ()
    assert of_type(log, FillReported) == []
    assert of_type(log, OrderStatusChanged)[-1][0] == 1.030
    assert of_type(log, OrderStatusChanged)[-1][1].status is OrderStatus.CANCELLED


async def test_modify_to_a_new_price_loses_queue_priority(autojump_clock: object) -> None:
    """Repricing an order sends it to the back of the queue at its new price."""
    flows = (ScriptedFlow(at=5, side=Side.SELL, quantity=1),)
    params = still_oats(spread_ticks=3, flows=flows)
    async with open_sim_exchange(params, seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("a", Side.BUY, "349.75"))
        exchange.place(client, ticket("b", Side.BUY, "350.00"))
        exchange.modify(client, ClientOrderId("a"), limit_price=Decimal("350.00"))
        await trio.sleep(10)
    assert [e.fill.client_order_id for _, e in of_type(log, FillReported)] == ["b"]


async def test_round_trip_of_one_point_on_oats_makes_fifty_dollars(autojump_clock: object) -> None:
    """Buying 1 ZO at 350.25 and selling at 351.25 realizes $50, less $5 of commission."""
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("buy", Side.BUY, "350.25"))
        await trio.sleep(1)
        exchange.place(client, ticket("sell", Side.SELL, "351.25"))
        exchange.inject_flow("ZO", Side.BUY, 50)
        await trio.sleep(1)
        account = exchange.account()
        [position] = exchange.positions()
    assert position.quantity == 0 and position.realized_pnl == Decimal(50)
    assert account.realized == Decimal(50) and account.commission == Decimal("5.00")
    assert account.equity == SimParams().starting_cash + Decimal(45)
    assert of_type(log, PositionChanged)[-1][1].quantity == 0


async def _event_log(seed: int) -> list[tuple[float, BrokerEvent]]:
    async with open_sim_exchange(SimParams(markets=(MarketParams.oats(),)), seed=seed) as exchange:
        log: list[tuple[float, BrokerEvent]] = []
        origin = exchange.origin
        # To the microsecond, the exchange's resolution: two runs' clocks start at different
        # origins, so their differences from them differ in the last float digits.
        client = exchange.attach(
            lambda event: log.append((round(trio.current_time() - origin, 6), event))
        )
        for n in range(40):
            quote = exchange.quote("ZO")
            side = Side.BUY if n % 2 else Side.SELL
            exchange.place(client, ticket(f"o{n}", side, str(quote.near_touch(side)), quantity=3))
            await trio.sleep(300)
            exchange.cancel(client, ClientOrderId(f"o{n}"))
    return log


async def test_same_seed_gives_the_same_event_log_and_another_seed_does_not(
    autojump_clock: object,
) -> None:
    """Two runs with one seed log identical events (byte for byte); another seed differs."""
    first, again, other = await _event_log(7), await _event_log(7), await _event_log(8)
    assert any(isinstance(event, FillReported) for _, event in first)
    assert repr(first) == repr(again)  # times are relative to the exchange's opening
    assert first != other


MARCH, MAY = OATS.for_month("202603"), OATS.for_month("202605")


def two_oats_months(**changes: object) -> SimParams:
    """Quiet ZO March at 350.00 / 350.25 and ZO May at 360.00 / 360.25 (the old model's
    book: no crowd events, no burn-in)."""
    quiet: dict[str, object] = (
        dict(
            adv=0,
            daily_volatility=0.0,
            spread_ticks=((1, 1.0),),
            displayed_size=DisplayedSize.fixed(5),
            impact_ticks_per_lot=0.0,
        )
        | changes
    )
    return SimParams(
        markets=(
            MarketParams.oats(contract=MARCH, **quiet).legacy(),
            MarketParams.oats(contract=MAY, start_mid=Decimal("360.125"), **quiet).legacy(),
        )
    )


async def test_two_months_quote_and_fill_independently(autojump_clock: object) -> None:
    """A March bid never fills from May's selling, only from March's; quotes are per month."""
    async with open_sim_exchange(two_oats_months(), seed=1) as exchange:
        client, log = recorder(exchange)
        assert (exchange.quote(MARCH).bid, exchange.quote(MAY).bid) == (
            Decimal("350.00"),
            Decimal("360.00"),
        )
        exchange.place(client, ticket("a", Side.BUY, "350.00", expiry="202603"))
        await trio.sleep(1)
        exchange.inject_flow(MAY, Side.SELL, 20)
        await trio.sleep(1)
        assert of_type(log, FillReported) == []
        exchange.inject_flow(MARCH, Side.SELL, 6)
        await trio.sleep(1)
    [(_, report)] = of_type(log, FillReported)
    assert (report.fill.client_order_id, report.fill.price) == ("a", Decimal("350.00"))


async def test_positions_are_kept_per_delivery_month(autojump_clock: object) -> None:
    """Long March and short May are two positions, not a flat one."""
    async with open_sim_exchange(two_oats_months(), seed=1) as exchange:
        client, _ = recorder(exchange)
        exchange.place(client, ticket("buy", Side.BUY, "350.25", expiry="202603"))
        exchange.place(client, ticket("sell", Side.SELL, "360.00", expiry="202605"))
        await trio.sleep(1)
        positions = exchange.positions()
        account = exchange.account()
    assert [(p.contract, p.quantity, p.average_price) for p in positions] == [
        (MARCH, 1, Decimal("350.25")),
        (MAY, -1, Decimal("360.00")),
    ]
    assert account.commission == Decimal("5.00")


async def test_fills_and_position_changes_carry_the_delivery_month(
    autojump_clock: object,
) -> None:
    """A May execution reports ZO with expiry 202605 in its fill, its position change and the
    account's executions; a market without a month reports none."""
    async with open_sim_exchange(two_oats_months(), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("sell", Side.SELL, "360.00", expiry="202605"))
        await trio.sleep(1)
        [executed] = exchange.executions_since(exchange.params.session_start)
    [(_, report)] = of_type(log, FillReported)
    [(_, change)] = of_type(log, PositionChanged)
    assert (report.fill.symbol, report.fill.expiry) == ("ZO", "202605")
    assert executed == report.fill
    assert (change.symbol, change.expiry, change.quantity) == ("ZO", "202605", -1)
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("buy", Side.BUY, "400.00"))
        await trio.sleep(1)
    [(_, report)] = of_type(log, FillReported)
    assert (report.fill.symbol, report.fill.expiry) == ("ZO", None)


async def test_an_unlisted_or_unnamed_month_is_refused_with_200(autojump_clock: object) -> None:
    """July is not traded here, and a bare ZO is ambiguous between March and May: both 200."""
    async with open_sim_exchange(two_oats_months(), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("july", Side.BUY, "350.00", expiry="202607"))
        exchange.place(client, ticket("bare", Side.BUY, "350.00"))
        await trio.sleep(1)
    rejected = {e.client_order_id: e.code for _, e in of_type(log, OrderStatusChanged)}
    assert rejected == {"july": ErrorCode.UNKNOWN_CONTRACT, "bare": ErrorCode.UNKNOWN_CONTRACT}


async def test_a_single_market_stands_for_any_month_of_its_product(autojump_clock: object) -> None:
    """With one ZO market (no month), an order for a ZO month trades there, as before months."""
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        client, _ = recorder(exchange)
        exchange.place(client, ticket("a", Side.BUY, "350.00", expiry="202612"))
        await trio.sleep(1)
        [order] = exchange.open_orders()
    assert order.request.contract == OATS.for_month("202612")


async def _two_month_log(seed: int) -> list[tuple[float, BrokerEvent]]:
    markets = (
        MarketParams.oats(contract=MARCH),
        MarketParams.oats(contract=MAY, start_mid=Decimal("362.00")),
    )
    async with open_sim_exchange(SimParams(markets=markets), seed=seed) as exchange:
        log: list[tuple[float, BrokerEvent]] = []
        origin = exchange.origin
        # To the microsecond, the exchange's resolution: two runs' clocks start at different
        # origins, so their differences from them differ in the last float digits.
        client = exchange.attach(
            lambda event: log.append((round(trio.current_time() - origin, 6), event))
        )
        for n in range(30):
            contract = (MARCH, MAY)[n % 2]
            side = Side.BUY if n % 3 else Side.SELL
            price = str(exchange.quote(contract).near_touch(side))
            exchange.place(client, ticket(f"o{n}", side, price, quantity=3, expiry=contract.expiry))
            await trio.sleep(300)
            exchange.cancel(client, ClientOrderId(f"o{n}"))
    return log


async def test_two_months_are_deterministic_for_a_seed(autojump_clock: object) -> None:
    """With two months trading, one seed still gives one event log, byte for byte."""
    first, again = await _two_month_log(3), await _two_month_log(3)
    assert any(isinstance(event, FillReported) for _, event in first)
    assert repr(first) == repr(again)


async def test_a_watcher_wakes_exactly_when_flow_changes_the_quote(autojump_clock: object) -> None:
    """wait_quote_changed returns at the scripted flow's instant with the quote it left."""
    flows = (ScriptedFlow(at=10, side=Side.SELL, quantity=2),)
    async with open_sim_exchange(still_oats(flows=flows), seed=1) as exchange:
        before = exchange.quote("ZO")
        after = await exchange.wait_quote_changed("ZO", before)
        assert trio.current_time() - exchange.origin == 10
        assert (after.bid, after.bid_size, after.time) == (Decimal("350.00"), 3, 10.0)
        assert await exchange.wait_quote_changed(OATS, before) == after  # already differs


async def test_a_watcher_of_one_month_sleeps_through_the_other(autojump_clock: object) -> None:
    """Flow in May does not wake a March watcher; March's own gap does, at its instant."""
    gaps = (Gap(at=30, change=Decimal("1.00")),)
    async with open_sim_exchange(two_oats_months(gaps=gaps), seed=1) as exchange:
        exchange.inject_flow(MAY, Side.BUY, 3)
        march = await exchange.wait_quote_changed(MARCH, exchange.quote(MARCH))
        assert trio.current_time() - exchange.origin == 30
        assert march.bid == Decimal("351.00")


async def test_our_own_order_at_a_better_price_wakes_a_watcher(autojump_clock: object) -> None:
    """A bid inside the spread changes the quote: the watcher sees it at once."""
    params = still_oats(spread_ticks=2)
    async with open_sim_exchange(params, seed=1) as exchange:
        client, _ = recorder(exchange)
        before = exchange.quote("ZO")
        async with trio.open_nursery() as nursery:

            async def place_later() -> None:
                await trio.sleep(5)
                exchange.place(client, ticket("a", Side.BUY, str(before.bid + OATS.tick_size)))

            nursery.start_soon(place_later)
            after = await exchange.wait_quote_changed("ZO", before)
        assert trio.current_time() - exchange.origin == 5
        assert (after.bid, after.bid_size) == (before.bid + OATS.tick_size, 1)


async def test_last_trade_and_volume_count_everyones_trades(autojump_clock: object) -> None:
    """Crowd flow and our marketable order both print; volume adds every lot."""
    flows = (
        ScriptedFlow(at=1, side=Side.SELL, quantity=2),
        ScriptedFlow(at=2, side=Side.BUY, quantity=3),
    )
    async with open_sim_exchange(still_oats(flows=flows), seed=1) as exchange:
        client, _ = recorder(exchange)
        assert (exchange.last_trade("ZO"), exchange.volume("ZO")) == (None, 0)
        await trio.sleep(3)
        assert (exchange.last_trade("ZO"), exchange.last_size("ZO")) == (Decimal("350.25"), 3)
        exchange.place(client, ticket("a", Side.SELL, "350.00", quantity=4))  # 3 trade, 1 rests
        assert (exchange.last_trade(OATS), exchange.volume(OATS)) == (Decimal("350.00"), 8)


async def test_held_orders_are_the_staged_and_those_waiting_for_a_parent(
    autojump_clock: object,
) -> None:
    """A staged order is held; transmitted, the parent works and its child waits for it."""
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        client, _ = recorder(exchange)
        exchange.place(client, ticket("p", Side.BUY, "350.00", transmit=False))
        assert exchange.held_orders() == {"p"}
        exchange.place(client, ticket("c", Side.SELL, "351.00", parent_id=ClientOrderId("p")))
        assert exchange.held_orders() == {"c"}
        exchange.inject_flow("ZO", Side.SELL, 6)
        assert exchange.held_orders() == frozenset()


async def test_touches_record_each_change_of_the_best_prices(autojump_clock: object) -> None:
    """The exchange records the opening quote, then each change of the best bid or ask, at
    the moment it happened (here a bid of ours inside the spread at 10 s, gone at 20 s)."""
    async with open_sim_exchange(still_oats(spread_ticks=2), seed=1) as exchange:
        client, _ = recorder(exchange)
        await trio.sleep(10)
        exchange.place(client, ticket("in", Side.BUY, "350.00"))
        await trio.sleep(10)
        exchange.cancel(client, ClientOrderId("in"))
        await trio.sleep(1)
        touches = exchange.touches("ZO")
    assert touches == (
        (0.0, Decimal("349.75"), Decimal("350.25")),
        (10.0, Decimal("350.00"), Decimal("350.25")),
        (20.0, Decimal("349.75"), Decimal("350.25")),
    )


async def test_working_orders_include_other_clients_stops(autojump_clock: object) -> None:
    """`working_orders` lists an armed STP order, which `open_orders` cannot express."""
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        client, _ = recorder(exchange)
        stop = ticket("s", Side.SELL, "0", order_type="STP", limit_price=None,
                      stop_price=Decimal("349.00"))  # fmt: skip
        exchange.place(client, stop)
        await trio.sleep(1)
        assert exchange.working_orders() == frozenset({ClientOrderId("s")})
        assert exchange.open_orders() == ()


async def test_wait_book_changed_wakes_on_a_change_below_the_touch(autojump_clock: object) -> None:
    """A bid of ours two ticks under the best bid changes the book but not the quote: a
    book watcher wakes at the moment it is placed."""
    async with open_sim_exchange(still_oats(), seed=1) as exchange, trio.open_nursery() as nursery:
        client, _ = recorder(exchange)
        woke: list[float] = []

        async def watch() -> None:
            await exchange.wait_book_changed("ZO", exchange.book_version("ZO"))
            woke.append(trio.current_time())

        nursery.start_soon(watch)
        await trio.sleep(5)
        exchange.place(client, ticket("deep", Side.BUY, "349.50"))
        await trio.sleep(1)
    assert woke == [5.0]


async def test_a_watcher_of_a_walking_market_sees_each_change_at_its_instant(
    autojump_clock: object,
) -> None:
    """Through half an hour of the default oats market (the mid walking, the crowd joining
    and leaving, flow), a watcher sees every change of the best bid or offer at the instant
    of the event that made it, though the exchange skips the mid's still steps."""
    params = SimParams(markets=(MarketParams.oats(),))
    seen: list[tuple[float, tuple[int, int, int, int]]] = []
    async with open_sim_exchange(params, seed=3) as exchange:
        origin, quote = exchange.origin, exchange.quote("ZO")
        with trio.move_on_after(1800):
            while True:
                quote = await exchange.wait_quote_changed("ZO", quote)
                seen.append((trio.current_time() - origin, _ticks(quote)))
    market = Market(MarketParams.oats(), random.Random("3:ZO"))  # the exchange's own stream
    expected, top = [], _book_top(market)
    while market.next_time() < 1800:
        at = market.next_time()
        market.step()
        if _book_top(market) != top:
            top = _book_top(market)
            expected.append((at, top))
    assert seen == expected
    assert len(seen) > 50


def _ticks(quote: Quote) -> tuple[int, int, int, int]:
    tick = OATS.tick_size
    return int(quote.bid / tick), quote.bid_size, int(quote.ask / tick), quote.ask_size


def _book_top(market: Market) -> tuple[int, int, int, int]:
    (bid, bid_size), (ask, ask_size) = market.book.best(Side.BUY), market.book.best(Side.SELL)
    return bid, bid_size, ask, ask_size


async def _walking_market(
    seed: int, *, watched: bool
) -> tuple[tuple[tuple[float, Decimal, Decimal], ...], tuple[Print, ...]]:
    """Half an hour of the default oats market, with our bid resting under the touch and
    moved every minute, watched by a quote watcher or not; its touches and tape (times since
    the exchange opened)."""
    async with open_sim_exchange(SimParams(markets=(MarketParams.oats(),)), seed=seed) as exchange:
        client, _ = recorder(exchange)
        async with trio.open_nursery() as nursery:
            if watched:

                async def watch() -> None:
                    quote = exchange.quote("ZO")
                    while True:
                        quote = await exchange.wait_quote_changed("ZO", quote)

                nursery.start_soon(watch)
            for minute in range(30):
                bid = exchange.quote("ZO").bid - 2 * OATS.tick_size
                exchange.place(client, ticket(f"b{minute}", Side.BUY, str(bid)))
                await trio.sleep(60)
                exchange.cancel(client, ClientOrderId(f"b{minute}"))
            nursery.cancel_scope.cancel(reason="half an hour is over")
        origin = exchange.origin
        touches = tuple((round(t - origin, 6), bid, ask) for t, bid, ask in exchange.touches("ZO"))
        tape = tuple(attrs.evolve(p, time=round(p.time - origin, 6)) for p in exchange.tape("ZO"))
        return touches, tape


async def test_a_quote_watcher_leaves_the_market_as_it_would_be(autojump_clock: object) -> None:
    """Watching a market's quote (which wakes the exchange at each event that may change it)
    changes no touch and no print of it: the market is the one an unwatched run sees."""
    watched = await _walking_market(5, watched=True)
    assert watched == await _walking_market(5, watched=False)
    assert len(watched[0]) > 50


class _ExchangeSteps(trio.abc.Instrument):
    """Counts the steps of the exchange's own task: its wake-ups."""

    def __init__(self) -> None:
        self.steps = 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        if task.name.endswith("SimExchange.serve"):
            self.steps += 1


async def _watch_half_an_hour(
    *, quotes: bool, book: bool, book_from: float = 0.0
) -> tuple[list[float], list[tuple[float, tuple[int, int, int, int]]], int]:
    """Half an hour of the default oats market (seed 3) watched by a book watcher (from
    ``book_from`` seconds), a quote watcher or both: the instants the book watcher woke, what
    the quote watcher saw and when (times since opening, to the microsecond: the clock's
    origin differs from run to run), and how often the exchange's task woke."""
    steps = _ExchangeSteps()
    trio.lowlevel.add_instrument(steps)
    books: list[float] = []
    quoted: list[tuple[float, tuple[int, int, int, int]]] = []
    params = SimParams(markets=(MarketParams.oats(),))
    async with open_sim_exchange(params, seed=3) as exchange:
        origin = exchange.origin

        async def watch_book() -> None:
            await trio.sleep(book_from)
            version = exchange.book_version("ZO")
            while True:
                version = await exchange.wait_book_changed("ZO", version)
                books.append(round(trio.current_time() - origin, 6))

        async def watch_quotes() -> None:
            quote = exchange.quote("ZO")
            while True:
                quote = await exchange.wait_quote_changed("ZO", quote)
                quoted.append((round(trio.current_time() - origin, 6), _ticks(quote)))

        with trio.move_on_after(1800):
            async with trio.open_nursery() as nursery:
                if book:
                    nursery.start_soon(watch_book)
                if quotes:
                    nursery.start_soon(watch_quotes)
    trio.lowlevel.remove_instrument(steps)
    return books, quoted, steps.steps


def _changes(seconds: float) -> tuple[list[float], list[tuple[float, tuple[int, int, int, int]]]]:
    """The instants the bare oats market of seed 3 changes its book in its first ``seconds``,
    and its best bid and offer at each change of them."""
    market = Market(MarketParams.oats(), random.Random("3:ZO"))  # the exchange's own stream
    books: list[float] = []
    quotes, top, version = [], _book_top(market), market.book.version
    while market.next_time() < seconds:
        at = market.next_time()
        market.step()
        if market.book.version != version and (not books or books[-1] != round(at, 6)):
            books.append(round(at, 6))
        version = market.book.version
        if _book_top(market) != top:
            top = _book_top(market)
            quotes.append((round(at, 6), top))
    return books, quotes


async def test_a_book_watcher_beside_a_quote_watcher_sees_every_change_at_its_instant(
    autojump_clock: object,
) -> None:
    """With a book watcher and a quote watcher on one market, the book watcher wakes at the
    instant of every change of the book (the crowd's queue events behind the touch too) and
    the quote watcher at every change of the best bid or offer."""
    books, quoted, _ = await _watch_half_an_hour(quotes=True, book=True)
    assert (books, quoted) == _changes(1800)
    assert len(books) > 2 * len(quoted) > 100


async def test_a_quote_watcher_sleeps_through_the_crowd_behind_the_touch(
    autojump_clock: object,
) -> None:
    """A quote watcher alone wakes the exchange less than half as often as a book watcher
    (it sleeps through the crowd's lots joining and leaving behind the touch), and sees the
    same quotes at the same instants as when a book watcher wakes it at every change."""
    _, alone, quote_wakes = await _watch_half_an_hour(quotes=True, book=False)
    _, beside, _ = await _watch_half_an_hour(quotes=True, book=True)
    _, _, book_wakes = await _watch_half_an_hour(quotes=False, book=True)
    assert alone == beside
    assert 0 < 2 * quote_wakes < book_wakes


async def test_a_book_watcher_that_comes_while_the_exchange_sleeps_sees_every_change(
    autojump_clock: object,
) -> None:
    """A book watcher that starts ten minutes in, while the exchange sleeps through the crowd
    behind the touch for a quote watcher, wakes at the instant of every change of the book
    from then on."""
    books, quoted, _ = await _watch_half_an_hour(quotes=True, book=True, book_from=600.5)
    expected_books, expected_quotes = _changes(1800)
    assert books == [at for at in expected_books if at > 600.5]
    assert quoted == expected_quotes


async def test_a_resting_order_hears_of_its_fills_on_time_though_no_one_looks(
    autojump_clock: object,
) -> None:
    """A market order's rest (it rests at its protection) and a bid at the touch, with no
    client calling in for an hour: each fill from the crowd's flow is delivered at its trade's
    time plus the fill latency, not when someone next looks (flow of the other side comes
    between them, and the exchange must run it to know the flow after it)."""
    params = SimParams(markets=(MarketParams.oats(market_protection_ticks=2),))
    for order_type in ("MKT", "LMT"):
        async with open_sim_exchange(params, seed=3) as exchange:
            client, log = recorder(exchange)
            await trio.sleep(600)
            bid = exchange.quote("ZO").bid
            mkt = order_type == "MKT"
            exchange.place(client, ticket("o", Side.BUY, str(bid), quantity=120 if mkt else 20,
                                          order_type=order_type,
                                          limit_price=None if mkt else bid))
            await trio.sleep(3000)
            start = exchange.params.session_start
            late = [
                (time - exchange.origin, event.fill.time)
                for time, event in of_type(log, FillReported)
                if time - exchange.origin > 601  # not the market order's taking, at the ack
                and abs(time - exchange.origin - 0.020
                       - (event.fill.time - start).total_seconds()) > 1e-6
            ]
            fills = [t for t, _ in of_type(log, FillReported) if t - exchange.origin > 601]
        assert len(fills) > 5 and late == [], (order_type, late[:3])
