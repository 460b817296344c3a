import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydra._contracts import LEAN_HOGS, OATS
from hydra._enums import OrderType, Policy, Side
from hydra._errors import InvalidValueError, UnsupportedOrderTypeError
from hydra._ids import ClientOrderId, ExecutionId, IntentId
from hydra._orders import Fill, OrderIntent, OrderRequest
from tests.strategies import bad_numbers


def _request(**changes: Any) -> OrderRequest:
    fields: dict[str, Any] = dict(
        client_order_id=ClientOrderId("int-1.1"),
        intent_id=IntentId("int-1"),
        contract=OATS,
        side=Side.BUY,
        quantity=2,
        limit_price="350.25",
    )
    fields.update(changes)
    return OrderRequest(**fields)


def test_intent_gets_a_fresh_id_and_signed_quantity() -> None:
    """An intent without an id gets a unique one; a sell's signed quantity is negative."""
    first = OrderIntent(contract=OATS, side=Side.SELL, quantity=12)
    second = OrderIntent(contract=OATS, side=Side.SELL, quantity=12)
    assert first.intent_id != second.intent_id
    assert first.signed_quantity == -12
    assert first.policy is None


@pytest.mark.parametrize("quantity", [0, -3, 1.5, True, "2"])
def test_intent_refuses_bad_quantity(quantity: object) -> None:
    """A zero, negative, fractional, boolean or text quantity names the quantity field."""
    with pytest.raises(InvalidValueError, match="quantity"):
        OrderIntent(contract=OATS, side=Side.BUY, quantity=quantity)  # type: ignore[arg-type]


def test_intent_refuses_empty_strategy() -> None:
    """The strategy name cannot be blank."""
    with pytest.raises(InvalidValueError, match="strategy"):
        OrderIntent(contract=OATS, side=Side.BUY, quantity=1, strategy=" ")


def test_intent_accepts_policy_override() -> None:
    """An intent can carry a routing policy of its own."""
    assert OrderIntent(contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS).policy


def test_request_is_a_limit_order_by_default_with_notional() -> None:
    """A request is a LMT order, and its notional is in dollars."""
    request = _request()
    assert request.order_type is OrderType.LIMIT
    assert request.notional == Decimal("350.25") * 2 * 50


@given(bad=bad_numbers)
def test_request_refuses_bad_limit_price(bad: object) -> None:
    """Any NaN, infinite, zero, negative or non-numeric limit price names limit_price."""
    with pytest.raises(InvalidValueError, match="limit_price"):
        _request(limit_price=bad)


def test_request_refuses_off_tick_price() -> None:
    """A limit price off the contract's tick grid is refused before it can reach a broker."""
    with pytest.raises(InvalidValueError, match=r"limit_price: is not a multiple of the tick"):
        _request(limit_price="350.10")
    assert _request(contract=LEAN_HOGS, limit_price="85.325").limit_price == Decimal("85.325")


def test_stop_limit_needs_a_stop_price() -> None:
    """A STP LMT without a stop price, or a LMT with one, is refused naming stop_price."""
    with pytest.raises(InvalidValueError, match="stop_price: is required"):
        _request(order_type=OrderType.STOP_LIMIT)
    with pytest.raises(InvalidValueError, match="stop_price: is only allowed"):
        _request(stop_price="349")
    stop = _request(order_type=OrderType.STOP_LIMIT, stop_price="349.00", side=Side.SELL)
    assert stop.stop_price == Decimal("349.00")


def test_market_order_cannot_be_expressed() -> None:
    """Parsing IB's MKT (or anything but LMT and STP LMT) raises; the enum has two members."""
    assert {t.value for t in OrderType} == {"LMT", "STP LMT"}
    with pytest.raises(UnsupportedOrderTypeError, match="MKT"):
        OrderType.parse("MKT")
    assert OrderType.parse("STP LMT") is OrderType.STOP_LIMIT


@given(text=st.text())
def test_order_type_parse_never_yields_market(text: str) -> None:
    """No text parses to anything but LMT or STP LMT."""
    try:
        parsed = OrderType.parse(text)
    except UnsupportedOrderTypeError:
        return
    assert parsed.value in ("LMT", "STP LMT")


def test_fill_values_and_validation() -> None:
    """A fill keeps exact prices and refuses a negative commission."""
    when = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)
    fill = Fill(
        execution_id=ExecutionId("e1"),
        client_order_id=ClientOrderId("int-1.1"),
        symbol="ZO",
        side=Side.SELL,
        price="350.25",
        quantity=3,
        commission="7.50",
        time=when,
    )
    assert fill.signed_quantity == -3
    assert fill.price == Decimal("350.25")
    with pytest.raises(InvalidValueError, match="commission"):
        Fill(
            execution_id=ExecutionId("e1"),
            client_order_id=ClientOrderId("c"),
            symbol="ZO",
            side=Side.SELL,
            price=1,
            quantity=1,
            commission=-1,
            time=when,
        )


def test_a_fill_names_its_delivery_month_or_none() -> None:
    """A fill's expiry defaults to None, is kept as YYYYMM, and anything else is refused."""
    fields: dict[str, Any] = dict(
        execution_id=ExecutionId("e1"), client_order_id=ClientOrderId("c"), symbol="ZO",
        side=Side.BUY, price=1, quantity=1, time=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
    )
    assert Fill(**fields).expiry is None
    assert Fill(**fields, expiry="202607").expiry == "202607"
    for bad in ("20260714", "202613", "ZON6", 202607):
        with pytest.raises(InvalidValueError, match=r"^expiry:"):
            Fill(**fields, expiry=bad)


@pytest.mark.parametrize("price", ["0", "-1", "NaN"])
def test_a_fill_holds_whatever_price_the_broker_said(price: str) -> None:
    """A fill at a price that is not positive is still a Fill (the risk book judges it a broker
    anomaly), so an adapter never crashes on one; a price that is no number is refused."""
    when = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)
    fill = Fill(execution_id=ExecutionId("e1"), client_order_id=ClientOrderId("c"),
                symbol="ZO", side=Side.BUY, price=price, quantity=1, time=when)
    assert str(fill.price) == price
    with pytest.raises(InvalidValueError, match="price"):
        Fill(execution_id=ExecutionId("e1"), client_order_id=ClientOrderId("c"), symbol="ZO",
             side=Side.BUY, price="three", quantity=1, time=when)
