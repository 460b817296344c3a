"""Broker events: frozen, keyword-only values with IB-like codes."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from hydra._enums import OrderStatus
from hydra._errors import InvalidValueError
from hydra._ids import ClientOrderId, ExecutionId
from hydra.brokers import CommissionReported, ErrorCode, OrderStatusChanged, PositionChanged


def test_rejection_is_a_status_with_a_code() -> None:
    """A rejection is status REJECTED carrying IB's code, equal to the plain integer."""
    event = OrderStatusChanged(
        client_order_id=ClientOrderId("a"),
        status=OrderStatus.REJECTED,
        filled=0,
        remaining=1,
        code=ErrorCode.PRICE_OFF_TICK,
        reason="off tick",
    )
    assert event.code == 110
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.filled = 1  # type: ignore[misc]


def test_negative_quantities_are_refused() -> None:
    """A status with a negative remaining quantity names the field."""
    with pytest.raises(InvalidValueError, match=r"^remaining:"):
        OrderStatusChanged(
            client_order_id=ClientOrderId("a"), status=OrderStatus.WORKING, filled=0, remaining=-1
        )


def test_a_commission_report_is_an_exact_non_negative_decimal() -> None:
    """CommissionReported takes its commission as an exact Decimal and refuses a negative one
    by the field's name."""
    event = CommissionReported(execution_id=ExecutionId("e1"),
                               client_order_id=ClientOrderId("int-a.0"), commission=1.25)
    assert event.commission == Decimal("1.25")
    with pytest.raises(InvalidValueError, match=r"^commission:"):
        CommissionReported(execution_id=ExecutionId("e1"),
                           client_order_id=ClientOrderId("int-a.0"), commission=Decimal(-1))
    with pytest.raises(InvalidValueError, match=r"^execution_id:"):
        CommissionReported(execution_id=ExecutionId(""),
                           client_order_id=ClientOrderId("int-a.0"), commission=Decimal(0))


def test_a_position_change_names_its_month_or_none() -> None:
    """PositionChanged keeps its old constructor (no month) and refuses a month not YYYYMM."""
    assert PositionChanged(symbol="ZO", quantity=1, average_price=Decimal(350)).expiry is None
    july = PositionChanged(symbol="ZO", expiry="202607", quantity=1, average_price=Decimal(350))
    assert july.expiry == "202607"
    with pytest.raises(InvalidValueError, match=r"^expiry:"):
        PositionChanged(symbol="ZO", expiry="July", quantity=1, average_price=Decimal(350))
