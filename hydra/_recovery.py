"""Restart: what a stopped run left at the broker and in the journal, carried on or reported.

Nothing the journal knows is sent again. Per intent the previous run did not finish:

- a cancel it asked for (a ``cancel_requested`` note, journaled before the cancel went to the
  sender) is completed, never undone: the order is cancelled, not re-worked; and when that
  cancel stopped the intent (not a ladder running out) the intent is not resumed either;
- a bracket is adopted as a bracket (its legs at their prices, the OCA group intact, the stop
  armed), never repriced, a leg the journal lost taken as the broker still works it; one
  whose legs were not all sent is reported, what was staged of it cancelled;
- with ``[restart] resume = true``, anything else is resumed with its remaining quantity
  (quantity less journaled fills), its arrival mid, its strategy and its policy: a TWAP with its
  remaining slices over what is left of its horizon (from its journaled submission time to
  when it is worked: a wait for the open counts; with ``twap_carry`` only the open seconds
  since, when the hours reach back to its submission), its
  working slice as the first of them, the slices begun counted by the part of the schedule each
  order journaled (`TwapPart`: the orders of a chunked slice are that one slice, an order
  resting ahead of the schedule is none until it becomes its slice's order), the working slice's
  order on the ladder it journaled (its ``ladder_stage`` notes: the stage it was at and when
  each stage left ends, so a restart late in the last slice still has that slice's last stage to
  take what is left), or, when that ladder has ended, from the stage its time in the resumed
  slice says; a patience order from the stage it was at (by the time it was journaled), a
  passive one staying passive. One order is carried on, the newest (lots that rested ahead and
  became their slice's order, by their ``ladder_stage`` notes, are that slice's: carried on,
  their place in the queue kept): any other found working, and an order resting ahead of a
  TWAP's schedule (which the resumed plan lays out anew), is cancelled as a ladder's end, its
  fills counted and its lots given back to the plan, so nothing is left working without an owner
  and nothing ahead of the schedule steps or takes. It is journaled as ``intent_resumed``;
- with ``resume = false``, or when the journal had lost some of the intent's orders (the
  broker showed them at start, working, completed or executed, after a lost ``-wal``: its
  account of the intent is short, so resuming could overfill), its working orders are
  adopted (with its policy, at their stage; one resting ahead of a TWAP's schedule, which
  goes no further, is cancelled) and the intent is journaled and published as
  ``intent_interrupted``.

A roll stopped between its legs (``roll_started`` names both intents and the target month; a
hook's target writes one per close) has its open leg started for what the closes let it open
(`hydra._roll_legs`), or, without resume, reported with exactly what was closed; one whose
open was skipped (``roll_open_skipped``) or whose closes were never journaled opens nothing.
Orders left working on purpose whose intent had finished are adopted as before (lots that
rested ahead of a TWAP's schedule and became the last slice's order included: by their
``ladder_stage`` notes they began that slice's ladder).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import structlog
import trio

from ._bracket import BracketActor
from ._child_order import ChildOrder
from ._codec import note_from_json
from ._core._instants import later
from ._core._ladder import LadderStage
from ._core._routing import route
from ._core._sessions import SessionCalendar
from ._core._twap import chunk_sizes, plan_twap
from ._enums import OrderStatus, Policy
from ._errors import JournalFormatError, JournalNoteError
from ._ids import ClientOrderId, IntentId, OrderIds
from ._journal import IntentRecord, Journal, JournaledOrder
from ._journal_actor import JournalClient
from ._journal_calls import (
    FillsOfOrder,
    HasIntent,
    IntentsBehind,
    JournalNow,
    LiveOrders,
    Notes,
    NotesAt,
    UnfinishedIntents,
)
from ._journal_schema import NoteKind
from ._ladder_notes import StagesTold, read_stages_told
from ._messages import (
    AdoptOrder,
    CancelOrder,
    FlattenIntent,
    ReconcileDifference,
    Resynced,
    RiskMessage,
)
from ._orders import Fill, OrderIntent
from ._patience import (
    CANCEL_CONFIRM_SECONDS,
    LADDER_LENGTH,
    OwnedOrder,
    PatienceActor,
    Schedule,
    Work,
    run_patience,
    stage_plan,
)
from ._quote_source import QuoteSource
from ._reports import ChildOrderReport
from ._roll_legs import RollClose, RollLeft, RollStarted
from ._session_fit import fit_patience, fit_twap
from ._settings import ExecutionSettings, HydraConfig
from ._supervisor import resync
from ._twap_actor import run_twap
from ._worker_reports import Reports
from .brokers import MarketView, OpenOrder

log = structlog.get_logger()

Run = Callable[[Reports], Awaitable[None]]
"""A resumed intent's work: sends a report for every order it works to the channel."""

HeldRun = Callable[[Reports, SessionCalendar | None, float], Awaitable[None]]
"""A resumed intent's new work, started once its market is open, with its hours then and the
seconds it was held for that open."""

OpenGate = Callable[[OrderIntent], Awaitable[SessionCalendar | None]]
"""Waits until the intent's market is open (`Router.wait_until_open`); its hours then."""


