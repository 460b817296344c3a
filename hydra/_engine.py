"""`open_hydra`: the supervisor nursery, its actors, and the `Engine` handle programs hold.

Nesting is shutdown order: the journal actor outermost; the risk actor, the broker event pump,
the connection supervisor and the publisher inside it; the intent workers innermost. Closing
the block drains the workers for ``shutdown.drain_timeout``, then cancels them; each worker
cancels its working order (or leaves it working, by config). Then, on every way out (a
graceful close, an outer cancellation, an error), the risk book's finalizer settles whatever is
still working, shielded and bounded by ``shutdown.finalize_timeout``: the risk actor, its
sender, the broker event pump and the journal outlive an outer cancellation until it is done,
and an order it cannot settle is journaled as unmanaged and named in the error that ends Hydra.
A journal write that fails (`JournalWriteError`: disk full) ends Hydra the same way, after the
finalizer: nothing new is sent once it fails, and what works is cancelled.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import attrs
import structlog
import trio

from ._bracket import BracketActor, BracketIntent
from ._contracts import BUILT_IN_CONTRACTS, ContractSpec
from ._core._positions import Position
from ._core._risk_book import RiskBook
from ._core._risk_checks import AccountState
from ._core._risk_state import RiskSnapshot, restored_account
from ._core._routing import participation, route
from ._core._slippage import predict_slippage_bps
from ._core._witness import Testimony
from ._enums import NoteKind, OrderStatus, Policy, Side, TradingState
from ._errors import (
    BrokerError,
    InvalidValueError,
    JournalWriteError,
    RiskDeniedError,
    UnmanagedOrdersError,
)
from ._ids import UNSTAMPED, IntentId, JournalId, OrderIds, new_intent_id
from ._journal import Journal, utc_now
from ._journal_actor import JournalClient, JournalWrite, Offload, run_in_thread, run_journal
from ._journal_calls import ControlApplied, HasIntent, LatestNote, LiveOrders
from ._messages import (
    Blocked,
    CheckIntentFits,
    EngineEvent,
    FlattenIntent,
    GiveUp,
    IntentFinished,
    Kill,
    LeaveWorking,
    OrderAnswer,
    ReconcileDifference,
    ResumeTrading,
    RiskMessage,
    SessionDown,
    Settle,
)
from ._orders import OrderIntent
from ._patience import Work, run_patience
from ._publisher import EngineView, Subscribe, open_subscription, run_publisher
from ._quote_source import QuoteSource
from ._quotes import Quote
from ._recovery import Recovery, Resumed, RollLeft
from ._reports import ChildOrderReport, ExecutionReport
from ._risk_actor import RiskActor, pacing_bucket, run_risk
from ._schedule import trading_day
from ._settings import HydraConfig
from ._stop_reasons import describe_error, only_stopping
from ._supervisor import run_broker_events, run_connection
from ._twap_actor import run_twap
from ._witness import hear_broker
from .brokers import Broker, MarketView

log = structlog.get_logger()

GIVE_UP_SECONDS = 5.0
"""How long the finalizer waits for the risk actor to journal the unmanaged orders."""

QUOTE_WAIT = 10.0
"""Seconds an intent waits for its contract's first quote before it is refused."""

_AGGRESSIVENESS = {
    Policy.PATIENCE: Decimal("0.5"),
    Policy.TWAP: Decimal("0.5"),
    Policy.CROSS: Decimal(1),
    Policy.PASSIVE: Decimal(0),
}
"""How much of the half-spread the slippage model expects each policy to pay."""


@attrs.frozen(kw_only=True)
class EngineStatistics:
    """A snapshot of the engine."""

    submitted: int
    working: int
    finished: int
    blocked: int
    fills: int
    filled_quantity: int
    trading_state: TradingState
    session_up: bool
    unusable_quote_episodes: int = 0  # times a contract's quote became unusable (see QuoteSource)


class IntentHandle:
    """One submitted intent: wait for its report, or cancel it."""

    def __init__(self, intent: OrderIntent) -> None:
        self.intent = intent
        self._scope = trio.CancelScope()
        self._done = trio.Event()
        self._report: ExecutionReport | None = None

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def cancel(self) -> None:
        """Stop working the intent; its working order is cancelled and it reports."""
        self._scope.cancel(reason=f"intent {self.intent.intent_id} cancelled")

    async def wait_done(self) -> ExecutionReport:
        """The intent's report, once every order sent for it is settled."""
        await self._done.wait()
        assert self._report is not None
        return self._report

    def _finish(self, report: ExecutionReport) -> None:
        self._report = report
        self._done.set()


