"""The simulated gateway's speed: a year of 1-minute bars served to ib_async (about 100,000
bars; the first request generates the past, later ones reuse it), and 50 clients connected at
once, each streaming quotes and 5 levels of depth, every request of theirs answered.

Run: ``.venv/bin/python bench/gateway_speed.py`` (``--clients N``, ``--seconds S`` for the
streaming part; ``--repeat N`` warm history runs; ``--quick``). Each history figure is wall
time and this process's CPU time (on a loaded machine the wall time mostly measures the
load). In-process: the gateway, the exchange and the clients share one Trio loop (ib_async
inside trio-asyncio), so the figures include the clients' own decoding. "Longest gateway
step" is the longest the gateway's tasks ran without a checkpoint during the request (a Trio
instrument): how long every other client of the gateway waited at worst.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import statistics
import time

import trio
import trio_asyncio
from _common import header
from ib_async import IB, Future

from hydra.gateway import serve_gateway
from hydra.sim import MarketParams, SimParams, open_sim_exchange

GOAL_SECONDS = 2.0


GATEWAY_TASKS = ("hydra.gateway", "trio._highlevel_serve_listeners._run_handler")
"""The gateway's tasks: its own, and the one trio's ``serve_tcp`` runs per connection."""


class LongestStep(trio.abc.Instrument):
    """The longest step (run between two checkpoints) of any of the gateway's tasks."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._began: dict[trio.lowlevel.Task, float] = {}

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self._began[task] = time.perf_counter()

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        began = self._began.pop(task, None)
        if began is not None and task.name.startswith(GATEWAY_TASKS):
            self.longest = max(self.longest, time.perf_counter() - began)


async def _history(ib: IB, contract: Future) -> tuple[int, float, float, float]:
    """Bars, wall seconds, CPU seconds (this process: gateway and client both) of a year of
    1-minute bars, and the gateway's longest step meanwhile; CPU time is the figure a loaded
    machine disturbs least."""
    steps = LongestStep()
    trio.lowlevel.add_instrument(steps)
    start, cpu = time.perf_counter(), time.process_time()
    bars = await trio_asyncio.aio_as_trio(ib.reqHistoricalDataAsync)(
        contract, "", "1 Y", "1 min", "TRADES", False, 2, False, timeout=0
    )
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    trio.lowlevel.remove_instrument(steps)
    return len(bars), wall, cpu, steps.longest


async def _client(port: int, client_id: int, seconds: float, answered: list[int]) -> None:
    ib = IB()
    await trio_asyncio.aio_as_trio(ib.connectAsync)(
        "127.0.0.1", port, clientId=client_id, timeout=30, raiseSyncErrors=True
    )
    try:
        contract = Future("ZO", exchange="CBOT")
        await trio_asyncio.aio_as_trio(ib.qualifyContractsAsync)(contract)
        ib.reqMktData(contract)
        ib.reqMktDepth(contract, numRows=5)
        await trio.sleep(seconds)
        with trio.fail_after(10):
            await trio_asyncio.aio_as_trio(ib.reqCurrentTimeAsync)()
        answered.append(client_id)
    finally:
        ib.disconnect()


def _verdict(seconds: float) -> str:
    return "met" if seconds < GOAL_SECONDS else "missed"


async def main(args: argparse.Namespace) -> None:
    params = SimParams(markets=(MarketParams.oats(), MarketParams.hogs()),
                       session_start=dt.datetime.now(dt.UTC).replace(microsecond=0))
    async with open_sim_exchange(params, seed=1) as exchange, trio.open_nursery() as nursery:
        gateway = await nursery.start(functools.partial(serve_gateway, exchange))
        async with trio_asyncio.open_loop():
            ib = IB()
            await trio_asyncio.aio_as_trio(ib.connectAsync)("127.0.0.1", gateway.port,
                                                            clientId=999, timeout=30)
            contract = Future("ZO", exchange="CBOT")
            await trio_asyncio.aio_as_trio(ib.qualifyContractsAsync)(contract)
            count, seconds, cpu, step = await _history(ib, contract)
            print(f"a year of 1-min bars, cold (generates the past): {count} bars in "
                  f"{seconds:.2f} s ({cpu:.2f} s CPU; longest gateway step {step:.3f} s; "
                  f"goal < {GOAL_SECONDS} s: {_verdict(seconds)})", flush=True)
            warm = [await _history(ib, contract) for _ in range(args.repeat)]
            walls, cpus = sorted(w[1] for w in warm), sorted(w[2] for w in warm)
            steps = sorted(w[3] for w in warm)
            print(f"a year of 1-min bars, warm (past kept), {args.repeat} runs: median "
                  f"{statistics.median(walls):.2f} s (range {walls[0]:.2f}-{walls[-1]:.2f}), "
                  f"CPU median {statistics.median(cpus):.2f} s (range {cpus[0]:.2f}-"
                  f"{cpus[-1]:.2f}), longest gateway step median "
                  f"{statistics.median(steps):.3f} s; goal < {GOAL_SECONDS} s: "
                  f"{_verdict(statistics.median(walls))}", flush=True)
            ib.disconnect()
            answered: list[int] = []
            start = time.perf_counter()
            async with trio.open_nursery() as clients:
                for client_id in range(1, args.clients + 1):
                    clients.start_soon(_client, gateway.port, client_id, args.seconds, answered)
            took = time.perf_counter() - start
            print(f"{args.clients} clients streaming quotes and depth for {args.seconds} s: "
                  f"{len(answered)} answered their last request, {took:.1f} s in all; "
                  f"gateway {gateway.statistics()}", flush=True)
        nursery.cancel_scope.cancel(reason="bench over")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3, help="warm history runs (default 3)")
    parser.add_argument("--quick", action="store_true", help="5 clients for 1 s (a smoke run)")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.clients, arguments.seconds = 5, 1.0
    header("simulated gateway speed")
    trio.run(main, arguments)
