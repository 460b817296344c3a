"""The risk actor: the thin Trio shell around the risk book, and the only holder of order entry.

One loop feeds the book (`hydra._core._risk_book.RiskBook`) one message at a time and carries
out its effects in order: journal writes (an order is journaled before it is handed to the
sender: write-ahead), answers, events to the actor that owns an order, published engine events.
Broker events, cancels and control messages go before new orders in the loop's inbox; the
sender (`hydra._sender`) holds the broker's order entry and the pacing bucket. Broker data is
checked at this boundary: quotes through the quote source (nothing unusable is priced from),
executions by the book (an anomaly halts, never crashes). An order's owner is told when its
cancel is held for a down link (journaled as asked for, as a sent one is) and when the resync
sends it (`CancelHeld`, `CancelReleased`): it then waits for the order's end. Each fill is
journaled with its order's pre-trade estimate and, given a `FillPredictor`, its own
prediction, made from the last quote the order was seen in before it
(`hydra._fill_prediction`).

A journal write that fails (`JournalWriteError`: disk full) does not end the actor, which the
finalizer still needs to cancel what works: the book is told (`JournalFailed`: trading
HALTED), the order whose write-ahead it was is never transmitted, and the rest of the effects
go on (cancels above all). `open_hydra` stops on the failure through the journal client.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import structlog
import trio

from ._contracts import ContractSpec, contract_for
from ._core._instants import later
from ._core._model_versions import FillPrediction
from ._core._pacing import TokenBucket
from ._core._risk_book import BookOrder, RiskBook
from ._core._risk_messages import (
    Abandon,
    Acked,
    Adopt,
    AllowFlatten,
    Cancel,
    CheckIntent,
    CommissionAdded,
    Difference,
    Dispatched,
    Effect,
    Executed,
    ExecutionConflict,
    FillBooked,
    Finalize,
    Forward,
    JournalAck,
    JournalBlocked,
    JournalFailed,
    JournalNote,
    JournalOrder,
    JournalStatus,
    KeepWorking,
    KillSwitch,
    Latch,
    LinkChanged,
    LinkLost,
    Marks,
    Modify,
    NewOrder,
    Outcome,
    Reply,
    Resume,
    Resync,
    RiskInput,
    StateChanged,
    StatusReported,
    TellCancel,
    TellStatus,
    Transmit,
    TransmitCancel,
    TransmitModify,
    Withdraw,
    conflicting_fields,
)
from ._core._slippage import shortfall_bps
from ._enums import NoteKind, OrderStatus, Policy, TradingState
from ._errors import InvalidValueError, JournalWriteError
from ._fill_prediction import FillPredictor
from ._ids import ClientOrderId, JournalId, journal_id_of
from ._journal_actor import JournalClient
from ._journal_calls import AdoptedAsUnknown, FillOf, OrderRequestOf, PredictionOf
from ._messages import (
    AdoptOrder,
    CancelHeld,
    CancelOrder,
    CancelReleased,
    CheckIntentFits,
    CommissionRecorded,
    EngineEvent,
    FillRecorded,
    FlattenIntent,
    FromBroker,
    GiveUp,
    Kill,
    LeaveWorking,
    ModifyOrder,
    OrderSent,
    OrderStatusRecorded,
    OwnerEvent,
    PlaceOrder,
    ReconcileDifference,
    ResumeTrading,
    Resynced,
    RiskMessage,
    SessionChanged,
    SessionDown,
    Settle,
    SetTradingState,
    StageBegun,
    StageRecorded,
    TradingStateChanged,
)
from ._orders import Fill
from ._quotes import Quote
from ._schedule import trading_day
from ._sender import SendQueue, TwoLanes, run_sender
from ._settings import RiskLimits
from .brokers import (
    BrokerErrorReported,
    BrokerEvent,
    CommissionReported,
    ConnectionLost,
    FillReported,
    OrderAcknowledged,
    OrderEntry,
    OrderStatusChanged,
)

log = structlog.get_logger()

Quotes = Callable[[ContractSpec], Quote | None]
"""A usable quote for a contract, or None (none yet, or unusable: crossed, stale, ...)."""


class RiskActor:
    """Carries out the book's effects; the book decides everything."""

    def __init__(
        self, book: RiskBook, *, journal: JournalClient, quotes: Quotes,
        publish: trio.MemorySendChannel[EngineEvent],
        supervisor: trio.MemorySendChannel[SessionDown],
        clock: Callable[[], dt.datetime],
        journal_id: JournalId | None = None,
        predictor: FillPredictor | None = None,
    ) -> None:
        self.book = book
        self._predictor = predictor  # None: fills carry their order's pre-trade estimate only
        self._journal_id = journal_id  # an execution of another journal's order is a stranger's
        self._journal = journal
        self._quotes = quotes
        self._publish = publish
        self._supervisor = supervisor
        self._clock = clock
        self.sending = SendQueue()
        self.unmanaged: list[str] = []  # orders the finalizer could not settle
        self._settling: trio.Event | None = None
        self._cancels_noted: set[ClientOrderId] = set()  # cancel_requested is journaled once
        # Re-reports of executions journaled before (a start or a reconnect brings the day's
        # executions and their commissions again): counted, and logged as one line when a
        # message that is not a re-report ends the burst.
        self._duplicates = 0
        self._rereport = False  # the message being handled re-reported a known execution

    # --- feeding the book ------------------------------------------------------------------

    async def _feed(self, message: RiskInput, event: BrokerEvent | None = None) -> None:
        await self._carry_out(self.book.handle(message, trio.current_time()), event)

    def _mid(self, contract: ContractSpec) -> Decimal | None:
        quote = self._quotes(contract)
        return None if quote is None else quote.mid

    async def _mark(self, *also: ContractSpec) -> None:
        """Mark every open position (and ``also``) at its usable mid, so the breakers see
        today's PnL before an order is judged."""
        contracts = {p.contract.symbol: p.contract
                     for p in self.book.account.positions.values() if p.quantity}
        contracts.update({c.symbol: c for c in also})
        mids = {s: mid for s, c in contracts.items() if (mid := self._mid(c)) is not None}
        await self._feed(Marks(mids=mids, day=trading_day(self._clock()).isoformat()))

    async def handle(self, message: RiskMessage) -> None:
        self._rereport = False
        try:
            await self._handle(message)
        except JournalWriteError as failure:  # a write of the shell's own (a fill, a note)
            await self._feed(JournalFailed(problem=failure.problem))
        if self._duplicates and (not self._rereport or isinstance(message, Resynced)):
            log.info("duplicate_executions_ignored", count=self._duplicates)
            self._duplicates = 0
        if self._settling is not None and not self.book.orders:
            self._settling.set()
        if self._predictor is not None:
            self._predictor.forget_all_but(self.book.orders)

    async def _handle(self, message: RiskMessage) -> None:
        match message:
            case PlaceOrder():
                request = message.request
                await self._mark(request.contract)
                await self._feed(NewOrder(
                    request=request, arrival_mid=message.arrival_mid,
                    predicted_bps=message.predicted_bps, owner=message.owner,
                    reply=message.reply, reference_price=self._mid(request.contract),
                    part=message.part))
                self._sending(request.client_order_id, before=None)
            case ModifyOrder():
                order = self.book.order_context(message.client_order_id)
                if order is not None:
                    self._sending(message.client_order_id, before=order.request.limit_price)
                reference = None if order is None else self._mid(order.request.contract)
                await self._feed(Modify(client_order_id=message.client_order_id,
                                        limit_price=message.limit_price, reply=message.reply,
                                        reference_price=reference))
            case CancelOrder():
                await self._cancel_requested(message.client_order_id,
                                             ladder_end=message.ladder_end)
                await self._feed(Cancel(client_order_id=message.client_order_id))
            case StageBegun():
                await self._stage_begun(message)
            case Kill():
                await self._feed(KillSwitch(reason=message.reason, cause=message.cause))
                message.done.set()
            case ResumeTrading():
                await self._feed(Resume(reason=message.reason))
                message.done.set()
            case SetTradingState():
                await self._feed(Resume(reason=message.reason)
                                 if message.state is TradingState.ACTIVE
                                 else Latch(state=message.state, reason=message.reason))
            case CheckIntentFits():
                await self._feed(CheckIntent(symbol=message.symbol,
                                             signed_quantity=message.signed_quantity,
                                             reply=message.reply))
            case FlattenIntent():
                await self._feed(AllowFlatten(intent_id=message.intent_id))
            case LeaveWorking():
                await self._leave_working(message)
            case AdoptOrder():
                await self._feed(Adopt(request=message.order.request, filled=message.order.filled,
                                       arrival_mid=message.arrival_mid, owner=message.owner))
            case Dispatched():
                await self._dispatched(message)
            case FromBroker():
                await self._on_event(message.event)
            case Resynced():
                await self._resynced(message)
            case Settle():
                self._settling = message.done
                await self._feed(Finalize(leave_working=message.leave_working))
                if not self.book.session_up:  # nothing can be cancelled: no waiting
                    await self._feed(Abandon(reason="the broker is unreachable"))
            case GiveUp():
                if message.reason is not None:
                    await self._feed(Abandon(reason=message.reason))
                message.reply.send_nowait(list(self.unmanaged))

    async def _dispatched(self, message: Dispatched) -> None:
        """Tell the book what the sender did; publish what went to the broker, so a page
        shows a new or repriced order at once rather than at the next fill."""
        order = self.book.order_context(message.client_order_id)
        await self._feed(message)
        if message.outcome is not Outcome.SENT or order is None:
            return
        price = order.request.limit_price if message.limit_price is None else message.limit_price
        self._publish.send_nowait(OrderSent(
            client_order_id=message.client_order_id, intent_id=order.request.intent_id,
            action=message.action, limit_price=price))

    async def _stage_begun(self, message: StageBegun) -> None:
        """Journal when each stage left of an order's ladder ends, on the journal's clock, and
        publish the stage begun (a page shows a step that kept its price)."""
        now, wall = trio.current_time(), self._clock()
        ends = [(stage, later(wall, end - now)) for stage, end in message.stages]
        slices = {} if message.slice is None else {"slice": list(message.slice)}
        await self._journal.record_note(
            NoteKind.LADDER_STAGE, client_order_id=message.client_order_id,
            intent_id=message.intent_id,
            stages=[[stage, at.isoformat()] for stage, at in ends], **slices)
        self._publish.send_nowait(StageRecorded(
            client_order_id=message.client_order_id, intent_id=message.intent_id,
            stage=ends[0][0], next_step_at=ends[0][1]))

    async def _leave_working(self, message: LeaveWorking) -> None:
        order = self.book.order_context(message.client_order_id)
        if order is not None:
            await self._journal.record_status(
                message.client_order_id, OrderStatus.LEFT_WORKING, reason="left working by config",
                intent=order.request.intent_id)
            await self._feed(KeepWorking(client_order_id=message.client_order_id))

    # --- broker events ---------------------------------------------------------------------

    async def _on_event(self, event: BrokerEvent) -> None:
        match event:
            case OrderAcknowledged():
                await self._feed(Acked(client_order_id=event.client_order_id,
                                       broker_order_id=event.broker_order_id), event)
                self._saw(event.client_order_id)
            case OrderStatusChanged():
                await self._feed(StatusReported(client_order_id=event.client_order_id,
                                                status=event.status, reason=event.reason), event)
                self._saw(event.client_order_id, broker_filled=event.filled)
            case FillReported():
                await self._on_fill(event.fill, event)
            case ConnectionLost():
                await self._feed(LinkLost(reason=event.reason))
            case CommissionReported():
                if not self.book.booked(event.execution_id):
                    self._rereport = True
                    return  # re-reported after a restart: its commission is journaled already
                await self._journal.record_note(NoteKind.COMMISSION,
                                                execution_id=event.execution_id,
                                                client_order_id=event.client_order_id,
                                                commission=event.commission)
                await self._feed(CommissionAdded(execution_id=event.execution_id,
                                                 commission=event.commission))
                self._publish.send_nowait(CommissionRecorded(
                    execution_id=event.execution_id, client_order_id=event.client_order_id,
                    commission=event.commission))
            case BrokerErrorReported():
                await self._journal.record_note(NoteKind.BROKER_ERROR, code=event.code,
                                                message=event.message,
                                                client_order_id=event.client_order_id)
                order = (None if event.client_order_id is None
                         else self.book.order_context(event.client_order_id))
                if order is not None:
                    _tell(order.owner, event)
            case _:
                pass  # account values and positions: the account is derived from fills

    async def _on_fill(self, fill: Fill, event: BrokerEvent | None, *, live: bool = True,
                       restart: bool = False) -> None:
        """Journal ``fill`` once by execution id, then let the book judge and book it."""
        order = self.book.order_context(fill.client_order_id)
        known_request = (order.request if order is not None else await self._journal.ask(
            OrderRequestOf(fill.client_order_id)))
        actual = own = None
        if order is not None and fill.price.is_finite() and fill.price > 0:
            actual = shortfall_bps(fill.side, average_price=fill.price,
                                   arrival_mid=order.arrival_mid)
            own = await self._fill_prediction(order, fill)
        new = await self._journal.record_fill(
            fill, intent_id=None if known_request is None else known_request.intent_id,
            predicted_bps=None if order is None else order.predicted_bps, actual_bps=actual,
            fill_prediction=None if own is None else own.to_json())
        if not new:
            stored = await self._journal.ask(FillOf(fill.execution_id))
            if stored is not None and conflicting_fields(stored, fill):
                await self._feed(ExecutionConflict(stored=stored, reported=fill), event)
                return
            self._duplicates += 1
            self._rereport = True
            return
        contract = known_request.contract if known_request is not None else _contract(fill)
        log.info("fill", intent_id=None if known_request is None else known_request.intent_id,
                 symbol=fill.symbol, side=fill.side.value, quantity=fill.quantity,
                 price=str(fill.price), slippage_bps=None if actual is None else f"{actual:.2f}",
                 predicted_bps=None if order is None or order.predicted_bps is None
                 else f"{order.predicted_bps:.2f}",
                 fill_predicted_bps=None if own is None else f"{own.prediction.bps:.2f}")
        if known_request is None and live:
            # An order adopted as a stranger (--adopt-unknown) is the trader's, not Hydra's,
            # and one stamped with another journal's id is that journal's (IB reports the
            # account's executions of the day on every session that asks): their fills are
            # strangers' too, never an anomaly that halts every later start.
            stamped = journal_id_of(fill.client_order_id)
            live = stamped in (None, self._journal_id) and not await self._journal.ask(
                AdoptedAsUnknown(fill.client_order_id))
        await self._feed(Executed(fill=fill, known=known_request is not None, live=live,
                                  contract=contract, restart=restart), event)
        self._saw(fill.client_order_id, after_fill=True)

    async def _fill_prediction(self, order: BookOrder, fill: Fill) -> FillPrediction | None:
        """The current model version's prediction for ``fill`` of ``order`` (None without a
        predictor, or for an order whose intent has no pre-trade estimate)."""
        predictor, request = self._predictor, order.request
        if predictor is None:
            return None
        if not predictor.knows_policy(request.client_order_id):
            note = await self._journal.ask(PredictionOf(request.intent_id))
            predictor.set_policy(request.client_order_id,
                                 None if note is None else Policy(note["policy"]))
        return predictor.predict(order, fill)

    def _sending(self, client_order_id: ClientOrderId, *, before: Decimal | None) -> None:
        """Remember the market an order (``before``: None) or its modification (``before``:
        the limit it stands at) goes into, read before the sender sends it: an order that
        crosses fills as it arrives, and a quote read after that shows what it took."""
        order = self.book.order_context(client_order_id)
        if self._predictor is not None and order is not None:
            self._predictor.sent(order, before=before)

    def _saw(self, client_order_id: ClientOrderId, *, broker_filled: int | None = None,
             after_fill: bool = False) -> None:
        """Remember the quote a working order stands in now (its next fill is judged on it:
        `FillPredictor.standing`)."""
        order = self.book.order_context(client_order_id)
        if self._predictor is not None and order is not None:
            self._predictor.standing(order, broker_filled=broker_filled, after_fill=after_fill)

    async def _resynced(self, message: Resynced) -> None:
        for fill in message.fills:
            await self._on_fill(fill, FillReported(fill=fill), live=False,
                                restart=message.restart)
        await self._feed(Resync(working=frozenset(o.client_order_id for o in message.open_orders),
                                positions=message.positions, restart=message.restart))
        if message.done is not None:
            message.done.set()

    # --- carrying out effects --------------------------------------------------------------

    async def _carry_out(self, effects: list[Effect], event: BrokerEvent | None) -> None:
        unwritten: set[ClientOrderId] = set()  # write-ahead failed: never transmitted
        for effect in effects:
            if _transmits(effect) in unwritten:
                continue
            try:
                await self._effect(effect, event)
            except JournalWriteError as failure:
                coid = _written_ahead(effect)
                if coid is not None:
                    unwritten.add(coid)
                await self._feed(JournalFailed(problem=failure.problem, client_order_id=coid,
                                               placing=isinstance(effect, JournalOrder)))

    async def _effect(self, effect: Effect, event: BrokerEvent | None) -> None:
        journal = self._journal
        match effect:
            case JournalOrder():
                await journal.record_order(effect.request, dry=effect.dry, part=effect.part)
            case JournalBlocked():
                denials = [d.message for d in effect.denials]
                await journal.record_blocked(effect.request, denials=denials)
                log.warning("risk_denied", client_order_id=effect.request.client_order_id,
                            denials=denials)
            case JournalAck():
                await journal.record_ack(effect.client_order_id, effect.broker_order_id,
                                         effect.intent_id)
            case JournalStatus():
                await journal.record_status(effect.client_order_id, effect.status,
                                            reason=effect.reason, intent=effect.intent_id)
                self._publish.send_nowait(OrderStatusRecorded(
                    client_order_id=effect.client_order_id, intent_id=effect.intent_id,
                    status=effect.status, reason=effect.reason))
            case JournalNote():
                await journal.record_note(effect.what, **effect.details)
                if effect.what is NoteKind.ORDER_UNMANAGED:
                    self.unmanaged.append(effect.details["client_order_id"])
                if effect.alarm:
                    log.warning(effect.what, **effect.details)
            case Reply():
                effect.reply.send_nowait(effect.answer)
            case Forward():
                assert event is not None, "only a broker event is forwarded"
                _tell(effect.owner, event)
            case TellStatus():
                _tell(effect.owner, OrderStatusChanged(
                    client_order_id=effect.client_order_id, status=effect.status,
                    filled=effect.filled, remaining=effect.remaining, reason=effect.reason))
            case TellCancel():
                await self._tell_cancel(effect)
            case _:
                await self._outward(effect)

    async def _outward(self, effect: Effect) -> None:
        match effect:
            case Transmit():
                self.sending.place(effect.request)
            case TransmitModify():
                self.sending.modify(effect.client_order_id, effect.limit_price)
            case TransmitCancel():
                await self._cancel_requested(effect.client_order_id)
                self.sending.cancel(effect.client_order_id)
            case Withdraw():
                await self._cancel_requested(effect.client_order_id)
                self.sending.withdraw(effect.client_order_id)
            case StateChanged():
                self._publish.send_nowait(TradingStateChanged(state=effect.state,
                                                              reason=effect.reason))
            case LinkChanged():
                await self._link_changed(effect)
            case FillBooked():
                self._publish.send_nowait(FillRecorded(fill=effect.fill,
                                                       intent_id=effect.intent_id))
            case Difference():
                await self._journal.record_note(NoteKind.RECONCILE_DIFFERENCE,
                                                client_order_id=effect.client_order_id,
                                                description=effect.description)
                log.warning("reconcile_difference", description=effect.description)
                self._publish.send_nowait(ReconcileDifference(
                    client_order_id=effect.client_order_id, description=effect.description))

    async def _cancel_requested(self, client_order_id: ClientOrderId, *,
                                ladder_end: bool = False) -> None:
        """Journal, once per order and before the sender has it, that its cancel was asked
        for (a restart completes it: `hydra._recovery`). A cancel the book starts itself (a
        kill, a breaker, the finalizer) stops the order's intent."""
        order = self.book.order_context(client_order_id)
        if order is None or client_order_id in self._cancels_noted:
            return
        self._cancels_noted.add(client_order_id)
        await self._journal.record_note(NoteKind.CANCEL_REQUESTED, client_order_id=client_order_id,
                                        intent_id=order.request.intent_id, ladder_end=ladder_end)

    async def _tell_cancel(self, effect: TellCancel) -> None:
        """Tell an order's owner its cancel is held for the link (journaled as asked for
        first, as a sent one is: a restart completes it), or went out after the resync."""
        coid = effect.client_order_id
        if effect.held:
            await self._cancel_requested(coid)
            log.warning("cancel_held", client_order_id=coid, reason="the broker link is down")
            _tell(effect.owner, CancelHeld(client_order_id=coid))
        else:
            _tell(effect.owner, CancelReleased(client_order_id=coid))

    async def _link_changed(self, effect: LinkChanged) -> None:
        if effect.up:
            await self._journal.record_note(NoteKind.RECONNECTED)
            log.info("session_up")
        else:
            log.warning("session_down", reason=effect.reason)
            await self._journal.record_note(NoteKind.SESSION_DOWN, reason=effect.reason)
            # At most one loss is pending: the book marks the link up only after a resync.
            self._supervisor.send_nowait(SessionDown(reason=effect.reason))
        self._publish.send_nowait(SessionChanged(up=effect.up, reason=effect.reason))