class Engine:
    """What `open_hydra` yields. All order entry goes through its risk actor."""

    def __init__(
        self,
        *,
        config: HydraConfig,
        broker: MarketView,
        journal: JournalClient,
        risk: trio.MemorySendChannel[RiskMessage],
        publish: trio.MemorySendChannel[EngineEvent | Subscribe],
        view: EngineView,
        quotes: QuoteSource,
        nursery: trio.Nursery,
        seed: int,
        order_ids: OrderIds = UNSTAMPED,
    ) -> None:
        self._config = config
        self._broker = broker
        self._journal = journal
        self._risk = risk
        self._publish = publish
        self._view = view
        self._quotes = quotes
        self._nursery = nursery  # opened by open_hydra for this engine's workers
        self._seed = seed
        self._handles: dict[IntentId, IntentHandle] = {}
        self._leaving = False
        self._claimed: set[IntentId] = set()  # submissions in progress, not yet journaled
        self._brackets: set[IntentId] = set()  # a kill leaves their protective legs working
        self.adopted: list[IntentHandle] = []
        self.interrupted: list[ReconcileDifference] = []  # found on restart, not resumed
        self._ids = order_ids  # stamps this journal's id into every client order id
        self.witness = Testimony()  # what the broker showed at start (see hydra._witness)

    # --- submitting -----------------------------------------------------------------------------

    async def submit(self, intent: OrderIntent) -> IntentHandle:
        """Journal ``intent`` and start working it; returns at once with its handle."""
        with self._claiming(intent.intent_id):
            return await self._submit(intent)

    @contextlib.contextmanager
    def _claiming(self, intent_id: IntentId) -> Iterator[None]:
        """Hold ``intent_id`` for the submission in progress, so a second submission of it
        that starts before this one is journaled is refused (the check and the journal write
        are separated by awaits)."""
        if intent_id in self._handles or intent_id in self._claimed:
            raise InvalidValueError("intent_id", intent_id, "was already submitted")
        self._claimed.add(intent_id)
        try:
            yield
        finally:
            self._claimed.discard(intent_id)

    async def _submit(self, intent: OrderIntent) -> IntentHandle:
        if await self.was_submitted(intent.intent_id):
            raise InvalidValueError("intent_id", intent.intent_id, "was already submitted")
        settings = self._config.execution_for(intent.strategy)
        adv = self._config.adv.get(intent.contract.symbol)
        policy = route(intent.quantity, adv=adv, settings=settings, policy=intent.policy)
        await self._check_fits(intent)
        quote = await self._arrival_quote(intent.contract)
        predicted = predict_slippage_bps(
            spread=quote.spread, mid=quote.mid, aggressiveness=_AGGRESSIVENESS[policy],
            participation=participation(intent.quantity, adv=adv) if adv else Decimal(0),
            settings=self._config.slippage,
        )
        await self._journal.record_intent(intent, arrival_mid=quote.mid, predicted_bps=predicted)
        # TWAP jitter is seeded by the engine's seed and the submission number: runs repeat.
        rng = random.Random(f"{self._seed}:{len(self._handles)}")
        handle = IntentHandle(intent)
        self._handles[intent.intent_id] = handle
        work = Work(
            intent_id=intent.intent_id, client_order_id=self._ids.for_intent(intent.intent_id, 1),
            contract=intent.contract, side=intent.side, quantity=intent.quantity,
            policy=Policy.PATIENCE if policy is Policy.TWAP else policy, settings=settings,
            arrival_mid=quote.mid, predicted_bps=predicted,
        )
        log.info("intent_submitted", intent_id=intent.intent_id, route=policy.value,
                 quantity=intent.quantity, arrival_mid=str(quote.mid))
        self._nursery.start_soon(self._work, handle, work, rng if policy is Policy.TWAP else None)
        return handle

    async def _check_fits(self, intent: OrderIntent) -> None:
        """Refuse, before anything is journaled or sent, an intent that could never fit the
        position limit (counting the working orders on its side)."""
        answer = await self._ask(lambda reply: CheckIntentFits(
            symbol=intent.contract.symbol, signed_quantity=intent.signed_quantity, reply=reply))
        if isinstance(answer, Blocked):
            raise RiskDeniedError(f"intent {intent.intent_id} refused: {answer.reason}")

    async def _ask(self, make: Callable[[trio.MemorySendChannel[OrderAnswer]], RiskMessage],
                   ) -> OrderAnswer:
        send, receive = trio.open_memory_channel[OrderAnswer](1)
        await self._risk.send(make(send))
        return await receive.receive()

    async def was_submitted(self, intent_id: IntentId) -> bool:
        """True when the journal has ``intent_id`` (from this run or an earlier one), or the
        broker showed an order or execution of it at start (the journal may have lost it)."""
        if intent_id in self.witness.seen_intents:
            return True
        return await self._journal.ask(HasIntent(intent_id))

    async def _arrival_quote(self, contract: ContractSpec) -> Quote:
        """The current usable quote, subscribing first; none within `QUOTE_WAIT`, or one that
        is crossed, stale or otherwise unusable, refuses the intent before anything is sent."""
        with trio.move_on_after(QUOTE_WAIT):
            await self._broker.subscribe_quotes(contract)
            quote = self._quotes.usable(contract)
            if quote is None:
                raise BrokerError(f"no usable quote for {contract.symbol}: "
                                  f"{self._quotes.problem(contract)}")
            return quote
        raise BrokerError(f"no quote for {contract.symbol} within {QUOTE_WAIT} s")

    async def _work(
        self, handle: IntentHandle, work: Work, rng: random.Random | None
    ) -> None:
        """Work one intent: TWAP when given its schedule's ``rng``, else one patience order."""
        children: list[ChildOrderReport] = []
        try:
            with handle._scope:
                if rng is not None:
                    await self._twap(work, children, rng)
                else:
                    await run_patience(work, risk=self._risk, quotes=self._quotes.usable,
                                       children=children, leave_working=self._leave,
                                       max_order_quantity=self._config.risk.max_order_quantity,
                                       why_unusable=self._quotes.problem)
        finally:
            await self._report(handle, work, children)

    async def _twap(
        self, work: Work, children: list[ChildOrderReport], rng: random.Random
    ) -> None:
        ids = (self._ids.for_intent(work.intent_id, n) for n in itertools.count(2))
        await run_twap(work, rng=rng, next_order_id=lambda: next(ids), risk=self._risk,
                       quotes=self._quotes.usable, children=children,
                       leave_working=self._leave,
                       max_order_quantity=self._config.risk.max_order_quantity,
                       why_unusable=self._quotes.problem)

    def _leave(self) -> bool:
        return self._leaving

    async def _report(
        self, handle: IntentHandle, work: Work, children: list[ChildOrderReport]
    ) -> None:
        with trio.CancelScope(shield=True):
            for child in children:
                if child.status is OrderStatus.LEFT_WORKING:
                    await self._risk.send(LeaveWorking(client_order_id=child.client_order_id))
        report = ExecutionReport(
            intent_id=work.intent_id, symbol=work.contract.symbol, side=work.side,
            quantity=handle.intent.quantity, arrival_mid=work.arrival_mid,
            predicted_bps=work.predicted_bps, children=tuple(children),
            dry_run=any(child.reason == "dry run" for child in children),
        )
        # A refused write stops Hydra already (open_hydra waits for one): the report still goes.
        with trio.CancelScope(shield=True), contextlib.suppress(JournalWriteError):
            await self._journal.record_note(NoteKind.INTENT_FINISHED, intent_id=work.intent_id,
                                            filled=report.filled, quantity=report.quantity)
        handle._finish(report)
        self._publish.send_nowait(IntentFinished(report=report))
        log.info("intent_finished", intent_id=work.intent_id, filled=report.filled,
                 quantity=report.quantity, shortfall_bps=str(report.shortfall_bps))

    async def submit_bracket(self, bracket: BracketIntent) -> IntentHandle:
        """Send an entry with its take-profit and protective stop; the handle reports when the
        bracket is over (the entry ended unfilled, or an exit filled and OCA cancelled the
        other) or when it is cancelled."""
        intent = OrderIntent(contract=bracket.contract, side=bracket.side,
                             quantity=bracket.quantity, strategy=bracket.strategy,
                             intent_id=bracket.intent_id)
        with self._claiming(intent.intent_id):
            return await self._submit_bracket(bracket, intent)

    async def _submit_bracket(self, bracket: BracketIntent, intent: OrderIntent,
                              ) -> IntentHandle:
        if await self.was_submitted(intent.intent_id):  # the journal's and the broker's word
            raise InvalidValueError("intent_id", intent.intent_id, "was already submitted")
        arrival = (await self._arrival_quote(intent.contract)).mid
        await self._journal.record_intent(intent, arrival_mid=arrival, predicted_bps=None)
        handle = IntentHandle(intent)
        self._handles[intent.intent_id] = handle
        actor = BracketActor(bracket, risk=self._risk, arrival_mid=arrival, ids=self._ids)
        self._brackets.add(intent.intent_id)
        self._nursery.start_soon(self._run_bracket, handle, actor, arrival)
        return handle

    async def _run_bracket(self, handle: IntentHandle, actor: BracketActor,
                           arrival: Decimal) -> None:
        intent = handle.intent
        work = Work(intent_id=intent.intent_id, client_order_id=actor.entry.client_order_id,
                    contract=intent.contract, side=intent.side, quantity=intent.quantity,
                    policy=Policy.PATIENCE, settings=self._config.execution, arrival_mid=arrival)
        try:
            with handle._scope:
                await actor.run()
        finally:
            await self._report(handle, work, actor.reports())

    async def close_position(
        self, contract: ContractSpec, *, strategy: str = "default",
        intent_id: IntentId | None = None,
    ) -> IntentHandle:
        """Flatten the broker's position in ``contract``, worked with patience (never TWAP).

        Brackets in the same symbol are cancelled first (their exits would otherwise outlive
        the position they protect and open a new one); this works while HALTED too."""
        await self._cancel_brackets(contract.symbol)
        quantity = await self._position(contract)
        if quantity == 0:
            raise InvalidValueError("contract", contract.symbol, "has no position to close")
        side = Side.SELL if quantity > 0 else Side.BUY
        intent_id = intent_id or new_intent_id()
        await self._risk.send(FlattenIntent(intent_id=intent_id))  # allowed even when HALTED
        return await self.submit(OrderIntent(
            contract=contract, side=side, quantity=abs(quantity), strategy=strategy,
            policy=Policy.PATIENCE, intent_id=intent_id,
        ))

    async def _cancel_brackets(self, symbol: str) -> None:
        handles = [h for intent_id, h in self._handles.items() if intent_id in self._brackets
                   and h.intent.contract.symbol == symbol and not h.done]
        for handle in handles:
            handle.cancel()
        for handle in handles:
            await handle.wait_done()

    async def roll(
        self, contract: ContractSpec, *, to_expiry: str, strategy: str = "default",
        intent_ids: tuple[IntentId, IntentId] | None = None,
    ) -> tuple[ExecutionReport, ExecutionReport | None]:
        """Close the position in ``contract``'s delivery month, then open what was closed in
        ``to_expiry`` (both worked with patience). The second report is None when nothing of
        the close filled; a partly filled close rolls only what filled."""
        if contract.expiry is None:
            raise InvalidValueError("contract", contract.symbol,
                                    "must name the delivery month to roll from")
        target = contract.for_month(to_expiry)
        if to_expiry <= contract.expiry:
            raise InvalidValueError("to_expiry", to_expiry, f"must be after {contract.expiry}")
        close_id, open_id = intent_ids or (new_intent_id(), new_intent_id())
        for intent_id in (close_id, open_id):  # refused whole, before anything is journaled
            if await self.was_submitted(intent_id):
                raise InvalidValueError("intent_ids", intent_id, "was already submitted")
        await self._journal.record_note(NoteKind.ROLL_STARTED, close_intent_id=close_id,  # restart
                                        open_intent_id=open_id, symbol=contract.symbol,
                                        from_expiry=contract.expiry, to_expiry=to_expiry)
        closing = await (await self.close_position(
            contract, strategy=strategy, intent_id=close_id)).wait_done()
        if closing.filled == 0:
            return closing, None
        opening = await self.submit(OrderIntent(
            contract=target, side=closing.side.opposite, quantity=closing.filled,
            strategy=strategy, policy=Policy.PATIENCE, intent_id=open_id,
        ))
        return closing, await opening.wait_done()

    async def _position(self, contract: ContractSpec) -> int:
        """The broker's signed position in ``contract`` (its delivery month, when it has one)."""
        return sum(
            position.quantity for position in await self._broker.positions()
            if position.contract.symbol == contract.symbol
            and contract.expiry in (None, position.contract.expiry)
        )

    # --- control ------------------------------------------------------------------------------

    def cancel(self, intent_id: IntentId) -> None:
        """Stop working one intent (its order is cancelled; its report still comes)."""
        try:
            self._handles[intent_id].cancel()
        except KeyError:
            raise InvalidValueError("intent_id", intent_id, "was never submitted") from None

    async def cancel_all(self) -> None:
        """Stop every intent and wait until each has reported."""
        handles = [*self._handles.values(), *self.adopted]
        for handle in handles:
            handle.cancel()
        for handle in handles:
            await handle.wait_done()

    async def kill(self, reason: str = "kill switch") -> None:
        """Halt trading and cancel every working entry order; new orders are refused until
        `resume`. Protective stops of open positions stay working (and so do the brackets
        that own them); `close_position` may still flatten."""
        done = trio.Event()
        await self._risk.send(Kill(reason=reason, done=done))
        await done.wait()
        handles = [h for h in [*self._handles.values(), *self.adopted]
                   if h.intent.intent_id not in self._brackets]
        for handle in handles:
            handle.cancel()
        for handle in handles:
            await handle.wait_done()

    async def resume(self, *, reason: str) -> None:
        """Clear the kill switch and every latched breaker (journaled with ``reason``). A
        breaker whose limit is still exceeded trips again at once."""
        if not reason.strip():
            raise InvalidValueError("reason", reason, "must say why trading resumes")
        done = trio.Event()
        await self._risk.send(ResumeTrading(reason=reason, done=done))
        await done.wait()

    async def control_applied(self, request_id: str) -> bool:
        """True when a control request (an inbox kill or resume line) was applied before."""
        return await self._journal.ask(ControlApplied(request_id))

    async def record_control(self, request_id: str, **details: object) -> None:
        """Journal that the control request ``request_id`` took effect."""
        await self._journal.record_note(NoteKind.CONTROL_APPLIED, request_id=request_id, **details)

    def subscribe(self) -> trio.MemoryReceiveChannel[EngineEvent]:
        """A channel of every engine event from now on (fills, reports, state changes)."""
        subscribe, receive = open_subscription()
        self._publish.send_nowait(subscribe)
        return receive

    def statistics(self) -> EngineStatistics:
        view = self._view
        handles = [*self._handles.values(), *self.adopted]
        reports = [h._report for h in handles if h._report is not None]
        return EngineStatistics(
            submitted=len(self._handles), working=len(handles) - len(reports),
            finished=len(reports), blocked=sum(r.blocked for r in reports), fills=view.fills,
            filled_quantity=view.filled_quantity, trading_state=view.trading_state,
            session_up=view.session_up,
            unusable_quote_episodes=self._quotes.statistics().episodes,
        )

    async def sync_open_orders(self) -> tuple[ReconcileDifference, ...]:
        """Compare the broker's working orders with the journal's; report each difference."""
        at_broker = {order.client_order_id: order for order in await self._broker.open_orders()}
        live = await self._journal.ask(LiveOrders())
        journaled = {order.request.client_order_id for order in live}
        differences = [
            ReconcileDifference(client_order_id=coid, description="working at the broker, "
                                "not live in the journal")
            for coid in at_broker.keys() - journaled
        ] + [
            ReconcileDifference(client_order_id=coid, description="live in the journal, not "
                                "working at the broker")
            for coid in journaled - at_broker.keys()
        ]
        for difference in differences:
            self._publish.send_nowait(difference)
        return tuple(differences)

    # --- restart --------------------------------------------------------------------------------

    async def recover(self) -> None:
        """Carry on from what a previous run left at the broker and in the journal
        (`hydra._recovery`): nothing is sent again, a cancel asked for is completed, brackets
        are adopted as brackets, interrupted intents resumed (or reported, by config)."""
        recovered = await Recovery(config=self._config, broker=self._broker,
                                   journal=self._journal, risk=self._risk, quotes=self._quotes,
                                   leave_working=self._leave, seed=self._seed,
                                   order_ids=self._ids).run()
        for difference in recovered.interrupted:
            self.interrupted.append(difference)
            self._publish.send_nowait(difference)
        resumed: dict[IntentId, IntentHandle] = {}
        for item in recovered.resumed:
            handle = IntentHandle(item.intent)
            self.adopted.append(handle)
            resumed[item.intent.intent_id] = handle
            if item.bracket:
                self._brackets.add(item.intent.intent_id)
            self._nursery.start_soon(self._run_resumed, handle, item)
        for roll in recovered.rolls:
            self._nursery.start_soon(self._open_rolled, roll, resumed.get(roll.close_intent_id))

    async def _run_resumed(self, handle: IntentHandle, resumed: Resumed) -> None:
        children = list(resumed.earlier)
        try:
            with handle._scope:
                await resumed.run(children)
        finally:
            await self._report(handle, resumed.work, children)

    async def _open_rolled(self, roll: RollLeft, closing: IntentHandle | None) -> None:
        """Open what a roll's close filled, once the close (resumed, or done) is over."""
        closed = roll.closed if closing is None else (await closing.wait_done()).filled
        if closed == 0:
            return
        await self._journal.record_note(NoteKind.INTENT_RESUMED, intent_id=roll.open_intent_id,
                                        roll_of=roll.close_intent_id, quantity=closed)
        log.info("roll_resumed", close_intent_id=roll.close_intent_id, quantity=closed)
        await self.submit(OrderIntent(
            contract=roll.target, side=roll.side, quantity=closed, strategy=roll.strategy,
            policy=Policy.PATIENCE, intent_id=roll.open_intent_id,
        ))

    # --- shutdown -------------------------------------------------------------------------------

    async def _drain(self) -> None:
        """Wait up to the drain timeout for every intent to finish."""
        with trio.move_on_after(self._config.shutdown.drain_timeout):
            for handle in [*self._handles.values(), *self.adopted]:
                await handle.wait_done()
        self._leaving = self._config.shutdown.leave_working


