"""What a client sends, as typed values: `parse_request` turns one frame's fields into one.

Layouts follow ib_async's ``client.py`` at server version 157. Only the fields the gateway
uses are kept; the rest of a long message (placeOrder's tail) is read past. A request for a
service the simulated gateway does not have (news, scanners, options, FA …) becomes
`UnservedRequest`, carrying its request id so that the refusal can name it; a message id no
client sends becomes `UnknownMessage`; a malformed message is a `WireError`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

import attrs

from ._message_ids import ClientMessage as M
from ._order import IBOrder
from ._wire import WireError

UNSET_DOUBLE_TEXT = "1.7976931348623157e+308"
"""ib_async's 'no value' for a float, when a client sends it unconverted."""


class FieldReader:
    """A cursor over one message's fields; running out is a `WireError` (truncated)."""

    def __init__(self, fields: tuple[str, ...], *, start: int = 1) -> None:
        self._fields = fields
        self._at = start

    def text(self) -> str:
        if self._at >= len(self._fields):
            raise WireError(f"message {self._fields[0]!r} is truncated at field {self._at}")
        value = self._fields[self._at]
        self._at += 1
        return value

    def integer(self) -> int:
        text = self.text()
        try:
            return int(text) if text else 0
        except ValueError:
            raise WireError(f"field {self._at - 1} is not an integer: {text!r}") from None

    def boolean(self) -> bool:
        return self.integer() != 0

    def decimal(self) -> Decimal | None:
        """A number, or None for an empty field or ib_async's unset sentinel."""
        text = self.text()
        if not text or text.lower() == UNSET_DOUBLE_TEXT:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise WireError(f"field {self._at - 1} is not a number: {text!r}") from None
        if not value.is_finite() or abs(value) >= Decimal("1e300"):
            return None
        return value

    def skip(self, count: int) -> None:
        for _ in range(count):
            self.text()


@attrs.frozen(kw_only=True)
class ContractFields:
    """The twelve contract fields a client sends (``Contract`` flattened by ib_async)."""

    con_id: int = 0
    symbol: str = ""
    sec_type: str = ""
    last_trade_date_or_contract_month: str = ""
    strike: Decimal | None = None
    right: str = ""
    multiplier: str = ""
    exchange: str = ""
    primary_exchange: str = ""
    currency: str = ""
    local_symbol: str = ""
    trading_class: str = ""

    @classmethod
    def read(cls, reader: FieldReader) -> ContractFields:
        return cls(
            con_id=reader.integer(),
            symbol=reader.text(),
            sec_type=reader.text(),
            last_trade_date_or_contract_month=reader.text(),
            strike=reader.decimal(),
            right=reader.text(),
            multiplier=reader.text(),
            exchange=reader.text(),
            primary_exchange=reader.text(),
            currency=reader.text(),
            local_symbol=reader.text(),
            trading_class=reader.text(),
        )


# --- connection and ids ----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class StartApi:
    client_id: int
    capabilities: str = ""


@attrs.frozen(kw_only=True)
class RequestIds:
    count: int


@attrs.frozen(kw_only=True)
class RequestCurrentTime:
    pass


@attrs.frozen(kw_only=True)
class RequestManagedAccounts:
    pass


@attrs.frozen(kw_only=True)
class SetMarketDataType:
    market_data_type: int


# --- contracts and market data ---------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RequestContractDetails:
    req_id: int
    contract: ContractFields


@attrs.frozen(kw_only=True)
class RequestMarketData:
    ticker_id: int
    contract: ContractFields
    generic_ticks: str = ""
    snapshot: bool = False


@attrs.frozen(kw_only=True)
class CancelMarketData:
    ticker_id: int


# --- orders ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PlaceOrder:
    """A new order, or a modification when ``order_id`` is already working."""

    order_id: int
    contract: ContractFields
    order: IBOrder
    what_if: bool = False  # a margin and commission check: answered, never placed


@attrs.frozen(kw_only=True)
class CancelOrder:
    order_id: int


@attrs.frozen(kw_only=True)
class GlobalCancel:
    pass


@attrs.frozen(kw_only=True)
class RequestOpenOrders:
    """reqOpenOrders (this client's) or, with ``all_clients``, reqAllOpenOrders."""

    all_clients: bool = False


@attrs.frozen(kw_only=True)
class RequestAutoOpenOrders:
    auto_bind: bool


