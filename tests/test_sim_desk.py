"""Stop-limit orders, OCA groups and brackets on the simulated exchange, on the autojump clock."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

import trio

from hydra._enums import OrderStatus, Side
from hydra._ids import ClientOrderId, IntentId
from hydra.brokers import (
    BrokerEvent,
    ErrorCode,
    FillReported,
    OrderAcknowledged,
    OrderStatusChanged,
)
from hydra.sim import (
    Gap,
    MarketParams,
    OrderTicket,
    ScriptedFlow,
    SimExchange,
    SimParams,
    open_sim_exchange,
)
from tests.simulated import still_oats

E = TypeVar("E")
Log = list[tuple[float, BrokerEvent]]


def limit(key: str, side: Side, price: str, **changes: object) -> OrderTicket:
    fields: dict[str, object] = dict(
        client_order_id=ClientOrderId(key),
        order_ref=IntentId("intent"),
        symbol="ZO",
        side=side,
        quantity=1,
        order_type="LMT",
        limit_price=Decimal(price),
    )
    return OrderTicket(**(fields | changes))  # type: ignore[arg-type]


def stop(key: str, side: Side, stop_price: str, price: str, **changes: object) -> OrderTicket:
    return limit(key, side, price, order_type="STP LMT", stop_price=Decimal(stop_price), **changes)


def recorder(exchange: SimExchange) -> tuple[int, Log]:
    log: Log = []
    client = exchange.attach(lambda event: log.append((trio.current_time(), event)))
    return client, log


def of_type(log: Log, kind: type[E]) -> list[tuple[float, E]]:
    return [(time, event) for time, event in log if isinstance(event, kind)]


def fills(log: Log) -> list[tuple[float, str, Decimal, int]]:
    return [
        (time, e.fill.client_order_id, e.fill.price, e.fill.quantity)
        for time, e in of_type(log, FillReported)
    ]


def final(log: Log) -> dict[str, tuple[float, OrderStatus, str | None]]:
    """Each order's last status: (time, status, reason)."""
    return {e.client_order_id: (t, e.status, e.reason) for t, e in of_type(log, OrderStatusChanged)}


# --- stop-limit orders -------------------------------------------------------------------------


async def test_sell_stop_triggers_on_a_print_through_its_stop_then_rests_as_a_limit(
    autojump_clock: object,
) -> None:
    """A sell stop at 349.75 ignores the mid gapping through it, triggers on the first print
    at 349.00, joins the back of the queue at its 349.25 limit and fills when buyers get there."""
    gaps = (Gap(at=10, change=Decimal("-1.00")),)
    flows = (
        ScriptedFlow(at=20, side=Side.SELL, quantity=1),
        ScriptedFlow(at=30, side=Side.BUY, quantity=6),
    )
    async with open_sim_exchange(still_oats(gaps=gaps, flows=flows), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, stop("s", Side.SELL, "349.75", "349.25"))
        await trio.sleep(15)
        before = exchange.quote("ZO")
        [held] = exchange.open_orders()
        await trio.sleep(10)
        after = exchange.quote("ZO")
        assert fills(log) == []
        await trio.sleep(10)
    assert (before.ask, before.ask_size) == (Decimal("349.25"), 5)  # the stop is not in the book
    assert held.status is OrderStatus.WORKING and held.request.stop_price == Decimal("349.75")
    assert (after.ask, after.ask_size) == (Decimal("349.25"), 6)  # triggered: behind 5 lots
    assert fills(log) == [(30.020, "s", Decimal("349.25"), 1)]
    assert final(log)["s"] == (30.020, OrderStatus.FILLED, None)


