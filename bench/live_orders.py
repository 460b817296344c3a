"""`Journal.live_orders` on a four-week journal: a fresh look at every order (what each call
cost before the journal followed its new events, and what a new reader's first call still
costs) against a refresh that reads only the events journaled since the last call.

The journal is `bench/startup.py`'s (20 sessions of oats TWAPs, about 120,000 events, 5 orders
still working). Each round appends one more intent's events (an order, its ack, WORKING,
a fill, FILLED: what a busy refresh finds new), then times both answers on the same file,
one after the other, and checks they agree.

Run: ``.venv/bin/python bench/live_orders.py`` (``--rounds N``, ``--intents N``).
"""

from __future__ import annotations

import argparse
import itertools
import random
import tempfile
import time
from pathlib import Path

from _common import header, load_average, mean_interval
from startup import _intent, build_journal

from hydra._journal import Journal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--intents", type=int, default=3600)
    args = parser.parse_args()
    header("Journal.live_orders on a four-week journal")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "four-weeks.sqlite"
        events = build_journal(path, intents=args.intents, live=5)
        print(f"journal: {events:,} events")
        writer = Journal.open(path)
        follower = Journal.open_read_only(path)
        follower.live_orders()  # its first look: every order
        rng, executions = random.Random(2), itertools.count(10**6)
        fresh, followed = [], []
        for n in range(args.rounds):
            for call in _intent(10**6 + n, rng, executions, leave_working=False):
                call(writer)
            started = time.perf_counter()
            reader = Journal.open_read_only(path)
            looked = reader.live_orders()
            fresh.append(time.perf_counter() - started)
            reader.close()
            started = time.perf_counter()
            kept = follower.live_orders()
            followed.append(time.perf_counter() - started)
            assert kept == looked, "the followed answer differs from a fresh look"
        follower.close()
        writer.close()
    for name, times in (("fresh look (before; a new reader's first call)", fresh),
                        ("followed refresh (after)", followed)):
        mean, half = mean_interval([t * 1000 for t in times])
        print(f"{name}: {mean:.2f} ± {half:.2f} ms (min {min(times) * 1000:.2f},"
              f" max {max(times) * 1000:.2f}; {len(times)} rounds)")
    print(f"load:    {load_average()}")


if __name__ == "__main__":
    main()
