"""Attacks on the paths a restart resumes a TWAP by (hydra._recovery with hydra._twap_actor and
hydra._patience): a restart while its market is closed, a SIGTERM while a resumed ladder works,
and many TWAPs resumed by one restart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pytest
import trio
import trio.testing

from hydra import OATS, ExecutionSettings, HydraConfig, OrderIntent, Side
from hydra._journal import Journal
from hydra._settings import RiskLimits, WorkingHours
from hydra.sim import ScriptedFlow, SimExchange, SimParams, open_sim_exchange
from tests.journal_surgery import crash_from
from tests.simulated import journal_notes, open_engine, quiet_oats
from tests.test_sessions import CT, ct, now_of

INTENT = "twap"


def _hours_oats(start: dt.datetime) -> SimParams:
    """Quiet one-tick oats (350.00 / 350.25, 5 lots a level) whose exchange opens its
    simulation at ``start`` and keeps the hours."""
    return attrs.evolve(quiet_oats(spread_ticks=1), session_start=start.astimezone(dt.UTC),
                        sessions=True)


async def _crash(exchange: SimExchange, path: Path, config: HydraConfig, seconds: float
                 ) -> None:
    """Buy 15 as a TWAP at the simulation's start; the journal dies ``seconds`` later (the
    process with it), and the finalizer gives up 10 s after that."""
    with pytest.raises(BaseExceptionGroup):
        async with open_engine(exchange, path, config,
                               offload=crash_from(exchange.origin + seconds)) as engine:
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=15,
                                            intent_id=INTENT))
            await trio.sleep_until(exchange.origin + seconds)
            await engine.record_control("crash")  # the first write after the crash


def _fills_ct(exchange: SimExchange) -> list[tuple[str, int]]:
    """Every execution, Chicago time to the second, with its lots."""
    return [(f.time.astimezone(CT).strftime("%d %H:%M:%S"), f.quantity)
            for f in exchange.executions_since(exchange.params.session_start)]


def _last_status_ct(path: Path) -> str:
    """When the intent's last order status was journaled, Chicago time to the second."""
    journal = Journal.open_read_only(path)
    try:
        (at,) = journal._db.execute(
            "SELECT max(recorded_at) FROM events WHERE kind = 'status' AND client_order_id"
            " LIKE ?", (f"%:{INTENT}.%",)).fetchone()
    finally:
        journal.close()
    return dt.datetime.fromisoformat(at).astimezone(CT).strftime("%d %H:%M:%S")


# --- 1. a restart while the market is closed -------------------------------------------------


