"""The router: it takes intents, routes each (patience or TWAP, by participation), journals
it and starts its worker; it starts bracket and resumed workers too, and reports each intent
when its worker is over.

Each worker runs in the router's nursery under its `IntentHandle`'s cancel scope; its report
is journaled (``intent_finished``) and published once every order it sent is settled: an
order its worker was stopped with while the order's cancel was held for a down link is
waited for outside that scope (`hydra._worker_reports.wait_settled`), and reported as still
working if Hydra closes first. The router is the one place a worker is started, so the
handles it keeps are every intent this engine works.

An intent naming no month is put in a month when it is released (``month``, given by the
engine: the front month of the trading day by the clock), not when it is asked for: one held
past the 17:00 start of the next trading day trades that day's front month, and the journal
records it with that month at its release, before anything is sent (a restart resumes it in
that month).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import math
import random
from collections.abc import Awaitable, Callable, Iterator, Sequence
from decimal import Decimal
from typing import TypeVar

import structlog
import trio

from ._bracket import BracketActor, BracketIntent
from ._contracts import ContractSpec
from ._core._model_versions import ModelVersion
from ._core._routing import participation, route
from ._core._sessions import SessionCalendar, held_until
from ._core._twap import TwapPlan
from ._core._witness import Testimony
from ._enums import NoteKind, OrderStatus, Policy
from ._errors import (
    BrokerConnectionError,
    BrokerError,
    HydraError,
    InvalidValueError,
    JournalWriteError,
    MarketClosedError,
    RiskDeniedError,
)
from ._ids import IntentId, OrderIds
from ._journal_actor import JournalClient
from ._journal_calls import HasIntent
from ._messages import (
    Blocked,
    CheckIntentFits,
    EngineEvent,
    IntentFinished,
    LeaveWorking,
    OrderAnswer,
    RiskMessage,
    SessionChanged,
)
from ._model_store import prediction_note
from ._orders import OrderIntent
from ._patience import REPEG_SECONDS, Work, run_patience
from ._publisher import Subscribe, open_subscription
from ._quote_source import QuoteSource, contract_name
from ._quotes import Quote
from ._recovery import Resumed
from ._reports import ChildOrderReport, ExecutionReport
from ._schedule import trading_day
from ._session_fit import fit_patience, fit_twap
from ._settings import HydraConfig, OutsideHours, WorkingHours
from ._twap_actor import run_twap
from ._worker_reports import (
    Reports,
    Worked,
    collected,
    open_reports,
    reports_of,
    wait_settled,
)
from .brokers import MarketView

log = structlog.get_logger()
T = TypeVar("T")

InMonth = Callable[[OrderIntent], OrderIntent]
"""An intent in the month it trades now (as it is when it names one)."""


def _as_named(intent: OrderIntent) -> OrderIntent:
    return intent

MIN_SESSION_LEFT = 60.0
"""Seconds a session must have left for an intent to start in it; closer to the close, it
waits for the next session."""

CLOSE_MARGIN = 5.0
"""Seconds before a close by which an intent's ladders (a TWAP's slices) end, their last
cancel sent: at the close itself nothing is sent."""

QUOTE_WAIT = 10.0
"""Seconds an intent waits for its contract's first quote before it is refused."""

_AGGRESSIVENESS = {
    Policy.PATIENCE: Decimal("0.5"),
    Policy.TWAP: Decimal("0.5"),
    Policy.CROSS: Decimal(1),
    Policy.PASSIVE: Decimal(0),
}
"""How much of the half-spread the slippage model expects each policy to pay."""


def _session_up() -> str:
    return "the broker session"  # what an intent waits for while the link is down


