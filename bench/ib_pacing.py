"""IB pacing as the gateway counts it: the busiest second of messages arriving at the simulated
gateway while Hydra works a burst of intents through IBBroker, with ib_async's own throttle
(the baseline: 45 in any second, what waited written together) and with Hydra's spacer
(`hydra.ib._spacing`: 45 in any second, what waited written one at a time).

The run is the CI test `test_a_burst_of_intents_never_trips_ib_pacing`: 100 one-lot CROSS buys,
one every 5 ms, patience 0.2 s (a cross that misses is cancelled), in one Trio run with the
gateway, so the gateway reads each message when the shared loop gets to it, as under CI's load.
The count is the gateway's own (`RateWindow`): above 50 it refuses with error 100. Runs
alternate baseline and spacer, so both see the same machine.

Run: ``.venv/bin/python bench/ib_pacing.py``; ``--runs N`` pairs (default 4).
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import functools
import logging
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import attrs
import structlog
import trio
from _common import header, mean_interval

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from hydra import OATS, HydraConfig, OrderIntent, Policy, RiskLimits, Side
from hydra._open_hydra import open_hydra
from hydra.gateway import _session, serve_gateway
from hydra.ib import IBBroker, open_ib_broker
from hydra.sim import open_sim_exchange
from tests.test_ib_engine import FAST, PARAMS, _clock

INTENTS = 100
GAP = 0.005


def _ib_async_throttle(broker: IBBroker) -> None:
    """The baseline: undo the spacer, ib_async's own throttle back on."""
    client = broker._ib.client
    del client.conn.sendMsg  # the connection's own method again
    client.MaxRequests = 45


async def one_run(*, baseline: bool) -> tuple[int, int, int]:
    """(messages, the gateway's busiest second, error-100 refusals) of one burst."""
    arrivals: list[float] = []
    refused = 0
    admit = _session.RateWindow.admit

    def counting(window: _session.RateWindow, now: float) -> bool:
        nonlocal refused
        arrivals.append(now)
        admitted = admit(window, now)
        refused += not admitted
        return admitted

    config = attrs.evolve(FAST, risk=RiskLimits(max_open_orders=500, max_orders_per_minute=1000,
                                                max_position=500))
    _session.RateWindow.admit = counting  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with open_sim_exchange(PARAMS, seed=3) as exchange, \
                    trio.open_nursery() as nursery:
                gateway = await nursery.start(functools.partial(
                    serve_gateway, exchange, quote_interval=0.005))
                settings = attrs.evolve(config.broker, port=gateway.port)
                async with open_ib_broker(settings) as broker:
                    if baseline:
                        _ib_async_throttle(broker)
                    await _burst(broker, attrs.evolve(config, broker=settings),
                                 Path(tmp) / "j.sqlite", _clock(exchange))
                nursery.cancel_scope.cancel(reason="run over")
    finally:
        _session.RateWindow.admit = admit  # type: ignore[method-assign]
    busiest = max(bisect.bisect_left(arrivals, t + 1.0) - i for i, t in enumerate(arrivals))
    return len(arrivals), busiest, refused


async def _burst(broker: IBBroker, config: HydraConfig, journal: Path,
                 clock: Callable[[], dt.datetime]) -> None:
    """The CI test's burst: INTENTS one-lot crosses, one every GAP seconds, worked out."""
    async with open_hydra(config, broker, journal_path=journal, clock=clock) as engine:
        handles = []
        for _ in range(INTENTS):
            handles.append(await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS)))
            await trio.sleep(GAP)
        for handle in handles:
            await handle.wait_done()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4, help="pairs of runs (default 4)")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    logging.getLogger("ib_async").setLevel(logging.CRITICAL)
    header("IB pacing: the gateway's busiest second, ib_async's throttle vs the spacer")
    busiest: dict[str, list[float]] = {"ib_async throttle": [], "spacer": []}
    print("| run | pacing | messages | busiest second | error 100 |")
    print("|---|---|---|---|---|")
    for run in range(args.runs):
        for name in busiest:
            messages, most, refused = trio.run(
                functools.partial(one_run, baseline=name == "ib_async throttle"))
            busiest[name].append(most)
            print(f"| {run + 1} | {name} | {messages} | {most} | {refused} |", flush=True)
    print()
    for name, values in busiest.items():
        mean, half = mean_interval(values)
        print(f"{name}: busiest second {mean:.1f} ± {half:.1f} (95%), max {max(values):.0f}"
              f" (IB refuses above 50)")


if __name__ == "__main__":
    main()
