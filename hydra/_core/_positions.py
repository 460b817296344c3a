"""Position accounting: signed quantity, average open price, realized and unrealized PnL.

Pure functions over frozen values. Money is in dollars: price differences times the contract's
point value (multiplier / price magnifier).
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from .._contracts import ContractSpec
from .._enums import Side


@attrs.frozen(kw_only=True)
class Position:
    """An open position in one contract. ``quantity`` is signed: long > 0, short < 0."""

    contract: ContractSpec
    quantity: int = 0
    average_price: Decimal = Decimal(0)  # of the open quantity; 0 when flat
    realized_pnl: Decimal = Decimal(0)  # dollars, before commission
    commission: Decimal = Decimal(0)  # dollars paid so far

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        """Dollars the open quantity would make if closed at ``mark``."""
        return (mark - self.average_price) * self.quantity * self.contract.point_value

    def market_value(self, mark: Decimal) -> Decimal:
        """Absolute dollar value of the open quantity at ``mark``."""
        return abs(self.quantity) * mark * self.contract.point_value

    def after_fill(
        self, *, side: Side, quantity: int, price: Decimal, commission: Decimal = Decimal(0)
    ) -> Position:
        """The position after one fill: closes against the open side first, opens the rest."""
        signed = side.sign * quantity
        closing = 0 if self.quantity * signed >= 0 else min(abs(self.quantity), quantity)
        gain_per_contract = (price - self.average_price) * _sign(self.quantity)
        realized = gain_per_contract * closing * self.contract.point_value
        new_quantity = self.quantity + signed
        if new_quantity == 0:
            average = Decimal(0)
        elif closing == 0:
            average = (self.average_price * self.quantity + price * signed) / new_quantity
        elif _sign(new_quantity) == _sign(self.quantity):
            average = self.average_price
        else:
            average = price  # flipped through flat: the rest opened at this fill's price
        return attrs.evolve(
            self,
            quantity=new_quantity,
            average_price=average,
            realized_pnl=self.realized_pnl + realized,
            commission=self.commission + commission,
        )


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)
