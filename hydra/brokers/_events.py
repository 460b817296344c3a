"""The events a broker sends on its one event stream, grouped by what they are about.

All are frozen attrs values; `BrokerEvent` is their union. Codes are IB-like (`ErrorCode`).
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from .._enums import OrderStatus
from .._ids import BrokerOrderId, ClientOrderId, ExecutionId
from .._orders import Fill
from .._validate import (
    non_empty_str,
    non_negative,
    non_negative_int,
    optional_delivery_month,
    to_decimal,
)

# --- about one order -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class OrderAcknowledged:
    """The broker accepted the order and gave it its own id."""

    client_order_id: ClientOrderId
    broker_order_id: BrokerOrderId


@attrs.frozen(kw_only=True)
class OrderStatusChanged:
    """Where an order stands now; a rejection is status REJECTED with the broker's code."""

    client_order_id: ClientOrderId
    status: OrderStatus
    filled: int = attrs.field(validator=non_negative_int)
    remaining: int = attrs.field(validator=non_negative_int)
    code: int | None = None
    reason: str | None = None


@attrs.frozen(kw_only=True)
class FillReported:
    """One execution; the same execution id may arrive twice (record each id once). A broker
    whose commission comes later (IB) reports the fill with commission 0 at once, and the
    commission as a `CommissionReported` when, and if, it comes."""

    fill: Fill


@attrs.frozen(kw_only=True)
class CommissionReported:
    """The commission of an execution already sent as a `FillReported`, reported after it:
    add it to that fill's. Sent at most once per execution id."""

    execution_id: ExecutionId = attrs.field(validator=non_empty_str)
    client_order_id: ClientOrderId = attrs.field(validator=non_empty_str)
    commission: Decimal = attrs.field(converter=to_decimal, validator=non_negative)


# --- about the account -----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PositionChanged:
    """The account's position in one contract after a fill (signed quantity): ``symbol`` is
    the product, ``expiry`` its delivery month ("YYYYMM") when the broker said."""

    symbol: str
    quantity: int
    average_price: Decimal
    expiry: str | None = attrs.field(default=None, validator=optional_delivery_month)


@attrs.frozen(kw_only=True)
class AccountValueChanged:
    """One account value changed, keyed as IB keys them (``RealizedPnL``, ``CashBalance`` …)."""

    key: str
    value: Decimal
    currency: str = "USD"


# --- about the connection --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ConnectionLost:
    """The link to the broker went down; events are not delivered until it is restored."""

    reason: str


@attrs.frozen(kw_only=True)
class ConnectionRestored:
    """The link is back; resync with the snapshots for what happened while it was down."""


@attrs.frozen(kw_only=True)
class BrokerErrorReported:
    """An error that is not an order's own status, e.g. cancel of an unknown order (135)."""

    code: int
    message: str
    client_order_id: ClientOrderId | None = None


BrokerEvent = (
    OrderAcknowledged
    | OrderStatusChanged
    | FillReported
    | CommissionReported
    | PositionChanged
    | AccountValueChanged
    | ConnectionLost
    | ConnectionRestored
    | BrokerErrorReported
)
"""Anything a broker's event stream carries."""
