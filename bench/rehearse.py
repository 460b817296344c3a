"""``hydra rehearse --weeks 4``: wall and CPU time (goal < 60 s wall), how many sessions the
healer needs to find the week-2 change of costs (goal ≤ 2), and the gate conditions met (goal
7 of 7), per seed; paired with the same calendar without the change (the healer's false alarms
on the same seed) and with the journal on disk instead of in memory (each transaction's fsync).

Run: ``.venv/bin/python bench/rehearse.py [--seeds N] [--quick] [--broker gateway]``. The
rehearsal itself runs as the command does, in a child process; the baseline without the change
runs in-process on the same clock and calendar.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
from pathlib import Path
from typing import Any

import attrs
import trio
import trio.testing
from _common import header, load_average, timed_rehearsal

from hydra._logging import configure_logging
from hydra._rehearsal import Rehearsal, rehearse, summary
from hydra._rehearsal_plan import BASELINE, plan_rehearsal
from hydra._settings import HydraConfig, LoggingSettings, LogLevel

MEMORY = Path("/dev/shm")


def no_change(journal: Path, seed: int, weeks: int) -> dict[str, Any]:
    """The same calendar and seed with the baseline market throughout: every drift the
    healer calls is a false alarm."""
    days = [attrs.evolve(day, market=BASELINE, costly=False) for day in plan_rehearsal(weeks)]
    rehearsal = Rehearsal(config=HydraConfig(), journal=journal, seed=seed,
                          progress=lambda _: None)
    results = trio.run(functools.partial(rehearse, rehearsal, days),
                       clock=trio.testing.MockClock(autojump_threshold=0))
    return summary(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=2, help="seeds 1..N (default 2)")
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="one seed, three weeks")
    parser.add_argument("--broker", choices=("in-process", "gateway"), default="in-process",
                        help="the rehearsal's broker (hydra rehearse --broker)")
    args = parser.parse_args()
    seeds, weeks = (1, 3) if args.quick else (args.seeds, args.weeks)
    header("hydra rehearse: four weeks on the virtual clock")
    configure_logging(LoggingSettings(level=LogLevel.ERROR), stream=sys.stderr)  # as the command
    memory = MEMORY if MEMORY.is_dir() else Path(tempfile.gettempdir())
    rows = []
    with tempfile.TemporaryDirectory(dir=memory) as fast, \
            tempfile.TemporaryDirectory(dir=Path.cwd()) as disk:
        for seed in range(1, seeds + 1):
            run = timed_rehearsal(Path(fast) / f"r{seed}.sqlite", seed=seed, weeks=weeks,
                                  broker=args.broker)
            base = no_change(Path(fast) / f"b{seed}.sqlite", seed, weeks)
            rows.append((seed, run, base))
            print(f"seed {seed}: {run['wall']:.1f} s wall, {run['cpu']:.1f} s CPU, found "
                  f"after {run['sessions_to_detect']} session(s), {run['conditions_met']}/"
                  f"{run['conditions']} conditions; no change: {base['drift_found']} false "
                  f"alarm(s); load {load_average()}", flush=True)
        on_disk = timed_rehearsal(Path(disk) / "r1.sqlite", seed=1, weeks=weeks,
                                  broker=args.broker)
    walls = [run["wall"] for _, run, _ in rows]
    print(f"\njournal on disk (seed 1): {on_disk['wall']:.1f} s wall, {on_disk['cpu']:.1f} s "
          f"CPU (in memory: {rows[0][1]['wall']:.1f} s wall, {rows[0][1]['cpu']:.1f} s CPU)")
    print(f"wall time over {len(rows)} seeds: {min(walls):.1f} to {max(walls):.1f} s "
          f"(goal < 60 s); load {load_average()}\n")
    print("| seed | wall s | CPU s | sessions | fills | change found after | conditions met | "
          "false alarms without the change |")
    print("|---|---|---|---|---|---|---|---|")
    for seed, run, base in rows:
        print(f"| {seed} | {run['wall']:.1f} | {run['cpu']:.1f} | {run['sessions']} | "
              f"{run['fills']} | {run['sessions_to_detect']} session(s) | "
              f"{run['conditions_met']} of {run['conditions']} | {base['drift_found']} of "
              f"{base['cycles']} cycles |")


if __name__ == "__main__":
    main()
