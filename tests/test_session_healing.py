"""The healing cycle after each session's close while the runner runs
(`hydra._session_healing`), on the simulator's oats hours and the virtual clock."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import trio
import trio.testing

from hydra import OATS, HydraConfig, OrderIntent, Policy, Side
from hydra._session_healing import AFTER_CLOSE, heal_after_each_close, next_close
from hydra.sim import SimBroker, open_sim_exchange
from tests.simulated import journal_notes, open_engine, quiet_oats
from tests.test_sessions import CT, hours_params, now_of, oats_week, open_hours_engine

MONDAY_1300 = dt.datetime(2026, 12, 7, 13, 0, tzinfo=CT)  # the day session closes at 13:20


def test_the_next_close_is_the_first_after_now() -> None:
    """Oats on Monday 2026-12-07: at 13:00 the day session's 13:20; at 13:20 itself (closed)
    the night session's, Tuesday 07:45; none past what the calendar knows."""
    week = oats_week()
    assert next_close([week], MONDAY_1300) == dt.datetime(2026, 12, 7, 13, 20, tzinfo=CT)
    assert next_close([week], dt.datetime(2026, 12, 7, 13, 20, tzinfo=CT)) == dt.datetime(
        2026, 12, 8, 7, 45, tzinfo=CT)
    assert next_close([week], week.known_until) is None
    assert next_close([], MONDAY_1300) is None


async def test_a_cycle_runs_a_second_after_each_close_and_only_on_new_fills(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A fill at 13:00; no cycle before the 13:20 close, one at 13:20:01, and none at the next
    close (Tuesday 07:45) with no newer fill."""
    journal = tmp_path / "j.sqlite"
    config = HydraConfig()
    async with open_sim_exchange(hours_params(MONDAY_1300), seed=1) as exchange:
        async with open_hours_engine(exchange, journal, config) as (engine, broker):
            report = await (await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS))).wait_done()
            assert report.filled == 1
            async with trio.open_nursery() as nursery:
                nursery.start_soon(functools.partial(
                    heal_after_each_close, engine, broker, [engine.in_front_month(OATS)],
                    settings=config.slippage,
                    now=lambda: exchange.timestamp(trio.current_time())))
                close = dt.datetime(2026, 12, 7, 13, 20, tzinfo=CT)
                await trio.sleep((close - now_of(exchange)).total_seconds() + AFTER_CLOSE / 2)
                assert journal_notes(journal, "heal_detected") == []
                await trio.sleep(AFTER_CLOSE)
                (detected,) = journal_notes(journal, "heal_detected")
                tuesday = dt.datetime(2026, 12, 8, 7, 46, tzinfo=CT)
                await trio.sleep((tuesday - now_of(exchange)).total_seconds())
                assert len(journal_notes(journal, "heal_detected")) == 1
                nursery.cancel_scope.cancel()
    assert detected["cycle_id"] == "heal-1"


async def test_without_hours_it_leaves_the_healing_to_the_end_of_the_run(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A broker that gives no hours (the simulator's default): it returns at once."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        async with open_engine(exchange, tmp_path / "j.sqlite") as engine:
            started = trio.current_time()
            await heal_after_each_close(engine, broker, [OATS],
                                        settings=HydraConfig().slippage,
                                        now=lambda: exchange.timestamp(trio.current_time()))
            assert trio.current_time() == started
