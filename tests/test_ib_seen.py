"""Callback snapshots copy what ib_async's mutable objects say at the moment of the call."""

from __future__ import annotations

import datetime as dt

from ib_async import CommissionReport, Execution, Order, Ticker, Trade, TradeLogEntry
from ib_async import Fill as IBFill
from ib_async import Future as IBFuture
from ib_async import OrderStatus as IBOrderStatus
from ib_async import Position as IBPosition

from hydra.ib._seen import CommissionSeen, ExecutionSeen, PositionSeen, QuotesSeen, StatusSeen

TIME = dt.datetime(2025, 3, 3, 15, 0, tzinfo=dt.UTC)


def test_status_snapshot_survives_later_changes() -> None:
    """A StatusSeen keeps the status it saw when ib_async later changes the trade."""
    trade = Trade(IBFuture(symbol="ZO"), Order(orderId=4, clientId=1, totalQuantity=2,
                                               orderRef="int-a.0"),
                  IBOrderStatus(status="Submitted", remaining=2))
    seen = StatusSeen.from_ib_trade(trade)
    trade.orderStatus.status = "Filled"
    assert (seen.status, seen.client_order_id, seen.order_id, seen.error_code) == (
        "Submitted", "int-a.0", 4, 0
    )


def test_status_made_up_from_an_error_keeps_its_code() -> None:
    """ib_async's status after an error carries the error code in its log entry."""
    trade = Trade(IBFuture(symbol="ZO"), Order(orderId=4, clientId=1),
                  IBOrderStatus(status="Cancelled"))
    entry = TradeLogEntry(time=TIME, status="Cancelled", message="Error 201", errorCode=201)
    trade.log.append(entry)
    assert StatusSeen.from_ib_trade(trade).error_code == 201
    assert StatusSeen.from_ib_trade(trade).client_order_id == "ib.1.4"


def test_execution_and_commission_name_the_order_as_the_translator_keys_it() -> None:
    """An execution without an orderRef takes its order's; the commission report names the
    same client order id and execution id, with the report's amount."""
    trade = Trade(IBFuture(symbol="ZO"), Order(orderId=4, clientId=1, orderRef="int-a.0"),
                  IBOrderStatus(status="Filled"))
    execution = Execution(execId="e1", time=TIME, side="BOT", shares=1, price=340.25,
                          orderId=4, clientId=1, orderRef="")
    fill = IBFill(IBFuture(symbol="ZO"), execution, CommissionReport(), TIME)
    seen = ExecutionSeen.from_ib_fill(trade, fill)
    report = CommissionSeen.from_ib_report(trade, fill, CommissionReport(execId="e1",
                                                                        commission=2.5))
    assert (seen.client_order_id, seen.execution_id) == ("int-a.0", "e1")
    assert (report.client_order_id, report.execution_id, report.commission) == (
        "int-a.0", "e1", 2.5
    )


def test_position_snapshot_carries_the_contract_month() -> None:
    """A position in July oats (IB's 20260714) is seen as ZO 202607."""
    july = IBFuture(symbol="ZO", lastTradeDateOrContractMonth="20260714")
    seen = PositionSeen.from_ib_position(IBPosition("DU1", july, 3.0, 17012.5))
    assert (seen.symbol, seen.expiry, seen.quantity, seen.average_cost) == (
        "ZO", "202607", 3, 17012.5
    )


def test_quote_updates_name_each_month_of_a_symbol() -> None:
    """Ticker updates for two months of ZO stamp two markets, not one symbol."""
    tickers = [Ticker(contract=IBFuture(symbol="ZO", lastTradeDateOrContractMonth=month))
               for month in ("202609", "20260714", "")]
    assert QuotesSeen.from_ib_tickers(tickers).markets == (
        ("ZO", None), ("ZO", "202607"), ("ZO", "202609")
    )