async def test_triggered_stop_that_is_marketable_trades_at_once(autojump_clock: object) -> None:
    """A sell stop whose limit is below the bid trades at the bid at the instant it triggers."""
    gaps = (Gap(at=5, change=Decimal("-1.00")),)
    flows = (ScriptedFlow(at=10, side=Side.SELL, quantity=1),)
    async with open_sim_exchange(still_oats(gaps=gaps, flows=flows), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, stop("s", Side.SELL, "349.50", "348.75"))
        await trio.sleep(20)
    assert fills(log) == [(10.020, "s", Decimal("349.00"), 1)]


async def test_stop_that_is_never_touched_never_trades(autojump_clock: object) -> None:
    """Flow on both sides that prints no lower than 349.25 never triggers a sell stop at 349.00."""
    flows = (
        ScriptedFlow(at=5, side=Side.SELL, quantity=20),  # sweeps 350.00 down to 349.25
        ScriptedFlow(at=6, side=Side.BUY, quantity=12),
        ScriptedFlow(at=7, side=Side.SELL, quantity=3),
    )
    async with open_sim_exchange(still_oats(flows=flows), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, stop("s", Side.SELL, "349.00", "348.75"))
        await trio.sleep(100)
        assert [o.client_order_id for o in exchange.open_orders()] == ["s"]
    assert fills(log) == []
    assert final(log)["s"] == (0.030, OrderStatus.WORKING, None)


async def test_buy_stop_triggers_on_a_print_at_or_above_its_stop(autojump_clock: object) -> None:
    """A buy stop at 350.50 triggers when buyers print 350.50 and buys at once at the ask."""
    flows = (
        ScriptedFlow(at=5, side=Side.BUY, quantity=5),  # prints 350.25 only
        ScriptedFlow(at=6, side=Side.BUY, quantity=6),  # prints 350.25 and 350.50
    )
    async with open_sim_exchange(still_oats(flows=flows), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, stop("b", Side.BUY, "350.50", "350.75"))
        await trio.sleep(10)
    assert fills(log) == [(6.020, "b", Decimal("350.25"), 1)]  # the book snapped back to 350.25


async def test_modify_moves_a_stop_onto_the_last_trade_and_it_triggers(
    autojump_clock: object,
) -> None:
    """Moving a sell stop up to the last trade price (350.00) triggers it at once."""
    flows = (ScriptedFlow(at=5, side=Side.SELL, quantity=1),)
    async with open_sim_exchange(still_oats(flows=flows), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, stop("s", Side.SELL, "349.00", "349.00"))
        await trio.sleep(6)
        assert fills(log) == []
        exchange.modify(
            client,
            ClientOrderId("s"),
            limit_price=Decimal("349.75"),
            stop_price=Decimal("350.00"),
        )
        await trio.sleep(1)
    assert fills(log) == [(6.030, "s", Decimal("350.00"), 1)]  # not before the modify's ack


async def test_off_tick_stop_price_is_rejected_with_110(autojump_clock: object) -> None:
    """A stop price between ticks is REJECTED with 110; a STP LMT without a stop, or a LMT
    with one, is REJECTED with 201."""
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, stop("a", Side.SELL, "349.10", "349.00"))
        exchange.place(client, limit("b", Side.SELL, "349.00", order_type="STP LMT"))
        exchange.place(client, limit("c", Side.SELL, "351.00", stop_price=Decimal("349.00")))
        await trio.sleep(1)
    codes = {e.client_order_id: (e.status, e.code) for _, e in of_type(log, OrderStatusChanged)}
    assert codes == {
        "a": (OrderStatus.REJECTED, ErrorCode.PRICE_OFF_TICK),
        "b": (OrderStatus.REJECTED, ErrorCode.ORDER_REJECTED),
        "c": (OrderStatus.REJECTED, ErrorCode.ORDER_REJECTED),
    }


# --- OCA groups --------------------------------------------------------------------------------


