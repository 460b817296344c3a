"""ib_async objects ↔ Hydra values, through named constructors. Pure: nothing here talks to IB.

Prices cross as floats on IB's side and as `Decimal` on Hydra's: a float becomes the decimal of
its shortest repr (340.25 → Decimal("340.25")), never the binary expansion. Average costs are in
dollars per contract on IB's side (price × point value) and in price units on Hydra's.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs
from ib_async import (
    AccountValue,
    BarData,
    Contract,
    ContractDetails,
    LimitOrder,
    Order,
    StopLimitOrder,
    Ticker,
    Trade,
)
from ib_async import Fill as IBFill
from ib_async import Future as IBFuture
from ib_async import Position as IBPosition

from .._contracts import MONTH_CODES, ContractSpec
from .._core._market_stats import DailyBar
from .._core._positions import Position
from .._core._quote_check import IB_NO_PRICE, side_problem
from .._core._sessions import SessionCalendar, parse_hours
from .._enums import OrderStatus, OrderType, Side
from .._errors import BrokerError, InvalidValueError, QuoteUnusableError
from .._ids import BrokerOrderId, ClientOrderId, ExecutionId, intent_id_of
from .._orders import Fill, OrderRequest
from .._quotes import Quote
from .._validate import DELIVERY_MONTH
from ..brokers import AccountSnapshot, OpenOrder

_UNSET = 1e300  # ib_async leaves IB's "unset" doubles (max float) in some fields

_STATUSES = {
    "PendingSubmit": OrderStatus.WORKING,
    "PreSubmitted": OrderStatus.WORKING,
    "Submitted": OrderStatus.WORKING,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELLED,
    "ApiCancelled": OrderStatus.CANCELLED,
    "Inactive": OrderStatus.REJECTED,
}
ACKNOWLEDGING_STATUSES = frozenset({"PreSubmitted", "Submitted"})
"""IB statuses that mean IB has the order (OrderAcknowledged is sent on the first)."""

ACCOUNT_KEYS = frozenset(
    {
        "NetLiquidation",
        "TotalCashValue",
        "CashBalance",
        "RealizedPnL",
        "UnrealizedPnL",
        "EquityWithLoanValue",
        "AvailableFunds",
        "BuyingPower",
    }
)
"""The account values Hydra passes on as `AccountValueChanged` (IB sends hundreds)."""


# --- values ----------------------------------------------------------------------------------


def price_from_ib(value: float) -> Decimal:
    """IB's float price as the decimal it was meant to be."""
    return Decimal(repr(float(value)))


def daily_duration(sessions: int) -> str:
    """IB's duration for daily bars covering ``sessions`` sessions: calendar days, with the
    weekends and a few holidays counted in."""
    return f"{math.ceil(sessions * 7 / 5) + 4} D"


def from_ib_bar(bar: BarData) -> DailyBar:
    """An IB daily bar as Hydra's; a bad price or volume is an `InvalidValueError` naming it."""
    day = bar.date.date() if isinstance(bar.date, dt.datetime) else bar.date
    if not (math.isfinite(bar.volume) and bar.volume == int(bar.volume)):
        raise InvalidValueError("volume", bar.volume, "must be a whole number of contracts")
    return DailyBar(day=day, open=price_from_ib(bar.open), high=price_from_ib(bar.high),
                    low=price_from_ib(bar.low), close=price_from_ib(bar.close),
                    volume=int(bar.volume))


def is_price(value: float | None) -> bool:
    """True for a usable IB price (IB sends NaN, -1 or max float for "none")."""
    return value is not None and math.isfinite(value) and 0 < value < _UNSET


def commission_from_ib(value: float) -> Decimal | None:
    """IB's commission as a decimal (zero included); None when IB left it unset (max float,
    NaN) or sent something no commission can be (negative)."""
    if not (math.isfinite(value) and 0 <= value < _UNSET):
        return None
    return price_from_ib(value)


def status_from_ib(text: str) -> OrderStatus | None:
    """Hydra's status for IB's status text; None for texts that say nothing new
    (PendingCancel, ApiPending, ValidationError …)."""
    return _STATUSES.get(text)


def client_order_id_from_ib(order_ref: str, *, client_id: int, order_id: int) -> ClientOrderId:
    """The client order id IB's ``orderRef`` carries; an order Hydra did not place gets
    ``ib.<client id>.<order id>`` (the simulated gateway names such orders the same way)."""
    return ClientOrderId(order_ref or f"ib.{client_id}.{order_id}")


# --- contracts -------------------------------------------------------------------------------


def to_ib_contract(spec: ContractSpec) -> IBFuture:
    """IB's future for ``spec`` (its delivery month when it has one)."""
    return IBFuture(
        symbol=spec.symbol,
        exchange=spec.exchange,
        currency=spec.currency,
        lastTradeDateOrContractMonth=spec.expiry or "",
    )


def contract_month_from_ib(contract: Contract) -> str | None:
    """The delivery month ("YYYYMM") of IB's contract: the first six digits of its
    ``lastTradeDateOrContractMonth`` (IB sends ``YYYYMM`` or ``YYYYMMDD``); None without one."""
    month = contract.lastTradeDateOrContractMonth[:6]
    return month if DELIVERY_MONTH.match(month) else None


