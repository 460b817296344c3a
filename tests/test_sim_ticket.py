"""OrderTicket: a Hydra request in the exchange's own terms and back."""

from __future__ import annotations

from decimal import Decimal

from hydra._contracts import OATS
from hydra._enums import OrderType, Side, TimeInForce
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


def test_stop_limit_bracket_child_survives_the_round_trip() -> None:
    """A STP LMT child with its stop, OCA group, parent and transmit flag comes back equal."""
    request = OrderRequest(
        client_order_id=ClientOrderId("a.2"),
        intent_id=IntentId("a"),
        contract=OATS,
        side=Side.SELL,
        quantity=1,
        order_type=OrderType.STOP_LIMIT,
        limit_price=Decimal("348.75"),
        stop_price=Decimal("349.00"),
        oca_group="a.exits",
        parent_id=ClientOrderId("a.1"),
        transmit=False,
    )
    ticket = OrderTicket.from_request(request)
    assert (ticket.order_type, ticket.stop_price) == ("STP LMT", Decimal("349.00"))
    assert (ticket.oca_group, ticket.parent_id, ticket.transmit) == ("a.exits", "a.1", False)
    assert ticket.to_request(OATS) == request
