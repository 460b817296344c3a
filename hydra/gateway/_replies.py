"""What the gateway sends, as typed values: each reply's ``fields()`` is its frame's fields.

Layouts are exactly what ib_async 2.1's ``decoder.py`` reads at server version 157 (no
``advancedOrderRejectJson`` on errors, the obsolete ``mdSizeMultiplier`` still in contract
details, no ``duration`` / ``postToAts`` on open orders). Prices and quantities are decimals;
an unset value is None (an empty field).
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple, Protocol

import attrs

from ._margins import WhatIf
from ._message_ids import ServerMessage as S
from ._order import IBOrder
from ._wire import FieldValue, Joined, encode_frame

Fields = tuple[FieldValue, ...]


class Reply(Protocol):
    def fields(self) -> Fields: ...


def encode_reply(reply: Reply) -> bytes:
    """The frame for one reply."""
    return encode_frame(reply.fields())


@attrs.frozen(kw_only=True)
class WireContract:
    """A futures contract as the gateway describes it to clients."""

    con_id: int
    symbol: str
    last_trade_date: str  # YYYYMMDD
    multiplier: Decimal
    exchange: str
    currency: str
    local_symbol: str  # e.g. ZOH5
    trading_class: str
    sec_type: str = "FUT"

    def short_fields(self) -> Fields:
        """conId … tradingClass, as position, open order and execution messages carry it."""
        return (
            self.con_id,
            self.symbol,
            self.sec_type,
            self.last_trade_date,
            Decimal(0),
            "",
            self.multiplier,
            self.exchange,
            self.currency,
            self.local_symbol,
            self.trading_class,
        )


# --- connection ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ManagedAccounts:
    accounts: tuple[str, ...]

    def fields(self) -> Fields:
        return (S.MANAGED_ACCOUNTS, 1, ",".join(self.accounts))


@attrs.frozen(kw_only=True)
class NextValidId:
    order_id: int

    def fields(self) -> Fields:
        return (S.NEXT_VALID_ID, 1, self.order_id)


@attrs.frozen(kw_only=True)
class ErrorMessage:
    """An error or information message; ``req_id`` is −1 when about no request or order."""

    req_id: int
    code: int
    message: str

    def fields(self) -> Fields:
        return (S.ERROR, 2, self.req_id, self.code, self.message)


@attrs.frozen(kw_only=True)
class CurrentTime:
    seconds: int  # since the Unix epoch

    def fields(self) -> Fields:
        return (S.CURRENT_TIME, 1, self.seconds)


# --- contracts and market data ---------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ContractDetails:
    req_id: int
    contract: WireContract
    min_tick: Decimal
    price_magnifier: int
    long_name: str
    contract_month: str  # YYYYMM
    time_zone: str
    trading_hours: str
    liquid_hours: str
    market_rule_id: int
    order_types: str = "LMT,MKT,STP,STPLMT"

    def fields(self) -> Fields:
        c = self.contract
        return (
            S.CONTRACT_DETAILS, 8, self.req_id, c.symbol, c.sec_type, c.last_trade_date,
            Decimal(0), "", c.exchange, c.currency, c.local_symbol, c.symbol, c.trading_class,
            c.con_id,
            self.min_tick, "",  # mdSizeMultiplier, obsolete but still sent before 164
            c.multiplier, self.order_types, c.exchange, self.price_magnifier, 0,
            self.long_name, "", self.contract_month, "", "", "", self.time_zone,
            self.trading_hours, self.liquid_hours, "", "", 0,  # evRule, evMultiplier, no sec ids
            1, "", "", self.market_rule_id, c.last_trade_date, "",  # aggGroup … stockType
        )  # fmt: skip


@attrs.frozen(kw_only=True)
class ContractDetailsEnd:
    req_id: int

    def fields(self) -> Fields:
        return (S.CONTRACT_DETAILS_END, 1, self.req_id)


@attrs.frozen(kw_only=True)
class TickPrice:
    """Tick types: 1 bid, 2 ask, 4 last, 6 high, 7 low, 9 close."""

    ticker_id: int
    tick_type: int
    price: Decimal
    size: int = 0

    def fields(self) -> Fields:
        return (S.TICK_PRICE, 6, self.ticker_id, self.tick_type, self.price, self.size, 0)


@attrs.frozen(kw_only=True)
class TickSize:
    """Tick types: 0 bid size, 3 ask size, 5 last size, 8 volume."""

    ticker_id: int
    tick_type: int
    size: int

    def fields(self) -> Fields:
        return (S.TICK_SIZE, 6, self.ticker_id, self.tick_type, self.size)


@attrs.frozen(kw_only=True)
class TickSnapshotEnd:
    ticker_id: int

    def fields(self) -> Fields:
        return (S.TICK_SNAPSHOT_END, 1, self.ticker_id)


@attrs.frozen(kw_only=True)
class MarketDataType:
    ticker_id: int
    market_data_type: int = 1  # live

    def fields(self) -> Fields:
        return (S.MARKET_DATA_TYPE, 1, self.ticker_id, self.market_data_type)


@attrs.frozen(kw_only=True)
class TickRequestParams:
    ticker_id: int
    min_tick: Decimal
    exchange: str

    def fields(self) -> Fields:
        return (S.TICK_REQ_PARAMS, self.ticker_id, self.min_tick, self.exchange, 3)


# --- orders ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class OpenOrder:
    """An open order, or with ``what_if`` the answer to a what-if order (never placed)."""

    contract: WireContract
    order_id: int
    client_id: int
    perm_id: int
    order: IBOrder
    status: str
    what_if: WhatIf | None = None

    def _state(self) -> Fields:
        """whatIf, status, the nine margin values, commission … warningText."""
        w = self.what_if
        if w is None:
            return (0, self.status, *[""] * 9, "", "", "", "", "")
        margins = (
            (w.before.initial, w.before.maintenance, w.equity_before),
            (w.change.initial, w.change.maintenance, w.equity_after - w.equity_before),
            (w.after.initial, w.after.maintenance, w.equity_after),
        )
        values = [money for group in margins for money in group]
        return (1, self.status, *values, w.commission, "", "", w.currency, "")

    def fields(self) -> Fields:
        o = self.order
        return (
            S.OPEN_ORDER, self.order_id, *self.contract.short_fields(),
            o.action, o.quantity, o.order_type, o.limit_price, o.aux_price, o.tif, o.oca_group,
            o.account, "", 0, o.order_ref, self.client_id, self.perm_id, 0, 0,  # … hidden
            0, "", "", "", "", "", "",  # discretionaryAmt … faPercentage, faProfile
            "", "", "", "", "", 0, "", -1,  # modelCode … exemptCode
            0, "", "", "", "", "",  # auctionStrategy … stockRangeUpper
            "", 0, 0, 0, "", 3, 0, 0, "", o.parent_id, 0,  # displaySize … triggerMethod
            "", 0, "", "",  # volatility … deltaNeutralAuxPrice
            0, 0, "", "", "", "", "",  # continuousUpdate … comboLegsDescrip
            0, 0, 0,  # combo legs, order combo legs, smart combo params
            "", "", "",  # scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement
            "",  # hedgeType
            0, "", "", 0, 0,  # optOutSmartRouting … notHeld, no delta-neutral contract
            "",  # algoStrategy
            0, *self._state(),  # solicited, whatIf, status, margins … warningText
            0, 0,  # randomizeSize, randomizePrice
            0,  # conditions
            "", "", "", "", "", "", "", 0,  # adjustedOrderType … adjustableTrailingUnit
            "", "", "", "", 0, 0, "", 0,  # softDollarTier ×3 … usePriceMgmtAlgo
        )  # fmt: skip


@attrs.frozen(kw_only=True)
class OpenOrderEnd:
    def fields(self) -> Fields:
        return (S.OPEN_ORDER_END, 1)


@attrs.frozen(kw_only=True)
class OrderStatusReport:
    """IB's orderStatus: PendingSubmit, PreSubmitted, Submitted, Cancelled, Filled, Inactive …"""

    order_id: int
    status: str
    filled: int
    remaining: int
    average_fill_price: Decimal
    perm_id: int
    parent_id: int
    last_fill_price: Decimal
    client_id: int

    def fields(self) -> Fields:
        return (
            S.ORDER_STATUS, self.order_id, self.status, self.filled, self.remaining,
            self.average_fill_price, self.perm_id, self.parent_id, self.last_fill_price,
            self.client_id, "", "",
        )  # fmt: skip


