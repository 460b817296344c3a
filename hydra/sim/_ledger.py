"""The simulated account: positions, executions and cash, in dollars. Pure and synchronous."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from .._contracts import ContractSpec
from .._core._positions import Position
from .._orders import Fill
from ..brokers import AccountSnapshot
from ._params import MarketKey, market_key


class Ledger:
    """Every execution of the account and the positions and cash they add up to.

    Futures pay no notional: cash moves by realized PnL and commission only.
    """

    def __init__(self, *, starting_cash: Decimal) -> None:
        self._starting_cash = starting_cash
        self._positions: dict[MarketKey, Position] = {}  # per contract and delivery month
        self._fills: list[Fill] = []

    def record(self, fill: Fill, contract: ContractSpec) -> Position:
        """Book one execution; returns the position after it."""
        key = market_key(contract)
        position = self._positions.get(key, Position(contract=contract))
        position = position.after_fill(
            side=fill.side, quantity=fill.quantity, price=fill.price, commission=fill.commission
        )
        self._positions[key] = position
        self._fills.append(fill)
        return position

    def positions(self) -> tuple[Position, ...]:
        """One position per contract (and delivery month) traded, flat ones included, by symbol
        and month."""
        return tuple(self._positions[key] for key in sorted(self._positions, key=_by_month))

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

    def account(self, marks: Mapping[MarketKey, Decimal]) -> AccountSnapshot:
        """The account with open positions marked at ``marks`` (price per market)."""
        unrealized = sum(
            (p.unrealized_pnl(marks[key]) for key, p in self._positions.items()), Decimal(0)
        )
        cash = self.cash
        return AccountSnapshot(
            cash=cash,
            realized=self.realized,
            unrealized=unrealized,
            equity=cash + unrealized,
            commission=self.commission,
        )


def _by_month(key: MarketKey) -> tuple[str, str]:
    symbol, expiry = key
    return symbol, expiry or ""
