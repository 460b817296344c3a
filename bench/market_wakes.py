"""How often a watched market wakes the simulated exchange: ten virtual hours of the default
oats market (seed 1) on the autojump clock, with a quote watcher in a loop on
`SimExchange.wait_quote_changed` (as the gateway's quote pump waits), or a book watcher on
`wait_book_changed` (as a market-depth stream waits), or nobody.

Counted with a Trio instrument: the exchange task's steps (its wake-ups), the watcher's, the
loop's iterations (one I/O poll each), and the market's events; CPU is this process's, the
median of ``--repeat`` runs (the counts are the same in every run).

Run: ``PYTHONPATH=. .venv/bin/python bench/market_wakes.py`` (``--hours H``, ``--repeat N``).
"""

from __future__ import annotations

import argparse
import statistics
import time

import trio
import trio.testing
from _common import header, load_average

from hydra.sim import MarketParams, SimParams, open_sim_exchange


class Steps(trio.abc.Instrument):
    """Task steps by task name, and the run loop's iterations."""

    def __init__(self) -> None:
        self.steps: dict[str, int] = {}
        self.iterations = 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self.steps[task.name] = self.steps.get(task.name, 0) + 1

    def before_io_wait(self, timeout: float) -> None:
        self.iterations += 1


async def _watched(hours: float, watcher: str) -> tuple[int, int]:
    """Run the market ``hours`` with ``watcher``: its market events and the watcher's sights."""
    seen = 0
    async with open_sim_exchange(SimParams(markets=(MarketParams.oats(),)), seed=1) as exchange:

        async def quotes() -> None:
            nonlocal seen
            quote = exchange.quote("ZO")
            while True:
                quote = await exchange.wait_quote_changed("ZO", quote)
                seen += 1

        async def book() -> None:
            nonlocal seen
            version = exchange.book_version("ZO")
            while True:
                version = await exchange.wait_book_changed("ZO", version)
                seen += 1

        async with trio.open_nursery() as nursery:
            if watcher != "nobody":
                nursery.start_soon(quotes if watcher == "quote" else book, name="watcher")
            await trio.sleep(hours * 3600)
            exchange.quote("ZO")  # the events nobody watched run now
            nursery.cancel_scope.cancel(reason="the bench's hours are over")
        return exchange.statistics().market_events, seen


def _run(hours: float, watcher: str) -> tuple[Steps, int, int, float]:
    steps = Steps()
    cpu = time.process_time()
    events, seen = trio.run(_watched, hours, watcher, instruments=[steps],
                            clock=trio.testing.MockClock(autojump_threshold=0))  # fmt: skip
    return steps, events, seen, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    header("a watched market's wake-ups")
    print(f"load before: {load_average()}")
    for watcher in ("quote", "book", "nobody"):
        runs = [_run(args.hours, watcher) for _ in range(args.repeat)]
        steps, events, seen, _ = runs[0]
        exchange = sum(n for name, n in steps.steps.items() if name.endswith("SimExchange.serve"))
        cpus = sorted(run[3] for run in runs)
        print(
            f"{watcher} watcher, {args.hours:g} virtual hours: {events} market events, "
            f"exchange woke {exchange} times, watcher {steps.steps.get('watcher', 0)} steps "
            f"({seen} changes seen), {steps.iterations} loop iterations; CPU median "
            f"{statistics.median(cpus):.2f} s (range {cpus[0]:.2f}-{cpus[-1]:.2f})",
            flush=True,
        )
    print(f"load after: {load_average()}")


if __name__ == "__main__":
    main()