@asynccontextmanager
async def open_hydra(
    config: HydraConfig,
    broker: Broker,
    *,
    journal_path: str | Path | None = None,
    dry_run: bool = False,
    seed: int = 0,
    offload: Offload = run_in_thread,
    clock: Callable[[], dt.datetime] = utc_now,
    adopt_unknown: bool = False,
    new_journal: bool = False,
) -> AsyncIterator[Engine]:
    """Connect ``broker``, recover from the journal, and run Hydra until the block ends.

    ``clock`` stamps journal records (wall-clock time; a simulation passes its own). The
    broker is the journal's witness: orders or executions of this journal it does not know
    refuse the start (`JournalBehindError`) unless ``adopt_unknown`` adopts them as
    strangers; a journal missing or replaced where one lived is refused
    (`JournalReplacedError`) unless ``new_journal``."""
    path = Path(journal_path or config.journal.path)
    journal = Journal.open(path, clock=clock, audit_path=config.journal.audit_path
                           or path.with_suffix(".audit.jsonl"), new_journal=new_journal)
    journal_id = journal.journal_id
    assert journal_id is not None  # a journal opened for writing always has its id
    try:
        journal.record_note(NoteKind.ENGINE_STARTED, broker=type(broker).__name__,
                            dry_run=dry_run, journal_id=journal_id)
    except JournalWriteError:
        journal.close()
        raise
    try:
        async with trio.open_nursery() as outer:
            journal_send, journal_receive = trio.open_memory_channel[JournalWrite](0)
            # The journal outlives everything that writes to it, an outer cancellation too:
            # it ends when the last writer closes its end.
            journal_scope = await outer.start(_outliving, functools.partial(
                run_journal, journal_receive, journal=journal, offload=offload))
            client = JournalClient(journal_send)
            try:
                async with client._outbox:
                    await broker.connect()
                    async with _open_actors(config, broker, client, dry_run, seed, clock,
                                            journal_id=journal_id,
                                            adopt_unknown=adopt_unknown) as engine:
                        yield engine
            finally:
                journal_scope.cancel(reason="Hydra is closing")
    except BaseException as error:
        with contextlib.suppress(JournalWriteError):  # still refused: the audit log has why
            if only_stopping(error):
                journal.record_note(NoteKind.ENGINE_STOPPED, reason=describe_error(error))
            else:
                journal.record_note(NoteKind.UNRECOVERABLE_ERROR, error=describe_error(error))
        raise
    else:
        journal.record_note(NoteKind.ENGINE_STOPPED, reason="closed")
    finally:
        journal.close()