@attrs.frozen(kw_only=True)
class Resumed:
    """One intent a restart carries on with (or only settles): the engine runs ``run`` under
    a handle and reports ``earlier`` (its orders of before the restart) with what ``run`` adds."""

    intent: OrderIntent
    work: Work  # for the report: arrival mid and prediction
    earlier: tuple[ChildOrderReport, ...]
    run: Run
    bracket: bool = False


@attrs.frozen(kw_only=True)
class Recovered:
    resumed: tuple[Resumed, ...]
    interrupted: tuple[ReconcileDifference, ...]  # reported, for the trader to decide
    rolls: tuple[RollLeft, ...]


@attrs.frozen(kw_only=True)
class _History:
    """One intent as the journal left it."""

    record: IntentRecord
    orders: tuple[tuple[JournaledOrder, dt.datetime], ...]  # with when each was journaled
    fills: tuple[Fill, ...]
    last_sequence: int

    @property
    def intent(self) -> OrderIntent:
        return self.record.intent

    @property
    def filled(self) -> int:
        return sum(fill.quantity for fill in self.fills if fill.side is self.intent.side)

    @property
    def bracket(self) -> bool:
        return any(o.request.parent_id is not None or not o.request.transmit
                   for o, _ in self.orders)


@attrs.frozen
class IntentHistory:
    """The journal's query for one intent's `_History` (None when it was never journaled)."""

    intent_id: IntentId

    def apply(self, journal: Journal) -> _History | None:
        record = journal.intent_record(self.intent_id)
        if record is None:
            return None
        return _History(record=record, orders=tuple(journal.intent_orders(self.intent_id)),
                        fills=tuple(journal.intent_fills(self.intent_id)),
                        last_sequence=journal.last_sequence(self.intent_id))


def _earlier_report(order: JournaledOrder, fills: Sequence[Fill]) -> ChildOrderReport:
    request = order.request
    return ChildOrderReport(
        client_order_id=request.client_order_id, order_type=request.order_type,
        quantity=request.quantity, prices=(request.limit_price,), stop_price=request.stop_price,
        status=order.status,
        fills=tuple(f for f in fills if f.client_order_id == request.client_order_id),
    )


class _Cancelling(OwnedOrder):
    """An adopted order whose cancel was asked for before the restart, or that the restart
    does not carry on (``ladder_end``: its intent goes on without it): cancelled, not worked.
    A cancel the risk actor holds for a down link is waited past as a ladder's is
    (`OwnedOrder.wait_over`): the order may still fill, so it is reported once the broker has
    ended it; stopped meanwhile, it is handed to its intent, whose report waits for it."""

    def __init__(self, order: OpenOrder, fills: Sequence[Fill], *, ladder_end: bool = False
                 ) -> None:
        request = order.request
        super().__init__(ChildOrder(client_order_id=request.client_order_id,
                                    quantity=request.quantity, order_type=request.order_type,
                                    stop_price=request.stop_price, prices=[request.limit_price],
                                    fills=[f for f in fills
                                           if f.client_order_id == request.client_order_id],
                                    status=OrderStatus.WORKING))
        self._ladder_end = ladder_end

    async def run(self, risk: trio.MemorySendChannel[RiskMessage],
                  report_to: Reports) -> None:
        try:
            with trio.CancelScope(shield=True) as scope:
                scope.relative_deadline = CANCEL_CONFIRM_SECONDS
                await risk.send(CancelOrder(client_order_id=self.child.client_order_id,
                                            ladder_end=self._ladder_end))
                await self._wait_answered()
            await self.wait_over()
        finally:
            report_to.send_nowait(self.handover())


def _slices_begun(history: _History, *, planned: int,
                  became: Collection[ClientOrderId] = ()) -> tuple[int, int]:
    """How many slices of a TWAP intent's schedule were begun, and of how many, by the parts
    its orders journaled: the chunks of one slice are that one slice, and an order resting
    ahead of the schedule begins none, unless it ``became`` its slice's order (it then began
    it). A journal whose orders carry no part (written before they did) counts one slice per
    order number the intent used, of ``planned``."""
    parts = [(order.part, order.request.client_order_id in became)
             for order, _ in history.orders if order.part is not None]
    if not parts:
        return history.last_sequence, planned
    return (max(part.slice if began else part.begun for part, began in parts),
            parts[-1][0].slices)


def _ahead_orders(history: _History) -> set[ClientOrderId]:
    """The intent's orders that rested ahead of its TWAP's schedule."""
    return {order.request.client_order_id for order, _ in history.orders
            if order.part is not None and order.part.ahead}


def _became_slices(stage_notes: Sequence[tuple[dt.datetime, Mapping[str, Any]]],
                   ahead: Collection[ClientOrderId]) -> dict[ClientOrderId, dt.datetime]:
    """Of ``ahead`` (orders journaled resting ahead of a TWAP's schedule), those that became
    their slice's order, with when, by their ``ladder_stage`` notes."""
    return {coid: at for coid, at in _slices_begun_at(stage_notes).items() if coid in ahead}


def _slices_begun_at(stage_notes: Sequence[tuple[dt.datetime, Mapping[str, Any]]],
                     ) -> dict[ClientOrderId, dt.datetime]:
    """When each order's ladder began a TWAP slice's stages, by its first such
    ``ladder_stage`` note: lots rested ahead that became their slice's order (resting ahead,
    an order tells its one stage, RESTING, alone)."""
    began: dict[ClientOrderId, dt.datetime] = {}
    for at, note in stage_notes:
        told, coid = _told(note), note.get("client_order_id")
        # A note that does not read as ladder stages of an order tells no slice begun: lots
        # ahead are cancelled, never carried on to step and take on a mended note's word.
        if told is not None and isinstance(coid, str) and [
                stage for stage, _ in told.stages] != ["RESTING"]:
            began.setdefault(ClientOrderId(coid), at)
    return began