@attrs.frozen(kw_only=True)
class CompletedOrder:
    """A finished order, for reqCompletedOrders: ``status`` is its final orderStatus text,
    ``completed_status`` IB's description of how it ended."""

    contract: WireContract
    order: IBOrder
    perm_id: int
    status: str
    filled: int
    completed_time: str  # IB date-time text
    completed_status: str

    def fields(self) -> Fields:
        o = self.order
        return (
            S.COMPLETED_ORDER, *self.contract.short_fields(),
            o.action, o.quantity, o.order_type, o.limit_price, o.aux_price, o.tif, o.oca_group,
            o.account, "", 0, o.order_ref, self.perm_id, 0, 0,  # openClose … hidden
            0, "", "", "", "", "",  # discretionaryAmt … faPercentage, faProfile (before 177)
            "", "", "", "", "", 0, "", -1,  # modelCode … exemptCode
            "", "", "", "", "",  # startingPrice … stockRangeUpper
            "", 0, 0, "", 3, 0,  # displaySize … triggerMethod
            "", 0, "", "",  # volatility … deltaNeutralAuxPrice (no delta-neutral order)
            0, 0, "", "", "",  # continuousUpdate … comboLegsDescrip
            0, 0, 0,  # combo legs, order combo legs, smart combo params
            "", "", "",  # scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement
            "",  # hedgeType
            "", "", 0, 0,  # clearingAccount, clearingIntent, notHeld, no delta-neutral contract
            "",  # algoStrategy
            0, self.status, 0, 0,  # solicited, status, randomizeSize, randomizePrice
            0,  # conditions
            "", "", "", 0, 0, "",  # trailStopPrice … autoCancelDate
            self.filled, 0, 0, "", 0, 0, 0,  # filledQuantity … parentPermId
            self.completed_time, self.completed_status,
        )  # fmt: skip


