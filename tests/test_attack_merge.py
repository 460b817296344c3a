"""Attacks on the session's merged work (a hook's target held in the front month, front months
by date, resumed intents held for the open, the drain's report, ``hydra run``'s status
region): each test is a defect a trader would hit, kept as a strict xfail until it is fixed."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import signal
import subprocess
import threading
import time
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from structlog.testing import capture_logs

from hydra import LEAN_HOGS, OATS, HydraConfig, OrderIntent, Side
from hydra._journal import EventKind, Journal
from hydra._runner import HookLimits, _less_what_stayed_open, run_schedule
from hydra._schedule import DailySchedule, parse_days
from hydra._settings import ExecutionSettings, RiskLimits, WorkingHours
from hydra.sim import MarketParams, RejectNextOrder, SimBroker, SimParams, open_sim_exchange
from tests.journal_surgery import Crash, crash_once
from tests.simulated import open_engine
from tests.terminal import hydra_run_on_a_pty

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
LIMITS = HookLimits(timeout=30.0, max_failures=3)
AT_NIGHT = HydraConfig(execution=ExecutionSettings(patience=0.2, hours=WorkingHours.TRADING))
"""A quick ladder in every trading hour: held after the day's close for the 19:00 open."""


def _may_and_july(start: dt.datetime, months: tuple[str, ...] = ("202505", "202507"),
                  **changes: Any) -> SimParams:
    """Still oats in ZOK5 and ZON5 (one tick wide, no flow) from ``start``."""
    return SimParams(
        markets=tuple(MarketParams.oats(contract=OATS.for_month(m), adv=0, daily_volatility=0.0,
                                        spread_ticks=((1, 1.0),)) for m in months),
        session_start=start, ack_latency=0.001, fill_latency=0.001, **changes)


async def _one_oats(context: Any) -> dict[str, int]:
    """A hook (async: a thread would race the virtual clock) whose target is +1 ZO."""
    await trio.lowlevel.checkpoint()
    return {"ZO": 1}


def _held(exchange: Any) -> dict[str | None, int]:
    return {p.contract.expiry: p.quantity for p in exchange.positions() if p.quantity}


