"""What the benchmark scripts share: the machine header, percentiles and 95% intervals, and
the simulated gateway as a subprocess (``bench/_gateway.py``) on a free port."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

import trio
from ib_async import IB

from hydra.brokers import BrokerEvent, OrderAcknowledged

CHECKER_CLIENT_ID = 2

BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable


def header(title: str) -> None:
    """Print what ran where and when, first thing in every benchmark's output."""
    versions = ", ".join(
        f"{name} {_version(name)}" for name in ("hydra-exec", "trio", "trio-asyncio", "ib_async")
    )
    print(f"# {title}")
    print(f"date:    {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, {platform.machine()}")
    print(f"python:  {platform.python_implementation()} {platform.python_version()}; {versions}")
    print(f"command: {' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}")
    print(f"load:    {load_average()} (1, 5, 15 min; above ~0.5 something else is running)")
    print(flush=True)


def load_average() -> str:
    """The machine's load averages: a bench timed on a busy machine says so."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def t_quantile(p: float, df: int) -> float:
    """Student-t quantile by the Cornish-Fisher expansion around the normal one (the stdlib
    has no t distribution). At p = 0.975 its error is below 1e-3 from df = 4 (2.7756 against
    the table's 2.7764) and below 1e-4 from df = 7."""
    z = statistics.NormalDist().inv_cdf(p)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def mean_interval(values: Sequence[float]) -> tuple[float, float]:
    """The mean of ``values`` and the half-width of its 95% Student-t interval (NaN for fewer
    than two values)."""
    mean = statistics.fmean(values) if values else float("nan")
    if len(values) < 2:
        return mean, float("nan")
    spread = statistics.stdev(values) / math.sqrt(len(values))
    return mean, t_quantile(0.975, len(values) - 1) * spread


class GatewayProcess:
    """A running ``bench/_gateway.py``: its port, and its counts once stopped."""

    def __init__(self, process: subprocess.Popen[str], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path
        self.stats: dict[str, Any] = {}

    def stop(self) -> dict[str, Any]:
        """SIGTERM it, wait, and return its statistics (empty when it died first)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            out, _ = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        for line in out.splitlines():
            if line.startswith("STATS "):
                self.stats = json.loads(line.removeprefix("STATS "))
        return self.stats

    def log_events(self) -> list[dict[str, Any]]:
        """The gateway's JSON log lines (warnings and errors) so far."""
        events = []
        for line in self.log_path.read_text().splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                events.append({"event": "unparsed", "line": line})
        return events

    def count(self, event: str) -> int:
        return sum(1 for e in self.log_events() if e.get("event") == event)


@contextmanager
def gateway_process(
    log_path: Path, *, seed: int = 1, ack_latency: float = 0.030, fill_latency: float = 0.020,
    market: str = "oats",
) -> Iterator[GatewayProcess]:
    """Start the simulated gateway in its own process on a free port; stop it on exit."""
    log: TextIO
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [PYTHON, str(BENCH / "_gateway.py"), "--port", "0", "--seed", str(seed),
             "--market", market, "--ack-latency", str(ack_latency),
             "--fill-latency", str(fill_latency)],
            stdout=subprocess.PIPE, stderr=log, text=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("PORT "):
            process.kill()
            raise RuntimeError(f"the gateway did not start: {line!r}; see {log_path}")
        gateway = GatewayProcess(process, int(line.split()[1]), log_path)
        try:
            yield gateway
        finally:
            gateway.stop()


def gateway_view(port: int) -> dict[str, Any]:
    """Executions, and every order (open and completed), as client id 2 sees them (asked from
    a fresh process: ib_async's blocking calls want a plain asyncio loop, and a process that
    ran trio-asyncio has its loop policy installed)."""
    out = subprocess.run([PYTHON, __file__, "view", str(port)], check=True, text=True,
                         capture_output=True, timeout=60).stdout
    return json.loads(out)


def _gateway_view_here(port: int) -> dict[str, Any]:
    ib = IB()
    ib.connect("127.0.0.1", port, clientId=CHECKER_CLIENT_ID, timeout=10)
    try:
        fills = ib.reqExecutions()
        open_trades = ib.reqAllOpenOrders()
        completed = ib.reqCompletedOrders(apiOnly=False)
        return {
            "executions": [(f.execution.execId, f.execution.orderRef, float(f.execution.shares))
                           for f in fills],
            "open_refs": [t.order.orderRef for t in open_trades],
            "completed_refs": [t.order.orderRef for t in completed],
        }
    finally:
        ib.disconnect()


if __name__ == "__main__" and sys.argv[1:2] == ["view"]:
    print(json.dumps(_gateway_view_here(int(sys.argv[2]))))


class StampedAcks:
    """A broker's event channel, read through: calls ``on_ack`` with each
    `OrderAcknowledged` as it is taken (to time acknowledgements without touching Hydra)."""

    def __init__(self, inner: trio.MemoryReceiveChannel[BrokerEvent],
                 on_ack: Callable[[OrderAcknowledged], object]) -> None:
        self._inner = inner
        self._on_ack = on_ack

    def __aiter__(self) -> StampedAcks:
        return self

    async def __anext__(self) -> BrokerEvent:
        try:
            event = await self._inner.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None
        if isinstance(event, OrderAcknowledged):
            self._on_ack(event)
        return event


def timed_rehearsal(journal: Path, *, seed: int, weeks: int, broker: str) -> dict[str, Any]:
    """``hydra rehearse`` in a child: its JSON summary, with its wall and CPU seconds (user +
    system, the child's own)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([PYTHON, "-m", "hydra", "rehearse", "--weeks", str(weeks),
                           "--seed", str(seed), "--journal", str(journal), "--json",
                           "--broker", broker],
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"hydra rehearse --broker {broker} failed ({done.returncode}): "
                         f"{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {**json.loads(done.stdout), "wall": wall, "cpu": cpu}