def _told(note: Mapping[str, Any]) -> StagesTold | None:
    """A ``ladder_stage`` note read as ladder stages; None when it does not read so (a
    hand-mended journal, another version's, a baseline's stage)."""
    told = read_stages_told(note)
    if told is None or any(stage not in LadderStage.__members__ for stage, _ in told.stages):
        return None
    return told


def _ladder_left(notes: Sequence[tuple[dt.datetime, Mapping[str, Any]]],
                 client_order_id: ClientOrderId) -> StagesTold | None:
    """The stages left of ``client_order_id``'s ladder by its last ``ladder_stage`` note
    among ``notes``; None without one, or when it does not read as ladder stages (`_told`)."""
    mine = [note for _, note in notes if note.get("client_order_id") == client_order_id]
    return _told(mine[-1]) if mine else None


def _journaled_schedule(told: StagesTold | None, now: dt.datetime, *, until: dt.datetime,
                        ) -> Schedule | None:
    """The stages of ``told`` not ended at ``now``, each with when it ends on Trio's clock;
    None when there are none, or when one would end after ``until`` (the resumed first
    slice's end: a ladder of a slice that drew a longer interval, a note from another clock,
    or one mended by hand never keeps an order working longer)."""
    if told is None or any(end - until > _NOTE_SLACK for _, end in told.stages):
        return None
    base = trio.current_time()
    left = tuple((LadderStage[stage], base + (end - now).total_seconds())
                 for stage, end in told.stages if end > now)
    return left or None


_NOTE_SLACK = dt.timedelta(seconds=1)
"""How far past the resumed first slice's end a journaled stage may end (the note's times are
rounded to the journal's clock)."""


def _slices_left(settings: ExecutionSettings, slices: int, *, elapsed: float
                 ) -> tuple[int, float]:
    """A resumed TWAP's ``slices`` left and the horizon they span, ``elapsed`` seconds after
    its submission; overdue, one last slice, one ladder long."""
    horizon = settings.twap_horizon - elapsed
    if horizon <= 0:
        return 1, settings.patience * LADDER_LENGTH
    return slices, horizon


def _seconds(later: dt.datetime, earlier: dt.datetime) -> float:
    return max((later - earlier).total_seconds(), 0.0)


