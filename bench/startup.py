"""Start-up time on a four-week journal: from entering `open_hydra` to the engine yielded.

The journal looks like four weeks of paper trading (20 sessions of oats TWAPs: intents, child
orders, acks, modifications, statuses, fills with their commissions, finished intents, the
risk book's notes; a handful of orders still working, at the simulated exchange too, so the
restart adopts them), at least 100,000 events, built once per run through `Journal` itself.
Each run copies it and opens Hydra on the copy against the simulated exchange (production's
worker-thread journal), so every run restarts on the same file. Goal: ≤ 1 s.

Run: ``.venv/bin/python bench/startup.py`` (``--runs N``, ``--intents N``, ``--live N``,
``--quick``). Prints the machine, then mean and 95% interval of the start-up, and where the
time goes (each journal query restart makes, timed alone on the same file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import trio
from _common import header, mean_interval

from hydra import HydraConfig
from hydra._contracts import OATS
from hydra._core._risk_checks import AccountState
from hydra._core._risk_state import RiskSnapshot
from hydra._enums import NoteKind, OrderStatus, Side
from hydra._ids import BrokerOrderId, ClientOrderId, ExecutionId, IntentId
from hydra._journal import Journal
from hydra._open_hydra import open_hydra
from hydra._orders import Fill, OrderIntent, OrderRequest
from hydra.sim import DisplayedSize, MarketParams, SimBroker, SimParams, open_sim_exchange

SNAPSHOT = RiskSnapshot.of(AccountState(start_of_day_equity=Decimal(1_000_000)),
                           day="2026-11-02", latched=()).to_details()
T0 = dt.datetime(2026, 11, 2, 14, 30, tzinfo=dt.UTC)  # a Monday, four weeks before the bench
SESSIONS = 20
TICK = Decimal("0.25")


class _Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def build_journal(path: Path, *, intents: int, live: int, seed: int = 1) -> int:
    """Write the four-week journal at ``path``; the number of events. The last ``live``
    intents each leave one order working (acked, no final status)."""
    rng = random.Random(seed)
    clock = _Clock()
    journal = Journal.open(path, clock=clock)
    per_session = intents // SESSIONS
    executions = itertools.count(1)
    calls: list[Callable[[Journal], Any]] = []
    for n in range(intents):
        session, k = divmod(n, per_session)
        clock.now = T0 + dt.timedelta(days=7 * (session // 5) + session % 5,
                                      seconds=k * 23_000 / per_session)
        if k == 0:
            calls.append(lambda j: j.record_note(NoteKind.TRADING_DAY, day="d", equity="1e6"))
        calls += _intent(n, rng, executions, leave_working=n >= intents - live)
        if len(calls) >= 2000:
            journal.apply_together(calls)
            calls = []
    journal.apply_together(calls)
    (events,) = journal._db.execute("SELECT count(*) FROM events").fetchone()
    journal.close()
    return int(events)


def _intent(n: int, rng: random.Random, executions: itertools.count[int], *,
            leave_working: bool) -> list[Callable[[Journal], Any]]:
    """One TWAP intent: 3-5 children, each acked, repriced, filled or cancelled."""
    side = Side.BUY if n % 2 else Side.SELL
    intent = OrderIntent(contract=OATS, side=side, quantity=8, intent_id=IntentId(f"int-{n}"))
    mid = Decimal(350) + TICK * rng.randint(-40, 40)
    calls: list[Callable[[Journal], Any]] = [lambda j: j.record_intent(
        intent, arrival_mid=mid, predicted_bps=Decimal("1.5"))]
    children = rng.randint(3, 5)
    filled = 0
    for c in range(1, children + 1):
        coid = ClientOrderId(f"int-{n}.{c}")
        resting = leave_working and c == children
        price = Decimal(350) - TICK * 40 * side.sign if resting else mid  # rests, unfilled
        request = OrderRequest(client_order_id=coid, intent_id=intent.intent_id, contract=OATS,
                               side=side, quantity=2, limit_price=price)
        calls += [lambda j, r=request: j.record_order(r),
                  lambda j, coid=coid, b=n * 10 + c: j.record_ack(coid, BrokerOrderId(str(b))),
                  lambda j, coid=coid: j.record_status(coid, OrderStatus.WORKING)]
        if resting:
            return calls  # still working when Hydra stopped (it was killed)
        for step in range(rng.randint(1, 3)):
            price = mid + TICK * (step + 1) * side.sign
            calls.append(lambda j, coid=coid, p=price: j.record_note(
                NoteKind.MODIFY, client_order_id=coid, limit_price=p))
        if rng.random() < 0.8:
            fill = Fill(execution_id=ExecutionId(f"ex-{next(executions)}"), client_order_id=coid,
                        symbol=OATS.symbol, side=side, price=mid, quantity=2, time=T0)
            calls += [lambda j, f=fill: j.record_fill(f, intent_id=intent.intent_id,
                                                      predicted_bps=None, actual_bps=None),
                      lambda j, f=fill: j.record_note(NoteKind.COMMISSION,
                                                      execution_id=f.execution_id,
                                                      client_order_id=f.client_order_id,
                                                      commission="1.1"),
                      lambda j, coid=coid: j.record_status(coid, OrderStatus.FILLED)]
            filled += 2
        else:
            calls.append(lambda j, coid=coid: j.record_status(coid, OrderStatus.CANCELLED))
    calls.append(lambda j: j.record_note(NoteKind.INTENT_FINISHED, intent_id=intent.intent_id,
                                         filled=filled, quantity=8))
    calls.append(lambda j: j.record_note(NoteKind.RISK_STATE, **SNAPSHOT))
    return calls


def _market() -> SimParams:
    return SimParams(markets=(MarketParams.oats(adv=0, daily_volatility=0.0,
                                                spread_ticks=((2, 1.0),),
                                                displayed_size=DisplayedSize.fixed(5)),))


async def _start_once(journal: Path) -> tuple[float, int]:
    """Seconds from entering open_hydra to the engine yielded, and the orders adopted."""
    live = Journal.open_read_only(journal)
    working = [o.request for o in live.live_orders()]
    live.close()
    async with open_sim_exchange(_market(), seed=1) as exchange:
        leftover = SimBroker(exchange, client_id=1)  # the run that was killed
        await leftover.connect()
        for request in working:
            await leftover.place(request)
        await trio.sleep(1)
        config = HydraConfig()
        started = time.perf_counter()
        async with open_hydra(config, SimBroker(exchange, client_id=1),
                              journal_path=journal) as engine:
            elapsed = time.perf_counter() - started
            adopted = len(engine.adopted)
            for handle in engine.adopted:
                handle.cancel()
    return elapsed, adopted


def _queries(path: Path) -> list[tuple[str, float]]:
    """Each journal query a restart makes, timed alone (read-only, on the same file)."""
    journal = Journal.open_read_only(path)
    found = []
    for name, query in [
        ("live_orders()", lambda: journal.live_orders()),
        ("unfinished_intents()", lambda: journal.unfinished_intents()),
        ("latest_note(risk_state)", lambda: journal.latest_note(NoteKind.RISK_STATE)),
        ("last_fill_time()", lambda: journal.last_fill_time()),
        ("fills() (once per adopted order)", lambda: journal.fills()),
    ]:
        started = time.perf_counter()
        query()
        found.append((name, time.perf_counter() - started))
    journal.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--intents", type=int, default=3600)
    parser.add_argument("--live", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 runs, a 10,000-event journal")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.intents = 2, 360
    header("Hydra start-up on a four-week journal")
    with tempfile.TemporaryDirectory() as tmp:
        built = Path(tmp) / "four-weeks.sqlite"
        started = time.perf_counter()
        events = build_journal(built, intents=args.intents, live=args.live)
        size = built.stat().st_size / 1e6
        print(f"journal: {events:,} events, {args.intents:,} intents, {args.live} orders "
              f"working, {size:.1f} MB (built in {time.perf_counter() - started:.1f} s)")
        (orders,) = sqlite3.connect(built).execute(
            "SELECT count(*) FROM events WHERE kind = 'order'").fetchone()
        print(f"orders ever written: {orders:,}\n")
        times, adopted = [], 0
        for run in range(args.runs):
            copy = Path(tmp) / f"run-{run}.sqlite"
            shutil.copy(built, copy)
            elapsed, adopted = trio.run(_start_once, copy)
            times.append(elapsed)
            print(f"run {run + 1}: {elapsed:.3f} s ({adopted} adopted)", flush=True)
        mean, half = mean_interval(times)
        print()
        for name, seconds in _queries(built):
            print(f"  {name}: {seconds * 1000:.1f} ms")
    verdict = "met" if mean + half <= 1.0 else "missed"
    print("\n| journal | runs | start-up (mean ± 95%) | min | max | goal ≤ 1 s |")
    print("|---|---|---|---|---|---|")
    print(f"| {events:,} events, {orders:,} orders, {adopted} live | {args.runs} | "
          f"{mean:.3f} ± {half:.3f} s | {min(times):.3f} s | {max(times):.3f} s | {verdict} |")


if __name__ == "__main__":
    main()
