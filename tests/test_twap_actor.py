"""The TWAP scheduler on the simulated exchange, behind a fake risk actor."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal

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
from tests.simulated import open_fake_risk, still_oats

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
