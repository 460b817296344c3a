"""``hydra rehearse --weeks 4`` through each broker, back to back: wall and CPU seconds (user +
system, the child's own: on a shared machine wall time lies, CPU time much less), fills and
gate conditions, with the 1-minute load average before and after each run. The in-process broker is
the gateway's paired baseline: the same calendar, seed and runner, without sockets or asyncio.

Run: ``PYTHONPATH=. .venv/bin/python bench/rehearse_brokers.py [--repeats N] [--weeks N]
[--disk]``. Each run is a child ``python -m hydra rehearse ... --json``; the journal is on
``/dev/shm`` (memory), and with ``--disk`` a last pair has it on the current directory's disk.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from _common import header, timed_rehearsal

MEMORY = Path("/dev/shm")
BROKERS = ("in-process", "gateway")


def timed_run(journal: Path, *, broker: str, weeks: int, seed: int) -> dict[str, Any]:
    """One ``hydra rehearse`` in a child (`timed_rehearsal`), with its broker and the 1-minute
    load average before and after it."""
    load_before = os.getloadavg()[0]
    run = timed_rehearsal(journal, seed=seed, weeks=weeks, broker=broker)
    return {**run, "broker": broker, "load": f"{load_before:.1f} → {os.getloadavg()[0]:.1f}"}


def row(run: dict[str, Any], where: str) -> str:
    return (f"| {run['broker']} | {where} | {run['wall']:.1f} | {run['cpu']:.1f} | "
            f"{run['fills']} | {run['conditions_met']} of {run['conditions']} | {run['load']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=1, help="pairs of runs (default 1)")
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--disk", action="store_true",
                        help="one more pair with the journal on the current directory's disk")
    args = parser.parse_args()
    header(f"hydra rehearse --weeks {args.weeks}: in-process and gateway, back to back")
    memory = MEMORY if MEMORY.is_dir() else Path(tempfile.gettempdir())
    runs: list[tuple[dict[str, Any], str]] = []
    places = [("memory", memory)] * args.repeats + ([("disk", Path.cwd())] if args.disk else [])
    for n, (where, place) in enumerate(places):
        with tempfile.TemporaryDirectory(dir=place) as directory:
            for broker in BROKERS:
                run = timed_run(Path(directory) / f"{broker}-{n}.sqlite", broker=broker,
                                      weeks=args.weeks, seed=args.seed)
                runs.append((run, where))
                print(row(run, where), flush=True)
    print("\n| broker | journal | wall s | CPU s (user + sys) | fills | conditions met | load |")
    print("|---|---|---|---|---|---|---|")
    for run, where in runs:
        print(row(run, where))
    in_memory = [run for run, where in runs if where == "memory"]
    for broker in BROKERS:
        cpu = [run["cpu"] for run in in_memory if run["broker"] == broker]
        wall = [run["wall"] for run in in_memory if run["broker"] == broker]
        spread = f" (min {min(cpu):.1f}, max {max(cpu):.1f})" if len(cpu) > 1 else ""
        print(f"{broker}: CPU {statistics.median(cpu):.1f} s median{spread}; wall "
              f"{statistics.median(wall):.1f} s median (goal < 60 s)")
    ratios = [g["cpu"] / p["cpu"] for p, g in zip(in_memory[::2], in_memory[1::2], strict=True)]
    print(f"gateway / in-process CPU, paired: {', '.join(f'{r:.2f}' for r in ratios)}")


if __name__ == "__main__":
    main()
