"""The simulated account: positions, executions and cash, in dollars. Pure and synchronous."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from .._contracts import ContractSpec
from .._orders import Fill
from .._positions import Position
from ..brokers import AccountSnapshot


class Ledger:
    """Every execution of the account and the positions and cash they add up to.

    Futures pay no notional: cash moves by realized PnL and commission only.
    """

    def __init__(self, *, starting_cash: Decimal) -> None:
        self._starting_cash = starting_cash
        self._positions: dict[str, Position] = {}
        self._fills: list[Fill] = []

    def record(self, fill: Fill, contract: ContractSpec) -> Position:
        """Book one execution; returns the position after it."""
        position = self._positions.get(fill.symbol, Position(contract=contract))
        position = position.after_fill(
            side=fill.side, quantity=fill.quantity, price=fill.price, commission=fill.commission
        )
        self._positions[fill.symbol] = position
        self._fills.append(fill)
        return position

    def positions(self) -> tuple[Position, ...]:
        """One position per contract traded, flat ones included, by symbol."""
        return tuple(self._positions[symbol] for symbol in sorted(self._positions))

    def executions_since(self, time: dt.datetime) -> tuple[Fill, ...]:
        return tuple(fill for fill in self._fills if fill.time >= time)

    @property
    def realized(self) -> Decimal:
        return sum((p.realized_pnl for p in self._positions.values()), Decimal(0))

    @property
    def commission(self) -> Decimal:
        return sum((p.commission for p in self._positions.values()), Decimal(0))

    @property
    def cash(self) -> Decimal:
        return self._starting_cash + self.realized - self.commission

    def account(self, marks: Mapping[str, Decimal]) -> AccountSnapshot:
        """The account with open positions marked at ``marks`` (price per symbol)."""
        unrealized = sum(
            (p.unrealized_pnl(marks[symbol]) for symbol, p in self._positions.items()),
            Decimal(0),
        )
        cash = self.cash
        return AccountSnapshot(
            cash=cash,
            realized=self.realized,
            unrealized=unrealized,
            equity=cash + unrealized,
            commission=self.commission,
        )
