"""The TWAP scheduler: slices an intent over the horizon, each slice worked with patience.

Slice sizes and jittered start times come from `hydra._core._twap.plan_twap`. A slice works what
the plan has asked for so far less what has filled, so a short slice is made up by the next (and
a slice refused only because the link is down is made up after the reconnect). Each slice's
ladder is stretched or shortened to fill its whole interval (a slice worked as several orders
shares it out among them), and the last slice is the intent's final order: its last stage takes
what is left whatever the spread (the catch-up before the deadline). With ``twap_ahead`` above
0, a slice filled before its interval ends does not leave the worker idle: the next
``twap_ahead`` slices' lots (`lots_ahead`) rest at stage 0's price until the next slice starts,
at the lowest urgency so they never take and are never moved; their fills count toward the
slices they were for. At that start, an order still holding exactly the slice's lots, resting
with others at its price (or behind the touch) where the slice would rest now at its price or
toward the market (`PatienceActor.rests_for`), becomes the slice's order, keeping its place in
the queue (`PatienceActor.reschedule`: the slice's ladder and urgency from then on); any other
is cancelled and the schedule goes on (ahead of schedule is passive only; catching up, the
deadline and everything behind schedule are the slices' own). A slice above
``max_order_quantity`` is worked as consecutive orders within it. Each slice's work names its
place in the plan (``slice``, k of n; a resumed TWAP's numbered on after the slices begun before
the restart), which its orders tell with their ladder's stages, for the screens, and journal
with themselves (a `TwapPart`, ahead or not), for a restart. A slice blocked by risk (halted,
out of limits) ends the schedule early; lots ahead that risk refuses just do not rest, and the
slice is worked as if none had been asked. A slice (or lots ahead) whose order's cancel is held
for a down link is over only when that order is (`PatienceActor.wait_over`): what it filled
meanwhile is counted before the next slice is sized, so no lot it may still fill is worked
again.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

import attrs
import structlog
import trio

from ._core._twap import TwapPlan, chunk_sizes, lots_ahead, plan_twap
from ._enums import OrderStatus
from ._ids import ClientOrderId
from ._messages import RiskMessage
from ._patience import (
    LADDER_LENGTH,
    PatienceActor,
    Quotes,
    WhyUnusable,
    Work,
    no_reason,
    run_patience,
)
from ._reports import ChildOrderReport
from ._settings import Urgency
from ._worker_reports import Reports

log = structlog.get_logger()


async def run_twap(
    work: Work,
    *,
    rng: random.Random,
    plan: TwapPlan | None = None,
    next_order_id: Callable[[], ClientOrderId],
    risk: trio.MemorySendChannel[RiskMessage],
    quotes: Quotes,
    report_to: Reports,
    leave_working: Callable[[], bool] = lambda: False,
    max_order_quantity: int | None = None,
    why_unusable: WhyUnusable = no_reason,
    first_slice: Callable[[Work], Awaitable[ChildOrderReport]] | None = None,
    slices_begun: int = 0,
) -> None:
    """Work ``work.quantity`` as a TWAP; every slice's order reports go to ``report_to``.

    The first slice uses ``work.client_order_id``; later slices, and the later orders of a
    slice above ``max_order_quantity`` (None: no limit), take ``next_order_id()``. A restart
    passes ``first_slice``: it works the first slice with the order already at the broker
    (sending its report to ``report_to`` itself) instead of placing one; when that is the
    last slice, what the order did not fill of it (nor holds, left working) is worked next,
    in the slice's time left (at least 1.75 s, a ladder of a second's patience); an order
    whose ladder ran through that time has worked its lots, and only those it did not hold
    are. ``plan``
    (offsets from now) replaces the plan ``rng`` draws, as for a TWAP fitted into the
    sessions.
    ``slices_begun``: the slices of the intent's schedule begun before this plan (a resumed
    TWAP's), by which its slices are numbered on (slice 1 of the plan is that many + 1)."""
    plan = plan or plan_twap(work.quantity, settings=work.settings, rng=rng)
    start = trio.current_time()
    planned = filled = 0

    def numbers(index: int) -> tuple[int, int]:
        return slices_begun + index + 1, slices_begun + len(plan.sizes)

    async def work_orders(order: Work) -> tuple[ChildOrderReport, ...]:
        return await run_patience(
            order, risk=risk, quotes=quotes, report_to=report_to, leave_working=leave_working,
            max_order_quantity=max_order_quantity, next_order_id=next_order_id,
            why_unusable=why_unusable,
        )

    async def rest_ahead(order: Work) -> tuple[PatienceActor | None, ChildOrderReport]:
        """Rest ``order`` (lots ahead) until its slice starts; the actor when its order is
        still working then (`PatienceActor.kept`), for the slice to adopt or release."""
        actor = PatienceActor(order, risk=risk, quotes=quotes, leave_working=leave_working,
                              why_unusable=why_unusable)
        try:
            report = await actor.run(hold=True)
        finally:
            if not actor.kept:
                report_to.send_nowait(actor.handover())
        return (actor if actor.kept else None), report

    async def release(actor: PatienceActor) -> ChildOrderReport:
        try:
            return await actor.release()
        finally:
            report_to.send_nowait(actor.handover())

    held: PatienceActor | None = None  # lots ahead still resting as their slice starts
    counted = 0  # of the held order's fills, those already in ``filled``
    for index, (size, offset, duration) in enumerate(plan.slices()):
        lots = lots_ahead(plan.sizes, index, filled=filled, ahead=work.settings.twap_ahead,
                          max_order_quantity=max_order_quantity)
        if index > 0 and lots > 0 and trio.current_time() < start + offset:
            held, rested = await rest_ahead(_ahead(work, next_order_id(), lots,
                                                   numbers(index), until=start + offset))
            counted = rested.filled
            filled += counted
            if rested.status is OrderStatus.BLOCKED:
                # Lots ahead are optional: refused, they just do not rest (the slice is
                # its own).
                log.info("twap_ahead_refused", intent_id=work.intent_id, lots=lots,
                         reason=rested.reason)
        if held is None:
            await trio.sleep_until(start + offset)
        # else the lots ahead rested until now, the slice's start: no checkpoint until the
        # slice adopts or releases their order, so no stop can fall between
        planned += size
        slice_work: Work | None = None
        if held is not None:
            if held.child.quantity - held.child.filled == planned - filled:
                slice_work = _slice(work, plan, index, quantity=planned - filled,
                                    client_order_id=held.work.client_order_id,
                                    number=numbers(index), max_order_quantity=max_order_quantity)
            if slice_work is None or not held.rests_for(slice_work):
                # Not this slice's lots exactly (``twap_ahead`` above 1), alone at the touch,
                # or above where the slice would rest now: cancelled, its fills counted before
                # the slice is sized.
                filled += (await release(held)).filled - counted
                held = slice_work = None
                # Settled: a stop that came meanwhile ends the TWAP here, before another order.
                await trio.lowlevel.checkpoint_if_cancelled()
        if planned <= filled:
            continue
        if slice_work is None:
            slice_work = _slice(
                work, plan, index, quantity=planned - filled, number=numbers(index),
                client_order_id=work.client_order_id if index == 0 else next_order_id(),
                max_order_quantity=max_order_quantity)
        log.info("twap_slice", intent_id=work.intent_id, quantity=slice_work.quantity,
                 at=offset, adopted=held is not None)
        already = 0  # fills of the slice's orders counted before it began
        if held is not None:
            # The lots resting ahead are this slice's: the order keeps its place in the
            # queue and works on as the slice's (its part stays "ahead" in the journal; its
            # ladder_stage notes tell a restart it became the slice's, which carries it on).
            actor, held, already = held, None, counted
            actor.reschedule(slice_work)
            try:
                reports: tuple[ChildOrderReport, ...] = (await actor.run(adopted=True),)
            finally:
                report_to.send_nowait(actor.handover())
        elif index == 0 and first_slice is not None:
            reports = (await first_slice(slice_work),)
            adopted = reports[0]
            remaining = start + offset + duration - trio.current_time()
            # An order left working still holds its lots, and one whose ladder ran through
            # the slice's time (its journaled ladder) has worked them: only the others are
            # worked again.
            worked = adopted.status is OrderStatus.LEFT_WORKING or remaining <= 0
            rest = slice_work.quantity - (adopted.quantity if worked else adopted.filled)
            last = index == len(plan.sizes) - 1
            if last and rest > 0 and reports[0].status is not OrderStatus.BLOCKED:
                # No later slice makes up what the adopted order did not hold or fill.
                left = max(remaining, LADDER_LENGTH)
                orders = len(chunk_sizes(rest, max_order_quantity))
                reports += await work_orders(attrs.evolve(
                    slice_work, client_order_id=next_order_id(), quantity=rest,
                    settings=attrs.evolve(slice_work.settings,
                                          patience=left / LADDER_LENGTH / orders)))
        else:
            reports = await work_orders(slice_work)
        filled += sum(report.filled for report in reports) - already
        if _stops(work, reports[-1]):
            return


