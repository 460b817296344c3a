"""Attacks on lots resting ahead of a TWAP's schedule becoming their slice's order."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import pytest
import trio

from hydra._contracts import OATS
from hydra._enums import Policy, Side
from hydra._ids import IntentId, client_order_id_for
from hydra._patience import Work
from hydra._quote_source import QuoteSource
from hydra._reports import ChildOrderReport
from hydra._settings import Distance, ExecutionSettings
from hydra._twap_actor import run_twap
from hydra._worker_reports import collected, open_reports
from hydra.sim import open_sim_exchange
from tests.simulated import FakeRisk, open_fake_risk, still_oats

INTENT = IntentId("int-a")
TWAP = ExecutionSettings(patience=60.0, slippage_guard=Distance.ticks(8), twap_slices=3,
                         twap_horizon=600.0, twap_jitter=0.0, twap_ahead=1)


async def _twap(*, quantity: int = 3, arrival_mid: str = "350.125",
                flows: tuple[tuple[float, Side, int], ...] = (), stop_at: float = math.inf,
                max_order_quantity: int | None = None, fake_limits: dict[str, Any] | None = None,
                **settings: Any) -> tuple[FakeRisk, list[ChildOrderReport]]:
    """``quantity`` lots bought as a TWAP of 3 slices of 200 s with ``twap_ahead`` 1 (unless
    ``settings`` says otherwise) on still oats (350.00 / 350.25, 5 lots a level); each of
    ``flows`` is a crowd order of that side and size at that time. Returns the fake risk actor
    and every order's report, in the order they were sent."""
    work = Work(intent_id=INTENT, client_order_id=client_order_id_for(INTENT, 1), contract=OATS,
                side=Side.BUY, quantity=quantity, policy=Policy.PATIENCE,
                settings=attrs.evolve(TWAP, **settings), arrival_mid=Decimal(arrival_mid))
    ids = (client_order_id_for(INTENT, n) for n in itertools.count(2))
    report_to, reports = open_reports()
    async with open_sim_exchange(still_oats(), seed=1) as exchange:
        async with open_fake_risk(exchange, OATS, **(fake_limits or {})) as (risk, fake), \
                trio.open_nursery() as crowd:
            async def at(when: float, act: Callable[[], object]) -> None:
                await trio.sleep(when)
                act()
            for when, side, lots in flows:
                crowd.start_soon(at, when, lambda s=side, n=lots: exchange.inject_flow(OATS, s, n))
            source = QuoteSource(fake.broker.quote_nowait, max_age=10.0)
            with report_to, trio.move_on_at(stop_at):
                await run_twap(work, rng=random.Random(0), next_order_id=lambda: next(ids),
                               risk=risk, quotes=source.usable, report_to=report_to,
                               max_order_quantity=max_order_quantity,
                               why_unusable=source.problem)
            crowd.cancel_scope.cancel()
    return fake, collected(reports)


async def test_a_chase_while_lots_rest_ahead_does_not_start_their_slice_early(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The arrival mid (348.50) is 1.625 below the crowd's (350.125): past ``chase_at`` (0.75)
    of the 2.00 guard, so every ladder chases. The first slice goes to its last stage and takes
    the one-tick spread at once (filled at 30 ms); the second slice's lot then rests ahead at
    the bid. Its one stage ends on the chase at its first re-peg (1.03 s): the order is
    cancelled there, as before lots ahead could become their slice's order, and not handed to
    the second slice early: that slice starts at 200 s, the third at 400 s, as scheduled."""
    fake, children = await _twap(arrival_mid="348.50")
    placed = [(t, r.limit_price) for t, r in fake.placed]
    assert [t for t, _ in placed] == pytest.approx([0.0, 0.03, 200.0, 200.03, 400.0])
    assert [p for _, p in placed] == [Decimal("350.25"), Decimal("350.00")] * 2 + [
        Decimal("350.25")]
    assert [t for t, _ in fake.cancelled] == pytest.approx([1.03, 201.03])
    assert fake.modified == []
    assert [c.filled for c in children] == [1, 0, 1, 0, 1]
