"""One order as the actor that owns it sees it, built only from the broker's events.

An order's state comes from status and execution messages alone; informational errors, and
the risk actor's word that its cancel is held for the link, never change it.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from ._core._risk_checks import Denial
from ._enums import OrderStatus, OrderType
from ._ids import ClientOrderId
from ._messages import OwnerEvent
from ._orders import Fill
from ._reports import ChildOrderReport
from .brokers import FillReported, OrderAcknowledged, OrderStatusChanged


@attrs.define
class ChildOrder:
    """Mutable, and owned by exactly one actor."""

    client_order_id: ClientOrderId
    quantity: int
    order_type: OrderType = OrderType.LIMIT
    stop_price: Decimal | None = None
    prices: list[Decimal] = attrs.Factory(list)
    fills: list[Fill] = attrs.Factory(list)
    status: OrderStatus = OrderStatus.PENDING
    reason: str | None = None
    denied_by: tuple[str, ...] = ()
    quote_waits: int = 0  # stages that found no usable quote
    quote_problem: str | None = None  # why the last of them was unusable

    @property
    def filled(self) -> int:
        return sum(fill.quantity for fill in self.fills)

    @property
    def done(self) -> bool:
        """Final at the broker, with every fill of a filled order in hand."""
        if self.status is OrderStatus.FILLED:
            return self.filled >= self.quantity
        return self.status.is_final or self.filled >= self.quantity

    def block(self, denials: tuple[Denial, ...]) -> None:
        """The risk actor refused this order: nothing reached the broker."""
        self.status = OrderStatus.BLOCKED
        self.reason = "; ".join(denial.message for denial in denials)
        self.denied_by = tuple(denial.field for denial in denials)

    def apply(self, event: OwnerEvent) -> None:
        """Apply the broker's ``event`` (what the risk actor tells of a cancel's hold is its
        owner's to act on, not a change of the order's state)."""
        match event:
            case OrderAcknowledged() if self.status is OrderStatus.PENDING:
                self.status = OrderStatus.WORKING
            case OrderStatusChanged():
                self.status = event.status
                if event.reason:
                    code = "" if event.code is None else f"{event.code}: "
                    self.reason = code + event.reason
            case FillReported():
                self.fills.append(event.fill)

    def report(self) -> ChildOrderReport:
        filled_up = self.filled >= self.quantity
        return ChildOrderReport(
            client_order_id=self.client_order_id,
            order_type=self.order_type,
            quantity=self.quantity,
            prices=tuple(self.prices),
            stop_price=self.stop_price,
            status=OrderStatus.FILLED if filled_up else self.status,
            fills=tuple(self.fills),
            reason=self.reason,
            denied_by=self.denied_by,
            quote_waits=self.quote_waits,
            quote_problem=self.quote_problem,
        )
