"""`IBBroker`: the `Broker` protocol over ib_async — the one module that crosses into asyncio.

ib_async is asyncio-flavoured. `open_ib_broker` opens a trio-asyncio loop
(`trio_asyncio.open_loop()`) and every asyncio call here crosses with
`trio_asyncio.aio_as_trio`; every other function in Hydra, and every method here, is
Trio-flavoured. ib_async's event callbacks run on that loop, which trio-asyncio runs inside a
Trio task in this same thread, so they may call a Trio channel's `send_nowait`: they do nothing
else (each takes a snapshot of what it saw, see `hydra.ib._seen`). One Trio task reads that
channel and turns what was seen into broker events (`hydra.ib._translate`).

The risk actor paces order entry; every message ib_async writes, order entry or not, goes out
through a `MessageSpacer` in place of ib_async's own throttle: under IB's limit, and spaced
once it has had to wait.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from typing import Any

import attrs
import structlog
import trio
import trio_asyncio
from ib_async import IB, Contract, ContractDetails, Trade
from ib_async import Future as IBFuture
from ib_async.util import getLoop

from .._contracts import BUILT_IN_CONTRACTS, ContractSpec
from .._core._market_stats import DailyBar
from .._core._positions import Position
from .._core._sessions import SessionCalendar
from .._enums import OrderStatus
from .._errors import BrokerConnectionError, BrokerError, InvalidValueError
from .._ids import ClientOrderId
from .._orders import Fill, OrderRequest
from .._quotes import Quote
from .._settings import BrokerSettings
from ..brokers import (
    AccountSnapshot,
    Broker,
    BrokerErrorReported,
    BrokerEvent,
    ConnectionLost,
    ConnectionRestored,
    ErrorCode,
    OpenOrder,
    OrderStatusChanged,
)
from ._convert import (
    ACKNOWLEDGING_STATUSES,
    ForeignOrder,
    client_order_id_from_ib,
    daily_duration,
    foreign_order_from_ib,
    from_ib_account_values,
    from_ib_bar,
    from_ib_contract_details,
    from_ib_fill,
    from_ib_position,
    from_ib_ticker,
    from_ib_trade,
    hours_from_ib_details,
    is_price,
    liquid_hours_from_ib_details,
    price_from_ib,
    to_ib_contract,
    to_ib_order,
)
from ._errors import CLIENT_ID_IN_USE, ClientIdInUseError, ErrorKind, error_kind
from ._feed import QuoteFeed
from ._ports import check_port
from ._seen import (
    AccountValueSeen,
    CommissionSeen,
    ErrorSeen,
    ExecutionSeen,
    PositionSeen,
    QuoteKey,
    QuotesSeen,
    Said,
    Seen,
    SocketClosed,
    StatusSeen,
    quote_key,
)
from ._spacing import MessageSpacer
from ._translate import Translator

log = structlog.get_logger()

IB_SYNC_TIMEOUT = 10.0
"""Seconds ib_async may wait for each of its own start-up requests inside one connect (it
needs a bound; callers bound the whole connect with their own cancel scope)."""

_CLOSE_GRACE = 2.0


_LIVE_AT_IB = ACKNOWLEDGING_STATUSES | {"PendingCancel"}
"""IB statuses of an order IB still holds: an error after one of them changes nothing at IB."""

_LINK_BACK = frozenset({ErrorKind.CONNECTION_RESTORED, ErrorKind.CONNECTION_RESTORED_DATA_LOST})
"""IB's link is back (1102, 1101): quotes are asked for again, even with IB's data kept, so
each market has IB's current quote at once rather than at its next change (`._feed`)."""


HOURS_KEPT = 3600.0
"""Seconds a contract's trading and liquid hours are used before IB is asked again."""

