"""Distinct identifier types, so an intent id is never passed where an order id belongs."""

from __future__ import annotations

import uuid
from typing import NewType

IntentId = NewType("IntentId", str)
"""Names one order intent, from the strategy (or generated)."""

ClientOrderId = NewType("ClientOrderId", str)
"""Hydra's id for one order sent to a broker; also sent as IB's ``orderRef``."""

BrokerOrderId = NewType("BrokerOrderId", int)
"""The broker's id for an order (IB's ``orderId``)."""

ExecutionId = NewType("ExecutionId", str)
"""The broker's id for one execution (IB's ``execId``); a fill is recorded once per id."""


def new_intent_id() -> IntentId:
    """A fresh, unique intent id."""
    return IntentId(f"int-{uuid.uuid4().hex[:12]}")


def client_order_id_for(intent_id: IntentId, sequence: int) -> ClientOrderId:
    """The client order id of an intent's ``sequence``-th order (stable across restarts)."""
    return ClientOrderId(f"{intent_id}.{sequence}")