@pytest.mark.parametrize(("start", "hours", "horizon", "crash_at", "restart", "expected"), [
    # Liquid hours (08:30-13:20): submitted at 13:10 with an hour's horizon (ending 14:10),
    # its plan cut at 13:19:55 by the close; the restart at 13:30 is before the horizon's end,
    # the next open (08:30) after it: overdue there, one last ladder (105 s). Slice 2's order,
    # its ladder long over, is cancelled at the open and the 10 lots left go as order 3 on it.
    # It used to be laid out over the 2400 s the horizon had left at the restart, from the
    # open: the last lots filled at 09:01:25 on a ladder to 09:10, 19 hours after its end.
    (ct(2, 13, 10), WorkingHours.LIQUID, 3600.0, 250.0, ct(2, 13, 30),
     ([("02 13:11:53", 5), ("03 08:31:00", 5), ("03 08:31:30", 5)], "03 08:31:30",
      [("FILLED", 5, 5), ("CANCELLED", 5, 0), ("FILLED", 10, 10)])),
    # Trading hours (the grains' break 07:45-08:30): submitted at 07:30 with a two-hour
    # horizon (ending 09:30), its plan cut at 07:44:55; the restart in the break (07:50) is
    # held 40 min for the 08:30 open, which leaves the horizon an hour: slice 2's order (its
    # journaled ladder ended in the break) fills at 08:32:06 and slice 3 at 09:17:08. It
    # used to get the 6000 s left at the restart from the open: slice 3 filled at 09:48:34,
    # 18 min past the horizon's end, on a ladder to 10:10.
    (ct(2, 7, 30), WorkingHours.TRADING, 7200.0, 400.0, ct(2, 7, 50),
     ([("02 07:32:50", 5), ("02 08:32:06", 5), ("02 09:17:08", 5)], "02 09:17:08",
      [("FILLED", 5, 5), ("FILLED", 5, 5), ("FILLED", 5, 5)])),
], ids=["after-the-close", "in-the-break"])
async def test_a_twap_restarted_while_its_market_is_closed_ends_by_its_horizon(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, start: dt.datetime,
    hours: WorkingHours, horizon: float, crash_at: float, restart: dt.datetime,
    expected: tuple[object, ...],
) -> None:
    """15 lots in three slices (no jitter) on quiet one-tick oats: slice 1 fills at its step,
    the journal dies while slice 2's order rests at the bid (its ladder journaled), and the
    restart comes while the market is closed. The resumed TWAP is held for the open, and its
    horizon runs on while it is held: it works no later than the horizon's end, or (overdue
    at the open) one last ladder; 15 bought, nothing left working, the intent finished."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=ExecutionSettings(twap_slices=3, twap_horizon=horizon,
                                                     twap_jitter=0.0, hours=hours),
                         risk=RiskLimits(max_order_quantity=50))
    async with open_sim_exchange(_hours_oats(start), seed=1) as exchange:
        await _crash(exchange, path, config, crash_at)
        assert len(exchange.open_orders()) == 1  # slice 2's order, resting through the close
        await trio.sleep_until(exchange.origin + (restart - start).total_seconds())
        async with open_engine(exchange, path, config) as engine:
            (handle,) = engine.adopted
            report = await handle.wait_done()
            done = now_of(exchange)
        assert exchange.open_orders() == ()
        fills = _fills_ct(exchange)
    assert report.filled == 15 and report.end_reason is None
    children = [(c.status.value, c.quantity, c.filled) for c in report.children]
    assert (fills, _last_status_ct(path), children) == expected
    # By the horizon's end, or (overdue at the open) within one ladder of the open.
    assert done <= start + dt.timedelta(seconds=horizon) or done.time() < dt.time(8, 32)
    (finished,) = journal_notes(path, "intent_finished")
    assert (finished["filled"], finished["reason"]) == (15, None)


async def test_a_fill_of_the_order_resting_while_the_twap_is_held_is_counted_at_the_open(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The TWAP above (liquid hours, submitted at 13:10, the journal dead at 13:14:10 while
    slice 2's order rests) restarted at 13:30: held for the next open, its order rests at
    the exchange untouched, and a sell of 8 at 13:40 (the simulated exchange trades around
    the clock) fills 3 of it behind the crowd's 5. At the 08:30 open it is overdue: the
    order is cancelled and the 7 lots left (not 10) go as one last ladder: 15 bought."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=ExecutionSettings(twap_slices=3, twap_horizon=3600.0,
                                                     twap_jitter=0.0),
                         risk=RiskLimits(max_order_quantity=50))
    hours = _hours_oats(ct(2, 13, 10))
    params = attrs.evolve(hours, markets=(attrs.evolve(
        hours.markets[0], flows=(ScriptedFlow(at=1800.0, side=Side.SELL, quantity=8),)),))
    async with open_sim_exchange(params, seed=1) as exchange:
        await _crash(exchange, path, config, 250.0)
        await trio.sleep_until(exchange.origin + 1200.0)
        async with open_engine(exchange, path, config) as engine:
            (handle,) = engine.adopted
            report = await handle.wait_done()
        assert exchange.open_orders() == ()
        fills = _fills_ct(exchange)
    assert fills == [("02 13:11:53", 5), ("02 13:40:00", 3), ("03 08:31:00", 5),
                     ("03 08:31:30", 2)]
    assert [(c.status.value, c.quantity, c.filled) for c in report.children] == [
        ("FILLED", 5, 5), ("CANCELLED", 5, 3), ("FILLED", 7, 7)]
    assert report.filled == 15 and report.end_reason is None
