"""One client connection: its requests and the exchange's events, to replies.

Synchronous: `Session.handle` answers a request, `Session.on_event` turns an exchange event into
replies, `Session.account_updates` says what account subscribers hear after a burst of events.
The work is by topic — `SessionOrders` (orders and executions), `SessionMarketData` (contracts
and quotes), `SessionAccount` (positions, values, PnL) — and what the simulator does not have
is answered by `_unserved`; the server around it does all the I/O and the waiting.
"""

from __future__ import annotations

from collections import deque

import structlog
import trio

from ..brokers import (
    AccountValueChanged,
    BrokerEvent,
    ConnectionLost,
    ConnectionRestored,
    PositionChanged,
)
from . import _replies as r
from . import _requests as q
from ._registry import Registry
from ._session_account import SessionAccount
from ._session_history import SessionHistory
from ._session_market import SessionMarketData
from ._session_orders import EPOCH, SessionOrders
from ._session_streams import SessionStreams
from ._unserved import unserved_replies

log = structlog.get_logger()

MAX_MESSAGES_PER_SECOND = 50
"""IB's limit on a client's messages; above it a message is refused with error 100."""

STARTUP_NOTICES = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefil"),
)
Replies = list[r.Reply]


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
        self._rate = RateWindow()
        self.orders = SessionOrders(registry, client_id=client_id, exchange_client=exchange_client)
        self.history = SessionHistory(registry)
        self.market = SessionMarketData(registry, self.history)
        self.account = SessionAccount(registry)
        self.streams = SessionStreams(registry, self.history)

    def startup(self) -> Replies:
        """What a client gets right after startApi."""
        replies: Replies = [
            r.ManagedAccounts(accounts=(self._registry.account,)),
            r.NextValidId(order_id=self.orders.next_id),
        ]
        replies += [r.ErrorMessage(req_id=-1, code=c, message=m) for c, m in STARTUP_NOTICES]
        return replies

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

    async def answer(self, request: q.ClientRequest) -> Replies:
        """`handle`, with checkpoints in the long work of a history request (a year of bars
        takes some 0.2 s to make), so the gateway serves its other clients meanwhile."""
        if isinstance(request, q.RequestHistoricalData):
            return self._historical_data(request, await self.history.bars_with_checkpoints(
                request))
        return self.handle(request)

    def handle(self, request: q.ClientRequest) -> Replies:
        match request:
            case (
                q.PlaceOrder()
                | q.CancelOrder()
                | q.GlobalCancel()
                | q.RequestOpenOrders()
                | q.RequestCompletedOrders()
                | q.RequestExecutions()
                | q.RequestIds()
            ):
                return self._order_request(request)
            case (
                q.RequestContractDetails()
                | q.RequestMatchingSymbols()
                | q.RequestMarketRule()
                | q.RequestMarketData()
                | q.CancelMarketData()
            ):
                return self._market_request(request)
            case (
                q.RequestPositions()
                | q.CancelPositions()
                | q.RequestAccountUpdates()
                | q.RequestAccountUpdatesMulti()
                | q.RequestAccountSummary()
                | q.RequestPnL()
                | q.CancelPnL()
                | q.RequestPnLSingle()
                | q.RequestPositionsMulti()
            ):
                return self._account_request(request)
        return self._other_request(request)

    def _order_request(self, request: q.ClientRequest) -> Replies:
        orders = self.orders
        match request:
            case q.PlaceOrder():
                return orders.place(request)
            case q.CancelOrder(order_id=order_id):
                return orders.cancel(order_id)
            case q.GlobalCancel():
                return orders.global_cancel()
            case q.RequestOpenOrders(all_clients=all_clients):
                return orders.open_orders(all_clients)
            case q.RequestCompletedOrders():
                return orders.completed_orders()
            case q.RequestExecutions():
                return orders.executions(request)
            case q.RequestIds():
                return orders.request_ids()
        raise AssertionError(f"not an order request: {request!r}")

    def _market_request(self, request: q.ClientRequest) -> Replies:
        market = self.market
        match request:
            case q.RequestContractDetails(req_id=req_id, contract=contract):
                return market.contract_details(req_id, contract)
            case q.RequestMatchingSymbols(req_id=req_id, pattern=pattern):
                return market.matching_symbols(req_id, pattern)
            case q.RequestMarketRule(rule_id=rule_id):
                return market.market_rule(rule_id)
            case q.RequestMarketData():
                return market.subscribe(request)
            case q.CancelMarketData(ticker_id=ticker_id):
                return market.unsubscribe(ticker_id)
        raise AssertionError(f"not a market data request: {request!r}")

    def _account_request(self, request: q.ClientRequest) -> Replies:
        account = self.account
        match request:
            case q.RequestPositions():
                return account.positions(subscribe=True)
            case q.CancelPositions():
                return account.positions(subscribe=False)
            case q.RequestAccountUpdates(subscribe=subscribe):
                return account.account_updates(subscribe=subscribe)
            case q.RequestAccountUpdatesMulti(req_id=req_id):
                return account.account_multi(req_id)
            case q.RequestAccountSummary(req_id=req_id, tags=tags):
                return account.summary(req_id, tags)
            case q.RequestPnL(req_id=req_id):
                return account.pnl(req_id, subscribe=True)
            case q.CancelPnL(req_id=req_id):
                return account.pnl(req_id, subscribe=False)
            case q.RequestPnLSingle():
                return account.pnl_single(request)
            case q.RequestPositionsMulti(req_id=req_id):
                return account.positions_multi(req_id)
        raise AssertionError(f"not an account request: {request!r}")

    def _other_request(self, request: q.ClientRequest) -> Replies:
        match request:
            case q.RequestCurrentTime():
                seconds = self._registry.exchange.timestamp(trio.current_time()) - EPOCH
                return [r.CurrentTime(seconds=int(seconds.total_seconds()))]
            case q.RequestManagedAccounts():
                return [r.ManagedAccounts(accounts=(self._registry.account,))]
            case q.StartApi():
                log.warning("gateway_repeated_start_api", client_id=self.client_id)
                return []
            case q.RequestHistoricalData():
                return self._historical_data(request, self.history.bars(request))
            case q.RequestHeadTimestamp():
                return self.history.head_timestamp(request)
            case q.RequestHistogram():
                return self.history.histogram(request)
            case q.RequestHistoricalTicks():
                return self.history.ticks(request)
            case q.RequestRealTimeBars():
                return self.streams.real_time_bars(request)
            case q.RequestMarketDepth():
                return self.streams.depth(request)
            case q.RequestTickByTick():
                return self.streams.tick_by_tick(request)
            case q.CancelSubscription(message=message, req_id=req_id):
                return self.streams.cancel(message, req_id)
            case q.UnservedRequest():
                log.info("gateway_unserved_request", message=request.message.name)
                return unserved_replies(request, self._registry.catalog)
            case q.UnknownMessage(message_id=message_id):
                log.warning("gateway_unknown_message", message_id=message_id)
                text = f"Fatal Error: Unknown message id {message_id}."
                return [r.ErrorMessage(req_id=-1, code=505, message=text)]
        return []  # market data type, auto open orders, account cancels: nothing to say

    def _historical_data(self, request: q.RequestHistoricalData, replies: Replies) -> Replies:
        listing = self._registry.catalog.resolve(request.contract)
        answered = any(isinstance(x, r.HistoricalData) for x in replies)
        if request.keep_up_to_date and answered and listing is not None:
            self.streams.keep_up_to_date(request, listing)
        return replies

    # --- exchange events ----------------------------------------------------------------------

    def on_event(self, event: BrokerEvent) -> Replies:
        if isinstance(event, PositionChanged | AccountValueChanged):
            self.account.changed()
        return _link_notice(event) + self.orders.on_event(event)

    def account_updates(self) -> Replies:
        """What account subscribers hear after a burst of events (nothing if unchanged)."""
        return self.account.updates()


def _link_notice(event: BrokerEvent) -> Replies:
    """IB's notices when its own link goes down (1100) and comes back (1102)."""
    match event:
        case ConnectionLost():
            text = "Connectivity between IB and Trader Workstation has been lost."
            return [r.ErrorMessage(req_id=-1, code=1100, message=text)]
        case ConnectionRestored():
            text = (
                "Connectivity between IB and Trader Workstation has been restored - "
                "data maintained."
            )
            return [r.ErrorMessage(req_id=-1, code=1102, message=text)]
    return []