class IntentHandle:
    """One submitted intent: wait for its report, or cancel it."""

    def __init__(self, intent: OrderIntent) -> None:
        self.intent = intent  # in the month it trades once released (see Router.submit)
        self._scope = trio.CancelScope()  # its worker's
        self._waiting = trio.CancelScope()  # its wait for the market to open, if it waits
        self._done = trio.Event()
        self._stopped = trio.Event()  # its worker is over (orders held for the link aside)
        self._report: ExecutionReport | None = None
        self._stop_reason: str | None = None  # the first reason it was cancelled for

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def report(self) -> ExecutionReport | None:
        """The intent's report once it is done; None before."""
        return self._report

    def cancel(self, reason: str | None = None) -> None:
        """Stop working the intent; its working order is cancelled and it reports (its end
        reason says ``reason``, else that it was cancelled)."""
        reason = reason or f"intent {self.intent.intent_id} cancelled"
        self._stop_reason = self._stop_reason or reason
        self._waiting.cancel(reason=reason)
        self._scope.cancel(reason=reason)

    @property
    def _stopped_by(self) -> str | None:
        """Why its worker was stopped, when a cancel did stop it (not one after it was over)."""
        return f"stopped: {self._stop_reason}" if self._scope.cancelled_caught else None

    async def wait_done(self) -> ExecutionReport:
        """The intent's report, once every order sent for it is settled."""
        await self._done.wait()
        assert self._report is not None
        return self._report

    async def wait_stopped(self) -> None:
        """Until the intent's worker is over: its report is in, or it waits only on orders
        whose cancel is held for the broker link (they end with the reconnect's resync)."""
        await self._stopped.wait()

    def _finish(self, report: ExecutionReport) -> None:
        self._report = report
        self._stopped.set()
        self._done.set()


