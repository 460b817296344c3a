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
    expiry: str | None = None  # delivery month "YYYYMM"; None: the product's default market
    side: Side
    quantity: int
    # "LMT" or "STP LMT" (Hydra's types), or "MKT" / "STP" from other clients (no limit price:
    # they walk the book as far as the market's protection); anything else is refused (201)
    order_type: str
    limit_price: Decimal | None
    stop_price: Decimal | None = None  # the trigger of a stop order (IB's auxPrice)
    time_in_force: str = "DAY"
    oca_group: str | None = None  # one-cancels-all group (IB ocaType 1)
    parent_id: ClientOrderId | None = None  # held until this order has filled completely
    transmit: bool = True  # False: staged until its bracket is transmitted

    @classmethod
    def from_request(cls, request: OrderRequest) -> OrderTicket:
        return cls(
            client_order_id=request.client_order_id,
            order_ref=request.intent_id,
            symbol=request.contract.symbol,
            expiry=request.contract.expiry,
            side=request.side,
            quantity=request.quantity,
            order_type=request.order_type.value,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            time_in_force=request.time_in_force.value,
            oca_group=request.oca_group,
            parent_id=request.parent_id,
            transmit=request.transmit,
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
            oca_group=self.oca_group,
            parent_id=self.parent_id,
            transmit=self.transmit,
        )
