"""What a strategy asks for (`OrderIntent`), what goes to a broker (`OrderRequest`) and the part
of its intent's schedule it works (`TwapPart`), and what comes back (`Fill`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs

from ._contracts import ContractSpec
from ._enums import OrderType, Policy, Side, TimeInForce
from ._errors import InvalidValueError
from ._ids import ClientOrderId, ExecutionId, IntentId, new_intent_id
from ._validate import (
    non_empty_str,
    non_negative,
    optional_delivery_month,
    optional_positive,
    positive,
    positive_int,
    to_decimal,
    to_optional_decimal,
)


@attrs.frozen(kw_only=True)
class OrderIntent:
    """A strategy's wish: buy or sell this many contracts, worked by Hydra."""

    contract: ContractSpec
    side: Side = attrs.field(validator=attrs.validators.instance_of(Side))
    quantity: int = attrs.field(validator=positive_int)
    strategy: str = attrs.field(default="default", validator=non_empty_str)
    intent_id: IntentId = attrs.field(factory=new_intent_id, validator=non_empty_str)
    policy: Policy | None = None  # overrides the routing of this one intent

    @property
    def signed_quantity(self) -> int:
        return self.side.sign * self.quantity


def _on_tick(instance: OrderRequest, field: attrs.Attribute[Any], value: Decimal | None) -> None:
    if value is not None and not instance.contract.is_on_tick(value):
        raise InvalidValueError(
            field.name, value, f"is not a multiple of the tick {instance.contract.tick_size}"
        )


@attrs.frozen(kw_only=True)
class OrderRequest:
    """One order for the broker, as the risk actor checks it. Always a limit or stop limit."""

    client_order_id: ClientOrderId = attrs.field(validator=non_empty_str)
    intent_id: IntentId = attrs.field(validator=non_empty_str)
    contract: ContractSpec
    side: Side = attrs.field(validator=attrs.validators.instance_of(Side))
    quantity: int = attrs.field(validator=positive_int)
    order_type: OrderType = attrs.field(
        default=OrderType.LIMIT, validator=attrs.validators.instance_of(OrderType)
    )
    limit_price: Decimal = attrs.field(converter=to_decimal, validator=[positive, _on_tick])
    stop_price: Decimal | None = attrs.field(
        default=None, converter=to_optional_decimal, validator=[optional_positive, _on_tick]
    )
    time_in_force: TimeInForce = TimeInForce.DAY
    oca_group: str | None = None
    parent_id: ClientOrderId | None = None
    transmit: bool = True

    @stop_price.validator
    def _stop_matches_type(self, field: attrs.Attribute[Any], value: Decimal | None) -> None:
        if self.order_type is OrderType.STOP_LIMIT and value is None:
            raise InvalidValueError(field.name, value, "is required for a STP LMT order")
        if self.order_type is OrderType.LIMIT and value is not None:
            raise InvalidValueError(field.name, value, "is only allowed on a STP LMT order")

    @property
    def signed_quantity(self) -> int:
        return self.side.sign * self.quantity

    @property
    def notional(self) -> Decimal:
        """Dollar value at the limit price."""
        return self.limit_price * self.quantity * self.contract.point_value


@attrs.frozen(kw_only=True)
class TwapPart:
    """The part of its intent's TWAP schedule a child order works, journaled with the order
    (a restart counts the slices begun by it): slice ``slice`` of ``slices`` (from 1), or, with
    ``ahead``, lots of the slices from ``slice`` on resting before that slice begins."""

    slice: int = attrs.field(validator=positive_int)
    slices: int = attrs.field(validator=positive_int)
    ahead: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))

    @slices.validator
    def _not_before_slice(self, field: attrs.Attribute[Any], value: int) -> None:
        if value < self.slice:
            raise InvalidValueError(field.name, value, f"must be at least slice {self.slice}")

    @property
    def begun(self) -> int:
        """The slices of the schedule begun once this order is sent: those before an ahead
        order's, or up to this one's."""
        return self.slice - 1 if self.ahead else self.slice


def _a_decimal(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Decimal):
        raise InvalidValueError(field.name, value, "must be a number")


@attrs.frozen(kw_only=True)
class Fill:
    """One execution of (part of) an order, as the broker reported it."""

    execution_id: ExecutionId = attrs.field(validator=non_empty_str)
    client_order_id: ClientOrderId = attrs.field(validator=non_empty_str)
    symbol: str = attrs.field(validator=non_empty_str)
    side: Side = attrs.field(validator=attrs.validators.instance_of(Side))
    # Any Decimal, even zero or NaN: the broker's word, judged by the risk book (a price that is
    # not positive is a broker anomaly there, never a crash in an adapter).
    price: Decimal = attrs.field(converter=to_decimal, validator=_a_decimal)
    quantity: int = attrs.field(validator=positive_int)
    commission: Decimal = attrs.field(
        default=Decimal(0), converter=to_decimal, validator=non_negative
    )
    time: dt.datetime = attrs.field(validator=attrs.validators.instance_of(dt.datetime))
    # The delivery month ("YYYYMM") of the contract ``symbol`` names, when the broker said.
    expiry: str | None = attrs.field(default=None, validator=optional_delivery_month)

    @property
    def signed_quantity(self) -> int:
        return self.side.sign * self.quantity
