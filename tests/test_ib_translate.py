"""The translator's rules: state only from statuses and executions, one fill per execution
reported when it arrives and its commission once when its report comes, FILLED never ahead of
its fill, refusals reject only unacknowledged orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
from ib_async import CommissionReport, Execution
from ib_async import Fill as IBFill
from ib_async import Future as IBFuture
from structlog.testing import capture_logs

from hydra._contracts import OATS
from hydra._enums import OrderStatus, Side
from hydra._ids import BrokerOrderId, ClientOrderId, ExecutionId, IntentId
from hydra._orders import OrderRequest
from hydra.brokers import (
    AccountValueChanged,
    BrokerErrorReported,
    CommissionReported,
    ConnectionLost,
    ConnectionRestored,
    FillReported,
    OrderAcknowledged,
    OrderStatusChanged,
    PositionChanged,
)
from hydra.ib._seen import (
    AccountValueSeen,
    CommissionSeen,
    ErrorSeen,
    ExecutionSeen,
    PositionSeen,
    StatusSeen,
)
from hydra.ib._translate import Translator

CID = ClientOrderId("int-a.0")
TIME = dt.datetime(2025, 3, 3, 15, 0, tzinfo=dt.UTC)


def placed(quantity: int = 2) -> Translator:
    translator = Translator()
    request = OrderRequest(client_order_id=CID, intent_id=IntentId("int-a"), contract=OATS,
                           side=Side.BUY, quantity=quantity, limit_price=Decimal("340.25"))
    translator.placed(request, 7)
    return translator


def status(text: str, filled: int = 0, remaining: int = 2, error_code: int = 0) -> StatusSeen:
    return StatusSeen(client_order_id=CID, order_id=7, status=text, filled=filled,
                      remaining=remaining, quantity=2, error_code=error_code)


def ib_fill(exec_id: str, shares: int = 1) -> IBFill:
    execution = Execution(execId=exec_id, time=TIME, side="BOT", shares=shares, price=340.25,
                          orderId=7, clientId=1, orderRef=CID)
    return IBFill(IBFuture(symbol="ZO"), execution, CommissionReport(), TIME)


def execution(exec_id: str, shares: int = 1) -> ExecutionSeen:
    return ExecutionSeen(client_order_id=CID, fill=ib_fill(exec_id, shares))


def commission(exec_id: str, shares: int = 1, amount: float | None = None) -> CommissionSeen:
    return CommissionSeen(client_order_id=CID, fill=ib_fill(exec_id, shares),
                          commission=1.25 * shares if amount is None else amount)


def reported(exec_id: str, amount: str) -> CommissionReported:
    return CommissionReported(execution_id=ExecutionId(exec_id), client_order_id=CID,
                              commission=Decimal(amount))


def changed(state: OrderStatus, filled: int, remaining: int, **rest: object) -> OrderStatusChanged:
    return OrderStatusChanged(client_order_id=CID, status=state, filled=filled,
                              remaining=remaining, **rest)  # type: ignore[arg-type]


def test_submitted_acknowledges_once_and_repeats_say_nothing() -> None:
    """The first Submitted is an ack and WORKING; the same status again is silent."""
    t = placed()
    assert t.translate(status("Submitted")) == [
        OrderAcknowledged(client_order_id=CID, broker_order_id=BrokerOrderId(7)),
        changed(OrderStatus.WORKING, 0, 2),
    ]
    assert t.translate(status("Submitted")) == []
    assert t.translate(status("PendingCancel")) == []


def test_filled_waits_for_its_fills_and_each_execution_counts_once() -> None:
    """FILLED comes after the fills it counts (not their commissions); a repeated execution
    id is dropped."""
    t = placed()
    t.translate(status("Submitted"))
    [first] = t.translate(execution("e1"))
    assert isinstance(first, FillReported) and first.fill.commission == 0
    assert t.translate(status("Filled", filled=2, remaining=0)) == []
    assert t.translate(execution("e1")) == []
    second, done = t.translate(execution("e2"))
    assert isinstance(second, FillReported) and second.fill.execution_id == "e2"
    assert done == changed(OrderStatus.FILLED, 2, 0)
    assert t.translate(status("Filled", filled=2, remaining=0)) == []


def test_a_fill_is_reported_on_its_execution_and_its_commission_on_its_report() -> None:
    """The execution is a FillReported with commission 0 at once; its commission report is
    one CommissionReported for that execution."""
    t = placed(quantity=1)
    t.translate(status("Submitted"))
    [fill] = t.translate(execution("e1"))
    assert fill == FillReported(fill=attrs.evolve(fill.fill, commission=Decimal(0)))
    assert (fill.fill.client_order_id, fill.fill.price, fill.fill.quantity) == (
        CID, Decimal("340.25"), 1
    )
    assert t.awaiting_commission == {"e1"}
    assert t.translate(commission("e1")) == [reported("e1", "1.25")]
    assert t.awaiting_commission == set()


def test_a_fill_whose_commission_report_never_comes_is_reported_and_filled() -> None:
    """Without any commission report, the fill and FILLED are both reported; the execution
    stays awaiting its commission."""
    t = placed(quantity=1)
    t.translate(status("Submitted"))
    assert t.translate(status("Filled", filled=1, remaining=0)) == []
    fill, done = t.translate(execution("e1"))
    assert isinstance(fill, FillReported) and fill.fill.quantity == 1
    assert done == changed(OrderStatus.FILLED, 1, 0)
    assert t.awaiting_commission == {"e1"}


def test_a_repeated_commission_report_is_reported_once() -> None:
    """A commission report that comes again (ib_async replays them after a reconnect) says
    nothing the second time, nor does its execution again."""
    t = placed()
    t.translate(execution("e1"))
    assert t.translate(commission("e1")) == [reported("e1", "1.25")]
    assert t.translate(commission("e1")) == []
    assert t.translate(execution("e1")) == []


def test_a_commission_report_of_an_unseen_execution_reports_the_fill_first() -> None:
    """An execution known only from its commission report (made while disconnected) is a
    FillReported with commission 0, then its CommissionReported, then the status it freed."""
    t = placed(quantity=2)
    t.translate(status("Submitted"))
    assert t.translate(status("Filled", filled=2, remaining=0)) == []
    fill, commissioned, done = t.translate(commission("e1", shares=2))
    assert isinstance(fill, FillReported)
    assert (fill.fill.execution_id, fill.fill.quantity, fill.fill.commission) == ("e1", 2, 0)
    assert commissioned == reported("e1", "2.5")
    assert done == changed(OrderStatus.FILLED, 2, 0)
    assert t.translate(execution("e1", shares=2)) == []


def test_an_unset_commission_waits_for_a_real_one() -> None:
    """A report with IB's unset double is no commission: nothing is sent, and a later report
    with an amount is; a zero commission is reported as zero."""
    t = placed()
    t.translate(execution("e1"))
    assert t.translate(commission("e1", amount=1.7976931348623157e308)) == []
    assert t.awaiting_commission == {"e1"}
    assert t.translate(commission("e1", amount=2.5)) == [reported("e1", "2.5")]
    t.translate(execution("e2"))
    assert t.translate(commission("e2", amount=0.0)) == [reported("e2", "0")]


def test_statuses_made_up_from_errors_are_ignored() -> None:
    """ib_async's own Cancelled / ValidationError after an error change nothing."""
    t = placed()
    t.translate(status("Submitted"))
    assert t.translate(status("Cancelled", error_code=201)) == []
    assert t.translate(status("ValidationError", error_code=399)) == []


