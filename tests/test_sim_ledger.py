"""The simulated account: positions, executions, cash and equity in dollars."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hydra._contracts import LEAN_HOGS, OATS
from hydra._enums import Side
from hydra._ids import ClientOrderId, ExecutionId
from hydra._orders import Fill
from hydra.sim._ledger import Ledger

START = dt.datetime(2025, 3, 3, 14, 30, tzinfo=dt.UTC)


def fill(n: int, side: Side, price: str, symbol: str = "ZO", quantity: int = 1) -> Fill:
    return Fill(
        execution_id=ExecutionId(f"x{n}"),
        client_order_id=ClientOrderId(f"o{n}"),
        symbol=symbol,
        side=side,
        price=Decimal(price),
        quantity=quantity,
        commission=Decimal("2.50") * quantity,
        time=START + dt.timedelta(seconds=n),
    )


def test_oats_round_trip_of_one_point_realizes_fifty_dollars() -> None:
    """Buy 1 ZO at 350.00, sell at 351.00: $50 realized, $5 commission, cash +$45."""
    ledger = Ledger(starting_cash=Decimal(1000))
    ledger.record(fill(1, Side.BUY, "350.00"), OATS)
    ledger.record(fill(2, Side.SELL, "351.00"), OATS)
    account = ledger.account({("ZO", None): Decimal("351.00")})
    assert (account.realized, account.commission, account.cash) == (
        Decimal(50),
        Decimal(5),
        Decimal(1045),
    )


def test_open_position_is_marked_at_the_mark() -> None:
    """Long 2 HE from 85.000 marked at 85.100 is $80 unrealized in the equity."""
    ledger = Ledger(starting_cash=Decimal(1000))
    ledger.record(fill(1, Side.BUY, "85.000", "HE", quantity=2), LEAN_HOGS)
    account = ledger.account({("HE", None): Decimal("85.100")})
    assert account.unrealized == Decimal(80)
    assert account.equity == Decimal(1000) - Decimal(5) + Decimal(80)


def test_executions_since_filters_by_time_and_positions_are_by_symbol() -> None:
    """executions_since keeps fills at or after the time; positions come sorted by symbol."""
    ledger = Ledger(starting_cash=Decimal(1000))
    ledger.record(fill(1, Side.BUY, "350.00"), OATS)
    ledger.record(fill(2, Side.SELL, "85.000", "HE"), LEAN_HOGS)
    since = ledger.executions_since(START + dt.timedelta(seconds=2))
    assert [f.execution_id for f in since] == ["x2"]
    assert [(p.contract.symbol, p.quantity) for p in ledger.positions()] == [("HE", -1), ("ZO", 1)]
