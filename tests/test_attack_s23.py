"""Attacks on the work of session 22 (twap_ahead, the inbox's stat poll, exact TOML decimals,
the dashboard's journal follower): each test showed a defect on the tree before its fix, or is
a strict xfail naming the file that holds the defect."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import trio
import trio.testing

from hydra import (
    OATS,
    ExecutionSettings,
    HydraConfig,
    OrderIntent,
    Policy,
    Side,
    TradingState,
)
from hydra._bracket import BracketIntent
from hydra._fill_report import fill_report, tidy
from hydra._inbox_reader import InboxReader
from hydra._journal import Journal
from hydra._journal_records import read_journal
from hydra._settings import RiskLimits
from hydra.dashboard._board import Followed
from hydra.ib._feed import QuoteFeed
from hydra.sim import (
    Disconnect,
    DisplayedSize,
    Gap,
    ScriptedFlow,
    SimExchange,
    open_sim_exchange,
)
from tests.journal_surgery import crash_from
from tests.paper_journal import PaperJournal
from tests.simulated import open_engine, quiet_oats
from tests.test_inbox_process import Run, _line
from tests.test_risk_regressions import _fill, _open_injecting
from tests.test_runner import _inbox as runner_inbox

TWAP_AHEAD = ExecutionSettings(twap_slices=3, twap_horizon=300.0, twap_jitter=0.0,
                               twap_ahead=50)


def _fill_times(path: Path, exchange: SimExchange) -> list[tuple[float, int]]:
    """Each journaled fill: seconds after the open, and its quantity."""
    start = exchange.params.session_start
    return [((f.time - start).total_seconds(), f.quantity)
            for f in Journal.open_read_only(path).fills()]


async def _crash_at(exchange: SimExchange, path: Path, config: HydraConfig,
                    intent: OrderIntent, seconds: float) -> None:
    """Submit ``intent``; the journal dies at ``seconds`` (the process with it)."""
    with pytest.raises(BaseExceptionGroup):
        async with open_engine(exchange, path, config,
                               offload=crash_from(exchange.origin + seconds)) as engine:
            await engine.submit(intent)
            await trio.sleep_until(exchange.origin + seconds)
            await engine.record_control("crash")


async def test_lots_resting_ahead_of_a_twap_schedule_never_take_after_a_restart(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """15 lots in three 100 s slices with ``twap_ahead`` 50 on a one-tick oats market 20 lots
    deep with no flow: slice 1 takes the ask at its step (57 s), then slices 2 and 3's 10 lots
    rest at the bid (never taking, by twap_ahead's contract). Killed at 80 s while they rest
    and restarted at 90 s, the adopted order became (before the fix) the first of 2 resumed
    slices of 5: its ladder stepped at 117 s and took the ask for all 10 lots, so slice 3's
    lots were bought 83 s before the schedule had them. Expected: no more than 10 lots
    (slices 1 and 2) before 200 s."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=TWAP_AHEAD)
    intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=15)
    params = quiet_oats(spread_ticks=1, displayed_size=DisplayedSize.fixed(20))
    async with open_sim_exchange(params, seed=1) as exchange:
        await _crash_at(exchange, path, config, intent, 80.0)
        async with open_engine(exchange, path, config) as engine:
            (adopted,) = engine.adopted
            await adopted.wait_done()
    fills = _fill_times(path, exchange)
    assert sum(q for t, q in fills) == 15
    assert sum(q for t, q in fills if t < 200.0) <= 10, fills


