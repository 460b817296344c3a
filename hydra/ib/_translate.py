"""From what ib_async's callbacks saw (`hydra.ib._seen`) to Hydra's broker events. Sans-I/O.

`Translator` holds what the translation needs to remember: each order's client order id and IB
order id, whether IB has acknowledged it, the last status sent, the last error code IB gave
it, and which executions were reported. Its rules:

* An order's state comes only from IB's order statuses and executions. A status ib_async made
  up from an error message is ignored; a notice (2104, 2106, 399 …) changes nothing.
* A refusal code (103, 110, 200, 201, 203, 321) rejects an order IB has not acknowledged yet
  (IB sends no status then); on an acknowledged order it is only a `BrokerErrorReported`.
  ``Inactive`` is REJECTED with the order's last error code.
* A fill is reported once per execution id, when its execution arrives, with commission 0;
  its commission follows as one `CommissionReported` when, and if, IB's commission report
  comes (a report for an execution not seen yet reports the fill first). A status that counts
  fills not yet reported waits for them, so FILLED never overtakes its `FillReported`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import attrs
import structlog
from ib_async import Fill as IBFill

from .._contracts import ContractSpec
from .._enums import OrderStatus
from .._ids import BrokerOrderId, ClientOrderId, ExecutionId
from .._orders import OrderRequest
from ..brokers import (
    AccountValueChanged,
    BrokerErrorReported,
    BrokerEvent,
    CommissionReported,
    ConnectionLost,
    ConnectionRestored,
    FillReported,
    OrderAcknowledged,
    OrderStatusChanged,
    PositionChanged,
)
from ._convert import (
    ACCOUNT_KEYS,
    ACKNOWLEDGING_STATUSES,
    average_price_from_ib,
    commission_from_ib,
    from_ib_fill,
    status_from_ib,
)
from ._errors import RATE_EXCEEDED, ErrorKind, error_kind
from ._seen import (
    AccountValueSeen,
    CommissionSeen,
    ErrorSeen,
    ExecutionSeen,
    PositionSeen,
    Said,
    Seen,
    SocketClosed,
    StatusSeen,
)

log = structlog.get_logger()

Events = list[BrokerEvent]


@attrs.define(kw_only=True)
class OrderState:
    """What the translator knows of one order (mutable: it follows the order)."""

    client_order_id: ClientOrderId
    order_id: int
    quantity: int
    request: OrderRequest | None = None  # as Hydra placed or last modified it
    acknowledged: bool = False
    final: bool = False
    last: tuple[OrderStatus, int, int] | None = None  # status, filled, remaining last sent
    last_error: tuple[int, str] | None = None
    reported: int = 0  # quantity in fills reported
    waiting: OrderStatusChanged | None = None  # a status waiting for its fills


class Translator:
    """Turns `Seen` values into `BrokerEvent`s, one at a time, in order."""

    def __init__(self) -> None:
        self._orders: dict[ClientOrderId, OrderState] = {}
        self._by_order_id: dict[int, ClientOrderId] = {}
        self._reported: set[ExecutionId] = set()  # executions sent as FillReported
        self._awaiting_commission: set[ExecutionId] = set()  # reported, commission not yet
        self._contracts: dict[str, ContractSpec] = {}

    # --- what Hydra did -------------------------------------------------------------------------

    def placed(self, request: OrderRequest, order_id: int) -> OrderState:
        """Hydra sent ``request`` as IB order ``order_id``."""
        self.remember(request.contract)
        order = self.adopt(request.client_order_id, order_id, request.quantity)
        order.request = request
        return order

    def adopt(self, client_order_id: ClientOrderId, order_id: int, quantity: int) -> OrderState:
        """An order IB knows under ``order_id`` (placed now, or found after a reconnect)."""
        order = self._orders.get(client_order_id)
        if order is None or order.order_id != order_id:
            order = OrderState(
                client_order_id=client_order_id, order_id=order_id, quantity=quantity
            )
            self._orders[client_order_id] = order
            self._by_order_id[order_id] = client_order_id
        return order

    def order(self, client_order_id: ClientOrderId) -> OrderState | None:
        return self._orders.get(client_order_id)

    def remember(self, contract: ContractSpec) -> None:
        self._contracts[contract.symbol] = contract

    def contract(self, symbol: str) -> ContractSpec | None:
        return self._contracts.get(symbol)

    @property
    def awaiting_commission(self) -> frozenset[ExecutionId]:
        """Executions reported whose commission has not (yet) been."""
        return frozenset(self._awaiting_commission)

    # --- what IB said ---------------------------------------------------------------------------

    def translate(self, seen: Seen) -> Events:
        match seen:
            case StatusSeen():
                return self._status(seen)
            case ExecutionSeen(client_order_id=cid, fill=fill):
                return self._execution(cid, fill)
            case CommissionSeen():
                return self._commission(seen)
            case ErrorSeen():
                return self._error(seen)
            case PositionSeen():
                return self._position(seen)
            case AccountValueSeen():
                return self._account_value(seen)
            case Said(event=event):
                return [event]
            case SocketClosed():
                return [ConnectionLost(reason="the connection to IB Gateway/TWS closed")]
        raise AssertionError(f"unexpected {seen!r}")

    def _status(self, seen: StatusSeen) -> Events:
        status = status_from_ib(seen.status)
        if seen.error_code or status is None:
            return []  # made up by ib_async from an error, or nothing new (PendingCancel …)
        order = self._orders.get(seen.client_order_id)
        if order is None:
            order = self.adopt(seen.client_order_id, seen.order_id, seen.quantity)
        if order.final:
            return []
        events: Events = []
        if seen.status in ACKNOWLEDGING_STATUSES and not order.acknowledged:
            order.acknowledged = True
            broker_id = BrokerOrderId(seen.order_id)
            events.append(OrderAcknowledged(client_order_id=order.client_order_id,
                                            broker_order_id=broker_id))
        code, reason = order.last_error or (None, None)
        changed = OrderStatusChanged(
            client_order_id=order.client_order_id,
            status=status,
            filled=seen.filled,
            remaining=seen.remaining,
            code=code if status is OrderStatus.REJECTED else None,
            reason=reason if status is OrderStatus.REJECTED else None,
        )
        if (status, seen.filled, seen.remaining) == order.last:
            return events
        order.last = (status, seen.filled, seen.remaining)
        if seen.filled > order.reported:
            order.waiting = changed
            return events
        order.final = status.is_final
        return [*events, changed]

    def _execution(self, client_order_id: ClientOrderId, ib_fill: IBFill) -> Events:
        """The fill of a new execution, commission 0, and any status that waited for it."""
        if ExecutionId(ib_fill.execution.execId) in self._reported:
            return []
        fill = from_ib_fill(ib_fill, commission=0.0, client_order_id=client_order_id)
        self._reported.add(fill.execution_id)
        self._awaiting_commission.add(fill.execution_id)
        events: Events = [FillReported(fill=fill)]
        order = self._orders.get(fill.client_order_id)
        if order is not None:
            order.reported += fill.quantity
            waiting = order.waiting
            if waiting is not None and order.reported >= waiting.filled:
                order.waiting = None
                order.final = waiting.status.is_final
                events.append(waiting)
        return events

    def _commission(self, seen: CommissionSeen) -> Events:
        """The commission of a reported execution, once; the fill first if it is news."""
        events = self._execution(seen.client_order_id, seen.fill)
        execution_id = seen.execution_id
        if execution_id not in self._awaiting_commission:
            return events  # its commission was reported already
        commission = commission_from_ib(seen.commission)
        if commission is None:
            log.warning("ib_commission_unset", execution_id=execution_id,
                        commission=seen.commission)
            return events
        self._awaiting_commission.discard(execution_id)
        reported = CommissionReported(execution_id=execution_id,
                                      client_order_id=seen.client_order_id, commission=commission)
        return [*events[:1], reported, *events[1:]]  # right after its fill, if that is news

    def _error(self, seen: ErrorSeen) -> Events:
        kind = error_kind(seen.code)
        cid = self._by_order_id.get(seen.req_id) if seen.req_id >= 0 else None
        order = self._orders.get(cid) if cid is not None else None
        match kind:
            case ErrorKind.NOTICE:
                log.info("ib_notice", code=seen.code, message=seen.message, req_id=seen.req_id)
                return []
            case ErrorKind.CONNECTION_LOST:
                return [ConnectionLost(reason=f"IB error {seen.code}: {seen.message}")]
            case ErrorKind.CONNECTION_RESTORED | ErrorKind.CONNECTION_RESTORED_DATA_LOST:
                return [ConnectionRestored()]
            case ErrorKind.CLIENT_ID_IN_USE:  # connect() raises ClientIdInUseError for it
                log.warning("ib_client_id_in_use", message=seen.message)
                return []
        if seen.code == RATE_EXCEEDED:  # an order or a cancel may be lost: say so loudly
            log.warning("ib_message_refused", code=seen.code, message=seen.message)
        if order is not None:
            order.last_error = (seen.code, seen.message)
            if kind is ErrorKind.REFUSAL and not (order.acknowledged or order.final):
                order.final = True
                return [
                    OrderStatusChanged(
                        client_order_id=order.client_order_id,
                        status=OrderStatus.REJECTED,
                        filled=0,
                        remaining=order.quantity,
                        code=seen.code,
                        reason=seen.message,
                    )
                ]
        return [BrokerErrorReported(code=seen.code, message=seen.message, client_order_id=cid)]

    def _position(self, seen: PositionSeen) -> Events:
        contract = self._contracts.get(seen.symbol)
        if contract is None:  # IB's average cost means nothing without the point value
            log.info("ib_position_of_unknown_contract", symbol=seen.symbol)
            return []
        average = average_price_from_ib(seen.average_cost, contract)
        return [PositionChanged(symbol=seen.symbol, expiry=seen.expiry, quantity=seen.quantity,
                                average_price=average)]

    def _account_value(self, seen: AccountValueSeen) -> Events:
        if seen.key not in ACCOUNT_KEYS or seen.currency == "BASE":
            return []
        try:
            value = Decimal(seen.value)
        except InvalidOperation:
            return []
        return [AccountValueChanged(key=seen.key, value=value, currency=seen.currency)]
