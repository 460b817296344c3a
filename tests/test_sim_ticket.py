"""OrderTicket: a Hydra request in the exchange's own terms and back."""

from __future__ import annotations

from decimal import Decimal

from hydra._contracts import OATS
from hydra._enums import Side, TimeInForce
from hydra._ids import ClientOrderId, IntentId
from hydra._orders import OrderRequest
from hydra.sim import OrderTicket


def test_request_survives_the_round_trip_through_a_ticket() -> None:
    """A request becomes a ticket with IB's codes as text and comes back equal."""
    request = OrderRequest(
        client_order_id=ClientOrderId("a.1"),
        intent_id=IntentId("a"),
        contract=OATS,
        side=Side.SELL,
        quantity=3,
        limit_price=Decimal("351.25"),
        time_in_force=TimeInForce.IOC,
    )
    ticket = OrderTicket.from_request(request)
    assert (ticket.order_type, ticket.time_in_force, ticket.order_ref) == ("LMT", "IOC", "a")
    assert ticket.to_request(OATS) == request