def _written_ahead(effect: Effect) -> ClientOrderId | None:
    """The order a journal effect is the write-ahead of: its placement or its modification."""
    if isinstance(effect, JournalOrder) and not effect.dry:
        return effect.request.client_order_id
    if isinstance(effect, JournalNote) and effect.what is NoteKind.MODIFY:
        return ClientOrderId(effect.details["client_order_id"])
    return None


def _transmits(effect: Effect) -> ClientOrderId | None:
    """The order a transmit places or modifies (a cancel is never held back)."""
    if isinstance(effect, Transmit):
        return effect.request.client_order_id
    if isinstance(effect, TransmitModify):
        return effect.client_order_id
    return None


def _tell(owner: Any, event: OwnerEvent) -> None:
    # The owning actor may be gone; the journal has the event.
    with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
        owner.send_nowait(event)


def _contract(fill: Fill) -> ContractSpec | None:
    try:
        return contract_for(fill.symbol)
    except InvalidValueError:
        return None


async def run_risk(
    inbox: trio.MemoryReceiveChannel[RiskMessage],
    *,
    actor: RiskActor,
    entry: OrderEntry,
    bucket: TokenBucket,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the inbox until cancelled: broker events, cancels, control and the sender's
    reports go before new orders and modifications; the sender runs beside the loop."""
    lanes = TwoLanes[RiskMessage]()
    # Unbounded: the sender reports once per transmit, and must never wait on the loop.
    reports_send, reports = trio.open_memory_channel[Dispatched](math.inf)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_route, inbox, lanes)
        nursery.start_soon(_route, reports, lanes)
        await nursery.start(functools.partial(run_sender, actor.sending, entry=entry,
                                              bucket=bucket, report=reports_send))
        task_status.started()
        while True:
            await actor.handle(await lanes.get())


async def _route(inbox: trio.MemoryReceiveChannel[Any], lanes: TwoLanes[RiskMessage]) -> None:
    async with inbox:
        async for message in inbox:
            lanes.put_nowait(message, urgent=not isinstance(message, PlaceOrder | ModifyOrder))


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

