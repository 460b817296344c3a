"""The TWAP scheduler on the simulated exchange, behind a fake risk actor."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from decimal import Decimal

import attrs
import pytest
import trio

from hydra._contracts import OATS
from hydra._core._twap import plan_twap
from hydra._enums import Policy, Side
from hydra._ids import ClientOrderId, IntentId, client_order_id_for
from hydra._patience import Work
from hydra._quote_source import QuoteSource
from hydra._settings import Distance, ExecutionSettings
from hydra._twap_actor import _slice, run_twap
from hydra._worker_reports import collected, open_reports
from hydra.sim import OrderTicket, open_sim_exchange
from tests.simulated import FakeRisk, open_fake_risk, still_oats

INTENT = IntentId("int-t")
TWAP = ExecutionSettings(patience=60.0, slippage_guard=Distance.ticks(8), twap_slices=2,
                         twap_horizon=600.0, twap_jitter=0.0)


async def test_slices_over_the_order_limit_are_worked_in_orders_within_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """20 lots in two slices of 10 under a 4-lot limit: the first slice is three orders
    (4, 3, 3), one after another within its 300 s, each with a fresh client order id; the
    second order finds one lot at the ask and the next crowd spread two ticks wide, which it
    does not take before the deadline. The second slice starts at 300 s with the 2 lots
    carried over (4, 4, 4), and its last order takes the wide spread at the deadline. Each
    order tells the risk actor its slice: 1 of 2 for the first three, 2 of 2 after."""
    work = Work(intent_id=INTENT, client_order_id=client_order_id_for(INTENT, 1), contract=OATS,
                side=Side.BUY, quantity=20, policy=Policy.PATIENCE, settings=TWAP,
                arrival_mid=Decimal("350.125"))
    ids = (client_order_id_for(INTENT, n) for n in itertools.count(2))
    report_to, reports = open_reports()
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        async with open_fake_risk(exchange, OATS, max_order_quantity=4) as (risk, fake):
            source = QuoteSource(fake.broker.quote_nowait, max_age=10.0)
            with report_to:
                await run_twap(work, rng=random.Random(0), next_order_id=lambda: next(ids),
                               risk=risk, quotes=source.usable, report_to=report_to,
                               max_order_quantity=4, why_unusable=source.problem)
    children = collected(reports)
    assert [r.quantity for _, r in fake.placed] == [4, 3, 3, 4, 4, 4]
    assert [c.filled for c in children] == [4, 1, 3, 4, 4, 4]
    assert children[1].reason == "ladder ended at 350.25"
    assert [c.client_order_id for c in children] == [f"int-t.{n}" for n in range(1, 7)]
    starts = [t for t, _ in fake.placed]
    assert starts[3] == pytest.approx(300.0) and starts == sorted(starts)
    assert fake.prices()[-1] == Decimal("350.50") and starts[-1] < 600.0
    # Each order tells which slice it works: the first slice's three, then the second's.
    told = {told.client_order_id: told.slice for _, told in fake.told}
    assert [told[c.client_order_id] for c in children] == [(1, 2)] * 3 + [(2, 2)] * 3


async def _ahead_twap(*, ahead: int, sell_at: float | None, sell: int = 6,
                      crowd_bid_at: float | None = None, crowd_bid: str = "350.00",
                      crowd_cancel_at: float | None = None, spread_ticks: int = 1,
                      stop_at: float = math.inf) -> tuple[FakeRisk, list[int]]:
    """3 lots in three 200 s slices of 1 with ``twap_ahead`` ``ahead`` on still oats (one
    tick, 5 lots a level); a crowd sell of ``sell`` lots hits the bid at ``sell_at`` (None:
    never); another client bids 3 lots at ``crowd_bid`` at ``crowd_bid_at`` (None: never)
    and cancels them at ``crowd_cancel_at``; the TWAP is stopped at ``stop_at``. Returns the
    fake risk actor and each order's fills."""
    settings = attrs.evolve(TWAP, twap_slices=3, twap_ahead=ahead)
    work = Work(intent_id=INTENT, client_order_id=client_order_id_for(INTENT, 1), contract=OATS,
                side=Side.BUY, quantity=3, policy=Policy.PATIENCE, settings=settings,
                arrival_mid=Decimal("350.125"))
    ids = (client_order_id_for(INTENT, n) for n in itertools.count(2))
    report_to, reports = open_reports()
    async with open_sim_exchange(still_oats(spread_ticks=spread_ticks), seed=1) as exchange:
        async with open_fake_risk(exchange, OATS) as (risk, fake), trio.open_nursery() as crowd:
            async def at(when: float | None, act: Callable[[], object]) -> None:
                if when is not None:
                    await trio.sleep(when)
                    act()
            crowd.start_soon(at, sell_at, lambda: exchange.inject_flow(OATS, Side.SELL, sell))
            other = exchange.attach(lambda _: None)
            crowd.start_soon(at, crowd_bid_at, lambda: exchange.place(other, OrderTicket(
                client_order_id=ClientOrderId("crowd.1"), order_ref=IntentId("crowd"),
                symbol="ZO", side=Side.BUY, quantity=3, order_type="LMT",
                limit_price=Decimal(crowd_bid))))
            crowd.start_soon(at, crowd_cancel_at,
                             lambda: exchange.cancel(other, ClientOrderId("crowd.1")))
            source = QuoteSource(fake.broker.quote_nowait, max_age=10.0)
            with report_to, trio.move_on_at(stop_at):
                await run_twap(work, rng=random.Random(0), next_order_id=lambda: next(ids),
                               risk=risk, quotes=source.usable, report_to=report_to)
    return fake, [c.filled for c in collected(reports)]


