"""Tests for the pure risk checks: circuit breakers, pre-trade checks and the account state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hydra._contracts import LEAN_HOGS, OATS
from hydra._core._positions import Position
from hydra._core._risk_checks import (
    NO_WORKING,
    AccountState,
    Denial,
    check_order,
    check_price_collar,
    tripped_breakers,
)
from hydra._enums import Side, TradingState
from hydra._errors import InvalidValueError
from hydra._ids import ClientOrderId, ExecutionId, IntentId
from hydra._orders import Fill, OrderRequest
from hydra._settings import Distance, RiskLimits
from tests.strategies import sides

D = Decimal
NAN = D("NaN")
LIMITS = RiskLimits(
    max_order_quantity=10,
    max_order_notional=D(300_000),
    max_position=20,
    price_collar=Distance.bps(200),  # 8.00 around a reference of 400
    max_open_orders=3,
    max_orders_per_minute=5,
    daily_loss_limit=D(10_000),
    max_drawdown=D(20_000),
    max_position_value=D(1_000_000),
    max_single_trade_loss=D(5_000),
)
FLAT = AccountState(start_of_day_equity=D(1_000_000))
REFERENCE = D(400)


def _request(side: Side = Side.BUY, quantity: int = 1, price: str = "400") -> OrderRequest:
    return OrderRequest(
        client_order_id=ClientOrderId("int-1.1"),
        intent_id=IntentId("int-1"),
        contract=OATS,
        side=side,
        quantity=quantity,
        limit_price=D(price),
    )


def _holding(
    quantity: int, *, average: str = "400", mark: Any = REFERENCE, **kw: Any
) -> AccountState:
    """An account holding ``quantity`` oats (signed) bought at ``average``, marked at ``mark``."""
    position = Position(contract=OATS, quantity=quantity, average_price=D(average))
    return attrs.evolve(FLAT, positions={"ZO": position}, marks={"ZO": mark}, **kw)


def _fields(
    request: OrderRequest,
    account: AccountState = FLAT,
    *,
    limits: RiskLimits = LIMITS,
    reference_price: Decimal | None = REFERENCE,
    now: float = 100.0,
) -> set[str]:
    denials = check_order(
        request, account=account, limits=limits, reference_price=reference_price, now=now,
        working=NO_WORKING,
    )
    return {denial.field for denial in denials}


def _breakers(account: AccountState, limits: RiskLimits = LIMITS) -> set[str]:
    return {denial.field for denial in tripped_breakers(account, limits=limits)}


# Allowed.


def test_ordinary_order_is_allowed() -> None:
    """A small order at the reference price on a healthy account has no denials."""
    assert _fields(_request(), _holding(5)) == set()


def test_order_exactly_at_every_limit_is_allowed() -> None:
    """Limits are inclusive: quantity, notional, position, collar edge and counts all pass."""
    account = _holding(10, open_order_count=2, recent_order_times=(50.0, 60.0, 70.0, 80.0))
    limits = attrs.evolve(LIMITS, max_order_notional=D(204_000))
    assert _fields(_request(quantity=10, price="408"), account, limits=limits) == set()


# Pre-trade denials, one each.


def test_order_quantity_above_limit_is_denied() -> None:
    """An order for 11 against a limit of 10 is denied on order_quantity alone."""
    assert _fields(_request(quantity=11)) == {"order_quantity"}


def test_order_notional_above_limit_is_denied() -> None:
    """6 oats at 400 cents are $120,000, above a $100,000 notional limit."""
    limits = attrs.evolve(LIMITS, max_order_notional=D(100_000))
    assert _fields(_request(quantity=6), limits=limits) == {"order_notional"}


def test_projected_position_above_limit_is_denied() -> None:
    """Long 15 buying 6 would be 21 contracts, above the limit of 20."""
    assert _fields(_request(quantity=6), _holding(15)) == {"position"}


def test_projected_short_position_above_limit_is_denied() -> None:
    """Short 15 selling 6 would be short 21, above the limit of 20 in absolute terms."""
    assert _fields(_request(Side.SELL, quantity=6), _holding(-15)) == {"position"}


def test_reducing_a_position_already_over_the_limit_is_allowed() -> None:
    """After the limit was lowered, selling 2 of a 25 long is allowed; buying 1 more is not."""
    account = _holding(25)
    assert _fields(_request(Side.SELL, quantity=2), account) == set()
    assert _fields(_request(Side.BUY, quantity=1), account) == {"position"}


def test_limit_price_outside_the_collar_is_denied() -> None:
    """408.25 is 8.25 from a 400 reference, outside a 200 bps (8.00) collar."""
    assert _fields(_request(price="408.25")) == {"distance_from_reference"}
    assert _fields(_request(Side.SELL, price="391.75")) == {"distance_from_reference"}


@pytest.mark.parametrize("reference", [None, NAN, D("sNaN"), D("Infinity"), D(0), D(-400)])
def test_unusable_reference_price_fails_closed(reference: Decimal | None) -> None:
    """A missing, NaN, infinite, zero or negative reference price is a denial, not a pass."""
    assert _fields(_request(), reference_price=reference) == {"reference_price"}


def test_float_reference_price_fails_closed() -> None:
    """Prices are never floats: a float reference is refused like a missing one."""
    denial = check_price_collar(_request(), limits=LIMITS, reference_price=400.0)  # type: ignore[arg-type]
    assert denial is not None and denial.field == "reference_price"


def test_too_many_open_orders_is_denied() -> None:
    """With 3 orders working and a limit of 3, a fourth is denied."""
    assert _fields(_request(), attrs.evolve(FLAT, open_order_count=3)) == {"open_orders"}


def test_order_rate_above_limit_is_denied() -> None:
    """Five orders in the last 60 s and a limit of 5 per minute deny a sixth."""
    account = attrs.evolve(FLAT, recent_order_times=(41.0, 50.0, 60.0, 70.0, 99.0))
    assert _fields(_request(), account, now=100.0) == {"orders_per_minute"}


def test_orders_older_than_a_minute_do_not_count() -> None:
    """An order exactly 60 s ago has left the window, so the sixth order is allowed."""
    account = attrs.evolve(FLAT, recent_order_times=(40.0, 50.0, 60.0, 70.0, 99.0))
    assert _fields(_request(), account, now=100.0) == set()


def test_halted_denies_every_order() -> None:
    """HALTED denies even an order that would reduce the position."""
    account = _holding(10, trading_state=TradingState.HALTED)
    assert _fields(_request(Side.SELL, quantity=5), account) == {"trading_state"}


def test_reducing_allows_a_reduce_and_a_close() -> None:
    """REDUCING allows selling part or all of a long."""
    account = _holding(10, trading_state=TradingState.REDUCING)
    assert _fields(_request(Side.SELL, quantity=5), account) == set()
    assert _fields(_request(Side.SELL, quantity=10), account) == set()


def test_reducing_denies_a_flip_and_an_increase() -> None:
    """REDUCING denies selling through flat to short, and buying more of a long."""
    account = _holding(5, trading_state=TradingState.REDUCING)
    assert _fields(_request(Side.SELL, quantity=6), account) == {"trading_state"}
    assert _fields(_request(Side.BUY, quantity=1), account) == {"trading_state"}


def test_reducing_denies_any_order_when_flat() -> None:
    """With no position there is nothing to reduce, so REDUCING denies both sides."""
    account = attrs.evolve(FLAT, trading_state=TradingState.REDUCING)
    assert _fields(_request(Side.BUY), account) == {"trading_state"}
    assert _fields(_request(Side.SELL), account) == {"trading_state"}


def test_every_denial_is_reported_at_once() -> None:
    """A request failing several checks gets every denial, not just the first."""
    account = _holding(15, open_order_count=3, trading_state=TradingState.HALTED)
    fields = _fields(_request(quantity=11, price="420"), account)
    assert fields == {
        "trading_state", "order_quantity", "position", "distance_from_reference", "open_orders"
    }


# Circuit breakers.


def test_healthy_account_trips_no_breaker() -> None:
    """A flat account at its start-of-day equity trips nothing."""
    assert tripped_breakers(FLAT, limits=LIMITS) == ()


def test_daily_loss_at_limit_trips() -> None:
    """Long 10 oats from 400 marked at 380 loses $10,000, which reaches the limit."""
    (denial,) = tripped_breakers(_holding(10, mark=D(380)), limits=LIMITS)
    assert denial == Denial(field="daily_loss", value=D(10_000), limit=D(10_000))
    assert denial.message == "daily_loss 10000 reaches limit 10000"


def test_daily_loss_counts_realized_and_commission() -> None:
    """$9,000 realized loss plus $1,500 commission is a $10,500 loss, over the limit."""
    position = Position(contract=OATS, realized_pnl=D(-9_000), commission=D(1_500))
    account = attrs.evolve(FLAT, positions={"ZO": position})
    (denial,) = tripped_breakers(account, limits=LIMITS)
    assert str(denial) == "daily_loss 10500 exceeds limit 10000"


def test_drawdown_from_peak_trips() -> None:
    """Equity of 1,010,000 after a peak of 1,030,000 is a 20,000 drawdown: tripped."""
    position = Position(contract=OATS, realized_pnl=D(10_000))
    account = attrs.evolve(FLAT, positions={"ZO": position}, peak_equity=D(1_030_000))
    assert account.equity == D(1_010_000)
    assert _breakers(account) == {"drawdown"}


def test_position_value_sums_across_symbols() -> None:
    """Oats worth $200,000 and hogs worth $170,000 exceed $300,000 together, not alone."""
    hogs = Position(contract=LEAN_HOGS, quantity=-5, average_price=D(85))
    account = attrs.evolve(
        _holding(10), positions={**_holding(10).positions, "HE": hogs}, marks={"ZO": 400, "HE": 85}
    )
    assert account.position_value == D(370_000)
    assert _breakers(account, attrs.evolve(LIMITS, max_position_value=D(300_000))) == {
        "position_value"
    }
    assert _breakers(account, attrs.evolve(LIMITS, max_position_value=D(370_000))) == set()


def test_single_trade_loss_trips() -> None:
    """A worst trade of $5,000 today reaches the single-trade limit."""
    assert _breakers(attrs.evolve(FLAT, worst_trade_loss=D(5_000))) == {"single_trade_loss"}


def test_check_order_leaves_breakers_to_the_trading_state() -> None:
    """A tripped breaker does not deny by itself: the risk book latches it into the trading
    state, so an order that reduces the position can still pass in REDUCING."""
    assert _fields(_request(), attrs.evolve(FLAT, worst_trade_loss=D(6_000))) == set()


# Fail closed on unknown numbers.


def test_missing_mark_for_an_open_position_fails_closed() -> None:
    """With no mark for a held contract, PnL and value are unknown, so breakers trip."""
    account = attrs.evolve(_holding(10), marks={})
    assert _breakers(account) == {"daily_loss", "drawdown", "position_value"}


def test_float_nan_mark_fails_closed() -> None:
    """A float NaN mark becomes Decimal NaN and trips the breakers rather than passing."""
    account = _holding(10, mark=float("nan"))
    assert account.marks["ZO"].is_nan()
    assert _breakers(account) == {"daily_loss", "drawdown", "position_value"}


def test_infinite_equity_fails_closed_without_raising() -> None:
    """Infinite start-of-day and peak equity deny instead of raising on Infinity - Infinity."""
    inf = D("Infinity")
    account = AccountState(start_of_day_equity=inf, peak_equity=inf)
    assert _breakers(account) == {"drawdown"}


def test_nan_denial_message_says_not_finite() -> None:
    """A NaN measurement reads as not a finite number, with the limit."""
    denial = Denial(field="drawdown", value=NAN, limit=D(20_000))
    assert denial.message == "drawdown NaN is not a finite number (limit 20000)"


def test_state_denial_message_names_what_is_allowed() -> None:
    """A trading-state denial says the state and what it allows."""
    account = attrs.evolve(FLAT, trading_state=TradingState.HALTED)
    (denial,) = check_order(
        _request(), account=account, limits=LIMITS, reference_price=D(400), now=0.0,
        working=NO_WORKING,
    )
    assert denial.message == "trading_state HALTED violates limit: no new orders"


NANS = st.sampled_from([D("NaN"), D("sNaN"), float("nan"), D("Infinity"), float("-inf")])


def _nan_start(a: AccountState, nan: Any) -> AccountState:
    return attrs.evolve(a, start_of_day_equity=nan)


def _nan_peak(a: AccountState, nan: Any) -> AccountState:
    return attrs.evolve(a, peak_equity=nan)


def _nan_worst_trade(a: AccountState, nan: Any) -> AccountState:
    return attrs.evolve(a, worst_trade_loss=nan)


def _nan_mark(a: AccountState, nan: Any) -> AccountState:
    return attrs.evolve(a, marks={**a.marks, "ZO": nan})


def _nan_other_mark(a: AccountState, nan: Any) -> AccountState:
    return attrs.evolve(a, marks={**a.marks, "HE": nan})


def _nan_position(field: str) -> Callable[[AccountState, Any], AccountState]:
    def inject(a: AccountState, nan: Any) -> AccountState:
        changes: dict[str, Any] = {field: D(str(nan))}
        position = attrs.evolve(a.positions["ZO"], **changes)
        return attrs.evolve(a, positions={"ZO": position})

    return inject


INJECTIONS = st.sampled_from([
    _nan_start, _nan_peak, _nan_worst_trade, _nan_mark, _nan_other_mark,
    _nan_position("average_price"), _nan_position("realized_pnl"), _nan_position("commission"),
])


@given(
    quantity=st.integers(min_value=-20, max_value=20),
    mark_ticks=st.integers(min_value=1, max_value=8000),
    side=sides,
    inject=INJECTIONS,
    nan=NANS,
)
@example(quantity=0, mark_ticks=1600, side=Side.BUY, inject=_nan_position("commission"),
         nan=D("NaN"))
def test_risk_checks_fail_closed_on_nan(
    quantity: int,
    mark_ticks: int,
    side: Side,
    inject: Callable[[AccountState, Any], AccountState],
    nan: Any,
) -> None:
    """A NaN or infinity in any account number or mark trips a breaker (which the risk book
    latches, so the order is refused by the trading state)."""
    account = inject(_holding(quantity, mark=OATS.tick_size * mark_ticks), nan)
    assert tripped_breakers(account, limits=LIMITS)


@given(side=sides, nan=st.sampled_from([float("nan"), float("inf")]), in_times=st.booleans())
def test_order_rate_fails_closed_on_nan(side: Side, nan: float, in_times: bool) -> None:
    """A NaN order time or NaN ``now`` denies on the order rate instead of counting nothing."""
    account = attrs.evolve(FLAT, recent_order_times=(nan,) if in_times else ())
    now = 100.0 if in_times else nan
    assert "orders_per_minute" in _fields(_request(side), account, now=now)


# Keeping the account up to date.


def _fill(side: Side, quantity: int, price: str, commission: str = "0") -> Fill:
    return Fill(
        execution_id=ExecutionId("e"), client_order_id=ClientOrderId("int-1.1"), symbol="ZO",
        side=side, price=D(price), quantity=quantity, commission=D(commission),
        time=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
    )


def test_peak_defaults_to_start_of_day_equity() -> None:
    """A fresh account's peak is its start-of-day equity."""
    assert FLAT.peak_equity == D(1_000_000)
    assert FLAT.drawdown == 0


