"""One IB order, from the client's placeOrder to the open and completed orders that describe it
back, and to the exchange's ticket: the fields the gateway keeps, in IB's terms. Pure."""

from __future__ import annotations

from decimal import Decimal

import attrs

from .._contracts import ContractSpec
from .._enums import Side
from .._ids import ClientOrderId, IntentId
from ..sim import OrderTicket

UNPRICED = ("MKT", "STP")
"""IB order types with no limit price."""


@attrs.frozen(kw_only=True)
class IBOrder:
    """An order as a client sends it (``quantity`` as sent: whole contracts once accepted)."""

    action: str  # BUY or SELL
    quantity: Decimal | None
    order_type: str
    limit_price: Decimal | None = None
    aux_price: Decimal | None = None  # a stop order's trigger
    tif: str = ""
    oca_group: str = ""
    account: str = ""
    order_ref: str = ""
    transmit: bool = True
    parent_id: int = 0  # the client's order id of the parent, 0 for none

    @property
    def contracts(self) -> int:
        """The quantity of an accepted order (see `refusal`)."""
        assert self.quantity is not None
        return int(self.quantity)

    @property
    def signed(self) -> int:
        return self.contracts if self.action == "BUY" else -self.contracts

    def refusal(self) -> str | None:
        """Why IB rejects the order outright (no side, not a whole positive quantity)."""
        if self.action not in ("BUY", "SELL"):
            return f"action {self.action!r} is not BUY or SELL"
        q = self.quantity
        if q is None or q != q.to_integral_value() or q <= 0:
            return f"quantity {q} is not a whole number of contracts"
        return None

    def off_tick(self, tick: Decimal) -> bool:
        """Whether a price of the order is off the tick grid."""
        return any(p is not None and p % tick for p in (self.limit_price, self.aux_price))

    def accepted(self, *, account: str) -> IBOrder:
        """The order as IB keeps it: day order unless told, the account filled in."""
        return attrs.evolve(self, tif=self.tif or "DAY", account=self.account or account)

    def modified(self, change: IBOrder) -> IBOrder:
        """The order after a modification: new price, quantity and orderRef where given."""
        return attrs.evolve(
            self,
            quantity=change.quantity or self.quantity,
            limit_price=change.limit_price,
            aux_price=change.aux_price if change.aux_price is not None else self.aux_price,
            order_ref=change.order_ref or self.order_ref,
        )

    def ticket(
        self, key: ClientOrderId, contract: ContractSpec, *, parent: ClientOrderId | None
    ) -> OrderTicket:
        """The exchange's ticket for the accepted order (``parent``: the parent's key)."""
        stop = self.order_type in ("STP", "STP LMT")
        return OrderTicket(
            client_order_id=key,
            order_ref=IntentId(self.order_ref or key),
            symbol=contract.symbol,
            expiry=contract.expiry,
            side=Side(self.action),
            quantity=self.contracts,
            order_type=self.order_type,
            limit_price=None if self.order_type in UNPRICED else self.limit_price,
            stop_price=self.aux_price if stop else None,
            time_in_force=self.tif,
            # IB makes a bracket's children one OCA group: the first to fill cancels the rest
            oca_group=self.oca_group or (f"{parent}:children" if parent is not None else None),
            parent_id=parent,
            transmit=self.transmit,
        )