async def test_a_slice_filled_early_rests_the_next_slices_lots_until_it_starts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With ``twap_ahead`` 1 the first slice takes the one-tick spread at its step (200/1.75 s)
    and is filled 30 ms later (the ack); the next slice's lot then rests at the bid, 350.00,
    never moved before that slice starts at 200 s. There the resting order becomes the
    slice's: not cancelled, not placed again, it is told the slice's ladder and steps (takes)
    at 200 s + the step; so on for the third slice. Three orders, three lots."""
    fake, fills = await _ahead_twap(ahead=1, sell_at=None)
    step = 200.0 / 1.75
    placed = [(t, r.quantity, r.limit_price) for t, r in fake.placed]
    assert [t for t, _, _ in placed] == pytest.approx([0.0, step + 0.030, 200 + step + 0.030])
    assert {(q, p) for _, q, p in placed} == {(1, Decimal("350.00"))}
    ahead = [r.client_order_id for _, r in fake.placed[1:]]
    assert fake.cancelled == []
    assert [c for _, c, _ in fake.modified] == ["int-t.1", *ahead]
    assert [t for t, _, _ in fake.modified] == pytest.approx([step, 200 + step, 400 + step])
    told = [(told.slice, told.stages[0][0]) for _, told in fake.told
            if told.client_order_id == ahead[0]]
    assert told == [((2, 3), "RESTING")] * 2 + [((2, 3), "STEPPED")]
    assert [t for t, told in fake.told if told.client_order_id == ahead[0]] == pytest.approx(
        [step + 0.030, 200.0, 200 + step])
    assert fills == [1, 1, 1]


async def test_lots_resting_ahead_keep_their_place_in_the_queue_when_their_slice_starts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The second slice's lot rests ahead at the bid from the first slice's fill (at
    200/1.75 s + 30 ms); another client bids 3 lots there at 150 s, behind it. At 250 s a
    crowd sell of 6 takes the 5 lots that were there first and then ours, still first of the
    rest: the order kept its place when its slice began at 200 s (cancelled and placed again,
    it would have queued behind the other client's 3 and not filled)."""
    fake, fills = await _ahead_twap(ahead=1, sell_at=250.0, crowd_bid_at=150.0)
    assert fills[:2] == [1, 1]  # the lot resting ahead filled, by the sell at 250 s
    ahead = fake.placed[1][1].client_order_id
    assert ahead not in {c for _, c, _ in fake.modified}  # filled resting, before its step
    assert fake.cancelled == [] and fills == [1, 1, 1]