@attrs.frozen(kw_only=True)
class RequestCompletedOrders:
    api_only: bool


@attrs.frozen(kw_only=True)
class RequestExecutions:
    req_id: int
    client_id: int = 0  # 0: every client's
    account: str = ""
    time: str = ""
    symbol: str = ""
    sec_type: str = ""
    exchange: str = ""
    side: str = ""


# --- account ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RequestPositions:
    pass


@attrs.frozen(kw_only=True)
class CancelPositions:
    pass


@attrs.frozen(kw_only=True)
class RequestAccountUpdates:
    subscribe: bool
    account: str


@attrs.frozen(kw_only=True)
class RequestAccountUpdatesMulti:
    req_id: int
    account: str
    model_code: str


@attrs.frozen(kw_only=True)
class CancelAccountUpdatesMulti:
    req_id: int


@attrs.frozen(kw_only=True)
class RequestAccountSummary:
    req_id: int
    group: str
    tags: str


@attrs.frozen(kw_only=True)
class CancelAccountSummary:
    req_id: int


@attrs.frozen(kw_only=True)
class RequestPnL:
    req_id: int
    account: str


@attrs.frozen(kw_only=True)
class CancelPnL:
    req_id: int


@attrs.frozen(kw_only=True)
class RequestPnLSingle:
    req_id: int
    account: str
    con_id: int


@attrs.frozen(kw_only=True)
class RequestPositionsMulti:
    req_id: int
    account: str


# --- market data the simulator generates -----------------------------------------------------


@attrs.frozen(kw_only=True)
class RequestHistoricalData:
    req_id: int
    contract: ContractFields
    end: str  # IB date-time text, or empty for now
    bar_size: str  # e.g. "1 min"
    duration: str  # e.g. "1 D"
    use_rth: bool
    what_to_show: str  # TRADES, MIDPOINT, BID, ASK, BID_ASK
    format_date: int  # 1: text, 2: epoch seconds
    keep_up_to_date: bool


@attrs.frozen(kw_only=True)
class RequestHeadTimestamp:
    req_id: int
    contract: ContractFields
    use_rth: bool
    what_to_show: str
    format_date: int


@attrs.frozen(kw_only=True)
class RequestHistoricalTicks:
    req_id: int
    contract: ContractFields
    start: str
    end: str
    count: int
    what_to_show: str  # TRADES, MIDPOINT, BID_ASK


@attrs.frozen(kw_only=True)
class RequestHistogram:
    req_id: int
    contract: ContractFields
    period: str


@attrs.frozen(kw_only=True)
class RequestRealTimeBars:
    req_id: int
    contract: ContractFields
    what_to_show: str


@attrs.frozen(kw_only=True)
class RequestMarketDepth:
    req_id: int
    contract: ContractFields
    rows: int


@attrs.frozen(kw_only=True)
class RequestTickByTick:
    req_id: int
    contract: ContractFields
    tick_type: str  # Last, AllLast, BidAsk, MidPoint


@attrs.frozen(kw_only=True)
class RequestMatchingSymbols:
    req_id: int
    pattern: str


@attrs.frozen(kw_only=True)
class RequestMarketRule:
    rule_id: int


@attrs.frozen(kw_only=True)
class CancelSubscription:
    """The end of a subscription or of a pending request (``message`` says which kind)."""

    message: M
    req_id: int


@attrs.frozen(kw_only=True)
class UnservedRequest:
    """A request for a service the simulated gateway does not have, or has nothing for (news,
    scanners, options, FA, display groups …); ``req_id`` is −1 when the message has none."""

    message: M
    req_id: int


@attrs.frozen(kw_only=True)
class UnknownMessage:
    """A well-framed message whose id no client sends."""

    message_id: int


ClientRequest = (
    StartApi
    | RequestIds
    | RequestCurrentTime
    | RequestManagedAccounts
    | SetMarketDataType
    | RequestContractDetails
    | RequestMarketData
    | CancelMarketData
    | PlaceOrder
    | CancelOrder
    | GlobalCancel
    | RequestOpenOrders
    | RequestAutoOpenOrders
    | RequestCompletedOrders
    | RequestExecutions
    | RequestPositions
    | CancelPositions
    | RequestAccountUpdates
    | RequestAccountUpdatesMulti
    | CancelAccountUpdatesMulti
    | RequestAccountSummary
    | CancelAccountSummary
    | RequestPnL
    | CancelPnL
    | RequestPnLSingle
    | RequestPositionsMulti
    | RequestHistoricalData
    | RequestHeadTimestamp
    | RequestHistoricalTicks
    | RequestHistogram
    | RequestRealTimeBars
    | RequestMarketDepth
    | RequestTickByTick
    | RequestMatchingSymbols
    | RequestMarketRule
    | CancelSubscription
    | UnservedRequest
    | UnknownMessage
)


