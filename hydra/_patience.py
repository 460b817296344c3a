"""The patience actor: works one quantity of one contract with limit orders, never a market one.

Rest at the crowd's near touch (one tick inside it when the crowd's spread is two ticks or
more), wait ``patience``; step toward the market, wait half; go to one tick short of the far
touch, wait a quarter; then cancel the rest (or leave it working, by config). The waits are
stretched to span ``deadline_share`` of the deadline when ``patience`` is shorter
(`ladder_patience`; a TWAP slice's span its interval instead; with ``stretch_rest`` the stretch
is stage 0's alone), and once the crowd's mid has moved ``chase_at`` of the slippage guard
against the order the ladder goes to its last stage at once (`chases`), keeping its end. Prices
come from the crowd's quote, our own order taken out of it (`hydra._core._ladder`), and are
clamped to the slippage guard. Within a stage the order is re-priced every ``REPEG_SECONDS``
(`repeg`), only ever toward the market: from the step on, when the crowd's touch moves away from
it, it follows; at stage 0 it rests where it was placed unless it can take. The far touch is
taken when the crowd's spread is one tick with size there (from the stage the urgency allows)
and the order is not first in the crowd's queue (where it is in the queue is estimated from the
quotes it sees, `hydra._core._crowd.track_ahead`; an order catching up for earlier slices takes
anyway), and, in the last stage of the intent's last order, whatever the spread. Every order,
modification and cancel goes through the risk actor; the waits are cancel scopes, so fills end
them early. Each stage begun with the order at the broker (its placement, a step, a chase, a
resumed ladder's first) is told to the risk actor with when each stage left ends (`StageBegun`):
the journal has it for the screens, which thus show what the ladder does, not what it would.

Nothing is priced from an unusable quote (crossed, one-sided, zero, NaN or stale: the
``quotes`` callable answers None, as `hydra._quote_source.QuoteSource.usable` does). Then a
working order rests where it is; an order not yet placed is placed at the first later moment
with a usable quote, at that stage's price; with none at any stage, nothing is sent and the
order ends CANCELLED with the reason. The report counts the stages that began without one.

The final cancel is confirmed within `CANCEL_CONFIRM_SECONDS`, or the order is reported as it
last was. A cancel the risk actor holds for a down broker link (`CancelHeld`) is not waited on
so: the order may still fill, so it is still the ladder's until the broker ends it, as the
reconnect's resync tells (what filled meanwhile), or as the cancel sent after it confirms,
within that limit again (`wait_over`). A ladder stopped meanwhile (its intent cancelled, a
kill) hands the order to its intent instead (`handover`), whose report waits for it.

A quantity above ``max_order_quantity`` is worked as consecutive orders within the limit
(`hydra._core._twap.chunk_sizes`), each through the whole ladder, stopping at one blocked.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal

import attrs
import structlog
import trio

from ._child_order import ChildOrder
from ._contracts import ContractSpec
from ._core._crowd import OwnOrder, alone_at_touch, queue_ahead, track_ahead
from ._core._ladder import (
    LadderStage,
    baseline_price,
    chases,
    ladder_price,
    ladder_wait,
    repeg,
)
from ._core._pricing import guard_limit, is_at_least_as_aggressive
from ._core._twap import chunk_sizes
from ._enums import OrderStatus, Policy, Side
from ._ids import ClientOrderId, IntentId, client_order_id_for, journal_id_of
from ._messages import (
    Blocked,
    CancelHeld,
    CancelOrder,
    CancelReleased,
    ModifyOrder,
    OrderAnswer,
    OwnerEvent,
    PlaceOrder,
    RiskMessage,
    StageBegun,
)
from ._orders import Fill, OrderRequest, TwapPart
from ._quotes import Quote
from ._reports import ChildOrderReport
from ._settings import ExecutionSettings
from ._worker_reports import Reports, Worked

log = structlog.get_logger()

CANCEL_CONFIRM_SECONDS = 10.0
"""How long the final cancel waits for the broker's confirmation before reporting it as sent
(a cancel held for the broker link waits for the order's end instead: `wait_over`)."""

CANCEL_HELD = "cancel held for the broker link: still working at the broker, it may fill"
"""What the report of an order says while its cancel is held (Hydra closed before the link
came back)."""

REPEG_SECONDS = 1.0
"""How often a ladder stage re-prices its order from the current quote."""

LADDER_LENGTH = 1.75
"""The ladder's total wait in units of ``patience`` (1 + 1/2 + 1/4)."""

Quotes = Callable[[ContractSpec], Quote | None]
"""A contract's quote now, or None when there is no usable one (nothing is priced then)."""

WhyUnusable = Callable[[ContractSpec], str | None]
"""Why a contract's quote was unusable when last asked (`QuoteSource.problem`)."""

Schedule = tuple[tuple[object, float], ...]
"""A ladder's stages left, each with when it ends on Trio's clock."""

NO_USABLE_QUOTE = "no usable quote"


def no_reason(_: ContractSpec) -> str | None:
    return None


@attrs.frozen(kw_only=True)
class Work:
    """One quantity to work: for a whole intent, or for one TWAP slice of it."""

    intent_id: IntentId
    client_order_id: ClientOrderId
    contract: ContractSpec
    side: Side
    quantity: int
    policy: Policy  # PATIENCE, CROSS or PASSIVE
    settings: ExecutionSettings
    arrival_mid: Decimal
    predicted_bps: Decimal | None = None
    final: bool = True  # the intent's last order: its last stage takes whatever the spread
    catching_up: bool = False  # a slice holding lots earlier slices did not fill: it takes a
    # one-tick spread even first in the queue
    slice: tuple[int, int] | None = None  # which of its TWAP's slices this is (k of n)
    ahead: bool = False  # lots ahead of a TWAP's schedule: rest at stage 0 only, never take


def stage_plan(policy: Policy, settings: ExecutionSettings, *, ahead: bool = False,
               ) -> tuple[tuple[object, float], ...]:
    """The (stage, wait) pairs a policy works through: the ladder, or one baseline stage;
    ``ahead`` (lots ahead of a TWAP's schedule): stage 0 alone, for ``patience``."""
    if ahead:
        return ((LadderStage.RESTING, settings.patience),)
    if policy is Policy.CROSS:
        return ((Policy.CROSS, settings.patience),)
    if policy is Policy.PASSIVE:
        return ((Policy.PASSIVE, settings.patience * LADDER_LENGTH),)
    return tuple((stage, ladder_wait(stage, settings=settings)) for stage in LadderStage)


def stages_after(plan: tuple[tuple[object, float], ...], elapsed: float,
                 ) -> tuple[tuple[object, float], ...]:
    """The stages of ``plan`` still to work ``elapsed`` seconds into it: the one it is at,
    with what is left of its wait, and those after it (none when the plan is over)."""
    left: list[tuple[object, float]] = []
    start = 0.0
    for stage, wait in plan:
        end = start + wait
        if end > elapsed:
            left.append((stage, end - max(start, elapsed)))
        start = end
    return tuple(left)


def stage_label(stage: object) -> str:
    """A ladder stage or baseline policy as the screens show it: "RESTING", "PASSIVE"."""
    return stage.name if isinstance(stage, LadderStage | Policy) else str(stage)


def stage_name(stage: object) -> str:
    """A ladder stage or baseline policy as a log line shows it: "resting", "passive"."""
    return stage.name.lower() if isinstance(stage, LadderStage | Policy) else str(stage)


def stage_price(stage: object, quote: Quote, work: Work, *, final: bool = False) -> Decimal:
    """The first limit price of ``stage`` (a ladder stage or a baseline policy) at ``quote``;
    ``final`` as for `ladder_price`."""
    if isinstance(stage, LadderStage):
        return ladder_price(work.side, quote, stage, settings=work.settings,
                            contract=work.contract, arrival_mid=work.arrival_mid, final=final)
    assert isinstance(stage, Policy)
    return baseline_price(stage, work.side, quote, settings=work.settings,
                          contract=work.contract, arrival_mid=work.arrival_mid)


class OwnedOrder:
    """One order and its owner's side of the risk actor's word on it: its events applied to
    ``child``, and its cancel's hold (`CancelHeld`, `CancelReleased`): while the cancel is
    held for the link the order may still fill, and is still its owner's (`wait_over`)."""

    def __init__(self, child: ChildOrder) -> None:
        self.child = child
        # Unbounded: the risk actor hands events over with send_nowait and must never wait on
        # one order; an order has few events (ack, a status or two, its fills).
        self.events_in, self._events = trio.open_memory_channel[OwnerEvent](math.inf)
        self._held = False  # the order's cancel is held for the broker link (`CancelHeld`)

    async def wait_done(self) -> None:
        """Apply the order's events until it is done."""
        await self._wait_until(lambda: self.child.done)

    async def _wait_until(self, condition: Callable[[], bool]) -> None:
        """Apply the order's events (and its cancel's hold) until ``condition`` holds."""
        while not condition():
            event = await self._events.receive()
            if isinstance(event, CancelHeld | CancelReleased):
                self._held = isinstance(event, CancelHeld)
            else:
                self.child.apply(event)

    async def _wait_answered(self) -> None:
        """After a cancel was asked: until the order is done or its cancel is held."""
        await self._wait_until(lambda: self.child.done or self._held)

    def _over(self) -> bool:
        """The broker has ended the order (a filled one whose fills risk refused as an
        anomaly never has them all in hand, and is over all the same)."""
        return self.child.done or self.child.status.is_final

    @property
    def unsettled(self) -> bool:
        """The order's cancel is held for the broker link and the broker has not ended it: it
        may still fill, and is still this owner's to report (`wait_over`)."""
        return self._held and not self._over()

    async def wait_over(self) -> None:
        """While the order's cancel is held for the link, wait for the order's end: the word
        of the reconnect's resync (what filled while down; an order gone from the broker is
        over), or the confirmation of the cancel sent after it, awaited for
        `CANCEL_CONFIRM_SECONDS` as any cancel's is."""
        while self.unsettled:
            await self._wait_until(lambda: not self._held or self._over())
            with trio.move_on_after(CANCEL_CONFIRM_SECONDS):
                await self._wait_until(lambda: self._held or self._over())

    def handover(self) -> Worked:
        """What the intent is given when this owner is done: the order's report, or the
        owner itself while the order is `unsettled` (the intent waits on `wait_over`)."""
        return self if self.unsettled else self.report()

    def report(self) -> ChildOrderReport:
        """The order's report; while its cancel is held, it says so (`CANCEL_HELD`)."""
        report = self.child.report()
        if not self.unsettled:
            return report
        return attrs.evolve(report, reason=CANCEL_HELD if report.reason is None
                            else f"{report.reason}; {CANCEL_HELD}")


class PatienceActor(OwnedOrder):
    def __init__(
        self,
        work: Work,
        *,
        risk: trio.MemorySendChannel[RiskMessage],
        quotes: Quotes,
        leave_working: Callable[[], bool],
        why_unusable: WhyUnusable = no_reason,
    ) -> None:
        super().__init__(ChildOrder(client_order_id=work.client_order_id,
                                    quantity=work.quantity))
        self.work = work
        self._risk = risk
        self._quotes = quotes
        self._why_unusable = why_unusable
        self._leave_working = leave_working
        self._placing: trio.MemoryReceiveChannel[OrderAnswer] | None = None  # answer awaited
        # A modification the risk actor has, its answer awaited: (its price, the answer).
        self._modifying: tuple[Decimal, trio.MemoryReceiveChannel[OrderAnswer]] | None = None
        self._placed = False  # the order is at the broker (placed here, or adopted)
        self._chased = False  # the market moved against the order: its ladder chased it
        self._told: object | None = None  # the stage last told to the risk actor (`StageBegun`)
        self.kept = False  # ``run(hold=True)`` ended its ladder with the order left working
        self._ahead: int | None = None  # crowd lots estimated ahead of it in the queue
        # When the order was last sent at its price: only a quote that changed since shows it.
        self._priced_at = -math.inf

    def take_over(self, price: Decimal, fills: Sequence[Fill]) -> None:
        """Own the order already working at the broker at ``price`` with ``fills`` so far (a
        restart adopts it): ``run(adopted=True)`` then steps it instead of placing one."""
        self.child.prices.append(price)
        self.child.status = OrderStatus.WORKING
        self.child.fills.extend(f for f in fills if f.client_order_id == self.child.client_order_id)

    def rests_for(self, slice_work: Work) -> bool:
        """True when this order, resting with others at the displayed touch or behind it,
        can become ``slice_work``'s: that slice's first stage, priced now from the crowd's
        quote (this order taken out of it), is at its price or toward the market from it.
        False alone at the touch: the crowd's touch is then only an estimate (a tick behind),
        and a new order placed once this one is cancelled prices from the real one, which
        may be further away (its place in the queue is first either way). False without a
        usable quote."""
        work, child = self.work, self.child
        quote = self._quotes(work.contract)
        if quote is None or not child.prices:
            return False
        own = OwnOrder(price=child.prices[-1], remaining=child.quantity - child.filled)
        if alone_at_touch(work.side, quote, own):
            return False
        price = ladder_price(work.side, quote, LadderStage.RESTING,
                             settings=slice_work.settings, contract=work.contract,
                             arrival_mid=work.arrival_mid, own=own, final=slice_work.final)
        return is_at_least_as_aggressive(work.side, price, own.price)

    def reschedule(self, slice_work: Work) -> None:
        """Work the ladder as ``slice_work`` says from now on: an adopted order that becomes a
        resumed TWAP's first slice, or lots rested ahead that become their slice's order, take
        the slice's patience and urgency, and are the intent's final order only when the slice
        is (else the last stage does not take a wide spread); the next stage is told anew."""
        self.work = attrs.evolve(self.work, settings=slice_work.settings, final=slice_work.final,
                                 catching_up=slice_work.catching_up, slice=slice_work.slice,
                                 ahead=slice_work.ahead)
        self._told = None

    async def place(self, price: Decimal) -> OrderAnswer:
        work = self.work
        request = OrderRequest(
            client_order_id=work.client_order_id, intent_id=work.intent_id,
            contract=work.contract, side=work.side, quantity=work.quantity, limit_price=price,
        )
        send, placing = trio.open_memory_channel[OrderAnswer](1)
        # A stop before the risk actor has the order sends nothing: no answer to wait for,
        # no price, nothing to cancel.
        await self._risk.send(PlaceOrder(
            request=request, arrival_mid=work.arrival_mid, predicted_bps=work.predicted_bps,
            owner=self.events_in, reply=send, part=_part(work),
        ))
        self.child.prices.append(price)
        self._placing = placing
        answer = await placing.receive()
        self._placing = None
        return answer

    async def modify(self, price: Decimal) -> OrderAnswer:
        """Move the order to ``price``; the price is the order's once the risk actor has sent
        the modification (a stop while its answer is awaited is settled by `_settle`)."""
        send, receive = trio.open_memory_channel[OrderAnswer](1)
        await self._risk.send(ModifyOrder(
            client_order_id=self.work.client_order_id, limit_price=price, reply=send,
        ))
        self._modifying = (price, receive)
        answer = await receive.receive()
        self._modifying = None
        self._modified(price, answer)
        return answer

    def _modified(self, price: Decimal, answer: OrderAnswer) -> None:
        if not isinstance(answer, Blocked):
            self.child.prices.append(price)

    async def run(self, *, adopted: bool = False, elapsed: float = 0.0,
                  schedule: Schedule | None = None, hold: bool = False) -> ChildOrderReport:
        """Work the ladder (``elapsed`` seconds into it: a restart resumes it at the stage it
        was at; or the stages of ``schedule`` and when each ends, on Trio's clock: a restart
        resumes a TWAP slice's order on the ladder it journaled); on the way out, settle the
        order whatever happened. A cancel held for the link is waited past (`wait_over`) when
        the ladder ended by itself; when the work was stopped, the order is left `unsettled`
        for its intent to wait on. ``hold``: a ladder that runs to its end with its order
        still working leaves it so (`kept`), and returns without a checkpoint after its last
        wait, for the caller to work on at once (`reschedule`, then ``run(adopted=True)``) or
        to `release`."""
        ended, self.kept = False, False
        try:
            self._placed = adopted
            ran_out = await self._ladder(self._schedule(elapsed) if schedule is None else schedule)
            ended = True
            self.kept = hold and ran_out and not self._over()
            if not self.kept:
                self._say_why_short()
        except trio.Cancelled as stop:
            self.child.reason = self.child.reason or await _why_stopped(stop)
            raise
        finally:
            if not self.kept:
                await self._settle_shielded(ladder_end=ended)
        if not self.kept:
            await self.wait_over()
        return self.report()

    async def release(self) -> ChildOrderReport:
        """Cancel the order a ``run(hold=True)`` `kept` working, as its ladder's end would
        have, and report it."""
        self.kept = False
        self._say_why_short()
        await self._settle_shielded(ladder_end=True)
        await self.wait_over()
        return self.report()

    async def _settle_shielded(self, *, ladder_end: bool) -> None:
        """`_settle`, shielded from a stop, for at most `CANCEL_CONFIRM_SECONDS`."""
        with trio.CancelScope(shield=True) as cleanup:
            cleanup.relative_deadline = CANCEL_CONFIRM_SECONDS
            await self._settle(ladder_end=ladder_end)

    def _say_why_short(self) -> None:
        """At the ladder's end with lots unfilled: the guard held it, or time ran out."""
        child, work = self.child, self.work
        if child.done or not self._placed or child.reason is not None:
            return
        price = child.prices[-1]
        guard = guard_limit(work.side, arrival_mid=work.arrival_mid,
                            guard=work.settings.slippage_guard,
                            tick_size=work.contract.tick_size)
        child.reason = (f"slippage guard reached at {guard}" if price == guard
                        else f"ladder ended at {price}")

    def _schedule(self, elapsed: float) -> Schedule:
        """The stages of the work's plan left ``elapsed`` seconds into it, with when each ends
        from now."""
        left = stages_after(stage_plan(self.work.policy, self.work.settings,
                                       ahead=self.work.ahead), elapsed)
        ends = itertools.accumulate((wait for _, wait in left), initial=trio.current_time())
        next(ends)  # the ladder's start (or where it resumes): each stage ends after it
        return tuple(zip((stage for stage, _ in left), ends, strict=True))

    async def _ladder(self, schedule: Schedule) -> bool:
        """Work the stages of ``schedule``; True when the last one ran to its end (not done,
        not refused, and not cut short by a chase: lots ahead, whose one stage is the last,
        end on a chase before their slice starts)."""
        for index, (stage, _) in enumerate(schedule):
            final = self.work.final and index == len(schedule) - 1
            if index < len(schedule) - 1 and self._chasing(stage):
                continue  # the market has moved away: on to the last stage, on its schedule
            if not await self._stage(schedule[index:], final=final):
                return False
        ran_out = not schedule or trio.current_time() >= schedule[-1][1]
        if not self._placed:
            self.child.status = OrderStatus.CANCELLED
            self.child.reason = (
                f"not sent: {NO_USABLE_QUOTE} at any stage ({self.child.quote_problem})"
            )
        return self._placed and ran_out

    async def _stage(self, schedule: Schedule, *, final: bool) -> bool:
        """Work the first stage of ``schedule`` (stages and when each ends) until its end (or,
        before the last stage, until the market has moved far enough against the order to
        chase it), re-pegging a ladder stage's order every `REPEG_SECONDS`; False when the
        order is done or risk refused it. Once the order is at the broker, the risk actor is
        told the schedule (`StageBegun`)."""
        stage, end = schedule[0]
        pegs = isinstance(stage, LadderStage)
        first = True
        while True:
            quote = self._usable_quote(count=first)  # None: a working order rests
            if quote is not None and not await self._price(stage, quote, final=final,
                                                           new_stage=first):
                return False
            if self._placed and self._told is not stage:
                await self._tell(schedule)
            if first:
                log.info("ladder_stage", client_order_id=self.work.client_order_id,
                         stage=stage_name(stage), price=self._resting(),
                         filled=self.child.filled,
                         unusable_quote=None if quote is not None else self.child.quote_problem)
                first = False
            until = min(end, trio.current_time() + REPEG_SECONDS) if pegs else end
            with trio.move_on_at(until):
                await self.wait_done()  # with nothing placed, no event comes: a plain wait
            if self.child.done:
                return False
            if trio.current_time() >= end or self._chasing(stage):
                return True

    async def _tell(self, schedule: Schedule) -> None:
        """Tell the risk actor that the order's ladder is at the first stage of ``schedule``,
        and when each stage of it ends."""
        self._told = schedule[0][0]
        await self._risk.send(StageBegun(
            client_order_id=self.work.client_order_id, intent_id=self.work.intent_id,
            stages=tuple((stage_label(stage), end) for stage, end in schedule),
            slice=self.work.slice))

    def _chasing(self, stage: object) -> bool:
        """True when ``stage`` is a ladder stage before the last and the crowd's mid has moved
        against the order by ``chase_at`` of the guard (`chases`); logged the first time."""
        work, child = self.work, self.child
        if not isinstance(stage, LadderStage) or stage is LadderStage.CROSSING:
            return False
        quote = self._quotes(work.contract)
        if quote is None:
            return False
        own = (OwnOrder(price=child.prices[-1], remaining=child.quantity - child.filled)
               if self._placed else None)
        if not chases(work.side, quote, own=own, settings=work.settings, contract=work.contract,
                      arrival_mid=work.arrival_mid):
            return False
        if not self._chased:
            self._chased = True
            log.info("ladder_chase", client_order_id=work.client_order_id, stage=str(stage),
                     mid=str(quote.mid), arrival_mid=str(work.arrival_mid))
        return True

    def _resting(self) -> str | None:
        return str(self.child.prices[-1]) if self._placed else None

    async def _price(self, stage: object, quote: Quote, *, final: bool, new_stage: bool,
                     ) -> bool:
        """Place the order at ``stage``'s price, or move it there when that is toward the
        market; False when risk refused it (or the run is dry)."""
        child, work = self.child, self.work
        if not self._placed:
            self._placed = await self._place_first(stage_price(stage, quote, work,
                                                               final=final))
            self._ahead, self._priced_at = None, trio.current_time()  # from the next quote
            return self._placed
        if not isinstance(stage, LadderStage):
            return True  # a baseline keeps its first price
        own = OwnOrder(price=child.prices[-1], remaining=child.quantity - child.filled)
        if quote.time > self._priced_at:  # an older (frozen) quote does not show our order
            self._ahead = track_ahead(self._ahead,
                                      queue_ahead(work.side, own.price, quote, own=own))
        # Catching up, the order takes what it can even first in the queue.
        ahead = None if work.catching_up else self._ahead
        price = repeg(work.side, quote, stage, own=attrs.evolve(own, ahead=ahead),
                      settings=work.settings, contract=work.contract,
                      arrival_mid=work.arrival_mid, final=final, new_stage=new_stage)
        if price is None:
            return True
        # Blocked (halted, out of the collar): stop stepping, settle what is working.
        if isinstance(await self.modify(price), Blocked):
            return False
        self._ahead, self._priced_at = None, trio.current_time()  # at its new price
        return True

    async def _place_first(self, price: Decimal) -> bool:
        """Place the order; False when risk refused it or the run is dry (nothing to work)."""
        answer = await self.place(price)
        if isinstance(answer, Blocked):
            self.child.block(answer.denials)
            return False
        if answer.dry:
            self.child.status, self.child.reason = OrderStatus.CANCELLED, "dry run"
            return False
        return True

    def _usable_quote(self, *, count: bool) -> Quote | None:
        """The quote to price from now; None when unusable (counted in the report when
        ``count``: at the start of a stage)."""
        quote = self._quotes(self.work.contract)
        if quote is None:
            self.child.quote_waits += count
            self.child.quote_problem = self._why_unusable(self.work.contract) or NO_USABLE_QUOTE
        return quote

    async def _settle(self, *, ladder_end: bool = False) -> None:
        """Cancel what is still working (or leave it, by config) and wait for the answer, or
        for the word that the cancel is held for the link; ``ladder_end``: the ladder ran out
        (else the work was stopped)."""
        child = self.child
        if self._placing is not None:  # cancelled while the risk actor had the order
            answer = await self._placing.receive()
            self._placing = None
            if isinstance(answer, Blocked):
                child.block(answer.denials)
            elif answer.dry:
                child.status, child.reason = OrderStatus.CANCELLED, "dry run"
        asked = await self._cancel_working(ladder_end=ladder_end)
        await self._modification_answered()
        if asked:
            await self._wait_answered()

    async def _cancel_working(self, *, ladder_end: bool) -> bool:
        """Ask the risk actor to cancel the order unless it is over or left working (by
        config); False when nothing was asked."""
        child = self.child
        if child.done or not child.prices:
            return False  # finished, refused, dry, or never sent
        if self.work.settings.leave_working or self._leave_working():
            child.status = OrderStatus.LEFT_WORKING
            return False
        try:
            await self._risk.send(CancelOrder(client_order_id=self.work.client_order_id,
                                              ladder_end=ladder_end))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return False  # the risk actor is gone (Hydra is failing): the journal has the order
        return True

    async def _modification_answered(self) -> None:
        """Take the answer of a modification the work was stopped in (after the cancel is
        asked: a cancel overtakes a modification still waiting to be sent, which is then
        answered as withdrawn): its price is the order's when it went to the broker."""
        if self._modifying is not None:
            price, answer = self._modifying
            self._modifying = None
            self._modified(price, await answer.receive())


def _part(work: Work) -> TwapPart | None:
    """The part of its TWAP's schedule ``work``'s order works (None: it works no TWAP)."""
    if work.slice is None:
        return None
    return TwapPart(slice=work.slice[0], slices=work.slice[1], ahead=work.ahead)


async def _why_stopped(stop: trio.Cancelled) -> str:
    """What stopped the work: the reason of the scope that cancelled it. A stage's own wait
    may time out at the instant an outer scope is cancelled, and the Cancelled then names the
    wait's deadline; outside that wait, the next checkpoint names the outer scope."""
    if stop.source == "deadline":
        try:
            await trio.lowlevel.checkpoint()
        except trio.Cancelled as outer:
            stop = outer
    return f"stopped: {stop.reason or stop.source}"


async def run_patience(
    work: Work,
    *,
    risk: trio.MemorySendChannel[RiskMessage],
    quotes: Quotes,
    report_to: Reports,
    leave_working: Callable[[], bool] = lambda: False,
    max_order_quantity: int | None = None,
    next_order_id: Callable[[], ClientOrderId] | None = None,
    why_unusable: WhyUnusable = no_reason,
) -> tuple[ChildOrderReport, ...]:
    """Work ``work`` through the ladder, as consecutive orders of at most ``max_order_quantity``
    (None: one order), stopping after one that risk blocked; returns their reports.

    Each order's report is sent to ``report_to`` when it is over, even when cancelled, so the
    intent's report accounts for every order; an order stopped while its cancel is held for
    the link is sent itself (`Unsettled`), for the intent to wait on. The first order is
    ``work.client_order_id``; later ones take ``next_order_id()``, by default the intent's
    orders 2, 3, … (`client_order_id_for`)."""
    sizes = chunk_sizes(work.quantity, max_order_quantity)
    ids = next_order_id or _later_ids(work)
    if len(sizes) > 1:
        log.info("order_chunked", intent_id=work.intent_id, quantity=work.quantity,
                 sizes=list(sizes), max_order_quantity=max_order_quantity)
    reports: list[ChildOrderReport] = []
    for index, size in enumerate(sizes):
        if index > 0:
            # A stop that came while the order before settled (its cancel shielded) ends the
            # chunks here: no order begun that could never be sent, reported as pending.
            await trio.lowlevel.checkpoint_if_cancelled()
        chunk = attrs.evolve(work, quantity=size,
                             client_order_id=work.client_order_id if index == 0 else ids())
        actor = PatienceActor(chunk, risk=risk, quotes=quotes, leave_working=leave_working,
                              why_unusable=why_unusable)
        try:
            reports.append(await actor.run())
        finally:
            report_to.send_nowait(actor.handover())
        if reports[-1].status is OrderStatus.BLOCKED:
            if index + 1 < len(sizes):
                log.warning("chunks_stopped", intent_id=work.intent_id,
                            unsent=sum(sizes[index + 1:]), reason=reports[-1].reason)
            break
    return tuple(reports)


def _later_ids(work: Work) -> Callable[[], ClientOrderId]:
    numbered: Iterator[ClientOrderId] = (
        client_order_id_for(work.intent_id, n, journal_id=journal_id_of(work.client_order_id))
        for n in itertools.count(2)
    )
    fresh = (coid for coid in numbered if coid != work.client_order_id)
    return lambda: next(fresh)
