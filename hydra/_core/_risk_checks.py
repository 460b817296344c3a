"""Risk checks: circuit breakers on the account and pre-trade checks on one order request.

Pure functions over frozen values, with no I/O: the risk book (`hydra._core._risk_book`) keeps an
`AccountState` and the working orders up to date from broker events, feeds both to `check_order`
with each `OrderRequest`, and acts on the answer. Each check returns a `Denial` (field, measured
value, violated limit) or ``None``. Position checks count *exposure*: the position plus every
working order on the same side, as if each filled in full (`Working`).

The checks fail closed: whatever they cannot compute (a NaN or infinite number, a missing mark, a
missing or non-positive reference price) is a denial, never a pass. Decimal NaN raises on ``<``,
so every number is tested with ``is_finite()`` before it is compared.
"""

from __future__ import annotations

import enum
import math
import types
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeGuard

import attrs

from .._contracts import ContractSpec
from .._enums import TradingState
from .._errors import InvalidValueError
from .._orders import Fill, OrderRequest
from .._settings import RiskLimits
from .._validate import non_negative_int, to_decimal
from ._positions import Position

ORDER_RATE_WINDOW = 60.0
"""Seconds of order history the order-rate check counts (orders per minute)."""

_UNKNOWN = Decimal("NaN")


@attrs.frozen(kw_only=True)
class Denial:
    """Why an order was refused: ``field`` measured ``value``, which violates ``limit``."""

    field: str
    value: Any
    limit: Any

    @property
    def message(self) -> str:
        """One readable line, e.g. ``daily_loss 10500 exceeds limit 10000``."""
        value, limit = _show(self.value), _show(self.limit)
        if _is_number(self.value) and not _is_finite(self.value):
            return f"{self.field} {value} is not a finite number (limit {limit})"
        if _is_number(self.value) and _is_number(self.limit):
            verb = "exceeds" if Decimal(self.value) > Decimal(self.limit) else "reaches"
            return f"{self.field} {value} {verb} limit {limit}"
        return f"{self.field} {value} violates limit: {limit}"

    def __str__(self) -> str:
        return self.message


def _is_number(value: object) -> TypeGuard[Decimal | int | float]:
    return isinstance(value, Decimal | int | float) and not isinstance(value, bool)


def _is_finite(value: Decimal | int | float) -> bool:
    return value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)


def _show(value: object) -> str:
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


def _usable_price(price: object) -> TypeGuard[Decimal]:
    """True for a finite Decimal above zero: the only kind of price a check will compute with."""
    return isinstance(price, Decimal) and price.is_finite() and price > 0


def _as_decimal(value: Any) -> Decimal:
    if value is None:
        return _UNKNOWN
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else Decimal(str(value))
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return Decimal(value)
    raise InvalidValueError("marks", value, "must map each symbol to a number")


def _marks(value: Mapping[str, Any]) -> Mapping[str, Decimal]:
    return types.MappingProxyType({symbol: _as_decimal(p) for symbol, p in value.items()})


def _positions(value: Mapping[str, Position]) -> Mapping[str, Position]:
    return types.MappingProxyType(dict(value))


def _times(value: Iterable[float]) -> tuple[float, ...]:
    return tuple(value)


def _total(values: Iterable[Decimal]) -> Decimal:
    """The sum, or NaN when any term is not finite (Infinity - Infinity would raise)."""
    terms = list(values)
    if not all(term.is_finite() for term in terms):
        return _UNKNOWN
    return sum(terms, Decimal(0))


def _larger(a: Decimal, b: Decimal) -> Decimal:
    return max(a, b) if a.is_finite() and b.is_finite() else _UNKNOWN


def _position_pnl(position: Position, mark: Decimal | None) -> Decimal:
    """Today's realized PnL net of commission plus unrealized PnL at ``mark``; NaN if unknown."""
    numbers = (position.average_price, position.realized_pnl, position.commission)
    if not all(number.is_finite() for number in numbers):
        return _UNKNOWN
    closed = position.realized_pnl - position.commission
    if position.quantity == 0:
        return closed
    if not _usable_price(mark):
        return _UNKNOWN
    return closed + position.unrealized_pnl(mark)


def _market_value(position: Position, mark: Decimal | None) -> Decimal:
    return position.market_value(mark) if _usable_price(mark) else _UNKNOWN


