"""ib_async objects ↔ Hydra values: contracts, orders, trades, fills, quotes, account."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from decimal import Decimal

import attrs
import pytest
from ib_async import (
    AccountValue,
    BarData,
    CommissionReport,
    ContractDetails,
    Execution,
    Order,
    Ticker,
    Trade,
)
from ib_async import Fill as IBFill
from ib_async import Future as IBFuture
from ib_async import (
    OrderStatus as IBOrderStatus,
)
from ib_async import Position as IBPosition

from hydra._contracts import OATS
from hydra._enums import OrderStatus, OrderType, Side, TimeInForce
from hydra._errors import (
    BrokerError,
    InvalidValueError,
    QuoteUnusableError,
    UnsupportedOrderTypeError,
)
from hydra._ids import ClientOrderId, IntentId
from hydra._orders import OrderRequest
from hydra.ib._convert import (
    ForeignOrder,
    client_order_id_from_ib,
    commission_from_ib,
    contract_month_from_ib,
    daily_duration,
    foreign_order_from_ib,
    from_ib_account_values,
    from_ib_bar,
    from_ib_contract_details,
    from_ib_fill,
    from_ib_position,
    from_ib_ticker,
    from_ib_trade,
    in_month,
    intent_id_of,
    price_from_ib,
    status_from_ib,
    to_ib_contract,
    to_ib_order,
)

TIME = dt.datetime(2025, 3, 3, 15, 0, tzinfo=dt.UTC)


def zo_details(month: str, tick: float = 0.25) -> ContractDetails:
    contract = IBFuture(symbol="ZO", exchange="CBOT", currency="USD", multiplier="5000",
                        lastTradeDateOrContractMonth=f"{month}14", conId=1)
    return ContractDetails(contract=contract, minTick=tick, priceMagnifier=100,
                           contractMonth=month, timeZoneId="US/Central")


def ticker(**fields: object) -> Ticker:
    """A ticker as ib_async leaves it after ticks (its constructor resets prices to NaN)."""
    made = Ticker(contract=IBFuture(symbol="ZO"))
    for name, value in fields.items():
        setattr(made, name, value)
    return made


def request(**fields: object) -> OrderRequest:
    values: dict[str, object] = dict(
        client_order_id=ClientOrderId("int-a.3"), intent_id=IntentId("int-a"), contract=OATS,
        side=Side.SELL, quantity=3, limit_price=Decimal("340.25"),
    )
    return OrderRequest(**(values | fields))  # type: ignore[arg-type]


def test_contract_details_give_tick_multiplier_and_magnifier() -> None:
    """The front month's tick, multiplier and magnifier; months from IB and the built-in."""
    spec = from_ib_contract_details([zo_details("202505"), zo_details("202503")], known=OATS)
    assert (spec.tick_size, spec.multiplier, spec.price_magnifier) == (
        Decimal("0.25"), Decimal(5000), 100
    )
    assert spec.expiry == "202503"
    assert spec.months == OATS.months and spec.trading_hours == OATS.trading_hours
    unknown = from_ib_contract_details([zo_details("202503", tick=0.005)])
    assert unknown.tick_size == Decimal("0.005") and unknown.months == ("H",)
    assert unknown.time_zone == "US/Central"


def test_contract_for_a_spec_names_its_month() -> None:
    """A spec with an expiry becomes IB's future for that month."""
    contract = to_ib_contract(OATS.for_month("202507"))
    assert (contract.symbol, contract.exchange, contract.lastTradeDateOrContractMonth) == (
        "ZO", "CBOT", "202507"
    )
    assert contract.secType == "FUT"


def test_limit_request_becomes_a_limit_order_with_order_ref() -> None:
    """LMT carries price, orderRef = client order id, tif, OCA group, parent and transmit."""
    order = to_ib_order(
        request(oca_group="g", transmit=False, time_in_force=TimeInForce.GTC),
        order_id=12, parent_order_id=11, account="DU1",
    )
    assert (order.orderType, order.action, order.totalQuantity, order.lmtPrice) == (
        "LMT", "SELL", 3, 340.25
    )
    assert (order.orderRef, order.orderId, order.parentId, order.transmit) == (
        "int-a.3", 12, 11, False
    )
    assert (order.ocaGroup, order.ocaType, order.tif, order.account) == ("g", 1, "GTC", "DU1")


