"""The cost of one redraw of ``hydra run``'s status region on a four-week journal.

A journal of ``--intents`` filled intents (4 fills each) and ``--working`` resting orders,
built through `Journal` itself (`bench/dashboard.py`'s builder), about 5 events per intent
plus the fills. Over ``--runs``, paired in each run:

- **whole** (the baseline): what a redraw would cost reading the journal afresh each second,
  as the dashboard does per page: every event, the working orders, the view of each;
- **quiet**: what a redraw costs (`hydra._status.JournalFollower`) when nothing was journaled
  since the last one: no new event, the working orders as they were, the view of each;
- **busy**: a redraw after 10 new events (two more filled intents journaled): those events,
  the working orders asked of the journal again, the view of each;
- **render**: the region's lines from that view, at 200 columns.

Run: ``.venv/bin/python bench/status_region.py`` (``--intents N``, ``--working N``,
``--runs N``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from _common import header, mean_interval
from dashboard import T0, add_fill, build_journal

from hydra import HydraConfig
from hydra._enums import TradingState
from hydra._journal import Journal
from hydra._journal_records import read_journal
from hydra._status import JournalFollower
from hydra._status_region import StatusView, status_lines
from hydra._working_view import working_orders

CONFIG = HydraConfig()
NOW = T0 + dt.timedelta(seconds=30)


def whole(path: Path) -> int:
    records = read_journal(path)
    journal = Journal.open_read_only(path)
    try:
        live = journal.live_orders()
    finally:
        journal.close()
    return len(working_orders(records, live, now=NOW, config=CONFIG))


def followed(follower: JournalFollower) -> int:
    return len([follower.ladders.working(o, NOW, CONFIG) for o in follower.read()])


def render(follower: JournalFollower) -> int:
    orders = tuple(follower.ladders.working(o, NOW, CONFIG) for o in follower.read())
    view = StatusView(venue="PAPER", account="DU*****67", session_up=True,
                      trading_state=TradingState.ACTIVE, now=NOW, next_hook=None, working=len(
                          orders), finished=0, blocked=0, fills=0, filled_quantity=0,
                      orders=orders)
    start = time.perf_counter()
    status_lines(view, width=200, rows=60)
    return int((time.perf_counter() - start) * 1e9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--intents", type=int, default=4000)
    parser.add_argument("--working", type=int, default=20)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    header("status region: one redraw on a four-week journal")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "journal.sqlite"
        build_journal(path, intents=args.intents, working=args.working)
        events = len(read_journal(path))
        follower = JournalFollower(str(path))
        follower.read()  # caught up, as after the first redraw
        print(f"journal: {events} events, {args.working} working orders; {args.runs} runs")
        times: dict[str, list[float]] = {"whole": [], "quiet": [], "busy": [], "render": []}
        for run in range(args.runs):
            start = time.perf_counter()
            shown = whole(path)
            times["whole"].append(time.perf_counter() - start)
            for name in ("quiet", "busy"):
                if name == "busy":  # five events each
                    add_fill(path, 2 * run)
                    add_fill(path, 2 * run + 1)
                start = time.perf_counter()
                assert followed(follower) == shown == args.working
                times[name].append(time.perf_counter() - start)
            times["render"].append(render(follower) / 1e9)
    for name, values in times.items():
        mean, half = mean_interval(values)
        print(f"{name:>6}: {mean * 1000:8.3f} ± {half * 1000:.3f} ms per redraw")
    for name in ("quiet", "busy"):
        ratios = [w / f for w, f in zip(times["whole"], times[name], strict=True)]
        mean, half = mean_interval(ratios)
        print(f"    ratio: whole / {name} = {mean:.1f} ± {half:.1f} (paired per run)")


if __name__ == "__main__":
    main()