@attrs.frozen(kw_only=True)
class AccountState:
    """The account as the risk checks read it, at one moment.

    Positions hold *today's* trading: a position carried overnight enters the day at the previous
    settlement price (futures are marked to market daily), with zero realized PnL and commission.
    Equity, today's PnL and drawdown are derived from positions and marks, never stored twice.
    A derived number is NaN when any input to it is unknown, and the checks deny on NaN.
    """

    start_of_day_equity: Decimal = attrs.field(converter=to_decimal)
    peak_equity: Decimal = attrs.field(converter=to_decimal)  # highest equity seen
    positions: Mapping[str, Position] = attrs.field(factory=dict, converter=_positions)
    marks: Mapping[str, Decimal] = attrs.field(factory=dict, converter=_marks)  # last prices
    worst_trade_loss: Decimal = attrs.field(default=Decimal(0), converter=to_decimal)  # today
    open_order_count: int = attrs.field(default=0, validator=non_negative_int)
    recent_order_times: tuple[float, ...] = attrs.field(default=(), converter=_times)  # Trio s
    trading_state: TradingState = attrs.field(
        default=TradingState.ACTIVE, validator=attrs.validators.instance_of(TradingState)
    )

    @peak_equity.default
    def _peak_from_start(self) -> Decimal:
        return self.start_of_day_equity

    def quantity(self, symbol: str) -> int:
        """The signed position in ``symbol``; 0 when there is none."""
        position = self.positions.get(symbol)
        return 0 if position is None else position.quantity

    @property
    def daily_pnl(self) -> Decimal:
        """Today's realized plus unrealized PnL, net of commission, in dollars."""
        return _total(_position_pnl(p, self.marks.get(s)) for s, p in self.positions.items())

    @property
    def equity(self) -> Decimal:
        return _total((self.start_of_day_equity, self.daily_pnl))

    @property
    def daily_loss(self) -> Decimal:
        """Today's loss as a positive number of dollars; 0 on a winning day."""
        pnl = self.daily_pnl
        return max(Decimal(0), -pnl) if pnl.is_finite() else _UNKNOWN

    @property
    def drawdown(self) -> Decimal:
        """How far equity is below the highest equity seen (the peak, or equity if higher)."""
        equity, peak = self.equity, self.peak_equity
        return _larger(peak - equity, Decimal(0)) if peak.is_finite() else _UNKNOWN

    @property
    def position_value(self) -> Decimal:
        """Gross dollar value of all open positions at their marks; NaN if any mark is unusable."""
        if not all(_usable_price(mark) for mark in self.marks.values()):
            return _UNKNOWN
        open_positions = ((s, p) for s, p in self.positions.items() if p.quantity != 0)
        return _total(_market_value(p, self.marks.get(s)) for s, p in open_positions)

    def with_mark(self, symbol: str, price: Decimal) -> AccountState:
        """This state with ``symbol`` last traded at ``price``; a new equity high is the peak."""
        return attrs.evolve(self, marks={**self.marks, symbol: price})._with_peak()

    def after_fill(self, fill: Fill, *, contract: ContractSpec) -> AccountState:
        """This state after one execution of ``contract``: position, worst trade loss, peak."""
        if fill.symbol != contract.symbol:
            raise InvalidValueError("contract", contract.symbol, f"is not {fill.symbol!r}")
        before = self.positions.get(fill.symbol, Position(contract=contract))
        after = before.after_fill(
            side=fill.side, quantity=fill.quantity, price=fill.price, commission=fill.commission
        )
        return attrs.evolve(
            self, positions={**self.positions, fill.symbol: after}
        ).with_trade_loss(-trade_pnl(before, after, fill.commission))._with_peak()

    def with_trade_loss(self, loss: Decimal) -> AccountState:
        """This state with a single trade that lost ``loss`` today (NaN when unknown)."""
        return attrs.evolve(self, worst_trade_loss=_larger(self.worst_trade_loss, loss))

    def with_order_sent(self, *, now: float) -> AccountState:
        """This state after one more order went to the broker at Trio time ``now``."""
        cutoff = now - ORDER_RATE_WINDOW
        kept = tuple(t for t in self.recent_order_times if not t <= cutoff)  # keeps NaN
        return attrs.evolve(
            self, recent_order_times=(*kept, now), open_order_count=self.open_order_count + 1
        )

    def with_order_closed(self) -> AccountState:
        """This state after one working order reached a final status."""
        return attrs.evolve(self, open_order_count=max(self.open_order_count - 1, 0))

    def _with_peak(self) -> AccountState:
        equity, peak = self.equity, self.peak_equity
        if equity.is_finite() and peak.is_finite() and equity > peak:
            return attrs.evolve(self, peak_equity=equity)
        return self


