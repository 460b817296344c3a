"""Server messages: ib_async's own decoder (at server version 157) reads every reply."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from ib_async.decoder import Decoder

from hydra.gateway import _replies as r
from hydra.gateway._margins import Margin, WhatIf
from hydra.gateway._order import IBOrder
from hydra.gateway._wire import FrameDecoder
from hydra.ib._convert import contract_month_from_ib

ZO = r.WireContract(
    con_id=42,
    symbol="ZO",
    last_trade_date="20250314",
    multiplier=Decimal(5000),
    exchange="CBOT",
    currency="USD",
    local_symbol="ZOH5",
    trading_class="ZO",
)


class Recorder:
    """A wrapper that records every call the decoder makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.defaultTimezone = dt.UTC
        self.ib = SimpleNamespace(TimezoneTWS=None)

    def __getattr__(self, name: str) -> Any:
        return lambda *args: self.calls.append((name, args))


def decoded(reply: r.Reply) -> tuple[str, tuple[Any, ...]]:
    """The one wrapper call ib_async makes for ``reply``'s bytes."""
    frames = FrameDecoder()
    frames.feed(r.encode_reply(reply))
    fields = frames.next_frame()
    assert fields is not None
    recorder = Recorder()
    Decoder(recorder, 157).interpret(list(fields))
    assert len(recorder.calls) == 1, f"ib_async could not decode {reply!r}"
    return recorder.calls[0]


def test_contract_details_fill_the_fields_qualification_needs() -> None:
    """minTick, multiplier, magnifier, month, hours and the conId all arrive."""
    name, (req_id, details) = decoded(
        r.ContractDetails(
            req_id=3,
            contract=ZO,
            min_tick=Decimal("0.25"),
            price_magnifier=100,
            long_name="Oats",
            contract_month="202503",
            time_zone="America/Chicago",
            trading_hours="20250303:0830-20250303:1320",
            liquid_hours="20250303:0830-20250303:1320",
            market_rule_id=1234,
        )
    )
    assert (name, req_id) == ("contractDetails", 3)
    assert (details.marketRuleIds, details.orderTypes) == ("1234", "LMT,MKT,STP,STPLMT")
    c = details.contract
    assert (c.conId, c.symbol, c.secType, c.lastTradeDateOrContractMonth) == (
        42,
        "ZO",
        "FUT",
        "20250314",
    )
    assert (c.multiplier, c.exchange, c.localSymbol) == ("5000", "CBOT", "ZOH5")
    assert (details.minTick, details.priceMagnifier, details.contractMonth) == (0.25, 100, "202503")
    assert details.tradingHours == "20250303:0830-20250303:1320"
    assert details.timeZoneId == "America/Chicago"


def test_open_order_is_read_whole() -> None:
    """The long openOrder layout lines up: fields at both ends arrive where ib_async looks."""
    order = IBOrder(
        action="BUY",
        quantity=Decimal(2),
        order_type="LMT",
        limit_price=Decimal("350.25"),
        tif="DAY",
        oca_group="g1",
        account="DU1",
        order_ref="int-1.0",
        parent_id=4,
    )
    name, (order_id, contract, o, state) = decoded(
        r.OpenOrder(
            contract=ZO, order_id=5, client_id=1, perm_id=9, order=order, status="Submitted"
        )
    )
    assert (name, order_id, contract.conId) == ("openOrder", 5, 42)
    assert (o.action, o.totalQuantity, o.orderType, o.lmtPrice) == ("BUY", 2.0, "LMT", 350.25)
    assert (o.orderRef, o.ocaGroup, o.parentId, o.clientId, o.permId) == ("int-1.0", "g1", 4, 1, 9)
    assert state.status == "Submitted"


def test_what_if_open_order_carries_margins_and_commission() -> None:
    """A what-if answer is an open order with whatIf set and the order state's margins: the
    change is after minus before, equity falls by the commission."""
    order = IBOrder(action="BUY", quantity=Decimal(1), order_type="MKT")
    what_if = WhatIf(
        before=Margin(initial=Decimal(100), maintenance=Decimal(90)),
        after=Margin(initial=Decimal(250), maintenance=Decimal(225)),
        equity_before=Decimal(10000),
        commission=Decimal("2.5"),
    )
    _, (_, _, o, state) = decoded(
        r.OpenOrder(
            contract=ZO, order_id=5, client_id=1, perm_id=0, order=order,
            status="PreSubmitted", what_if=what_if,
        )
    )  # fmt: skip
    assert o.whatIf
    assert (state.initMarginChange, state.maintMarginChange, state.initMarginAfter) == (
        "150", "135", "250"
    )
    assert (state.equityWithLoanChange, state.commission) == ("-2.5", 2.5)