def in_month(spec: ContractSpec, contract: Contract) -> ContractSpec:
    """``spec`` in the delivery month of IB's ``contract`` (``spec`` as it is when IB names
    none). A month outside ``spec``'s cycle joins it: IB lists what trades."""
    month = contract_month_from_ib(contract)
    if month is None:
        return spec
    code = MONTH_CODES[int(month[4:]) - 1]
    months = sorted({*spec.months, code}, key=MONTH_CODES.index)
    return attrs.evolve(spec, months=months, expiry=month)


def from_ib_contract_details(
    details: Sequence[ContractDetails], *, known: ContractSpec | None = None
) -> ContractSpec:
    """The front month of the contracts IB described (one product, one or more months).

    Tick size, multiplier and price magnifier come from IB; listed months are those IB
    listed, together with ``known``'s (a built-in spec knows the whole cycle), whose time zone
    and trading hours are kept too.
    """
    if not details:
        raise InvalidValueError("details", details, "IB described no contract")
    front = min(details, key=_contract_month)
    contract = front.contract
    assert contract is not None
    months = {MONTH_CODES[int(_contract_month(d)[4:]) - 1] for d in details}
    months |= set(known.months if known else ())
    return ContractSpec(
        symbol=contract.symbol,
        exchange=contract.exchange or (known.exchange if known else ""),
        currency=contract.currency or "USD",
        tick_size=price_from_ib(front.minTick),
        multiplier=Decimal(contract.multiplier or (known.multiplier if known else 1)),
        price_magnifier=front.priceMagnifier or 1,
        months=sorted(months, key=MONTH_CODES.index),
        time_zone=known.time_zone if known else front.timeZoneId or "America/Chicago",
        trading_hours=known.trading_hours if known else (),
        expiry=_contract_month(front),
    )


def hours_from_ib_details(details: ContractDetails) -> SessionCalendar | None:
    """The sessions IB's ``tradingHours`` names, in its ``timeZoneId`` (None: IB sent none)."""
    return _hours(details.tradingHours, details, field="tradingHours")


def liquid_hours_from_ib_details(details: ContractDetails) -> SessionCalendar | None:
    """The sessions IB's ``liquidHours`` names, in its ``timeZoneId`` (None: IB sent none)."""
    return _hours(details.liquidHours, details, field="liquidHours")


def _hours(text: str, details: ContractDetails, *, field: str) -> SessionCalendar | None:
    if not text:
        return None
    return parse_hours(text, zone=details.timeZoneId or "America/Chicago", field=field)


def _contract_month(details: ContractDetails) -> str:
    assert details.contract is not None
    return details.contractMonth or details.contract.lastTradeDateOrContractMonth[:6]


# --- orders ----------------------------------------------------------------------------------


def to_ib_order(
    request: OrderRequest,
    *,
    order_id: int,
    parent_order_id: int = 0,
    account: str | None = None,
) -> Order:
    """IB's LMT or STP LMT order for ``request``; ``orderRef`` is the client order id."""
    fields: dict[str, object] = {
        "orderId": order_id,
        "orderRef": request.client_order_id,
        "tif": request.time_in_force.value,
        "transmit": request.transmit,
        "parentId": parent_order_id,
        "account": account or "",
    }
    if request.oca_group:
        fields |= {"ocaGroup": request.oca_group, "ocaType": 1}  # cancel the rest on a fill
    action, quantity = request.side.value, request.quantity
    limit = float(request.limit_price)
    if request.order_type is OrderType.LIMIT:
        return LimitOrder(action, quantity, limit, **fields)
    assert request.stop_price is not None  # OrderRequest validates it for STP LMT
    return StopLimitOrder(action, quantity, limit, float(request.stop_price), **fields)


def from_ib_trade(
    trade: Trade, *, contract: ContractSpec, placed: OrderRequest | None = None
) -> OpenOrder | None:
    """The working order an IB trade describes, or None when it is finished. ``placed`` is
    Hydra's own request for it, when Hydra placed it (its intent id and flags are kept); the
    contract is ``contract`` in the trade's delivery month."""
    status = status_from_ib(trade.orderStatus.status)
    if status is None or status.is_final:
        return None
    contract = in_month(contract, trade.contract)
    order = trade.order
    order_type = OrderType.parse(order.orderType)
    cid = client_order_id_from_ib(order.orderRef, client_id=order.clientId, order_id=order.orderId)
    quantity = int(order.totalQuantity)
    limit_price = price_from_ib(float(order.lmtPrice or 0))
    stop_price = (
        price_from_ib(float(order.auxPrice or 0))
        if order_type is OrderType.STOP_LIMIT
        else None
    )
    if placed is not None:
        request = attrs.evolve(
            placed,
            contract=contract,
            quantity=quantity,
            limit_price=limit_price,
            stop_price=stop_price,
        )
    else:
        request = OrderRequest(
            client_order_id=cid,
            intent_id=intent_id_of(cid),
            contract=contract,
            side=Side(order.action),
            quantity=quantity,
            order_type=order_type,
            limit_price=limit_price,
            stop_price=stop_price,
            oca_group=order.ocaGroup or None,
            transmit=order.transmit,
        )
    filled = int(trade.orderStatus.filled)
    return OpenOrder(
        request=request,
        broker_order_id=BrokerOrderId(order.orderId),
        status=status,
        filled=filled,
        remaining=max(0, quantity - filled),
    )


