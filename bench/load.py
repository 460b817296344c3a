"""A burst of intents through Hydra and IBBroker against the simulated gateway (a subprocess):
200 intents a second for 10 seconds (2,000 intents) by default.

Each intent is a 1-lot CROSS buy: a marketable limit at the far touch, worked ``--patience``
seconds, then cancelled. One order per intent, normally filled at once, so the broker sees
one message per intent (two when the cross misses and is cancelled), and the run is bound by
pacing, which is what this measures: Hydra sends at most ``risk.messages_per_second`` (45) a
second, so the intents waiting for the wire pile up during the burst and drain at 45 a second;
the least time to send everything is messages / 45. (``--sides alternate`` alternates buys and
sells; then a buy left resting is hit by a later sell, and the gateway rejects the self-trade.)

Reported: that nothing was dropped (every intent journaled, reported by its handle and by an
`IntentFinished` event, every journaled order placed), that every intent's order ended
(FILLED, CANCELLED or REJECTED in its report), that every execution at the gateway is journaled
and nothing is left open there (asked by a second ib_async client, client id 2), that the
gateway refused nothing with error 100 (journal ``broker_error`` notes with code 100 and the
gateway's ``gateway_rate_exceeded`` log lines); the maximum queue depth (intents submitted whose
order has not reached ``Broker.place``, and ``engine.statistics().working``, sampled every
100 ms); how late acks and fills reach the engine; and the time to drain (last submit to last
intent finished) against the pacing minimum.

Run: ``.venv/bin/python bench/load.py``; ``--quick`` for 200 intents; ``--rate``, ``--seconds``,
``--patience``, ``--journal PATH`` to keep the journal.
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import trio
from _common import StampedAcks, gateway_process, gateway_view, header

import hydra
from hydra import (
    OATS,
    BrokerSettings,
    ExecutionSettings,
    FillRecorded,
    HydraConfig,
    IntentFinished,
    LoggingSettings,
    LogLevel,
    OrderIntent,
    Policy,
    RiskLimits,
    ShutdownSettings,
    Side,
)
from hydra._ids import IntentId
from hydra._orders import OrderRequest
from hydra.ib import IBBroker, open_ib_broker

SAMPLE_EVERY = 0.1
FINAL = {"FILLED", "CANCELLED", "REJECTED"}
HANG_GUARD = 900.0


class CountingBroker:
    """A `Broker` that forwards everything to ``inner`` and counts the messages it sends."""

    def __init__(self, inner: IBBroker) -> None:
        self._inner = inner
        self.placed: list[float] = []  # when each order reached place()
        self.cancels = 0
        self.modifies = 0
        self.last_message = math.nan
        # When ib_async heard of each ack (by orderRef) and fill (by execution id), observed
        # on ib_async's own events (read only), and when the engine's pump took each ack.
        self.acks_heard: dict[str, float] = {}
        self.fills_heard: dict[str, float] = {}
        self.acks_taken: dict[str, float] = {}
        self._events = StampedAcks(
            inner.events(),
            lambda ack: self.acks_taken.setdefault(ack.client_order_id, time.perf_counter()),
        )
        inner._ib.orderStatusEvent += self._heard_status
        inner._ib.commissionReportEvent += self._heard_fill

    def _heard_status(self, trade: Any) -> None:
        if trade.orderStatus.status in ("Submitted", "PreSubmitted"):
            self.acks_heard.setdefault(trade.order.orderRef, time.perf_counter())

    def _heard_fill(self, trade: Any, fill: Any, report: Any) -> None:
        self.fills_heard.setdefault(fill.execution.execId, time.perf_counter())

    def ack_delays(self) -> list[float]:
        return [taken - self.acks_heard[coid] for coid, taken in self.acks_taken.items()
                if coid in self.acks_heard]

    def events(self) -> Any:
        return self._events

    async def place(self, request: OrderRequest) -> None:
        self.placed.append(time.perf_counter())
        self.last_message = self.placed[-1]
        await self._inner.place(request)

    async def cancel(self, client_order_id: Any) -> None:
        self.cancels += 1
        self.last_message = time.perf_counter()
        await self._inner.cancel(client_order_id)

    async def modify(self, client_order_id: Any, **changes: Any) -> None:
        self.modifies += 1
        self.last_message = time.perf_counter()
        await self._inner.modify(client_order_id, **changes)

    @property
    def messages(self) -> int:
        return len(self.placed) + self.cancels + self.modifies

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@attrs.define
class Run:
    intents: int
    submit_times: list[float] = attrs.Factory(list)
    submit_lag_max: float = 0.0
    finished_times: list[float] = attrs.Factory(list)
    finished_events: int = 0
    statuses: Counter[str] = attrs.Factory(Counter)
    blocked: int = 0
    filled: int = 0
    max_queue: int = 0
    max_working: int = 0
    max_queue_at: float = 0.0
    first_place: float = math.nan
    last_place: float = math.nan
    messages: int = 0
    placed: int = 0
    cancels: int = 0
    modifies: int = 0
    trading_state: str = ""
    last_message: float = math.nan
    fill_delays: list[float] = attrs.Factory(list)  # ib_async heard → journaled, published
    ack_delays: list[float] = attrs.Factory(list)  # ib_async heard → taken by the engine


def side_of(n: int, sides: str) -> Side:
    return Side.BUY if sides == "buy" or n % 2 == 0 else Side.SELL


def config_for(port: int, patience: float) -> HydraConfig:
    big = Decimal(10) ** 9
    return HydraConfig(
        execution=ExecutionSettings(patience=patience),
        risk=RiskLimits(max_open_orders=100_000, max_orders_per_minute=100_000,
                        max_position=100_000, max_position_value=big, daily_loss_limit=big,
                        max_drawdown=big, max_single_trade_loss=big),
        broker=BrokerSettings(port=port),
        shutdown=ShutdownSettings(drain_timeout=5.0),
    )


async def burst(args: argparse.Namespace, port: int, journal: Path) -> Run:
    run = Run(intents=round(args.rate * args.seconds))
    config = config_for(port, args.patience)
    with trio.fail_after(HANG_GUARD):
        return await _burst(run, args, config, journal)


async def _burst(run: Run, args: argparse.Namespace, config: HydraConfig, journal: Path) -> Run:
    async with open_ib_broker(config.broker) as ib_broker:
        broker = CountingBroker(ib_broker)
        async with hydra.open_hydra(config, broker, journal_path=journal) as engine:  # type: ignore[arg-type]
            events = engine.subscribe()
            await ib_broker.subscribe_quotes(OATS)
            handles = []
            all_finished = trio.Event()
            async with trio.open_nursery() as nursery:

                async def sample() -> None:
                    while True:
                        depth = len(handles) - len(broker.placed)
                        if depth > run.max_queue:
                            run.max_queue, run.max_queue_at = depth, time.perf_counter()
                        run.max_working = max(run.max_working, engine.statistics().working)
                        await trio.sleep(SAMPLE_EVERY)

                async def count_finished() -> None:
                    async for event in events:
                        if isinstance(event, FillRecorded):
                            seen = broker.fills_heard.get(event.fill.execution_id)
                            if seen is not None:
                                run.fill_delays.append(time.perf_counter() - seen)
                        if isinstance(event, IntentFinished):
                            run.finished_events += 1
                            run.finished_times.append(time.perf_counter())
                            if run.finished_events == run.intents:
                                all_finished.set()

                nursery.start_soon(sample)
                nursery.start_soon(count_finished)
                start = trio.current_time()
                for n in range(run.intents):
                    due = start + n / args.rate
                    await trio.sleep_until(due)
                    run.submit_lag_max = max(run.submit_lag_max, trio.current_time() - due)
                    handles.append(await engine.submit(OrderIntent(
                        contract=OATS, side=side_of(n, args.sides), quantity=1,
                        policy=Policy.CROSS, intent_id=IntentId(f"load-{n:05d}"))))
                    run.submit_times.append(time.perf_counter())
                reports = [await handle.wait_done() for handle in handles]
                await all_finished.wait()  # the publisher may trail the last handle
                nursery.cancel_scope.cancel(reason="burst over")
            run.trading_state = engine.statistics().trading_state.value
    for report in reports:
        run.blocked += report.blocked
        run.filled += report.filled
        for child in report.children:
            run.statuses[child.status.value] += 1
    run.placed, run.cancels, run.modifies = len(broker.placed), broker.cancels, broker.modifies
    run.messages = broker.messages
    run.last_message = broker.last_message
    run.ack_delays = broker.ack_delays()
    if broker.placed:
        run.first_place, run.last_place = broker.placed[0], broker.placed[-1]
    return run


def journal_counts(path: Path) -> dict[str, Any]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        kinds = dict(db.execute("SELECT kind, count(*) FROM events GROUP BY kind").fetchall())
        notes = [json.loads(p) for (p,) in db.execute(
            "SELECT payload FROM events WHERE kind = 'note'")]
        intents = db.execute(
            "SELECT count(DISTINCT intent_id) FROM events WHERE kind = 'intent'").fetchone()[0]
        orders = db.execute(
            "SELECT count(DISTINCT client_order_id) FROM events WHERE kind = 'order'"
        ).fetchone()[0]
        statuses = dict(db.execute("SELECT status, count(*) FROM orders GROUP BY status"))
        fill_ids = {e for (e,) in db.execute("SELECT execution_id FROM events WHERE kind='fill'")}
    finally:
        db.close()
    errors = Counter(n.get("code") for n in notes if n.get("what") == "broker_error")
    return {"fill_ids": fill_ids, "kinds": kinds, "intents": intents, "orders": orders,
            "broker_errors": errors, "order_statuses": statuses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="intents a second (200)")
    parser.add_argument("--seconds", type=float, default=10.0, help="burst length (10 s)")
    parser.add_argument("--patience", type=float, default=2.0,
                        help="seconds a CROSS order rests before it is cancelled (2)")
    parser.add_argument("--sides", choices=("buy", "alternate"), default="buy",
                        help="all buys (default), or alternate buy/sell (self-trades happen: a "
                        "resting buy is hit by the next sell and the gateway rejects it)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-level", choices=[level.value for level in LogLevel],
                        default="warning", help="Hydra's log level (logs go to a temp file)")
    parser.add_argument("--journal", type=Path, default=None,
                        help="keep the journal at this path (default: a temp dir, removed)")
    parser.add_argument("--quick", action="store_true", help="1 second of the burst (200 intents)")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 1.0
    header("Hydra under a burst of intents (IBBroker, simulated gateway subprocess)")
    rate = HydraConfig().risk.messages_per_second
    sides = "all buys" if args.sides == "buy" else "sides alternating"
    print(f"burst: {args.rate:g} intents/s for {args.seconds:g} s; each a 1-lot CROSS, {sides}, "
          f"cancelled after {args.patience:g} s if unfilled; Hydra pacing "
          f"{rate} messages/s; journal: SQLite WAL synchronous=FULL in a temp dir", flush=True)
    with tempfile.TemporaryDirectory(prefix="hydra-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        journal = args.journal or tmp / "load.sqlite"
        journal.unlink(missing_ok=True)
        with (tmp / "hydra.log").open("w") as log_stream:
            hydra.configure_logging(LoggingSettings(level=LogLevel(args.log_level)),
                                    stream=log_stream)
            with gateway_process(tmp / "gateway.log", seed=args.seed) as gateway:
                started = time.perf_counter()
                run = trio.run(burst, args, gateway.port, journal)
                at_gateway = gateway_view(gateway.port)
                wall = time.perf_counter() - started
                gateway_stats = gateway.stop()
                rate_exceeded = gateway.count("gateway_rate_exceeded")
                gateway_warnings = Counter(e.get("event") for e in gateway.log_events())
        counts = journal_counts(journal)
    return report(args, run, counts, gateway_stats, rate_exceeded, gateway_warnings, wall, rate,
                  at_gateway)


def report(args: argparse.Namespace, run: Run, counts: dict[str, Any],
           gateway_stats: dict[str, Any], rate_exceeded: int, gateway_warnings: Counter[str],
           wall: float, pace: int, at_gateway: dict[str, Any]) -> int:
    first_submit, last_submit = run.submit_times[0], run.submit_times[-1]
    last_finished = max(run.finished_times)
    achieved = (len(run.submit_times) - 1) / (last_submit - first_submit)
    minimum = run.messages / pace
    send_span = run.last_message - first_submit
    drain = last_finished - last_submit
    code_100 = counts["broker_errors"].get(100, 0)
    at_gateway_fills = {e[0] for e in at_gateway["executions"]}
    dropped = {
        "intents journaled": counts["intents"] == run.intents,
        "intents reported by handle": len(run.finished_times) >= run.intents,
        "IntentFinished events": run.finished_events == run.intents,
        "journaled orders placed": counts["orders"] == run.placed,
        "no order blocked": run.blocked == 0,
        "every intent's order ended (report)": set(run.statuses) <= FINAL,
        "every gateway execution journaled": at_gateway_fills <= counts["fill_ids"],
        "nothing left open at the gateway": not at_gateway["open_refs"],
    }
    ok = all(dropped.values()) and code_100 == 0 and rate_exceeded == 0
    print()
    lag_ms = run.submit_lag_max * 1000
    print(f"submitted {len(run.submit_times)} intents in {last_submit - first_submit:.2f} s "
          f"({achieved:.1f}/s achieved, max lag behind schedule {lag_ms:.1f} ms)")
    print(f"journal: {counts['intents']} intents, {counts['orders']} orders, events by kind "
          f"{dict(sorted(counts['kinds'].items()))}")
    print(f"orders' last status in journal: {counts['order_statuses']}")
    print(f"reports: {run.finished_events} IntentFinished events; child statuses "
          f"{dict(run.statuses)}; filled {run.filled} lots; blocked {run.blocked}; trading state "
          f"{run.trading_state}")
    print(f"messages to the broker: {run.messages} ({run.placed} placements, {run.cancels} "
          f"cancels, {run.modifies} modifications); cancels asked for orders that had filled "
          f"meanwhile: {max(0, run.cancels - run.statuses['CANCELLED'])}")
    print(f"gateway (client id 2, after Hydra closed): {len(at_gateway_fills)} executions, "
          f"{len(at_gateway_fills - counts['fill_ids'])} of them not journaled; "
          f"{len(at_gateway['open_refs'])} orders still open; exchange statistics "
          f"{gateway_stats.get('exchange')}")
    print(f"broker_error notes by code: {dict(counts['broker_errors']) or 'none'}")
    print(f"gateway: error 100 (gateway_rate_exceeded) {rate_exceeded}; warnings "
          f"{dict(gateway_warnings) or 'none'}; statistics {gateway_stats.get('gateway')}")
    print(f"max queue depth (submitted, not yet at Broker.place): {run.max_queue} "
          f"(at +{run.max_queue_at - first_submit:.1f} s); max engine working: {run.max_working}")
    delays = sorted(run.fill_delays) or [math.nan]
    acks = sorted(run.ack_delays) or [math.nan]
    print(f"ack delay (ib_async orderStatus Submitted → engine's pump takes OrderAcknowledged): "
          f"median {acks[len(acks) // 2]:.3f} s, max {acks[-1]:.3f} s over {len(run.ack_delays)}")
    print(f"fill delay (ib_async commission report → FillRecorded published): median "
          f"{delays[len(delays) // 2]:.3f} s, max {delays[-1]:.3f} s over {len(run.fill_delays)}")
    print(f"last placement at +{run.last_place - first_submit:.2f} s; first submit → last "
          f"message: {send_span:.2f} s; pacing minimum "
          f"{run.messages} / {pace} = {minimum:.2f} s ({send_span / minimum:.2f}× the minimum)")
    print(f"drain (last submit → last intent finished): {drain:.2f} s; first submit → last "
          f"finished {last_finished - first_submit:.2f} s; wall {wall:.1f} s")
    for check, passed in dropped.items():
        print(f"  {'ok  ' if passed else 'FAIL'} {check}")
    print(f"  {'ok  ' if code_100 == 0 and rate_exceeded == 0 else 'FAIL'} no error 100")
    print(f"RESULT: {'PASS' if ok else 'FAIL'}")
    print()
    print("For BENCHMARKS.md:")
    print()
    print("| intents | rate /s | dropped | orders not ended | fills not journaled | error 100 "
          "| max queue | messages | pacing min s | send span s | drain s | max fill delay s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    unended = sum(n for status, n in run.statuses.items() if status not in FINAL)
    unjournaled = len(at_gateway_fills - counts["fill_ids"])
    lost = run.intents - min(counts["intents"], run.finished_events)
    print(f"| {run.intents} | {args.rate:g} | {lost} | {unended} | {unjournaled} "
          f"| {code_100 + rate_exceeded} "
          f"| {run.max_queue} | {run.messages} | {minimum:.1f} | {send_span:.1f} | {drain:.1f} "
          f"| {delays[-1]:.1f} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
