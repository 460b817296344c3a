"""Attacks on the paths a restart resumes a TWAP by (hydra._recovery with hydra._twap_actor and
hydra._patience): a restart while its market is closed, a SIGTERM while a resumed ladder works,
and many TWAPs resumed by one restart."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from hydra import LEAN_HOGS, OATS, ExecutionSettings, HydraConfig, OrderIntent, OrderStatus, Side
from hydra._enums import Policy
from hydra._ids import IntentId, unstamped
from hydra._journal import EventKind, Journal
from hydra._journal_actor import run_inline
from hydra._journal_calls import Notes
from hydra._journal_schema import NoteKind
from hydra._settings import Distance, RiskLimits, WorkingHours
from hydra.sim import (
    DisplayedSize,
    MarketParams,
    ScriptedFlow,
    SimExchange,
    SimParams,
    open_sim_exchange,
)
from tests.journal_surgery import crash_from
from tests.simulated import journal_notes, last_statuses, open_engine, quiet_oats
from tests.test_run_command import Run, _free_port, _wait_listening
from tests.test_sessions import CT, ct, now_of
from tests.test_twap_restart import _crash_at

INTENT = "twap"


def _hours_oats(start: dt.datetime) -> SimParams:
    """Quiet one-tick oats (350.00 / 350.25, 5 lots a level) whose exchange opens its
    simulation at ``start`` and keeps the hours."""
    return attrs.evolve(quiet_oats(spread_ticks=1), session_start=start.astimezone(dt.UTC),
                        sessions=True)


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
        await _crash_at(exchange, path, config, crash_at)
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


@pytest.mark.parametrize("restart", [ct(2, 13, 30), ct(3, 8)], ids=["after-close", "next-day"])
async def test_a_carried_twap_restarted_while_closed_is_worked_over_its_session_time_left(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, restart: dt.datetime
) -> None:
    """With ``twap_carry`` an hour's TWAP submitted at 13:10 is an hour of session time: 595 s
    before the 13:20 close (less the 5 s margin), 3005 s from the next 08:30 open. The journal
    dies at 13:14:10 in slice 1; restarted after the close or at 08:00 next day, it is
    worked over those 3005 s from the open, ending at 09:12:55 (worked through without a
    crash it ends at 09:11:30). Its horizon used to be measured in wall time at the restart:
    from 13:30, 2400 s left (the closed minutes counted), done by 09:04:17; from 08:00,
    overdue (18.8 hours after its submission): all 15 lots on one 105 s ladder, bought by
    08:31:31 up three levels."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=ExecutionSettings(twap_slices=3, twap_horizon=3600.0,
                                                     twap_jitter=0.0, twap_carry=True),
                         risk=RiskLimits(max_order_quantity=50))
    async with open_sim_exchange(_hours_oats(ct(2, 13, 10)), seed=1) as exchange:
        await _crash_at(exchange, path, config, 250.0)
        await trio.sleep_until(exchange.origin + (restart - ct(2, 13, 10)).total_seconds())
        async with open_engine(exchange, path, config) as engine:
            (handle,) = engine.adopted
            report = await handle.wait_done()
        assert exchange.open_orders() == ()
        fills = _fills_ct(exchange)
    assert (report.filled, report.end_reason) == (15, None)
    assert fills == [("03 08:56:14", 5), ("03 09:01:00", 5), ("03 09:12:55", 5)]
    assert _last_status_ct(path) == "03 09:12:55"


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
        await _crash_at(exchange, path, config, 250.0)
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