def test_notices_change_no_order() -> None:
    """2104 / 2106 say nothing; 399 on a working order is an error event, not a status."""
    t = placed()
    t.translate(status("Submitted"))
    assert t.translate(ErrorSeen(req_id=-1, code=2104, message="farm OK")) == []
    assert t.translate(ErrorSeen(req_id=-1, code=2106, message="farm OK")) == []
    assert t.translate(ErrorSeen(req_id=7, code=399, message="warning")) == [
        BrokerErrorReported(code=399, message="warning", client_order_id=CID)
    ]
    assert t.translate(status("Submitted")) == []


def test_refusal_rejects_only_an_unacknowledged_order() -> None:
    """110 before any status rejects the order; after Submitted it is only an error event."""
    t = placed()
    assert t.translate(ErrorSeen(req_id=7, code=110, message="off tick")) == [
        changed(OrderStatus.REJECTED, 0, 2, code=110, reason="off tick")
    ]
    assert t.translate(status("Inactive")) == []
    working = placed()
    working.translate(status("Submitted"))
    [event] = working.translate(ErrorSeen(req_id=7, code=110, message="off tick"))
    assert isinstance(event, BrokerErrorReported)


def test_inactive_is_rejected_with_the_last_error_code() -> None:
    """Inactive after an error is REJECTED with that error's code and text."""
    t = placed()
    t.translate(status("PreSubmitted"))
    t.translate(ErrorSeen(req_id=7, code=201, message="Order rejected - reason:margin"))
    [event] = t.translate(status("Inactive"))
    assert event == changed(OrderStatus.REJECTED, 0, 2, code=201,
                            reason="Order rejected - reason:margin")