@attrs.frozen(kw_only=True)
class CompletedOrdersEnd:
    def fields(self) -> Fields:
        return (S.COMPLETED_ORDERS_END,)


@attrs.frozen(kw_only=True)
class ExecutionDetails:
    req_id: int  # −1 for a live execution
    contract: WireContract
    order_id: int
    exec_id: str
    time: str  # IB date-time text
    account: str
    side: str  # BOT or SLD
    shares: int
    price: Decimal
    perm_id: int
    client_id: int
    cumulative_quantity: int
    average_price: Decimal
    order_ref: str

    def fields(self) -> Fields:
        return (
            S.EXECUTION_DETAILS, self.req_id, self.order_id, *self.contract.short_fields(),
            self.exec_id, self.time, self.account, self.contract.exchange, self.side,
            self.shares, self.price, self.perm_id, self.client_id, 0,
            self.cumulative_quantity, self.average_price, self.order_ref, "", "", "", 0,
        )  # fmt: skip


@attrs.frozen(kw_only=True)
class ExecutionDetailsEnd:
    req_id: int

    def fields(self) -> Fields:
        return (S.EXECUTION_DETAILS_END, 1, self.req_id)


@attrs.frozen(kw_only=True)
class CommissionReport:
    exec_id: str
    commission: Decimal
    currency: str = "USD"

    def fields(self) -> Fields:
        return (S.COMMISSION_REPORT, 1, self.exec_id, self.commission, self.currency, "", "", "")


# --- account ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PositionReport:
    account: str
    contract: WireContract
    position: int
    average_cost: Decimal  # dollars per contract, as IB reports it

    def fields(self) -> Fields:
        return (
            S.POSITION,
            3,
            self.account,
            *self.contract.short_fields(),
            self.position,
            self.average_cost,
        )


