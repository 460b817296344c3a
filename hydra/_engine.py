"""The `Engine`: the handle programs hold on a running Hydra (`open_hydra` yields it).

It submits intents through the router (`hydra._router`), which starts their workers, and
carries out what a trader asks of the whole book: close a position, roll a month, cancel, kill,
resume, subscribe to events, read statistics. Orders reach the broker only through the risk
actor; the engine itself holds only the broker's market view.

A contract naming no month is put in its front month (`in_front_month`, with the months of
the trading day by the engine's clock: `hydra._front_months`) before anything is journaled or
sent, so the journal, the risk book, the broker and the reports all see the same month, and a
run that goes on past a roll date trades the new front month. An intent is put in it when the
router releases it (`Router.submit`): one held for an open that belongs to the next trading day
trades that day's front month, not the one of the day it was asked on. A roll naming no month
rolls from the month the position is held in (`Engine.roll`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs
import structlog
import trio

from ._bracket import BracketIntent
from ._codec import note_from_json
from ._contracts import BUILT_IN_CONTRACTS, ContractSpec
from ._core._front_month import in_front_month
from ._core._witness import Testimony
from ._enums import NoteKind, Policy, Side, TradingState
from ._errors import HydraError, InvalidValueError, JournalFormatError, JournalNoteError
from ._front_months import FrontMonths
from ._ids import IntentId, new_intent_id
from ._journal_actor import JournalClient
from ._journal_calls import ControlApplied, HealModel, LiveOrders, Notes
from ._messages import (
    EngineEvent,
    FlattenIntent,
    Kill,
    ReconcileDifference,
    ResumeTrading,
    RiskMessage,
)
from ._orders import Fill, OrderIntent
from ._publisher import EngineView, Subscribe, open_subscription
from ._quote_source import QuoteSource
from ._recovery import IntentHistory, Recovery
from ._reports import ExecutionReport
from ._roll_legs import RollLeft
from ._router import IntentHandle, Router
from ._settings import SlippageSettings
from .brokers import MarketView

if TYPE_CHECKING:
    from ._healing import HealingCycle

log = structlog.get_logger()


@attrs.frozen(kw_only=True)
class HookIntents:
    """A ``hook_intent`` note: the intents the strategy hook ``hook`` made, journaled before
    they are submitted (`Engine.record_hook_intents`)."""

    hook: str
    intent_ids: tuple[IntentId, ...]


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


class Engine:
    """What `open_hydra` yields. All order entry goes through its risk actor."""

    def __init__(
        self,
        *,
        router: Router,
        broker: MarketView,
        journal: JournalClient,
        risk: trio.MemorySendChannel[RiskMessage],
        publish: trio.MemorySendChannel[EngineEvent | Subscribe],
        view: EngineView,
        quotes: QuoteSource,
        front: FrontMonths,
        journal_path: str,
    ) -> None:
        self._router = router
        self._journal_path = journal_path  # what a damaged note's error names
        self._front = front
        self._broker = broker
        self._journal = journal
        self._risk = risk
        self._publish = publish
        self._view = view
        self._quotes = quotes
        self.interrupted: list[ReconcileDifference] = []  # found on restart, not resumed
        self._rolled: list[IntentHandle] = []  # the open legs a restart started for rolls
        self._rolls_left = 0  # rolls a restart is finishing whose open is not started yet
        self._rolls_started = trio.Event()

    @property
    def witness(self) -> Testimony:
        """What the broker showed at start (see `hydra._witness`)."""
        return self._router.witness

    def in_front_month(self, contract: ContractSpec) -> ContractSpec:
        """``contract`` in its front month today (by the engine's clock), when it names none."""
        return in_front_month(contract, self._front.today())

    def front_months(self) -> Mapping[str, str]:
        """Each product's front month today, by the engine's clock ("YYYYMM" by symbol)."""
        return self._front.today()

    async def front_months_at_release(self) -> Mapping[str, str]:
        """Each product's front month on the trading day an intent submitted now is released
        into ("YYYYMM" by symbol): today's while its market is open; while it is closed, the
        next open's (after 17:00 Chicago, the next trading day's: `Router.release_day`)."""
        months = {}
        for symbol, month in self._front.today().items():
            day = await self._router.release_day(BUILT_IN_CONTRACTS[symbol].for_month(month))
            months[symbol] = self._front.on(day)[symbol]
        return months

    @property
    def adopted(self) -> list[IntentHandle]:
        """The intents carried on from an earlier run (resumed, or only settled)."""
        return self._router.adopted

    async def carried_over(self, *, hook: str) -> list[IntentHandle]:
        """The intents of the strategy hook ``hook`` carried on from an earlier run (those
        `record_hook_intents` named for it): resumed or settled ones (`adopted`), and the open
        legs of the rolls the restart finished, once each of those is started (or found to
        open nothing: it waits for its closes)."""
        await self._rolls_started.wait()
        try:
            notes = [note_from_json(note, HookIntents, note=NoteKind.HOOK_INTENT.value)
                     for note in await self._journal.ask(Notes(NoteKind.HOOK_INTENT))]
        except JournalNoteError as e:
            raise JournalFormatError(self._journal_path, str(e)) from e
        mine = {i for note in notes if note.hook == hook for i in note.intent_ids}
        return [h for h in [*self._router.adopted, *self._rolled] if h.intent.intent_id in mine]

    async def record_hook_intents(self, hook: str, intents: Sequence[OrderIntent]) -> None:
        """Journal, before any of them is submitted, that ``intents`` are the strategy hook
        ``hook``'s (a restart gives them back to it: `carried_over`)."""
        await self._journal.record_note(NoteKind.HOOK_INTENT, hook=hook,
                                        intent_ids=[i.intent_id for i in intents])

    async def record_roll(self, closes: Sequence[OrderIntent], opening: OrderIntent, *,
                          hook: str) -> None:
        """Journal, before any of them is submitted, that the strategy hook ``hook`` rolls
        by ``closes`` then ``opening`` (one ``roll_started`` note per close): a restart
        between them opens what the closes let ``opening`` open (`hydra._roll_legs`)."""
        for close in closes:
            await self._journal.record_note(
                NoteKind.ROLL_STARTED, close_intent_id=close.intent_id,
                open_intent_id=opening.intent_id, symbol=close.contract.symbol,
                from_expiry=close.contract.expiry, to_expiry=opening.contract.expiry,
                close_side=close.side.value, close_quantity=close.quantity, hook=hook,
                side=opening.side.value, quantity=opening.quantity,
                policy=None if opening.policy is None else opening.policy.value)

    async def record_roll_open_skipped(self, opening: OrderIntent, *, reason: str) -> None:
        """Journal that a roll's open (`record_roll`) was not sent: a restart opens none."""
        await self._roll_open_skipped(opening.intent_id, reason=reason)

    async def record_roll_not_done(self, opening: OrderIntent, *, left_open: int) -> None:
        """Journal that a roll's open (`record_roll`) was not sent because its closes left
        ``left_open`` lots of the old month open (rejected, or the market closed: the position
        was never closed), and warn: the roll is not done (the hook's next run rolls again)."""
        await self._roll_not_done(opening.intent_id, symbol=opening.contract.symbol,
                                  to_expiry=opening.contract.expiry, left_open=left_open)

    async def _roll_not_done(self, open_id: IntentId, *, symbol: str, to_expiry: str | None,
                             left_open: int) -> None:
        reason = f"roll not done: its closes left {left_open} open (the position was not closed)"
        log.warning("roll_not_done", intent_id=open_id, symbol=symbol, to_expiry=to_expiry,
                    reason=reason)
        await self._roll_open_skipped(open_id, reason=reason)

    async def _roll_open_skipped(self, open_id: IntentId, *, reason: str) -> None:
        await self._journal.record_note(NoteKind.ROLL_OPEN_SKIPPED, open_intent_id=open_id,
                                        reason=reason)

    async def journaled_fills(self, intent_id: IntentId) -> tuple[Fill, ...]:
        """The fills the journal has of ``intent_id`` (none when it was never journaled)."""
        history = await self._journal.ask(IntentHistory(intent_id))
        return () if history is None else history.fills

    # --- submitting -----------------------------------------------------------------------------

    async def submit(self, intent: OrderIntent, *, deadline: dt.datetime | None = None,
                     ) -> IntentHandle:
        """Journal ``intent`` (in the front month of the trading day it is released into,
        when it names none) and start working it; returns at once with its handle. While its
        market is closed it waits for the open, or is refused (``outside_hours``; an open
        after ``deadline`` refuses it too), see `Router.submit`."""
        return await self._router.submit(intent, deadline=deadline, month=self._in_front_month)

    def _in_front_month(self, intent: OrderIntent) -> OrderIntent:
        """``intent`` in its front month now, when it names none."""
        return attrs.evolve(intent, contract=self.in_front_month(intent.contract))

    async def submit_bracket(self, bracket: BracketIntent) -> IntentHandle:
        """Send an entry with its take-profit and protective stop; the handle reports when the
        bracket is over (the entry ended unfilled, or an exit filled and OCA cancelled the
        other) or when it is cancelled. A bracket naming no month trades its front month."""
        contract = self.in_front_month(bracket.contract)
        return await self._router.submit_bracket(attrs.evolve(bracket, contract=contract))

    async def was_submitted(self, intent_id: IntentId) -> bool:
        """True when the journal has ``intent_id`` (from this run or an earlier one), or the
        broker showed an order or execution of it at start (the journal may have lost it)."""
        return await self._router.was_submitted(intent_id)

    async def close_position(
        self, contract: ContractSpec, *, strategy: str = "default",
        intent_id: IntentId | None = None,
    ) -> IntentHandle:
        """Flatten the broker's position in ``contract`` (its front month when it names none),
        worked with patience (never TWAP).

        Brackets in the same symbol are cancelled first (their exits would otherwise outlive
        the position they protect and open a new one); this works while HALTED too."""
        contract = self.in_front_month(contract)
        await self._cancel_brackets(contract.symbol)
        quantity = await self._position(contract)
        if quantity == 0:
            where = contract.symbol if contract.expiry is None else (
                f"{contract.symbol} {contract.expiry}")
            raise InvalidValueError("contract", where, "has no position to close")
        side = Side.SELL if quantity > 0 else Side.BUY
        intent_id = intent_id or new_intent_id()
        await self._risk.send(FlattenIntent(intent_id=intent_id))  # allowed even when HALTED
        return await self.submit(OrderIntent(
            contract=contract, side=side, quantity=abs(quantity), strategy=strategy,
            policy=Policy.PATIENCE, intent_id=intent_id,
        ))

    async def _cancel_brackets(self, symbol: str) -> None:
        handles = [h for h in self._router.every_handle()  # adopted at a restart too
                   if h.intent.intent_id in self._router.brackets
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
        ``to_expiry`` (both worked with patience). Naming no month, it rolls from the month
        the position is held in: the earliest held before ``to_expiry`` (in the roll window
        the front month has moved on while the position has not), else the front month. The
        second report is None when nothing of the close filled; a partly filled close rolls
        only what filled. An open not sent because the run is dry or because it was refused
        (which is raised) is journaled as skipped, as the runner's are."""
        target = contract.for_month(to_expiry)  # a bad month is refused before any question
        contract = await self._month_to_roll(contract, to_expiry=to_expiry)
        if contract.expiry is None:
            raise InvalidValueError("contract", contract.symbol,
                                    "must name the delivery month to roll from")
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
            if closing.dry_run:  # (a close left working may still fill: a restart opens it)
                await self._roll_open_skipped(open_id, reason="dry run: nothing was sent")
            return closing, None
        try:
            opening = await self.submit(OrderIntent(
                contract=target, side=closing.side.opposite, quantity=closing.filled,
                strategy=strategy, policy=Policy.PATIENCE, intent_id=open_id,
            ))
        except HydraError as e:
            await self._roll_open_skipped(open_id, reason=f"refused: {e}")
            raise
        return closing, await opening.wait_done()

    async def _month_to_roll(self, contract: ContractSpec, *, to_expiry: str) -> ContractSpec:
        if contract.expiry is not None:
            return contract
        held = sorted(p.contract.expiry for p in await self._broker.positions()
                      if p.quantity and p.contract.symbol == contract.symbol
                      and p.contract.expiry is not None and p.contract.expiry < to_expiry)
        return contract.for_month(held[0]) if held else self.in_front_month(contract)

    async def _position(self, contract: ContractSpec) -> int:
        """The broker's signed position in ``contract`` (its delivery month, when it has one;
        a position the broker names no month of is its product's only one)."""
        return sum(
            position.quantity for position in await self._broker.positions()
            if position.contract.symbol == contract.symbol
            and (None in (contract.expiry, position.contract.expiry)
                 or position.contract.expiry == contract.expiry)
        )

    def cancel(self, intent_id: IntentId) -> None:
        """Stop working one intent, submitted by this run or carried on from an earlier one
        (its order is cancelled; its report still comes)."""
        for handle in self._router.every_handle():
            if handle.intent.intent_id == intent_id:
                handle.cancel()
                return
        raise InvalidValueError("intent_id", intent_id, "is not worked by this engine")

    async def cancel_all(self) -> None:
        """Stop every intent and wait until each has reported."""
        handles = self._router.every_handle()
        for handle in handles:
            handle.cancel()
        for handle in handles:
            await handle.wait_done()

    async def kill(self, reason: str = "kill switch") -> None:
        """Halt trading and cancel every working entry order; new orders are refused until
        `resume`. Protective stops of open positions stay working (and so do the brackets
        that own them); `close_position` may still flatten. Returns once every intent has
        stopped working: one whose order's cancel is held for a down link reports when the
        reconnect's resync ends that order."""
        await self._halt(reason, NoteKind.KILL_SWITCH)

    async def halt_strategy(self, reason: str) -> None:
        """Halt as `kill` does, latched and journaled as ``strategy_halted`` (the runner's
        strategy hook failed too often in a row), not as a trader's kill; `resume` clears it."""
        await self._halt(reason, NoteKind.STRATEGY_HALTED)

    async def record_hook_error(self, hook: str, reason: str, *, failures: int) -> None:
        """Journal that a call of the strategy hook ``hook`` failed (``failures`` in a row)."""
        await self._journal.record_note(NoteKind.HOOK_ERROR, hook=hook, reason=reason,
                                        failures=failures)

    async def _halt(self, reason: str, cause: NoteKind) -> None:
        done = trio.Event()
        await self._risk.send(Kill(reason=reason, done=done, cause=cause))
        await done.wait()
        handles = [h for h in self._router.every_handle()
                   if h.intent.intent_id not in self._router.brackets]
        for handle in handles:
            handle.cancel(reason=f"{cause.replace('_', ' ')}: {reason}")
        for handle in handles:  # an order whose cancel is held for the link reports later
            await handle.wait_stopped()

    async def resume(self, *, reason: str) -> None:
        """Clear the kill switch and every latched breaker (journaled with ``reason``). A
        breaker whose limit is still exceeded trips again at once."""
        if not reason.strip():
            raise InvalidValueError("reason", reason, "must say why trading resumes")
        done = trio.Event()
        await self._risk.send(ResumeTrading(reason=reason, done=done))
        await done.wait()

    async def heal_model(self, settings: SlippageSettings) -> HealingCycle | None:
        """One healing cycle of the slippage model over the journal, through the journal
        actor (see `hydra._model_journal.heal`); None when no fill is newer than the last
        cycle saw."""
        return await self._journal.ask(HealModel(settings=settings))

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
        handles = self._router.every_handle()
        reports = [h.report for h in handles if h.report is not None]
        return EngineStatistics(
            submitted=len(self._router.handles), working=len(handles) - len(reports),
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

    async def recover(self, recovery: Recovery) -> None:
        """Carry on from what a previous run left at the broker and in the journal
        (`hydra._recovery`): nothing is sent again, a cancel asked for is completed, brackets
        are adopted as brackets, interrupted intents resumed (or reported, by config)."""
        recovered = await recovery.run()
        for difference in recovered.interrupted:
            self.interrupted.append(difference)
            self._publish.send_nowait(difference)
        resumed = {item.intent.intent_id: self._router.start_resumed(item)
                   for item in recovered.resumed}
        self._rolls_left = len(recovered.rolls)
        if not recovered.rolls:
            self._rolls_started.set()
        for roll in recovered.rolls:
            closing = {c.intent_id: resumed[c.intent_id] for c in roll.closes
                       if c.intent_id in resumed}
            self._router.start_soon(self._open_rolled, roll, closing)

    async def _open_rolled(self, roll: RollLeft, closing: Mapping[IntentId, IntentHandle],
                           ) -> None:
        """Open what a roll's closes let it (`RollLeft.to_open`), once the closes (resumed,
        or done) are over."""
        try:
            filled = {i: (await handle.wait_done()).filled for i, handle in closing.items()}
            quantity = roll.to_open(filled)
            if quantity == 0:  # the closes left the old month open: the position was not closed
                await self._roll_not_done(roll.open_intent_id, symbol=roll.target.symbol,
                                          to_expiry=roll.target.expiry,
                                          left_open=roll.left_open(filled))
                return
            closes = [close.intent_id for close in roll.closes]
            await self._journal.record_note(
                NoteKind.INTENT_RESUMED, intent_id=roll.open_intent_id,
                roll_of=closes[0] if len(closes) == 1 else closes, quantity=quantity)
            log.info("roll_resumed", close_intent_id=closes[0], quantity=quantity,
                     hook=roll.hook)
            opening = OrderIntent(contract=roll.target, side=roll.side, quantity=quantity,
                                  strategy=roll.strategy, policy=roll.policy,
                                  intent_id=roll.open_intent_id)
            try:
                self._rolled.append(await self.submit(opening))
            except HydraError as e:  # refused as a new intent is: not retried at a restart
                log.error("roll_open_refused", intent_id=opening.intent_id, error=str(e))
                await self.record_roll_open_skipped(opening, reason=str(e))
        finally:
            self._rolls_left -= 1
            if self._rolls_left == 0:
                self._rolls_started.set()
