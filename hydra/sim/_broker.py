"""`SimBroker`: the `Broker` protocol over a shared `SimExchange`.

Each SimBroker is one client: it owns its event channel and its connected flag; the market,
the orders and the account live in the exchange, which several clients may share.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

import trio

from .._contracts import ContractSpec
from .._core._market_stats import DailyBar
from .._core._positions import Position
from .._core._sessions import SessionCalendar
from .._errors import BrokerConnectionError, BrokerError, QuoteUnusableError
from .._ids import ClientOrderId
from .._orders import Fill, OrderRequest
from .._quotes import Quote
from ..brokers import AccountSnapshot, Broker, BrokerEvent, OpenOrder
from ._daily_history import live_daily_bar, past_daily_bars
from ._exchange import ClientId, SimExchange
from ._hours import sim_calendar, sim_liquid_calendar
from ._ticket import OrderTicket

SIM_ACCOUNT = "DU1234567"


class SimBroker:
    """A client session with the simulated exchange."""

    def __init__(self, exchange: SimExchange, *, client_id: int | None = None) -> None:
        """A session with ``exchange``; under a ``client_id`` it takes over the orders of an
        earlier session with the same id (as after a restart)."""
        self._exchange = exchange
        self._client_id = client_id
        # Unbounded: the exchange is one task serving every client and must never block on a
        # slow reader (a real gateway buffers too); readers drain it at their own pace.
        self._send, self._receive = trio.open_memory_channel[BrokerEvent](math.inf)
        self._client: ClientId | None = None
        self._closed = False
        self._subscribed: set[ContractSpec] = set()  # as subscribed, month included

    @property
    def account_id(self) -> str:
        """The simulator's fake paper account (the simulated gateway reports the same one)."""
        return SIM_ACCOUNT

    @property
    def connected(self) -> bool:
        """True when connected and the exchange link is up."""
        return self._client is not None and self._exchange.link_up

    async def connect(self) -> None:
        await trio.lowlevel.checkpoint()
        if self._closed:
            raise BrokerConnectionError("this SimBroker was closed; open a new one")
        if not self._exchange.link_up:
            raise BrokerConnectionError("the simulated exchange link is down")
        if self._client is None:
            self._client = self._exchange.attach(self._send.send_nowait, client_id=self._client_id)

    async def close(self) -> None:
        await trio.lowlevel.checkpoint()
        if self._client is not None:
            self._exchange.detach(self._client)
            self._client = None
        self._closed = True
        self._send.close()

    def events(self) -> trio.MemoryReceiveChannel[BrokerEvent]:
        return self._receive

    def _session(self) -> ClientId:
        if self._client is None or not self._exchange.link_up:
            raise BrokerConnectionError("not connected to the simulated exchange")
        return self._client

    async def place(self, request: OrderRequest) -> None:
        await trio.lowlevel.checkpoint()
        self._exchange.place(self._session(), OrderTicket.from_request(request))

    async def modify(
        self, client_order_id: ClientOrderId, *, limit_price: Decimal, quantity: int | None = None
    ) -> None:
        await trio.lowlevel.checkpoint()
        client = self._session()
        self._exchange.modify(client, client_order_id, limit_price=limit_price, quantity=quantity)

    async def cancel(self, client_order_id: ClientOrderId) -> None:
        await trio.lowlevel.checkpoint()
        self._exchange.cancel(self._session(), client_order_id)

    async def open_orders(self) -> tuple[OpenOrder, ...]:
        await trio.lowlevel.checkpoint()
        self._session()
        return self._exchange.open_orders()

    async def completed_orders(self) -> tuple[ClientOrderId, ...]:
        await trio.lowlevel.checkpoint()
        self._session()
        return self._exchange.completed_orders()

    async def positions(self) -> tuple[Position, ...]:
        await trio.lowlevel.checkpoint()
        self._session()
        return self._exchange.positions()

    async def executions_since(self, time: dt.datetime) -> tuple[Fill, ...]:
        await trio.lowlevel.checkpoint()
        self._session()
        return self._exchange.executions_since(time)

    async def account(self) -> AccountSnapshot:
        await trio.lowlevel.checkpoint()
        self._session()
        return self._exchange.account()

    async def subscribe_quotes(self, contract: ContractSpec) -> None:
        await trio.lowlevel.checkpoint()
        self._session()
        self._exchange.contract(contract)  # an unknown symbol or month is refused here
        self._subscribed.add(contract)

    def quote_nowait(self, contract: ContractSpec) -> Quote:
        """The quote of ``contract``'s market (its delivery month, when it names one); its
        ``time`` is the Trio time it is current as of (now; the freeze under `StaleQuotes`).
        Under a `BadQuotes` fault, `QuoteUnusableError`, as the IB adapter raises."""
        if contract not in self._subscribed:
            raise BrokerError(
                f"no quotes for {_name(contract)!r}: call subscribe_quotes(contract) first"
            )
        quote = self._exchange.quote(contract)
        problem = self._exchange.bad_quote(contract)
        if problem is not None:
            bid, ask = _BAD_SIDES[problem](quote)
            raise QuoteUnusableError(_name(contract), problem, bid=bid, ask=ask)
        return quote

    async def contract_details(self, symbol: str) -> ContractSpec:
        await trio.lowlevel.checkpoint()
        self._session()
        return self._exchange.contract(symbol)

    async def daily_bars(self, contract: ContractSpec, *, sessions: int) -> tuple[DailyBar, ...]:
        """The market's past weekdays from its model (seeded by the exchange's seed and the
        market), then today's session so far from its tape; see `hydra.sim._daily_history`."""
        await trio.lowlevel.checkpoint()
        self._session()
        spec = self._exchange.contract(contract)  # an unknown symbol or month is refused here
        params = next(m for m in self._exchange.params.markets if m.contract == spec)
        start = self._exchange.params.session_start
        today = start.astimezone(ZoneInfo(spec.time_zone)).date()
        seed = f"{self._exchange.seed}:{spec.symbol}:{spec.expiry or ''}"
        past = past_daily_bars(params, seed=seed, today=today, sessions=sessions)
        live = live_daily_bar(self._exchange.tape(spec), today=today, tick=spec.tick_size)
        return past if live is None else (*past[1:], live)

    async def trading_hours(self, contract: ContractSpec) -> SessionCalendar | None:
        """``contract``'s sessions around the exchange's time now, when the exchange models
        hours (``SimParams.sessions``) and the contract has some; else None."""
        return await self._hours(contract, sim_calendar)

    async def liquid_hours(self, contract: ContractSpec) -> SessionCalendar | None:
        """``contract``'s liquid sessions (its day sessions, `sim_liquid_calendar`) around the
        exchange's time now, when the exchange models hours; else None."""
        return await self._hours(contract, sim_liquid_calendar)

    async def _hours(
        self, contract: ContractSpec,
        calendar_of: Callable[[ContractSpec, dt.datetime], SessionCalendar],
    ) -> SessionCalendar | None:
        await trio.lowlevel.checkpoint()
        self._session()
        spec = self._exchange.contract(contract)
        if not self._exchange.params.sessions or not spec.trading_hours:
            return None
        return calendar_of(spec, self._exchange.timestamp(trio.current_time()))


_BAD_SIDES: dict[str, Callable[[Quote], tuple[object, object]]] = {
    # what a broker would have been sent, for the error message
    "crossed": lambda q: (q.ask, q.bid),
    "one-sided": lambda q: (-1.0, q.ask),
    "zero": lambda q: (0.0, q.ask),
    "nan": lambda q: (q.bid, math.nan),
}


def _name(contract: ContractSpec) -> str:
    return f"{contract.symbol} {contract.expiry}" if contract.expiry else contract.symbol


_: type[Broker] = SimBroker  # mypy checks that SimBroker implements the Broker protocol
