"""What a broker reports when asked (resync after a reconnect or a restart)."""

from __future__ import annotations

from decimal import Decimal

import attrs

from .._enums import OrderStatus
from .._ids import BrokerOrderId, ClientOrderId
from .._orders import OrderRequest
from .._validate import non_negative_int, to_decimal


@attrs.frozen(kw_only=True)
class OpenOrder:
    """An order the broker still works: the request as placed (or as last modified) and its
    progress."""

    request: OrderRequest
    broker_order_id: BrokerOrderId
    status: OrderStatus
    filled: int = attrs.field(validator=non_negative_int)
    remaining: int = attrs.field(validator=non_negative_int)

    @property
    def client_order_id(self) -> ClientOrderId:
        return self.request.client_order_id


@attrs.frozen(kw_only=True)
class AccountSnapshot:
    """The account in dollars: ``equity = cash + unrealized``; cash already has realized PnL
    added and commission taken off."""

    cash: Decimal = attrs.field(converter=to_decimal)
    realized: Decimal = attrs.field(converter=to_decimal)
    unrealized: Decimal = attrs.field(converter=to_decimal)
    equity: Decimal = attrs.field(converter=to_decimal)
    commission: Decimal = attrs.field(converter=to_decimal)
    currency: str = "USD"