def test_stop_limit_request_becomes_a_stop_limit_order() -> None:
    """STP LMT carries the stop as auxPrice; there is no other order type."""
    order = to_ib_order(
        request(order_type=OrderType.STOP_LIMIT, stop_price=Decimal("341")), order_id=1
    )
    assert (order.orderType, order.lmtPrice, order.auxPrice) == ("STP LMT", 340.25, 341.0)


def test_trade_becomes_an_open_order() -> None:
    """A working IB trade is an OpenOrder keyed by orderRef; a finished one is None."""
    order = Order(orderId=5, clientId=1, action="BUY", totalQuantity=2, orderType="LMT",
                  lmtPrice=339.5, orderRef="int-b.1")
    trade = Trade(IBFuture(symbol="ZO"), order, IBOrderStatus(status="Submitted", filled=1))
    found = from_ib_trade(trade, contract=OATS)
    assert found is not None
    assert (found.client_order_id, found.request.intent_id, found.broker_order_id) == (
        "int-b.1", "int-b", 5
    )
    assert (found.request.limit_price, found.filled, found.remaining) == (Decimal("339.5"), 1, 1)
    placed = request(client_order_id=ClientOrderId("int-b.1"), side=Side.BUY, quantity=2)
    kept = from_ib_trade(trade, contract=OATS, placed=placed)
    assert kept is not None and kept.request == attrs.evolve(placed,
                                                             limit_price=Decimal("339.5"))
    trade.orderStatus.status = "Filled"
    assert from_ib_trade(trade, contract=OATS) is None
    market = Trade(IBFuture(symbol="ZO"), Order(orderType="MKT", action="BUY"),
                   IBOrderStatus(status="Submitted"))
    with pytest.raises(UnsupportedOrderTypeError):
        from_ib_trade(market, contract=OATS)


def test_another_programs_market_or_stop_order_is_a_foreign_order() -> None:
    """A working MKT or STP of another program is a ForeignOrder (what the CLI lists and
    counts); a finished one, or one of Hydra's own types, is not."""
    order = Order(orderId=7, clientId=3, action="SELL", totalQuantity=4, orderType="STP",
                  auxPrice=330.0)
    trade = Trade(IBFuture(symbol="ZO"), order, IBOrderStatus(status="PreSubmitted", filled=1))
    assert foreign_order_from_ib(trade) == ForeignOrder(
        client_order_id=ClientOrderId("ib.3.7"), symbol="ZO", side=Side.SELL, quantity=4,
        remaining=3, order_type="STP")
    trade.orderStatus.status = "Cancelled"
    assert foreign_order_from_ib(trade) is None
    limit = Trade(IBFuture(symbol="ZO"), Order(orderType="LMT", action="BUY", lmtPrice=1.0),
                  IBOrderStatus(status="Submitted"))
    assert foreign_order_from_ib(limit) is None


def test_fill_carries_commission_and_side() -> None:
    """An execution becomes a Fill with its report's commission (unset is zero)."""
    execution = Execution(execId="e1", time=TIME, side="SLD", shares=2, price=340.75)
    fill = IBFill(IBFuture(symbol="ZO"), execution, CommissionReport(), TIME)
    ours = from_ib_fill(fill, commission=5.0, client_order_id=ClientOrderId("x.0"))
    assert (ours.side, ours.price, ours.quantity, ours.commission, ours.time) == (
        Side.SELL, Decimal("340.75"), 2, Decimal("5.0"), TIME
    )
    assert from_ib_fill(fill, commission=1.7976931348623157e308,
                        client_order_id=ClientOrderId("x.0")).commission == 0


def test_commission_is_exact_and_unset_is_none() -> None:
    """A commission report's amount is its shortest decimal, zero included; IB's unset
    doubles, NaN and negatives are None."""
    assert commission_from_ib(1.25) == Decimal("1.25")
    assert commission_from_ib(0.0) == Decimal(0)
    for unset in (1.7976931348623157e308, float("nan"), float("inf"), -1.0):
        assert commission_from_ib(unset) is None