def trade_pnl(before: Position | None, after: Position, commission: Decimal) -> Decimal:
    """One execution's PnL as a single trade: what it realized (``before`` → ``after``, the
    position of its symbol), net of its ``commission``."""
    realized = Decimal(0) if before is None else before.realized_pnl
    return after.realized_pnl - realized - commission


def _above(field: str, value: Decimal | int, limit: Decimal | int) -> Denial | None:
    """A denial when ``value`` is above ``limit`` or is not a finite number."""
    if not _is_finite(value) or value > limit:
        return Denial(field=field, value=value, limit=limit)
    return None


def _at_least(field: str, value: Decimal, limit: Decimal) -> Denial | None:
    """A denial when ``value`` reaches ``limit`` or is not a finite number."""
    if not value.is_finite() or value >= limit:
        return Denial(field=field, value=value, limit=limit)
    return None


# Circuit breakers: on the account alone.


def check_daily_loss(account: AccountState, *, limits: RiskLimits) -> Denial | None:
    """Trips when today's loss (realized + unrealized, net of commission) reaches the limit."""
    return _at_least("daily_loss", account.daily_loss, limits.daily_loss_limit)


def check_drawdown(account: AccountState, *, limits: RiskLimits) -> Denial | None:
    """Trips when equity has fallen ``max_drawdown`` or more below its peak."""
    return _at_least("drawdown", account.drawdown, limits.max_drawdown)


def check_position_value(account: AccountState, *, limits: RiskLimits) -> Denial | None:
    """Trips when the gross value of all open positions is above ``max_position_value``."""
    return _above("position_value", account.position_value, limits.max_position_value)


def check_single_trade_loss(account: AccountState, *, limits: RiskLimits) -> Denial | None:
    """Trips when today's worst single trade lost ``max_single_trade_loss`` or more."""
    return _at_least("single_trade_loss", account.worst_trade_loss, limits.max_single_trade_loss)


_BREAKERS: tuple[Callable[..., Denial | None], ...] = (
    check_daily_loss,
    check_drawdown,
    check_position_value,
    check_single_trade_loss,
)


def tripped_breakers(account: AccountState, *, limits: RiskLimits) -> tuple[Denial, ...]:
    """Every circuit breaker the account has tripped; empty when none."""
    return _found(breaker(account, limits=limits) for breaker in _BREAKERS)


# Pre-trade checks: on one order request, in the light of the account.


@attrs.frozen(kw_only=True)
class Working:
    """Contracts still to fill in one symbol's working orders, by side (0 and 0: none)."""

    buy: int = attrs.field(default=0, validator=non_negative_int)
    sell: int = attrs.field(default=0, validator=non_negative_int)

    def on_side(self, signed_quantity: int) -> int:
        """What is working on the side of an order of ``signed_quantity``."""
        return self.buy if signed_quantity > 0 else self.sell


NO_WORKING = Working()


def reduces(current: int, signed_quantity: int, *, working: Working = NO_WORKING) -> bool:
    """True when the order shrinks ``|current|`` without going through flat to the other side,
    even if every working order on its side fills first."""
    ahead = working.on_side(signed_quantity)
    return current * signed_quantity < 0 and ahead + abs(signed_quantity) <= abs(current)


def check_order_quantity(request: OrderRequest, *, limits: RiskLimits) -> Denial | None:
    return _above("order_quantity", request.quantity, limits.max_order_quantity)


def check_order_notional(request: OrderRequest, *, limits: RiskLimits) -> Denial | None:
    """The order's dollar value at its limit price must not be above ``max_order_notional``."""
    return _above("order_notional", request.notional, limits.max_order_notional)