@attrs.frozen(kw_only=True)
class PositionEnd:
    def fields(self) -> Fields:
        return (S.POSITION_END, 1)


@attrs.frozen(kw_only=True)
class AccountValue:
    key: str
    value: str
    currency: str
    account: str

    def fields(self) -> Fields:
        return (S.ACCOUNT_VALUE, 2, self.key, self.value, self.currency, self.account)


@attrs.frozen(kw_only=True)
class PortfolioValue:
    contract: WireContract
    position: int
    market_price: Decimal
    market_value: Decimal
    average_cost: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    account: str

    def fields(self) -> Fields:
        c = self.contract
        return (
            S.PORTFOLIO_VALUE, 8, c.con_id, c.symbol, c.sec_type, c.last_trade_date, Decimal(0), "",
            c.multiplier, c.exchange, c.currency, c.local_symbol, c.trading_class,
            self.position, self.market_price, self.market_value, self.average_cost,
            self.unrealized_pnl, self.realized_pnl, self.account,
        )  # fmt: skip


@attrs.frozen(kw_only=True)
class AccountTime:
    time: str  # HH:MM

    def fields(self) -> Fields:
        return (S.ACCOUNT_UPDATE_TIME, 1, self.time)


@attrs.frozen(kw_only=True)
class AccountDownloadEnd:
    account: str

    def fields(self) -> Fields:
        return (S.ACCOUNT_DOWNLOAD_END, 1, self.account)


@attrs.frozen(kw_only=True)
class AccountUpdateMulti:
    req_id: int
    account: str
    key: str
    value: str
    currency: str

    def fields(self) -> Fields:
        return (
            S.ACCOUNT_UPDATE_MULTI, 1, self.req_id, self.account, "", self.key, self.value,
            self.currency,
        )  # fmt: skip


@attrs.frozen(kw_only=True)
class AccountUpdateMultiEnd:
    req_id: int

    def fields(self) -> Fields:
        return (S.ACCOUNT_UPDATE_MULTI_END, 1, self.req_id)


@attrs.frozen(kw_only=True)
class AccountSummary:
    req_id: int
    account: str
    tag: str
    value: str
    currency: str

    def fields(self) -> Fields:
        return (
            S.ACCOUNT_SUMMARY, 1, self.req_id, self.account, self.tag, self.value, self.currency,
        )  # fmt: skip


@attrs.frozen(kw_only=True)
class AccountSummaryEnd:
    req_id: int

    def fields(self) -> Fields:
        return (S.ACCOUNT_SUMMARY_END, 1, self.req_id)


@attrs.frozen(kw_only=True)
class PnL:
    req_id: int
    daily: Decimal
    unrealized: Decimal
    realized: Decimal

    def fields(self) -> Fields:
        return (S.PNL, self.req_id, self.daily, self.unrealized, self.realized)


@attrs.frozen(kw_only=True)
class PnLSingle:
    req_id: int
    position: int
    daily: Decimal
    unrealized: Decimal
    realized: Decimal
    value: Decimal

    def fields(self) -> Fields:
        return (
            S.PNL_SINGLE, self.req_id, self.position, self.daily, self.unrealized,
            self.realized, self.value,
        )  # fmt: skip


@attrs.frozen(kw_only=True)
class PositionMulti:
    req_id: int
    account: str
    contract: WireContract
    position: int
    average_cost: Decimal

    def fields(self) -> Fields:
        return (
            S.POSITION_MULTI, 1, self.req_id, self.account, *self.contract.short_fields(),
            self.position, self.average_cost, "",
        )  # fmt: skip


@attrs.frozen(kw_only=True)
class PositionMultiEnd:
    req_id: int

    def fields(self) -> Fields:
        return (S.POSITION_MULTI_END, 1, self.req_id)


# --- what the gateway has nothing for: IB's empty answers --------------------------------------


