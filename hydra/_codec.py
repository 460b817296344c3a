"""Hydra values from the JSON-able dicts the journal and audit log hold.

`hydra._converter.unstructure` writes them: decimals as strings (exact), enums as their
values, times as ISO 8601 and contracts as symbol plus delivery month (the built-in contract
table supplies the rest); these read them back.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ._contracts import ContractSpec, contract_for
from ._enums import OrderType, Policy, Side, TimeInForce
from ._ids import ClientOrderId, ExecutionId, IntentId
from ._orders import Fill, OrderIntent, OrderRequest


def contract_from_json(data: dict[str, Any]) -> ContractSpec:
    contract = contract_for(data["symbol"])
    return contract.for_month(data["expiry"]) if data.get("expiry") else contract


def request_from_json(data: dict[str, Any]) -> OrderRequest:
    """The `OrderRequest` that `unstructure` wrote."""
    return OrderRequest(
        client_order_id=ClientOrderId(data["client_order_id"]),
        intent_id=IntentId(data["intent_id"]),
        contract=contract_from_json(data["contract"]),
        side=Side(data["side"]),
        quantity=data["quantity"],
        order_type=OrderType(data["order_type"]),
        limit_price=Decimal(data["limit_price"]),
        stop_price=None if data["stop_price"] is None else Decimal(data["stop_price"]),
        time_in_force=TimeInForce(data["time_in_force"]),
        oca_group=data["oca_group"],
        parent_id=data["parent_id"],
        transmit=data["transmit"],
    )


def intent_from_json(data: dict[str, Any]) -> OrderIntent:
    """The `OrderIntent` that `unstructure` wrote."""
    return OrderIntent(
        contract=contract_from_json(data["contract"]),
        side=Side(data["side"]),
        quantity=data["quantity"],
        strategy=data["strategy"],
        intent_id=IntentId(data["intent_id"]),
        policy=None if data.get("policy") is None else Policy(data["policy"]),
    )


def fill_from_json(data: dict[str, Any]) -> Fill:
    """The `Fill` that `unstructure` wrote (one written before fills carried a delivery month
    loads with none)."""
    return Fill(
        execution_id=ExecutionId(data["execution_id"]),
        client_order_id=ClientOrderId(data["client_order_id"]),
        symbol=data["symbol"],
        side=Side(data["side"]),
        price=Decimal(data["price"]),
        quantity=data["quantity"],
        commission=Decimal(data["commission"]),
        time=dt.datetime.fromisoformat(data["time"]),
        expiry=data.get("expiry"),  # older journals carry no month
    )