async def test_a_twap_resumed_and_held_for_the_open_when_hydra_closes_says_so_and_stays_ended(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The TWAP above restarted at 13:30, held for the next open with slice 2's order
    resting, and Hydra closed at 14:00 (a SIGTERM's drain): the order is cancelled at
    14:00:00.03 and the intent ends 5 of 15, saying Hydra was closing (it said "stopped:
    intent twap cancelled", which no one did); a restart at 08:00 next day resumes nothing
    and by 09:00 nothing more is sent."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=ExecutionSettings(twap_slices=3, twap_horizon=3600.0,
                                                     twap_jitter=0.0),
                         risk=RiskLimits(max_order_quantity=50))
    async with open_sim_exchange(_hours_oats(ct(2, 13, 10)), seed=1) as exchange:
        await _crash_at(exchange, path, config, 250.0)
        await trio.sleep_until(exchange.origin + 1200.0)
        async with open_engine(exchange, path, config) as engine:
            (handle,) = engine.adopted
            await trio.sleep(1800.0)
        assert now_of(exchange) == ct(2, 14) + dt.timedelta(seconds=0.03)
        assert exchange.open_orders() == ()
        assert (await handle.wait_done()).end_reason == "stopped: Hydra is closing"
        await trio.sleep_until(exchange.origin + (ct(3, 8) - ct(2, 13, 10)).total_seconds())
        async with open_engine(exchange, path, config) as engine:
            assert engine.adopted == []
            await trio.sleep(3600.0)
        fills = _fills_ct(exchange)
    assert fills == [("02 13:11:53", 5)]
    (finished,) = journal_notes(path, "intent_finished")
    assert (finished["filled"], finished["quantity"], finished["reason"]) == (
        5, 15, "stopped: Hydra is closing")
    assert len(journal_notes(path, "intent_resumed")) == 1
    assert sorted(last_statuses(path).items()) == [
        ("twap.1", OrderStatus.FILLED), ("twap.2", OrderStatus.CANCELLED)]


# --- 2. SIGTERM while a resumed ladder works: real processes ---------------------------------


class _HydraRun(Run):
    """A ``hydra run --paper`` child against the simulated gateway on ``port`` (a process of
    its own, so the exchange and its resting orders outlive a killed run), buying 6 oats as
    a TWAP from its inbox; journal, inbox and log (standard error) in ``directory``."""

    INBOX = ('{"symbol": "ZO", "side": "BUY", "quantity": 6, "policy": "twap", '
             '"intent_id": "twap"}\n')

    def __init__(self, directory: Path, port: int, name: str) -> None:
        self.journal, self.log = directory / "journal.sqlite", directory / f"{name}.log"
        inbox, config = directory / "inbox.jsonl", directory / "hydra.toml"
        inbox.write_text(self.INBOX)
        # Three 200 s slices: slice 1's order rests at stage 0 for the whole test.
        config.write_text(f'[execution]\ntwap_slices = 3\ntwap_horizon = 600.0\n'
                          f'twap_jitter = 0.0\n[shutdown]\ndrain_timeout = 0.5\n'
                          f'[journal]\npath = "{self.journal}"\n[runner]\ninbox = "{inbox}"\n'
                          f'[logging]\nformat = "json"\n')
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hydra", "run", "--paper", "--config", str(config)],
                env={**os.environ, "IB_GATEWAY_PORT": str(port)},
                stdout=subprocess.DEVNULL, stderr=log, text=True)


def _journaled(journal: Path) -> tuple[list[tuple[str, OrderStatus, int]], list[str], int]:
    """The journal's orders (number, last status, lots filled), its notes' kinds, and the
    lots its executions bought (read-only: a run may be writing it)."""
    if not journal.exists() or not journal.stat().st_size:
        return [], [], 0
    reader = Journal.open_read_only(journal)
    try:
        orders = [(unstamped(o.request.client_order_id), o.status, o.filled)
                  for o in reader.orders()]
        notes = [p["what"] for _, kind, p in reader.events() if kind is EventKind.NOTE]
        bought = sum(f.quantity for f in reader.intent_fills(IntentId(INTENT)))
    finally:
        reader.close()
    return orders, notes, bought


def _on_its_ladder(journal: Path, *, after: str | None) -> bool:
    """The intent's last order works, a ``ladder_stage`` note journaled (after the first
    ``after`` note)."""
    orders, notes, _ = _journaled(journal)
    if after is not None:
        notes = notes[notes.index(after):] if after in notes else []
    return "ladder_stage" in notes and orders[-1:] != [] and orders[-1][1] is OrderStatus.WORKING


