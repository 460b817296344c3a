"""The exchange's orders and their life cycle: entry, holds, the book, fills and cancels.

An accepted order is acknowledged and reported WORKING at once, whether it rests in the book
or is *held* out of it (Hydra's PENDING means "not yet acknowledged", so a held order, which
the exchange has acknowledged, is WORKING, as IB's PreSubmitted orders are open orders). A held
order is invisible to flow and is one of:

- staged: placed with ``transmit=False``, waiting for its bracket to be transmitted (`_brackets`);
- waiting for its parent (``parent_id``) to fill completely; a parent that is cancelled or
  rejected, even after a partial fill, takes its children with it;
- an armed stop (STP LMT) waiting for a print at or through its stop (`_stops`); when triggered
  it enters the book as a limit at its limit price, at the back of the queue or trading at once.
  Nothing is reported when a stop triggers: the order was WORKING and stays so.

An OCA group (`_oca`) is cancelled on the first fill of any member. Events the exchange starts
itself (fills, triggers, OCA and bracket cancels) are reported after the fill latency, and never
before the order's last acknowledgement. Synchronous: the exchange calls in at the current time
and ``send(time, client, event)`` schedules what a client will see.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal

import attrs

from .._enums import OrderStatus
from .._ids import BrokerOrderId, ClientOrderId, ExecutionId
from .._orders import Fill
from ..brokers import (
    AccountValueChanged,
    BrokerErrorReported,
    BrokerEvent,
    ErrorCode,
    FillReported,
    OrderAcknowledged,
    OrderStatusChanged,
    PositionChanged,
)
from ._book import Match
from ._brackets import Brackets
from ._fault_state import FaultState
from ._ledger import Ledger
from ._market import Market
from ._oca import OcaGroups
from ._params import MarketKey, SimParams, find_market
from ._rules import STOPS, UNPRICED, Refusal, modify_refusal, ticket_refusal
from ._stops import Stops
from ._ticket import OrderTicket

ClientId = int
Send = Callable[[float, ClientId | None, BrokerEvent], None]
_SELF_TRADE = ErrorCode.ORDER_REJECTED, "would trade against your own resting order"


class Hold(enum.Enum):
    """Why a WORKING order is not in the book."""

    STAGED = "staged"
    PARENT = "parent"
    STOP = "stop"


@attrs.define(kw_only=True)
class Order:
    ticket: OrderTicket
    broker_order_id: BrokerOrderId
    owner: ClientId
    market: MarketKey  # where it trades (what it asked for, when refused as unknown)
    status: OrderStatus = OrderStatus.PENDING
    filled: int = 0
    reported_after: float = 0.0  # no report of this order is delivered before this time
    hold: Hold | None = None
    triggered: bool = False  # a STP LMT order that has become a limit

    @property
    def key(self) -> ClientOrderId:
        return self.ticket.client_order_id

    @property
    def remaining(self) -> int:
        return self.ticket.quantity - self.filled


class Desk:
    """Every order of the account, from entry to its final status."""

    def __init__(
        self,
        params: SimParams,
        markets: Mapping[MarketKey, Market],
        *,
        ledger: Ledger,
        faults: FaultState,
        send: Send,
        timestamp: Callable[[float], dt.datetime],
    ) -> None:
        self._params, self._markets, self._ledger = params, markets, ledger
        self._faults, self._send, self._timestamp = faults, send, timestamp
        self._orders: dict[ClientOrderId, Order] = {}
        self._broker_ids = itertools.count(1)
        self._execution_ids = itertools.count(1)
        self._stops = {key: Stops() for key in markets}
        self._oca = OcaGroups()
        self._brackets = Brackets()

    def __len__(self) -> int:
        return len(self._orders)

    def working(self) -> Iterator[Order]:
        return (o for o in self._orders.values() if o.status is OrderStatus.WORKING)

    def ended(self) -> Iterator[Order]:
        return (o for o in self._orders.values() if o.status.is_final)

    def watching_prints(self, key: MarketKey) -> bool:
        """True when an armed stop in market ``key`` waits for the next print."""
        return bool(self._stops[key])

    def held(self) -> Iterator[Order]:
        """Working orders not yet live at the exchange: staged, or waiting for their parent."""
        return (o for o in self.working() if o.hold in (Hold.STAGED, Hold.PARENT))

    # --- entry --------------------------------------------------------------------------------

    def place(self, client: ClientId, ticket: OrderTicket, now: float) -> None:
        """A new order arrives at ``now``: refused, or acknowledged, then held or matched."""
        ack = now + self._params.ack_latency
        key = ticket.client_order_id
        if key in self._orders:
            self._error(
                ack, client, key, (ErrorCode.DUPLICATE_ORDER_ID, f"duplicate order id {key!r}")
            )
            return
        market = find_market(self._markets, ticket.symbol, ticket.expiry)
        order = Order(
            ticket=ticket,
            broker_order_id=BrokerOrderId(next(self._broker_ids)),
            owner=client,
            market=market or (ticket.symbol, ticket.expiry),
            reported_after=ack,
        )
        refusal = self._refusal(ticket, None if market is None else self._markets[market])
        self._orders[key] = order
        if refusal is not None:
            order.status = OrderStatus.REJECTED
            self._send_status(order, ack, code=refusal[0], reason=refusal[1])
            return
        order.status = OrderStatus.WORKING
        ack_event = OrderAcknowledged(client_order_id=key, broker_order_id=order.broker_order_id)
        self._send(ack, client, ack_event)
        self._send_status(order, ack)
        self._enrol(order)
        bracket = ticket.parent_id or key
        if not ticket.transmit:
            order.hold = Hold.STAGED
            self._brackets.stage(bracket, key)
            return
        for staged in self._brackets.transmit(bracket):
            self._activate(self._orders[ClientOrderId(staged)], now)
        self._activate(order, now)

    def _refusal(self, ticket: OrderTicket, market: Market | None) -> Refusal | None:
        """Why the exchange refuses ``ticket`` in ``market`` (IB-like code and reason), or
        None; no market is code 200."""
        refusal = self._faults.take_rejection() or ticket_refusal(ticket, market)
        if refusal is not None or market is None:
            return refusal
        if ticket.oca_group is not None and self._oca.has_filled(ticket.oca_group):
            return ErrorCode.ORDER_REJECTED, f"OCA group {ticket.oca_group!r} has already filled"
        if ticket.parent_id is not None:
            parent = self._orders.get(ticket.parent_id)
            if parent is None:
                return ErrorCode.ORDER_REJECTED, f"parent order {ticket.parent_id!r} is not known"
            if parent.status.is_final and parent.status is not OrderStatus.FILLED:
                return ErrorCode.ORDER_REJECTED, f"parent order is {parent.status.value}"
        elif (
            ticket.order_type in ("LMT", "MKT")  # goes into the book right now
            and ticket.transmit
            and market.book.would_cross_own(ticket.side, _limit_ticks(ticket, market))
        ):
            return _SELF_TRADE
        return None

    def _enrol(self, order: Order) -> None:
        """Join the order's OCA group and its parent's children."""
        ticket = order.ticket
        if ticket.oca_group is not None:
            self._oca.join(ticket.oca_group, order.key)
        if ticket.parent_id is not None and not self._orders[ticket.parent_id].status.is_final:
            self._brackets.adopt(ticket.parent_id, order.key)

    def _activate(self, order: Order, now: float) -> None:
        """A transmitted order goes live, unless it waits for its parent."""
        if order.status is not OrderStatus.WORKING:
            return  # ended while staged: its parent was released first and died
        order.hold = None
        parent_id = order.ticket.parent_id
        if parent_id is not None:
            parent = self._orders[parent_id]
            if parent.status is OrderStatus.WORKING:
                order.hold = Hold.PARENT
                return
            if parent.status is not OrderStatus.FILLED:
                reason = f"parent order {parent_id!r} is {parent.status.value}"
                self._end(order, now + self._params.fill_latency, reason=reason)
                return
        self._go_live(order, now)

    def _go_live(self, order: Order, now: float) -> None:
        """Arm a stop, or enter the book as a limit."""
        ticket, market = order.ticket, self._markets[order.market]
        if ticket.order_type in STOPS and not order.triggered:
            assert ticket.stop_price is not None
            stop = market.ticks(ticket.stop_price)
            assert stop is not None
            order.hold = Hold.STOP
            self._stops[order.market].arm(order.key, ticket.side, stop)
            if market.last_trade is not None:  # the market may already be through the stop
                self._trigger(market, now, (market.last_trade, market.last_trade))
            return
        order.hold = None
        self._enter_book(order, market, now)

    def _enter_book(self, order: Order, market: Market, now: float) -> None:
        ticket = order.ticket
        ticks = _limit_ticks(ticket, market)
        if market.book.would_cross_own(ticket.side, ticks):
            at = now + self._params.fill_latency
            self._end(order, at, status=OrderStatus.REJECTED, refusal=_SELF_TRADE)
            return
        far = market.book.best_price(ticket.side.opposite)
        matches = market.book.place(
            key=order.key, side=ticket.side, price=ticks, quantity=order.remaining
        )
        self._fill(market, now, matches)
        # An IOC's rest is cancelled; a market order's rest past its protection stays in the
        # book as a limit at the protection price (Globex's market order with protection).
        if ticket.time_in_force == "IOC" and market.book.remove(order.key):
            order.status = OrderStatus.CANCELLED
            self._send_status(order, now + self._params.fill_latency)
        if matches:  # the best queue emptied when the far touch is no longer there
            market.taken(ticket.side, sum(m.quantity for m in matches),
                         emptied=market.book.best_price(ticket.side.opposite) != far)
        market.normalize()
        if matches:
            market.record_trade(matches[-1].price, sum(m.quantity for m in matches))
            prices = [m.price for m in matches]
            self._trigger(market, now, (min(prices), max(prices)))

    def _trigger(self, market: Market, now: float, prints: tuple[int, int]) -> None:
        """Stops touched by prints from ``prints[0]`` to ``prints[1]`` become limits now."""
        stops = self._stops[market.params.key]
        if not stops:
            return
        for key in stops.triggered(*prints):
            order = self._orders[ClientOrderId(key)]
            if order.hold is Hold.STOP:  # not cancelled meanwhile by an OCA sibling's fill
                order.hold, order.triggered = None, True
                self._enter_book(order, market, now)

    # --- changes ------------------------------------------------------------------------------

    def modify(
        self,
        client: ClientId,
        key: ClientOrderId,
        now: float,
        *,
        limit_price: Decimal,
        quantity: int | None,
        stop_price: Decimal | None,
    ) -> None:
        """Reprice (resize, restop) a working order; a new price loses queue priority, a
        smaller quantity at the same price keeps it. A held order stays held."""
        ack = now + self._params.ack_latency
        order = self._orders.get(key)
        refusal = self._modify_refusal(order, limit_price, quantity, stop_price)
        if refusal is not None or order is None:
            self._error(ack, client, key, refusal or (ErrorCode.ORDER_NOT_FOUND, "no such order"))
            return
        market = self._markets[order.market]
        new_quantity = order.ticket.quantity if quantity is None else quantity
        old = order.ticket
        stop_price = old.stop_price if stop_price is None else stop_price
        order.ticket = attrs.evolve(
            old, limit_price=limit_price, quantity=new_quantity, stop_price=stop_price
        )
        order.owner, order.reported_after = client, ack
        self._send_status(order, ack)
        if order.hold is Hold.STOP:
            self._go_live(order, now)  # re-arms at the new stop, which may already be touched
        elif order.hold is None:
            self._rebook(order, market, now, old_quantity=old.quantity)

    def _modify_refusal(
        self,
        order: Order | None,
        limit_price: Decimal,
        quantity: int | None,
        stop_price: Decimal | None,
    ) -> Refusal | None:
        if order is None:
            return ErrorCode.ORDER_NOT_FOUND, "no such order"
        if order.status.is_final:
            return ErrorCode.MODIFY_FILLED_ORDER, f"order is {order.status.value}"
        market = self._markets[order.market]
        refusal = modify_refusal(
            market,
            order.ticket.order_type,
            limit_price=limit_price,
            stop_price=stop_price,
            quantity=quantity,
            filled=order.filled,
        )
        if refusal is None and order.hold is None:
            ticks = market.ticks(limit_price)
            assert ticks is not None
            if market.book.would_cross_own(order.ticket.side, ticks):
                return _SELF_TRADE
        return refusal

    def _rebook(self, order: Order, market: Market, now: float, *, old_quantity: int) -> None:
        """The modified order in the book keeps its place, or goes to the back at its price."""
        resting = market.book.resting(order.key)
        assert resting is not None and order.ticket.limit_price is not None
        if market.ticks(order.ticket.limit_price) == resting.price and (
            order.ticket.quantity <= old_quantity
        ):
            market.book.reduce(order.key, order.remaining)
            return
        market.book.remove(order.key)
        self._enter_book(order, market, now)

    def cancel(self, client: ClientId, key: ClientOrderId, now: float) -> None:
        """Take a working (or held) order out now; CANCELLED is reported after the ack latency."""
        ack = now + self._params.ack_latency
        order = self._orders.get(key)
        if order is None or order.status.is_final:
            refusal = (
                (ErrorCode.ORDER_NOT_FOUND, "no such order")
                if order is None
                else (ErrorCode.NOT_CANCELLABLE, f"order is {order.status.value}")
            )
            self._error(ack, client, key, refusal)
            return
        order.owner, order.reported_after = client, ack
        self._end(order, ack)

    def _end(
        self,
        order: Order,
        at: float,
        *,
        status: OrderStatus = OrderStatus.CANCELLED,
        reason: str | None = None,
        refusal: Refusal | None = None,
    ) -> None:
        """The order ends unfilled (CANCELLED or REJECTED), reported at ``at`` (or after its
        last acknowledgement), and its children with it, reported no earlier."""
        market, key = self._markets[order.market], order.key
        market.book.remove(key)
        market.normalize()
        self._stops[order.market].disarm(key)
        if order.hold is Hold.STAGED:
            self._brackets.unstage(order.ticket.parent_id or key, key)
        order.status, order.hold = status, None
        code, reason = refusal if refusal is not None else (None, reason)
        at = max(at, order.reported_after)
        self._send_status(order, at, code=code, reason=reason)
        for child in self._brackets.children(key):
            child_order = self._orders[ClientOrderId(child)]
            if not child_order.status.is_final:
                self._end(child_order, at, reason=f"parent order {key!r} is {status.value}")

    # --- executions ---------------------------------------------------------------------------

    def fill(
        self,
        market: Market,
        time: float,
        matches: tuple[Match, ...],
        prints: tuple[int, int] | None,
    ) -> None:
        """A market event at ``time`` traded with our orders and printed ``prints``."""
        if matches:
            self._fill(market, time, matches)
        if prints is not None:
            self._trigger(market, time, prints)

    def _fill(self, market: Market, time: float, matches: list[Match] | tuple[Match, ...]) -> None:
        """Book each match of our orders and report it after the fill latency."""
        for match in matches:
            order = self._orders[ClientOrderId(match.key)]
            if order.status is not OrderStatus.WORKING:
                continue  # OCA block: a sibling filled earlier in this same event
            order.filled += match.quantity
            if not order.remaining:
                order.status = OrderStatus.FILLED
            at = self._execute(order, market, time, match)
            group = order.ticket.oca_group
            if group is not None:
                for sibling in self._oca.first_fill(group, order.key):
                    other = self._orders[ClientOrderId(sibling)]
                    if not other.status.is_final:
                        self._end(other, at, reason=f"OCA group {group!r}: {order.key!r} filled")
            if order.status is OrderStatus.FILLED:
                for child in self._brackets.children(order.key):
                    child_order = self._orders[ClientOrderId(child)]
                    if child_order.hold is Hold.PARENT:
                        self._go_live(child_order, time)

    def _execute(self, order: Order, market: Market, time: float, match: Match) -> float:
        """Book one execution and report it; returns when the report is due."""
        contract = market.params.contract
        fill = Fill(
            execution_id=ExecutionId(
                f"{self._params.execution_prefix}.{next(self._execution_ids):08d}"),
            client_order_id=order.key,
            symbol=contract.symbol,
            side=order.ticket.side,
            price=market.price(match.price),
            quantity=match.quantity,
            commission=self._params.commission_per_contract * match.quantity,
            time=self._timestamp(time),
            expiry=contract.expiry,
        )
        position = self._ledger.record(fill, contract)
        at = max(time + self._params.fill_latency, order.reported_after)
        report = FillReported(fill=fill)
        self._send(at + self._faults.take_delay(), order.owner, report)
        if self._faults.take_duplicate():
            self._send(at, order.owner, report)
        self._send_status(order, at)
        change = PositionChanged(
            symbol=fill.symbol, expiry=fill.expiry, quantity=position.quantity,
            average_price=position.average_price,
        )
        self._send(at, None, change)
        self._send(at, None, AccountValueChanged(key="RealizedPnL", value=self._ledger.realized))
        self._send(at, None, AccountValueChanged(key="CashBalance", value=self._ledger.cash))
        return at

    # --- reports ------------------------------------------------------------------------------

    def _send_status(
        self, order: Order, time: float, *, code: int | None = None, reason: str | None = None
    ) -> None:
        event = OrderStatusChanged(
            client_order_id=order.key,
            status=order.status,
            filled=order.filled,
            remaining=order.remaining,
            code=code,
            reason=reason,
        )
        self._send(max(time, order.reported_after), order.owner, event)

    def _error(self, time: float, client: ClientId, key: ClientOrderId, refusal: Refusal) -> None:
        code, message = refusal
        self._send(
            time, client, BrokerErrorReported(code=code, message=message, client_order_id=key)
        )


def _limit_ticks(ticket: OrderTicket, market: Market) -> int:
    """How far ``ticket`` may trade, in ticks: its limit price, or for a market order (MKT,
    a triggered STP) the far touch plus the market's protection."""
    if ticket.order_type in UNPRICED:
        far = market.book.best_price(ticket.side.opposite)
        return far + ticket.side.sign * market.params.market_protection_ticks
    assert ticket.limit_price is not None
    ticks = market.ticks(ticket.limit_price)
    assert ticks is not None
    return ticks
