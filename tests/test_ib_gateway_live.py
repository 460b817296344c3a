"""Against a real IB Gateway (paper), only when IB_GATEWAY_HOST is set: connect with the
diagnostic client id and read ZO's contract details. Never places an order."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
import trio

from hydra._settings import BrokerSettings
from hydra.ib import open_ib_broker

HOST = os.environ.get("IB_GATEWAY_HOST")
pytestmark = pytest.mark.skipif(not HOST, reason="IB_GATEWAY_HOST is not set")


async def test_contract_details_for_oats_from_ib_gateway() -> None:
    """IB Gateway describes ZO with a 0.25 tick, multiplier 5000 and magnifier 100."""
    assert HOST is not None
    settings = BrokerSettings(host=HOST, port=int(os.environ.get("IB_GATEWAY_PORT", "4002")))
    with trio.fail_after(30):
        async with open_ib_broker(settings, client_id=settings.diagnostic_client_id) as broker:
            spec = await broker.contract_details("ZO")
    assert spec.symbol == "ZO"
    assert spec.tick_size == Decimal("0.25")
    assert spec.point_value == 50