async def test_lots_ahead_above_where_their_slice_would_rest_now_are_placed_again_there(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A three-tick spread (349.75 / 350.50), where the first slice rests one tick inside, at
    350.00; another client's bid at 350.25 then narrows it to one tick, which the slice takes
    at its step; the second slice's lot rests ahead at the crowd's bid, 350.25. The other
    client cancels at 150 s: the crowd's spread is three ticks again, where the second slice
    would rest one tick inside, at 350.00. So the order at 350.25 does not become the slice's
    (it would rest a tick above where a new one does): cancelled at 200 s, the slice placed
    at 350.00 once the cancel is confirmed."""
    fake, _ = await _ahead_twap(ahead=1, sell_at=None, spread_ticks=3, crowd_bid_at=0.0,
                                crowd_bid="350.25", crowd_cancel_at=150.0)
    step = 200.0 / 1.75
    placed = [(t, r.limit_price) for t, r in fake.placed[:3]]
    assert [t for t, _ in placed] == pytest.approx([0.0, step + 0.030, 200.030])
    assert [p for _, p in placed] == [Decimal("350.00"), Decimal("350.25"), Decimal("350.00")]
    ahead = fake.placed[1][1].client_order_id
    assert [c for _, c in fake.cancelled][:1] == [ahead]
    assert fake.cancelled[0][0] == pytest.approx(200.0)


async def test_a_twap_stopped_as_the_slice_of_its_lots_ahead_begins_cancels_them(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Stopped at exactly 200 s, the instant the lot resting ahead would become the second
    slice's order (its ladder over, the order kept for the slice): the order is cancelled
    then and reported once, with each order placed; nothing else is placed."""
    fake, fills = await _ahead_twap(ahead=1, sell_at=None, stop_at=200.0)
    ahead = fake.placed[1][1].client_order_id
    assert [(t, c) for t, c in fake.cancelled] == [(200.0, ahead)]
    assert len(fake.placed) == 2 and fills == [1, 0]


async def test_lots_filled_ahead_of_schedule_count_toward_the_slices_they_were_for(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A crowd sell of 6 at 150 s takes the bid's 5 crowd lots and the lot resting ahead: the
    second slice is then already filled and never placed, the third slice's lot rests ahead
    from exactly 200 s, and becomes the third slice's order at 400 s (not placed again)."""
    fake, fills = await _ahead_twap(ahead=1, sell_at=150.0)
    assert [t for t, _ in fake.placed] == pytest.approx([0.0, 200.0 / 1.75 + 0.030, 200.0])
    assert fake.cancelled == []
    assert fills == [1, 1, 1]


async def test_without_twap_ahead_a_filled_slice_idles_until_the_next(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``twap_ahead`` 0 (the default): after the first slice fills nothing is placed until
    the second slice starts at 200 s."""
    fake, fills = await _ahead_twap(ahead=0, sell_at=None)
    assert [t for t, _ in fake.placed] == [0.0, 200.0, 400.0]
    assert fills == [1, 1, 1]


def test_a_slice_holding_lots_of_the_slices_before_it_is_catching_up() -> None:
    """Three slices of 2: the second holding its own 2 is on schedule; holding 3 (one the
    first did not fill) it is catching up, so it takes a one-tick spread even first in the
    queue; holding 4 it is the intent's final order too."""
    work = Work(intent_id=INTENT, client_order_id=client_order_id_for(INTENT, 1), contract=OATS,
                side=Side.BUY, quantity=6, policy=Policy.PATIENCE,
                settings=attrs.evolve(TWAP, twap_slices=3), arrival_mid=Decimal("350.125"))
    plan = plan_twap(6, settings=work.settings, rng=random.Random(0))
    shaped = [_slice(work, plan, 1, quantity=q, client_order_id=client_order_id_for(INTENT, 2),
                     number=(2, 3), max_order_quantity=None) for q in (2, 3, 4)]
    assert [(s.catching_up, s.final) for s in shaped] == [(False, False), (True, False),
                                                          (True, True)]