def check_position_limit(
    request: OrderRequest, *, account: AccountState, limits: RiskLimits, working: Working
) -> Denial | None:
    """The worst-case position on the order's side (the position, every working order on that
    side and this one all filled) must be within ``max_position``, unless the order leaves that
    worst case no further from flat than it already is (a limit lowered under a position).
    """
    return check_exposure(request.contract.symbol, request.signed_quantity, account=account,
                          limits=limits, working=working)


def check_exposure(
    symbol: str, signed_quantity: int, *, account: AccountState, limits: RiskLimits,
    working: Working,
) -> Denial | None:
    """`check_position_limit` for ``signed_quantity`` more of ``symbol``: also how an intent
    that can never fit is refused before anything is sent."""
    sign = 1 if signed_quantity > 0 else -1
    before = account.quantity(symbol) + sign * working.on_side(signed_quantity)
    after = before + signed_quantity
    if abs(after) <= limits.max_position or abs(after) <= abs(before):
        return None
    return Denial(field="position", value=abs(after), limit=limits.max_position)


def check_price_collar(
    request: OrderRequest, *, limits: RiskLimits, reference_price: Decimal | None
) -> Denial | None:
    """The limit price must lie within the collar around a usable reference price."""
    if not _usable_price(reference_price):
        return Denial(
            field="reference_price", value=reference_price, limit="a finite Decimal above zero"
        )
    collar = limits.price_collar.in_price(
        reference=reference_price, tick_size=request.contract.tick_size
    )
    distance = abs(request.limit_price - reference_price)
    return _above("distance_from_reference", distance, collar)


def check_open_orders(account: AccountState, *, limits: RiskLimits) -> Denial | None:
    """With this order, no more than ``max_open_orders`` may be working."""
    return _above("open_orders", account.open_order_count + 1, limits.max_open_orders)


def check_order_rate(account: AccountState, *, limits: RiskLimits, now: float) -> Denial | None:
    """With this order, no more than ``max_orders_per_minute`` in the last 60 s up to ``now``."""
    times = account.recent_order_times
    if not math.isfinite(now) or not all(math.isfinite(t) for t in times):
        return Denial(field="orders_per_minute", value=math.nan, limit=limits.max_orders_per_minute)
    count = sum(1 for t in times if t > now - ORDER_RATE_WINDOW)
    return _above("orders_per_minute", count + 1, limits.max_orders_per_minute)


_STATE_ALLOWS: Mapping[TradingState, str] = types.MappingProxyType({
    TradingState.REDUCING: "only orders that reduce the position without flipping it",
    TradingState.HALTED: "no new orders",
})


def check_trading_state(
    request: OrderRequest, *, account: AccountState, working: Working = NO_WORKING,
    flattening: bool = False,
) -> Denial | None:
    """ACTIVE allows every order; REDUCING only orders that reduce |position| (counting the
    working orders on their side); HALTED none, except reducing ones when ``flattening`` (the
    trader closes the position explicitly)."""
    state = account.trading_state
    if state is TradingState.ACTIVE:
        return None
    current = account.quantity(request.contract.symbol)
    reducing = reduces(current, request.signed_quantity, working=working)
    if reducing and (state is TradingState.REDUCING or flattening):
        return None
    return Denial(field="trading_state", value=state, limit=_STATE_ALLOWS[state])


def check_order(
    request: OrderRequest,
    *,
    account: AccountState,
    limits: RiskLimits,
    reference_price: Decimal | None,
    now: float,
    working: Working,
    flattening: bool = False,
) -> tuple[Denial, ...]:
    """Every reason to refuse ``request`` now, given what is ``working`` in its symbol;
    empty means allowed. Circuit breakers act through the trading state (the risk book
    latches a trip), so an order that reduces the position passes them in REDUCING."""
    return (
        *_found([
            check_trading_state(request, account=account, working=working,
                                flattening=flattening),
            check_order_quantity(request, limits=limits),
            check_order_notional(request, limits=limits),
            check_position_limit(request, account=account, limits=limits, working=working),
            check_price_collar(request, limits=limits, reference_price=reference_price),
            check_open_orders(account, limits=limits),
            check_order_rate(account, limits=limits, now=now),
        ]),
    )


def _found(results: Iterable[Denial | None]) -> tuple[Denial, ...]:
    return tuple(denial for denial in results if denial is not None)
