"""The patience worker on the simulated exchange, behind a fake risk actor: unusable quotes
price nothing, and a quantity above the order limit is worked in orders within it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import pytest
import structlog
import trio

from hydra._contracts import OATS
from hydra._core._ladder import LadderStage
from hydra._enums import OrderStatus, Policy, Side
from hydra._ids import ClientOrderId, IntentId, client_order_id_for
from hydra._patience import Work, run_patience, stage_plan, stages_after
from hydra._quote_source import QuoteSource
from hydra._reports import ChildOrderReport, ExecutionReport
from hydra._settings import Distance, ExecutionSettings
from hydra._worker_reports import collected, open_reports
from hydra.sim import BadQuotes, Gap, OrderTicket, StaleQuotes, open_sim_exchange
from tests.simulated import FakeRisk, open_fake_risk, still_oats

INTENT = IntentId("int-q")
LADDER = ExecutionSettings(patience=60.0, slippage_guard=Distance.ticks(8))
MAX_AGE = 10.0


def _work(quantity: int = 3, **changes: Any) -> Work:
    return Work(
        intent_id=INTENT, client_order_id=client_order_id_for(INTENT, 1), contract=OATS,
        side=Side.BUY, quantity=quantity, policy=Policy.PATIENCE,
        arrival_mid=Decimal("350.125"), **{"settings": LADDER, **changes},
    )


async def _run(
    faults: tuple[object, ...], work: Work, *, gaps: tuple[Gap, ...] = (), spread_ticks: int = 1,
    **kwargs: Any,
) -> tuple[list[ChildOrderReport], FakeRisk, list[dict[str, Any]], float]:
    """Work ``work`` on still oats (350.00 / 350.25, or ``spread_ticks`` wide) with
    ``faults``; the children, the fake risk actor, the captured logs and the virtual time it
    took."""
    limits = {"max_order_quantity": kwargs.get("max_order_quantity"),
              "allow": kwargs.pop("allow", None)}  # the fake enforces the same limit
    params = attrs.evolve(still_oats(spread_ticks=spread_ticks, gaps=gaps), faults=faults)
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_fake_risk(exchange, OATS, **limits) as (risk, fake):
            source = QuoteSource(fake.broker.quote_nowait, max_age=MAX_AGE)
            report_to, reports = open_reports()
            start = trio.current_time()
            with structlog.testing.capture_logs() as logs, report_to:
                await run_patience(work, risk=risk, quotes=source.usable, report_to=report_to,
                                   why_unusable=source.problem, **kwargs)
            return collected(reports), fake, logs, trio.current_time() - start


def _unusable(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"] == "quote_unusable"]


def _report(children: list[ChildOrderReport], quantity: int = 3) -> ExecutionReport:
    return ExecutionReport(intent_id=INTENT, symbol="ZO", side=Side.BUY, quantity=quantity,
                           arrival_mid=Decimal("350.125"), predicted_bps=None,
                           children=tuple(children))


async def test_a_usable_market_steps_and_fills_as_before(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With good quotes the order rests at 350.00, steps to the ask at 60 s and fills there."""
    children, fake, logs, took = await _run((), _work())
    (child,) = children
    assert child.prices == (Decimal("350.00"), Decimal("350.25")) == tuple(fake.prices())
    assert child.status is OrderStatus.FILLED and child.quote_waits == 0
    assert took == pytest.approx(60.030) and _unusable(logs) == []


