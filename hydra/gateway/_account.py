"""Account replies built from the simulator's snapshots: values, portfolio, positions, summary.
Pure functions; money in dollars, average cost per contract (price × point value) as IB gives it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from .._contracts import ContractSpec
from .._core._positions import Position
from ..brokers import AccountSnapshot
from ._catalog import Catalog
from ._margins import Margin
from ._replies import AccountValue, PortfolioValue, PositionReport

_CENTS = Decimal("0.01")


def account_values(snapshot: AccountSnapshot, margin: Margin) -> dict[str, Decimal]:
    """IB's account value keys, from one snapshot and the margin the positions take (a
    futures account: buying power is the funds available, cushion the excess liquidity's
    share of the equity)."""
    equity = snapshot.equity
    available = equity - margin.initial
    excess = equity - margin.maintenance
    return {
        "NetLiquidation": equity,
        "EquityWithLoanValue": equity,
        "TotalCashValue": snapshot.cash,
        "CashBalance": snapshot.cash,
        "InitMarginReq": margin.initial,
        "MaintMarginReq": margin.maintenance,
        "FullInitMarginReq": margin.initial,
        "FullMaintMarginReq": margin.maintenance,
        "AvailableFunds": available,
        "FullAvailableFunds": available,
        "ExcessLiquidity": excess,
        "FullExcessLiquidity": excess,
        "Cushion": excess / equity if equity else Decimal(0),
        "BuyingPower": available,
        "RealizedPnL": snapshot.realized,
        "UnrealizedPnL": snapshot.unrealized,
    }


def money(value: Decimal) -> str:
    return str(value.quantize(_CENTS))


def account_value_replies(
    snapshot: AccountSnapshot, margin: Margin, account: str
) -> list[AccountValue]:
    values = [
        AccountValue(key=key, value=money(value), currency=snapshot.currency, account=account)
        for key, value in account_values(snapshot, margin).items()
    ]
    values.append(AccountValue(key="AccountCode", value=account, currency="", account=account))
    return values


def position_replies(
    positions: tuple[Position, ...], catalog: Catalog, account: str
) -> list[PositionReport]:
    replies = []
    for position in positions:
        listing = catalog.for_contract(position.contract)
        if listing is not None:
            replies.append(
                PositionReport(
                    account=account,
                    contract=listing.wire,
                    position=position.quantity,
                    average_cost=position.average_price * position.contract.point_value,
                )
            )
    return replies


def portfolio_replies(
    positions: tuple[Position, ...],
    marks: Mapping[ContractSpec, Decimal],
    catalog: Catalog,
    account: str,
) -> list[PortfolioValue]:
    """Each position in a listed contract, marked at ``marks`` (price per market contract)."""
    replies = []
    for position in positions:
        listing = catalog.for_contract(position.contract)
        if listing is None or position.contract not in marks:
            continue
        mark = marks[position.contract]
        replies.append(
            PortfolioValue(
                contract=listing.wire,
                position=position.quantity,
                market_price=mark,
                market_value=position.quantity * mark * position.contract.point_value,
                average_cost=position.average_price * position.contract.point_value,
                unrealized_pnl=position.unrealized_pnl(mark),
                realized_pnl=position.realized_pnl,
                account=account,
            )
        )
    return replies