class IBBroker:
    """A session with IB Gateway or TWS through ib_async. Use `open_ib_broker` to get one."""

    def __init__(self, settings: BrokerSettings, *, client_id: int, live: bool = False) -> None:
        """Must be built inside a trio-asyncio loop (ib_async binds to it).

        A live port (4001, 7496) is refused here, before anything is built or connected,
        with `LiveTradingRefusedError` unless ``live`` (the command line's ``--live``) and the
        environment's ``HYDRA_LIVE_CONFIRMED=true`` both say so; ``live`` on any other port is
        refused too (see `hydra.ib.check_port`)."""
        check_port(settings.port, live=live, environ=os.environ)
        self._settings = settings
        self._live = live
        self._client_id = client_id
        self._ib = IB()
        self._spacer = _space(self._ib)
        # Unbounded: ib_async's callbacks run on the asyncio side and cannot wait; the
        # translator task drains it at once, so it holds at most one socket read's worth.
        self._seen_send, self._seen = trio.open_memory_channel[Seen](math.inf)
        # Unbounded, as SimBroker's: the translator never blocks on a slow reader.
        self._events_send, self._events = trio.open_memory_channel[BrokerEvent](math.inf)
        self._translator = Translator()
        self._ib_contracts: dict[tuple[str, str | None], Contract] = {}
        # Each contract's details (its trading and liquid hours) and the Trio time they were
        # read, kept for HOURS_KEPT: every intent asks for them, and a burst of intents must
        # not become a burst of contract-details requests outside the pacing bucket (IB's 50
        # a second counts every message).
        self._hours: dict[tuple[str, str | None], tuple[float, ContractDetails | None]] = {}
        self._hours_lock = trio.Lock()
        # Quotes are per market, a symbol and delivery month: a roll quotes two months at once.
        self._markets: dict[tuple[str, str | None], QuoteKey] = {}  # spec's (symbol, expiry)
        self._quoted: dict[QuoteKey, Contract] = {}  # market → IB contract subscribed
        self._tickers: dict[QuoteKey, Any] = {}
        self._quote_times: dict[QuoteKey, float] = {}  # market → Trio time of its last update
        self._feed = QuoteFeed()  # which markets' quotes IB keeps current (a quiet one too)
        self._stamped = trio.Event()  # set (and replaced) each time the translator stamps
        self._session_up = False  # connected, and the loss of it not yet reported
        self._link_lost: str | None = None  # IB Gateway connected, but cut off from IB (1100)
        self._ever_connected = False
        self._closed = False
        self._handlers = self._callbacks()
        for event, handler in self._handlers:
            event += handler

    def _callbacks(self) -> list[tuple[Any, Callable[..., None]]]:
        send = self._seen_send.send_nowait
        ib = self._ib
        return [
            (ib.orderStatusEvent, lambda trade: send(StatusSeen.from_ib_trade(trade))),
            (ib.execDetailsEvent, lambda t, f: send(ExecutionSeen.from_ib_fill(t, f))),
            (
                ib.commissionReportEvent,
                lambda t, f, r: send(CommissionSeen.from_ib_report(t, f, r)),
            ),
            (ib.errorEvent, self._on_error),
            (ib.positionEvent, lambda position: send(PositionSeen.from_ib_position(position))),
            (ib.accountValueEvent, lambda value: send(AccountValueSeen.from_ib_value(value))),
            (ib.pendingTickersEvent, lambda tickers: send(QuotesSeen.from_ib_tickers(tickers))),
            (ib.disconnectedEvent, lambda: send(SocketClosed())),
        ]

    def _on_error(self, req_id: int, code: int, message: str, contract: object) -> None:
        self._keep_working(req_id, code)
        self._seen_send.send_nowait(ErrorSeen(req_id=req_id, code=code, message=message))

    def _keep_working(self, order_id: int, code: int) -> None:
        """ib_async marks a trade Cancelled on any error that names it, a refused modification
        of an order IB still works too (its own comment says so). Put back the trade's last
        real status when IB had acknowledged the order (or was cancelling it: a cancel answered
        PendingCancel, then 202, then Cancelled): otherwise the real end that follows equals
        the made-up status, ib_async reports no change, and the cancel is never confirmed."""
        trade = self._trade(order_id) if order_id > 0 else None
        if trade is None or trade.orderStatus.status != "Cancelled" or not trade.log:
            return
        *before, made_up = trade.log
        real = [entry.status for entry in before if not entry.errorCode]
        if made_up.errorCode == code and real and real[-1] in _LIVE_AT_IB:
            trade.orderStatus.status = real[-1]

    @property
    def client_id(self) -> int:
        return self._client_id

    @property
    def live(self) -> bool:
        """True when this broker was opened for live trading (``live=True`` on a live port)."""
        return self._live

    @property
    def connected(self) -> bool:
        """True when the socket is up and IB Gateway reports its link to IB up."""
        return not self._closed and self._ib.isConnected() and self._link_lost is None

    # --- the connection -----------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect (or reconnect after a loss) with this broker's client id. A client id in
        use is `ClientIdInUseError`; IB Gateway up but cut off from IB is
        `BrokerConnectionError` until IB says the link is back (1101/1102)."""
        await trio.lowlevel.checkpoint()
        if self._closed:
            raise BrokerConnectionError("this IBBroker was closed; open a new one")
        if self._ib.isConnected():
            if self._link_lost is not None:
                raise BrokerConnectionError(f"IB Gateway has lost IB: {self._link_lost}")
            return
        self._spacer.clear()  # nothing meant for a session that is gone reaches this one
        await self._connect_once()
        self._session_up = True
        self._link_lost = None
        for trade in self._ib.openTrades():
            self._adopt(trade)
        self._resubscribe_quotes()
        log.info("ib_connected", client_id=self._client_id, port=self._settings.port,
                 live=self._live)
        if self._ever_connected:
            self._seen_send.send_nowait(Said(event=ConnectionRestored()))
        self._ever_connected = True

    async def _connect_once(self) -> None:
        # Unbounded: filled by an ib_async callback; only read while this attempt lasts.
        codes_send, codes = trio.open_memory_channel[int](math.inf)

        def on_error(req_id: int, code: int, message: str, contract: object) -> None:
            codes_send.send_nowait(code)

        refused = False
        failure: BaseException | None = None

        async def watch(scope: trio.CancelScope) -> None:
            nonlocal refused
            async for code in codes:
                if code == CLIENT_ID_IN_USE:  # IB then closes without a word: stop waiting
                    refused = True
                    scope.cancel(reason=f"client id {self._client_id} is in use")

        self._ib.errorEvent += on_error
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(watch, nursery.cancel_scope)
                try:
                    await trio_asyncio.aio_as_trio(self._ib.connectAsync)(
                        self._settings.host,
                        self._settings.port,
                        clientId=self._client_id,
                        timeout=IB_SYNC_TIMEOUT,
                        account=self._settings.account or "",
                    )
                except (OSError, TimeoutError) as e:
                    failure = e
                nursery.cancel_scope.cancel(reason="connect attempt over")
        finally:
            self._ib.errorEvent -= on_error
        if refused:
            self._ib.disconnect()
            raise ClientIdInUseError(self._client_id)
        if failure is not None or not self._ib.isConnected():
            where = f"{self._settings.host}:{self._settings.port}"
            raise BrokerConnectionError(
                f"could not connect to IB at {where} with client id {self._client_id}: "
                f"{failure!r}"
            ) from failure

    async def close(self) -> None:
        await trio.lowlevel.checkpoint()
        if self._closed:
            return
        self._closed = True
        for event, handler in self._handlers:
            event -= handler
        drained = trio.Event()
        self._spacer.when_drained(drained.set)
        try:
            if self._ib.isConnected():
                await drained.wait()  # the session's last messages go out first
        finally:
            self._ib.disconnect()
            self._seen_send.close()
            log.info("ib_closed", client_id=self._client_id)

    def events(self) -> trio.MemoryReceiveChannel[BrokerEvent]:
        return self._events

    async def run_translator(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Turn what ib_async's callbacks saw into broker events until `close`."""
        task_status.started()
        async with self._events_send:
            async for seen in self._seen:
                if isinstance(seen, QuotesSeen):
                    self._stamp(seen.markets)
                    continue
                if isinstance(seen, SocketClosed):
                    self._feed.forget()
                    if self._ib.isConnected() or not self._session_up:
                        continue  # a failed attempt, or the old socket of a new session
                    self._session_up = False
                if isinstance(seen, ErrorSeen):
                    self._feed.notice(seen.code, seen.message)
                for event in self._translator.translate(seen):
                    self._follow_link(event)
                    self._events_send.send_nowait(event)
                if isinstance(seen, ErrorSeen) and error_kind(seen.code) in _LINK_BACK:
                    self._resubscribe_quotes()

    def _stamp(self, markets: tuple[QuoteKey, ...]) -> None:
        """Their tickers just updated: stamp their quotes now, and wake who waits on one."""
        self._quote_times.update(dict.fromkeys(markets, trio.current_time()))
        self._feed.updated(markets)
        self._stamped.set()
        self._stamped = trio.Event()

    def _follow_link(self, event: BrokerEvent) -> None:
        match event:
            case ConnectionLost(reason=reason):
                self._feed.forget()
                log.warning("ib_connection_lost", reason=reason)
                if self._ib.isConnected():
                    self._link_lost = reason
            case ConnectionRestored():
                self._link_lost = None

    def _require_session(self) -> None:
        if not self.connected:
            reason = self._link_lost or "not connected to IB Gateway/TWS"
            raise BrokerConnectionError(f"IB session is down: {reason}")

    def _say(self, event: BrokerEvent) -> None:
        """An event the broker can tell without asking IB, in order with IB's."""
        self._seen_send.send_nowait(Said(event=event))

    # --- orders -------------------------------------------------------------------------------

    async def place(self, request: OrderRequest) -> None:
        self._require_session()
        cid = request.client_order_id
        if self._translator.order(cid) is not None:
            message = f"duplicate client order id {cid!r}"
            self._say(BrokerErrorReported(code=ErrorCode.DUPLICATE_ORDER_ID, message=message,
                                          client_order_id=cid))
            return
        parent_order_id = 0
        if request.parent_id is not None:
            parent = self._translator.order(request.parent_id)
            if parent is None:
                self._reject(request, f"parent order {request.parent_id!r} is unknown")
                return
            parent_order_id = parent.order_id
        contract = await self._ib_contract(request.contract)
        self._require_session()
        order_id = self._ib.client.getReqId()
        order = to_ib_order(
            request, order_id=order_id, parent_order_id=parent_order_id,
            account=self._settings.account,
        )
        with _translated():
            self._ib.placeOrder(contract, order)
        self._translator.placed(request, order_id)
        log.info("ib_order_placed", client_order_id=cid, order_id=order_id,
                 limit_price=str(request.limit_price), quantity=request.quantity)

    def _reject(self, request: OrderRequest, reason: str) -> None:
        self._say(OrderStatusChanged(
            client_order_id=request.client_order_id, status=OrderStatus.REJECTED, filled=0,
            remaining=request.quantity, code=ErrorCode.ORDER_REJECTED, reason=reason,
        ))

    async def modify(
        self, client_order_id: ClientOrderId, *, limit_price: Decimal, quantity: int | None = None
    ) -> None:
        """Place the order again under its IB order id, with the new price (and quantity)."""
        await trio.lowlevel.checkpoint()
        self._require_session()
        state = self._translator.order(client_order_id)
        trade = self._trade(state.order_id) if state is not None else None
        if state is None or trade is None:
            self._refuse(ErrorCode.ORDER_NOT_FOUND, "no such order", client_order_id)
            return
        if state.final:
            self._refuse(ErrorCode.MODIFY_FILLED_ORDER, "order is finished", client_order_id)
            return
        order = copy.copy(trade.order)
        order.lmtPrice = float(limit_price)
        if quantity is not None:
            order.totalQuantity = quantity
        with _translated():
            self._ib.client.placeOrder(state.order_id, trade.contract, order)  # type: ignore[no-untyped-call]
        if state.request is not None and state.request.contract.is_on_tick(limit_price):
            state.request = _evolve(state.request, limit_price, quantity)
        log.info("ib_order_modified", client_order_id=client_order_id,
                 order_id=state.order_id, limit_price=str(limit_price), quantity=quantity)

    async def cancel(self, client_order_id: ClientOrderId) -> None:
        await trio.lowlevel.checkpoint()
        self._require_session()
        state = self._translator.order(client_order_id)
        if state is None:
            self._refuse(ErrorCode.ORDER_NOT_FOUND, "no such order", client_order_id)
            return
        if state.final:
            self._refuse(ErrorCode.NOT_CANCELLABLE, "order is finished", client_order_id)
            return
        with _translated():
            self._ib.client.cancelOrder(state.order_id, "")  # type: ignore[no-untyped-call]
        log.info("ib_order_cancel_sent", client_order_id=client_order_id, order_id=state.order_id)

    def _refuse(self, code: ErrorCode, message: str, client_order_id: ClientOrderId) -> None:
        self._say(BrokerErrorReported(code=code, message=message, client_order_id=client_order_id))

    def _trade(self, order_id: int) -> Trade | None:
        for trade in self._ib.trades():
            if trade.order.orderId == order_id and trade.order.clientId == self._client_id:
                return trade
        return None

    def _adopt(self, trade: Trade) -> None:
        order = trade.order
        cid = client_order_id_from_ib(order.orderRef, client_id=order.clientId,
                                      order_id=order.orderId)
        self._translator.adopt(cid, order.orderId, int(order.totalQuantity))

    # --- snapshots ----------------------------------------------------------------------------

    async def open_orders(self) -> tuple[OpenOrder, ...]:
        """This client's working orders, as IB reports them now."""
        self._require_session()
        with _translated():
            trades = await trio_asyncio.aio_as_trio(self._ib.reqOpenOrdersAsync)()
        # An order whose own status (a modification's echo, say) arrives while the request is
        # answered is in the answer twice: one entry per order, its latest.
        latest = {(t.order.clientId, t.order.orderId): t for t in trades}
        found = []
        for trade in latest.values():
            self._adopt(trade)
            contract = await self._spec(trade.contract.symbol)
            cid = client_order_id_from_ib(trade.order.orderRef, client_id=trade.order.clientId,
                                          order_id=trade.order.orderId)
            state = self._translator.order(cid)
            placed = state.request if state is not None else None
            open_order = from_ib_trade(trade, contract=contract, placed=placed)
            if open_order is not None:
                found.append(open_order)
        return tuple(found)

    async def completed_orders(self) -> tuple[ClientOrderId, ...]:
        """The account's API orders that ended today (IB's ``reqCompletedOrders``)."""
        self._require_session()
        with _translated():
            trades = await trio_asyncio.aio_as_trio(self._ib.reqCompletedOrdersAsync)(True)
        return tuple(client_order_id_from_ib(t.order.orderRef, client_id=t.order.clientId,
                                             order_id=t.order.orderId) for t in trades)

    @property
    def address(self) -> str:
        """host:port (client id) this broker talks to."""
        return f"{self._settings.host}:{self._settings.port} (client {self._client_id})"

    @property
    def port(self) -> int:
        return self._settings.port

    @property
    def account_id(self) -> str | None:
        """The account traded: the configured one, else the first IB names at connect
        (``managedAccounts``); None before a connect when none is configured."""
        return self._settings.account or next(iter(self._ib.managedAccounts()), None)

    async def account_open_orders(self) -> tuple[OpenOrder | ForeignOrder, ...]:
        """Every working order of the account, whichever client id placed it (for the CLI's
        status and cancel-all; the trading client uses `open_orders`); another program's order
        of a type Hydra cannot express (MKT, STP) as a `ForeignOrder`."""
        self._require_session()
        with _translated():
            trades = await trio_asyncio.aio_as_trio(self._ib.reqAllOpenOrdersAsync)()
        found: list[OpenOrder | ForeignOrder] = []
        for trade in trades:
            foreign = foreign_order_from_ib(trade)
            if foreign is not None:
                found.append(foreign)
                continue
            contract = await self._spec(trade.contract.symbol)
            open_order = from_ib_trade(trade, contract=contract, placed=None)
            if open_order is not None:
                found.append(open_order)
        return tuple(found)

    async def cancel_everything(self) -> None:
        """IB's global cancel: every working order of the account, whichever client sent it."""
        self._require_session()
        with _translated():
            self._ib.reqGlobalCancel()  # type: ignore[no-untyped-call]
        await trio.lowlevel.checkpoint()

    async def positions(self) -> tuple[Position, ...]:
        self._require_session()
        with _translated():
            reported = await trio_asyncio.aio_as_trio(self._ib.reqPositionsAsync)()
        latest = {p.contract.conId: p for p in reported}  # a later report replaces an earlier
        return tuple(
            [
                from_ib_position(p, contract=await self._spec(p.contract.symbol))
                for p in latest.values()
            ]
        )

    async def executions_since(self, time: dt.datetime) -> tuple[Fill, ...]:
        """The account's executions at or after ``time`` (aware), with their commissions."""
        if time.tzinfo is None:
            raise InvalidValueError("time", time, "must be timezone-aware")
        self._require_session()
        with _translated():
            fills = await trio_asyncio.aio_as_trio(self._ib.reqExecutionsAsync)()
        # ib_async keeps commission reports on the fills it stored first: look them up there.
        stored = {f.execution.execId: f for f in self._ib.fills()}
        found = []
        for fill in fills:
            execution = fill.execution
            if execution.time < time:
                continue
            report = stored.get(execution.execId, fill).commissionReport
            cid = client_order_id_from_ib(execution.orderRef, client_id=execution.clientId,
                                          order_id=execution.orderId)
            found.append(from_ib_fill(fill, commission=report.commission, client_order_id=cid))
        return tuple(sorted(found, key=lambda f: f.time))

    async def account(self) -> AccountSnapshot:
        """IB's account values (kept current by ib_async's account subscription) and the
        commission of this account's executions IB reported today."""
        await trio.lowlevel.checkpoint()
        self._require_session()
        commission = sum(
            (price_from_ib(c) for f in self._ib.fills()
             if is_price(c := f.commissionReport.commission)),
            Decimal(0),
        )
        values = self._ib.accountValues(self._settings.account or "")
        return from_ib_account_values(values, commission=commission)

    # --- contracts and quotes -----------------------------------------------------------------

    async def contract_details(self, symbol: str) -> ContractSpec:
        """IB's facts for the front month of the future ``symbol``."""
        self._require_session()
        known = BUILT_IN_CONTRACTS.get(symbol)
        asked = IBFuture(symbol=symbol, exchange=known.exchange if known else "", currency="USD")
        with _translated():
            details = await trio_asyncio.aio_as_trio(self._ib.reqContractDetailsAsync)(asked)
        if not details:
            raise InvalidValueError("symbol", symbol, "IB has no futures contract by this symbol")
        spec = from_ib_contract_details(details, known=known)
        front = min(details, key=lambda d: d.contract.lastTradeDateOrContractMonth).contract
        self._ib_contracts[symbol, None] = self._ib_contracts[symbol, spec.expiry] = front
        self._translator.remember(spec)
        return spec

    async def _spec(self, symbol: str) -> ContractSpec:
        return self._translator.contract(symbol) or await self.contract_details(symbol)

    async def _ib_contract(self, spec: ContractSpec) -> Contract:
        """IB's contract for ``spec``, qualified (with its conId) when IB lists it: the front
        month when ``spec`` names none. A month IB does not list stays unqualified (IB refuses
        orders for it with 200)."""
        found = self._ib_contracts.get((spec.symbol, spec.expiry))
        if found is not None:
            return found
        if spec.expiry is None:
            await self.contract_details(spec.symbol)
            return self._ib_contracts[spec.symbol, None]
        asked = to_ib_contract(spec)
        with _translated():
            ask = trio_asyncio.aio_as_trio(self._ib.reqContractDetailsAsync)
            details: list[ContractDetails] = await ask(asked)
        found = details[0].contract if len(details) == 1 else None
        if found is None:
            return asked
        self._ib_contracts[spec.symbol, spec.expiry] = found
        return found

    async def trading_hours(self, contract: ContractSpec) -> SessionCalendar | None:
        """IB's ``tradingHours`` of ``contract``'s month (the front month when it names none),
        in its ``timeZoneId``; None when IB sends none or lists no such contract."""
        details = await self._hours_details(contract)
        return None if details is None else hours_from_ib_details(details)

    async def liquid_hours(self, contract: ContractSpec) -> SessionCalendar | None:
        """IB's ``liquidHours`` of ``contract``'s month, as `trading_hours` gives its
        ``tradingHours`` (from the same contract details, asked for once)."""
        details = await self._hours_details(contract)
        return None if details is None else liquid_hours_from_ib_details(details)

    async def _hours_details(self, contract: ContractSpec) -> ContractDetails | None:
        """The contract details of ``contract``'s month, read at most every `HOURS_KEPT`
        seconds (None: IB lists no such contract). Each caller parses the hours it wants, so
        a malformed ``liquidHours`` fails only who works in the liquid hours."""
        self._require_session()
        key = (contract.symbol, contract.expiry)
        async with self._hours_lock:  # one request in flight; the others read what it got
            kept = self._hours.get(key)
            if kept is not None and trio.current_time() - kept[0] < HOURS_KEPT:
                return kept[1]
            ib_contract = await self._ib_contract(contract)
            if not ib_contract.conId:
                return None
            with _translated():
                ask = trio_asyncio.aio_as_trio(self._ib.reqContractDetailsAsync)
                details: list[ContractDetails] = await ask(ib_contract)
            found = details[0] if details else None
            self._hours[key] = (trio.current_time(), found)
            return found

    async def subscribe_quotes(self, contract: ContractSpec) -> None:
        """Quotes of ``contract``'s market: its month, or the front month when it names none.
        A month IB does not list is an `InvalidValueError`."""
        self._require_session()
        ib_contract = await self._ib_contract(contract)
        if not ib_contract.conId:  # ib_async keys tickers by conId
            name = _name(contract.symbol, contract.expiry)
            raise InvalidValueError("contract", name, "IB lists no such futures contract")
        market = quote_key(ib_contract)  # the front month's, for a spec naming none
        self._markets[contract.symbol, contract.expiry] = market
        if market not in self._tickers:
            self._quoted[market] = ib_contract
            with _translated():
                self._tickers[market] = self._ib.reqMktData(ib_contract)
        await self._wait_two_sided(market)

    async def _wait_two_sided(self, market: QuoteKey) -> None:
        """Return once the ticker has a bid and an ask and the translator has stamped its
        update, so `quote_nowait` answers (the caller bounds the wait)."""
        ticker = self._tickers[market]
        while not (_two_sided(ticker) and market in self._quote_times):
            await self._stamped.wait()

    def _resubscribe_quotes(self) -> None:
        self._feed.forget()  # each market is current again with its first tick
        for market, ib_contract in self._quoted.items():
            ticker = self._tickers.get(market)
            if ticker is not None and self._ib.ticker(ib_contract) is ticker:
                self._ib.cancelMktData(ib_contract)
            self._tickers[market] = self._ib.reqMktData(ib_contract)
        if self._quoted:
            log.info("ib_quotes_resubscribed",
                     markets=sorted(_name(*market) for market in self._quoted))

    async def daily_bars(self, contract: ContractSpec, *, sessions: int) -> tuple[DailyBar, ...]:
        """IB's ``1 day`` ``TRADES`` bars of ``contract``'s market, each a whole trading day
        (overnight session included, as exchanges count daily volume), over enough calendar
        days to hold ``sessions`` sessions (ib_async's own time-out is off: the caller
        bounds the wait). A month IB does not list is an
        `InvalidValueError`."""
        self._require_session()
        ib_contract = await self._ib_contract(contract)
        if not ib_contract.conId:
            name = _name(contract.symbol, contract.expiry)
            raise InvalidValueError("contract", name, "IB lists no such futures contract")
        ask = trio_asyncio.aio_as_trio(self._ib.reqHistoricalDataAsync)
        with _translated():
            bars = await ask(ib_contract, endDateTime="", durationStr=daily_duration(sessions),
                             barSizeSetting="1 day", whatToShow="TRADES", useRTH=False,
                             formatDate=1, timeout=0)
        return tuple(from_ib_bar(bar) for bar in bars)

    def quote_nowait(self, contract: ContractSpec) -> Quote:
        """The quote of ``contract``'s market (its delivery month, when it names one)."""
        name = _name(contract.symbol, contract.expiry)
        market = self._markets.get((contract.symbol, contract.expiry))
        if market is None:
            raise BrokerError(f"no quotes for {name!r}: call subscribe_quotes(contract) first")
        # IB streams changes only: a quote it keeps current is as fresh as now, however long
        # the market has been still; one it put in doubt is as old as its last change.
        time = (trio.current_time() if self._feed.current(market)
                else self._quote_times.get(market, -math.inf))  # never updated: stale
        return from_ib_ticker(self._tickers[market], symbol=name, time=time)