async def test_a_twap_resumed_after_ahead_orders_keeps_the_slices_it_has_left(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """30 lots in six 100 s slices with ``twap_ahead`` 1 on a one-tick market: each slice
    takes the ask at its step and the next slice's lots rest ahead until it starts, so by
    250 s (slice 3 working) five orders were begun. Killed then and restarted, the plan
    resumed (before the fix) 2 slices of 10 (six less five orders, plus the working one),
    not the 4 left of 5: twice the lots per slice in a thin market. Expected: 4 slices over
    the 20 lots left."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=attrs.evolve(TWAP_AHEAD, twap_slices=6, twap_horizon=600.0,
                                                twap_ahead=1))
    intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=30)
    params = quiet_oats(spread_ticks=1, displayed_size=DisplayedSize.fixed(20))
    async with open_sim_exchange(params, seed=1) as exchange:
        await _crash_at(exchange, path, config, intent, 250.0)
        async with open_engine(exchange, path, config) as engine:
            (adopted,) = engine.adopted
            await adopted.wait_done()
    (resumed,) = Journal.open_read_only(path).notes("intent_resumed")
    assert (resumed["remaining"], resumed["slices"]) == (20, 4)


def _paper_with_working(path: Path, names: tuple[str, ...], *,
                        new_journal: bool = False) -> PaperJournal:
    """A journal at ``path`` with one working buy of 2 per name (a fresh one: ``new_journal``)."""
    return PaperJournal(path, new_journal=new_journal).start().working(*names)


def test_the_dashboard_follows_a_journal_replaced_under_it(tmp_path: Path) -> None:
    """``hydra dashboard --journal PATH`` draws a journal with four working orders; the journal
    is moved aside and Hydra starts a new one at the path (``--new-journal``) with one order
    working. The follower asks only for events after the old journal's last and keeps its
    reader of the old file, so the page still shows the four old orders, for ever. Expected:
    the page shows the journal now at the path: its one order."""
    path = tmp_path / "j.sqlite"
    old = _paper_with_working(path, ("n0", "n1", "n2", "n3"))
    old.close()
    followed = Followed.of(str(path), HydraConfig())
    now = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
    try:
        first = followed.picture(live=None, now=now)
        assert [o.intent_id for o in first.working] == ["n0", "n1", "n2", "n3"]
        path.rename(tmp_path / "old.sqlite")
        _paper_with_working(path, ("b0",), new_journal=True).close()
        again = followed.picture(live=None, now=now)
    finally:
        followed.close()
    assert [o.intent_id for o in again.working] == ["b0"]


def test_an_inbox_deadline_no_datetime_holds_neither_ends_the_run_nor_loses_the_line(
    tmp_path: Path,
) -> None:
    """``[runner] inbox_deadline = 1e12`` (a trader's "wait for ever", which ``config check``
    takes): the first inbox line ended ``hydra run`` ("hydra run stopped: OverflowError: date
    value out of range"), the intent never journaled. Expected: the line is worked and the
    run stops cleanly on Ctrl-C."""
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("")
    run = Run(tmp_path, inbox, runner="inbox_deadline = 1e12")
    try:
        run.wait_for(lambda: bool(run.logged("runner_started")), "the start")
        with inbox.open("a") as file:
            file.write(_line("forever"))
        run.wait_for(lambda: run.intents() == ["forever"] or run.process.poll() is not None,
                     "the intent, or the end of the run")
        assert run.process.poll() is None, run.log.read_text()[-2000:]
        assert run.stop() == 0, run.log.read_text()[-2000:]
    finally:
        run.kill()


@pytest.mark.parametrize("price", [Decimal(0), Decimal("NaN")], ids=["zero", "NaN"])
async def test_a_broker_anomalys_fill_leaves_the_fill_report_without_an_average(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, price: Decimal
) -> None:
    """An execution at price 0 (or NaN) for a resting order is journaled as the broker gave it
    and halts trading, as designed, but then ``hydra fill-report``, ``hydra gate-check`` and
    the dashboard ended in a traceback on that journal for ever ("average_price: must be a
    finite Decimal above zero", or int('n') of NaN's exponent). Expected: the intent's line
    shows the fill with no average price, shortfall nor cost, as the engine's report does."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with _open_injecting(exchange, path) as (engine, broker):
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                            policy=Policy.PASSIVE, intent_id="zero"))
            await trio.sleep(1)
            stamped = f"{Journal.open_read_only(path).journal_id}:zero.1"
            broker.push(_fill(exchange, stamped, "x-zero", quantity=1, price=price))
            await trio.sleep(1)
            assert engine.statistics().trading_state is TradingState.HALTED
    report = fill_report(read_journal(path), settings=HydraConfig().slippage)
    (line,) = report.intents
    assert (line.intent_id, line.filled) == ("zero", 1)
    assert (line.average_price, line.actual_bps, line.slippage_usd) == (None, None, None)
    assert [f.fill.execution_id for f in report.fills] == ["x-zero"]
    assert [f.actual_bps for f in report.fills] == [None]
    followed = Followed.of(str(path), HydraConfig())
    try:
        page = followed.picture(live=None, now=dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
    finally:
        followed.close()
    assert [i.average_price for i in page.report.intents] == [None]


async def test_lots_ahead_refused_by_a_limit_leave_the_twap_to_its_schedule(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """20 lots in ten 100 s slices of 2 with ``twap_ahead`` 50 and ``max_order_notional``
    100,000 (a slice's 2 lots are 35,000): once slice 1 fills, the 18 lots ahead (315,000)
    are refused by the notional limit, and that refusal ended the whole schedule
    (``twap_stopped``) with 2 of 20 filled, where without twap_ahead every slice fills.
    Expected: lots ahead a limit refuses are not rested, and the slices go on to fill 20."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(
        execution=attrs.evolve(TWAP_AHEAD, twap_slices=10, twap_horizon=1000.0),
        risk=RiskLimits(max_order_notional=Decimal(100_000)))
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        async with open_engine(exchange, path, config) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=20))
            report = await handle.wait_done()
    assert (report.filled, report.quantity) == (20, 20)


def test_a_farm_ib_reports_inactive_after_broken_is_back_as_ib_words_it() -> None:
    """IB words its 2108 without the colon its 2103 and 2104 have ("...available upon
    demand.usfarm.nj"), and the feed read the farm as the text after the last colon: the
    whole message, so the broken usfarm.nj was never cleared and every quote stayed in doubt
    (a still market stale 30 s after its last change, every intent in it refused) until a
    2104 came. Expected: that 2108 clears usfarm.nj, and a market updated since is current."""
    market = ("ZO", "202605")
    feed = QuoteFeed()
    feed.notice(2103, "Market data farm connection is broken:usfarm.nj")
    feed.updated([market])
    assert not feed.current(market)
    feed.notice(2108, "Market data farm connection is inactive but should be available upon "
                      "demand.usfarm.nj")
    assert feed.current(market)


def test_an_inbox_read_between_a_rewrites_truncation_and_write_works_no_line_twice(
    tmp_path: Path,
) -> None:
    """A writer that rewrites the inbox whole to add a line (open "w", write every line):
    the user guide says a file that begins with the old lines is the old file grown, and so
    it is when the poll comes before or after the rewrite. A poll that lands between the
    truncation and the write (1 ms after the file's change) saw an empty file, took it for a
    new generation, and the rewrite's old id-less line was worked again under a new id: a
    second order. Expected: a file read within a tick of its change decides nothing; the
    next poll finds the old line and the new one, and only the new one is worked."""
    inbox = tmp_path / "inbox.jsonl"
    old = '{"symbol": "ZO", "side": "BUY", "quantity": 1}\n'
    new = '{"symbol": "ZO", "side": "SELL", "quantity": 1}\n'
    settled_by = {"ns": 0}

    def clock() -> int:  # the filesystem's clock: ``ns`` after the inbox last changed
        return os.stat(inbox).st_ctime_ns + settled_by["ns"]

    inbox.write_text(old)
    reader = InboxReader(inbox, clock=clock)
    settled_by["ns"] = 1_000_000_000
    assert [line.text for line in reader.read_lines()] == [old.strip()]
    inbox.write_text("")  # the rewrite's truncation; the poll comes 1 ms after it
    settled_by["ns"] = 1_000_000
    first = reader.read_lines()
    inbox.write_text(old + new)  # the rewrite's write; the next poll a second later
    settled_by["ns"] = 1_000_000_000
    second = reader.read_lines()
    assert ([line.text for line in first + second], reader.generation) == ([new.strip()], 0)


async def test_a_brackets_line_in_the_fill_report_is_its_entry_as_the_engine_reports_it(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A long bracket of 3 whose entry fills at 350.25 and whose take-profit sells the 3 at
    351.00: the engine reports 3 filled at 350.25 (7.14 bps), but ``hydra fill-report`` (and
    the dashboard) summed the exit's fills into the intent's line: 6 filled of 3 at 350.625,
    a shortfall of 17.86 bps and a cost of 187.50 USD where its entry cost 37.50. Expected:
    the intent's line is its entry, as the engine's report; the exit's fills stay listed."""
    path = tmp_path / "j.sqlite"
    market = quiet_oats(gaps=(Gap(at=30.0, change=Decimal("2.00")),),
                        flows=(ScriptedFlow(at=40.0, side=Side.BUY, quantity=3),))
    bracket = BracketIntent(contract=OATS, side=Side.BUY, quantity=3, entry_price="350.25",
                            take_profit_price="351.00", stop_price="349.00",
                            stop_limit_price="348.75")
    async with open_sim_exchange(market, seed=1) as exchange:
        async with open_engine(exchange, path) as engine:
            engine_report = await (await engine.submit_bracket(bracket)).wait_done()
    report = fill_report(read_journal(path), settings=HydraConfig().slippage)
    (line,) = report.intents
    assert (line.filled, line.average_price) == (engine_report.filled, Decimal("350.25"))
    assert line.actual_bps == tidy(engine_report.shortfall_bps or Decimal("NaN"))
    assert line.slippage_usd == Decimal("37.5")  # 3 lots 0.25 above the mid, 50 USD a point
    assert [(f.fill.side, f.fill.price) for f in report.fills] == [
        (Side.BUY, Decimal("350.25")), (Side.SELL, Decimal("351.00"))]


async def test_a_twap_slice_ending_while_the_link_is_down_is_never_worked_twice(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """15 lots in four 100 s slices on a two-tick oats market 20 lots deep (no slice takes at
    its step), the link down from 150 s to 250 s: slice 2's order (8 lots) still rests at the
    bid when its interval ends at 200 s, its cancel cannot go out, and it is reported WORKING
    with nothing filled. Sell flow at 260 s fills those 8 lots, and slice 4 buys the 15 the
    reports say are left: 23 long for an intent of 15. Expected: never more than 15 bought,
    and the report says what the broker filled."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=ExecutionSettings(twap_slices=4, twap_horizon=400.0,
                                                     twap_jitter=0.0))
    params = attrs.evolve(
        quiet_oats(displayed_size=DisplayedSize.fixed(20),
                   flows=(ScriptedFlow(at=260.0, side=Side.SELL, quantity=40),)),
        faults=(Disconnect(at=150.0, duration=100.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path, config) as engine:
            handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=15))
            report = await handle.wait_done()
            await trio.sleep(600)  # whatever still rests has its chance to fill
        held = sum(p.quantity for p in exchange.positions())
    assert held <= 15
    assert report.filled == held


async def test_fifty_twaps_with_lots_ahead_all_keep_their_schedules(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Fifty TWAP buys at once (3 lots in three 100 s slices, ``twap_ahead`` 1) on a deep
    one-tick market, 60 open orders and 150 lots allowed, and the default limit of 60 orders
    a minute: the 50 first slices go at once and take at their step (57 s), then each TWAP
    rests its next slice's lot ahead, and those 50 orders within the same minute pass the
    limit. Each ahead order the limit refused ended its TWAP (``twap_stopped``) with 1 of 3
    filled, where without twap_ahead all fifty fill. Expected: every TWAP fills 3."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=attrs.evolve(TWAP_AHEAD, twap_ahead=1),
                         risk=RiskLimits(max_open_orders=60, max_position=150))
    params = quiet_oats(spread_ticks=1, displayed_size=DisplayedSize.fixed(100))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path, config) as engine:
            handles = [await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=3,
                policy=Policy.TWAP, intent_id=f"t{k}")) for k in range(50)]
            reports = [await handle.wait_done() for handle in handles]
    assert [r.filled for r in reports] == [3] * 50


async def test_an_inbox_intent_that_expired_while_hydra_was_down_is_not_sent_after_it(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """An id-less line read at 12.5 s while the broker link is down waits for the session,
    at most ``inbox_deadline`` (300 s, so until 312.5 s). Hydra is stopped at 62.5 s and
    started again at 400 s, the link back: the line is read again, given 300 s from then,
    and sent, a signal 387 s old traded. Expected: it is dropped as expired, never sent."""
    path, inbox = tmp_path / "j.sqlite", tmp_path / "inbox.jsonl"
    params = attrs.evolve(quiet_oats(), faults=(Disconnect(at=10.0, duration=380.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            nursery.start_soon(runner_inbox(engine, inbox))
            await trio.sleep(12.5)
            inbox.write_text('{"symbol": "ZO", "side": "BUY", "quantity": 1}\n')
            await trio.sleep(50)
            nursery.cancel_scope.cancel(reason="Hydra stopped")
        await trio.sleep_until(exchange.origin + 400.0)
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            nursery.start_soon(runner_inbox(engine, inbox))
            await trio.sleep(60)
            nursery.cancel_scope.cancel(reason="test over")
        assert exchange.statistics().orders == 0


@pytest.mark.parametrize("command", ["fill-report", "gate-check"])
def test_a_damaged_fill_record_is_one_line_naming_it_not_a_traceback(
    tmp_path: Path, command: str,
) -> None:
    """A journal whose last fill record lost its side (a hand-mended or damaged journal, as
    the damaged notes last session's fixes read as one line): ``hydra fill-report`` and
    ``hydra gate-check`` ended in a traceback (``KeyError: 'side'``). Expected: exit status 2
    and one line on standard error naming the journal, the event and the field."""
    path = tmp_path / "j.sqlite"
    paper = _paper_with_working(path, ("n0",))
    paper.fill("n0.1", "x1", side=Side.BUY, quantity=1, price="349.75", predicted=None,
               actual=None)
    paper.close()
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        kind, client_order_id, payload = db.execute(
            "SELECT kind, client_order_id, payload FROM events WHERE kind = 'fill'").fetchone()
        damaged = json.loads(payload)
        del damaged["fill"]["side"]
        db.execute("INSERT INTO events (recorded_at, kind, client_order_id, intent_id, payload)"
                   " VALUES (?, ?, ?, ?, ?)", ("2026-03-02T15:00:00+00:00", kind,
                                                client_order_id, "n0", json.dumps(damaged)))
    done = subprocess.run([sys.executable, "-m", "hydra", command, "--journal", str(path)],
                          capture_output=True, text=True, timeout=120)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "side" in lines[0] and str(path) in lines[0]
