"""Calibration of the simulated market against its own parameters (TCA.md, "What the simulator
must model"): what a session of the default oats (or hogs) market looks like.

Per seed, one session (``session_seconds``) after the burn-in, on the pure market model
(`hydra.sim._market.Market`, no Trio, no link latency):

- the steady-state spread distribution of the crowd (time-weighted, no order of ours in the
  book) against ``spread_ticks``;
- volume per hour (all flow) and flow arrivals per hour;
- markouts of passive fills: a second run of the same seed keeps one 1-lot order resting at the
  crowd's near touch (buy and sell alternately, re-placed a second after each fill); for each
  fill, side × (crowd mid at fill + h − fill price) in ticks (the half spread earned minus the
  adverse move) and side × (crowd mid at fill + h − crowd mid just before the fill) (the adverse
  move alone, negative = against the passive filler), at h = 1, 10, 60, 300 s.

Run: ``.venv/bin/python bench/sim_calibration.py [--market oats|hogs] [--seeds 20]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections import Counter
from decimal import Decimal

from hydra._enums import Side
from hydra.sim import MarketParams
from hydra.sim._market import Market

HORIZONS = (1, 10, 60, 300)


def crowd_mid(market: Market) -> float:
    return (market.book.crowd_bid + market.book.crowd_ask) / 2


def spread_session(params: MarketParams, seed: int) -> tuple[Counter[int], int, int]:
    """Seconds spent at each crowd spread (ticks), lots traded, flow arrivals, in a session."""
    market = Market(params, random.Random(seed))
    seconds: Counter[int] = Counter()
    time, end = market.start, market.start + params.session_seconds
    while market.next_time() <= end:
        at = market.next_time()
        seconds[market.book.crowd_ask - market.book.crowd_bid] += at - time
        time = at
        market.step()
    seconds[market.book.crowd_ask - market.book.crowd_bid] += end - time
    return seconds, market.volume, len(market.tape)


def markout_session(params: MarketParams, seed: int) -> list[tuple[float, ...]]:
    """Per passive fill: (markout vs fill price, adverse move) at each horizon, in ticks."""
    market = Market(params, random.Random(seed))
    end = market.start + params.session_seconds
    fills: list[tuple[float, Side, int, float]] = []  # time, side, price, mid before
    side, key, replace_at = Side.BUY, 0, market.start
    resting = False
    mids: list[tuple[float, float]] = []  # (time, crowd mid) after each event
    while market.next_time() <= end + max(HORIZONS):
        if not resting and market.next_time() >= replace_at and market.next_time() <= end:
            key += 1
            price = market.book.crowd_bid if side is Side.BUY else market.book.crowd_ask
            market.book.place(key=str(key), side=side, price=price, quantity=1)
            resting = True
        before = crowd_mid(market)
        trade = market.step()
        if trade.matches:
            match = trade.matches[0]
            fills.append((trade.time, side, match.price, before))
            resting, replace_at = False, trade.time + 1
            side = side.opposite
        mids.append((trade.time, crowd_mid(market)))
    rows = []
    for time, fill_side, price, before in fills:
        row: list[float] = []
        for h in HORIZONS:
            later = mid_at(mids, time + h)
            row += [fill_side.sign * (later - price), fill_side.sign * (later - before)]
        rows.append(tuple(row))
    return rows


def mid_at(mids: list[tuple[float, float]], time: float) -> float:
    """The crowd mid standing at ``time`` (after the last event at or before it)."""
    low, high = 0, len(mids)
    while low < high:
        middle = (low + high) // 2
        if mids[middle][0] <= time:
            low = middle + 1
        else:
            high = middle
    return mids[max(low - 1, 0)][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--market", choices=("oats", "hogs"), default="oats")
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    params = MarketParams.oats() if args.market == "oats" else MarketParams.hogs()
    seeds = range(1, args.seeds + 1)
    totals: Counter[int] = Counter()
    volumes, arrivals = [], []
    for seed in seeds:
        seconds, volume, flows = spread_session(params, seed)
        totals.update(seconds)
        volumes.append(volume)
        arrivals.append(flows)
    hours = params.session_seconds / 3600
    whole = sum(totals.values())
    target = dict(params.spread_ticks)
    weight = sum(target.values())
    print(f"{args.market}: {args.seeds} seeds, one {hours:.1f} h session each, "
          f"after a {params.burn_in_seconds:.0f} s burn-in")
    print("spread (ticks): measured share of time vs spread_ticks")
    for ticks in sorted(set(totals) | set(target)):
        wanted = 100 * target.get(ticks, 0) / weight
        print(f"  {ticks}: {100 * totals[ticks] / whole:5.1f}%  vs {wanted:5.1f}%")
    print(f"volume per hour: {statistics.mean(volumes) / hours:.0f} lots "
          f"(ADV {params.adv} / {hours:.1f} h = {params.adv / hours:.0f}); "
          f"flow arrivals per hour: {statistics.mean(arrivals) / hours:.1f}")
    rows = [row for seed in seeds for row in markout_session(params, seed)]
    print(f"passive fills: {len(rows)}; markouts in ticks (mean ± 95% half-width)")
    print("  horizon   vs fill price       mid move since just before the fill")
    for index, h in enumerate(HORIZONS):
        earned = [row[2 * index] for row in rows]
        moved = [row[2 * index + 1] for row in rows]
        print(f"  {h:>5} s   {_ci(earned):>18}   {_ci(moved):>18}")
    tick = params.contract.tick_size
    bps = float(tick / params.start_mid * Decimal(10_000))
    print(f"(1 tick = {bps:.2f} bps of the start mid)")


def _ci(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    half = 1.96 * statistics.stdev(values) / len(values) ** 0.5
    return f"{statistics.mean(values):+.3f} ± {half:.3f}"


if __name__ == "__main__":
    main()