async def test_take_profit_fill_cancels_the_protective_stop(autojump_clock: object) -> None:
    """When the take-profit of an OCA pair fills, the stop is CANCELLED with it, naming OCA."""
    flows = (ScriptedFlow(at=5, side=Side.BUY, quantity=11),)
    async with open_sim_exchange(still_oats(flows=flows), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, limit("tp", Side.SELL, "350.50", oca_group="g"))
        exchange.place(client, stop("sl", Side.SELL, "349.50", "349.25", oca_group="g"))
        await trio.sleep(10)
        assert exchange.open_orders() == ()
    assert fills(log) == [(5.020, "tp", Decimal("350.50"), 1)]
    time, status, reason = final(log)["sl"]
    assert (time, status) == (5.020, OrderStatus.CANCELLED)
    assert reason is not None and "OCA" in reason


async def test_stop_fill_cancels_the_take_profit(autojump_clock: object) -> None:
    """When the stop of an OCA pair triggers and fills, the take-profit is CANCELLED."""
    gaps = (Gap(at=5, change=Decimal("-1.00")),)
    flows = (ScriptedFlow(at=10, side=Side.SELL, quantity=1),)
    async with open_sim_exchange(still_oats(gaps=gaps, flows=flows), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, limit("tp", Side.SELL, "350.50", oca_group="g"))
        exchange.place(client, stop("sl", Side.SELL, "349.50", "348.75", oca_group="g"))
        await trio.sleep(20)
    assert fills(log) == [(10.020, "sl", Decimal("349.00"), 1)]
    time, status, reason = final(log)["tp"]
    assert (time, status) == (10.020, OrderStatus.CANCELLED)
    assert reason is not None and "OCA" in reason


async def test_order_joining_a_filled_oca_group_is_rejected(autojump_clock: object) -> None:
    """Once a member of an OCA group has filled, a new member is REJECTED with 201."""
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, limit("a", Side.BUY, "350.25", oca_group="g"))
        exchange.place(client, limit("b", Side.BUY, "349.00", oca_group="g"))
        await trio.sleep(1)
    [(time, status)] = [
        (t, e) for t, e in of_type(log, OrderStatusChanged) if e.client_order_id == "b"
    ]
    assert (time, status.status, status.code) == (0.030, OrderStatus.REJECTED, 201)
    assert status.reason is not None and "OCA" in status.reason


# --- brackets ----------------------------------------------------------------------------------


def bracket(parent_transmit: bool = False) -> list[OrderTicket]:
    """Buy 1 at 350.00; take profit at 351.00; stop at 349.00 (limit 348.75); one OCA group."""
    parent = ClientOrderId("p")
    return [
        limit("p", Side.BUY, "350.00", transmit=parent_transmit),
        limit("tp", Side.SELL, "351.00", parent_id=parent, oca_group="b", transmit=False),
        stop("sl", Side.SELL, "349.00", "348.75", parent_id=parent, oca_group="b"),
    ]


async def test_bracket_is_transmitted_by_its_last_child_and_children_wait_for_the_parent(
    autojump_clock: object,
) -> None:
    """Nothing rests until the last child arrives; the take-profit cannot fill before the
    parent has filled; then it fills and the OCA cancels the stop."""
    flows = (
        ScriptedFlow(at=5, side=Side.BUY, quantity=21),  # would reach a live take-profit
        ScriptedFlow(at=10, side=Side.SELL, quantity=6),  # fills the parent behind 5 lots
        ScriptedFlow(at=20, side=Side.BUY, quantity=21),  # fills the take-profit behind 5
    )
    parent, take_profit, stop_loss = bracket()
    async with open_sim_exchange(still_oats(flows=flows), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, parent)
        exchange.place(client, take_profit)
        await trio.sleep(1)
        staged = exchange.quote("ZO").bid_size
        exchange.place(client, stop_loss)
        transmitted = exchange.quote("ZO").bid_size
        await trio.sleep(30)
    assert (staged, transmitted) == (5, 6)
    acks = [(t, e.client_order_id) for t, e in of_type(log, OrderAcknowledged)]
    assert acks == [(0.030, "p"), (0.030, "tp"), (1.030, "sl")]
    assert fills(log) == [(10.020, "p", Decimal("350.00"), 1), (20.020, "tp", Decimal("351.00"), 1)]
    time, status, reason = final(log)["sl"]
    assert (time, status) == (20.020, OrderStatus.CANCELLED)
    assert reason is not None and "OCA" in reason