# --- parsing ---------------------------------------------------------------------------------


def _market_data(r: FieldReader) -> RequestMarketData:
    r.skip(1)  # version
    ticker_id = r.integer()
    contract = ContractFields.read(r)
    if contract.sec_type == "BAG":
        r.skip(4 * r.integer())
    if r.boolean():  # delta-neutral contract
        r.skip(3)
    generic_ticks = r.text()
    return RequestMarketData(
        ticker_id=ticker_id, contract=contract, generic_ticks=generic_ticks, snapshot=r.boolean()
    )


def _place_order(r: FieldReader) -> PlaceOrder:
    order_id = r.integer()
    contract = ContractFields.read(r)
    r.skip(2)  # secIdType, secId
    action, quantity, order_type = r.text(), r.decimal(), r.text()
    limit_price, aux_price, tif, oca_group, account = (
        r.decimal(),
        r.decimal(),
        r.text(),
        r.text(),
        r.text(),
    )
    r.skip(2)  # openClose, origin
    order_ref, transmit, parent_id = r.text(), r.boolean(), r.integer()
    order = IBOrder(
        action=action,
        quantity=quantity,
        order_type=order_type,
        limit_price=limit_price,
        aux_price=aux_price,
        tif=tif,
        oca_group=oca_group,
        account=account,
        order_ref=order_ref,
        transmit=transmit,
        parent_id=parent_id,
    )
    what_if = _what_if(r, combo=contract.sec_type == "BAG")
    return PlaceOrder(order_id=order_id, contract=contract, order=order, what_if=what_if)


def _what_if(r: FieldReader, *, combo: bool) -> bool:
    """placeOrder's whatIf flag, read past the optional groups before it (ib_async's
    ``placeOrder`` at version 157: each group is there only when its leading field says so)."""
    r.skip(6)  # blockOrder … hidden
    if combo:
        r.skip(8 * r.integer())  # combo legs
        r.skip(r.integer())  # order combo leg prices
        r.skip(2 * r.integer())  # smart combo routing params
    r.skip(8)  # "", discretionaryAmt … faProfile
    r.skip(22)  # modelCode … volatilityType
    if r.text():  # deltaNeutralOrderType
        r.skip(9)  # its aux price, then its eight fields
    else:
        r.skip(1)
    r.skip(6)  # continuousUpdate … scaleSubsLevelSize
    increment = r.decimal()  # scalePriceIncrement
    if increment is not None and increment > 0:
        r.skip(7)
    r.skip(3)  # scaleTable, activeStartTime, activeStopTime
    if r.text():  # hedgeType
        r.skip(1)
    r.skip(4)  # optOutSmartRouting … notHeld
    if r.boolean():  # delta-neutral contract
        r.skip(3)
    if r.text():  # algoStrategy
        r.skip(2 * r.integer())
    r.skip(1)  # algoId
    return r.boolean()


def _contract_details(r: FieldReader) -> RequestContractDetails:
    r.skip(1)  # version
    return RequestContractDetails(req_id=r.integer(), contract=ContractFields.read(r))


def _executions(r: FieldReader) -> RequestExecutions:
    r.skip(1)  # version
    return RequestExecutions(
        req_id=r.integer(),
        client_id=r.integer(),
        account=r.text(),
        time=r.text(),
        symbol=r.text(),
        sec_type=r.text(),
        exchange=r.text(),
        side=r.text(),
    )


def _versioned(
    parse: Callable[[FieldReader], ClientRequest],
) -> Callable[[FieldReader], ClientRequest]:
    """A parser for a message whose second field is a version the gateway ignores."""

    def parse_after_version(r: FieldReader) -> ClientRequest:
        r.skip(1)
        return parse(r)

    return parse_after_version