def test_completed_order_carries_its_perm_id_and_end() -> None:
    """completedOrder: the order, its permId, final status and how it ended."""
    order = IBOrder(action="SELL", quantity=Decimal(3), order_type="LMT", limit_price=Decimal(1))
    name, (contract, o, state) = decoded(
        r.CompletedOrder(
            contract=ZO, order=order, perm_id=77, status="Cancelled", filled=1,
            completed_time="20250303 14:30:01 UTC", completed_status="Cancelled by Trader",
        )
    )  # fmt: skip
    assert (name, contract.conId, o.permId, o.totalQuantity, o.filledQuantity) == (
        "completedOrder", 42, 77, 3.0, 1.0
    )
    assert (state.status, state.completedStatus) == ("Cancelled", "Cancelled by Trader")


def test_execution_and_commission() -> None:
    """execDetails carries the order, side, price and cumulative quantity; the commission
    report follows it by exec id."""
    name, (req_id, contract, execution) = decoded(
        r.ExecutionDetails(
            req_id=-1,
            contract=ZO,
            order_id=5,
            exec_id="sim.1",
            time="20250303 14:30:01 UTC",
            account="DU1",
            side="BOT",
            shares=1,
            price=Decimal("350.25"),
            perm_id=9,
            client_id=1,
            cumulative_quantity=1,
            average_price=Decimal("350.25"),
            order_ref="int-1.0",
        )
    )
    assert (name, req_id, contract.symbol) == ("execDetails", -1, "ZO")
    assert (execution.orderId, execution.side, execution.shares, execution.price) == (
        5,
        "BOT",
        1.0,
        350.25,
    )
    assert execution.time == dt.datetime(2025, 3, 3, 14, 30, 1, tzinfo=dt.UTC)
    assert (execution.cumQty, execution.orderRef, execution.permId) == (1.0, "int-1.0", 9)
    name, (report,) = decoded(r.CommissionReport(exec_id="sim.1", commission=Decimal("2.50")))
    assert (name, report.execId, report.commission, report.currency) == (
        "commissionReport",
        "sim.1",
        2.5,
        "USD",
    )


@pytest.mark.parametrize(
    ("reply", "call"),
    [
        (r.ManagedAccounts(accounts=("DU1",)), ("managedAccounts", ("DU1",))),
        (r.NextValidId(order_id=7), ("nextValidId", (7,))),
        (
            r.ErrorMessage(req_id=5, code=110, message="off tick"),
            ("error", (5, 110, "off tick", "")),
        ),
        (r.CurrentTime(seconds=1700000000), ("currentTime", (1700000000,))),
        (
            r.TickPrice(ticker_id=2, tick_type=1, price=Decimal("350.5"), size=4),
            ("priceSizeTick", (2, 1, 350.5, 4.0)),
        ),
        (r.TickSize(ticker_id=2, tick_type=8, size=12), ("tickSize", (2, 8, 12.0))),
        (
            r.OrderStatusReport(
                order_id=5,
                status="Filled",
                filled=2,
                remaining=0,
                average_fill_price=Decimal("350.25"),
                perm_id=9,
                parent_id=0,
                last_fill_price=Decimal("350.25"),
                client_id=1,
            ),
            ("orderStatus", (5, "Filled", 2.0, 0.0, 350.25, 9, 0, 350.25, 1, "", 0.0)),
        ),
        (
            r.AccountValue(key="NetLiquidation", value="100000.00", currency="USD", account="DU1"),
            ("updateAccountValue", ("NetLiquidation", "100000.00", "USD", "DU1")),
        ),
        (r.AccountDownloadEnd(account="DU1"), ("accountDownloadEnd", ("DU1",))),
        (r.PositionEnd(), ("positionEnd", ())),
        (r.OpenOrderEnd(), ("openOrderEnd", ())),
        (r.CompletedOrdersEnd(), ("completedOrdersEnd", ())),
        (r.ExecutionDetailsEnd(req_id=3), ("execDetailsEnd", (3,))),
        (r.ContractDetailsEnd(req_id=3), ("contractDetailsEnd", (3,))),
        (r.AccountUpdateMultiEnd(req_id=3), ("accountUpdateMultiEnd", (3,))),
        (r.AccountSummaryEnd(req_id=3), ("accountSummaryEnd", (3,))),
        (r.TickSnapshotEnd(ticker_id=3), ("tickSnapshotEnd", (3,))),
    ],
)
def test_simple_replies(reply: r.Reply, call: tuple[str, tuple[Any, ...]]) -> None:
    """Each short reply reaches the wrapper method ib_async dispatches it to, with its values."""
    assert decoded(reply) == call


