"""One client connection's state and its translation between TWS messages and the exchange.

Synchronous: `Session.handle` answers a request, `Session.on_event` turns an exchange event into
replies, `Session.ticks` gives one subscription's ticks that changed since last sent (the server
calls it when `SimExchange.wait_quote_changed` says the quote moved). The exchange's methods are
synchronous and act at the current Trio time, so the session calls them directly; the server
around it does all the I/O and the waiting.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import deque
from collections.abc import Callable
from decimal import Decimal

import attrs
import structlog
import trio

from .._contracts import ContractSpec
from .._enums import OrderStatus, Side
from .._errors import BrokerConnectionError
from .._ids import ClientOrderId, IntentId
from .._orders import Fill
from .._quotes import Quote
from ..brokers import (
    AccountValueChanged,
    BrokerErrorReported,
    BrokerEvent,
    ConnectionLost,
    ConnectionRestored,
    FillReported,
    OrderAcknowledged,
    OrderStatusChanged,
    PositionChanged,
)
from ..sim import OrderTicket
from . import _replies as r
from . import _requests as q
from ._account import account_value_replies, account_values, money, portfolio_replies
from ._account import position_replies as position_reports
from ._catalog import Listing
from ._margins import WhatIf, requirement
from ._message_ids import ClientMessage as M
from ._registry import OrderRecord, Registry
from ._unserved import NO_SECURITY as _NO_SECURITY
from ._unserved import unserved_replies
from ._wire import ib_datetime

log = structlog.get_logger()

MAX_MESSAGES_PER_SECOND = 50
"""IB's limit on a client's messages; above it a message is refused with error 100."""

STARTUP_NOTICES = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefil"),
)
_STATUS_TEXT = {
    OrderStatus.PENDING: "PendingSubmit",
    OrderStatus.WORKING: "Submitted",
    OrderStatus.FILLED: "Filled",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.REJECTED: "Inactive",
}
_COMPLETED_TEXT = {
    "Filled": "Filled",
    "Cancelled": "Cancelled by Trader",
    "ApiCancelled": "Cancelled by Trader",
    "Inactive": "Rejected",
}
_OFF_TICK = "The price does not conform to the minimum price variation for this contract."
_NO_PERMISSIONS = "No market data permissions for this contract"
_NO_HISTORY = f"Historical Market Data Service error message:{_NO_PERMISSIONS}"
_UNKNOWN_CANCELS = {
    M.CANCEL_MKT_DEPTH: (310, "Can't find the subscribed market depth with tickerId:"),
    M.CANCEL_HISTORICAL_DATA: (366, "No historical data query found for ticker id:"),
}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

Replies = list[r.Reply]


@attrs.frozen
class _Ticks:
    quote: Quote
    last: Decimal | None
    last_size: int
    volume: int


class RateWindow:
    """At most ``limit`` messages in any one second (time passed in, nothing sleeps)."""

    def __init__(self, limit: int = MAX_MESSAGES_PER_SECOND) -> None:
        self._limit = limit
        self._times: deque[float] = deque()

    def admit(self, now: float) -> bool:
        while self._times and now - self._times[0] >= 1.0:
            self._times.popleft()
        if len(self._times) >= self._limit:
            return False
        self._times.append(now)
        return True


class Session:
    """One connected client (``client_id``) acting on the exchange as ``exchange_client``."""

    def __init__(self, registry: Registry, *, client_id: int, exchange_client: int) -> None:
        self.client_id = client_id
        self._registry = registry
        self._exchange = registry.exchange
        self._exchange_client = exchange_client
        self._account = registry.account
        self._rate = RateWindow()
        self._tickers: dict[int, Listing] = {}
        self._sent: dict[int, _Ticks] = {}
        self._account_updates = False
        self._position_updates = False
        self._account_changed = False
        self._pnl: set[int] = set()
        self._next_id = registry.next_order_id(client_id)

    # --- start-up -----------------------------------------------------------------------------

    def startup(self) -> Replies:
        """What a client gets right after startApi."""
        replies: Replies = [
            r.ManagedAccounts(accounts=(self._account,)),
            r.NextValidId(order_id=self._next_id),
        ]
        replies += [r.ErrorMessage(req_id=-1, code=c, message=m) for c, m in STARTUP_NOTICES]
        return replies

    # --- requests -----------------------------------------------------------------------------

    def admit(self) -> Replies | None:
        """None when the next message is within the rate limit, else the refusal (error 100)."""
        if self._rate.admit(trio.current_time()):
            return None
        log.warning("gateway_rate_exceeded", client_id=self.client_id)
        return [
            r.ErrorMessage(
                req_id=-1,
                code=100,
                message="Max rate of messages per second has been exceeded:max=50",
            )
        ]

    def handle(self, request: q.ClientRequest) -> Replies:
        match request:
            case q.RequestContractDetails(req_id=req_id, contract=contract):
                return self._contract_details(req_id, contract)
            case q.RequestMarketData():
                return self._subscribe(request)
            case q.CancelMarketData(ticker_id=ticker_id):
                self._sent.pop(ticker_id, None)
                if self._tickers.pop(ticker_id, None) is None:
                    return self._error(ticker_id, 300, f"Can't find EId with tickerId:{ticker_id}")
                return []
            case q.PlaceOrder():
                return self._place(request)
            case q.CancelOrder(order_id=order_id):
                return self._cancel(order_id)
            case q.GlobalCancel():
                return self._global_cancel()
            case q.RequestOpenOrders(all_clients=all_clients):
                return [*self._open_orders(all_clients), r.OpenOrderEnd()]
            case q.RequestCompletedOrders():
                return [*self._completed_orders(), r.CompletedOrdersEnd()]
            case q.RequestExecutions():
                return self._executions(request)
            case q.RequestPositions():
                self._position_updates = True
                return [*self._positions(), r.PositionEnd()]
            case q.CancelPositions():
                self._position_updates = False
                return []
            case q.RequestAccountUpdates(subscribe=subscribe):
                self._account_updates = subscribe
                if not subscribe:
                    return []
                return [*self._account_download(), r.AccountDownloadEnd(account=self._account)]
            case q.RequestAccountUpdatesMulti(req_id=req_id):
                return [*self._account_multi(req_id), r.AccountUpdateMultiEnd(req_id=req_id)]
            case q.RequestAccountSummary(req_id=req_id, tags=tags):
                return [*self._summary(req_id, tags), r.AccountSummaryEnd(req_id=req_id)]
            case q.RequestPnL(req_id=req_id):
                self._pnl.add(req_id)
                return self._pnl_replies()
            case q.CancelPnL(req_id=req_id):
                self._pnl.discard(req_id)
                return []
            case q.RequestIds():
                self._next_id = max(self._next_id, self._registry.next_order_id(self.client_id))
                return [r.NextValidId(order_id=self._next_id)]
            case q.RequestCurrentTime():
                seconds = (self._now() - _EPOCH).total_seconds()
                return [r.CurrentTime(seconds=int(seconds))]
            case q.RequestManagedAccounts():
                return [r.ManagedAccounts(accounts=(self._account,))]
            case q.StartApi():
                log.warning("gateway_repeated_start_api", client_id=self.client_id)
                return []
            case q.RequestPnLSingle():
                return self._pnl_single(request)
            case q.RequestPositionsMulti(req_id=req_id):
                return [*self._positions_multi(req_id), r.PositionMultiEnd(req_id=req_id)]
            case q.RequestMatchingSymbols(req_id=req_id, pattern=pattern):
                found = self._registry.catalog.products(pattern)
                return [r.SymbolSamples(req_id=req_id, contracts=tuple(x.wire for x in found))]
            case q.RequestMarketRule(rule_id=rule_id):
                tick = self._registry.catalog.tick_of_rule(rule_id)
                return [r.MarketRule(rule_id=rule_id, increment=tick)]
            case (
                q.RequestHistoricalData()
                | q.RequestHeadTimestamp()
                | q.RequestHistoricalTicks()
                | q.RequestHistogram()
            ):
                return self._error(request.req_id, 162, _NO_HISTORY)
            case q.RequestRealTimeBars(req_id=req_id):
                return self._error(req_id, 420, f"Invalid Real-time Query:{_NO_PERMISSIONS}")
            case q.RequestMarketDepth(req_id=req_id) | q.RequestTickByTick(req_id=req_id):
                return self._error(req_id, 354, "Requested market data is not subscribed.")
            case q.CancelSubscription(message=message, req_id=req_id):
                return _cancel_refusal(message, req_id)
            case q.UnservedRequest():
                log.info("gateway_unserved_request", message=request.message.name)
                return unserved_replies(request, self._registry.catalog)
            case q.UnknownMessage(message_id=message_id):
                log.warning("gateway_unknown_message", message_id=message_id)
                return self._error(-1, 505, f"Fatal Error: Unknown message id {message_id}.")
            case _:  # market data type, account summary / positions cancels: nothing to say
                return []

    # --- contracts and market data ------------------------------------------------------------

    def _contract_details(self, req_id: int, contract: q.ContractFields) -> Replies:
        found = self._registry.catalog.matches(contract)
        if not found:
            return [r.ErrorMessage(req_id=req_id, code=200, message=_NO_SECURITY)]
        details: Replies = [self._registry.catalog.details(req_id, x) for x in found]
        return [*details, r.ContractDetailsEnd(req_id=req_id)]

    def _subscribe(self, request: q.RequestMarketData) -> Replies:
        listing = self._registry.catalog.resolve(request.contract)
        if listing is None:
            return [r.ErrorMessage(req_id=request.ticker_id, code=200, message=_NO_SECURITY)]
        ticker_id = request.ticker_id
        replies: Replies = [
            r.MarketDataType(ticker_id=ticker_id),
            r.TickRequestParams(
                ticker_id=ticker_id, min_tick=listing.spec.tick_size, exchange=listing.spec.exchange
            ),
        ]
        self._tickers[ticker_id] = listing
        self._sent.pop(ticker_id, None)
        replies += self.ticks(ticker_id)
        if request.snapshot:
            del self._tickers[ticker_id]
            self._sent.pop(ticker_id, None)
            replies.append(r.TickSnapshotEnd(ticker_id=ticker_id))
        return replies

    @property
    def subscriptions(self) -> dict[int, Listing]:
        """The streaming market data subscriptions: ticker id to contract."""
        return dict(self._tickers)

    def last_sent(self, ticker_id: int) -> Quote | None:
        """The quote last sent on ``ticker_id`` (None when it is not subscribed)."""
        sent = self._sent.get(ticker_id)
        return sent.quote if sent is not None and ticker_id in self._tickers else None

    def market_data(self) -> Replies:
        """Ticks that changed since last sent, for every subscription."""
        replies: Replies = []
        for ticker_id in list(self._tickers):
            replies += self.ticks(ticker_id)
        return replies

    def ticks(self, ticker_id: int) -> Replies:
        """``ticker_id``'s ticks that changed since last sent: bid, ask, last, volume."""
        listing = self._tickers.get(ticker_id)
        if listing is None:
            return []
        spec, exchange = listing.spec, self._exchange
        now = _Ticks(
            quote=exchange.quote(spec),
            last=exchange.last_trade(spec),
            last_size=exchange.last_size(spec),
            volume=exchange.volume(spec),
        )
        before = self._sent.get(ticker_id)
        self._sent[ticker_id] = now
        return _tick_replies(ticker_id, before, now)

    # --- orders -------------------------------------------------------------------------------

    def _error(self, req_id: int, code: int, message: str) -> Replies:
        return [r.ErrorMessage(req_id=req_id, code=code, message=message)]

    def _place(self, p: q.PlaceOrder) -> Replies:
        if p.what_if:
            return self._what_if(p)
        record = self._registry.by_ib(self.client_id, p.order_id)
        if record is not None:
            if self._is_working(record):
                return self._modify(record, p)
            return self._error(p.order_id, 103, "Duplicate order id")
        listing = self._registry.catalog.resolve(p.contract)
        if listing is None:
            return self._error(p.order_id, 200, _NO_SECURITY)
        parent = self._registry.by_ib(self.client_id, p.parent_id) if p.parent_id else None
        if p.parent_id and parent is None:
            return self._error(
                p.order_id, 201, f"Order rejected - reason:parent order {p.parent_id} not found"
            )
        refusal = _order_refusal(p)
        if refusal is not None:
            return self._error(p.order_id, 201, f"Order rejected - reason:{refusal}")
        assert p.quantity is not None
        record = OrderRecord(
            key=self._registry.new_key(self.client_id, p.order_id, p.order_ref),
            client_id=self.client_id,
            order_id=p.order_id,
            listing=listing,
            action=p.action,
            quantity=int(p.quantity),
            order_type=p.order_type,
            limit_price=p.limit_price,
            aux_price=p.aux_price,
            tif=p.tif or "DAY",
            oca_group=p.oca_group,
            account=p.account or self._account,
            order_ref=p.order_ref,
            parent_id=p.parent_id,
            transmit=p.transmit,
        )
        self._registry.add(record)
        self._next_id = max(self._next_id, p.order_id + 1)
        ticket = OrderTicket(
            client_order_id=record.key,
            order_ref=IntentId(p.order_ref or record.key),
            symbol=listing.symbol,
            expiry=listing.spec.expiry,
            side=Side(p.action),
            quantity=record.quantity,
            order_type=p.order_type,
            limit_price=None if p.order_type in ("MKT", "STP") else p.limit_price,
            stop_price=p.aux_price if p.order_type in ("STP LMT", "STP") else None,
            time_in_force=record.tif,
            # IB makes a bracket's children one OCA group: the first to fill cancels the rest
            oca_group=p.oca_group or (f"{parent.key}:children" if parent is not None else None),
            parent_id=parent.key if parent is not None else None,
            transmit=p.transmit,
        )
        log.info(
            "gateway_order_placed", client_id=self.client_id, order_id=p.order_id, key=record.key
        )
        return self._on_exchange(
            p.order_id, lambda: self._exchange.place(self._exchange_client, ticket)
        )

    def _what_if(self, p: q.PlaceOrder) -> Replies:
        """The margin and commission the order would take, as an open order with whatIf set;
        nothing reaches the exchange."""
        listing = self._registry.catalog.resolve(p.contract)
        if listing is None:
            return self._error(p.order_id, 200, _NO_SECURITY)
        refusal = _order_refusal(p)
        if refusal is not None:
            return self._error(p.order_id, 201, f"Order rejected - reason:{refusal}")
        tick = listing.spec.tick_size
        for price in (p.limit_price, p.aux_price):
            if price is not None and price % tick:
                return self._error(p.order_id, 110, _OFF_TICK)
        assert p.quantity is not None
        signed = int(p.quantity) * (1 if p.action == "BUY" else -1)
        catalog = self._registry.catalog
        marks = {x.spec: self._exchange.quote(x.spec).mid for x in catalog.listings}
        held = dict.fromkeys(marks, 0)
        for position in self._exchange.positions():
            owned = catalog.for_contract(position.contract)
            if owned is not None:
                held[owned.spec] += position.quantity
        before = requirement(held.items(), marks)
        held[listing.spec] += signed
        commission = self._exchange.params.commission_per_contract * int(p.quantity)
        state = WhatIf(
            before=before,
            after=requirement(held.items(), marks),
            equity_before=self._exchange.account().equity,
            commission=commission,
        )
        log.info("gateway_what_if", client_id=self.client_id, order_id=p.order_id)
        order = r.OrderFields(
            order_id=p.order_id,
            client_id=self.client_id,
            perm_id=0,
            action=p.action,
            quantity=int(p.quantity),
            order_type=p.order_type,
            limit_price=p.limit_price,
            aux_price=p.aux_price,
            tif=p.tif or "DAY",
            oca_group=p.oca_group,
            account=p.account or self._account,
            order_ref=p.order_ref,
            parent_id=p.parent_id,
        )
        what_if = r.OpenOrder(
            contract=listing.wire, order=order, status="PreSubmitted", what_if=state
        )
        return [what_if]

    def _modify(self, record: OrderRecord, p: q.PlaceOrder) -> Replies:
        if p.limit_price is None:
            return self._error(
                p.order_id, 201, "Order rejected - reason:a modification needs a limit price"
            )
        quantity = int(p.quantity) if p.quantity is not None else None
        record.quantity = quantity or record.quantity
        record.limit_price, record.order_ref = p.limit_price, p.order_ref or record.order_ref
        return self._on_exchange(
            p.order_id,
            lambda: self._exchange.modify(
                self._exchange_client,
                record.key,
                limit_price=p.limit_price or Decimal(0),
                quantity=quantity,
            ),
        )

    def _cancel(self, order_id: int) -> Replies:
        record = self._registry.by_ib(self.client_id, order_id)
        if record is None:
            return self._error(
                order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found."
            )
        return self._on_exchange(
            order_id, lambda: self._exchange.cancel(self._exchange_client, record.key)
        )

    def _global_cancel(self) -> Replies:
        """Cancel every working order of the account, anyone's; each owner hears of its own."""
        replies: Replies = []
        for key in sorted(self._exchange.working_orders()):
            cancel = functools.partial(self._exchange.cancel, self._exchange_client, key)
            replies += self._on_exchange(-1, cancel)
        return replies

    def _on_exchange(self, req_id: int, action: Callable[[], None]) -> Replies:
        try:
            action()
        except BrokerConnectionError as e:
            return self._error(req_id, 201, f"Order rejected - reason:{e}")
        return []

    def _working_status(self, record: OrderRecord) -> str:
        """PreSubmitted while the exchange holds the order back, else Submitted."""
        return "PreSubmitted" if record.key in self._exchange.held_orders() else "Submitted"

    def _is_working(self, record: OrderRecord) -> bool:
        return record.key in self._exchange.working_orders()

    def _open_orders(self, all_clients: bool) -> Replies:
        replies: Replies = []
        held, working = self._exchange.held_orders(), self._exchange.working_orders()
        for record in self._registry.orders():
            if record.key not in working:
                continue
            if not (all_clients or record.client_id == self.client_id):
                continue
            record.status = "PreSubmitted" if record.key in held else "Submitted"
            replies += self._order_state(record)
        return replies

    def _completed_orders(self) -> Replies:
        """Every finished order, oldest first (IB keeps the day's; the simulator, the run's)."""
        return [
            r.CompletedOrder(
                contract=record.listing.wire,
                order=record.order_fields(),
                status=record.status,
                filled=record.filled,
                completed_time=record.completed_time,
                completed_status=_COMPLETED_TEXT.get(record.status, record.status),
            )
            for record in self._registry.orders()
            if record.is_done
        ]

    def _released(self) -> Replies:
        """orderStatus Submitted for this client's held orders that have gone live (a bracket
        transmitted, a parent filled)."""
        waiting = [
            record
            for record in self._registry.orders()
            if record.client_id == self.client_id and record.status == "PreSubmitted"
        ]
        if not waiting:
            return []
        held = self._exchange.held_orders()
        replies: Replies = []
        for record in waiting:
            if record.key not in held and self._is_working(record):
                record.status = "Submitted"
                replies.append(self._status(record))
        return replies

    def _order_state(self, record: OrderRecord) -> Replies:
        return [
            r.OpenOrder(
                contract=record.listing.wire, order=record.order_fields(), status=record.status
            ),
            self._status(record),
        ]

    def _status(self, record: OrderRecord) -> r.OrderStatusReport:
        return r.OrderStatusReport(
            order_id=record.order_id,
            status=record.status,
            filled=record.filled,
            remaining=record.remaining,
            average_fill_price=record.average_fill_price,
            perm_id=record.perm_id,
            parent_id=record.parent_id,
            last_fill_price=record.last_fill_price,
            client_id=record.client_id,
        )

    # --- executions and account ---------------------------------------------------------------

    def _executions(self, request: q.RequestExecutions) -> Replies:
        replies: Replies = []
        totals: dict[ClientOrderId, tuple[int, Decimal]] = {}
        for fill in self._exchange.executions_since(_EPOCH):
            record = self._registry.by_key(fill.client_order_id)
            if record is None:
                continue
            done, cost = totals.get(record.key, (0, Decimal(0)))
            done, cost = done + fill.quantity, cost + fill.price * fill.quantity
            totals[record.key] = done, cost
            if not _wanted(request, record, fill.side):
                continue
            replies.append(self._execution(request.req_id, record, fill, done, cost / done))
            replies.append(
                r.CommissionReport(exec_id=fill.execution_id, commission=fill.commission)
            )
        return [*replies, r.ExecutionDetailsEnd(req_id=request.req_id)]

    def _execution(
        self, req_id: int, record: OrderRecord, fill: Fill, cumulative: int, average: Decimal
    ) -> r.ExecutionDetails:
        return r.ExecutionDetails(
            req_id=req_id,
            contract=record.listing.wire,
            order_id=record.order_id,
            exec_id=fill.execution_id,
            time=ib_datetime(fill.time.astimezone(dt.UTC)),
            account=record.account,
            side="BOT" if fill.side is Side.BUY else "SLD",
            shares=fill.quantity,
            price=fill.price,
            perm_id=record.perm_id,
            client_id=record.client_id,
            cumulative_quantity=cumulative,
            average_price=average,
            order_ref=record.order_ref,
        )

    def _positions(self) -> Replies:
        return list(
            position_reports(self._exchange.positions(), self._registry.catalog, self._account)
        )

    def _marks(self) -> dict[ContractSpec, Decimal]:
        """The mid of each market, by the exchange's contract (as positions carry it)."""
        return {
            m.contract: self._exchange.quote(m.contract).mid for m in self._exchange.params.markets
        }

    def _account_download(self) -> Replies:
        account = self._account
        replies: Replies = list(account_value_replies(self._exchange.account(), account))
        replies += portfolio_replies(
            self._exchange.positions(), self._marks(), self._registry.catalog, account
        )
        replies.append(r.AccountTime(time=f"{self._now():%H:%M}"))
        return replies

    def _account_multi(self, req_id: int) -> Replies:
        snapshot = self._exchange.account()
        return [
            r.AccountUpdateMulti(
                req_id=req_id,
                account=self._account,
                key=key,
                value=money(value),
                currency=snapshot.currency,
            )
            for key, value in account_values(snapshot).items()
        ]

    def _summary(self, req_id: int, tags: str) -> Replies:
        snapshot = self._exchange.account()
        wanted = {t for t in tags.split(",") if t}
        return [
            r.AccountSummary(
                req_id=req_id,
                account=self._account,
                tag=key,
                value=money(value),
                currency=snapshot.currency,
            )
            for key, value in account_values(snapshot).items()
            if not wanted or key in wanted or "All" in wanted
        ]

    def _pnl_single(self, request: q.RequestPnLSingle) -> Replies:
        found = self._registry.catalog.matches(q.ContractFields(con_id=request.con_id))
        if not found:
            return self._error(request.req_id, 200, _NO_SECURITY)
        spec = found[0].spec
        mark = self._exchange.quote(spec).mid
        held = [p for p in self._exchange.positions() if p.contract == spec]
        quantity = sum(p.quantity for p in held)
        unrealized = sum((p.unrealized_pnl(mark) for p in held), Decimal(0))
        realized = sum((p.realized_pnl for p in held), Decimal(0))
        return [
            r.PnLSingle(
                req_id=request.req_id,
                position=quantity,
                daily=realized + unrealized,
                unrealized=unrealized,
                realized=realized,
                value=quantity * mark * spec.point_value,
            )
        ]

    def _positions_multi(self, req_id: int) -> Replies:
        return [
            r.PositionMulti(
                req_id=req_id,
                account=p.account,
                contract=p.contract,
                position=p.position,
                average_cost=p.average_cost,
            )
            for p in position_reports(
                self._exchange.positions(), self._registry.catalog, self._account
            )
        ]

    def _pnl_replies(self) -> Replies:
        snapshot = self._exchange.account()
        daily = snapshot.realized + snapshot.unrealized - snapshot.commission
        return [
            r.PnL(
                req_id=req_id,
                daily=daily,
                unrealized=snapshot.unrealized,
                realized=snapshot.realized,
            )
            for req_id in sorted(self._pnl)
        ]

    def _now(self) -> dt.datetime:
        return self._exchange.timestamp(trio.current_time())

    # --- exchange events ----------------------------------------------------------------------

    def on_event(self, event: BrokerEvent) -> Replies:
        replies = self._on_event(event)
        return replies + self._released()

    def _on_event(self, event: BrokerEvent) -> Replies:
        match event:
            case OrderAcknowledged(client_order_id=key):
                record = self._registry.by_key(key)
                if record is not None:
                    record.status = self._working_status(record)
                return []
            case OrderStatusChanged():
                return self._on_status(event)
            case FillReported(fill=fill):
                return self._on_fill(fill)
            case PositionChanged() | AccountValueChanged():
                self._account_changed = True
                return []
            case BrokerErrorReported(code=code, message=message, client_order_id=key):
                record = self._registry.by_key(key) if key is not None else None
                return self._error(record.order_id if record else -1, code, message)
            case ConnectionLost():
                return self._error(
                    -1, 1100, "Connectivity between IB and Trader Workstation has been lost."
                )
            case ConnectionRestored():
                return self._error(
                    -1,
                    1102,
                    "Connectivity between IB and Trader Workstation has been restored - "
                    "data maintained.",
                )
        return []

    def _on_status(self, event: OrderStatusChanged) -> Replies:
        record = self._registry.by_key(event.client_order_id)
        if record is None:
            return []
        if event.status.is_final and not record.completed_time:
            record.completed_time = ib_datetime(self._now().astimezone(dt.UTC))
        if event.status is OrderStatus.REJECTED:
            record.status = "Inactive"
            code = event.code or 201
            reason = event.reason or "rejected"
            text = reason if code != 201 else f"Order rejected - reason:{reason}"
            log.info("gateway_order_rejected", order_id=record.order_id, code=code, reason=reason)
            return [*self._error(record.order_id, code, text), self._status(record)]
        if event.status is OrderStatus.WORKING:
            record.status = self._working_status(record)
            return self._order_state(record)
        record.status = _STATUS_TEXT.get(event.status, "Submitted")
        replies: Replies = [self._status(record)]
        if event.status is OrderStatus.CANCELLED:
            replies += self._error(record.order_id, 202, "Order Canceled - reason:")
        return replies

    def _on_fill(self, fill: Fill) -> Replies:
        record = self._registry.by_key(fill.client_order_id)
        if record is None or fill.execution_id in record.executions:
            return []
        record.executions.add(fill.execution_id)
        cost = record.average_fill_price * record.filled + fill.price * fill.quantity
        record.filled += fill.quantity
        record.average_fill_price = cost / record.filled
        record.last_fill_price = fill.price
        return [
            self._execution(-1, record, fill, record.filled, record.average_fill_price),
            r.CommissionReport(exec_id=fill.execution_id, commission=fill.commission),
        ]

    def account_updates(self) -> Replies:
        """The account, portfolio, positions and PnL to subscribers, once after the account
        changed (the server asks after each burst of events)."""
        if not self._account_changed:
            return []
        self._account_changed = False
        replies: Replies = self._account_download() if self._account_updates else []
        if self._position_updates:
            replies += self._positions()
        return replies + self._pnl_replies()