def _historical_data(r: FieldReader) -> RequestHistoricalData:
    req_id, contract = r.integer(), ContractFields.read(r)
    r.skip(1)  # includeExpired
    end, bar_size, duration, use_rth = r.text(), r.text(), r.text(), r.boolean()
    what_to_show, format_date = r.text(), r.integer()
    if contract.sec_type == "BAG":
        r.skip(4 * r.integer())
    return RequestHistoricalData(
        req_id=req_id,
        contract=contract,
        end=end,
        bar_size=bar_size,
        duration=duration,
        use_rth=use_rth,
        what_to_show=what_to_show,
        format_date=format_date,
        keep_up_to_date=r.boolean(),
    )


def _head_timestamp(r: FieldReader) -> RequestHeadTimestamp:
    req_id, contract = r.integer(), ContractFields.read(r)
    r.skip(1)  # includeExpired
    use_rth, what_to_show = r.boolean(), r.text()
    return RequestHeadTimestamp(
        req_id=req_id,
        contract=contract,
        use_rth=use_rth,
        what_to_show=what_to_show,
        format_date=r.integer(),
    )


def _historical_ticks(r: FieldReader) -> RequestHistoricalTicks:
    req_id, contract = r.integer(), ContractFields.read(r)
    r.skip(1)  # includeExpired
    start, end, count = r.text(), r.text(), r.integer()
    return RequestHistoricalTicks(
        req_id=req_id, contract=contract, start=start, end=end, count=count, what_to_show=r.text()
    )


def _histogram(r: FieldReader) -> RequestHistogram:
    req_id, contract = r.integer(), ContractFields.read(r)
    r.skip(2)  # includeExpired, useRTH
    return RequestHistogram(req_id=req_id, contract=contract, period=r.text())


def _real_time_bars(r: FieldReader) -> RequestRealTimeBars:
    req_id, contract = r.integer(), ContractFields.read(r)
    r.skip(1)  # bar size: IB serves 5 seconds only
    return RequestRealTimeBars(req_id=req_id, contract=contract, what_to_show=r.text())


def _market_depth(r: FieldReader) -> RequestMarketDepth:
    req_id, contract = r.integer(), ContractFields.read(r)
    return RequestMarketDepth(req_id=req_id, contract=contract, rows=r.integer())


def _tick_by_tick(r: FieldReader) -> RequestTickByTick:
    req_id, contract = r.integer(), ContractFields.read(r)
    return RequestTickByTick(req_id=req_id, contract=contract, tick_type=r.text())


def _pnl_single(r: FieldReader) -> RequestPnLSingle:
    req_id, account = r.integer(), r.text()
    r.skip(1)  # modelCode
    return RequestPnLSingle(req_id=req_id, account=account, con_id=r.integer())


def _cancel(message: M, *, versioned: bool) -> Callable[[FieldReader], ClientRequest]:
    def parse(r: FieldReader) -> ClientRequest:
        r.skip(1 if versioned else 0)
        return CancelSubscription(message=message, req_id=r.integer())

    return parse


def _unserved(message: M, req_id_at: int | None) -> Callable[[FieldReader], ClientRequest]:
    """``message`` is not served; its request id is field ``req_id_at`` (None: it has none)."""

    def parse(r: FieldReader) -> ClientRequest:
        if req_id_at is None:
            return UnservedRequest(message=message, req_id=-1)
        r.skip(req_id_at - 1)
        return UnservedRequest(message=message, req_id=r.integer())

    return parse