async def _outliving(
    run: Callable[..., Awaitable[None]], *,
    task_status: trio.TaskStatus[trio.CancelScope] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run an actor that an outer cancellation does not stop: only the scope handed back to
    the starter does, once the finalizer has settled every order."""
    with trio.CancelScope(shield=True) as scope:
        async with trio.open_nursery() as nursery:
            await nursery.start(run)
            task_status.started(scope)


async def _carried_positions(broker: MarketView) -> dict[str, Position]:
    """The broker's positions as today's opening positions, one per symbol: entered at the
    current mid (today's PnL starts at zero), or at the broker's average price if no quote."""
    carried: dict[str, Position] = {}
    for held in await broker.positions():
        if not held.quantity:
            continue
        symbol, price = held.contract.symbol, held.average_price
        with trio.move_on_after(QUOTE_WAIT):
            await broker.subscribe_quotes(held.contract)
            price = broker.quote_nowait(held.contract).mid
        before = carried.get(symbol, Position(contract=held.contract))
        carried[symbol] = before.after_fill(
            side=Side.BUY if held.quantity > 0 else Side.SELL, quantity=abs(held.quantity),
            price=price,
        )
    return {symbol: attrs.evolve(p, realized_pnl=Decimal(0)) for symbol, p in carried.items()}


async def _open_book(
    config: HydraConfig, broker: MarketView, journal: JournalClient, dry_run: bool,
    clock: Callable[[], dt.datetime],
) -> RiskBook:
    """The risk book as the journal left it: latched states always, the day's baseline on the
    same trading day; positions from the broker."""
    account = AccountState(start_of_day_equity=(await broker.account()).equity,
                           positions=await _carried_positions(broker))
    account = functools.reduce(lambda a, p: a.with_mark(p.contract.symbol, p.average_price),
                               account.positions.values(), account)
    day = trading_day(clock()).isoformat()
    note = await journal.ask(LatestNote(NoteKind.RISK_STATE))
    snapshot = None if note is None else RiskSnapshot.from_details(note)
    contracts = {p.contract.symbol: p.contract for p in account.positions.values()}
    contracts |= {s: c for s, c in BUILT_IN_CONTRACTS.items() if s not in contracts}
    account = restored_account(snapshot, day=day, account=account, contracts=contracts)
    latched = () if snapshot is None else snapshot.latched
    if latched:
        await journal.record_note(NoteKind.RISK_STATE_RESTORED, latched=[x.cause for x in latched])
        log.warning("risk_state_restored", latched=[x.reason for x in latched])
    return RiskBook(limits=config.risk, account=account, day=day, latched=latched,
                    dry_run=dry_run)


@asynccontextmanager
async def _open_actors(
    config: HydraConfig, broker: Broker, journal: JournalClient, dry_run: bool, seed: int,
    clock: Callable[[], dt.datetime], *, journal_id: JournalId, adopt_unknown: bool,
) -> AsyncIterator[Engine]:
    book = await _open_book(config, broker, journal, dry_run, clock)
    # Unbounded: actors publish with send_nowait and must never wait on subscribers.
    publish_send, publish_receive = trio.open_memory_channel[EngineEvent | Subscribe](math.inf)
    view = EngineView(trading_state=book.trading_state)
    async with trio.open_nursery() as middle:
        risk_send, risk_receive = trio.open_memory_channel[RiskMessage](0)
        supervisor_send, supervisor_receive = trio.open_memory_channel[SessionDown](1)
        quotes = QuoteSource(broker.quote_nowait, max_age=config.risk.max_quote_age)
        actor = RiskActor(book, journal=journal, quotes=quotes.usable,
                          publish=publish_send, supervisor=supervisor_send, clock=clock)
        failures: list[BaseException] = []  # what ended the connection supervisor, if anything
        outliving = [
            await middle.start(_outliving, functools.partial(
                run_publisher, publish_receive, view=view)),
            await middle.start(_outliving, functools.partial(
                run_risk, risk_receive, actor=actor, entry=broker,
                bucket=pacing_bucket(config.risk, trio.current_time()))),
            await middle.start(_outliving, functools.partial(
                run_broker_events, broker.events(), risk=risk_send.clone())),
        ]
        try:
            await middle.start(functools.partial(
                _recorded, failures, functools.partial(
                    run_connection, supervisor_receive, broker=broker, risk=risk_send.clone(),
                    journal=journal, settings=config.broker.backoff, rng=random.Random(seed))))
            await middle.start(functools.partial(
                _recorded, failures, functools.partial(_stop_when_write_fails, journal)))
            async with trio.open_nursery() as inner:
                engine = Engine(config=config, broker=broker, journal=journal, risk=risk_send,
                                publish=publish_send, view=view, quotes=quotes,
                                nursery=inner, seed=seed, order_ids=OrderIds(journal_id))
                engine.witness = await hear_broker(broker, journal, journal_id=journal_id,
                                                   adopt_unknown=adopt_unknown, now=clock(),
                                                   publish=publish_send)
                await engine.recover()
                try:
                    yield engine
                    await engine._drain()
                finally:
                    inner.cancel_scope.cancel(reason="Hydra is closing")
        except BaseException as error:
            await _settle_all(actor, risk_send, config, outliving,
                              cause=failures[0] if failures else error)
            raise
        else:
            await _settle_all(actor, risk_send, config, outliving, cause=None)
        finally:
            middle.cancel_scope.cancel(reason="Hydra is closing")
            publish_send.close()


async def _recorded(
    failures: list[BaseException], run: Callable[..., Awaitable[None]], *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the actor ``run``; what ends it with an error is also kept in ``failures`` (the
    finalizer names it, though the nursery reports it only after the finalizer is done)."""
    try:
        await run(task_status=task_status)
    except Exception as error:
        failures.append(error)
        raise


async def _stop_when_write_fails(
    journal: JournalClient, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """End Hydra with the first journal write that fails, whoever wrote it."""
    task_status.started()
    raise await journal.wait_write_failed()


async def _settle_all(
    actor: RiskActor, risk: trio.MemorySendChannel[RiskMessage], config: HydraConfig,
    outliving: list[trio.CancelScope], *, cause: BaseException | None,
) -> None:
    """Run the finalizer, then stop the actors that outlived the rest; an order left
    unmanaged ends Hydra with `UnmanagedOrdersError` naming it (and what stopped Hydra)."""
    try:
        with trio.CancelScope(shield=True):
            unmanaged = await _finalize(actor, risk, config)
    finally:
        for scope in outliving:
            scope.cancel(reason="Hydra is closing")
    if unmanaged:
        log.error("orders_unmanaged", client_order_ids=unmanaged)
        why = None if cause is None or only_stopping(cause) else describe_error(cause)
        raise UnmanagedOrdersError(unmanaged, cause=why) from cause


async def _finalize(
    actor: RiskActor, risk: trio.MemorySendChannel[RiskMessage], config: HydraConfig,
) -> list[str]:
    """The risk book's finalizer: cancel every order still working (or leave it, by config),
    wait up to ``shutdown.finalize_timeout`` for the broker to confirm, and journal the rest as
    unmanaged (at once when the link is down: no reconnect comes now). The client order ids of
    the unmanaged orders."""
    settled = trio.Event()
    with trio.move_on_after(config.shutdown.finalize_timeout):
        await risk.send(Settle(leave_working=config.shutdown.leave_working, done=settled))
        await settled.wait()
    timeout = config.shutdown.finalize_timeout
    reason = None if settled.is_set() else f"not confirmed within {timeout} s"
    reply, unmanaged = trio.open_memory_channel[list[str]](1)
    with trio.move_on_after(GIVE_UP_SECONDS):
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await risk.send(GiveUp(reason=reason, reply=reply))
            return await unmanaged.receive()
    # The risk actor is gone (its journal failed): what it still held is unaccounted for.
    return sorted(actor.book.orders)
