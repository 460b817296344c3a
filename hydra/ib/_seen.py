"""What ib_async's event callbacks put on the Trio channel: one small frozen value per callback.

ib_async updates its `Trade` objects in place, so a callback cannot pass the object on: by the
time the Trio side reads it, a later message may have changed it (Submitted, then Filled, in
one socket read). Each callback therefore takes a snapshot through a named constructor here and
`send_nowait`s it; all interpretation happens on the Trio side (`hydra.ib._translate`).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs
from ib_async import AccountValue, CommissionReport, Contract, Ticker, Trade
from ib_async import Fill as IBFill
from ib_async import Position as IBPosition

from .._ids import ClientOrderId, ExecutionId
from ..brokers import BrokerEvent
from ._convert import client_order_id_from_ib, contract_month_from_ib


@attrs.frozen(kw_only=True)
class StatusSeen:
    """An order status; ``error_code`` is non-zero when ib_async made the status up from an
    error message (those never change a Hydra order's state)."""

    client_order_id: ClientOrderId
    order_id: int
    status: str
    filled: int
    remaining: int
    quantity: int
    error_code: int

    @classmethod
    def from_ib_trade(cls, trade: Trade) -> StatusSeen:
        order, status = trade.order, trade.orderStatus
        last = trade.log[-1] if trade.log else None
        return cls(
            client_order_id=client_order_id_from_ib(
                order.orderRef, client_id=order.clientId, order_id=order.orderId
            ),
            order_id=order.orderId,
            status=status.status,
            filled=int(status.filled),
            remaining=int(status.remaining),
            quantity=int(order.totalQuantity),
            error_code=last.errorCode if last is not None else 0,
        )


@attrs.frozen(kw_only=True)
class ExecutionSeen:
    """An execution arrived: the fill is reported now; its commission report comes later (or
    never)."""

    client_order_id: ClientOrderId
    fill: IBFill  # ib_async never changes a Fill's execution after creating it

    @classmethod
    def from_ib_fill(cls, trade: Trade, fill: IBFill) -> ExecutionSeen:
        return cls(client_order_id=_client_order_id(trade, fill), fill=fill)

    @property
    def execution_id(self) -> ExecutionId:
        return ExecutionId(self.fill.execution.execId)


@attrs.frozen(kw_only=True)
class CommissionSeen:
    """An execution's commission report. It carries the fill too: after a reconnect ib_async
    may tell of an execution made while Hydra was away only through its commission report."""

    client_order_id: ClientOrderId
    fill: IBFill
    commission: float

    @classmethod
    def from_ib_report(cls, trade: Trade, fill: IBFill, report: CommissionReport) -> CommissionSeen:
        return cls(client_order_id=_client_order_id(trade, fill), fill=fill,
                   commission=report.commission)

    @property
    def execution_id(self) -> ExecutionId:
        return ExecutionId(self.fill.execution.execId)


def _client_order_id(trade: Trade, fill: IBFill) -> ClientOrderId:
    execution = fill.execution
    return client_order_id_from_ib(
        execution.orderRef or trade.order.orderRef,
        client_id=execution.clientId,
        order_id=execution.orderId,
    )


@attrs.frozen(kw_only=True)
class ErrorSeen:
    """An IB error message: a request or order id (-1: none), a code and IB's text."""

    req_id: int
    code: int
    message: str


@attrs.frozen(kw_only=True)
class PositionSeen:
    symbol: str
    quantity: int
    average_cost: float  # dollars per contract, as IB gives it
    expiry: str | None = None  # delivery month, YYYYMM

    @classmethod
    def from_ib_position(cls, position: IBPosition) -> PositionSeen:
        return cls(
            symbol=position.contract.symbol,
            expiry=contract_month_from_ib(position.contract),
            quantity=int(position.position),
            average_cost=position.avgCost,
        )


@attrs.frozen(kw_only=True)
class AccountValueSeen:
    key: str
    value: str
    currency: str

    @classmethod
    def from_ib_value(cls, value: AccountValue) -> AccountValueSeen:
        return cls(key=value.tag, value=value.value, currency=value.currency)


@attrs.frozen(kw_only=True)
class Said:
    """An event the broker itself tells (a refusal it needs no IB message for), sent down the
    same channel so it keeps its place among IB's."""

    event: BrokerEvent


@attrs.frozen(kw_only=True)
class QuotesSeen:
    """Ticker updates arrived for these markets, each a symbol and delivery month (one socket
    read's worth); the Trio side stamps each market's quote with the Trio time it reads this."""

    markets: tuple[QuoteKey, ...]

    @classmethod
    def from_ib_tickers(cls, tickers: Iterable[Ticker]) -> QuotesSeen:
        return cls(markets=tuple(sorted(
            {quote_key(t.contract) for t in tickers if t.contract}, key=_by_month
        )))


QuoteKey = tuple[str, str | None]
"""A quoted market: symbol and delivery month (YYYYMM), as IB's contract names them."""


def quote_key(contract: Contract) -> QuoteKey:
    return contract.symbol, contract_month_from_ib(contract)


def _by_month(key: QuoteKey) -> tuple[str, str]:
    return key[0], key[1] or ""


@attrs.frozen(kw_only=True)
class SocketClosed:
    """ib_async's connection to IB Gateway/TWS closed."""


Seen = (
    StatusSeen
    | ExecutionSeen
    | CommissionSeen
    | ErrorSeen
    | PositionSeen
    | AccountValueSeen
    | QuotesSeen
    | SocketClosed
    | Said
)
"""Anything a callback sends."""