def test_position_average_cost_is_a_price() -> None:
    """IB's dollars per contract become a price (÷ point value)."""
    position = IBPosition("DU1", IBFuture(symbol="ZO"), -2.0, 17012.5)
    ours = from_ib_position(position, contract=OATS)
    assert (ours.quantity, ours.average_price) == (-2, Decimal("340.25"))


def test_contract_month_is_the_first_six_digits_of_ibs_date() -> None:
    """IB's lastTradeDateOrContractMonth (YYYYMMDD or YYYYMM) gives the delivery month; an
    empty or malformed one gives none."""
    for text, month in (("20260714", "202607"), ("202607", "202607"), ("", None),
                        ("2026", None), ("20261314", None)):
        assert contract_month_from_ib(IBFuture(lastTradeDateOrContractMonth=text)) == month


def test_a_spec_takes_ibs_month_and_keeps_its_own_without_one() -> None:
    """A spec moves to the month IB names (one outside its cycle joins the cycle), and stays
    as it is when IB names none."""
    july = IBFuture(symbol="ZO", lastTradeDateOrContractMonth="20260714")
    assert in_month(OATS, july) == OATS.for_month("202607")
    assert in_month(OATS.for_month("202605"), july) == OATS.for_month("202607")
    assert in_month(OATS.for_month("202605"), IBFuture(symbol="ZO")) == OATS.for_month("202605")
    august = in_month(OATS, IBFuture(symbol="ZO", lastTradeDateOrContractMonth="202608"))
    assert (august.expiry, august.months) == ("202608", ("H", "K", "N", "Q", "U", "Z"))


def test_fill_position_and_trade_carry_the_contract_month() -> None:
    """An execution, a position and a working trade in July oats name July: the fill keeps
    the root symbol with expiry 202607, the position's and order's contract is ZO 202607,
    whichever month of ZO the caller passed."""
    july = IBFuture(symbol="ZO", lastTradeDateOrContractMonth="20260714")
    execution = Execution(execId="e2", time=TIME, side="BOT", shares=1, price=352.25)
    fill = from_ib_fill(IBFill(july, execution, CommissionReport(), TIME), commission=0.0,
                        client_order_id=ClientOrderId("x.1"))
    assert (fill.symbol, fill.expiry) == ("ZO", "202607")
    position = from_ib_position(IBPosition("DU1", july, 2.0, 17612.5),
                                contract=OATS.for_month("202605"))
    assert (position.contract, position.quantity, position.average_price) == (
        OATS.for_month("202607"), 2, Decimal("352.25")
    )
    order = Order(orderId=6, clientId=1, action="SELL", totalQuantity=1, orderType="LMT",
                  lmtPrice=352.5, orderRef="int-c.1")
    working = from_ib_trade(Trade(july, order, IBOrderStatus(status="Submitted")),
                            contract=OATS)
    assert working is not None and working.request.contract == OATS.for_month("202607")


@pytest.mark.parametrize(
    ("bid", "ask", "problem"),
    [(math.nan, 340.5, "nan"), (340.25, math.nan, "nan"), (-1.0, 340.5, "one-sided"),
     (340.25, 1.7976931348623157e308, "one-sided")],
)
def test_missing_side_of_the_quote_is_an_error(bid: float, ask: float, problem: str) -> None:
    """NaN, -1 or IB's unset max float on either side is a QuoteUnusableError (a
    BrokerError) naming the problem, never a Quote with NaN."""
    with pytest.raises(QuoteUnusableError, match="no two-sided quote for 'ZO'") as info:
        from_ib_ticker(ticker(bid=bid, ask=ask), symbol="ZO", time=5.0)
    assert info.value.problem == problem and isinstance(info.value, BrokerError)


@pytest.mark.parametrize(("bid", "ask", "problem"),
                         [(341.0, 340.5, "crossed"), (0.0, 340.5, "zero"), (340.25, -3.0, "zero")])