def test_fills_update_position_and_worst_trade_loss() -> None:
    """Buying 10 at 400 and selling at 390 loses $5,000 plus $25 commission on that trade."""
    account = FLAT.after_fill(_fill(Side.BUY, 10, "400"), contract=OATS)
    account = account.after_fill(_fill(Side.SELL, 10, "390", "25"), contract=OATS)
    assert account.quantity("ZO") == 0
    assert account.worst_trade_loss == D(5_025)
    assert account.daily_pnl == D(-5_025)
    assert _breakers(account) == {"single_trade_loss"}


def test_new_equity_high_raises_the_peak() -> None:
    """A mark that lifts equity to a new high raises the peak; a later drop is a drawdown."""
    account = FLAT.after_fill(_fill(Side.BUY, 10, "400"), contract=OATS)
    account = account.with_mark("ZO", D(420))
    assert account.peak_equity == D(1_010_000)
    account = account.with_mark("ZO", D(400))
    assert (account.peak_equity, account.drawdown) == (D(1_010_000), D(10_000))


def test_fill_for_another_contract_is_refused() -> None:
    """A fill is applied only with the contract it is for."""
    with pytest.raises(InvalidValueError, match="contract"):
        FLAT.after_fill(_fill(Side.BUY, 1, "400"), contract=LEAN_HOGS)


def test_sent_orders_are_counted_and_old_ones_pruned() -> None:
    """Sending records the time, drops times over a minute old and counts one more open order."""
    account = attrs.evolve(FLAT, recent_order_times=(10.0, 50.0))
    account = account.with_order_sent(now=100.0)
    assert account.recent_order_times == (50.0, 100.0)
    assert account.open_order_count == 1
    assert account.with_order_closed().open_order_count == 0
    assert FLAT.with_order_closed().open_order_count == 0