async def test_cancelled_parent_cancels_its_children(autojump_clock: object) -> None:
    """Cancelling the parent of a transmitted bracket cancels both children with it."""
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        client, log = recorder(exchange)
        for ticket in bracket():
            exchange.place(client, ticket)
        await trio.sleep(5)
        assert len(exchange.open_orders()) == 3
        exchange.cancel(client, ClientOrderId("p"))
        await trio.sleep(1)
        assert exchange.open_orders() == ()
    ends = final(log)
    assert {key: ends[key][:2] for key in ends} == {
        "p": (5.030, OrderStatus.CANCELLED),
        "tp": (5.030, OrderStatus.CANCELLED),
        "sl": (5.030, OrderStatus.CANCELLED),
    }
    assert "parent" in (ends["tp"][2] or "")


async def test_child_of_an_unknown_or_dead_parent_is_rejected(autojump_clock: object) -> None:
    """A child naming an unknown parent, or a cancelled one, is REJECTED with 201."""
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, limit("orphan", Side.SELL, "351.00", parent_id="nobody"))
        exchange.place(client, limit("p", Side.BUY, "349.00"))
        exchange.cancel(client, ClientOrderId("p"))
        exchange.place(client, limit("late", Side.SELL, "351.00", parent_id="p"))
        await trio.sleep(1)
    codes = {e.client_order_id: (e.status, e.code) for _, e in of_type(log, OrderStatusChanged)}
    assert codes["orphan"] == codes["late"] == (OrderStatus.REJECTED, 201)


# --- determinism -------------------------------------------------------------------------------


async def _bracket_log(seed: int) -> Log:
    """Brackets around the near touch on the random oats market for a few hours."""
    async with open_sim_exchange(SimParams(markets=(MarketParams.oats(),)), seed=seed) as exchange:
        log: Log = []
        origin = exchange.origin
        # To the microsecond, the exchange's resolution: two runs' clocks start at different
        # origins, so their differences from them differ in the last float digits.
        client = exchange.attach(
            lambda event: log.append((round(trio.current_time() - origin, 6), event))
        )
        tick = Decimal("0.25")
        for n in range(30):
            side = Side.BUY if n % 2 else Side.SELL
            entry = exchange.quote("ZO").near_touch(side)
            gain, trigger, worst = (entry + side.sign * k * tick for k in (4, -2, -3))
            parent, exits, group = ClientOrderId(f"p{n}"), side.opposite, f"g{n}"
            exchange.place(client, limit(parent, side, str(entry), quantity=2, transmit=False))
            exchange.place(
                client,
                limit(
                    f"t{n}",
                    exits,
                    str(gain),
                    quantity=2,
                    parent_id=parent,
                    oca_group=group,
                    transmit=False,
                ),
            )
            exchange.place(
                client,
                stop(
                    f"s{n}",
                    exits,
                    str(trigger),
                    str(worst),
                    quantity=2,
                    parent_id=parent,
                    oca_group=group,
                ),
            )
            await trio.sleep(600)
            for key in (parent, f"t{n}", f"s{n}"):
                if any(o.client_order_id == key for o in exchange.open_orders()):
                    exchange.cancel(client, ClientOrderId(key))
    return log


async def test_same_seed_gives_the_same_event_log_with_stops_and_brackets(
    autojump_clock: object,
) -> None:
    """Two runs of brackets with stops under one seed log identical events; another seed
    differs."""
    first, again, other = await _bracket_log(7), await _bracket_log(7), await _bracket_log(8)
    assert any(isinstance(event, FillReported) for _, event in first)
    assert repr(first) == repr(again)
    assert first != other