def test_a_sigterm_while_a_resumed_ladder_works_drains_it_and_a_restart_works_nothing_again(
    tmp_path: Path,
) -> None:
    """A TWAP's slice 1 order rests at the simulated gateway; the run is killed (SIGKILL).
    The restart resumes the TWAP, carrying the order on (its journaled ladder), and is
    stopped by SIGTERM while that ladder works: it drains as for a fresh intent (the order
    cancelled, the intent's end journaled with what it bought, engine_stopped) and exits 0.
    A further restart resumes nothing and sends nothing: no order, no lot, bought twice."""
    port = _free_port()
    # No hours: with the exchange's, a run after the close or at a weekend holds the intent.
    gateway = subprocess.Popen([sys.executable, "-m", "hydra", "sim-gateway", "--port",
                                str(port), "--market", "oats", "--hours", "none"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    runs: list[_HydraRun] = []
    try:
        _wait_listening(port, gateway)
        first = _HydraRun(tmp_path, port, "first")
        runs.append(first)
        first.wait_for(lambda: _on_its_ladder(first.journal, after=None),
                       "slice 1's order working on its ladder")
        first.process.kill()  # the crash
        first.process.wait(timeout=10)
        ((order, status, _),) = _journaled(first.journal)[0]
        assert status is OrderStatus.WORKING

        second = _HydraRun(tmp_path, port, "second")
        runs.append(second)
        second.wait_for(lambda: _on_its_ladder(second.journal, after="intent_resumed"),
                        "the resumed ladder working")
        second.process.send_signal(signal.SIGTERM)
        assert second.wait_exit() == (0, []), second.log.read_text()
        orders, notes, bought = _journaled(second.journal)
        (finished,) = journal_notes(second.journal, "intent_finished")

        third = _HydraRun(tmp_path, port, "third")
        runs.append(third)
        third.wait_for(lambda: bool(third.logged("runner_started")), "the second restart")
        third.process.send_signal(signal.SIGTERM)
        assert third.wait_exit() == (0, []), third.log.read_text()
        after, later_notes, bought_after = _journaled(third.journal)
    finally:
        for run in runs:
            run.kill()
        gateway.kill()
        gateway.wait(timeout=10)
    assert [unstamped(e["client_order_id"]) for e in second.logged("order_adopted")] == [
        order]
    (resumed,) = second.logged("intent_resumed")
    assert (resumed["slices"], resumed["remaining"]) == (3, 6 - bought)
    assert [(number, status) for number, status, _ in orders] == [
        ("twap.1", OrderStatus.CANCELLED if bought < 2 else OrderStatus.FILLED)]
    assert [n for n in notes if not n.startswith("heal_")][-3:] == [
        "cancel_requested", "intent_finished", "engine_stopped"] or bought == 2
    assert (finished["filled"], finished["quantity"]) == (bought, 6)
    assert finished["reason"] == "stopped: Hydra is closing"
    # The second restart: the intent finished, nothing resumed, adopted or sent again.
    assert (after, bought_after) == (orders, bought)
    later = [n for n in later_notes[len(notes):] if not n.startswith("heal_")]
    # (broker_error: the gateway serves oats alone, and the hogs' subscriptions fail)
    assert set(later) == {"engine_started", "front_months", "broker_error", "risk_state",
                          "engine_stopped"} and later[-1] == "engine_stopped", later
    assert third.logged("intent_resumed") == third.logged("order_adopted") == []


# --- 3. fifty TWAPs resumed by one restart -------------------------------------------------------


def _two_markets() -> SimParams:
    """Quiet one-tick oats (350.00 / 350.25) and hogs, 5 lots at every level, no flow."""
    oats = quiet_oats(spread_ticks=1).markets[0]
    hogs = attrs.evolve(MarketParams.hogs(adv=0, daily_volatility=0.0, spread_ticks=((1, 1.0),),
                                          displayed_size=DisplayedSize.fixed(5)).legacy())
    return SimParams(markets=(oats, hogs))


FIFTY = HydraConfig(
    execution=ExecutionSettings(twap_slices=3, twap_horizon=300.0, twap_jitter=0.2,
                                slippage_guard=Distance.ticks(40)),
    risk=RiskLimits(max_open_orders=200, max_orders_per_minute=1000, max_position=1000,
                    max_position_value=10**9, daily_loss_limit=10**9, max_drawdown=10**9,
                    max_single_trade_loss=10**9))
"""Three-slice TWAPs over 300 s at the default jitter; risk limits wide enough for fifty."""


def _counting_roll_reads(reads: list[float]) -> Callable[[Any], Any]:
    """A journal offload that works as usual and records (Trio time) each read of the
    ``roll_started`` notes."""

    async def offload(work: Any) -> Any:
        for call in work.args[0]:  # journal.apply_together's list of calls
            query = getattr(call, "__self__", None)
            if isinstance(query, Notes) and query.what is NoteKind.ROLL_STARTED:
                reads.append(trio.current_time())
        return await run_inline(work)

    return offload


async def test_fifty_twaps_crashed_mid_slice_all_resume_once_and_buy_exactly_their_lots(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Fifty TWAPs of 6 lots (25 in oats, 25 in hogs, 3 jittered slices over 300 s) go at
    once; the journal dies at 130 s, mid-slice, each with one order working (796 events
    journaled). One restart at 140 s resumes all fifty, each carrying its working slice's
    order on, none cancelled as a spare: each intent's orders are its three slices' (150
    orders, no number sent twice), it buys exactly its 6 and its journaled end says so,
    nothing is left working, and the last ends at 289.19 s, within the horizon. The restart
    reads the roll_started notes (a scan of the whole journal) once, not once per intent:
    it used to read them 51 times."""
    path = tmp_path / "j.sqlite"
    ids = [f"twap{n}" for n in range(50)]
    async with open_sim_exchange(_two_markets(), seed=1) as exchange:
        with pytest.raises(BaseExceptionGroup):
            async with open_engine(exchange, path, FIFTY,
                                   offload=crash_from(exchange.origin + 130.0)) as engine:
                for n, intent_id in enumerate(ids):
                    await engine.submit(OrderIntent(
                        contract=OATS if n % 2 else LEAN_HOGS, side=Side.BUY, quantity=6,
                        intent_id=IntentId(intent_id), policy=Policy.TWAP))
                await trio.sleep_until(exchange.origin + 130.0)
                await engine.record_control("crash")
        working = sorted(unstamped(o.client_order_id) for o in exchange.open_orders())
        reads: list[float] = []
        async with open_engine(exchange, path, FIFTY,
                               offload=_counting_roll_reads(reads)) as engine:
            assert trio.current_time() - exchange.origin == 140.0  # recovery takes no time
            reports = {h.intent.intent_id: await h.wait_done() for h in engine.adopted}
        assert trio.current_time() - exchange.origin == pytest.approx(289.19, abs=0.01)
        bought: dict[str, int] = {}
        for f in exchange.executions_since(exchange.params.session_start):
            intent_id = unstamped(f.client_order_id).rpartition(".")[0]
            bought[intent_id] = bought.get(intent_id, 0) + f.quantity
        assert exchange.open_orders() == ()
    assert len(working) == 50 and {w.rpartition(".")[0] for w in working} == set(ids)
    resumed = {n["intent_id"]: n for n in journal_notes(path, "intent_resumed")}
    assert sorted(resumed) == sorted(ids)
    assert sorted(unstamped(n["adopted"]) for n in resumed.values()) == working
    assert bought == dict.fromkeys(ids, 6)
    assert {i: (r.filled, r.end_reason) for i, r in reports.items()} == dict.fromkeys(
        ids, (6, None))
    finished = journal_notes(path, "intent_finished")
    assert sorted((n["intent_id"], n["filled"], n["reason"]) for n in finished) == sorted(
        (i, 6, None) for i in ids)
    journal = Journal.open_read_only(path)
    try:
        orders = [unstamped(o.request.client_order_id) for o in journal.orders()]
        assert all(o.status.is_final for o in journal.orders())
    finally:
        journal.close()
    assert sorted(orders) == sorted(f"{i}.{n}" for i in ids for n in (1, 2, 3))
    assert len(reads) == 1