def _space(ib: IB) -> MessageSpacer:
    """Turn ib_async's throttle off and write its messages through a spacer on the timer and
    clock of the loop ``ib`` is bound to (trio-asyncio's clock is Trio's)."""
    loop = getLoop()  # type: ignore[no-untyped-call]
    client = ib.client
    client.MaxRequests = 0
    connection = client.conn  # one for the client's life, across reconnects
    spacer = MessageSpacer(connection.sendMsg, clock=loop.time, call_at=loop.call_at)
    connection.sendMsg = spacer.send  # type: ignore[method-assign]
    return spacer


def _name(symbol: str, expiry: str | None) -> str:
    return f"{symbol} {expiry}" if expiry else symbol


def _two_sided(ticker: Any) -> bool:
    try:
        from_ib_ticker(ticker, symbol="", time=0.0)
    except BrokerError:
        return False
    return True


def _evolve(request: OrderRequest, limit_price: Decimal, quantity: int | None) -> OrderRequest:
    return attrs.evolve(request, limit_price=limit_price, quantity=quantity or request.quantity)


@contextmanager
def _translated() -> Any:
    """ib_async's "not connected" as Hydra's `BrokerConnectionError`."""
    try:
        yield
    except ConnectionError as e:
        raise BrokerConnectionError(f"IB session is down: {e}") from e