def test_crossed_or_zero_quote_is_an_error(bid: float, ask: float, problem: str) -> None:
    """A crossed ticker, or a zero or negative price, is a QuoteUnusableError naming it."""
    with pytest.raises(QuoteUnusableError, match=f"unusable quote for 'ZO' \\({problem}\\)"):
        from_ib_ticker(ticker(bid=bid, ask=ask), symbol="ZO", time=5.0)


def test_ticker_becomes_a_quote() -> None:
    """Bid, ask and sizes pass; NaN sizes are zero; the time is the one given (the Trio time
    the broker saw the update), not ib_async's wall-clock ticker time."""
    quote = from_ib_ticker(ticker(bid=340.25, ask=340.5, bidSize=3, time=TIME), symbol="ZO",
                           time=12.5)
    assert (quote.bid, quote.ask, quote.bid_size, quote.ask_size) == (
        Decimal("340.25"), Decimal("340.5"), 3, 0
    )
    assert quote.time == 12.5


def test_account_values_make_a_snapshot() -> None:
    """USD values make the snapshot; a missing one is a BrokerError naming it."""
    values = [AccountValue("DU1", key, value, "USD", "") for key, value in [
        ("NetLiquidation", "1010.00"), ("TotalCashValue", "1000.00"),
        ("RealizedPnL", "20.00"), ("UnrealizedPnL", "10.00"),
    ]]
    snapshot = from_ib_account_values(values, commission=Decimal("2.5"))
    assert (snapshot.cash, snapshot.equity, snapshot.realized, snapshot.unrealized) == (
        Decimal(1000), Decimal(1010), Decimal(20), Decimal(10)
    )
    with pytest.raises(BrokerError, match="'RealizedPnL'"):
        from_ib_account_values([v for v in values if v.tag != "RealizedPnL"],
                               commission=Decimal(0))


def test_small_conversions() -> None:
    """Statuses, ids and prices convert as documented."""
    assert status_from_ib("PreSubmitted") is OrderStatus.WORKING
    assert status_from_ib("ApiCancelled") is OrderStatus.CANCELLED
    assert status_from_ib("Inactive") is OrderStatus.REJECTED
    assert status_from_ib("PendingCancel") is None
    assert client_order_id_from_ib("", client_id=1, order_id=9) == "ib.1.9"
    assert intent_id_of(ClientOrderId("int-x.2")) == "int-x"
    assert intent_id_of(ClientOrderId("plain")) == "plain"
    assert price_from_ib(0.1) == Decimal("0.1")


def test_a_daily_bar_from_ib_is_exact_and_dated() -> None:
    """IB's float prices become the decimals meant; a bar dated with a time of day (IB's
    formatDate 2) keeps its date."""
    bar = BarData(date=dt.date(2025, 2, 28), open=350.25, high=352.0, low=349.75, close=351.5,
                  volume=1612.0, average=351.0, barCount=300)
    converted = from_ib_bar(bar)
    assert (converted.day, converted.open, converted.close, converted.volume) == (
        dt.date(2025, 2, 28), Decimal("350.25"), Decimal("351.5"), 1612)
    timed = dataclasses.replace(bar, date=dt.datetime(2025, 2, 28, 13, 20, tzinfo=dt.UTC))
    assert from_ib_bar(timed).day == dt.date(2025, 2, 28)


@pytest.mark.parametrize(("field", "changes"), [
    ("volume", {"volume": -1.0}), ("volume", {"volume": float("nan")}),
    ("volume", {"volume": 2.5}), ("close", {"close": 0.0}), ("low", {"low": float("nan")}),
])
def test_a_bad_daily_bar_from_ib_names_the_field(field: str, changes: dict[str, float]) -> None:
    """IB's "no value" markers (-1, NaN, 0) are refused at the boundary, naming the field."""
    bar = BarData(date=dt.date(2025, 2, 28), open=350.25, high=352.0, low=349.75, close=351.5,
                  volume=1612.0)
    with pytest.raises(InvalidValueError) as caught:
        from_ib_bar(dataclasses.replace(bar, **changes))  # type: ignore[arg-type]
    assert caught.value.field == field


def test_the_daily_duration_covers_weekends() -> None:
    """Twenty sessions are four weeks of calendar days, and a few more for holidays."""
    assert daily_duration(20) == "32 D"
    assert daily_duration(1) == "6 D"