def _slice(work: Work, plan: TwapPlan, index: int, *, quantity: int,
           client_order_id: ClientOrderId, number: tuple[int, int],
           max_order_quantity: int | None) -> Work:
    """Slice ``index`` of ``plan`` (``number``: k of n) working ``quantity`` lots: its ladder
    spans its interval (shared among its orders within ``max_order_quantity``); it is the
    intent's final order when it is the last slice or carries a whole slice's lots more, and
    catching up when it carries any lot of the slices before it."""
    size, _, duration = plan.slices()[index]
    orders = len(chunk_sizes(quantity, max_order_quantity))
    last = index == len(plan.sizes) - 1
    return attrs.evolve(
        work, client_order_id=client_order_id, quantity=quantity,
        # Only the schedule's end may leave its rest working: a slice's rest is the next
        # slice's to work.
        settings=attrs.evolve(work.settings, patience=duration / LADDER_LENGTH / orders,
                              deadline_share=0.0,
                              leave_working=work.settings.leave_working and last),
        final=last or quantity >= 2 * size, catching_up=quantity > size, slice=number)


def _ahead(work: Work, client_order_id: ClientOrderId, lots: int, slice_number: tuple[int, int],
           *, until: float) -> Work:
    """``lots`` of the slices from ``slice_number`` (k of n) on, rested before that slice
    starts (at ``until``): stage 0 alone at the lowest urgency, so the order never takes."""
    settings = attrs.evolve(work.settings, patience=until - trio.current_time(),
                            urgency=Urgency.LOW, deadline_share=0.0, leave_working=False)
    return attrs.evolve(work, client_order_id=client_order_id, quantity=lots, settings=settings,
                        final=False, slice=slice_number, ahead=True)


def _stops(work: Work, report: ChildOrderReport) -> bool:
    """True when risk blocked the order for a reason that ends the schedule; a refusal only
    because the link is down leaves it to the next slice (which works this one's lots too)."""
    if report.status is not OrderStatus.BLOCKED:
        return False
    if set(report.denied_by) == {"session"}:
        log.warning("twap_slice_deferred", intent_id=work.intent_id)
        return False
    log.warning("twap_stopped", intent_id=work.intent_id, reason=report.reason)
    return True