_PARSERS: dict[M, Callable[[FieldReader], ClientRequest]] = {
    M.REQ_MKT_DATA: _market_data,
    M.CANCEL_MKT_DATA: _versioned(lambda r: CancelMarketData(ticker_id=r.integer())),
    M.PLACE_ORDER: _place_order,
    M.CANCEL_ORDER: _versioned(lambda r: CancelOrder(order_id=r.integer())),
    M.REQ_OPEN_ORDERS: _versioned(lambda r: RequestOpenOrders()),
    M.REQ_ACCOUNT_UPDATES: _versioned(
        lambda r: RequestAccountUpdates(subscribe=r.boolean(), account=r.text())
    ),
    M.REQ_EXECUTIONS: _executions,
    M.REQ_IDS: _versioned(lambda r: RequestIds(count=r.integer())),
    M.REQ_CONTRACT_DETAILS: _contract_details,
    M.REQ_MKT_DEPTH: _versioned(_market_depth),
    M.CANCEL_MKT_DEPTH: _cancel(M.CANCEL_MKT_DEPTH, versioned=True),
    M.REQ_NEWS_BULLETINS: _unserved(M.REQ_NEWS_BULLETINS, None),
    M.CANCEL_NEWS_BULLETINS: _unserved(M.CANCEL_NEWS_BULLETINS, None),
    M.SET_SERVER_LOG_LEVEL: _unserved(M.SET_SERVER_LOG_LEVEL, None),
    M.REQ_AUTO_OPEN_ORDERS: _versioned(lambda r: RequestAutoOpenOrders(auto_bind=r.boolean())),
    M.REQ_ALL_OPEN_ORDERS: _versioned(lambda r: RequestOpenOrders(all_clients=True)),
    M.REQ_MANAGED_ACCOUNTS: _versioned(lambda r: RequestManagedAccounts()),
    M.REQUEST_FA: _unserved(M.REQUEST_FA, None),
    M.REPLACE_FA: _unserved(M.REPLACE_FA, 4),
    M.REQ_HISTORICAL_DATA: _historical_data,
    M.EXERCISE_OPTIONS: _unserved(M.EXERCISE_OPTIONS, 2),
    M.REQ_SCANNER_SUBSCRIPTION: _unserved(M.REQ_SCANNER_SUBSCRIPTION, 1),
    M.CANCEL_SCANNER_SUBSCRIPTION: _cancel(M.CANCEL_SCANNER_SUBSCRIPTION, versioned=True),
    M.REQ_SCANNER_PARAMETERS: _unserved(M.REQ_SCANNER_PARAMETERS, None),
    M.CANCEL_HISTORICAL_DATA: _cancel(M.CANCEL_HISTORICAL_DATA, versioned=True),
    M.REQ_CURRENT_TIME: _versioned(lambda r: RequestCurrentTime()),
    M.REQ_REAL_TIME_BARS: _versioned(_real_time_bars),
    M.CANCEL_REAL_TIME_BARS: _cancel(M.CANCEL_REAL_TIME_BARS, versioned=True),
    M.REQ_FUNDAMENTAL_DATA: _unserved(M.REQ_FUNDAMENTAL_DATA, 2),
    M.CANCEL_FUNDAMENTAL_DATA: _cancel(M.CANCEL_FUNDAMENTAL_DATA, versioned=True),
    M.REQ_CALC_IMPLIED_VOLAT: _unserved(M.REQ_CALC_IMPLIED_VOLAT, 2),
    M.REQ_CALC_OPTION_PRICE: _unserved(M.REQ_CALC_OPTION_PRICE, 2),
    M.CANCEL_CALC_IMPLIED_VOLAT: _cancel(M.CANCEL_CALC_IMPLIED_VOLAT, versioned=True),
    M.CANCEL_CALC_OPTION_PRICE: _cancel(M.CANCEL_CALC_OPTION_PRICE, versioned=True),
    M.REQ_GLOBAL_CANCEL: _versioned(lambda r: GlobalCancel()),
    M.REQ_MARKET_DATA_TYPE: _versioned(lambda r: SetMarketDataType(market_data_type=r.integer())),
    M.REQ_POSITIONS: _versioned(lambda r: RequestPositions()),
    M.REQ_ACCOUNT_SUMMARY: _versioned(
        lambda r: RequestAccountSummary(req_id=r.integer(), group=r.text(), tags=r.text())
    ),
    M.CANCEL_ACCOUNT_SUMMARY: _versioned(lambda r: CancelAccountSummary(req_id=r.integer())),
    M.CANCEL_POSITIONS: _versioned(lambda r: CancelPositions()),
    M.VERIFY_REQUEST: _unserved(M.VERIFY_REQUEST, None),
    M.VERIFY_MESSAGE: _unserved(M.VERIFY_MESSAGE, None),
    M.QUERY_DISPLAY_GROUPS: _unserved(M.QUERY_DISPLAY_GROUPS, 2),
    M.SUBSCRIBE_TO_GROUP_EVENTS: _unserved(M.SUBSCRIBE_TO_GROUP_EVENTS, 2),
    M.UPDATE_DISPLAY_GROUP: _unserved(M.UPDATE_DISPLAY_GROUP, 2),
    M.UNSUBSCRIBE_FROM_GROUP_EVENTS: _cancel(M.UNSUBSCRIBE_FROM_GROUP_EVENTS, versioned=True),
    M.START_API: _versioned(lambda r: StartApi(client_id=r.integer(), capabilities=r.text())),
    M.VERIFY_AND_AUTH_REQUEST: _unserved(M.VERIFY_AND_AUTH_REQUEST, None),
    M.VERIFY_AND_AUTH_MESSAGE: _unserved(M.VERIFY_AND_AUTH_MESSAGE, None),
    M.REQ_POSITIONS_MULTI: _versioned(
        lambda r: RequestPositionsMulti(req_id=r.integer(), account=r.text())
    ),
    M.CANCEL_POSITIONS_MULTI: _cancel(M.CANCEL_POSITIONS_MULTI, versioned=True),
    M.REQ_ACCOUNT_UPDATES_MULTI: _versioned(
        lambda r: RequestAccountUpdatesMulti(
            req_id=r.integer(), account=r.text(), model_code=r.text()
        )
    ),
    M.CANCEL_ACCOUNT_UPDATES_MULTI: _versioned(
        lambda r: CancelAccountUpdatesMulti(req_id=r.integer())
    ),
    M.REQ_SEC_DEF_OPT_PARAMS: _unserved(M.REQ_SEC_DEF_OPT_PARAMS, 1),
    M.REQ_SOFT_DOLLAR_TIERS: _unserved(M.REQ_SOFT_DOLLAR_TIERS, 1),
    M.REQ_FAMILY_CODES: _unserved(M.REQ_FAMILY_CODES, None),
    M.REQ_MATCHING_SYMBOLS: lambda r: RequestMatchingSymbols(req_id=r.integer(), pattern=r.text()),
    M.REQ_MKT_DEPTH_EXCHANGES: _unserved(M.REQ_MKT_DEPTH_EXCHANGES, None),
    M.REQ_SMART_COMPONENTS: _unserved(M.REQ_SMART_COMPONENTS, 1),
    M.REQ_NEWS_ARTICLE: _unserved(M.REQ_NEWS_ARTICLE, 1),
    M.REQ_NEWS_PROVIDERS: _unserved(M.REQ_NEWS_PROVIDERS, None),
    M.REQ_HISTORICAL_NEWS: _unserved(M.REQ_HISTORICAL_NEWS, 1),
    M.REQ_HEAD_TIMESTAMP: _head_timestamp,
    M.REQ_HISTOGRAM_DATA: _histogram,
    M.CANCEL_HISTOGRAM_DATA: _cancel(M.CANCEL_HISTOGRAM_DATA, versioned=False),
    M.CANCEL_HEAD_TIMESTAMP: _cancel(M.CANCEL_HEAD_TIMESTAMP, versioned=False),
    M.REQ_MARKET_RULE: lambda r: RequestMarketRule(rule_id=r.integer()),
    M.REQ_PNL: lambda r: RequestPnL(req_id=r.integer(), account=r.text()),
    M.CANCEL_PNL: lambda r: CancelPnL(req_id=r.integer()),
    M.REQ_PNL_SINGLE: _pnl_single,
    M.CANCEL_PNL_SINGLE: _cancel(M.CANCEL_PNL_SINGLE, versioned=False),
    M.REQ_HISTORICAL_TICKS: _historical_ticks,
    M.REQ_TICK_BY_TICK_DATA: _tick_by_tick,
    M.CANCEL_TICK_BY_TICK_DATA: _cancel(M.CANCEL_TICK_BY_TICK_DATA, versioned=False),
    M.REQ_COMPLETED_ORDERS: lambda r: RequestCompletedOrders(api_only=r.boolean()),
    M.REQ_WSH_META_DATA: _unserved(M.REQ_WSH_META_DATA, 1),
    M.CANCEL_WSH_META_DATA: _cancel(M.CANCEL_WSH_META_DATA, versioned=False),
    M.REQ_WSH_EVENT_DATA: _unserved(M.REQ_WSH_EVENT_DATA, 1),
    M.CANCEL_WSH_EVENT_DATA: _cancel(M.CANCEL_WSH_EVENT_DATA, versioned=False),
    M.REQ_USER_INFO: _unserved(M.REQ_USER_INFO, 1),
}


def parse_request(fields: tuple[str, ...]) -> ClientRequest:
    """The request in one frame's fields (the first is the message id)."""
    try:
        message_id = int(fields[0])
    except ValueError:
        raise WireError(f"message id is not a number: {fields[0]!r}") from None
    if message_id not in M.__members__.values():
        return UnknownMessage(message_id=message_id)
    return _PARSERS[M(message_id)](FieldReader(fields))
