"""One client's orders: placing (and what-if), modifying, cancelling, the global cancel, open
and completed orders, executions, and the exchange's order events turned into IB's replies.
Synchronous; the exchange's methods act at the current Trio time."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import Decimal

import structlog
import trio

from .._contracts import ContractSpec
from .._enums import OrderStatus, Side
from .._errors import BrokerConnectionError
from .._ids import ClientOrderId
from .._orders import Fill
from ..brokers import (
    BrokerErrorReported,
    BrokerEvent,
    FillReported,
    OrderAcknowledged,
    OrderStatusChanged,
)
from . import _replies as r
from . import _requests as q
from ._margins import WhatIf, requirement
from ._order import UNPRICED
from ._registry import OrderRecord, Registry
from ._unserved import NO_SECURITY
from ._wire import ib_datetime

log = structlog.get_logger()

Replies = list[r.Reply]

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
OFF_TICK = "The price does not conform to the minimum price variation for this contract."
_STATUS_TEXT = {
    OrderStatus.PENDING: "PendingSubmit",
    OrderStatus.WORKING: "Submitted",
    OrderStatus.FILLED: "Filled",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.REJECTED: "Inactive",
}
_COMPLETED_TEXT = {
    "Filled": "Filled",
    "Cancelled": "Cancelled by Trader",
    "ApiCancelled": "Cancelled by Trader",
    "Inactive": "Rejected",
}


def _error(req_id: int, code: int, message: str) -> Replies:
    return [r.ErrorMessage(req_id=req_id, code=code, message=message)]


def _rejected(order_id: int, reason: str) -> Replies:
    return _error(order_id, 201, f"Order rejected - reason:{reason}")


class SessionOrders:
    """The orders of one connected client (``client_id``), acting as ``exchange_client``."""

    def __init__(self, registry: Registry, *, client_id: int, exchange_client: int) -> None:
        self.client_id = client_id
        self._registry = registry
        self._exchange = registry.exchange
        self._exchange_client = exchange_client
        self.next_id = registry.next_order_id(client_id)

    def request_ids(self) -> Replies:
        self.next_id = max(self.next_id, self._registry.next_order_id(self.client_id))
        return [r.NextValidId(order_id=self.next_id)]

    # --- entry --------------------------------------------------------------------------------

    def place(self, p: q.PlaceOrder) -> Replies:
        """A new order, a modification of a working one, or a what-if check."""
        if p.what_if:
            return self._what_if(p)
        record = self._registry.by_ib(self.client_id, p.order_id)
        if record is not None:
            if self._is_working(record):
                return self._modify(record, p)
            return _error(p.order_id, 103, "Duplicate order id")
        listing = self._registry.catalog.resolve(p.contract)
        if listing is None:
            return _error(p.order_id, 200, NO_SECURITY)
        parent_id = p.order.parent_id
        parent = self._registry.by_ib(self.client_id, parent_id) if parent_id else None
        if parent_id and parent is None:
            return _rejected(p.order_id, f"parent order {parent_id} not found")
        refusal = p.order.refusal()
        if refusal is not None:
            return _rejected(p.order_id, refusal)
        record = OrderRecord(
            key=self._registry.new_key(self.client_id, p.order_id, p.order.order_ref),
            client_id=self.client_id,
            order_id=p.order_id,
            listing=listing,
            order=p.order.accepted(account=self._registry.account),
        )
        self._registry.add(record)
        self.next_id = max(self.next_id, p.order_id + 1)
        ticket = record.order.ticket(
            record.key, listing.spec, parent=parent.key if parent is not None else None
        )
        log.info(
            "gateway_order_placed", client_id=self.client_id, order_id=p.order_id, key=record.key
        )
        return self._on_exchange(
            p.order_id, lambda: self._exchange.place(self._exchange_client, ticket)
        )

    def _what_if(self, p: q.PlaceOrder) -> Replies:
        """The margin and commission the order would take, as an open order with whatIf set;
        nothing reaches the exchange."""
        listing = self._registry.catalog.resolve(p.contract)
        if listing is None:
            return _error(p.order_id, 200, NO_SECURITY)
        refusal = p.order.refusal()
        if refusal is not None:
            return _rejected(p.order_id, refusal)
        if p.order.off_tick(listing.spec.tick_size):
            return _error(p.order_id, 110, OFF_TICK)
        held, marks = self._holdings()
        before = requirement(held.items(), marks)
        held[listing.spec] += p.order.signed
        state = WhatIf(
            before=before,
            after=requirement(held.items(), marks),
            equity_before=self._exchange.account().equity,
            commission=self._exchange.params.commission_per_contract * p.order.contracts,
        )
        log.info("gateway_what_if", client_id=self.client_id, order_id=p.order_id)
        order = p.order.accepted(account=self._registry.account)
        what_if = r.OpenOrder(
            contract=listing.wire,
            order_id=p.order_id,
            client_id=self.client_id,
            perm_id=0,
            order=order,
            status="PreSubmitted",
            what_if=state,
        )
        return [what_if]

    def _holdings(self) -> tuple[dict[ContractSpec, int], dict[ContractSpec, Decimal]]:
        """The signed quantity held and the mid of every listed contract."""
        catalog = self._registry.catalog
        marks = {x.spec: self._exchange.quote(x.spec).mid for x in catalog.listings}
        held = dict.fromkeys(marks, 0)
        for position in self._exchange.positions():
            owned = catalog.for_contract(position.contract)
            if owned is not None:
                held[owned.spec] += position.quantity
        return held, marks

    def _modify(self, record: OrderRecord, p: q.PlaceOrder) -> Replies:
        if p.order.limit_price is None:
            return _rejected(p.order_id, "a modification needs a limit price")
        quantity = int(p.order.quantity) if p.order.quantity is not None else None
        if record.order.order_type not in UNPRICED:  # the exchange refuses to modify a MKT
            record.order = record.order.modified(p.order)  # or STP (105): it stays as it was
        price = p.order.limit_price
        # a STP LMT's new trigger (auxPrice) goes to the exchange too, as the gateway shows it
        stop = p.order.aux_price if record.order.order_type == "STP LMT" else None
        return self._on_exchange(
            p.order_id,
            lambda: self._exchange.modify(
                self._exchange_client,
                record.key,
                limit_price=price,
                quantity=quantity,
                stop_price=stop,
            ),
        )

    def cancel(self, order_id: int) -> Replies:
        record = self._registry.by_ib(self.client_id, order_id)
        if record is None:
            return _error(
                order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found."
            )
        return self._on_exchange(
            order_id, lambda: self._exchange.cancel(self._exchange_client, record.key)
        )

    def global_cancel(self) -> Replies:
        """Cancel every working order of the account, anyone's; each owner hears of its own."""
        replies: Replies = []
        for key in sorted(self._exchange.working_orders()):
            cancel = functools.partial(self._exchange.cancel, self._exchange_client, key)
            replies += self._on_exchange(-1, cancel)
        return replies

    def _on_exchange(self, req_id: int, action: Callable[[], None]) -> Replies:
        try:
            action()
        except BrokerConnectionError as e:
            return _rejected(req_id, str(e))
        return []

    # --- looking ------------------------------------------------------------------------------

    def _working_status(self, record: OrderRecord) -> str:
        """PreSubmitted while the exchange holds the order back, else Submitted."""
        return "PreSubmitted" if record.key in self._exchange.held_orders() else "Submitted"

    def _is_working(self, record: OrderRecord) -> bool:
        return record.key in self._exchange.working_orders()

    def open_orders(self, all_clients: bool) -> Replies:
        replies: Replies = []
        held, working = self._exchange.held_orders(), self._exchange.working_orders()
        for record in self._registry.orders():
            if record.key not in working:
                continue
            if not (all_clients or record.client_id == self.client_id):
                continue
            record.status = "PreSubmitted" if record.key in held else "Submitted"
            replies += self._order_state(record)
        return [*replies, r.OpenOrderEnd()]

    def completed_orders(self) -> Replies:
        """Every finished order, oldest first (IB keeps the day's; the simulator, the run's)."""
        completed: Replies = [
            r.CompletedOrder(
                contract=record.listing.wire,
                order=record.order,
                perm_id=record.perm_id,
                status=record.status,
                filled=record.filled,
                completed_time=record.completed_time,
                completed_status=_COMPLETED_TEXT.get(record.status, record.status),
            )
            for record in self._registry.orders()
            if record.is_done
        ]
        return [*completed, r.CompletedOrdersEnd()]

    def _released(self) -> Replies:
        """orderStatus Submitted for this client's held orders that have gone live (a bracket
        transmitted, a parent filled)."""
        waiting = [
            record
            for record in self._registry.orders()
            if record.client_id == self.client_id and record.status == "PreSubmitted"
        ]
        if not waiting:
            return []
        held = self._exchange.held_orders()
        replies: Replies = []
        for record in waiting:
            if record.key not in held and self._is_working(record):
                record.status = "Submitted"
                replies.append(self._status(record))
        return replies

    def _order_state(self, record: OrderRecord) -> Replies:
        open_order = r.OpenOrder(
            contract=record.listing.wire,
            order_id=record.order_id,
            client_id=record.client_id,
            perm_id=record.perm_id,
            order=record.order,
            status=record.status,
        )
        return [open_order, self._status(record)]

    def _status(self, record: OrderRecord) -> r.OrderStatusReport:
        return r.OrderStatusReport(
            order_id=record.order_id,
            status=record.status,
            filled=record.filled,
            remaining=record.remaining,
            average_fill_price=record.average_fill_price,
            perm_id=record.perm_id,
            parent_id=record.order.parent_id,
            last_fill_price=record.last_fill_price,
            client_id=record.client_id,
        )

    # --- executions ---------------------------------------------------------------------------

    def executions(self, request: q.RequestExecutions) -> Replies:
        replies: Replies = []
        totals: dict[ClientOrderId, tuple[int, Decimal]] = {}
        for fill in self._exchange.executions_since(EPOCH):
            record = self._registry.by_key(fill.client_order_id)
            if record is None:
                continue
            done, cost = totals.get(record.key, (0, Decimal(0)))
            done, cost = done + fill.quantity, cost + fill.price * fill.quantity
            totals[record.key] = done, cost
            if not _wanted(request, record, fill.side):
                continue
            replies.append(self._execution(request.req_id, record, fill, done, cost / done))
            replies.append(
                r.CommissionReport(exec_id=fill.execution_id, commission=fill.commission)
            )
        return [*replies, r.ExecutionDetailsEnd(req_id=request.req_id)]

    def _execution(
        self, req_id: int, record: OrderRecord, fill: Fill, cumulative: int, average: Decimal
    ) -> r.ExecutionDetails:
        return r.ExecutionDetails(
            req_id=req_id,
            contract=record.listing.wire,
            order_id=record.order_id,
            exec_id=fill.execution_id,
            time=ib_datetime(fill.time.astimezone(dt.UTC)),
            account=record.order.account,
            side="BOT" if fill.side is Side.BUY else "SLD",
            shares=fill.quantity,
            price=fill.price,
            perm_id=record.perm_id,
            client_id=record.client_id,
            cumulative_quantity=cumulative,
            average_price=average,
            order_ref=record.order.order_ref,
        )

    # --- exchange events ----------------------------------------------------------------------

    def on_event(self, event: BrokerEvent) -> Replies:
        """The replies to one of the exchange's order events (others: none), and the held
        orders it released."""
        return self._on_event(event) + self._released()

    def _on_event(self, event: BrokerEvent) -> Replies:
        match event:
            case OrderAcknowledged(client_order_id=key):
                record = self._registry.by_key(key)
                if record is not None:
                    record.status = self._working_status(record)
                return []
            case OrderStatusChanged():
                return self._on_status(event)
            case FillReported(fill=fill):
                return self._on_fill(fill)
            case BrokerErrorReported(code=code, message=message, client_order_id=key):
                record = self._registry.by_key(key) if key is not None else None
                return _error(record.order_id if record else -1, code, message)
        return []

    def _on_status(self, event: OrderStatusChanged) -> Replies:
        record = self._registry.by_key(event.client_order_id)
        if record is None:
            return []
        if event.status.is_final and not record.completed_time:
            now = self._exchange.timestamp(trio.current_time())
            record.completed_time = ib_datetime(now.astimezone(dt.UTC))
        if event.status is OrderStatus.REJECTED:
            record.status = "Inactive"
            code = event.code or 201
            reason = event.reason or "rejected"
            text = reason if code != 201 else f"Order rejected - reason:{reason}"
            log.info("gateway_order_rejected", order_id=record.order_id, code=code, reason=reason)
            return [*_error(record.order_id, code, text), self._status(record)]
        if event.status is OrderStatus.WORKING:
            record.status = self._working_status(record)
            return self._order_state(record)
        record.status = _STATUS_TEXT.get(event.status, "Submitted")
        replies: Replies = [self._status(record)]
        if event.status is OrderStatus.CANCELLED:
            replies += _error(record.order_id, 202, "Order Canceled - reason:")
        return replies

    def _on_fill(self, fill: Fill) -> Replies:
        record = self._registry.by_key(fill.client_order_id)
        if record is None or fill.execution_id in record.executions:
            return []
        record.executions.add(fill.execution_id)
        cost = record.average_fill_price * record.filled + fill.price * fill.quantity
        record.filled += fill.quantity
        record.average_fill_price = cost / record.filled
        record.last_fill_price = fill.price
        return [
            self._execution(-1, record, fill, record.filled, record.average_fill_price),
            r.CommissionReport(exec_id=fill.execution_id, commission=fill.commission),
        ]


def _wanted(request: q.RequestExecutions, record: OrderRecord, side: Side) -> bool:
    """Whether an execution passes the client's execution filter (time is not filtered)."""
    sides = {"BUY": Side.BUY, "BOT": Side.BUY, "SELL": Side.SELL, "SLD": Side.SELL}
    return (
        (not request.client_id or request.client_id == record.client_id)
        and (not request.symbol or request.symbol == record.listing.symbol)
        and (not request.sec_type or request.sec_type == "FUT")
        and (not request.side or sides.get(request.side.upper()) is side)
    )
