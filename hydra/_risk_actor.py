"""The risk actor: the only code that holds the broker's order entry.

Every order and modification passes the pure checks of `hydra._core._risk_checks`, is journaled
before the broker sees it (write-ahead), and is paced under IB's message limit. The actor also
owns the account (positions and PnL from broker fills, never from callers), the trading state
and the session state, and routes each broker event to the actor that owns the order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal

import attrs
import structlog
import trio

from ._contracts import ContractSpec
from ._core._pacing import TokenBucket
from ._core._risk_checks import AccountState, Denial, check_order, tripped_breakers
from ._core._slippage import shortfall_bps
from ._enums import OrderStatus, TradingState
from ._errors import BrokerConnectionError, BrokerError
from ._ids import ClientOrderId
from ._journal_actor import JournalClient
from ._messages import (
    AdoptOrder,
    Blocked,
    CancelOrder,
    EngineEvent,
    FillRecorded,
    FromBroker,
    Kill,
    ModifyOrder,
    OrderAnswer,
    PlaceOrder,
    ReconcileDifference,
    Resynced,
    RiskMessage,
    Sent,
    SessionChanged,
    SessionDown,
    SetTradingState,
    TradingStateChanged,
)
from ._orders import Fill, OrderRequest
from ._settings import RiskLimits
from .brokers import (
    Broker,
    BrokerErrorReported,
    BrokerEvent,
    ConnectionLost,
    FillReported,
    OrderAcknowledged,
    OrderStatusChanged,
)

log = structlog.get_logger()


@attrs.define
class _Order:
    """A working order as the risk actor tracks it (its own state, never shared)."""

    request: OrderRequest
    owner: trio.MemorySendChannel[BrokerEvent]
    arrival_mid: Decimal
    predicted_bps: Decimal | None
    filled: int = 0
    sent: bool = False  # the broker has it (a cancel asked for before then waits for this)


@attrs.define
class RiskState:
    """Everything the risk actor owns."""

    account: AccountState
    bucket: TokenBucket
    session_up: bool = True
    orders: dict[ClientOrderId, _Order] = attrs.Factory(dict)
    unsent_cancels: set[ClientOrderId] = attrs.Factory(set)  # asked for while the link was down
    early_cancels: set[ClientOrderId] = attrs.Factory(set)  # asked for before the order went


class RiskActor:
    """One loop over the inbox; handlers are methods so each fits a screen."""

    def __init__(
        self,
        *,
        broker: Broker,
        journal: JournalClient,
        limits: RiskLimits,
        state: RiskState,
        publish: trio.MemorySendChannel[EngineEvent],
        supervisor: trio.MemorySendChannel[SessionDown],
        dry_run: bool,
    ) -> None:
        self._broker = broker
        self._journal = journal
        self._limits = limits
        self._state = state
        self._publish = publish
        self._supervisor = supervisor
        self._dry_run = dry_run
        self._pacing = trio.Lock()
        # Set by run_risk: cancels wait for pacing in a lane of their own.
        self.cancel_lane: trio.MemorySendChannel[RiskMessage] | None = None

    # --- order entry --------------------------------------------------------------------------

    def _reference_price(self, contract: ContractSpec) -> Decimal | None:
        try:
            return self._broker.quote_nowait(contract).mid
        except BrokerError:
            return None  # no quote: the collar check fails closed

    def _refresh_marks(self) -> None:
        """Mark every open position at its current mid, so the breakers see today's PnL."""
        account = self._state.account
        for symbol, position in account.positions.items():
            if position.quantity:
                mid = self._reference_price(position.contract)
                if mid is not None:
                    account = account.with_mark(symbol, mid)
        self._state.account = account

    def _denials(self, request: OrderRequest) -> tuple[Denial, ...]:
        if not self._state.session_up:
            return (Denial(field="session", value="down", limit="connected to the broker"),)
        self._refresh_marks()
        return check_order(
            request,
            account=self._state.account,
            limits=self._limits,
            reference_price=self._reference_price(request.contract),
            now=trio.current_time(),
        )

    async def _paced(self) -> None:
        """Wait for a token of the pacing bucket, then spend it; the two lanes take turns, so
        no token is spent twice."""
        async with self._pacing:
            await trio.sleep(self._state.bucket.wait_for_token(trio.current_time()))
            self._state.bucket = self._state.bucket.take(trio.current_time())

    async def place(self, message: PlaceOrder) -> OrderAnswer:
        request = message.request
        if request.client_order_id in self._state.early_cancels:
            self._state.early_cancels.discard(request.client_order_id)
            denial = Denial(field="cancelled", value=request.client_order_id,
                            limit="not sent: cancelled while waiting to be sent")
            await self._journal.record_blocked(request, denials=[denial.message])
            message.owner.send_nowait(OrderStatusChanged(  # its owner may be waiting on events
                client_order_id=request.client_order_id, status=OrderStatus.CANCELLED,
                filled=0, remaining=request.quantity, reason=denial.limit,
            ))
            return Blocked(denials=(denial,))
        denials = self._denials(request)
        if denials:
            await self._journal.record_blocked(request, denials=[d.message for d in denials])
            log.warning("risk_denied", client_order_id=request.client_order_id,
                        denials=[d.message for d in denials])
            return Blocked(denials=denials)
        await self._journal.record_order(request, dry=self._dry_run)  # write-ahead
        if self._dry_run:
            return Sent(dry=True)
        self._state.orders[request.client_order_id] = _Order(
            request=request, owner=message.owner, arrival_mid=message.arrival_mid,
            predicted_bps=message.predicted_bps,
        )
        await self._paced()
        try:
            await self._broker.place(request)
        except BrokerConnectionError as e:
            return await self._not_sent(request, str(e))
        self._state.orders[request.client_order_id].sent = True
        self._state.account = self._state.account.with_order_sent(now=trio.current_time())
        log.info("order_placed", client_order_id=request.client_order_id,
                 limit_price=str(request.limit_price), quantity=request.quantity)
        if request.client_order_id in self._state.early_cancels:
            self._state.early_cancels.discard(request.client_order_id)
            await self.cancel(request.client_order_id)
        return Sent()

    async def _not_sent(self, request: OrderRequest, reason: str) -> OrderAnswer:
        """The broker refused the call itself (link down): the order never left; say so."""
        del self._state.orders[request.client_order_id]
        await self._journal.record_status(request.client_order_id, OrderStatus.REJECTED,
                                          reason=f"not sent: {reason}", intent=request.intent_id)
        return Blocked(denials=(Denial(field="session", value="down", limit=reason),))

    async def modify(self, message: ModifyOrder) -> OrderAnswer:
        order = self._state.orders.get(message.client_order_id)
        if order is None:
            denial = Denial(field="client_order_id", value=message.client_order_id,
                            limit="a working order")
            return Blocked(denials=(denial,))
        request = attrs.evolve(order.request, limit_price=message.limit_price)
        denials = tuple(d for d in self._denials(request) if d.field not in _NEW_ORDER_ONLY)
        if denials:
            await self._journal.record_blocked(request, denials=[d.message for d in denials])
            return Blocked(denials=denials)
        await self._journal.record_note("modify", client_order_id=request.client_order_id,
                                        limit_price=message.limit_price)
        await self._paced()
        try:
            await self._broker.modify(request.client_order_id, limit_price=message.limit_price)
        except BrokerConnectionError as e:
            return Blocked(denials=(Denial(field="session", value="down", limit=str(e)),))
        order.request = request
        return Sent()

    async def cancel(self, client_order_id: ClientOrderId) -> None:
        """Cancels always pass the checks; only the link being down stops them. A cancel that
        overtakes its own order (still queued, or being sent) is applied once it is sent."""
        if self._dry_run:
            return
        order = self._state.orders.get(client_order_id)
        if order is None or not order.sent:
            self._state.early_cancels.add(client_order_id)
            return
        await self._paced()
        try:
            await self._broker.cancel(client_order_id)
        except BrokerConnectionError:
            log.warning("cancel_deferred", client_order_id=client_order_id)
            self._state.unsent_cancels.add(client_order_id)  # sent again after the resync

    async def kill(self, message: Kill) -> None:
        await self._journal.record_note("kill_switch", reason=message.reason,
                                        working=len(self._state.orders))
        await self.set_state(TradingState.HALTED, message.reason)
        for client_order_id in list(self._state.orders):
            self._cancel_later(client_order_id)
        message.done.set()

    def _cancel_later(self, client_order_id: ClientOrderId) -> None:
        """Queue a cancel in the cancel lane (it waits there for pacing, not here)."""
        assert self.cancel_lane is not None, "run_risk sets the cancel lane"
        self.cancel_lane.send_nowait(CancelOrder(client_order_id=client_order_id))

    async def set_state(self, state: TradingState, reason: str) -> None:
        if self._state.account.trading_state is state:
            return
        self._state.account = attrs.evolve(self._state.account, trading_state=state)
        await self._journal.record_note("trading_state", state=state, reason=reason)
        log.warning("trading_state_changed", state=state.value, reason=reason)
        self._publish.send_nowait(TradingStateChanged(state=state, reason=reason))

    # --- broker events ------------------------------------------------------------------------

    async def on_event(self, event: BrokerEvent) -> None:
        match event:
            case OrderAcknowledged():
                order = self._state.orders.get(event.client_order_id)
                intent = None if order is None else order.request.intent_id
                await self._journal.record_ack(event.client_order_id, event.broker_order_id,
                                               intent)
                self._forward(event.client_order_id, event)
            case OrderStatusChanged():
                await self._on_status(event)
            case FillReported():
                await self.on_fill(event.fill)
            case ConnectionLost():
                await self._session_down(event.reason)
            case BrokerErrorReported():
                await self._journal.record_note("broker_error", code=event.code,
                                                message=event.message,
                                                client_order_id=event.client_order_id)
                if event.client_order_id is not None:
                    self._forward(event.client_order_id, event)
            case _:
                pass  # account values and positions: the account is derived from fills

    def _forward(self, client_order_id: ClientOrderId, event: BrokerEvent) -> None:
        order = self._state.orders.get(client_order_id)
        if order is not None:
            order.owner.send_nowait(event)

    async def _on_status(self, event: OrderStatusChanged) -> None:
        order = self._state.orders.get(event.client_order_id)
        intent = None if order is None else order.request.intent_id
        await self._journal.record_status(event.client_order_id, event.status,
                                          reason=event.reason, intent=intent)
        self._forward(event.client_order_id, event)
        if event.status.is_final and order is not None:
            del self._state.orders[event.client_order_id]
            self._state.account = self._state.account.with_order_closed()

    async def on_fill(self, fill: Fill) -> None:
        """Journal ``fill`` once; a repeated execution id changes nothing and goes nowhere."""
        order = self._state.orders.get(fill.client_order_id)
        intent = None if order is None else order.request.intent_id
        actual = None if order is None else shortfall_bps(
            fill.side, average_price=fill.price, arrival_mid=order.arrival_mid)
        predicted = None if order is None else order.predicted_bps
        if not await self._journal.record_fill(fill, intent_id=intent, predicted_bps=predicted,
                                               actual_bps=actual):
            log.info("duplicate_execution_ignored", execution_id=fill.execution_id)
            return
        self._publish.send_nowait(FillRecorded(fill=fill, intent_id=intent))
        if order is not None:
            order.filled += fill.quantity
            self._state.account = self._state.account.after_fill(
                fill, contract=order.request.contract
            ).with_mark(fill.symbol, fill.price)
            order.owner.send_nowait(FillReported(fill=fill))
        await self._check_breakers()

    async def _check_breakers(self) -> None:
        tripped = tripped_breakers(self._state.account, limits=self._limits)
        if tripped:
            await self.set_state(TradingState.HALTED, "; ".join(d.message for d in tripped))

    # --- the connection -----------------------------------------------------------------------

    async def _session_down(self, reason: str) -> None:
        if not self._state.session_up:
            return
        self._state.session_up = False
        log.warning("session_down", reason=reason)
        await self._journal.record_note("session_down", reason=reason)
        self._publish.send_nowait(SessionChanged(up=False, reason=reason))
        # At most one loss is pending: the flag above is only cleared by a finished resync.
        self._supervisor.send_nowait(SessionDown(reason=reason))

    async def resynced(self, message: Resynced) -> None:
        """Journal the fills missed while down (once each), settle orders that finished, and
        report (never overwrite) positions that differ from the broker's."""
        for fill in message.fills:
            await self.on_fill(fill)
        await self._compare_positions(message.positions)
        still_working = {order.client_order_id: order for order in message.open_orders}
        for client_order_id, order in list(self._state.orders.items()):
            if client_order_id not in still_working:
                await self._finished_while_down(client_order_id, order)
        was_down = not self._state.session_up
        self._state.session_up = True
        if was_down:
            await self._journal.record_note("reconnected", missed_fills=len(message.fills))
            self._publish.send_nowait(SessionChanged(up=True, reason="resynced"))
            log.info("session_up", missed_fills=len(message.fills))
        unsent, self._state.unsent_cancels = self._state.unsent_cancels, set()
        for client_order_id in unsent:
            self._cancel_later(client_order_id)

    async def _compare_positions(self, positions: Mapping[str, int] | None) -> None:
        if positions is None:
            return
        ours = {s: p.quantity for s, p in self._state.account.positions.items() if p.quantity}
        theirs = {symbol: quantity for symbol, quantity in positions.items() if quantity}
        for symbol in sorted(ours.keys() | theirs.keys()):
            if ours.get(symbol, 0) != theirs.get(symbol, 0):
                description = (f"position in {symbol}: broker {theirs.get(symbol, 0)}, "
                               f"Hydra's account {ours.get(symbol, 0)}")
                await self._journal.record_note("reconcile_difference", symbol=symbol,
                                                description=description)
                log.warning("reconcile_difference", symbol=symbol, description=description)
                self._publish.send_nowait(ReconcileDifference(
                    client_order_id=None, description=description))

    async def _finished_while_down(self, client_order_id: ClientOrderId, order: _Order) -> None:
        done = order.filled >= order.request.quantity
        status = OrderStatus.FILLED if done else OrderStatus.CANCELLED
        event = OrderStatusChanged(
            client_order_id=client_order_id, status=status, filled=order.filled,
            remaining=order.request.quantity - order.filled,
            reason="no longer working at the broker after reconnect",
        )
        if not done:
            self._publish.send_nowait(ReconcileDifference(
                client_order_id=client_order_id,
                description=f"not working at the broker after reconnect, {order.filled} of "
                f"{order.request.quantity} filled",
            ))
        await self._on_status(event)

    def adopt(self, message: AdoptOrder) -> None:
        order = message.order
        self._state.orders[order.client_order_id] = _Order(
            request=order.request, owner=message.owner, arrival_mid=message.arrival_mid,
            predicted_bps=None, filled=order.filled, sent=True,
        )
        self._state.account = attrs.evolve(
            self._state.account, open_order_count=self._state.account.open_order_count + 1
        )


