"""Hydra values to and from JSON-able dicts, for the journal and audit log.

Decimals travel as strings (exact), enums as their values, times as ISO 8601 and contracts as
symbol plus delivery month (the built-in contract table supplies the rest).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import attrs

from ._contracts import ContractSpec, contract_for
from ._enums import OrderType, Policy, Side, TimeInForce
from ._ids import ClientOrderId, ExecutionId, IntentId
from ._orders import Fill, OrderIntent, OrderRequest


def to_jsonable(value: Any) -> Any:
    """A JSON-able form of a Hydra value (attrs classes become dicts)."""
    if isinstance(value, ContractSpec):
        return {"symbol": value.symbol, "expiry": value.expiry}
    if attrs.has(type(value)):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    return value


def contract_from_json(data: dict[str, Any]) -> ContractSpec:
    contract = contract_for(data["symbol"])
    return contract.for_month(data["expiry"]) if data.get("expiry") else contract


def request_from_json(data: dict[str, Any]) -> OrderRequest:
    """The `OrderRequest` that `to_jsonable` wrote."""
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
    """The `OrderIntent` that `to_jsonable` wrote."""
    return OrderIntent(
        contract=contract_from_json(data["contract"]),
        side=Side(data["side"]),
        quantity=data["quantity"],
        strategy=data["strategy"],
        intent_id=IntentId(data["intent_id"]),
        policy=None if data.get("policy") is None else Policy(data["policy"]),
    )


def fill_from_json(data: dict[str, Any]) -> Fill:
    """The `Fill` that `to_jsonable` wrote (one written before fills carried a delivery month
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