def test_connection_codes_are_connection_events() -> None:
    """1100 is ConnectionLost; 1101 and 1102 are ConnectionRestored; 326 is left to connect."""
    t = Translator()
    [lost] = t.translate(ErrorSeen(req_id=-1, code=1100, message="lost"))
    assert isinstance(lost, ConnectionLost) and "1100" in lost.reason
    assert t.translate(ErrorSeen(req_id=-1, code=1101, message="")) == [ConnectionRestored()]
    assert t.translate(ErrorSeen(req_id=-1, code=1102, message="")) == [ConnectionRestored()]
    assert t.translate(ErrorSeen(req_id=-1, code=326, message="in use")) == []


def test_positions_and_account_values() -> None:
    """Positions need the contract's point value and keep their month; only known USD account
    keys pass."""
    t = placed()
    assert t.translate(PositionSeen(symbol="ZO", quantity=2, average_cost=17012.5)) == [
        PositionChanged(symbol="ZO", quantity=2, average_price=Decimal("340.25"))
    ]
    assert t.translate(PositionSeen(symbol="XX", quantity=1, average_cost=1.0)) == []
    assert t.translate(PositionSeen(symbol="ZO", expiry="202607", quantity=-1,
                                    average_cost=17012.5)) == [
        PositionChanged(symbol="ZO", expiry="202607", quantity=-1,
                        average_price=Decimal("340.25"))
    ]
    assert t.translate(AccountValueSeen(key="NetLiquidation", value="100.50",
                                        currency="USD")) == [
        AccountValueChanged(key="NetLiquidation", value=Decimal("100.50"))
    ]
    assert t.translate(AccountValueSeen(key="AccountCode", value="DU1", currency="")) == []
    assert t.translate(AccountValueSeen(key="NetLiquidation", value="1", currency="BASE")) == []


def test_a_message_refused_over_ibs_rate_is_an_error_event_and_a_warning() -> None:
    """Error 100 names no order (the refused message may be a cancel): a BrokerErrorReported
    without an order, and one warning line, so the operator hears of it."""
    with capture_logs() as logs:
        events = Translator().translate(ErrorSeen(req_id=-1, code=100, message="max rate"))
    assert events == [BrokerErrorReported(code=100, message="max rate", client_order_id=None)]
    assert [(e["event"], e["log_level"]) for e in logs] == [("ib_message_refused", "warning")]