def test_position_and_portfolio() -> None:
    """A position and a portfolio line carry the contract, quantity and dollar figures."""
    name, (account, contract, position, cost) = decoded(
        r.PositionReport(account="DU1", contract=ZO, position=-2, average_cost=Decimal("17512.5"))
    )
    assert (name, account, contract.conId, position, cost) == ("position", "DU1", 42, -2.0, 17512.5)
    name, (contract, position, price, value, _cost, unrealized, realized, account) = decoded(
        r.PortfolioValue(
            contract=ZO,
            position=1,
            market_price=Decimal("350.5"),
            market_value=Decimal("17525"),
            average_cost=Decimal("17512.5"),
            unrealized_pnl=Decimal("12.5"),
            realized_pnl=Decimal(0),
            account="DU1",
        )
    )
    assert (name, contract.localSymbol, position, price, value) == (
        "updatePortfolio",
        "ZOH5",
        1.0,
        350.5,
        17525.0,
    )
    assert (unrealized, realized, account) == (12.5, 0.0, "DU1")


def test_positions_and_executions_carry_the_contract_month_as_ib_does() -> None:
    """A position and an execution name their contract's last trading day in
    lastTradeDateOrContractMonth (YYYYMMDD, as IB sends it), whose month the adapter reads."""
    _, (_, position_contract, *_) = decoded(
        r.PositionReport(account="DU1", contract=ZO, position=1, average_cost=Decimal(17500))
    )
    _, (_, execution_contract, _) = decoded(
        r.ExecutionDetails(
            req_id=-1,
            contract=ZO,
            order_id=5,
            exec_id="sim.1",
            time="20250303 14:30:01 UTC",
            account="DU1",
            side="SLD",
            shares=1,
            price=Decimal(350),
            perm_id=9,
            client_id=1,
            cumulative_quantity=1,
            average_price=Decimal(350),
            order_ref="int-1.0",
        )
    )
    for contract in (position_contract, execution_contract):
        assert contract.lastTradeDateOrContractMonth == "20250314"
        assert contract_month_from_ib(contract) == "202503"


@pytest.mark.parametrize(
    ("reply", "call"),
    [
        (r.PnLSingle(req_id=4, position=2, daily=Decimal(5), unrealized=Decimal(3),
                     realized=Decimal(2), value=Decimal(35000)),
         ("pnlSingle", (4, 2.0, 5.0, 3.0, 2.0, 35000.0))),
        (r.PositionMultiEnd(req_id=5), ("positionMultiEnd", (5,))),
        (r.DisplayGroupList(req_id=6), ("displayGroupList", (6, ""))),
        (r.DisplayGroupUpdated(req_id=6), ("displayGroupUpdated", (6, ""))),
        (r.OptionParametersEnd(req_id=7), ("securityDefinitionOptionParameterEnd", (7,))),
        (r.SoftDollarTiers(req_id=8), ("softDollarTiers", (8, []))),
        (r.FamilyCodes(), ("familyCodes", ([],))),
        (r.SmartComponents(req_id=9), ("smartComponents", (9, []))),
        (r.NewsProviders(), ("newsProviders", ([],))),
        (r.HistoricalNewsEnd(req_id=10), ("historicalNewsEnd", (10, False))),
        (r.UserInfo(req_id=11), ("userInfo", (11, ""))),
    ],
)  # fmt: skip
def test_small_answers_decode(reply: r.Reply, call: tuple[str, tuple[Any, ...]]) -> None:
    """Each small answer is one wrapper call with the values sent."""
    assert decoded(reply) == call


def test_symbol_samples_depth_exchanges_and_market_rule_decode() -> None:
    """Symbol search, depth exchanges and a market rule carry their rows."""
    name, (req_id, [sample]) = decoded(r.SymbolSamples(req_id=3, contracts=(ZO,)))
    assert (name, req_id, sample.contract.conId, sample.contract.symbol) == (
        "symbolSamples",
        3,
        42,
        "ZO",
    )
    name, ([depth],) = decoded(r.MarketDepthExchanges(exchanges=("CBOT",)))
    assert (name, depth.exchange, depth.secType) == ("mktDepthExchanges", "CBOT", "FUT")
    name, (rule_id, [increment]) = decoded(r.MarketRule(rule_id=12, increment=Decimal("0.25")))
    assert (name, rule_id, increment.lowEdge, increment.increment) == ("marketRule", 12, 0, 0.25)
    name, (position_req, account, _, contract, position, cost) = decoded(
        r.PositionMulti(req_id=2, account="DU1", contract=ZO, position=-1, average_cost=Decimal(9))
    )
    assert (name, position_req, account, contract.conId, position, cost) == (
        "positionMulti",
        2,
        "DU1",
        42,
        -1.0,
        9.0,
    )
