"""The event loop's longest block while the runner reads the inbox and saves its state file:
each read and save on Trio's thread (`hydra.run_inline`, ``hydra run`` before) against a
worker thread (`hydra.run_in_thread`, ``hydra run`` now), through `OffloadedReader` as
`hydra._runner.run_inbox` calls it.

A round runs each way once, in turn (the order turned round each round), on the real clock: one
task appends a line to the inbox, reads it and tells it done (two saves, each flushed to the
disk with its folder), ``--lines`` times, ``--gap`` seconds apart; another sleeps 1 ms at a
time and records how late each wake came, the block every other actor of ``hydra run`` (the
fills, the acks) would wait; a third way appends the lines and reads none, for the lateness
the loaded machine gives any wake. The files are on the disk of ``--dir`` (the working folder by
default; a tmpfs flushes nothing).

Run: ``.venv/bin/python bench/inbox_save.py`` (``--rounds N``, ``--lines N``, ``--dir D``).
"""

from __future__ import annotations

import argparse
import functools
import json
import tempfile
import time
from pathlib import Path

import trio
from _common import header, load_average, median, percentile

from hydra import run_in_thread, run_inline
from hydra._inbox_reader import InboxReader, OffloadedReader
from hydra._journal_actor import Offload

TICK = 0.001
WAYS: dict[str, Offload | None] = {"Trio's thread (before)": run_inline,
                                   "worker thread (after)": run_in_thread,
                                   "no call (the machine's own lateness)": None}


async def one_way(folder: Path, offload: Offload | None, *, lines: int, gap: float,
                  ) -> tuple[list[float], list[float]]:
    """The lateness of each 1 ms wake, and the time of each read and each done, in seconds
    (``offload`` None: the lines are appended, never read)."""
    inbox, state = folder / "inbox.jsonl", folder / "journal.sqlite.inbox"
    inbox.unlink(missing_ok=True)
    state.unlink(missing_ok=True)
    reader = OffloadedReader(InboxReader(inbox, state=state, wait=300), offload or run_inline)
    late: list[float] = []
    calls: list[float] = []

    async def ticker() -> None:
        while True:
            asked = time.perf_counter()
            await trio.sleep(TICK)
            late.append(time.perf_counter() - asked - TICK)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ticker)
        for n in range(1, lines + 1):
            with inbox.open("a") as file:
                file.write(json.dumps({"symbol": "ZO", "side": "BUY", "quantity": 1,
                                       "intent_id": f"bench-{n}"}) + "\n")
            if offload is None:
                await trio.sleep(gap)
                continue
            began = time.perf_counter()
            read, generation = await reader.read_lines()
            calls.append(time.perf_counter() - began)
            began = time.perf_counter()
            await reader.done(generation, [line.number for line in read])
            calls.append(time.perf_counter() - began)
            await trio.sleep(gap)
        nursery.cancel_scope.cancel()
    return late, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--gap", type=float, default=0.02)
    parser.add_argument("--dir", type=Path, default=Path.cwd())
    parser.add_argument("--quick", action="store_true", help="2 rounds of 10 lines")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.lines = 2, 10
    header("The event loop's longest block while the inbox state file is saved")
    late: dict[str, list[float]] = {name: [] for name in WAYS}
    calls: dict[str, list[float]] = {name: [] for name in WAYS}
    worst: dict[str, list[float]] = {name: [] for name in WAYS}  # each round's longest block
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for round_ in range(args.rounds):
            names = list(WAYS) if round_ % 2 == 0 else list(reversed(WAYS))
            for name in names:
                wakes, times = trio.run(functools.partial(
                    one_way, Path(tmp), WAYS[name], lines=args.lines, gap=args.gap))
                late[name] += wakes
                calls[name] += times
                worst[name].append(max(wakes))
    print(f"load:    {load_average()}")
    print(f"folder:  {args.dir} ({args.rounds} rounds of {args.lines} lines each way, "
          f"a read and a done {args.gap * 1000:g} ms apart)")
    print()
    print("| the inbox's calls on | wakes | late, median | p90 | p99 | max | rounds' max, median "
          "| a read or done takes, median (p90) |")
    print("|---|---|---|---|---|---|---|---|")
    for name in WAYS:
        ms = [x * 1000 for x in late[name]]
        call = [x * 1000 for x in calls[name]]
        print(f"| {name} | {len(ms):,} | {median(ms):.3f} ms | {percentile(ms, 90):.3f} | "
              f"{percentile(ms, 99):.3f} | {max(ms):.3f} | "
              f"{median([x * 1000 for x in worst[name]]):.3f} | "
              f"{median(call):.2f} ({percentile(call, 90):.2f}) ms |")


if __name__ == "__main__":
    main()