async def test_a_roll_whose_close_is_rejected_does_not_open_the_new_month_too(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Long 1 ZOK5, bought Thursday 2025-04-24; at Friday's 08:35 the front month is ZON5 and
    the hook asks for +1 ZO. The exchange rejects the sale of the ZOK5. The trader (whose
    ``max_position`` of 2 leaves room for a second target) expects to still hold 1 contract,
    to be rolled at the next run, not 2: long the delivery month and the next."""
    start = dt.datetime(2025, 4, 24, 14, 30, tzinfo=dt.UTC)
    schedule = DailySchedule(at=dt.time(8, 35), days=parse_days("d", "Fri"), zone=CHICAGO)
    async with open_sim_exchange(_may_and_july(start), seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        config = HydraConfig(execution=ExecutionSettings(patience=0.2),
                             risk=RiskLimits(max_position=2))
        async with open_engine(exchange, tmp_path / "j.sqlite", config) as engine, \
                trio.open_nursery() as nursery:
            bought = await engine.submit(OrderIntent(contract=OATS.for_month("202505"),
                                                     side=Side.BUY, quantity=1))
            assert (await bought.wait_done()).filled == 1
            exchange.inject(RejectNextOrder(at=trio.current_time() - exchange.origin + 1))
            with capture_logs() as logs:
                nursery.start_soon(functools.partial(
                    run_schedule, engine, broker, hook=_one_oats, name="desk",
                    schedule=schedule, now=lambda: exchange.timestamp(trio.current_time()),
                    limits=LIMITS))
                await trio.sleep(86400)
                nursery.cancel_scope.cancel(reason="test over")
        held = _held(exchange)
    assert held == {"202505": 1}
    (cut,) = [e for e in logs if e["event"] == "target_cut"]
    assert (cut["symbol"], cut["by"], cut["reason"]) == (
        "ZO", 1, "the close of another ZO month left 1 open")


async def test_a_target_held_over_the_trading_day_roll_opens_the_new_front_month(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """An end-of-day hook runs at 16:00 Chicago on Thursday 2025-04-24, after the 13:20 close,
    when ZOK5 is still the front month, and asks for +1 ZO; the intent is held for the 19:00
    open, which belongs to Friday's trading day, when the front month is ZON5 (ZOK5 is five
    days from first notice). The trader expects the position opened in ZON5, not a new long in
    the month the roll has just left, to be sold again (spread paid twice) at the next run.
    (Worked in the trading hours: the liquid ones would hold it to Friday's 08:30.)"""
    start = dt.datetime(2025, 4, 24, 15, 55, tzinfo=CHICAGO)
    schedule = DailySchedule(at=dt.time(16, 0), days=parse_days("d", "Mon-Fri"), zone=CHICAGO)
    params = _may_and_july(start.astimezone(dt.UTC), sessions=True)
    async with open_sim_exchange(params, seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        async with open_engine(exchange, tmp_path / "j.sqlite", AT_NIGHT) as engine, \
                trio.open_nursery() as nursery:
            assert engine.front_months()["ZO"] == "202505"
            nursery.start_soon(functools.partial(
                run_schedule, engine, broker, hook=_one_oats, name="desk",
                schedule=schedule, now=lambda: exchange.timestamp(trio.current_time()),
                limits=LIMITS))
            await trio.sleep(4 * 3600)  # to 19:55, the overnight session under way
            assert engine.front_months()["ZO"] == "202507"
            nursery.cancel_scope.cancel(reason="test over")
        held = _held(exchange)
    assert held == {"202507": 1}


async def _twap_then(friday: int, *, hours: float, path: Path) -> tuple[dict[str | None, int],
                                                                    list[dict[str, Any]]]:
    """The TWAP toward +4 ZO of the tests below, with ``friday``'s target asked at Friday's
    08:35 run: what is held ``hours`` after Thursday 08:30, and the intents journaled."""
    start = dt.datetime(2025, 4, 10, 13, 30, tzinfo=dt.UTC)
    schedule = DailySchedule(at=dt.time(8, 35), days=parse_days("d", "Mon-Fri"), zone=CHICAGO)
    config = HydraConfig(
        execution=ExecutionSettings(patience=0.2, twap_threshold="0.001", twap_slices=4,
                                    twap_horizon=2 * 86400.0, twap_jitter=0.0),
        risk=RiskLimits(max_position=10))

    async def targets(context: Any) -> dict[str, int]:
        await trio.lowlevel.checkpoint()
        return {"ZO": 4 if context.now.weekday() == 3 else friday}

    async with open_sim_exchange(_may_and_july(start, ("202505",)), seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        async with open_engine(exchange, path, config) as engine, \
                trio.open_nursery() as nursery:
            nursery.start_soon(functools.partial(
                run_schedule, engine, broker, hook=targets, name="desk", schedule=schedule,
                now=lambda: exchange.timestamp(trio.current_time()), limits=LIMITS))
            await trio.sleep(hours * 3600)
            nursery.cancel_scope.cancel(reason="test over")
        held = _held(exchange)
    journal = Journal.open_read_only(path)
    try:
        intents = [p["intent"] for _, kind, p in journal.events() if kind is EventKind.INTENT]
    finally:
        journal.close()
    return held, intents


async def test_the_same_target_while_it_is_worked_sends_nothing_new(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """At 08:35 on Thursday 2025-04-10 the hook asks for +4 ZO, worked as a TWAP of four
    slices over two days (a thin market, ``twap_carry``-style horizon). At Friday's 08:35 two
    slices have filled and the hook asks for +4 again. The trader expects long 4 once the
    TWAP is over (Saturday 08:35), as the target says, not 4 and more bought again: nothing
    new is journaled, and the TWAP alone brings the position to 4."""
    held, intents = await _twap_then(4, hours=49, path=tmp_path / "j.sqlite")
    assert held == {"202505": 4}
    assert [(i["side"], i["quantity"]) for i in intents] == [("BUY", 4)]


async def test_a_raised_target_while_it_is_worked_sends_only_the_rise(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Friday's run asks for +6 while the TWAP toward +4 has two contracts to go: Hydra buys
    the 2 the rise adds beside the TWAP, which goes on (done by Sunday noon: the second
    TWAP's horizon is two days from Friday's 08:35)."""
    held, intents = await _twap_then(6, hours=75.5, path=tmp_path / "j.sqlite")
    assert held == {"202505": 6}
    assert [(i["side"], i["quantity"]) for i in intents] == [("BUY", 4), ("BUY", 2)]


async def test_a_lowered_target_while_it_is_worked_is_not_doubled(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Friday's run asks for +3 while the TWAP toward +4 has filled 2: the TWAP is cancelled
    and 1 is bought, not a sale against the TWAP's buying nor 3 more on top of it."""
    with capture_logs() as logs:
        held, intents = await _twap_then(3, hours=49, path=tmp_path / "j.sqlite")
    assert held == {"202505": 3}
    assert [(i["side"], i["quantity"]) for i in intents] == [("BUY", 4), ("BUY", 1)]
    (replaced,) = [e for e in logs if e["event"] == "target_replaced"]
    assert (replaced["replaced"], replaced["quantity"]) == ([intents[0]["intent_id"]], 1)


async def test_a_target_turned_to_the_other_side_while_it_is_worked_sells_once(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Friday's run asks for -1 while the TWAP toward +4 has filled 2: the TWAP's buying is
    cancelled and the 3 that reach -1 are sold, once (a TWAP of its own: done by Sunday
    noon)."""
    with capture_logs() as logs:
        held, intents = await _twap_then(-1, hours=75.5, path=tmp_path / "j.sqlite")
    assert held == {"202505": -1}
    assert [(i["side"], i["quantity"]) for i in intents] == [("BUY", 4), ("SELL", 3)]
    (replaced,) = [e for e in logs if e["event"] == "target_replaced"]
    assert (replaced["replaced"], replaced["quantity"]) == ([intents[0]["intent_id"]], -3)
    (bought,) = [e for e in logs if e["event"] == "intent_finished"
                 and e["intent_id"] == intents[0]["intent_id"]]
    assert bought["filled"] == "2/4"


async def test_a_target_held_for_the_open_is_not_bought_again_by_the_next_days_run(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """A daily Mon-Sun hook asks for +1 ZO at 08:35 on Saturday 2025-04-12, when oats are
    closed: the intent is held for Sunday's 19:00 open (in the trading hours). Sunday's 08:35
    run asks for +1 again; the trader expects long 1 once the market opens, not 2."""
    start = dt.datetime(2025, 4, 12, 8, 30, tzinfo=CHICAGO)
    schedule = DailySchedule(at=dt.time(8, 35), days=parse_days("d", "Mon-Sun"), zone=CHICAGO)
    params = _may_and_july(start.astimezone(dt.UTC), ("202505",), sessions=True)
    async with open_sim_exchange(params, seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        async with open_engine(exchange, tmp_path / "j.sqlite", AT_NIGHT) as engine, \
                trio.open_nursery() as nursery:
            nursery.start_soon(functools.partial(
                run_schedule, engine, broker, hook=_one_oats, name="desk",
                schedule=schedule, now=lambda: exchange.timestamp(trio.current_time()),
                limits=LIMITS))
            await trio.sleep(35.5 * 3600)  # to Sunday 20:00, an hour into the session
            nursery.cancel_scope.cancel(reason="test over")
        held = _held(exchange)
    assert held == {"202505": 1}


async def test_a_targets_roll_cut_between_its_legs_by_a_crash_is_finished_at_restart(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Long 1 ZOK5; at Friday 2025-04-25's 08:35 the hook's target rolls it: the ZOK5 sale
    fills, and Hydra is killed as it journals the end of that sale, before the ZON5 buy is
    journaled. Restarted at once, with the hook next due on Monday. The trader expects the
    roll finished as `Engine.roll`'s is after a crash (``roll_started``), not to sit flat
    through Friday, the position the target asks for gone until the next run."""
    start = dt.datetime(2025, 4, 24, 14, 30, tzinfo=dt.UTC)
    schedule = DailySchedule(at=dt.time(8, 35), days=parse_days("d", "Mon-Fri"), zone=CHICAGO)
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=ExecutionSettings(patience=0.2),
                         risk=RiskLimits(max_position=1))
    friday = dt.datetime(2025, 4, 25, 8, 35, tzinfo=CHICAGO)

    def hook_task(engine: Any, broker: SimBroker, exchange: Any) -> Any:
        return functools.partial(run_schedule, engine, broker, hook=_one_oats, name="desk",
                                 schedule=schedule, limits=LIMITS,
                                 now=lambda: exchange.timestamp(trio.current_time()))

    async with open_sim_exchange(_may_and_july(start), seed=1) as exchange:
        broker = SimBroker(exchange)
        await broker.connect()
        async with open_engine(exchange, path, config) as engine:
            bought = await engine.submit(OrderIntent(contract=OATS.for_month("202505"),
                                                     side=Side.BUY, quantity=1))
            assert (await bought.wait_done()).filled == 1
        with pytest.raises(BaseExceptionGroup) as crashed:
            crash = crash_once(path, lambda j: len(j.notes("intent_finished")) == 2)
            async with open_engine(exchange, path, config, offload=crash) as engine, \
                    trio.open_nursery() as nursery:
                nursery.start_soon(hook_task(engine, broker, exchange))
                await trio.sleep(2 * 86400)
        assert crashed.group_contains(Crash)
        assert friday < exchange.timestamp(trio.current_time()) < friday + dt.timedelta(
            minutes=1)
        assert _held(exchange) == {}  # the sale filled, the buy never journaled
        async with open_engine(exchange, path, config) as engine, \
                trio.open_nursery() as nursery:
            nursery.start_soon(hook_task(engine, broker, exchange))
            await trio.sleep(3600)  # to Friday 09:35; the hook's next run is Monday's
            nursery.cancel_scope.cancel(reason="test over")
        held = _held(exchange)
    assert held == {"202507": 1}


def test_what_a_close_left_open_is_cut_from_the_opens_on_its_side_only() -> None:
    """A close of a long that left 3 open cuts a buy of 5 to 2 and then a buy of 1 not at all;
    a sale (it reduces, as a target of 0 asks) and another symbol's buy are sent whole."""
    def order(side: Side, quantity: int, contract: Any = OATS) -> OrderIntent:
        return OrderIntent(contract=contract, side=side, quantity=quantity)

    left = {"ZO": 3}
    cut = [_less_what_stayed_open(o, left) for o in (
        order(Side.SELL, 2), order(Side.BUY, 5), order(Side.BUY, 1), order(Side.BUY, 1, LEAN_HOGS))]
    assert [None if o is None else (o.contract.symbol, o.side, o.quantity) for o in cut] == [
        ("ZO", Side.SELL, 2), ("ZO", Side.BUY, 2), ("ZO", Side.BUY, 1), ("HE", Side.BUY, 1)]
    assert left == {"ZO": 0}
    assert _less_what_stayed_open(order(Side.BUY, 2), {"ZO": 2}) is None


def test_a_terminal_stopped_by_ctrl_s_does_not_freeze_hydra_run(tmp_path: Path) -> None:
    """hydra run --sim on a pseudo-terminal; once the region is drawn the trader presses
    Ctrl-S (XOFF: the terminal takes no more output), then stops Hydra with SIGTERM. The
    trader expects it to stop as usual, in a few seconds (nothing is working): a region that
    waits on the terminal must not hold the engine, whose ladders, fills and signals go on
    (the redraw once wrote from the event loop and blocked it there: SIGTERM was never
    handled), nor the exit, though what was queued for the terminal is lost."""
    journal = tmp_path / "journal.sqlite"
    config = tmp_path / "hydra.toml"
    config.write_text(f'[shutdown]\ndrain_timeout = 3.0\n[journal]\npath = "{journal}"\n')
    process, leader = hydra_run_on_a_pty(config, journal)
    seen = b""
    try:
        while b"hydra: SIM" not in seen:
            chunk = os.read(leader, 65536)
            assert chunk, seen
            seen += chunk
        os.write(leader, b"\x13")  # Ctrl-S
        time.sleep(2)  # a redraw or two: each second
        process.send_signal(signal.SIGTERM)
        try:
            code: int | None = process.wait(timeout=30)  # about 6 s: drain, then 5 s of flush
        except subprocess.TimeoutExpired:
            code = None
    finally:
        os.write(leader, b"\x11")  # Ctrl-Q: whatever it was writing goes out
        threading.Thread(target=_drain, args=(leader,), daemon=True).start()
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
    assert code == 0


def test_a_run_stopped_under_ctrl_s_writes_its_summary_once_the_terminal_resumes(
    tmp_path: Path,
) -> None:
    """As above, but the trader presses Ctrl-Q once Hydra has closed its journal (the drain
    done while the terminal took nothing): the lines queued meanwhile then come out, the
    drain's warning and the run's summary among them, and hydra run exits 0."""
    journal = tmp_path / "journal.sqlite"
    config = tmp_path / "hydra.toml"
    config.write_text(f'[shutdown]\ndrain_timeout = 3.0\n[journal]\npath = "{journal}"\n')
    process, leader = hydra_run_on_a_pty(config, journal)
    seen, rest = b"", bytearray()
    try:
        while b"hydra: SIM" not in seen:  # the journal is held by now
            chunk = os.read(leader, 65536)
            assert chunk, seen
            seen += chunk
        os.write(leader, b"\x13")  # Ctrl-S
        time.sleep(2)  # a redraw or two: each second
        process.send_signal(signal.SIGTERM)
        lock, hang_guard = Path(f"{journal}.lock"), time.monotonic() + 30
        while lock.stat().st_size and time.monotonic() < hang_guard:  # emptied once closed
            time.sleep(0.05)
        assert not lock.stat().st_size  # the drain was done while the terminal was stopped
        os.write(leader, b"\x11")  # Ctrl-Q
        reader = threading.Thread(target=_read_into, args=(leader, rest))
        reader.start()
        code = process.wait(timeout=60)
        reader.join(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        os.close(leader)
    assert code == 0
    assert b"draining" in rest and b"runner_stopped" in rest, bytes(rest)


def _read_into(fd: int, into: bytearray) -> None:
    """Read the terminal into ``into`` until the child closes it."""
    with contextlib.suppress(OSError):
        while chunk := os.read(fd, 65536):
            into += chunk


def _drain(fd: int) -> None:
    """Read the terminal until the child closes it, so its last writes never block."""
    with contextlib.suppress(OSError):
        while os.read(fd, 65536):
            pass


class _PositionsHangOnce(SimBroker):
    """A broker session that never answers the first request for positions (IB's at its
    nightly reset, say), then answers as usual."""

    hung = False

    async def positions(self) -> tuple[Any, ...]:
        if not self.hung:
            self.hung = True
            await trio.sleep_forever()
        return await super().positions()


async def test_a_broker_that_never_gives_positions_skips_one_run_not_every_later_one(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """The broker never answers Thursday 08:35's request for positions. The trader expects
    that run skipped after the hook's timeout (30 s: a ``strategy_skipped`` line) and the
    hook asked again at Friday's 08:35, not the runner stuck on the request for good, the
    strategy silently stopped."""
    start = dt.datetime(2025, 4, 10, 8, 0, tzinfo=CHICAGO)
    schedule = DailySchedule(at=dt.time(8, 35), days=parse_days("d", "Mon-Fri"), zone=CHICAGO)
    asked: list[float] = []

    async def hook(context: Any) -> dict[str, int]:
        asked.append(trio.current_time())
        await trio.lowlevel.checkpoint()
        return {}

    async with open_sim_exchange(_may_and_july(start.astimezone(dt.UTC)), seed=1) as exchange:
        broker = _PositionsHangOnce(exchange)
        await broker.connect()
        async with open_engine(exchange, tmp_path / "j.sqlite") as engine, \
                trio.open_nursery() as nursery:
            with capture_logs() as logs:
                nursery.start_soon(functools.partial(
                    run_schedule, engine, broker, hook=hook, name="desk", schedule=schedule,
                    now=lambda: exchange.timestamp(trio.current_time()), limits=LIMITS))
                await trio.sleep(2 * 86400)
                nursery.cancel_scope.cancel(reason="test over")
            origin = exchange.origin
    (skipped,) = [e for e in logs if e["event"] == "strategy_skipped"]
    assert skipped["reason"] == "no positions from the broker within 30 s"
    assert [at - origin for at in asked] == [35 * 60 + 86400.0]
