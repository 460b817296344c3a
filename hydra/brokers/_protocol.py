"""`Broker`: order entry, events, snapshots, quotes and contract facts, in two halves.

`OrderEntry` (place, modify, cancel) is handed only to the risk actor's sender, the one holder
of order entry; everything else in Hydra sees a `MarketView` (the connection, events,
snapshots, quotes, contract facts), so "nothing reaches order entry except through risk" is a
fact mypy checks. A `Broker` is both. Every async method is Trio-flavoured. Implementations:
`hydra.sim.SimBroker` (the simulated exchange) and the IB adapter.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Protocol

import trio

from .._contracts import ContractSpec
from .._core._market_stats import DailyBar
from .._core._positions import Position
from .._core._sessions import SessionCalendar
from .._ids import ClientOrderId
from .._orders import Fill, OrderRequest
from .._quotes import Quote
from ._events import BrokerEvent
from ._snapshots import AccountSnapshot, OpenOrder


class OrderEntry(Protocol):
    """Sending, changing and cancelling orders. Called while disconnected, each raises
    `BrokerConnectionError`; refusals by the broker or exchange arrive as events."""

    async def place(self, request: OrderRequest) -> None:
        """Send a new order; ``request.client_order_id`` is Hydra's key for it from now on."""
        ...

    async def modify(
        self, client_order_id: ClientOrderId, *, limit_price: Decimal, quantity: int | None = None
    ) -> None:
        """Change a working order's limit price (and optionally its total quantity)."""
        ...

    async def cancel(self, client_order_id: ClientOrderId) -> None:
        """Ask for a working order to be cancelled."""
        ...


class MarketView(Protocol):
    """A broker session without order entry: the connection, events, snapshots, quotes."""

    async def connect(self) -> None:
        """Open the session (raises `BrokerConnectionError` when the broker is unreachable)."""
        ...

    async def close(self) -> None:
        """End the session; the event stream ends."""
        ...

    def events(self) -> trio.MemoryReceiveChannel[BrokerEvent]:
        """The one stream of acks, statuses, fills, account values and connection events."""
        ...

    async def open_orders(self) -> tuple[OpenOrder, ...]:
        """The account's orders that are still working."""
        ...

    async def completed_orders(self) -> tuple[ClientOrderId, ...]:
        """The client order ids of the account's orders that ended today (filled, cancelled or
        rejected), as the broker remembers them; IB's ``reqCompletedOrders``."""
        ...

    async def positions(self) -> tuple[Position, ...]:
        """The account's positions, one per contract traded (flat ones included)."""
        ...

    async def executions_since(self, time: dt.datetime) -> tuple[Fill, ...]:
        """Every execution at or after ``time``, in the order they happened."""
        ...

    async def account(self) -> AccountSnapshot:
        """Cash, realized and unrealized PnL, equity and commission paid, in dollars."""
        ...

    async def subscribe_quotes(self, contract: ContractSpec) -> None:
        """Start receiving quotes for ``contract``; then `quote_nowait` answers."""
        ...

    def quote_nowait(self, contract: ContractSpec) -> Quote:
        """The latest quote for a subscribed contract."""
        ...

    async def contract_details(self, symbol: str) -> ContractSpec:
        """The broker's facts for ``symbol`` (an unknown symbol is an `InvalidValueError`)."""
        ...

    async def daily_bars(self, contract: ContractSpec, *, sessions: int) -> tuple[DailyBar, ...]:
        """The daily trade bars of ``contract``'s market (its month, or the front month when
        it names none) over about its last ``sessions`` sessions, oldest first; today's, when
        it is trading, is the last and not yet complete. A session without trades has no
        bar; an unknown contract is an `InvalidValueError`."""

    async def trading_hours(self, contract: ContractSpec) -> SessionCalendar | None:
        """``contract``'s trading sessions from about now for some days, in the exchange's
        time zone (IB's ``tradingHours``); None when the broker gives none (then Hydra does not
        hold intents for the hours)."""
        ...

    async def liquid_hours(self, contract: ContractSpec) -> SessionCalendar | None:
        """``contract``'s liquid sessions, the part of its trading hours where the market
        trades in size (IB's ``liquidHours``: for the grains the day session, not the night),
        as `trading_hours` gives them; None when the broker gives none."""
        ...


class Broker(OrderEntry, MarketView, Protocol):
    """A whole broker session: order entry and the market view."""