@attrs.frozen(kw_only=True)
class DisplayGroupList:
    req_id: int

    def fields(self) -> Fields:
        return (S.DISPLAY_GROUP_LIST, 1, self.req_id, "")


@attrs.frozen(kw_only=True)
class DisplayGroupUpdated:
    req_id: int

    def fields(self) -> Fields:
        return (S.DISPLAY_GROUP_UPDATED, 1, self.req_id, "")


@attrs.frozen(kw_only=True)
class OptionParametersEnd:
    """securityDefinitionOptionParameterEnd: the simulator lists no options."""

    req_id: int

    def fields(self) -> Fields:
        return (S.SECURITY_DEFINITION_OPTION_PARAMETER_END, self.req_id)


@attrs.frozen(kw_only=True)
class SoftDollarTiers:
    req_id: int

    def fields(self) -> Fields:
        return (S.SOFT_DOLLAR_TIERS, self.req_id, 0)


@attrs.frozen(kw_only=True)
class FamilyCodes:
    def fields(self) -> Fields:
        return (S.FAMILY_CODES, 0)


@attrs.frozen(kw_only=True)
class SmartComponents:
    """No SMART routing components: futures route to their one exchange."""

    req_id: int

    def fields(self) -> Fields:
        return (S.SMART_COMPONENTS, self.req_id, 0)


@attrs.frozen(kw_only=True)
class NewsProviders:
    def fields(self) -> Fields:
        return (S.NEWS_PROVIDERS, 0)


@attrs.frozen(kw_only=True)
class HistoricalNewsEnd:
    req_id: int

    def fields(self) -> Fields:
        return (S.HISTORICAL_NEWS_END, self.req_id, 0)


@attrs.frozen(kw_only=True)
class UserInfo:
    req_id: int

    def fields(self) -> Fields:
        return (S.USER_INFO, self.req_id, "")


@attrs.frozen(kw_only=True)
class ScannerParameters:
    xml: str = '<?xml version="1.0" encoding="UTF-8"?><ScanParameterResponse/>'

    def fields(self) -> Fields:
        return (S.SCANNER_PARAMETERS, 1, self.xml)


# --- the catalog's own answers -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SymbolSamples:
    req_id: int
    contracts: tuple[WireContract, ...]

    def fields(self) -> Fields:
        rows: list[FieldValue] = []
        for c in self.contracts:
            rows += [c.con_id, c.symbol, c.sec_type, c.exchange, c.currency, 0]
        return (S.SYMBOL_SAMPLES, self.req_id, len(self.contracts), *rows)


@attrs.frozen(kw_only=True)
class MarketDepthExchanges:
    exchanges: tuple[str, ...]

    def fields(self) -> Fields:
        rows: list[FieldValue] = []
        for exchange in self.exchanges:
            rows += [exchange, "FUT", exchange, "Deep", 1]
        return (S.MKT_DEPTH_EXCHANGES, len(self.exchanges), *rows)


@attrs.frozen(kw_only=True)
class MarketRule:
    """One price increment from zero: a futures contract's tick."""

    rule_id: int
    increment: Decimal | None  # None: no such rule

    def fields(self) -> Fields:
        if self.increment is None:
            return (S.MARKET_RULE, self.rule_id, 0)
        return (S.MARKET_RULE, self.rule_id, 1, Decimal(0), self.increment)


# --- historical data ---------------------------------------------------------------------------


class HistoricalBar(NamedTuple):
    """One bar as historicalData carries it, as wire text, in the order of the wire: its
    date (per formatDate), prices, volume, WAP and trade count ("count"). A named tuple of
    text (a year of minutes is 100,000 bars or more): its fields are its row."""

    date: str
    open: str
    high: str
    low: str
    close: str
    volume: str
    wap: str
    trades: str


@attrs.frozen(kw_only=True)
class HistoricalData:
    """``rows``: the bars' fields (`HistoricalBar` order) already joined by NULs, ``count``
    bars of them (`_bar_table.wire_rows`: a year of minutes is a million fields)."""

    req_id: int
    start: str
    end: str
    count: int
    rows: str

    def fields(self) -> Fields:
        head = (S.HISTORICAL_DATA, self.req_id, self.start, self.end, self.count)
        return (*head, Joined(self.rows)) if self.count else head