class Router:
    """Starts and reports the workers of one engine's intents (see the module docstring)."""

    def __init__(
        self,
        *,
        config: HydraConfig,
        broker: MarketView,
        journal: JournalClient,
        risk: trio.MemorySendChannel[RiskMessage],
        publish: trio.MemorySendChannel[EngineEvent | Subscribe],
        quotes: QuoteSource,
        nursery: trio.Nursery,
        seed: int,
        order_ids: OrderIds,
        witness: Testimony,
        model: ModelVersion,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._config = config
        self._clock = clock  # wall-clock time, against the broker's trading hours
        self._broker = broker
        self._journal = journal
        self._risk = risk
        self._publish = publish
        self._quotes = quotes
        self._nursery = nursery  # opened by open_hydra for this engine's workers
        self._seed = seed
        self._ids = order_ids  # stamps this journal's id into every client order id
        self.witness = witness  # what the broker showed at start (see hydra._witness)
        self._model = model  # the slippage model's current version: it predicts each intent
        self.handles: dict[IntentId, IntentHandle] = {}  # submitted by this run
        self.adopted: list[IntentHandle] = []  # carried on from an earlier run
        self.brackets: set[IntentId] = set()  # a kill leaves their protective legs working
        self._claimed: set[IntentId] = set()  # submissions in progress, not yet journaled
        # Waiting for their market to open: new ones (not journaled) and resumed ones.
        self._held: set[IntentId] = set()
        self._leaving = False

    def every_handle(self) -> list[IntentHandle]:
        return [*self.handles.values(), *self.adopted]

    def start_soon(self, work: Callable[..., Awaitable[None]], *args: object) -> None:
        """Start ``work`` beside the workers (it ends with them)."""
        self._nursery.start_soon(work, *args)

    def start_resumed(self, resumed: Resumed) -> IntentHandle:
        """Carry on with an intent an earlier run left (`hydra._recovery`)."""
        handle = IntentHandle(resumed.intent)
        self.adopted.append(handle)
        if resumed.bracket:
            self.brackets.add(resumed.intent.intent_id)
        self._nursery.start_soon(self._run_resumed, handle, resumed)
        return handle

    async def submit(self, intent: OrderIntent, *, deadline: dt.datetime | None = None,
                     month: InMonth = _as_named) -> IntentHandle:
        """Journal ``intent`` (put by ``month`` in the month it trades, at its release) and
        start working it; returns at once with its handle.

        While its market is closed (by the broker's hours), the intent is held, not journaled,
        until the next open (``execution.outside_hours = "wait"``; an open after ``deadline``
        refuses it, as does ``"refuse"``, with `MarketClosedError`); its handle's intent names
        no month until then, when it named none."""
        with self._claiming(intent.intent_id):
            return await self._submit(intent, deadline, month)

    @contextlib.contextmanager
    def _claiming(self, intent_id: IntentId) -> Iterator[None]:
        """Hold ``intent_id`` for the submission in progress, so a second submission of it
        that starts before this one is journaled is refused (the check and the journal write
        are separated by awaits)."""
        if intent_id in self.handles or intent_id in self._claimed:
            raise InvalidValueError("intent_id", intent_id, "was already submitted")
        self._claimed.add(intent_id)
        try:
            yield
        finally:
            self._claimed.discard(intent_id)

    async def _submit(self, intent: OrderIntent, deadline: dt.datetime | None,
                      month: InMonth) -> IntentHandle:
        if await self.was_submitted(intent.intent_id):
            raise InvalidValueError("intent_id", intent.intent_id, "was already submitted")
        if deadline is not None and deadline <= self._clock():
            raise InvalidValueError("deadline", deadline.isoformat(), "has passed")
        await self._check_fits(intent)  # by symbol: the same whatever month it trades
        try:
            # The hours of the month it would trade now: a product's months share them.
            hours = await self._before(deadline, _session_up, lambda: self._hours(
                month(intent).contract, intent.strategy))
            now = self._clock()
            opens = held_until(hours, now, min_left=MIN_SESSION_LEFT)
            if opens is None:
                handle = IntentHandle(month(intent))
                quote = await self._before(deadline, lambda: "its arrival quote",
                                           lambda: self._arrival_quote(handle.intent.contract))
                await self._start(handle, hours, quote)
                return handle
        except MarketClosedError as e:
            raise MarketClosedError(f"intent {intent.intent_id} refused: {e}") from None
        settings = self._config.execution_for(intent.strategy)
        symbol, at = _market(intent.contract, settings.hours), _local(opens, hours)
        if hours is not None and opens >= hours.known_until:  # only where the hours end
            closed = f"{symbol} is closed, and the broker's hours name no open"
        elif hours is not None and hours.is_open(now):
            closed = f"{symbol} closes within {MIN_SESSION_LEFT:.0f} s and opens again at {at}"
        else:
            closed = f"{symbol} is closed until {at}"
        if settings.outside_hours is OutsideHours.REFUSE:
            raise MarketClosedError(f"intent {intent.intent_id} refused: {closed} "
                                    f"(execution.outside_hours = \"refuse\", "
                                    f"hours = \"{settings.hours.value}\")")
        if deadline is not None and deadline <= opens:
            raise MarketClosedError(f"intent {intent.intent_id} refused: {closed}, after its "
                                    f"deadline {deadline.isoformat()}")
        handle = IntentHandle(intent)
        self.handles[intent.intent_id] = handle
        self._held.add(intent.intent_id)
        log.info("intent_waiting_for_open", intent_id=intent.intent_id, opens=opens.isoformat(),
                 hours=settings.hours.value)
        self._nursery.start_soon(self._hold, handle, deadline, hours, month)
        return handle

    async def _hold(self, handle: IntentHandle, deadline: dt.datetime | None,
                    hours: SessionCalendar | None, month: InMonth) -> None:
        """Wait for ``handle``'s market to open, then start it (in the month ``month`` gives
        then); past its deadline (before the open, or while it waits at the open for the
        broker session or a usable quote), cancelled, or refused at the open (a contract the
        broker does not quote), it ends unworked."""
        intent = handle.intent
        try:
            with handle._waiting:
                hours, quote, released = await self._until_open(intent, deadline, hours, month)
            if not handle._waiting.cancelled_caught:
                self._held.discard(intent.intent_id)
                handle.intent = released
                await self._start(handle, hours, quote)
                return
            why = f"stopped: {handle._stop_reason} before its market opened"
        except HydraError as e:
            why = str(e)
        self._held.discard(intent.intent_id)
        log.warning("intent_not_worked", intent_id=intent.intent_id, reason=why)
        report = ExecutionReport(intent_id=intent.intent_id, symbol=intent.contract.symbol,
                                 side=intent.side, quantity=intent.quantity,
                                 arrival_mid=Decimal(0), predicted_bps=None, children=(),
                                 ended_by=why)
        handle._finish(report)
        self._publish.send_nowait(IntentFinished(report=report))

    async def _until_open(self, intent: OrderIntent, deadline: dt.datetime | None,
                          hours: SessionCalendar | None, month: InMonth,
                          ) -> tuple[SessionCalendar | None, Quote, OrderIntent]:
        """Wait for ``intent``'s market to open with the broker session up and a usable
        quote; the hours, the arrival quote and the intent in its month (by ``month``) then.
        Neither before the session's last `MIN_SESSION_LEFT` (a link down, or a quote
        unusable, all session long): held again, for the next open. Past ``deadline``, a
        `MarketClosedError` naming it and what was waited for."""
        while True:
            hours = await self._wait_for_open(month(intent), deadline, hours)
            released = month(intent)  # the open's trading day's month: quoted in it
            with trio.move_on_at(self._at(_close(hours, self._clock()))):
                quote = await self._quote_at_open(released, deadline)
                if held_until(hours, self._clock(), min_left=MIN_SESSION_LEFT) is None:
                    return hours, quote, released
            log.info("intent_waiting_for_open", intent_id=intent.intent_id,
                     reason="no broker session or no usable quote until the close")

    async def wait_until_open(self, intent: OrderIntent) -> SessionCalendar | None:
        """For an intent resumed after a restart, before it prices or sends anything: wait
        as a new intent is held (without a deadline) until its market is open, then give its
        hours, each close `CLOSE_MARGIN` early, to fit its work into (None: unknown). Hours
        the broker cannot give are taken as unknown (logged): nothing is held then."""
        try:
            hours = await self._hours(intent.contract, intent.strategy)
            opens = held_until(hours, self._clock(), min_left=MIN_SESSION_LEFT)
            if opens is not None:
                log.info("intent_waiting_for_open", intent_id=intent.intent_id,
                         opens=opens.isoformat(), resumed=True)
                self._held.add(intent.intent_id)
                try:
                    hours, _, _ = await self._until_open(intent, None, hours, _as_named)
                finally:
                    self._held.discard(intent.intent_id)
        except HydraError as e:
            log.warning("resumed_hours_unknown", intent_id=intent.intent_id, reason=str(e))
            return None
        return None if hours is None else hours.ending_early(CLOSE_MARGIN)

    async def release_day(self, contract: ContractSpec) -> dt.date:
        """The trading day an intent in ``contract`` submitted now is released into: today's
        while its market is open, the next open's while it is held (by the broker's hours;
        hours it cannot give are taken as unknown, logged: nothing is held then)."""
        now = self._clock()
        try:
            hours = await self._hours(contract, None)
        except HydraError as e:  # a product the broker does not trade (a link down waits)
            log.warning("release_day_unknown", symbol=contract.symbol, reason=str(e))
            return trading_day(now)
        opens = held_until(hours, now, min_left=MIN_SESSION_LEFT)
        return trading_day(now if opens is None else opens)

    async def _hours(self, contract: ContractSpec, strategy: str | None,
                     ) -> SessionCalendar | None:
        """The hours ``strategy``'s intents in ``contract`` are worked in (its
        ``execution.hours``; the defaults' for None): the broker's liquid hours, or its trading
        hours, which serve too when the broker gives no liquid ones. While the broker session
        is down, once it is back (an intent is neither refused nor dropped for a link down)."""
        try:
            return await self._hours_now(contract, strategy)
        except BrokerConnectionError:
            log.warning("hours_waiting_for_session", symbol=contract.symbol)
        return await self._when_up(lambda: self._hours_now(contract, strategy))

    async def _hours_now(self, contract: ContractSpec, strategy: str | None,
                         ) -> SessionCalendar | None:
        execution = self._config.execution if strategy is None else (
            self._config.execution_for(strategy))
        if execution.hours is WorkingHours.LIQUID:
            liquid = await self._broker.liquid_hours(contract)
            if liquid is not None:
                return liquid
        return await self._broker.trading_hours(contract)

    async def _wait_for_open(self, intent: OrderIntent, deadline: dt.datetime | None,
                             hours: SessionCalendar | None) -> SessionCalendar | None:
        """Sleep until ``intent``'s market is open by ``hours`` (asking the broker again only
        when they run out, so a link down in the meantime does not matter); the hours then.
        An open after ``deadline`` is a `MarketClosedError` at the deadline."""
        while True:
            now = self._clock()
            opens = held_until(hours, now, min_left=MIN_SESSION_LEFT)
            if opens is None:
                return hours
            if deadline is not None and deadline <= opens:
                await trio.sleep(max(0.0, (deadline - now).total_seconds()))
                raise MarketClosedError(f"its deadline {deadline.isoformat()} passed before "
                                        f"{intent.contract.symbol} opened")
            await trio.sleep((opens - now).total_seconds())
            if hours is None or opens >= hours.known_until:
                hours = await self._before(deadline, _session_up, lambda: self._hours(
                    intent.contract, intent.strategy))

    async def _quote_at_open(self, intent: OrderIntent, deadline: dt.datetime | None) -> Quote:
        """The arrival quote at the open: while the broker session is down (a gateway that
        restarts at night), once it is back; while the quote is unusable (one-sided, stale),
        once it is usable, looked at every `REPEG_SECONDS` as a working ladder does (logged
        once: ``intent_waiting_for_quote``). Past ``deadline``, a `MarketClosedError`."""
        contract = intent.contract

        def waiting() -> None:
            log.warning("intent_waiting_for_session", intent_id=intent.intent_id)
        await self._before(deadline, _session_up, lambda: self._when_up(
            lambda: self._broker.subscribe_quotes(contract), waiting))
        return await self._before(
            deadline, lambda: f"a usable quote ({self._quotes.problem(contract)})",
            lambda: self._usable_quote(intent))

    async def _usable_quote(self, intent: OrderIntent) -> Quote:
        """``intent``'s quote once it is usable (see `_quote_at_open`)."""
        contract = intent.contract
        if (quote := self._quotes.usable(contract)) is not None:
            return quote
        log.warning("intent_waiting_for_quote", intent_id=intent.intent_id,
                    symbol=contract_name(contract), why=self._quotes.problem(contract))
        while True:  # a quote's change is no event: looked at again, as a ladder does
            await trio.sleep(REPEG_SECONDS)
            if (quote := self._quotes.usable(contract)) is not None:
                return quote

    async def _before(self, deadline: dt.datetime | None, waited_for: Callable[[], str],
                      ask: Callable[[], Awaitable[T]]) -> T:
        """What ``ask`` answers, unless ``deadline`` passes first: then a `MarketClosedError`
        naming it and what the intent waited for (nothing is journaled or sent past it)."""
        if deadline is None:
            return await ask()
        with trio.move_on_at(self._at(deadline)):
            return await ask()
        raise MarketClosedError(f"its deadline {deadline.isoformat()} passed while it waited "
                                f"for {waited_for()}")

    def _at(self, moment: dt.datetime | None) -> float:
        """The Trio time of the wall-clock ``moment`` (None: never)."""
        if moment is None:
            return math.inf
        return trio.current_time() + (moment - self._clock()).total_seconds()

    async def _when_up(self, ask: Callable[[], Awaitable[T]],
                       waiting: Callable[[], None] = lambda: None) -> T:
        """What ``ask`` answers once the broker session is up: asked again at each return of
        the session while it raises `BrokerConnectionError` (``waiting`` is told each time);
        Hydra closing first is a `BrokerConnectionError` saying so."""
        subscribe, events = open_subscription()
        self._publish.send_nowait(subscribe)  # before the try: no return of the link missed
        with events:
            while True:
                try:
                    return await ask()
                except BrokerConnectionError:
                    waiting()
                async for event in events:
                    if isinstance(event, SessionChanged) and event.up:
                        break
                else:
                    raise BrokerConnectionError("Hydra closed before the session came back")

    async def _start(self, handle: IntentHandle, hours: SessionCalendar | None,
                     quote: Quote) -> None:
        """Journal ``handle``'s intent at its arrival ``quote`` and start its worker."""
        intent = handle.intent
        settings = self._config.execution_for(intent.strategy)
        adv = self._config.adv.get(intent.contract.symbol)
        policy = route(intent.quantity, adv=adv, settings=settings, policy=intent.policy)
        prediction = self._model.predict(
            symbol=intent.contract.symbol, policy=policy, spread=quote.spread, mid=quote.mid,
            aggressiveness=_AGGRESSIVENESS[policy],
            participation=participation(intent.quantity, adv=adv) if adv else Decimal(0),
            settings=self._config.slippage,
        )
        predicted = prediction.bps
        await self._journal.record_intent(intent, arrival_mid=quote.mid, predicted_bps=predicted)
        await self._journal.record_note(NoteKind.SLIPPAGE_PREDICTED,
                                        **prediction_note(intent.intent_id, prediction))
        # TWAP jitter is seeded by the engine's seed and the submission number: runs repeat.
        others = len(self.handles) - (intent.intent_id in self.handles)  # a held one is in
        rng = random.Random(f"{self._seed}:{others}")
        self.handles[intent.intent_id] = handle
        now, plan = self._clock(), None
        hours = None if hours is None else hours.ending_early(CLOSE_MARGIN)
        if policy is Policy.TWAP:  # fitted into the session (and sessions)
            plan = fit_twap(intent.quantity, settings=settings, rng=rng, hours=hours, now=now)
        else:
            settings = fit_patience(settings, intent.quantity, hours=hours, now=now,
                                    max_order_quantity=self._config.risk.max_order_quantity)
        work = Work(
            intent_id=intent.intent_id, client_order_id=self._ids.for_intent(intent.intent_id, 1),
            contract=intent.contract, side=intent.side, quantity=intent.quantity,
            policy=Policy.PATIENCE if policy is Policy.TWAP else policy, settings=settings,
            arrival_mid=quote.mid, predicted_bps=predicted,
        )
        log.info("intent_submitted", intent_id=intent.intent_id, route=policy.value,
                 quantity=intent.quantity, arrival_mid=str(quote.mid))
        twap = (rng, plan) if policy is Policy.TWAP else None
        self._nursery.start_soon(self._work, handle, work, twap)

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
        self, handle: IntentHandle, work: Work,
        twap: tuple[random.Random, TwapPlan | None] | None,
    ) -> None:
        """Work one intent: TWAP when given its schedule's ``rng`` (and its plan inside the
        sessions, when the hours are known), else one patience order."""
        report_to, reports = open_reports()
        try:
            with handle._scope, report_to:
                if twap is not None:
                    await self._twap(work, report_to, *twap)
                else:
                    await run_patience(work, risk=self._risk, quotes=self._quotes.usable,
                                       report_to=report_to, leave_working=self.leaving,
                                       max_order_quantity=self._config.risk.max_order_quantity,
                                       why_unusable=self._quotes.problem)
        finally:
            await self._report_settled(handle, work, collected(reports))

    async def _twap(self, work: Work, report_to: Reports, rng: random.Random,
                    plan: TwapPlan | None) -> None:
        ids = (self._ids.for_intent(work.intent_id, n) for n in itertools.count(2))
        await run_twap(work, rng=rng, plan=plan, next_order_id=lambda: next(ids), risk=self._risk,
                       quotes=self._quotes.usable, report_to=report_to,
                       leave_working=self.leaving,
                       max_order_quantity=self._config.risk.max_order_quantity,
                       why_unusable=self._quotes.problem)

    def leaving(self) -> bool:
        """True once the drain is over and working orders are to be left working."""
        return self._leaving

    async def _report_settled(self, handle: IntentHandle, work: Work, worked: list[Worked], *,
                              earlier: Sequence[ChildOrderReport] = ()) -> None:
        """Report ``handle``'s intent once the orders its worker left unsettled (stopped while
        their cancel was held for the link) are over; Hydra closing first reports them as
        they stand, still working at the broker."""
        try:
            if not all(isinstance(w, ChildOrderReport) for w in worked):
                handle._stopped.set()  # only the link is waited for now
            await wait_settled(worked)
        finally:
            await self._report(handle, work, [*earlier, *reports_of(worked)])

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
            ended_by=handle._stopped_by,
        )
        # A refused write stops Hydra already (open_hydra waits for one): the report still goes.
        with trio.CancelScope(shield=True), contextlib.suppress(JournalWriteError):
            await self._journal.record_note(NoteKind.INTENT_FINISHED, intent_id=work.intent_id,
                                            filled=report.filled, quantity=report.quantity,
                                            reason=report.end_reason)
        handle._finish(report)
        self._publish.send_nowait(IntentFinished(report=report))
        log.info("intent_finished", intent_id=work.intent_id, **report.log_fields())

    async def submit_bracket(self, bracket: BracketIntent) -> IntentHandle:
        """Send an entry with its take-profit and protective stop; the handle reports when the
        bracket is over (the entry ended unfilled, or an exit filled and OCA cancelled the
        other) or when it is cancelled. While its market is closed it is refused
        (`MarketClosedError`), whatever ``outside_hours`` says."""
        intent = OrderIntent(contract=bracket.contract, side=bracket.side,
                             quantity=bracket.quantity, strategy=bracket.strategy,
                             intent_id=bracket.intent_id)
        with self._claiming(intent.intent_id):
            return await self._submit_bracket(bracket, intent)

    async def _submit_bracket(self, bracket: BracketIntent, intent: OrderIntent,
                              ) -> IntentHandle:
        if await self.was_submitted(intent.intent_id):  # the journal's and the broker's word
            raise InvalidValueError("intent_id", intent.intent_id, "was already submitted")
        hours = await self._hours(intent.contract, intent.strategy)
        opens = held_until(hours, self._clock(), min_left=MIN_SESSION_LEFT)
        if opens is not None:  # its entry price is the trader's for now: it is never held
            market = _market(intent.contract, self._config.execution_for(intent.strategy).hours)
            raise MarketClosedError(
                f"bracket {intent.intent_id} refused: {market} is closed until "
                f"{_local(opens, hours)} (a bracket is not held for the open)")
        arrival = (await self._arrival_quote(intent.contract)).mid
        await self._journal.record_intent(intent, arrival_mid=arrival, predicted_bps=None)
        handle = IntentHandle(intent)
        self.handles[intent.intent_id] = handle
        actor = BracketActor(bracket, risk=self._risk, arrival_mid=arrival, ids=self._ids,
                             leave_working=self.leaving)
        self.brackets.add(intent.intent_id)
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

    async def _run_resumed(self, handle: IntentHandle, resumed: Resumed) -> None:
        report_to, reports = open_reports()
        try:
            with handle._scope, report_to:
                await resumed.run(report_to)
        finally:
            await self._report_settled(handle, resumed.work, collected(reports),
                                       earlier=resumed.earlier)

    async def drain(self) -> None:
        """Wait up to the drain timeout for every intent to finish."""
        for handle in self.every_handle():  # waiting for the open: nothing to drain
            if handle.intent.intent_id in self._held:
                handle.cancel(reason="Hydra is closing")  # not the trader's cancel
        with trio.move_on_after(self._config.shutdown.drain_timeout):
            for handle in [*self.handles.values(), *self.adopted]:
                await handle.wait_done()
        self._leaving = self._config.shutdown.leave_working


def _close(hours: SessionCalendar | None, now: dt.datetime) -> dt.datetime | None:
    """When the session open at ``now`` closes (None: unknown hours)."""
    return None if hours is None else hours.close_of(now)


def _market(contract: ContractSpec, hours: WorkingHours) -> str:
    """What is closed, in a refusal: ``ZO``, or ``ZO's liquid session`` in the liquid hours."""
    if hours is WorkingHours.LIQUID:
        return f"{contract.symbol}'s liquid session"
    return contract.symbol


def _local(moment: dt.datetime, hours: SessionCalendar | None) -> str:
    """``moment`` in the exchange's time zone, to the minute: ``2026-12-01 08:30 CST``."""
    local = moment.astimezone(hours.zone) if hours is not None else moment
    return f"{local:%Y-%m-%d %H:%M %Z}"
