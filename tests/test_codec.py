import datetime as dt
import json

import attrs

from hydra._codec import fill_from_json, request_from_json
from hydra._contracts import LEAN_HOGS
from hydra._converter import unstructure
from hydra._enums import OrderType, Side, TimeInForce
from hydra._ids import ClientOrderId, ExecutionId, IntentId
from hydra._orders import Fill, OrderRequest


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
