"""A simulated week of the runner left alone with a hostile strategy (issue 15's proof bench).

One Hydra open from Monday 08:00 to Friday 14:00 Chicago on the exchange's hours, through the
simulated TCP gateway and the IB client as ``hydra run --sim`` trades (``--broker in-process``:
the simulator in-process), on Trio's virtual clock (`hydra._rehearsal_week`): the hook raises on
Tuesday, hangs past ``runner.hook_timeout`` on Wednesday and answers garbage on Friday; the inbox
is a new file each morning (emptied and written again, or replaced by a rename); a kill line and
a resume line on Wednesday; the exchange's link drops for 20 s on Tuesday. Checks: the week
completes, every intent is accounted for (journaled once and finished with its reason, or
refused at the door with a logged one; none lost or duplicated), each hook failure is a
``hook_error`` and none halts trading, Hydra reconnects once, and the gate's
``no_unrecoverable_error`` passes. Paired with the same week and seed with a well-behaved hook.

Run: ``.venv/bin/python bench/sim_week.py [--seeds N] [--broker gateway|in-process] [--quick]``.
"""

from __future__ import annotations

import argparse
import functools
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio
import trio.testing
from _common import header, load_average
from structlog.testing import capture_logs

from hydra._journal_records import read_journal
from hydra._rehearsal_broker import BrokerKind
from hydra._rehearsal_week import (
    Accounting,
    Week,
    account,
    hostile_hook,
    plan_week,
    rehearse_week,
    tame_hook,
)
from hydra._settings import HydraConfig

MEMORY = Path("/dev/shm")
HOSTILE_ERRORS = ("Tue", "Wed", "Fri")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_week(journal: Path, *, seed: int, broker: BrokerKind, hostile: bool,
             days: list[int]) -> tuple[Accounting, float, float]:
    """One week: what became of its intents, its wall and CPU seconds."""
    week = Week(config=HydraConfig(), journal=journal, seed=seed, broker=broker,
                hook=hostile_hook if hostile else tame_hook, progress=lambda _: None)
    started, cpu = time.perf_counter(), _cpu()
    with capture_logs() as logs:  # the refusals are among them; nothing is printed
        written = trio.run(functools.partial(rehearse_week, week, plan_week(days=days)),
                           clock=trio.testing.MockClock(autojump_threshold=0))
    wall, cpu = time.perf_counter() - started, _cpu() - cpu
    return account(read_journal(journal), written, logs), wall, cpu


def checks(hostile: Accounting, tame: Accounting, days: list[int]) -> list[str]:
    """What failed, in words (nothing: the week passed)."""
    names = ("Mon", "Tue", "Wed", "Thu", "Fri")
    expected = tuple(name for name in HOSTILE_ERRORS if names.index(name) in days)
    failed = []
    for label, run in (("hostile", hostile), ("tame", tame)):
        if not run.complete:
            failed.append(f"{label}: lost {run.lost}, duplicated {run.duplicated}, unfinished "
                          f"{run.unfinished}, short without a reason {run.short_without_reason}")
        if not run.no_unrecoverable_error:
            failed.append(f"{label}: an unrecoverable error was journaled")
    if hostile.hook_errors != expected:
        failed.append(f"hook errors on {hostile.hook_errors}, expected {expected}")
    if hostile.strategy_halts or tame.hook_errors:
        failed.append("a halt or a hook error where none belongs")
    expected_drops = int(1 in days)
    if (hostile.reconnects, tame.reconnects) != (expected_drops, expected_drops):
        failed.append(f"reconnects {hostile.reconnects} and {tame.reconnects}, expected "
                      f"{expected_drops} each")
    return failed


def row(seed: int, label: str, run: Accounting, wall: float, cpu: float,
        written: int) -> str:
    return (f"| {seed} | {label} | {wall:.1f} | {cpu:.1f} | {written} | {run.journaled} "
            f"({run.from_hook}) | {run.fills} | {run.finished_short} | {run.refused} | "
            f"{len(run.lost)} / {len(run.duplicated)} | {', '.join(run.hook_errors) or '-'} | "
            f"{run.strategy_halts} | {run.reconnects} | {run.kills} / {run.resumes} | "
            f"{'pass' if run.no_unrecoverable_error else 'FAIL'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=1, help="seeds 1..N (default 1)")
    parser.add_argument("--broker", choices=[k.value for k in BrokerKind],
                        default=BrokerKind.GATEWAY.value)
    parser.add_argument("--quick", action="store_true", help="Tuesday and Wednesday only")
    args = parser.parse_args()
    days = [1, 2] if args.quick else [0, 1, 2, 3, 4]
    broker = BrokerKind(args.broker)
    header(f"a hostile week on the virtual clock ({broker.value})")
    memory = MEMORY if MEMORY.is_dir() else Path(tempfile.gettempdir())
    rows: list[str] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory(dir=memory) as folder:
        for seed in range(1, args.seeds + 1):
            runs: dict[str, Any] = {}
            for label, hostile in (("hostile", True), ("tame", False)):
                runs[label] = run_week(Path(folder) / f"{label}{seed}.sqlite", seed=seed,
                                       broker=broker, hostile=hostile, days=days)
                run, wall, cpu = runs[label]
                written = run.journaled + run.refused + len(run.lost) - run.from_hook
                rows.append(row(seed, label, run, wall, cpu, written))
                print(f"seed {seed} {label}: {wall:.1f} s wall, {cpu:.1f} s CPU, "
                      f"{run.journaled} intents journaled ({run.from_hook} the hook's), "
                      f"{run.fills} fills, hook errors {run.hook_errors or 'none'}; load "
                      f"{load_average()}", flush=True)
            failures += [f"seed {seed}: {f}" for f in checks(runs["hostile"][0],
                                                             runs["tame"][0], days)]
    print("\n| seed | hook | wall s | CPU s | trader's intents | journaled (the hook's) | fills |"
          " ended short, with reason | refused at the door | lost / duplicated | hook errors |"
          " strategy halts | reconnects | kill / resume | no_unrecoverable_error |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nload {load_average()}")
    print("checks: " + ("all passed" if not failures else "FAILED\n  " + "\n  ".join(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
