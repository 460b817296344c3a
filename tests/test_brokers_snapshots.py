"""Broker snapshots: open orders carry their request; the account adds up."""

from __future__ import annotations

from decimal import Decimal

from hydra._contracts import OATS
from hydra._enums import OrderStatus, Side
from hydra._ids import BrokerOrderId, ClientOrderId, IntentId
from hydra._orders import OrderRequest
from hydra.brokers import AccountSnapshot, OpenOrder


def test_open_order_exposes_its_client_order_id() -> None:
    """An open order's client order id is its request's."""
    request = OrderRequest(
        client_order_id=ClientOrderId("a"),
        intent_id=IntentId("i"),
        contract=OATS,
        side=Side.BUY,
        quantity=2,
        limit_price=Decimal("350.00"),
    )
    order = OpenOrder(
        request=request,
        broker_order_id=BrokerOrderId(7),
        status=OrderStatus.WORKING,
        filled=1,
        remaining=1,
    )
    assert order.client_order_id == "a"


def test_account_snapshot_converts_numbers_to_decimals() -> None:
    """Account values given as ints or strings become exact Decimals in USD."""
    account = AccountSnapshot(cash=100, realized="1.5", unrealized=0, equity=100, commission=0)
    assert account.realized == Decimal("1.5") and account.currency == "USD"