@attrs.frozen(kw_only=True)
class ForeignOrder:
    """A working order of the account in a type Hydra cannot express (another program's MKT
    or STP): the CLI lists it and a global cancel takes it, Hydra never works or adopts it."""

    client_order_id: ClientOrderId
    symbol: str
    side: Side
    quantity: int
    remaining: int
    order_type: str  # IB's code


def foreign_order_from_ib(trade: Trade) -> ForeignOrder | None:
    """The working order ``trade`` describes when its type is not one of Hydra's (None when
    it is one, or when the order is finished)."""
    status = status_from_ib(trade.orderStatus.status)
    order = trade.order
    if status is None or status.is_final or order.orderType in {t.value for t in OrderType}:
        return None
    quantity = int(order.totalQuantity)
    return ForeignOrder(
        client_order_id=client_order_id_from_ib(order.orderRef, client_id=order.clientId,
                                                order_id=order.orderId),
        symbol=trade.contract.symbol, side=Side(order.action), quantity=quantity,
        remaining=max(0, quantity - int(trade.orderStatus.filled)), order_type=order.orderType,
    )


# --- fills, positions, account, quotes -------------------------------------------------------


def from_ib_fill(fill: IBFill, *, commission: float, client_order_id: ClientOrderId) -> Fill:
    """Hydra's fill for one IB execution, with the commission from its report; ``symbol`` is
    the product and ``expiry`` the delivery month."""
    execution = fill.execution
    return Fill(
        execution_id=ExecutionId(execution.execId),
        client_order_id=client_order_id,
        symbol=fill.contract.symbol,
        expiry=contract_month_from_ib(fill.contract),
        side=Side.BUY if execution.side == "BOT" else Side.SELL,
        price=price_from_ib(execution.price),
        quantity=int(execution.shares),
        commission=price_from_ib(commission) if is_price(commission) else Decimal(0),
        time=execution.time,
    )


def from_ib_position(position: IBPosition, *, contract: ContractSpec) -> Position:
    """Hydra's position in ``contract``, in the delivery month IB reports it in; IB's
    average cost is dollars per contract, Hydra's a price."""
    return Position(
        contract=in_month(contract, position.contract),
        quantity=int(position.position),
        average_price=average_price_from_ib(position.avgCost, contract),
    )


def average_price_from_ib(average_cost: float, contract: ContractSpec) -> Decimal:
    return price_from_ib(average_cost) / contract.point_value if average_cost else Decimal(0)


def from_ib_account_values(
    values: Iterable[AccountValue], *, commission: Decimal
) -> AccountSnapshot:
    """The account from IB's account values (USD, else the base currency)."""
    found: dict[tuple[str, str], str] = {(v.tag, v.currency): v.value for v in values}

    def value(*tags: str) -> Decimal:
        for currency in ("USD", "BASE"):
            for tag in tags:
                if (tag, currency) in found:
                    return Decimal(found[tag, currency])
        raise BrokerError(f"IB sent no account value {' or '.join(map(repr, tags))} in USD")

    return AccountSnapshot(
        cash=value("TotalCashValue", "CashBalance"),
        realized=value("RealizedPnL"),
        unrealized=value("UnrealizedPnL"),
        equity=value("NetLiquidation"),
        commission=commission,
    )


def from_ib_ticker(ticker: Ticker, *, symbol: str, time: float) -> Quote:
    """Hydra's quote from IB's ticker, stamped ``time`` (the Trio time the broker last saw the
    ticker update); a crossed, one-sided, zero or NaN one is a `QuoteUnusableError`."""
    bid, ask = _ib_side(ticker.bid), _ib_side(ticker.ask)
    problem = side_problem(bid, ask)
    if problem is not None:
        raise QuoteUnusableError(symbol, problem, bid=ticker.bid, ask=ticker.ask)
    assert bid is not None and ask is not None
    try:
        return Quote(
            bid=price_from_ib(bid),
            ask=price_from_ib(ask),
            bid_size=_size(ticker.bidSize),
            ask_size=_size(ticker.askSize),
            time=time,
        )
    except InvalidValueError as e:
        raise QuoteUnusableError(symbol, "zero", bid=ticker.bid, ask=ticker.ask) from e


def _ib_side(value: float | None) -> float | None:
    """IB's price for one side of the book; None for none (IB's -1, or max float: unset)."""
    if value is None or value == IB_NO_PRICE or (math.isfinite(value) and value >= _UNSET):
        return None
    return value


def _size(value: float) -> int:
    return int(value) if math.isfinite(value) and value > 0 else 0

