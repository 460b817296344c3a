"""`OrderTicket`: an order as it travels to the exchange, in the exchange's own terms (IB's
order type and time-in-force codes as text), so the exchange can refuse what it does not do."""

from __future__ import annotations

from decimal import Decimal

import attrs

from .._contracts import ContractSpec
from .._enums import OrderType, Side, TimeInForce
from .._ids import ClientOrderId, IntentId
from .._orders import OrderRequest


@attrs.frozen(kw_only=True)
class OrderTicket:
    """One new order at the exchange's door; ``order_ref`` carries Hydra's intent id."""

    client_order_id: ClientOrderId
    order_ref: IntentId
    symbol: str
    side: Side
    quantity: int
    order_type: str  # "LMT"; anything else ("MKT", "STP LMT" …) is refused with code 201
    limit_price: Decimal | None
    stop_price: Decimal | None = None
    time_in_force: str = "DAY"

    @classmethod
    def from_request(cls, request: OrderRequest) -> OrderTicket:
        return cls(
            client_order_id=request.client_order_id,
            order_ref=request.intent_id,
            symbol=request.contract.symbol,
            side=request.side,
            quantity=request.quantity,
            order_type=request.order_type.value,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            time_in_force=request.time_in_force.value,
        )

    def to_request(self, contract: ContractSpec) -> OrderRequest:
        """The Hydra request for an accepted ticket (accepted tickets are valid requests)."""
        assert self.limit_price is not None
        return OrderRequest(
            client_order_id=self.client_order_id,
            intent_id=self.order_ref,
            contract=contract,
            side=self.side,
            quantity=self.quantity,
            order_type=OrderType(self.order_type),
            limit_price=self.limit_price,
            stop_price=self.stop_price,
            time_in_force=TimeInForce(self.time_in_force),
        )