async def test_a_stale_quote_is_never_priced_from_and_the_order_rests(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Quotes frozen from 10 s to 100 s while the market gaps up a point: through the step
    (60 s) and into the last stage (90 s) the bid rests at 350.00, nothing is priced from the
    frozen 350.00 / 350.25, and the episode is logged once; at 100 s the quote is fresh and
    the final stage takes the new ask, 351.25."""
    faults = (StaleQuotes(at=10, duration=90),)
    children, fake, logs, took = await _run(faults, _work(), gaps=(Gap(at=20, change="1.00"),))
    (child,) = children
    assert fake.prices() == [Decimal("350.00"), Decimal("351.25")]
    assert [(t, price) for t, _, price in fake.modified] == [(100.0, Decimal("351.25"))]
    assert child.status is OrderStatus.FILLED and fake.cancelled == []
    assert (child.quote_waits, child.quote_problem) == (2, "stale 89.0 s")
    assert [(e["symbol"], e["why"]) for e in _unusable(logs)] == [("ZO", "stale 11.0 s")]
    assert took == pytest.approx(100.030)
    report = _report(children)
    assert (report.quote_waits, report.quote_problem) == (2, "stale 89.0 s")


async def test_a_bad_quote_at_the_start_delays_the_first_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Crossed quotes for the first 75 s: nothing is placed at the start or at the step
    (60 s); at 75 s the quote is good again, and the step takes the one-tick spread's ask and
    fills. One log line for the episode, two stages that began without a quote."""
    faults = (BadQuotes(at=0, duration=75, problem="crossed"),)
    children, fake, logs, took = await _run(faults, _work())
    (child,) = children
    assert [(t, r.limit_price) for t, r in fake.placed] == [(75.0, Decimal("350.25"))]
    assert child.status is OrderStatus.FILLED
    assert (child.quote_waits, child.quote_problem) == (2, "crossed")
    assert [(e["symbol"], e["why"]) for e in _unusable(logs)] == [("ZO", "crossed")]
    assert [e["event"] for e in logs].count("quote_usable") == 1
    assert took == pytest.approx(75.030)


@pytest.mark.parametrize(("gap_at", "modified"), [
    (30.0, [(60.0, "351.00"), (90.0, "351.25")]),
    (70.0, [(60.0, "350.00"), (70.0, "351.00"), (90.0, "351.25")]),
])
async def test_from_the_step_on_the_order_follows_a_touch_that_moved_away(
    autojump_clock: trio.testing.MockClock, gap_at: float, modified: list[tuple[float, str]],
) -> None:
    """A 4-tick spread (349.50 / 350.50) gaps up a point. At stage 0 the bid rests one tick
    inside, at 349.75, where it was placed (following it would be chasing); from the step on
    it follows the touch within the second, and the last stage (not the intent's final order)
    rests one tick short of the new ask. Nothing fills, and the report says where it ended."""
    children, fake, _, took = await _run((), _work(final=False), spread_ticks=4,
                                         gaps=(Gap(at=gap_at, change="1.00"),))
    (child,) = children
    assert fake.prices()[0] == Decimal("349.75")
    assert [(t, str(price)) for t, _, price in fake.modified] == modified
    assert child.status is OrderStatus.CANCELLED and child.reason == "ladder ended at 351.25"
    assert fake.cancelled == [(105.0, child.client_order_id)] and took == pytest.approx(105.030)


async def test_a_small_intent_rests_through_its_share_of_the_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With a deadline of 700 s and ``deadline_share`` 1, the ladder of a
    60 s ``patience`` spans the whole deadline: the bid rests one tick inside the 4-tick
    spread for 400 s, steps at 400 s, goes one tick short of the ask at 600 s and is
    cancelled at 700 s (nothing trades in this still market)."""
    settings = attrs.evolve(LADDER, twap_horizon=700.0, deadline_share=1.0)
    children, fake, _, took = await _run((), _work(final=False, settings=settings),
                                         spread_ticks=4)
    (child,) = children
    assert fake.prices() == [Decimal("349.75"), Decimal("350.00"), Decimal("350.25")]
    assert [t for t, _, _ in fake.modified] == [400.0, 600.0]
    assert fake.cancelled == [(700.0, child.client_order_id)] and took == pytest.approx(700.030)


async def test_a_stretched_rest_joins_the_bid_and_steps_only_near_the_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With ``stretch_rest`` and a ``join_wait`` of 600 s the same ladder joins the crowd's
    bid of the 4-tick spread and rests there for 655 s, steps at 655 s, goes one tick short
    of the ask at 685 s and is cancelled at 700 s."""
    settings = attrs.evolve(LADDER, twap_horizon=700.0, deadline_share=1.0,
                            stretch_rest=True, join_wait=600.0)
    children, fake, _, took = await _run((), _work(final=False, settings=settings),
                                         spread_ticks=4)
    (child,) = children
    assert fake.prices() == [Decimal("349.50"), Decimal("350.00"), Decimal("350.25")]
    assert [t for t, _, _ in fake.modified] == [655.0, 685.0]
    assert fake.cancelled == [(700.0, child.client_order_id)] and took == pytest.approx(700.030)


def test_a_restart_resumes_a_stretched_rest_at_its_stage() -> None:
    """A ladder with ``stretch_rest`` restarted 1,760 s into a 1,800 s deadline resumes at
    its step with 25 s of it left, then its last stage's 15 s; at 100 s, at stage 0."""
    settings = attrs.evolve(LADDER, twap_horizon=1800.0, deadline_share=1.0,
                            stretch_rest=True)
    plan = stage_plan(Policy.PATIENCE, settings)
    assert stages_after(plan, 1760.0) == ((LadderStage.STEPPED, 25.0),
                                          (LadderStage.CROSSING, 15.0))
    assert stages_after(plan, 100.0)[0] == (LadderStage.RESTING, 1655.0)


async def test_a_move_against_the_order_sends_the_ladder_to_its_last_stage(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The market gaps 7 ticks up at 20.5 s, past ``chase_at`` (0.75) of the 8-tick guard
    from the arrival mid: at the next re-peg (21 s) the ladder leaves its resting stage for
    its last, and this final order takes the new ask, 352.00, inside the guard, and fills;
    one ``ladder_chase`` line says so."""
    children, fake, logs, took = await _run((), _work(), gaps=(Gap(at=20.5, change="1.75"),))
    (child,) = children
    assert [(t, str(price)) for t, _, price in fake.modified] == [(21.0, "352.00")]
    assert child.status is OrderStatus.FILLED and took == pytest.approx(21.030)
    chased = [e for e in logs if e["event"] == "ladder_chase"]
    assert [(e["stage"], e["mid"]) for e in chased] == [("0", "351.875")]


async def test_a_chase_before_the_deadline_never_takes_a_wide_spread(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A 4-tick spread gaps 7 ticks up at 20.5 s and the order is not the intent's last: the
    chase at 21 s moves it to one tick short of the new ask (352.00 against 352.25; the guard
    too), where it rests, alone at the bid, without chasing itself, until the ladder ends at
    105 s and the report says the guard held it."""
    children, fake, _, took = await _run((), _work(final=False), spread_ticks=4,
                                         gaps=(Gap(at=20.5, change="1.75"),))
    (child,) = children
    assert [(t, str(price)) for t, _, price in fake.modified] == [(21.0, "352.00")]
    assert child.status is OrderStatus.CANCELLED
    assert child.reason == "slippage guard reached at 352.00"
    assert fake.cancelled == [(105.0, child.client_order_id)] and took == pytest.approx(105.030)


async def test_a_move_short_of_the_chase_leaves_the_ladder_on_its_schedule(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A 5-tick gap up (1.25, short of the 1.50 chase) at 20.5 s: the bid rests at 350.00
    until the step at 60 s, which takes the one-tick spread's new ask, 351.50."""
    children, fake, logs, took = await _run((), _work(), gaps=(Gap(at=20.5, change="1.25"),))
    (child,) = children
    assert [(t, str(price)) for t, _, price in fake.modified] == [(60.0, "351.50")]
    assert child.status is OrderStatus.FILLED and took == pytest.approx(60.030)
    assert not [e for e in logs if e["event"] == "ladder_chase"]


async def test_no_usable_quote_at_any_stage_sends_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """One-sided quotes through the whole ladder: nothing is sent, and the order ends
    CANCELLED at the ladder's end (105 s) saying why."""
    faults = (BadQuotes(at=0, duration=200, problem="one-sided"),)
    children, fake, logs, took = await _run(faults, _work())
    (child,) = children
    assert fake.placed == [] and fake.cancelled == []
    assert child.status is OrderStatus.CANCELLED and child.prices == ()
    assert child.reason == "not sent: no usable quote at any stage (one-sided)"
    assert child.quote_waits == 3 and len(_unusable(logs)) == 1
    assert took == pytest.approx(105.0)


async def test_a_quantity_over_the_order_limit_is_worked_in_orders_within_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """12 lots under a 5-lot limit are three consecutive orders of 4, each with its own
    client order id and its own ladder; the report accounts for all three."""
    children, fake, _, took = await _run((), _work(12), max_order_quantity=5)
    assert [r.quantity for _, r in fake.placed] == [4, 4, 4]
    assert [c.client_order_id for c in children] == [
        ClientOrderId("int-q.1"), ClientOrderId("int-q.2"), ClientOrderId("int-q.3")
    ]
    # each starts once the one before it has filled (0 s, at 60 s, at 60 + 90 s)
    assert [t for t, _ in fake.placed] == pytest.approx([0.0, 60.030, 150.060])
    assert all(c.status is OrderStatus.FILLED for c in children)
    assert _report(children, 12).filled == 12 and took == pytest.approx(210.090)


async def test_a_stop_while_a_chunk_settles_begins_no_other_chunk(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """8 lots under a 5-lot limit, orders of 4, on a still two-tick market where nothing
    fills: the first order's ladder ends at 105 s and its cancel is confirmed at 105.03 s; a
    stop at 105.01 s lands in that shielded settle. The report has that order alone (it used
    to add the second, PENDING, no price, "stopped: deadline", though nothing was sent)."""
    params = still_oats(spread_ticks=2)
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_fake_risk(exchange, OATS, max_order_quantity=5) as (risk, fake):
            source = QuoteSource(fake.broker.quote_nowait, max_age=MAX_AGE)
            report_to, reports = open_reports()
            start = trio.current_time()
            with report_to, trio.move_on_at(start + 105.01):
                await run_patience(attrs.evolve(_work(8), final=False), risk=risk,
                                   quotes=source.usable, report_to=report_to,
                                   max_order_quantity=5)
            assert trio.current_time() - start == pytest.approx(105.03)
            children = collected(reports)
    assert [(c.client_order_id, c.status) for c in children] == [
        (ClientOrderId("int-q.1"), OrderStatus.CANCELLED)]
    assert len(fake.placed) == 1


async def test_chunks_stop_at_the_first_blocked_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """When risk blocks the second of three orders, the third is never sent; the report has
    the filled first order and the blocked second."""
    children, fake, _, _ = await _run((), _work(12), max_order_quantity=5, allow=1)
    assert len(fake.placed) == 1
    assert [c.status for c in children] == [OrderStatus.FILLED, OrderStatus.BLOCKED]
    report = _report(children, 12)
    assert report.filled == 4 and report.blocked
    assert report.block_reason == "trading_state HALTED violates limit: ACTIVE"


@pytest.mark.parametrize(("policy", "stages"), [
    (Policy.PATIENCE, ["resting", "stepped"]), (Policy.PASSIVE, ["passive"])])
async def test_each_stage_is_logged_by_its_name(
    autojump_clock: trio.testing.MockClock, policy: Policy, stages: list[str],
) -> None:
    """ladder_stage names the stage ("resting", "passive"), not an enum's repr or number."""
    _, _, logs, _ = await _run((), attrs.evolve(_work(), policy=policy))
    assert [e["stage"] for e in logs if e["event"] == "ladder_stage"][:len(stages)] == stages


def _told(fake: FakeRisk) -> list[tuple[float, tuple[tuple[str, float], ...]]]:
    return [(t, told.stages) for t, told in fake.told]


async def test_each_stage_begun_is_told_with_when_each_stage_left_ends(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Nothing fills in a 4-tick spread: the placement at 0 tells the whole ladder (RESTING
    to 60 s, STEPPED to 90 s, CROSSING to 105 s), the step at 60 s and the last at 90 s
    what is left of it; the re-pegs in between tell nothing."""
    _, fake, _, _ = await _run((), _work(final=False), spread_ticks=4,
                               gaps=(Gap(at=70.0, change="1.00"),))
    assert _told(fake) == [
        (0.0, (("RESTING", 60.0), ("STEPPED", 90.0), ("CROSSING", 105.0))),
        (60.0, (("STEPPED", 90.0), ("CROSSING", 105.0))),
        (90.0, (("CROSSING", 105.0),))]
    assert [told.slice for _, told in fake.told] == [None, None, None]


async def test_a_chase_tells_the_last_stage_keeping_the_ladders_end(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The market gaps against the order at 20.5 s: at 21 s the ladder is told at its last
    stage, which ends when the ladder would have (105 s)."""
    _, fake, _, _ = await _run((), _work(), gaps=(Gap(at=20.5, change="1.75"),))
    assert _told(fake) == [
        (0.0, (("RESTING", 60.0), ("STEPPED", 90.0), ("CROSSING", 105.0))),
        (21.0, (("CROSSING", 105.0),))]


async def test_an_order_placed_late_tells_the_stage_it_was_placed_in(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Crossed quotes for 75 s: nothing is told until the order is placed at 75 s, in its
    STEPPED stage (to 90 s, then CROSSING to 105 s); a ladder that never placed an order
    tells nothing."""
    _, fake, _, _ = await _run((BadQuotes(at=0, duration=75, problem="crossed"),), _work())
    assert _told(fake) == [(75.0, (("STEPPED", 90.0), ("CROSSING", 105.0)))]
    _, never, _, _ = await _run((BadQuotes(at=0, duration=200, problem="crossed"),), _work())
    assert never.placed == [] and never.told == []


async def _first_in_queue(work: Work) -> tuple[list[ChildOrderReport], FakeRisk]:
    """Work ``work`` on still oats two ticks wide (349.75 / 350.25, 5 lots a level): the bid
    goes one tick inside, alone at 350.00; at 10 s a crowd buy of one lot joins it there,
    behind it, so the crowd's spread is one tick with 5 lots offered; at 70 s a crowd sell
    of 3 lots comes."""
    async with open_sim_exchange(still_oats(spread_ticks=2), seed=1) as exchange:
        async with open_fake_risk(exchange, OATS) as (risk, fake), \
                trio.open_nursery() as crowd:
            async def act_at(when: float, act: Callable[[], object]) -> None:
                await trio.sleep(when)
                act()
            other = exchange.attach(lambda _: None)
            crowd.start_soon(act_at, 10.0, lambda: exchange.place(other, OrderTicket(
                client_order_id=ClientOrderId("crowd.1"), order_ref=IntentId("crowd"),
                symbol="ZO", side=Side.BUY, quantity=1, order_type="LMT",
                limit_price=Decimal("350.00"))))
            crowd.start_soon(act_at, 70.0, lambda: exchange.inject_flow(OATS, Side.SELL, 3))
            source = QuoteSource(fake.broker.quote_nowait, max_age=1000.0)
            report_to, reports = open_reports()
            with report_to:
                await run_patience(work, risk=risk, quotes=source.usable, report_to=report_to)
            crowd.cancel_scope.cancel()
    return collected(reports), fake


async def test_first_in_the_queue_the_step_waits_for_the_flow_instead_of_taking(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The bid improved the spread, so nobody is ahead of it; the crowd joined behind it and
    the crowd's spread is one tick. At the step (60 s) it does not take the ask (350.25): the
    next sell fills it at 350.00, at 70 s. (It took the ask at 60 s, 3 at 350.25.)"""
    children, fake = await _first_in_queue(_work(final=False))
    (child,) = children
    assert fake.prices() == [Decimal("350.00")] and fake.modified == []
    assert child.status is OrderStatus.FILLED
    assert [(f.price, f.quantity) for f in child.fills] == [(Decimal("350.00"), 3)]
    assert [t for t, _ in fake.placed] == [0.0]


async def test_an_order_catching_up_takes_the_one_tick_spread_even_first_in_the_queue(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The same order holding lots of slices before it (``catching_up``) takes the ask at the
    step, as before: 3 at 350.25 at 60 s."""
    children, fake = await _first_in_queue(_work(final=False, catching_up=True))
    (child,) = children
    assert fake.prices() == [Decimal("350.00"), Decimal("350.25")]
    assert [t for t, _, _ in fake.modified] == [60.0]
    assert [(f.price, f.quantity) for f in child.fills] == [(Decimal("350.25"), 3)]
