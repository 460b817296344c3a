"""Order acknowledgement latency: Hydra (submit → journal write-ahead → risk → IBBroker → ack)
against bare ib_async (``placeOrder`` → orderStatus ``Submitted``) on the same simulated gateway,
in the same run, samples interleaved (alternating which goes first) so both see the same
conditions.

Hydra's side runs `open_hydra` with a real SQLite journal in a temp dir (WAL,
``synchronous=FULL``, writes in a worker thread: the default) over `open_ib_broker`. Its ack
time is when `OrderAcknowledged` reaches the engine's broker-event pump, seen by a thin
`Broker` wrapper (`StampedBroker`) that forwards everything unchanged. Bare ib_async is a
second client (client id 7) on the same trio-asyncio loop; its ack time is its first
``orderStatus`` ``Submitted``/``PreSubmitted`` callback. Both orders are 1-lot buys priced
1.5 % under the mid (Hydra: ``limit_offset = 150 bps``), so they rest, and are cancelled
(and the cancel confirmed) before the next sample.

Run: ``.venv/bin/python bench/latency.py`` (both gateway placements, 200 samples each);
``--quick`` for a smoke run; ``--gateway subprocess|inproc|both``; ``--samples N``;
``--ack-latency S`` (the simulated exchange's own ack delay, 0.030 s as ``hydra sim-gateway``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import itertools
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import attrs
import trio
import trio_asyncio
from _common import StampedAcks, gateway_process, header, median, percentile
from ib_async import IB, Future, LimitOrder

import hydra
from hydra import (
    OATS,
    BrokerSettings,
    Distance,
    ExecutionSettings,
    HydraConfig,
    LoggingSettings,
    LogLevel,
    OrderIntent,
    Policy,
    RiskLimits,
    ShutdownSettings,
    Side,
)
from hydra._ids import IntentId, client_order_id_for
from hydra.brokers import OrderAcknowledged
from hydra.gateway import serve_gateway
from hydra.ib import IBBroker, open_ib_broker
from hydra.sim import MarketParams, SimParams, open_sim_exchange

OFFSET_BPS = 150  # inside the default 200 bps price collar, far enough never to fill
BARE_CLIENT_ID = 7
SAMPLE_GAP = 0.05  # between pairs: Hydra sends 2 messages a pair; 45/s pacing must never bind
HANG_GUARD = 30.0  # per sample


class StampedBroker:
    """A `Broker` that forwards every call to ``inner`` and notes when each ack passes."""

    def __init__(self, inner: IBBroker) -> None:
        self._inner = inner
        self.acks: dict[str, float] = {}
        self._waiting: dict[str, trio.Event] = {}
        self._events = StampedAcks(inner.events(), self._stamp)

    def _stamp(self, event: OrderAcknowledged) -> None:
        self.acks[event.client_order_id] = time.perf_counter()
        waiting = self._waiting.pop(event.client_order_id, None)
        if waiting is not None:
            waiting.set()

    async def wait_ack(self, client_order_id: str) -> float:
        if client_order_id not in self.acks:
            event = self._waiting.setdefault(client_order_id, trio.Event())
            await event.wait()
        return self.acks[client_order_id]

    def events(self) -> Any:
        return self._events

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class BareClient:
    """ib_async with nothing around it: place, wait for Submitted; cancel, wait for Cancelled."""

    def __init__(self, ib: IB) -> None:
        self.ib = ib
        self._want: dict[int, tuple[frozenset[str], trio.Event]] = {}
        self._seen: dict[tuple[int, str], float] = {}
        ib.orderStatusEvent += self._on_status

    def _on_status(self, trade: Any) -> None:  # an ib_async callback: record, set an event
        now = time.perf_counter()
        order_id, status = trade.order.orderId, trade.orderStatus.status
        self._seen.setdefault((order_id, status), now)
        want = self._want.get(order_id)
        if want is not None and status in want[0]:
            del self._want[order_id]
            want[1].set()

    async def _wait(self, order_id: int, statuses: frozenset[str]) -> float:
        for status in statuses:
            if (order_id, status) in self._seen:
                return self._seen[order_id, status]
        event = trio.Event()
        self._want[order_id] = (statuses, event)
        await event.wait()
        return min(self._seen[order_id, s] for s in statuses if (order_id, s) in self._seen)

    async def sample(self, contract: Any, price: Decimal) -> float:
        started = time.perf_counter()
        trade = self.ib.placeOrder(contract, LimitOrder("BUY", 1, float(price)))
        acked = await self._wait(trade.order.orderId, frozenset({"Submitted", "PreSubmitted"}))
        self.ib.cancelOrder(trade.order)
        await self._wait(trade.order.orderId, frozenset({"Cancelled", "ApiCancelled"}))
        return acked - started


def config_for(port: int) -> HydraConfig:
    return HydraConfig(
        execution=ExecutionSettings(patience=600.0, limit_offset=Distance.bps(OFFSET_BPS)),
        risk=RiskLimits(max_open_orders=1000, max_orders_per_minute=10_000),
        broker=BrokerSettings(port=port),
        shutdown=ShutdownSettings(drain_timeout=0.1),
    )


def far_price(mid: Decimal) -> Decimal:
    """1-lot buy price ``OFFSET_BPS`` under ``mid``, on the tick grid (as Hydra prices it)."""
    tick = OATS.tick_size
    return (mid * (1 - Decimal(OFFSET_BPS) / 10_000) / tick).to_integral_value(ROUND_FLOOR) * tick


@attrs.frozen
class Samples:
    placement: str
    hydra: list[float]
    bare: list[float]


@asynccontextmanager
async def served_in_process(seed: int, ack_latency: float) -> AsyncIterator[int]:
    params = SimParams(
        markets=(MarketParams.oats(),),
        session_start=dt.datetime.now(dt.UTC).replace(microsecond=0),
        ack_latency=ack_latency,
    )
    async with open_sim_exchange(params, seed=seed) as exchange, trio.open_nursery() as nursery:
        gateway = await nursery.start(functools.partial(serve_gateway, exchange))
        yield gateway.port
        nursery.cancel_scope.cancel(reason="benchmark over")


async def measure(port: int, samples: int, journal: Path) -> tuple[list[float], list[float]]:
    """``samples`` interleaved pairs of Hydra and bare acknowledgement times, in seconds."""
    config = config_for(port)
    hydra_times: list[float] = []
    bare_times: list[float] = []
    async with open_ib_broker(config.broker) as ib_broker:
        broker = StampedBroker(ib_broker)
        async with hydra.open_hydra(config, broker, journal_path=journal) as engine:  # type: ignore[arg-type]
            bare = BareClient(IB())
            await trio_asyncio.aio_as_trio(bare.ib.connectAsync)(
                "127.0.0.1", port, clientId=BARE_CLIENT_ID, timeout=10)
            (contract,) = await trio_asyncio.aio_as_trio(bare.ib.qualifyContractsAsync)(
                Future("ZO", exchange="CBOT"))
            await ib_broker.subscribe_quotes(OATS)
            numbers = itertools.count()

            async def hydra_sample() -> float:
                intent_id = IntentId(f"lat-{next(numbers)}")
                started = time.perf_counter()
                handle = await engine.submit(OrderIntent(
                    contract=OATS, side=Side.BUY, quantity=1, policy=Policy.PATIENCE,
                    intent_id=intent_id))
                acked = await broker.wait_ack(client_order_id_for(intent_id, 1))
                handle.cancel()
                report = await handle.wait_done()
                assert report.filled == 0, f"a benchmark order filled: {report}"
                return acked - started

            async def bare_sample() -> float:
                price = far_price(ib_broker.quote_nowait(OATS).mid)
                return await bare.sample(contract, price)

            for warmup in range(3):
                await hydra_sample()
                await bare_sample()
                del warmup
            for n in range(samples):
                with trio.fail_after(HANG_GUARD):
                    if n % 2:
                        bare_times.append(await bare_sample())
                        hydra_times.append(await hydra_sample())
                    else:
                        hydra_times.append(await hydra_sample())
                        bare_times.append(await bare_sample())
                await trio.sleep(SAMPLE_GAP)
            bare.ib.disconnect()
    return hydra_times, bare_times


async def run_placement(placement: str, args: argparse.Namespace, tmp: Path) -> Samples:
    journal = (args.journal_dir or tmp) / f"latency-{placement}-{os.getpid()}.sqlite"
    if placement == "inproc":
        async with served_in_process(args.seed, args.ack_latency) as port:
            hydra_times, bare_times = await measure(port, args.samples, journal)
    else:
        hydra_times, bare_times = await measure(args.port, args.samples, journal)
    return Samples(placement=placement, hydra=hydra_times, bare=bare_times)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def report(samples: Samples, goal: float) -> bool:
    h_med, b_med = median(samples.hydra), median(samples.bare)
    ratio = h_med / b_med if b_med > 0 else math.inf
    ok = ratio <= goal
    print(f"gateway {samples.placement}: {len(samples.hydra)} samples each")
    for name, values in (("hydra", samples.hydra), ("bare ", samples.bare)):
        print(f"  {name}  median {ms(median(values))} ms  p99 {ms(percentile(values, 99))} ms  "
              f"min {ms(min(values))} ms  max {ms(max(values))} ms  "
              f"stdev {ms(statistics.pstdev(values))} ms (max: sample {values.index(max(values))})")
    print(f"  ratio of medians hydra/bare: {ratio:.2f}  (goal ≤ {goal}: "
          f"{'met' if ok else 'NOT met'})  overhead {ms(h_med - b_med)} ms", flush=True)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200, help="samples of each (default 200)")
    parser.add_argument("--gateway", choices=("subprocess", "inproc", "both"), default="both",
                        help="where the simulated gateway runs (default both, subprocess first)")
    parser.add_argument("--ack-latency", type=float, default=0.030,
                        help="the simulated exchange's ack delay, s (default 0.030)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--journal-dir", type=Path, default=None,
                        help="where Hydra's journal goes (default: a temp dir; /dev/shm takes "
                        "the disk's fsync out of the measurement)")
    parser.add_argument("--goal", type=float, default=1.5, help="max ratio of medians")
    parser.add_argument("--log-level", choices=[level.value for level in LogLevel],
                        default="warning", help="Hydra's log level (logs go to a temp file)")
    parser.add_argument("--quick", action="store_true", help="20 samples, subprocess only")
    args = parser.parse_args()
    if args.quick:
        args.samples, args.gateway = 20, "subprocess"
    header("Hydra order-acknowledgement latency vs bare ib_async")
    placements = ["subprocess", "inproc"] if args.gateway == "both" else [args.gateway]
    print(f"samples {args.samples} each, interleaved; 1-lot buys {OFFSET_BPS} bps under mid, "
          f"cancelled after each ack; exchange ack latency {args.ack_latency * 1000:g} ms; "
          f"Hydra log level {args.log_level}; journal: SQLite WAL synchronous=FULL in "
          f"{args.journal_dir or 'a temp dir'}, thread offload", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="hydra-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        log_stream = (tmp / "hydra.log").open("w")
        hydra.configure_logging(LoggingSettings(level=LogLevel(args.log_level)),
                                stream=log_stream)
        for placement in placements:
            if placement == "subprocess":
                with gateway_process(tmp / "gateway.log", seed=args.seed,
                                     ack_latency=args.ack_latency) as gateway:
                    args.port = gateway.port
                    results.append(trio.run(run_placement, placement, args, tmp))
            else:
                results.append(trio.run(run_placement, placement, args, tmp))
        log_stream.close()
    print()
    verdicts = [report(samples, args.goal) for samples in results]
    print()
    print("For BENCHMARKS.md:")
    print()
    print("| gateway | samples | Hydra median ms | Hydra p99 ms | bare median ms | bare p99 ms "
          "| ratio of medians |")
    print("|---|---|---|---|---|---|---|")
    for samples in results:
        ratio = median(samples.hydra) / median(samples.bare)
        print(f"| {samples.placement} | {len(samples.hydra)} | {ms(median(samples.hydra))} "
              f"| {ms(percentile(samples.hydra, 99))} | {ms(median(samples.bare))} "
              f"| {ms(percentile(samples.bare, 99))} | {ratio:.2f} |")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
