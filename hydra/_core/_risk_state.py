"""What the risk book must remember across a restart, as one journaled value.

The trading state's causes (the kill, each latched breaker with its reason) survive until an
explicit resume, whatever the day. The day's baseline (start-of-day equity, peak equity, worst
trade, realized PnL and commission per symbol) survives a restart on the same trading day only:
a new trading day starts from the account as it then is.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from .._contracts import ContractSpec
from .._enums import TradingState
from .._errors import InvalidValueError
from ._positions import Position
from ._risk_checks import AccountState


@attrs.frozen(kw_only=True)
class Latched:
    """One cause of a non-ACTIVE trading state: a breaker, the kill switch, an anomaly."""

    cause: str  # a breaker's name, "kill_switch", "strategy_halted", "broker_anomaly", "manual"
    state: TradingState
    reason: str


@attrs.frozen(kw_only=True)
class DayPosition:
    """A position as the day's baseline remembers it."""

    quantity: int
    average_price: Decimal
    realized_pnl: Decimal
    commission: Decimal


@attrs.frozen(kw_only=True)
class RiskSnapshot:
    trading_day: str
    start_of_day_equity: Decimal
    peak_equity: Decimal
    worst_trade_loss: Decimal
    positions: Mapping[str, DayPosition]
    latched: tuple[Latched, ...]

    @classmethod
    def of(cls, account: AccountState, *, day: str, latched: tuple[Latched, ...]) -> RiskSnapshot:
        return cls(
            trading_day=day, start_of_day_equity=account.start_of_day_equity,
            peak_equity=account.peak_equity, worst_trade_loss=account.worst_trade_loss,
            positions={s: DayPosition(quantity=p.quantity, average_price=p.average_price,
                                      realized_pnl=p.realized_pnl, commission=p.commission)
                       for s, p in account.positions.items()},
            latched=latched,
        )

    def to_details(self) -> dict[str, Any]:
        """Plain JSON-able values, for a journal note."""
        return {
            "trading_day": self.trading_day,
            "start_of_day_equity": str(self.start_of_day_equity),
            "peak_equity": str(self.peak_equity),
            "worst_trade_loss": str(self.worst_trade_loss),
            "positions": {s: {k: str(v) for k, v in attrs.asdict(p).items()}
                          for s, p in self.positions.items()},
            "latched": [{"cause": x.cause, "state": x.state.value, "reason": x.reason}
                        for x in self.latched],
        }

    @classmethod
    def from_details(cls, details: Mapping[str, Any]) -> RiskSnapshot:
        """The snapshot a journal note holds; a malformed one is an `InvalidValueError`."""
        try:
            return cls(
                trading_day=str(details["trading_day"]),
                start_of_day_equity=Decimal(details["start_of_day_equity"]),
                peak_equity=Decimal(details["peak_equity"]),
                worst_trade_loss=Decimal(details["worst_trade_loss"]),
                positions={s: DayPosition(quantity=int(p["quantity"]),
                                          average_price=Decimal(p["average_price"]),
                                          realized_pnl=Decimal(p["realized_pnl"]),
                                          commission=Decimal(p["commission"]))
                           for s, p in details["positions"].items()},
                latched=tuple(Latched(cause=x["cause"], state=TradingState(x["state"]),
                                      reason=x["reason"]) for x in details["latched"]),
            )
        except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as e:
            raise InvalidValueError("risk_state", dict(details), f"is not a risk snapshot ({e})"
                                    ) from e


def restored_account(
    snapshot: RiskSnapshot | None, *, day: str, account: AccountState,
    contracts: Mapping[str, ContractSpec],
) -> AccountState:
    """``account`` (today's, from the broker) with the day's baseline of ``snapshot`` when it
    is of trading day ``day``. A position whose quantity the broker confirms keeps its
    remembered average price; the day's realized PnL and commission are kept either way."""
    if snapshot is None or snapshot.trading_day != day:
        return account
    positions = dict(account.positions)
    for symbol, remembered in snapshot.positions.items():
        held = positions.get(symbol)
        contract = held.contract if held is not None else contracts.get(symbol)
        if contract is None:
            continue
        base = held or Position(contract=contract)
        if base.quantity == remembered.quantity:
            base = attrs.evolve(base, average_price=remembered.average_price)
        positions[symbol] = attrs.evolve(base, realized_pnl=remembered.realized_pnl,
                                         commission=remembered.commission)
    return attrs.evolve(account, start_of_day_equity=snapshot.start_of_day_equity,
                        peak_equity=max(snapshot.peak_equity, snapshot.start_of_day_equity),
                        worst_trade_loss=snapshot.worst_trade_loss, positions=positions)
