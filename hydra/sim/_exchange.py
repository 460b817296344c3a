"""The simulated exchange: markets, orders, the account and the link to its clients.

Determinism: the exchange is ONE Trio task. Everything timed (market events, ack and fill
deliveries, faults) is processed by `SimExchange._catch_up` in (time, sequence) order, both by
that task when it wakes and by every client call before it acts, so which of two tasks waking
at the same instant Trio runs first makes no difference. The task sleeps until the next event
that a client could see (a delivery, a fault, or flow that may trade with a resting order);
market events nobody can see yet are run in bulk, synchronously, when someone next looks.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import itertools
import math
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal

import attrs
import trio

from .._contracts import ContractSpec
from .._enums import OrderStatus, Side
from .._errors import BrokerConnectionError, InvalidValueError
from .._ids import BrokerOrderId, ClientOrderId, ExecutionId
from .._orders import Fill
from .._positions import Position
from .._quotes import Quote
from ..brokers import (
    AccountSnapshot,
    AccountValueChanged,
    BrokerErrorReported,
    BrokerEvent,
    ConnectionLost,
    ConnectionRestored,
    ErrorCode,
    FillReported,
    OpenOrder,
    OrderAcknowledged,
    OrderStatusChanged,
    PositionChanged,
)
from ._book import Match
from ._faults import (
    DelayExecution,
    Disconnect,
    DuplicateExecution,
    Fault,
    RejectNextOrder,
    StaleQuotes,
)
from ._ledger import Ledger
from ._market import Market, Trade
from ._params import SimParams
from ._ticket import OrderTicket

ClientId = int
EventSink = Callable[[BrokerEvent], None]
_TIMES_IN_FORCE = ("DAY", "GTC", "IOC")


@attrs.define(kw_only=True)
class _Order:
    ticket: OrderTicket
    broker_order_id: BrokerOrderId
    owner: ClientId
    status: OrderStatus = OrderStatus.PENDING
    filled: int = 0
    reported_after: float = 0.0  # no report of this order is delivered before this time

    @property
    def remaining(self) -> int:
        return self.ticket.quantity - self.filled


@attrs.frozen(kw_only=True)
class SimStatistics:
    """Counts since the exchange opened."""

    market_events: int
    deliveries: int
    dropped_while_down: int
    executions: int
    orders: int


class SimExchange:
    """The market state shared by every client; clients hold their own link state.

    Open it with `open_sim_exchange`. Its methods are synchronous and act at the current Trio
    time; they are the exchange's own entry point (a `SimBroker` or a gateway calls them).
    """

    def __init__(self, params: SimParams, *, seed: int) -> None:
        self.params = params
        self.origin = trio.current_time()
        self._markets = {
            m.symbol: Market(m, random.Random(f"{seed}:{m.symbol}"), start=self.origin)
            for m in params.markets
        }
        self._ledger = Ledger(starting_cash=params.starting_cash)
        self._heap: list[tuple[float, int, Callable[[float], None]]] = []
        self._sequence = itertools.count()
        self._orders: dict[ClientOrderId, _Order] = {}
        self._broker_ids = itertools.count(1)
        self._execution_ids = itertools.count(1)
        self._clients: dict[ClientId, EventSink] = {}
        self._client_ids = itertools.count(1)
        self._link_up = True
        self._rejects: list[RejectNextOrder] = []
        self._duplicates = 0
        self._delays: list[float] = []
        self._stale: dict[str, tuple[float, Quote]] = {}
        self._sleep: trio.CancelScope | None = None
        self._deliveries = self._dropped = 0
        for fault in params.faults:
            self.inject(fault)

    # --- the one task -------------------------------------------------------------------------

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the exchange until cancelled."""
        task_status.started()
        while True:
            self._catch_up()
            with trio.CancelScope(deadline=self._next_wake()) as self._sleep:
                await trio.sleep_forever()

    def _catch_up(self) -> None:
        """Process every timed event due by now, in (time, sequence) order."""
        now = trio.current_time()
        markets = list(self._markets.values())
        heap = self._heap
        while True:
            market = min(markets, key=Market.next_time)
            due = market.next_time()
            if heap and heap[0][0] < due:
                if heap[0][0] > now:
                    return
                time, _, action = heapq.heappop(heap)
                action(time)
            elif due <= now:
                self._trade(market, market.step())
            else:
                return

    def _next_wake(self) -> float:
        first = self._heap[0][0] if self._heap else math.inf
        return min(first, *(m.next_risk_time() for m in self._markets.values()))

    def _reschedule(self) -> None:
        if self._sleep is not None:
            self._sleep.deadline = self._next_wake()

    def _at(self, time: float, action: Callable[[float], None]) -> None:
        heapq.heappush(self._heap, (time, next(self._sequence), action))
        if self._sleep is not None and time < self._sleep.deadline:
            self._sleep.deadline = time  # wake the task earlier for this event

    # --- clients ------------------------------------------------------------------------------

    def attach(self, sink: EventSink) -> ClientId:
        """Register a client; its events go to ``sink`` from now on."""
        client = next(self._client_ids)
        self._clients[client] = sink
        return client

    def detach(self, client: ClientId) -> None:
        self._clients.pop(client, None)

    @property
    def link_up(self) -> bool:
        """False while a `Disconnect` fault holds the link down."""
        return self._link_up

    def _send(self, time: float, client: ClientId | None, event: BrokerEvent) -> None:
        """Deliver ``event`` at ``time`` to ``client`` (every client when None)."""
        self._at(time, functools.partial(self._deliver, client, event))

    def _deliver(self, client: ClientId | None, event: BrokerEvent, _: float = 0.0) -> None:
        if not self._link_up:
            self._dropped += 1
            return
        self._deliveries += 1
        sinks = self._clients.values() if client is None else [self._clients.get(client)]
        for sink in list(sinks):
            if sink is not None:
                sink(event)

    def _require_link(self) -> None:
        if not self._link_up:
            raise BrokerConnectionError("the simulated exchange link is down")

    # --- order entry --------------------------------------------------------------------------

    def place(self, client: ClientId, ticket: OrderTicket) -> None:
        """A new order arrives now: refused, or acknowledged and matched."""
        self._catch_up()
        self._require_link()
        now = trio.current_time()
        ack = now + self.params.ack_latency
        key = ticket.client_order_id
        if key in self._orders:
            message = f"duplicate order id {key!r}"
            self._send(
                ack, client, BrokerErrorReported(code=103, message=message, client_order_id=key)
            )
            return
        order = _Order(
            ticket=ticket,
            broker_order_id=BrokerOrderId(next(self._broker_ids)),
            owner=client,
            reported_after=ack,
        )
        self._orders[key] = order
        refusal = self._refusal(ticket)
        if refusal is not None:
            order.status = OrderStatus.REJECTED
            self._send_status(order, ack, code=refusal[0], reason=refusal[1])
            return
        order.status = OrderStatus.WORKING
        self._send(
            ack,
            client,
            OrderAcknowledged(client_order_id=key, broker_order_id=order.broker_order_id),
        )
        self._send_status(order, ack)
        market = self._markets[ticket.symbol]
        ticks = market.ticks(ticket.limit_price or Decimal(0))
        assert ticks is not None
        self._fill(
            market,
            now,
            market.book.place(key=key, side=ticket.side, price=ticks, quantity=ticket.quantity),
        )
        self._finish_ioc(market, order, ack)

    def _refusal(self, ticket: OrderTicket) -> tuple[int, str] | None:
        """Why the exchange refuses ``ticket`` (IB-like code and reason), or None."""
        if self._rejects:
            fault = self._rejects.pop(0)
            return fault.code, fault.reason
        market = self._markets.get(ticket.symbol)
        if market is None:
            return ErrorCode.UNKNOWN_CONTRACT, f"no security definition for {ticket.symbol!r}"
        if ticket.order_type != "LMT":
            return ErrorCode.ORDER_REJECTED, f"order type {ticket.order_type!r} is not supported"
        if ticket.time_in_force not in _TIMES_IN_FORCE:
            return (
                ErrorCode.ORDER_REJECTED,
                f"time in force {ticket.time_in_force!r} is not supported",
            )
        if ticket.quantity <= 0 or ticket.limit_price is None or ticket.limit_price <= 0:
            return ErrorCode.ORDER_REJECTED, "quantity and limit price must be positive"
        ticks = market.ticks(ticket.limit_price)
        if ticks is None:
            tick = market.params.contract.tick_size
            return (
                ErrorCode.PRICE_OFF_TICK,
                f"price {ticket.limit_price} is not a multiple of the tick {tick}",
            )
        if market.book.would_cross_own(ticket.side, ticks):
            return ErrorCode.ORDER_REJECTED, "would trade against your own resting order"
        return None

    def modify(
        self,
        client: ClientId,
        key: ClientOrderId,
        *,
        limit_price: Decimal,
        quantity: int | None = None,
    ) -> None:
        """Reprice (and optionally resize) a working order; a new price loses queue priority,
        a smaller quantity at the same price keeps it."""
        self._catch_up()
        self._require_link()
        now = trio.current_time()
        ack = now + self.params.ack_latency
        order = self._orders.get(key)
        error = self._modify_error(order, limit_price, quantity)
        if error is not None or order is None:
            code, message = error or (ErrorCode.ORDER_NOT_FOUND, "")
            self._send(
                ack, client, BrokerErrorReported(code=code, message=message, client_order_id=key)
            )
            return
        market = self._markets[order.ticket.symbol]
        ticks = market.ticks(limit_price)
        assert ticks is not None
        new_quantity = order.ticket.quantity if quantity is None else quantity
        resting = market.book.resting(key)
        assert resting is not None
        order.owner, order.reported_after = client, ack
        keeps_place = ticks == resting.price and new_quantity <= order.ticket.quantity
        order.ticket = attrs.evolve(order.ticket, limit_price=limit_price, quantity=new_quantity)
        self._send_status(order, ack)
        if keeps_place:
            market.book.reduce(key, order.remaining)
            self._reschedule()
            return
        market.book.remove(key)
        self._fill(
            market,
            now,
            market.book.place(
                key=key, side=order.ticket.side, price=ticks, quantity=order.remaining
            ),
        )
        self._finish_ioc(market, order, ack)

    def _modify_error(
        self, order: _Order | None, price: Decimal, quantity: int | None
    ) -> tuple[int, str] | None:
        if order is None:
            return ErrorCode.ORDER_NOT_FOUND, "no such order"
        if order.status.is_final:
            return ErrorCode.MODIFY_FILLED_ORDER, f"order is {order.status.value}"
        market = self._markets[order.ticket.symbol]
        ticks = market.ticks(price) if price > 0 else None
        if ticks is None:
            return (
                ErrorCode.PRICE_OFF_TICK,
                f"price {price} is not a multiple of the tick {market.params.contract.tick_size}",
            )
        if quantity is not None and quantity <= order.filled:
            return (
                ErrorCode.MODIFY_MISMATCH,
                f"quantity {quantity} is not above the filled {order.filled}",
            )
        if market.book.would_cross_own(order.ticket.side, ticks):
            return ErrorCode.ORDER_REJECTED, "would trade against your own resting order"
        return None

    def cancel(self, client: ClientId, key: ClientOrderId) -> None:
        """Take a working order out of the book now; CANCELLED is reported after the ack latency."""
        self._catch_up()
        self._require_link()
        ack = trio.current_time() + self.params.ack_latency
        order = self._orders.get(key)
        if order is None or order.status.is_final:
            code, message = (
                (ErrorCode.ORDER_NOT_FOUND, "no such order")
                if order is None
                else (ErrorCode.NOT_CANCELLABLE, f"order is {order.status.value}")
            )
            self._send(
                ack, client, BrokerErrorReported(code=code, message=message, client_order_id=key)
            )
            return
        market = self._markets[order.ticket.symbol]
        market.book.remove(key)
        order.owner, order.reported_after = client, ack
        order.status = OrderStatus.CANCELLED
        self._send_status(order, ack)
        market.normalize()
        self._reschedule()

    def _finish_ioc(self, market: Market, order: _Order, ack: float) -> None:
        if order.ticket.time_in_force == "IOC" and market.book.remove(order.ticket.client_order_id):
            order.status = OrderStatus.CANCELLED
            self._send_status(order, ack)
        market.normalize()
        self._reschedule()

    def _send_status(
        self, order: _Order, time: float, *, code: int | None = None, reason: str | None = None
    ) -> None:
        event = OrderStatusChanged(
            client_order_id=order.ticket.client_order_id,
            status=order.status,
            filled=order.filled,
            remaining=order.remaining,
            code=code,
            reason=reason,
        )
        self._send(time, order.owner, event)

    # --- executions ---------------------------------------------------------------------------

    def _trade(self, market: Market, trade: Trade) -> None:
        if trade.matches:
            self._fill(market, trade.time, list(trade.matches))

    def _fill(self, market: Market, time: float, matches: list[Match]) -> None:
        """Book each match of our orders and report it after the fill latency."""
        contract = market.params.contract
        for match in matches:
            order = self._orders[ClientOrderId(match.key)]
            order.filled += match.quantity
            if not order.remaining:
                order.status = OrderStatus.FILLED
            fill = Fill(
                execution_id=ExecutionId(f"sim.{next(self._execution_ids):08d}"),
                client_order_id=order.ticket.client_order_id,
                symbol=contract.symbol,
                side=order.ticket.side,
                price=market.price(match.price),
                quantity=match.quantity,
                commission=self.params.commission_per_contract * match.quantity,
                time=self.timestamp(time),
            )
            position = self._ledger.record(fill, contract)
            self._report(
                order, fill, position, max(time + self.params.fill_latency, order.reported_after)
            )

    def _report(self, order: _Order, fill: Fill, position: Position, at: float) -> None:
        report = FillReported(fill=fill)
        if self._delays:
            self._send(at + self._delays.pop(0), order.owner, report)
        else:
            self._send(at, order.owner, report)
        if self._duplicates:
            self._duplicates -= 1
            self._send(at, order.owner, report)
        self._send_status(order, at)
        self._send(
            at,
            None,
            PositionChanged(
                symbol=fill.symbol, quantity=position.quantity, average_price=position.average_price
            ),
        )
        self._send(at, None, AccountValueChanged(key="RealizedPnL", value=self._ledger.realized))
        self._send(at, None, AccountValueChanged(key="CashBalance", value=self._ledger.cash))

    def timestamp(self, time: float) -> dt.datetime:
        """The wall-clock time of Trio time ``time``: session start + seconds since opening."""
        return self.params.session_start + dt.timedelta(seconds=time - self.origin)

    # --- faults and scripted flow -------------------------------------------------------------

    def inject(self, fault: Fault) -> None:
        """Schedule ``fault`` at ``fault.at`` seconds after the exchange opened."""
        self._catch_up()
        at = self.origin + fault.at
        if at < trio.current_time():
            raise InvalidValueError("at", fault.at, "is in the past of the simulated exchange")
        self._at(at, functools.partial(self._start_fault, fault))
        self._reschedule()

    def _start_fault(self, fault: Fault, now: float) -> None:
        match fault:
            case Disconnect():
                self._link_up = False
                for sink in list(self._clients.values()):
                    sink(ConnectionLost(reason="simulated disconnect"))
                self._at(now + fault.duration, self._restore)
            case RejectNextOrder():
                self._rejects.append(fault)
            case DuplicateExecution():
                self._duplicates += 1
            case DelayExecution():
                self._delays.append(fault.delay)
            case StaleQuotes():
                symbols = [fault.symbol] if fault.symbol else list(self._markets)
                for symbol in symbols:
                    self._stale[symbol] = (now + fault.duration, self._fresh_quote(symbol, now))

    def _restore(self, _: float) -> None:
        self._link_up = True
        self._deliver(None, ConnectionRestored())

    def inject_flow(self, symbol: str, aggressor: Side, quantity: int) -> None:
        """Marketable flow of ``quantity`` lots by ``aggressor`` trades now (for tests)."""
        self._catch_up()
        market = self._market(symbol)
        self._trade(market, market.inject_flow(trio.current_time(), aggressor, quantity))
        self._reschedule()

    # --- looking ------------------------------------------------------------------------------

    def _market(self, symbol: str) -> Market:
        try:
            return self._markets[symbol]
        except KeyError:
            known = ", ".join(self._markets)
            raise InvalidValueError(
                "symbol", symbol, f"is not traded here (known: {known})"
            ) from None

    def contract(self, symbol: str) -> ContractSpec:
        """The contract traded as ``symbol``; an unknown symbol is an `InvalidValueError`."""
        return self._market(symbol).params.contract

    def quote(self, symbol: str) -> Quote:
        """The quote now (or the frozen one while a `StaleQuotes` fault holds it)."""
        self._catch_up()
        now = trio.current_time()
        stale = self._stale.get(symbol)
        if stale is not None and now < stale[0]:
            return stale[1]
        return self._fresh_quote(symbol, now)

    def _fresh_quote(self, symbol: str, now: float) -> Quote:
        market = self._market(symbol)
        bid, bid_size = market.book.best(Side.BUY)
        ask, ask_size = market.book.best(Side.SELL)
        return Quote(
            bid=market.price(bid),
            ask=market.price(ask),
            bid_size=bid_size,
            ask_size=ask_size,
            time=now,
        )

    def open_orders(self) -> tuple[OpenOrder, ...]:
        """Every working order of the account, oldest first."""
        self._catch_up()
        return tuple(
            OpenOrder(
                request=order.ticket.to_request(self.contract(order.ticket.symbol)),
                broker_order_id=order.broker_order_id,
                status=order.status,
                filled=order.filled,
                remaining=order.remaining,
            )
            for order in self._orders.values()
            if order.status is OrderStatus.WORKING
        )

    def positions(self) -> tuple[Position, ...]:
        self._catch_up()
        return self._ledger.positions()

    def executions_since(self, time: dt.datetime) -> tuple[Fill, ...]:
        self._catch_up()
        return self._ledger.executions_since(time)

    def account(self) -> AccountSnapshot:
        self._catch_up()
        return self._ledger.account({s: m.mid for s, m in self._markets.items()})

    def statistics(self) -> SimStatistics:
        return SimStatistics(
            market_events=sum(m.events for m in self._markets.values()),
            deliveries=self._deliveries,
            dropped_while_down=self._dropped,
            executions=len(self._ledger.executions_since(self.params.session_start)),
            orders=len(self._orders),
        )


@asynccontextmanager
async def open_sim_exchange(
    params: SimParams | None = None, *, seed: int
) -> AsyncIterator[SimExchange]:
    """Open a simulated exchange whose one task runs until the block ends."""
    async with trio.open_nursery() as nursery:
        exchange = SimExchange(params or SimParams(), seed=seed)
        await nursery.start(exchange.serve)
        yield exchange
        nursery.cancel_scope.cancel(reason="the simulated exchange is closing")