def _tick_replies(ticker_id: int, before: _Ticks | None, now: _Ticks) -> Replies:
    """The ticks of ``now`` that differ from ``before`` (all of them when nothing was sent)."""
    quote, replies = now.quote, Replies()
    old = before.quote if before is not None else None
    if old is None or (old.bid, old.bid_size) != (quote.bid, quote.bid_size):
        replies.append(
            r.TickPrice(ticker_id=ticker_id, tick_type=1, price=quote.bid, size=quote.bid_size)
        )
    if old is None or (old.ask, old.ask_size) != (quote.ask, quote.ask_size):
        replies.append(
            r.TickPrice(ticker_id=ticker_id, tick_type=2, price=quote.ask, size=quote.ask_size)
        )
    traded = before is None or before.volume != now.volume
    if now.last is not None and traded:
        replies.append(
            r.TickPrice(ticker_id=ticker_id, tick_type=4, price=now.last, size=now.last_size)
        )
        replies.append(r.TickSize(ticker_id=ticker_id, tick_type=5, size=now.last_size))
    if traded:
        replies.append(r.TickSize(ticker_id=ticker_id, tick_type=8, size=now.volume))
    return replies


def _order_refusal(p: q.PlaceOrder) -> str | None:
    """Why IB would reject the order outright (not a whole, positive quantity, no side)."""
    if p.action not in ("BUY", "SELL"):
        return f"action {p.action!r} is not BUY or SELL"
    if p.quantity is None or p.quantity != p.quantity.to_integral_value() or p.quantity <= 0:
        return f"quantity {p.quantity} is not a whole number of contracts"
    return None


def _cancel_refusal(message: M, req_id: int) -> Replies:
    """IB's error for a cancel of nothing; other cancels IB takes in silence."""
    if message not in _UNKNOWN_CANCELS:
        return []
    code, text = _UNKNOWN_CANCELS[message]
    return [r.ErrorMessage(req_id=req_id, code=code, message=f"{text}{req_id}")]


def _wanted(request: q.RequestExecutions, record: OrderRecord, side: Side) -> bool:
    """Whether an execution passes the client's execution filter (time is not filtered)."""
    sides = {"BUY": Side.BUY, "BOT": Side.BUY, "SELL": Side.SELL, "SLD": Side.SELL}
    return (
        (not request.client_id or request.client_id == record.client_id)
        and (not request.symbol or request.symbol == record.listing.symbol)
        and (not request.sec_type or request.sec_type == "FUT")
        and (not request.side or sides.get(request.side.upper()) is side)
    )
