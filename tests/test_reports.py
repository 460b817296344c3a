"""An intent's report says why it ended short of its quantity."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from hydra._enums import OrderStatus, OrderType, Side
from hydra._ids import ClientOrderId, ExecutionId, IntentId
from hydra._orders import Fill
from hydra._reports import ChildOrderReport, ExecutionReport, price_text

AT = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)


def _child(n: int, status: OrderStatus, *, filled: int = 0, reason: str | None = None,
           denied_by: tuple[str, ...] = ()) -> ChildOrderReport:
    key = ClientOrderId(f"int-1.{n}")
    fills = (Fill(execution_id=ExecutionId(f"x{n}"), client_order_id=key, symbol="ZO",
                  side=Side.BUY, price=Decimal("350.25"), quantity=filled, time=AT),
             ) if filled else ()
    return ChildOrderReport(client_order_id=key, order_type=OrderType.LIMIT, quantity=5,
                            prices=(Decimal("350.25"),), status=status, fills=fills,
                            reason=reason, denied_by=denied_by)


def _report(*children: ChildOrderReport, quantity: int = 10) -> ExecutionReport:
    return ExecutionReport(intent_id=IntentId("int-1"), symbol="ZO", side=Side.BUY,
                           quantity=quantity, arrival_mid=Decimal("350.125"),
                           predicted_bps=None, children=children)


def test_a_filled_intent_gives_no_end_reason() -> None:
    """Every lot filled: nothing to explain, whatever an order said on the way."""
    report = _report(_child(1, OrderStatus.FILLED, filled=5, reason="ladder ended at 350.25"),
                     _child(2, OrderStatus.FILLED, filled=5))
    assert report.end_reason is None


def test_the_last_order_with_a_reason_explains_a_short_intent() -> None:
    """A TWAP whose last slice met the guard says so, not what an earlier slice said."""
    report = _report(_child(1, OrderStatus.CANCELLED, filled=2, reason="ladder ended at 350.00"),
                     _child(2, OrderStatus.CANCELLED, filled=1,
                            reason="slippage guard reached at 351.75"))
    assert report.end_reason == "slippage guard reached at 351.75"


def test_a_risk_block_comes_before_any_other_reason() -> None:
    """A blocked order (not one deferred while the link was down) explains the intent."""
    report = _report(_child(1, OrderStatus.CANCELLED, filled=2, reason="ladder ended at 350.00"),
                     _child(2, OrderStatus.BLOCKED, reason="position 12 exceeds limit 10",
                            denied_by=("position",)),
                     _child(3, OrderStatus.REJECTED, reason="201: Order rejected"))
    assert report.end_reason == "position 12 exceeds limit 10"


def test_a_stop_explains_a_short_intent_after_a_risk_block_and_before_its_orders() -> None:
    """A cancel or kill that stopped the worker between orders is why it ended short, not
    the last order's own end; a risk block still comes first; a filled intent needs none."""
    ended = _child(1, OrderStatus.CANCELLED, filled=2, reason="ladder ended at 350.00")
    stopped = attrs.evolve(_report(ended), ended_by="stopped: intent int-q cancelled")
    assert stopped.end_reason == "stopped: intent int-q cancelled"
    assert _report(ended).end_reason == "ladder ended at 350.00"
    blocked = _child(2, OrderStatus.BLOCKED, reason="position 12 exceeds limit 10",
                     denied_by=("position",))
    assert attrs.evolve(_report(ended, blocked), ended_by="stopped: x").end_reason == (
        "position 12 exceeds limit 10")
    filled = attrs.evolve(_report(_child(1, OrderStatus.FILLED, filled=10)), ended_by="stopped: x")
    assert filled.end_reason is None


def test_a_rejection_keeps_its_code_and_text() -> None:
    """The broker's rejection, as the order recorded it."""
    report = _report(_child(1, OrderStatus.REJECTED, reason="201: Order rejected - margin"),
                     quantity=5)
    assert report.end_reason == "201: Order rejected - margin"


def test_the_finished_line_shows_price_fill_shortfall_and_reason() -> None:
    """intent_finished shows filled of quantity, the average price, shortfall to two
    decimals and why it ended short."""
    report = attrs.evolve(_report(_child(1, OrderStatus.CANCELLED, filled=2,
                                         reason="stopped: kill switch: drill")),
                          predicted_bps=Decimal("1.23456"))
    assert report.log_fields() == {
        "side": "BUY", "symbol": "ZO", "filled": "2/10", "average_price": "350.25",
        "shortfall_bps": "3.57", "predicted_bps": "1.23", "reason": "stopped: kill switch: drill",
    }
    unfilled = _report(_child(1, OrderStatus.BLOCKED, reason="trading_state HALTED",
                              denied_by=("trading_state",)))
    assert unfilled.log_fields() | {"reason": None} == {
        "side": "BUY", "symbol": "ZO", "filled": "0/10", "average_price": None,
        "shortfall_bps": None, "predicted_bps": None, "reason": None}
    assert unfilled.log_fields()["reason"] == "trading_state HALTED"


def test_prices_show_two_to_four_decimals() -> None:
    """Whole ticks keep two decimals, an average is cut at four."""
    assert [price_text(Decimal(p)) for p in ("350", "350.5", "350.125", "350.33333")] == [
        "350.00", "350.50", "350.125", "350.3333"]
