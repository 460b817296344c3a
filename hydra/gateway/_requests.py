"""What a client sends, as typed values: `parse_request` turns one frame's fields into one.

Layouts follow ib_async's ``client.py`` at server version 157. Only the fields the gateway
uses are kept; the rest of a long message (placeOrder's tail) is read past. A message id the
gateway does not serve becomes `UnsupportedRequest`; a malformed one is a `WireError`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

import attrs

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
    action: str
    quantity: Decimal | None
    order_type: str
    limit_price: Decimal | None
    aux_price: Decimal | None
    tif: str
    oca_group: str
    account: str
    order_ref: str
    transmit: bool
    parent_id: int


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
class UnsupportedRequest:
    """A well-framed message the gateway does not serve (historical data, news …)."""

    message_id: int
    fields: tuple[str, ...]


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
    | UnsupportedRequest
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
    return PlaceOrder(
        order_id=order_id,
        contract=contract,
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


_PARSERS: dict[int, Callable[[FieldReader], ClientRequest]] = {
    1: _market_data,
    2: _versioned(lambda r: CancelMarketData(ticker_id=r.integer())),
    3: _place_order,
    4: _versioned(lambda r: CancelOrder(order_id=r.integer())),
    5: _versioned(lambda r: RequestOpenOrders()),
    6: _versioned(lambda r: RequestAccountUpdates(subscribe=r.boolean(), account=r.text())),
    7: _executions,
    8: _versioned(lambda r: RequestIds(count=r.integer())),
    9: _contract_details,
    15: _versioned(lambda r: RequestAutoOpenOrders(auto_bind=r.boolean())),
    16: _versioned(lambda r: RequestOpenOrders(all_clients=True)),
    17: _versioned(lambda r: RequestManagedAccounts()),
    49: _versioned(lambda r: RequestCurrentTime()),
    58: _versioned(lambda r: GlobalCancel()),
    59: _versioned(lambda r: SetMarketDataType(market_data_type=r.integer())),
    61: _versioned(lambda r: RequestPositions()),
    62: _versioned(
        lambda r: RequestAccountSummary(req_id=r.integer(), group=r.text(), tags=r.text())
    ),
    63: _versioned(lambda r: CancelAccountSummary(req_id=r.integer())),
    64: _versioned(lambda r: CancelPositions()),
    71: _versioned(lambda r: StartApi(client_id=r.integer(), capabilities=r.text())),
    76: _versioned(
        lambda r: RequestAccountUpdatesMulti(
            req_id=r.integer(), account=r.text(), model_code=r.text()
        )
    ),
    77: _versioned(lambda r: CancelAccountUpdatesMulti(req_id=r.integer())),
    92: lambda r: RequestPnL(req_id=r.integer(), account=r.text()),
    93: lambda r: CancelPnL(req_id=r.integer()),
    99: lambda r: RequestCompletedOrders(api_only=r.boolean()),
}


def parse_request(fields: tuple[str, ...]) -> ClientRequest:
    """The request in one frame's fields (the first is the message id)."""
    try:
        message_id = int(fields[0])
    except ValueError:
        raise WireError(f"message id is not a number: {fields[0]!r}") from None
    parse = _PARSERS.get(message_id)
    if parse is None:
        return UnsupportedRequest(message_id=message_id, fields=fields)
    return parse(FieldReader(fields))
