"""What reading the market facts costs Hydra's start through IB: `open_hydra` with
``market_facts.from_bars`` on (each symbol's daily bars through ib_async from the simulated
gateway, in its own process) against off (the configured figures), paired run by run, the
order alternating. The gateway builds a month's past once and keeps it, so the first read
(cold) is reported apart from the rest (warm).

Run: ``.venv/bin/python bench/market_facts.py`` (``--runs N``). Prints the machine, the cold
read, then mean and 95% interval of the start with and without the bars, and of their paired
difference.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import trio
from _common import gateway_process, header, mean_interval
from structlog.testing import capture_logs

from hydra import HydraConfig
from hydra._open_hydra import open_hydra
from hydra._settings import BrokerSettings, MarketFactsSettings
from hydra.ib import open_ib_broker


async def _start(port: int, journal: Path, *, from_bars: bool) -> float:
    """Seconds from entering `open_hydra` to the engine yielded (the IB session already up)."""
    settings = BrokerSettings(port=port)
    config = HydraConfig(broker=settings, market_facts=MarketFactsSettings(from_bars=from_bars))
    async with open_ib_broker(settings) as broker:
        start = time.perf_counter()
        async with open_hydra(config, broker, journal_path=journal):
            return time.perf_counter() - start


def _row(name: str, values: list[float]) -> str:
    mean, half = mean_interval(values)
    return (f"| {name} | {len(values)} | {mean:.3f} ± {half:.3f} s | {min(values):.3f} s "
            f"| {max(values):.3f} s |")


async def _main(args: argparse.Namespace, folder: Path) -> None:
    with gateway_process(folder / "gateway.log") as gateway:
        with capture_logs() as logs:  # and nothing printed
            cold = await _start(gateway.port, folder / "cold.sqlite", from_bars=True)
            facts = [e for e in logs if e["event"] == "market_facts"]
        timings: dict[bool, list[float]] = {True: [], False: []}
        for run in range(args.runs):
            for from_bars in ((True, False) if run % 2 else (False, True)):
                path = folder / f"{run}-{from_bars}.sqlite"
                with capture_logs():
                    timings[from_bars].append(
                        await _start(gateway.port, path, from_bars=from_bars))
    print(f"cold (the gateway builds the month's past): {cold:.3f} s")
    for line in facts:
        print(f"  {line['symbol']} {line['month']}: ADV {line['adv']} ({line['adv_source']}), "
              f"volatility {line['volatility_bps']} bps ({line['volatility_source']})")
    print()
    print("| start | runs | mean ± 95% | min | max |")
    print("|---|---|---|---|---|")
    print(_row("bars off (configured figures)", timings[False]))
    print(_row("bars on, warm", timings[True]))
    print(_row("paired difference", [a - b for a, b in zip(timings[True], timings[False],
                                                              strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    header("market facts at start, through IB and the simulated gateway")
    with tempfile.TemporaryDirectory() as folder:
        trio.run(_main, args, Path(folder))


if __name__ == "__main__":
    main()
