"""Tests for hydra._codec: the journal's payloads read back as Hydra values."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from hydra._codec import fill_from_json, part_from_json, request_from_json
from hydra._contracts import LEAN_HOGS, OATS
from hydra._converter import from_json, unstructure
from hydra._enums import OrderType, Policy, Side, TimeInForce
from hydra._ids import ClientOrderId, ExecutionId, IntentId
from hydra._orders import Fill, OrderIntent, OrderRequest, TwapPart


def test_stop_limit_request_round_trips_through_json() -> None:
    """A request survives JSON exactly: decimals, enums, contract month and OCA fields."""
    request = OrderRequest(
        client_order_id=ClientOrderId("int-9.3"),
        intent_id=IntentId("int-9"),
        contract=LEAN_HOGS.for_month("202612"),
        side=Side.SELL,
        quantity=2,
        order_type=OrderType.STOP_LIMIT,
        limit_price="84.975",
        stop_price="85.000",
        time_in_force=TimeInForce.GTC,
        oca_group="oca-int-9",
        parent_id=ClientOrderId("int-9.1"),
        transmit=False,
    )
    text = json.dumps(unstructure(request))
    assert request_from_json(json.loads(text)) == request


def test_fill_round_trips_through_json() -> None:
    """A fill survives JSON with its exact price and aware timestamp."""
    fill = Fill(
        execution_id=ExecutionId("0001f4e8.01"),
        client_order_id=ClientOrderId("int-9.1"),
        symbol="HE",
        side=Side.BUY,
        price="85.025",
        quantity=4,
        commission="10.00",
        time=dt.datetime(2026, 11, 25, 15, 1, 2, 345000, tzinfo=dt.UTC),
    )
    assert fill_from_json(json.loads(json.dumps(unstructure(fill)))) == fill


def test_fill_month_round_trips_and_old_fills_load_without_one() -> None:
    """A fill's delivery month survives JSON; a journaled fill written before fills carried a
    month (no "expiry" key) loads with expiry None."""
    fill = Fill(
        execution_id=ExecutionId("0001f4e8.02"),
        client_order_id=ClientOrderId("int-9.2"),
        symbol="ZO",
        side=Side.SELL,
        price="352.25",
        quantity=1,
        time=dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC),
        expiry="202607",
    )
    written = unstructure(fill)
    assert written["expiry"] == "202607"
    assert fill_from_json(json.loads(json.dumps(written))) == fill
    del written["expiry"]
    assert fill_from_json(written) == attrs.evolve(fill, expiry=None)


# Payloads exactly as the journal wrote them before its readers moved onto the converter
# (`json.dumps(unstructure(value), sort_keys=True)` at commit 2fac92a): a journal written then
# must read back, and today's writer must write the same text.
WRITTEN_REQUEST = (
    '{"client_order_id": "j0123456789ab:int-9.3", "contract": {"expiry": "202612", "symbol":'
    ' "HE"}, "intent_id": "int-9", "limit_price": "84.975", "oca_group": "oca-int-9",'
    ' "order_type": "STP LMT", "parent_id": "j0123456789ab:int-9.1", "quantity": 2, "side":'
    ' "SELL", "stop_price": "85.000", "time_in_force": "GTC", "transmit": false}')
WRITTEN_INTENT = (
    '{"contract": {"expiry": null, "symbol": "ZO"}, "intent_id": "int-9", "policy": "passive",'
    ' "quantity": 7, "side": "BUY", "strategy": "momo"}')
WRITTEN_FILL = (
    '{"client_order_id": "j0123456789ab:int-9.3", "commission": "4.20", "execution_id":'
    ' "0001f4e8.01", "expiry": "202612", "price": "84.975", "quantity": 2, "side": "SELL",'
    ' "symbol": "HE", "time": "2026-11-25T15:01:02.345000+00:00"}')

REQUEST = OrderRequest(
    client_order_id=ClientOrderId("j0123456789ab:int-9.3"), intent_id=IntentId("int-9"),
    contract=LEAN_HOGS.for_month("202612"), side=Side.SELL, quantity=2,
    order_type=OrderType.STOP_LIMIT, limit_price="84.975", stop_price="85.000",
    time_in_force=TimeInForce.GTC, oca_group="oca-int-9",
    parent_id=ClientOrderId("j0123456789ab:int-9.1"), transmit=False)
INTENT = OrderIntent(contract=OATS, side=Side.BUY, quantity=7, strategy="momo",
                     intent_id=IntentId("int-9"), policy=Policy.PASSIVE)
FILL = Fill(
    execution_id=ExecutionId("0001f4e8.01"), client_order_id=ClientOrderId("j0123456789ab:int-9.3"),
    symbol="HE", side=Side.SELL, price="84.975", quantity=2, commission="4.20",
    time=dt.datetime(2026, 11, 25, 15, 1, 2, 345000, tzinfo=dt.UTC), expiry="202612")
WRITTEN_PART = '{"ahead": true, "slice": 3, "slices": 10}'  # as first written, 2026-12-02
PART = TwapPart(slice=3, slices=10, ahead=True)


@pytest.mark.parametrize(("text", "value", "read"), [
    (WRITTEN_REQUEST, REQUEST, request_from_json),
    (WRITTEN_PART, PART, part_from_json),
    (WRITTEN_INTENT, INTENT, lambda data: from_json(data, OrderIntent)),
    (WRITTEN_FILL, FILL, fill_from_json),
])
def test_payloads_of_earlier_journals_read_back_and_are_written_the_same(
        text: str, value: Any, read: Callable[[dict[str, Any]], Any]) -> None:
    """A request, an intent, a fill and a TWAP part as an earlier journal stored them read
    back to the same value, with exact decimals; today's writer writes the very same text."""
    assert read(json.loads(text)) == value
    assert json.dumps(unstructure(value), sort_keys=True) == text


def test_intent_written_before_policies_reads_with_none() -> None:
    """An intent journaled before intents carried a policy (no "policy" key) reads with
    none, and a contract with no "expiry" key is the contract with no month."""
    data = json.loads(WRITTEN_INTENT)
    del data["policy"], data["contract"]["expiry"]
    assert from_json(data, OrderIntent) == attrs.evolve(INTENT, policy=None)
