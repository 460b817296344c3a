"""The TWAP scheduler on the simulated exchange, behind a fake risk actor."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal

import attrs
import pytest
import trio

from hydra._contracts import OATS
from hydra._enums import Policy, Side
from hydra._ids import IntentId, client_order_id_for
from hydra._patience import Work
from hydra._quote_source import QuoteSource
from hydra._settings import Distance, ExecutionSettings
from hydra._twap_actor import run_twap
from hydra._worker_reports import collected, open_reports
from hydra.sim import open_sim_exchange
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


async def _ahead_twap(*, ahead: int, sell_at: float | None) -> tuple[FakeRisk, list[int]]:
    """3 lots in three 200 s slices of 1 with ``twap_ahead`` ``ahead`` on still oats (one
    tick, 5 lots a level); a crowd sell of 6 lots hits the bid at ``sell_at`` (None: never).
    Returns the fake risk actor and each order's fills."""
    settings = attrs.evolve(TWAP, twap_slices=3, twap_ahead=ahead)
    work = Work(intent_id=INTENT, client_order_id=client_order_id_for(INTENT, 1), contract=OATS,
                side=Side.BUY, quantity=3, policy=Policy.PATIENCE, settings=settings,
                arrival_mid=Decimal("350.125"))
    ids = (client_order_id_for(INTENT, n) for n in itertools.count(2))
    report_to, reports = open_reports()
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        async with open_fake_risk(exchange, OATS) as (risk, fake), trio.open_nursery() as crowd:
            if sell_at is not None:
                async def sell() -> None:
                    await trio.sleep(sell_at)
                    exchange.inject_flow(OATS, Side.SELL, 6)
                crowd.start_soon(sell)
            source = QuoteSource(fake.broker.quote_nowait, max_age=10.0)
            with report_to:
                await run_twap(work, rng=random.Random(0), next_order_id=lambda: next(ids),
                               risk=risk, quotes=source.usable, report_to=report_to)
    return fake, [c.filled for c in collected(reports)]


async def test_a_slice_filled_early_rests_the_next_slices_lots_until_it_starts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With ``twap_ahead`` 1 the first slice takes the one-tick spread at its step (200/1.75 s)
    and is filled 30 ms later (the ack); the next slice's lot then rests at the bid, 350.00,
    never moved, and is cancelled at exactly 200 s, when that slice starts (and, the cancel
    confirmed 30 ms later, works its lot itself); so on for the third slice."""
    fake, fills = await _ahead_twap(ahead=1, sell_at=None)
    step = 200.0 / 1.75
    placed = [(t, r.quantity, r.limit_price) for t, r in fake.placed]
    assert [t for t, _, _ in placed] == pytest.approx(
        [0.0, step + 0.030, 200.030, 200.030 + step + 0.030, 400.030])
    assert {(q, p) for _, q, p in placed} == {(1, Decimal("350.00"))}
    ahead = [fake.placed[1][1].client_order_id, fake.placed[3][1].client_order_id]
    assert [(t, c) for t, c in fake.cancelled] == [(200.0, ahead[0]), (400.0, ahead[1])]
    assert not {coid for _, coid, _ in fake.modified} & set(ahead)
    assert fills == [1, 0, 1, 0, 1]


async def test_lots_filled_ahead_of_schedule_count_toward_the_slices_they_were_for(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A crowd sell of 6 at 150 s takes the bid's 5 crowd lots and the lot resting ahead: the
    second slice is then already filled and never placed, the third slice's lot rests ahead
    from exactly 200 s, and the third slice itself starts at 400 s (its cancel confirmed)."""
    fake, fills = await _ahead_twap(ahead=1, sell_at=150.0)
    assert [t for t, _ in fake.placed] == pytest.approx(
        [0.0, 200.0 / 1.75 + 0.030, 200.0, 400.030])
    assert fills == [1, 1, 0, 1]


async def test_without_twap_ahead_a_filled_slice_idles_until_the_next(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``twap_ahead`` 0 (the default): after the first slice fills nothing is placed until
    the second slice starts at 200 s."""
    fake, fills = await _ahead_twap(ahead=0, sell_at=None)
    assert [t for t, _ in fake.placed] == [0.0, 200.0, 400.0]
    assert fills == [1, 1, 1]