@asynccontextmanager
async def open_ib_broker(
    settings: BrokerSettings, *, client_id: int | None = None, live: bool = False
) -> AsyncIterator[IBBroker]:
    """An `IBBroker` connected to ``settings.host``:``settings.port`` with ``client_id``
    (default ``settings.client_id``, the trading id), inside its own trio-asyncio loop; closed
    on exit. A live port is refused (`LiveTradingRefusedError`) before any connection unless
    ``live`` and ``HYDRA_LIVE_CONFIRMED=true`` both say so: `IBBroker` itself checks, and this
    checks first so that a refusal does not even start the asyncio loop."""
    check_port(settings.port, live=live, environ=os.environ)
    try:
        async with trio_asyncio.open_loop():
            broker = IBBroker(settings, client_id=client_id or settings.client_id, live=live)
            async with trio.open_nursery() as nursery:
                await nursery.start(broker.run_translator)
                try:
                    await broker.connect()
                    yield broker
                finally:
                    with trio.move_on_after(_CLOSE_GRACE) as cleanup:
                        cleanup.shield = True
                        await broker.close()
    except BaseExceptionGroup as group:
        _raise_sole(group)
        raise


def _raise_sole(group: BaseExceptionGroup[BaseException]) -> None:
    """Raise the one ordinary exception inside nested single-member groups (trio-asyncio and
    the nursery each add a level), so callers can ``except BrokerConnectionError``."""
    inner: BaseException = group
    while isinstance(inner, BaseExceptionGroup) and len(inner.exceptions) == 1:
        inner = inner.exceptions[0]
    if isinstance(inner, Exception) and not isinstance(inner, BaseExceptionGroup):
        raise inner
    return None


_: type[Broker] = IBBroker  # mypy checks that IBBroker implements the Broker protocol