class Recovery:
    """Works out, once at start-up, what the previous run left and how to carry on."""

    def __init__(
        self, *, config: HydraConfig, broker: MarketView, journal: JournalClient,
        risk: trio.MemorySendChannel[RiskMessage], quotes: QuoteSource,
        leave_working: Callable[[], bool], seed: int, order_ids: OrderIds,
        wait_until_open: OpenGate, clock: Callable[[], dt.datetime],
    ) -> None:
        self._config = config
        self._wait_until_open = wait_until_open  # held for the open, as a new intent is
        self._clock = clock  # wall-clock time, against the hours
        self._ids = order_ids
        self._broker = broker
        self._journal = journal
        self._risk = risk
        self._quotes = quotes
        self._leave_working = leave_working
        self._seed = seed
        self._resumed: list[Resumed] = []
        self._interrupted: list[ReconcileDifference] = []

    async def run(self) -> Recovered:
        state = await resync(self._broker, self._journal)
        # Journal the fills made while Hydra was down before reading any intent's history.
        journaled = trio.Event()
        await self._risk.send(Resynced(fills=state.fills, open_orders=(), done=journaled,
                                       positions=state.positions, restart=True))
        await journaled.wait()
        at_broker = {order.client_order_id: order for order in state.open_orders}
        live = await self._journal.ask(LiveOrders())
        for order in live:
            if order.request.client_order_id not in at_broker:
                await self._settle_missing(order)
        self._cancels = {ClientOrderId(n["client_order_id"]): bool(n.get("ladder_end"))
                         for n in await self._journal.ask(Notes(NoteKind.CANCEL_REQUESTED))}
        self._now = await self._journal.ask(JournalNow())
        self._behind = await self._journal.ask(IntentsBehind())
        # Read once (a scan of the whole journal), not once per intent resumed.
        self._roll_started = await self._roll_notes()
        unfinished = await self._journal.ask(UnfinishedIntents())
        for intent_id in unfinished:
            history = await self._journal.ask(IntentHistory(intent_id))
            if history is not None:
                await self._recover_intent(history, at_broker)
        for order in live:  # left working by an intent that had finished
            coid = order.request.client_order_id
            if coid in at_broker and order.request.intent_id not in unfinished:
                await self._adopt_left_working(at_broker[coid])
        rolls = await self._rolls()
        return Recovered(resumed=tuple(self._resumed), interrupted=tuple(self._interrupted),
                         rolls=tuple(rolls))

    async def _settle_missing(self, order: JournaledOrder) -> None:
        done = order.filled >= order.request.quantity
        status = OrderStatus.FILLED if done else OrderStatus.CANCELLED
        await self._journal.record_status(order.request.client_order_id, status,
                                          reason="no longer at the broker on restart",
                                          intent=None)

    # --- one unfinished intent -------------------------------------------------------------

    async def _recover_intent(self, history: _History, at_broker: Mapping[ClientOrderId, OpenOrder]
                              ) -> None:
        found = {o.request.client_order_id: at_broker[o.request.client_order_id]
                 for o, _ in history.orders if o.request.client_order_id in at_broker}
        stopped = any(not self._cancels[o.request.client_order_id] for o, _ in history.orders
                      if o.request.client_order_id in self._cancels)
        if history.bracket:
            await self._recover_bracket(history, found, at_broker)
        elif stopped:
            log.info("intent_stop_completed", intent_id=history.intent.intent_id,
                     cancelling=sorted(found))
            self._add(history, found, await self._only_cancels(history, found))
        elif not self._config.restart.resume or history.intent.intent_id in self._behind:
            await self._report_interrupted(history, adopted=bool(found))
            self._add(history, found, await self._adopted_orders(history, found))
        else:
            await self._resume(history, found)

    def _add(self, history: _History, found: Mapping[ClientOrderId, OpenOrder], run: Run,
             *, bracket: bool = False) -> None:
        earlier = tuple(_earlier_report(o, history.fills) for o, _ in history.orders
                        if o.request.client_order_id not in found)
        self._resumed.append(Resumed(intent=history.intent, work=self._work(history),
                                     earlier=earlier, run=run, bracket=bracket))

    def _fresh_ids(self, work: Work, history: _History) -> Callable[[], ClientOrderId]:
        return _ids_after(work.client_order_id, history, self._ids)

    def _work(self, history: _History, **changes: object) -> Work:
        intent = history.intent
        arrival = history.record.arrival_mid
        if arrival is None:  # journaled before arrival mids were: the order's own price
            arrival = history.orders[0][0].request.limit_price if history.orders else Decimal(1)
        work = Work(intent_id=intent.intent_id,
                    client_order_id=self._ids.for_intent(intent.intent_id,
                                                         history.last_sequence + 1),
                    contract=intent.contract, side=intent.side, quantity=intent.quantity,
                    policy=Policy.PATIENCE, settings=self._config.execution_for(intent.strategy),
                    arrival_mid=arrival, predicted_bps=history.record.predicted_bps)
        return attrs.evolve(work, **changes)  # type: ignore[arg-type]

    def _route(self, intent: OrderIntent) -> Policy:
        return route(intent.quantity, adv=self._config.adv.get(intent.contract.symbol),
                     settings=self._config.execution_for(intent.strategy), policy=intent.policy)

    async def _only_cancels(self, history: _History, found: Mapping[ClientOrderId, OpenOrder]
                            ) -> Run:
        cancelling = [await self._cancelling(order, history) for order in found.values()]

        async def run(report_to: Reports) -> None:
            for pending in cancelling:
                await pending.run(self._risk, report_to)

        return run

    async def _cancelling(self, order: OpenOrder, history: _History, *,
                          ladder_end: bool = False) -> _Cancelling:
        """Adopt ``order`` (now: its events must not be lost) to cancel it; ``ladder_end``
        when the intent goes on without it (its cancel does not stop the intent)."""
        pending = _Cancelling(order, history.fills, ladder_end=ladder_end)
        await self._risk.send(AdoptOrder(order=order, arrival_mid=self._work(history).arrival_mid,
                                         owner=pending.events_in))
        log.info("order_adopted_to_cancel", client_order_id=order.client_order_id)
        return pending

    async def _report_interrupted(self, history: _History, *, adopted: bool) -> None:
        intent, filled = history.intent, history.filled
        rest = ("its working order is adopted, the rest is not resumed" if adopted
                else "not resumed")
        if intent.intent_id in self._behind:
            rest += (" (the journal had lost some of its orders, which the broker showed at "
                     "start: any still working is adopted as unknown and left to the trader)")
        description = (f"intent {intent.intent_id} was interrupted by a stop: {filled} of "
                       f"{intent.quantity} filled; {rest}")
        await self._journal.record_note(NoteKind.INTENT_INTERRUPTED, intent_id=intent.intent_id,
                                        filled=filled, quantity=intent.quantity,
                                        reason=description)
        log.warning("intent_interrupted", intent_id=intent.intent_id, filled=filled,
                    quantity=intent.quantity)
        self._interrupted.append(ReconcileDifference(client_order_id=None,
                                                     description=description))

    async def _stage_notes(self, history: _History,
                           ) -> list[tuple[dt.datetime, dict[str, Any]]]:
        """The intent's ``ladder_stage`` notes, with when each was journaled."""
        return await self._journal.ask(
            NotesAt(NoteKind.LADDER_STAGE, intent_id=history.intent.intent_id))

    # --- adopting orders -------------------------------------------------------------------

    async def _adopt_patience(self, order: OpenOrder, placed_at: dt.datetime | None,
                              work: Work) -> tuple[PatienceActor, float]:
        """A patience actor for ``order`` (with the intent's policy), registered with the
        risk actor now, and how far into its ladder the order is."""
        request = order.request
        work = attrs.evolve(work, client_order_id=request.client_order_id,
                            quantity=request.quantity)
        actor = PatienceActor(work, risk=self._risk, quotes=self._quotes.usable,
                              leave_working=self._leave_working,
                              why_unusable=self._quotes.problem)
        actor.take_over(request.limit_price,
                        await self._journal.ask(FillsOfOrder(request.client_order_id)))
        await self._broker.subscribe_quotes(request.contract)
        await self._risk.send(AdoptOrder(order=order, arrival_mid=work.arrival_mid,
                                         owner=actor.events_in))
        log.info("order_adopted", client_order_id=request.client_order_id,
                 remaining=order.remaining, policy=work.policy.value)
        return actor, 0.0 if placed_at is None else _seconds(self._now, placed_at)

    async def _when_open(self, intent: OrderIntent, adopted: Sequence[tuple[PatienceActor, float]],
                         report_to: Reports) -> SessionCalendar | None:
        """Wait until ``intent``'s market is open (`Router.wait_until_open`, as a new intent
        is held): its hours then. Stopped while held, each ``adopted`` order is settled first
        (its actor, started stopped, cancels it, or leaves it working by config) and
        reported: never left unaccounted for."""
        try:
            return await self._wait_until_open(intent)
        except trio.Cancelled:
            for actor, elapsed in adopted:
                with contextlib.suppress(trio.Cancelled):  # the stop already under way
                    await actor.run(adopted=True, elapsed=elapsed)
                report_to.send_nowait(actor.handover())
            raise

    def _fit_adopted(self, actor: PatienceActor, hours: SessionCalendar | None,
                     elapsed: float, *, rest: int = 0) -> float:
        """Shorten an adopted order's ladder to end before the close, as a new one's is: the
        time left shared with the ladders of the ``rest`` lots the intent works after it (a
        chunked intent's unstarted orders); how far into it the order is ``elapsed`` seconds
        after its placement. A ladder that ran out while Hydra was down (the whole session,
        or over a close) is resumed at its last stage, as an overdue TWAP works a last slice:
        else its order was cancelled at once, unfilled, and nothing of the intent worked
        again."""
        work = actor.work
        actor.reschedule(attrs.evolve(work, settings=fit_patience(
            work.settings, work.quantity + rest, hours=hours, now=self._clock(),
            max_order_quantity=self._config.risk.max_order_quantity)))
        waits = [wait for _, wait in stage_plan(actor.work.policy, actor.work.settings)]
        return elapsed if elapsed < sum(waits) else sum(waits[:-1])

    def _policy(self, intent: OrderIntent) -> Policy:
        policy = self._route(intent)
        return Policy.PATIENCE if policy is Policy.TWAP else policy

    async def _adopted_orders(self, history: _History, found: Mapping[ClientOrderId, OpenOrder]
                              ) -> Run:
        """Cancel the found orders whose cancel was asked for, and those resting ahead of a
        TWAP's schedule (which goes no further); work the others with the intent's policy
        from the stage each was at. Lots that rested ahead and became their slice's order
        (journaled ahead, their ladder_stage notes telling the slice's ladder) are that
        slice's order, working, or left working at the schedule's end: adopted so."""
        times = {o.request.client_order_id: at for o, at in history.orders}
        work = self._work(history, policy=self._policy(history.intent))
        ahead = _ahead_orders(history)
        if ahead:
            # Its ladder is the slice's, begun when the order became the slice's.
            became = _became_slices(await self._stage_notes(history), ahead)
            times |= became
            ahead -= became.keys()
        cancelling = [await self._cancelling(o, history, ladder_end=self._cancels.get(c, True))
                      for c, o in found.items() if c in self._cancels or c in ahead]
        actors = [await self._adopt_patience(o, times.get(c), work) for c, o in found.items()
                  if c not in self._cancels and c not in ahead]

        async def run(report_to: Reports) -> None:
            for pending in cancelling:
                await pending.run(self._risk, report_to)
            hours = await self._when_open(history.intent, actors, report_to) if actors else None
            for actor, elapsed in actors:
                resumed_at = self._fit_adopted(actor, hours, elapsed)
                try:
                    await actor.run(adopted=True, elapsed=resumed_at)
                finally:
                    report_to.send_nowait(actor.handover())

        return run

    async def _adopt_left_working(self, order: OpenOrder) -> None:
        request = order.request
        history = await self._journal.ask(IntentHistory(request.intent_id))
        if history is None:  # an order without its intent: adopt it as the order it is
            intent = OrderIntent(contract=request.contract, side=request.side,
                                 quantity=request.quantity, intent_id=request.intent_id)
            history = _History(record=IntentRecord(intent=intent, arrival_mid=None,
                                                   predicted_bps=None, submitted_at=self._now),
                               orders=(), fills=(), last_sequence=0)
        history = attrs.evolve(history, orders=tuple(
            (o, at) for o, at in history.orders
            if o.request.client_order_id == request.client_order_id))
        found = {request.client_order_id: order}
        self._add(history, found, await self._adopted_orders(history, found))
        self._resumed[-1] = attrs.evolve(self._resumed[-1], intent=attrs.evolve(
            history.intent, quantity=request.quantity))

    # --- brackets --------------------------------------------------------------------------

    async def _recover_bracket(self, history: _History, found: Mapping[ClientOrderId, OpenOrder],
                               at_broker: Mapping[ClientOrderId, OpenOrder]) -> None:
        legs = [self._ids.for_intent(history.intent.intent_id, n) for n in (1, 2, 3)]
        by_id = {o.request.client_order_id: o for o, _ in history.orders}
        requests = {coid: o.request for coid, o in by_id.items()}
        # A leg the journal lost (a lost -wal) that the broker still works is the bracket's
        # as the broker holds it: cancelling the rest would leave its position half protected.
        lost = {leg: at_broker[leg] for leg in legs if leg not in by_id and leg in at_broker}
        requests |= {leg: order.request for leg, order in lost.items()}
        # The stop releases the staged entry and take-profit: it was sent when the broker has
        # it or acknowledged it, or when anything of the bracket filled (its ack may be lost).
        stop = requests.get(legs[2])
        sent = stop is not None and (legs[2] in found or legs[2] in lost or bool(history.fills)
                                     or by_id[legs[2]].broker_order_id is not None)
        if not sent or not all(leg in requests for leg in legs):
            # What the journal lost stays as the witness left it: the trader's.
            await self._report_incomplete_bracket(history, found, legs, by_id)
            return
        found = {**found, **lost}
        statuses = {leg: by_id[leg].status if leg in by_id else OrderStatus.WORKING
                    for leg in legs}
        actor = BracketActor.from_requests([requests[leg] for leg in legs],
                                           strategy=history.intent.strategy, risk=self._risk,
                                           arrival_mid=self._work(history).arrival_mid,
                                           ids=self._ids, leave_working=self._leave_working)
        await self._broker.subscribe_quotes(history.intent.contract)
        await actor.adopt(found, statuses, history.fills)
        await self._journal.record_note(NoteKind.INTENT_RESUMED,
                                        intent_id=history.intent.intent_id, policy="bracket",
                                        adopted=sorted(found), filled=history.filled,
                                        lost_legs=sorted(lost))
        log.info("bracket_adopted", intent_id=history.intent.intent_id, legs=sorted(found))

        async def run(report_to: Reports) -> None:
            try:
                await actor.follow()
            finally:
                for report in actor.reports():
                    report_to.send_nowait(report)

        self._resumed.append(Resumed(intent=history.intent, work=self._work(history),
                                     earlier=(), run=run, bracket=True))

    async def _report_incomplete_bracket(
        self, history: _History, found: Mapping[ClientOrderId, OpenOrder],
        legs: list[ClientOrderId], by_id: Mapping[ClientOrderId, JournaledOrder],
    ) -> None:
        intent = history.intent
        names = ("entry", "take-profit", "stop")
        journaled = [name for name, leg in zip(names, legs, strict=True) if leg in by_id]
        description = (f"bracket {intent.intent_id} was interrupted before all its legs were "
                       f"sent (journaled: {', '.join(journaled) or 'none'}); not adopted, "
                       f"{len(found)} staged order(s) cancelled")
        await self._journal.record_note(NoteKind.INTENT_INTERRUPTED, intent_id=intent.intent_id,
                                        filled=history.filled, quantity=intent.quantity,
                                        reason="bracket legs not all sent")
        log.warning("bracket_incomplete", intent_id=intent.intent_id, journaled=journaled)
        self._interrupted.append(ReconcileDifference(client_order_id=None,
                                                     description=description))
        if found:
            self._add(history, found, await self._only_cancels(history, found))

    # --- resuming --------------------------------------------------------------------------

    async def _resume(self, history: _History, found: Mapping[ClientOrderId, OpenOrder]) -> None:
        intent = history.intent
        # Its new orders are priced from quotes: subscribed now (an adopted order subscribes
        # too, but an intent may have nothing left working).
        await self._broker.subscribe_quotes(intent.contract)
        policy = self._route(intent)
        times = {o.request.client_order_id: at for o, at in history.orders}
        cancelling = [await self._cancelling(o, history, ladder_end=self._cancels[c])
                      for c, o in found.items() if c in self._cancels]
        working = [(c, o) for c, o in found.items() if c not in self._cancels]
        # A patience order or TWAP slice works one order at a time: the newest is carried on.
        # Any other is cancelled (never left working unowned), and so is an order resting
        # ahead of a TWAP's schedule, which the resumed plan lays out anew: only a slice of
        # it may take. Their fills count; the lots they held go back to the plan. Lots that
        # rested ahead and became their slice's order (by their ladder_stage notes) are that
        # slice's, carried on as its order, their place in the queue kept.
        twap = policy is Policy.TWAP
        ahead = _ahead_orders(history)
        # Read only for an order that may have become its slice's or is carried on.
        stage_notes = await self._stage_notes(history) if twap and (ahead or working) else []
        became = _became_slices(stage_notes, ahead)
        ahead -= became.keys()
        times |= became  # its ladder is the slice's, begun when it became the slice's
        carried = working[-1:] if working and working[-1][0] not in ahead else []
        cancelling += [await self._cancelling(o, history, ladder_end=True)
                       for c, o in working if (c, o) not in carried]
        current, told = None, None
        if carried:
            ((coid, order),) = carried
            work = self._work(history, policy=self._policy(intent))
            current = await self._adopt_patience(order, times.get(coid), work)
            told = _ladder_left(stage_notes, coid)
        remaining = intent.quantity - history.filled
        if twap:
            work_next, details = self._twap_plan(history, current, told, became=became.keys())
        else:
            work_next, details = self._patience_rest(history, current)
        await self._journal.record_note(
            NoteKind.INTENT_RESUMED, intent_id=intent.intent_id, policy=policy.value,
            strategy=intent.strategy, filled=history.filled, remaining=remaining,
            arrival_mid=self._work(history).arrival_mid,
            adopted=None if current is None else current[0].work.client_order_id, **details)
        log.info("intent_resumed", intent_id=intent.intent_id, policy=policy.value,
                 remaining=remaining, **details)
        flatten = intent.intent_id in self._roll_closes()

        async def run(report_to: Reports) -> None:
            for pending in cancelling:  # at once: a cancel asked for is never held
                await pending.run(self._risk, report_to)
            if flatten:
                await self._risk.send(FlattenIntent(intent_id=intent.intent_id))
            adopted = [] if current is None else [current]
            held_from = trio.current_time()
            hours = await self._when_open(intent, adopted, report_to)
            await work_next(report_to, hours, trio.current_time() - held_from)

        self._add(history, found, run)

    def _patience_rest(self, history: _History, current: tuple[PatienceActor, float] | None,
                       ) -> tuple[HeldRun, dict[str, object]]:
        """The adopted order from its stage, then what was never started: the unstarted
        orders of a chunked intent, or, when no order of it ever reached its ladder's end,
        the whole remaining quantity from the start of the ladder."""
        intent = history.intent
        limit = self._config.risk.max_order_quantity
        sizes = chunk_sizes(intent.quantity, limit)
        started = len(history.orders)
        last = history.orders[-1][0].request.client_order_id if history.orders else None
        ended = last is not None and self._cancels.get(last) is True
        if current is not None or ended:
            rest = sum(sizes[started:])
        else:
            rest = intent.quantity - history.filled
        work = self._work(history, policy=self._policy(intent))

        async def run(report_to: Reports, hours: SessionCalendar | None, held: float) -> None:
            if current is not None:
                actor, elapsed = current
                resumed_at = self._fit_adopted(actor, hours, elapsed, rest=rest)
                try:
                    await actor.run(adopted=True, elapsed=resumed_at)
                finally:
                    report_to.send_nowait(actor.handover())
            if rest > 0:
                settings = fit_patience(work.settings, rest, hours=hours, now=self._clock(),
                                        max_order_quantity=limit)
                await run_patience(attrs.evolve(work, quantity=rest, settings=settings),
                                   risk=self._risk,
                                   quotes=self._quotes.usable, report_to=report_to,
                                   leave_working=self._leave_working, max_order_quantity=limit,
                                   next_order_id=self._fresh_ids(work, history),
                                   why_unusable=self._quotes.problem)

        stage = None if current is None else current[1]
        return run, {"resumed_quantity": rest, "ladder_elapsed": stage}

    def _twap_plan(self, history: _History, current: tuple[PatienceActor, float] | None,
                   told: StagesTold | None, *, became: Collection[ClientOrderId],
                   ) -> tuple[HeldRun, dict[str, object]]:
        """The remaining slices over the rest of the horizon (measured from the intent's
        submission); a working slice is the first of them, its order worked on the ladder it
        journaled (``told``) while that lasts, else from the stage its time says."""
        intent = history.intent
        settings = self._config.execution_for(intent.strategy)
        elapsed = _seconds(self._now, history.record.submitted_at)
        begun, planned = _slices_begun(history, planned=settings.twap_slices, became=became)
        left = max(1, planned - begun + (current is not None))
        slices, horizon = _slices_left(settings, left, elapsed=elapsed)
        # The working slice's earlier fills are counted by the slice itself, not here.
        own = {} if current is None else {current[0].work.client_order_id}
        quantity = intent.quantity - sum(f.quantity for f in history.fills
                                         if f.client_order_id not in own)

        def shaped(slices: int, horizon: float) -> Work:
            work = self._work(history, quantity=quantity,
                              settings=attrs.evolve(settings, twap_slices=slices,
                                                    twap_horizon=horizon))
            if current is not None:
                work = attrs.evolve(work, client_order_id=current[0].work.client_order_id)
            return work

        rng = random.Random(f"{self._seed}:resume:{intent.intent_id}")

        async def run(report_to: Reports, hours: SessionCalendar | None, held: float) -> None:
            if quantity <= 0:
                return
            now_slices, now_horizon = slices, horizon
            submitted = history.record.submitted_at
            if settings.twap_carry and hours is not None and hours.known_from <= submitted:
                # Its horizon is session time: the open seconds since its submission count,
                # not the hours its market was closed (a restart then found it overdue).
                spent = hours.open_seconds(submitted, self._clock())
                now_slices, now_horizon = _slices_left(settings, left, elapsed=spent)
            elif held > 0 and not settings.twap_carry:
                # Held for the open: its horizon (wall time) ran on meanwhile, so it is
                # measured again there (overdue: one last ladder), never worked in full
                # after the wait.
                now_slices, now_horizon = _slices_left(settings, left, elapsed=elapsed + held)
            if (now_slices, now_horizon) != (slices, horizon):
                log.info("twap_resumed_at_open", intent_id=intent.intent_id, held=held,
                         slices=now_slices, horizon=now_horizon)
            work = shaped(now_slices, now_horizon)
            plan = (fit_twap(quantity, settings=work.settings, rng=rng, hours=hours,
                             now=self._clock())
                    or plan_twap(quantity, settings=work.settings, rng=rng))
            # The journaled ladder is followed only while it ends within the resumed first
            # slice: one longer (its slice drew a longer interval) would push back the slices
            # after it, the last past the horizon.
            first_end = later(self._clock(), plan.starts[0] + plan.durations[0])

            async def first_slice(slice_work: Work) -> ChildOrderReport:
                assert current is not None
                actor, since = current
                actor.reschedule(slice_work)
                try:
                    schedule = _journaled_schedule(told, self._clock(), until=first_end)
                    return await actor.run(adopted=True, elapsed=since, schedule=schedule)
                finally:
                    report_to.send_nowait(actor.handover())

            await run_twap(work, rng=rng, plan=plan,
                           slices_begun=max(0, planned - now_slices),
                           next_order_id=self._fresh_ids(work, history),
                           risk=self._risk, quotes=self._quotes.usable, report_to=report_to,
                           leave_working=self._leave_working,
                           max_order_quantity=self._config.risk.max_order_quantity,
                           why_unusable=self._quotes.problem,
                           first_slice=first_slice if current is not None else None)

        return run, {"slices": slices, "horizon": horizon, "resumed_quantity": max(quantity, 0)}

    # --- rolls -----------------------------------------------------------------------------

    def _roll_closes(self) -> set[IntentId]:
        """The closes of `Engine.roll`'s rolls (a flatten: sent even while HALTED); a hook's
        target closes as its other intents trade."""
        return {n.close_intent_id for n in self._roll_started if n.hook is None}

    async def _roll_notes(self) -> list[RollStarted]:
        """The ``roll_started`` notes: one that lost a field or holds a wrong one is a
        `JournalFormatError` naming it."""
        try:
            return [note_from_json(n, RollStarted, note=NoteKind.ROLL_STARTED.value)
                    for n in await self._journal.ask(Notes(NoteKind.ROLL_STARTED))]
        except JournalNoteError as e:
            raise JournalFormatError(self._config.journal.path, str(e)) from e

    async def _rolls(self) -> list[RollLeft]:
        left: list[RollLeft] = []
        ended = {n["open_intent_id"] for kind in (NoteKind.ROLL_INTERRUPTED,
                                                  NoteKind.ROLL_OPEN_SKIPPED)
                 for n in await self._journal.ask(Notes(kind))}
        legs: dict[IntentId, list[RollStarted]] = {}  # the notes of each open, by its id
        for note in self._roll_started:
            legs.setdefault(note.open_intent_id, []).append(note)
        for open_id, notes in legs.items():
            if open_id in ended or await self._journal.ask(HasIntent(open_id)):
                continue
            roll = await self._roll_left(open_id, notes)
            if roll is None:
                continue  # no close of it was journaled: nothing of the roll was sent
            if self._config.restart.resume:  # (closes that left it open: reported not done)
                left.append(roll)
            else:
                await self._report_roll(roll, notes[0])
        return left

    async def _roll_left(self, open_id: IntentId, notes: Sequence[RollStarted],
                         ) -> RollLeft | None:
        """The roll the ``notes`` (one per close) describe; None when no close was journaled."""
        histories = [await self._journal.ask(IntentHistory(n.close_intent_id)) for n in notes]
        journaled = [h for h in histories if h is not None]
        if not journaled:
            return None
        first, note = journaled[0].intent, notes[0]
        closes = tuple(RollClose(intent_id=n.close_intent_id,
                                 signed_quantity=n.close_signed_quantity if h is None
                                 else h.intent.signed_quantity,
                                 filled=0 if h is None else h.filled)
                       for n, h in zip(notes, histories, strict=True))
        return RollLeft(closes=closes, open_intent_id=open_id,
                        target=first.contract.for_month(note.to_expiry),
                        side=first.side.opposite if note.side is None else note.side,
                        strategy=first.strategy,
                        quantity=note.quantity, hook=note.hook,
                        policy=Policy.PATIENCE if note.hook is None else note.policy)

    async def _report_roll(self, roll: RollLeft, note: RollStarted) -> None:
        symbol = roll.target.symbol
        description = (f"roll of {symbol} from {note.from_expiry} to {note.to_expiry} "
                       f"stopped between its legs: {roll.closed} closed, none opened in "
                       f"{note.to_expiry}")
        await self._journal.record_note(NoteKind.ROLL_INTERRUPTED,
                                        close_intent_id=roll.closes[0].intent_id,
                                        open_intent_id=roll.open_intent_id, closed=roll.closed,
                                        symbol=symbol, to_expiry=note.to_expiry)
        log.warning("roll_interrupted", description=description)
        self._interrupted.append(ReconcileDifference(client_order_id=None,
                                                     description=description))


def _ids_after(first: ClientOrderId, history: _History, order_ids: OrderIds,
               ) -> Callable[[], ClientOrderId]:
    """Fresh order ids for a resumed intent: after every number it used (and ``first``)."""
    numbers: Iterator[int] = iter(range(history.last_sequence + 1, 1 << 30))
    fresh = (order_ids.for_intent(history.intent.intent_id, n) for n in numbers)
    unused = (coid for coid in fresh if coid != first)
    return lambda: next(unused)