_NEW_ORDER_ONLY = frozenset({"open_orders", "orders_per_minute"})
"""Checks that count new orders: a modification is not a new order."""


async def run_risk(
    inbox: trio.MemoryReceiveChannel[RiskMessage],
    *,
    actor: RiskActor,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve order entry and broker events until the inbox closes, in three lanes: new orders
    and modifications, and cancels, each wait their turn for the pacing bucket; broker events,
    the kill switch, adoptions and resyncs never wait behind either."""
    # Unbounded: every sender of a new order or modification waits for its answer, so this
    # holds at most one message per order actor; a cancel is asked for once per order.
    orders_send, orders_receive = trio.open_memory_channel[RiskMessage](math.inf)
    cancels_send, cancels_receive = trio.open_memory_channel[RiskMessage](math.inf)
    prompt_send, prompt_receive = trio.open_memory_channel[RiskMessage](0)
    actor.cancel_lane = cancels_send
    async with trio.open_nursery() as lanes:
        lanes.start_soon(_serve, orders_receive, actor)
        lanes.start_soon(_serve, cancels_receive, actor)
        lanes.start_soon(_serve, prompt_receive, actor)
        task_status.started()
        async with inbox, orders_send, cancels_send, prompt_send:
            async for message in inbox:
                if isinstance(message, PlaceOrder | ModifyOrder):
                    orders_send.send_nowait(message)
                elif isinstance(message, CancelOrder):
                    cancels_send.send_nowait(message)
                else:
                    await prompt_send.send(message)


async def _serve(lane: trio.MemoryReceiveChannel[RiskMessage], actor: RiskActor) -> None:
    async with lane:
        async for message in lane:
            await _handle(actor, message)


async def _handle(actor: RiskActor, message: RiskMessage) -> None:
    match message:
        case PlaceOrder():
            message.reply.send_nowait(await actor.place(message))
        case ModifyOrder():
            message.reply.send_nowait(await actor.modify(message))
        case CancelOrder():
            await actor.cancel(message.client_order_id)
        case Kill():
            await actor.kill(message)
        case SetTradingState():
            await actor.set_state(message.state, message.reason)
        case FromBroker():
            await actor.on_event(message.event)
        case Resynced():
            await actor.resynced(message)
        case AdoptOrder():
            actor.adopt(message)


IB_MESSAGES_PER_SECOND = 50
PACING_HEADROOM = 4


def pacing_bucket(limits: RiskLimits, now: float) -> TokenBucket:
    """IB pacing: ``messages_per_second`` a second, with a burst small enough that a one-second
    window holds at most burst + rate messages, at least 4 under IB's 50: headroom for the
    few messages outside order entry and for messages arriving bunched (seen under a
    200-intents-a-second burst with no headroom: bench/load.py)."""
    rate = float(limits.messages_per_second)
    burst = max(1.0, IB_MESSAGES_PER_SECOND - PACING_HEADROOM - rate)
    return TokenBucket.full(rate=rate, burst=burst, now=now)