@attrs.frozen(kw_only=True)
class HistoricalDataUpdate:
    """keepUpToDate: the newest bar, again each time it changes."""

    req_id: int
    bar: HistoricalBar

    def fields(self) -> Fields:
        b = self.bar
        return (
            S.HISTORICAL_DATA_UPDATE, self.req_id, b.trades, b.date, b.open, b.close, b.high,
            b.low, b.wap, b.volume,
        )  # fmt: skip


@attrs.frozen(kw_only=True)
class HeadTimestamp:
    req_id: int
    timestamp: str

    def fields(self) -> Fields:
        return (S.HEAD_TIMESTAMP, self.req_id, self.timestamp)


@attrs.frozen(kw_only=True)
class Histogram:
    req_id: int
    rows: tuple[tuple[Decimal, int], ...]  # price, lots traded there

    def fields(self) -> Fields:
        values = [value for row in self.rows for value in row]
        return (S.HISTOGRAM_DATA, self.req_id, len(self.rows), *values)


@attrs.frozen(kw_only=True)
class RealTimeBar:
    req_id: int
    time: int  # epoch seconds of the bar's start
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    wap: Decimal
    count: int

    def fields(self) -> Fields:
        return (
            S.REAL_TIME_BARS, 3, self.req_id, self.time, self.open, self.high, self.low,
            self.close, self.volume, self.wap, self.count,
        )  # fmt: skip


# --- streams -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class MarketDepth:
    """One change of a depth row: operation 0 insert, 1 update, 2 delete; side 0 ask, 1 bid."""

    req_id: int
    position: int
    operation: int
    side: int
    price: Decimal
    size: int

    def fields(self) -> Fields:
        return (
            S.MARKET_DEPTH, 1, self.req_id, self.position, self.operation, self.side,
            self.price, self.size,
        )  # fmt: skip


@attrs.frozen(kw_only=True)
class TickByTickLast:
    """A trade: tick type 1 (Last) or 2 (AllLast)."""

    req_id: int
    tick_type: int
    time: int
    price: Decimal
    size: int
    exchange: str

    def fields(self) -> Fields:
        return (
            S.TICK_BY_TICK, self.req_id, self.tick_type, self.time, self.price, self.size, 0,
            self.exchange, "",
        )  # fmt: skip


@attrs.frozen(kw_only=True)
class TickByTickBidAsk:
    req_id: int
    time: int
    bid: Decimal
    ask: Decimal
    bid_size: int
    ask_size: int

    def fields(self) -> Fields:
        return (
            S.TICK_BY_TICK, self.req_id, 3, self.time, self.bid, self.ask, self.bid_size,
            self.ask_size, 0,
        )  # fmt: skip


@attrs.frozen(kw_only=True)
class TickByTickMidPoint:
    req_id: int
    time: int
    mid: Decimal

    def fields(self) -> Fields:
        return (S.TICK_BY_TICK, self.req_id, 4, self.time, self.mid)


@attrs.frozen(kw_only=True)
class HistoricalTicks:
    """Historical ticks, all at once: ``kind`` 96 MIDPOINT (time, price), 97 BID_ASK (time,
    bid, ask), 98 TRADES (time, price, size); sizes a quote record does not keep are 0."""

    req_id: int
    kind: S
    rows: tuple[tuple[int, Decimal, Decimal, int], ...]  # time, price or bid, ask, size

    def fields(self) -> Fields:
        values: list[FieldValue] = []
        for time, first, second, size in self.rows:
            if self.kind is S.HISTORICAL_TICKS_BID_ASK:
                values += [time, 0, first, second, 0, 0]
            elif self.kind is S.HISTORICAL_TICKS_LAST:
                values += [time, 0, first, size, "", ""]
            else:
                values += [time, "", first, 0]
        return (self.kind, self.req_id, len(self.rows), *values, 1)
