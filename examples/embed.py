"""Hydra embedded in a Trio program, on the built-in simulated exchange.

Opens Hydra on a simulated oats market, submits one small intent (worked with patience) and
one large one (1% of ADV or more: sliced as a TWAP), prints each report and a summary line.
The simulator runs on Trio's virtual clock, so an hour of trading takes a second or two.

    python examples/embed.py [--seed N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import trio
import trio.testing

import hydra
from hydra.sim import SimBroker, SimParams, open_sim_exchange


def describe(report: hydra.ExecutionReport) -> str:
    price = "-" if report.average_price is None else f"{report.average_price:.4f}"
    shortfall = "-" if report.shortfall_bps is None else f"{report.shortfall_bps:.2f} bps"
    return (
        f"{report.side.value} {report.quantity} {report.symbol}: filled {report.filled} "
        f"in {len(report.children)} order(s) at {price} vs arrival mid "
        f"{report.arrival_mid}, shortfall {shortfall}"
    )


async def main(seed: int, journal: Path) -> None:
    async with open_sim_exchange(SimParams(), seed=seed) as exchange:
        async with hydra.open_hydra(
            hydra.HydraConfig(),
            SimBroker(exchange),
            journal_path=journal,
            seed=seed,
            offload=hydra.run_inline,  # keep journal writes on the virtual clock
        ) as engine:
            small = await engine.submit(
                hydra.OrderIntent(contract=hydra.OATS, side=hydra.Side.BUY, quantity=3)
            )
            large = await engine.submit(
                hydra.OrderIntent(contract=hydra.OATS, side=hydra.Side.SELL, quantity=30)
            )
            reports = [await small.wait_done(), await large.wait_done()]
            for report in reports:
                print(describe(report))
            filled = sum(r.filled for r in reports)
            ordered = sum(r.quantity for r in reports)
            children = [child for r in reports for child in r.children]
            kinds = ", ".join(sorted({child.order_type.value for child in children}))
            print(
                f"summary: {filled}/{ordered} contracts filled with {len(children)} orders "
                f"(types: {kinds}) in {trio.current_time() / 60:.0f} simulated minutes"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    hydra.configure_logging(hydra.LoggingSettings(level=hydra.LogLevel.WARNING))
    with tempfile.TemporaryDirectory() as folder:
        trio.run(
            main, args.seed, Path(folder) / "journal.sqlite",
            clock=trio.testing.MockClock(autojump_threshold=0),
        )
