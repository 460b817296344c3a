"""What the risk book must remember across a restart, as one journaled value.

The trading state's causes (the kill, each latched breaker with its reason) survive until an
explicit resume, whatever the day. The day's baseline (start-of-day equity, peak equity, worst
trade, realized PnL and commission per symbol) survives a restart on the same trading day only,
with every fill and commission journaled after it replayed on it: a new trading day starts
from the account as it then is.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from .._contracts import ContractSpec
from .._enums import TradingState
from .._errors import InvalidValueError
from .._ids import ExecutionId
from .._orders import Fill
from ._positions import Position
from ._risk_checks import AccountState, trade_pnl


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


@attrs.frozen(kw_only=True)
class Charge:
    """A commission the journal holds for execution ``execution_id`` of ``symbol`` (a
    ``commission`` note)."""

    symbol: str
    commission: Decimal
    execution_id: ExecutionId


Booked = Fill | Charge
"""What the journal holds after a snapshot that changes the day's account, in order."""


def restored_account(
    snapshot: RiskSnapshot | None, *, day: str, account: AccountState,
    contracts: Mapping[str, ContractSpec], since: Sequence[Booked] = (),
) -> AccountState:
    """The account a restart on trading day ``day`` starts from.

    Without a ``snapshot`` of ``day``, ``account`` (today's, from the broker). With one, the
    day as the journal left it: the snapshot's baseline and positions with every fill and
    commission journaled ``since`` it replayed on them in order, so a crash between a fill and
    the next snapshot loses nothing of the day's PnL. The positions are then the journal's,
    marked at ``account``'s marks (the broker's mids): the restart's resync books what the
    journal never heard and takes the broker's quantities (`RiskBook`, a restart's
    `Resync`)."""
    if snapshot is None or snapshot.trading_day != day:
        return account
    positions = {symbol: Position(contract=contract, quantity=p.quantity,
                                  average_price=p.average_price, realized_pnl=p.realized_pnl,
                                  commission=p.commission)
                 for symbol, p in snapshot.positions.items()
                 if (contract := contracts.get(symbol)) is not None}
    marks = {s: p.average_price for s, p in positions.items() if p.quantity}
    restored = AccountState(start_of_day_equity=snapshot.start_of_day_equity,
                            peak_equity=max(snapshot.peak_equity, snapshot.start_of_day_equity),
                            worst_trade_loss=snapshot.worst_trade_loss, positions=positions,
                            marks={**marks, **account.marks})
    trades: dict[ExecutionId, Decimal] = {}  # each replayed fill's PnL as a single trade
    for booked in since:
        before = restored
        restored = _replayed(restored, booked, contracts)
        restored = _trade_judged(before, restored, booked, trades)
    return functools.reduce(lambda a, mark: a.with_mark(*mark), account.marks.items(), restored)


def _replayed(account: AccountState, booked: Booked, contracts: Mapping[str, ContractSpec],
              ) -> AccountState:
    """``account`` after one journaled fill or commission, as the book booked it then."""
    held = account.positions.get(booked.symbol)
    contract = held.contract if held is not None else contracts.get(booked.symbol)
    if isinstance(booked, Charge):
        if held is None:
            return account
        charged = attrs.evolve(held, commission=held.commission + booked.commission)
        return attrs.evolve(account, positions={**account.positions, booked.symbol: charged})
    if contract is None or not (booked.price.is_finite() and booked.price > 0):
        return account  # never booked: an anomaly's price, or a contract Hydra cannot value
    return account.after_fill(booked, contract=contract).with_mark(booked.symbol, booked.price)


def _trade_judged(before: AccountState, after: AccountState, booked: Booked,
                  trades: dict[ExecutionId, Decimal]) -> AccountState:
    """``after`` with the worst trade the book judged then: a fill's trade PnL is kept, and a
    commission reported after its fill adds to that trade's loss (`RiskBook`'s rule)."""
    if isinstance(booked, Fill):
        held, was = after.positions.get(booked.symbol), before.positions.get(booked.symbol)
        if held is not None and after is not before:
            trades[booked.execution_id] = trade_pnl(was, held, booked.commission)
        return after
    trade = trades.get(booked.execution_id)
    if trade is None:
        return after
    trade -= booked.commission
    trades[booked.execution_id] = trade
    return after.with_trade_loss(-trade)
