"""One poll of an unchanged inbox: the stat a settled file costs, against the read and compare
every poll cost before (and a poll within `SETTLE_NS` of a write still costs), beside the
runner's wake for the poll on Trio's virtual clock (``trio.sleep(1)`` under an autojump
`MockClock`, what `hydra rehearse` pays each virtual second).

The inbox is a session's worth of the rehearsal trader's lines. Each round times ``--polls``
polls of each kind, one kind after the other on the same file, so a round's figures share the
machine's load; the per-poll means of the rounds give the intervals.

Run: ``.venv/bin/python bench/inbox_poll.py`` (``--rounds N``, ``--polls N``).
"""

from __future__ import annotations

import argparse
import functools
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import trio
import trio.testing
from _common import header, load_average, mean_interval

from hydra._inbox_reader import SETTLE_NS, InboxReader

LINES = 39  # the rehearsal trader's one-lot intents in a day session


def write_inbox(path: Path) -> None:
    path.write_text("".join(json.dumps({
        "symbol": "ZO", "side": "BUY", "quantity": 1, "policy": "cross", "strategy": "rehearsal",
        "intent_id": f"rehearsal-20260105-{n}"}) + "\n" for n in range(1, LINES + 1)))


def timed_polls(reader: InboxReader, polls: int) -> float:
    """Seconds per poll of ``reader`` (the first read done before)."""
    started = time.perf_counter()
    for _ in range(polls):
        reader.read_lines()
    return (time.perf_counter() - started) / polls


def timed_wakes(polls: int) -> float:
    """Seconds per one-second sleep of a lone task on an autojump virtual clock."""
    async def sleeper() -> None:
        for _ in range(polls):
            await trio.sleep(1.0)

    started = time.perf_counter()
    trio.run(sleeper, clock=trio.testing.MockClock(autojump_threshold=0))
    return (time.perf_counter() - started) / polls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--polls", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="3 rounds of 200 polls")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.polls = 3, 200
    header("One poll of an unchanged inbox")
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox.jsonl"
        write_inbox(inbox)
        settled = inbox.stat().st_ctime_ns + SETTLE_NS + 1
        kinds: dict[str, Callable[[], float]] = {}
        readers = {"read and compare (every poll before; one within 20 ms of a write now)":
                   InboxReader(inbox, clock=lambda: 0),  # never settled: every poll reads
                   "stat of a settled file (after)": InboxReader(inbox, clock=lambda: settled)}
        for name, reader in readers.items():
            assert len(reader.read_lines()) == LINES
            kinds[name] = functools.partial(timed_polls, reader, args.polls)
        kinds["the poll's wake: trio.sleep(1) on the virtual clock"] = functools.partial(
            timed_wakes, args.polls)
        times: dict[str, list[float]] = {name: [] for name in kinds}
        for _ in range(args.rounds):
            for name, timed in kinds.items():
                times[name].append(timed() * 1e6)
        for name, reader in readers.items():
            stats = reader.statistics()
            print(f"{name}: {stats.reads:,} reads in {stats.polls:,} polls")
    print(f"load:    {load_average()}")
    print()
    print("| one poll | µs (mean ± 95% interval) | min |")
    print("|---|---|---|")
    for name, values in times.items():
        mean, half = mean_interval(values)
        print(f"| {name} | {mean:.2f} ± {half:.2f} | {min(values):.2f} |")
    print(f"\n{args.rounds} rounds of {args.polls:,} polls each.")


if __name__ == "__main__":
    main()
