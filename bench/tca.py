"""Transaction-cost analysis: Hydra's routing against six baselines and the front-of-queue
oracle, by IS-complete (implementation shortfall of the whole order, /work/shared/TCA.md).

Scenarios (the markets and Hydra's settings of ``bench/scenarios/tca-*.toml``; their actions
are ignored): oats front month, lean hogs front month, lean hogs deferred (thin), oats on a
trending day (3% a session) and on a gappy day (five gaps of 3–8 ticks), the direction of the
trend and of the gaps drawn per seed and reported by sign (``-up``, ``-down``: the market's
direction, so ``-up`` is adverse to a buy). Orders of 0.25%, 1%, 2% and 5% of the market's ADV,
buys and sells. A cell is (scenario, size, side); every policy in a cell runs on the same seeds
(common random numbers: the same seed is the same market until the policies' own orders
change it; whether it stays the same after that is the simulator's business).

Each run (``bench/_tca_run.py``): the order arrives after a burn-in of 900–1,200 s (drawn per
seed), has a deadline T of ``twap_horizon`` (1,800 s) later, and whatever is unfilled at T is
swept by an emulated market order without protection (an IOC limit 10% through the book, so
that every order completes). Cost per intended contract, commissions included, in bps of the
arrival mid and in dollars, positive = a cost. Policies:

- ``hydra``: Hydra's own routing through `open_hydra` (patience below the scenario's
  ``twap_threshold``, 0.2% of ADV in each, TWAP of patience ladders at or above), cancelled
  at T; risk limits raised so that none binds;
- ``market``: a market order (MKT) at arrival, through the simulator: it walks the book as far
  as ``market_protection_ticks`` past the far touch and its rest waits there (Globex's market
  order with protection) until the sweep at T;
- ``sweep``: one marketable limit at the slippage guard (50 bps), at once; the rest rests there;
- ``cross-rest``: a limit at the far touch that rests at that price until T;
- ``twap-cross``: Hydra's schedule (the scenario's ``twap_slices``, 20, equal slices over
  1,800 s; no more slices than lots), each slice an IOC at the far touch for its lots plus the
  earlier slices' unfilled lots;
- ``passive-sweep``: a limit at the near touch that rests at that price until T;
- ``adaptive-proxy``: IB's Adaptive roughly: the whole rest at mid, every 20 s repriced toward the
  far touch (¾, then the far touch), then re-pegged at the far touch every 20 s;
- ``oracle``: no order; every marketable order of the other side trades with the oracle first,
  at the crowd's touch, until it is full; the rest swept at T (an upper bound for any limit
  order policy).

Figures per cell and policy: IS-complete mean with its 95% Student-t interval, SD, CVaR95 (mean
of the worst 5%), dollars per contract, completion before T, passive share of the lots filled
before T, markouts of passive fills at 1/10/60/300 s (bps of the arrival mid, positive =
adverse: the mid moved through the fill), messages per intent; the paired difference
policy − hydra on the same seeds (positive: Hydra was cheaper) with its interval; per cell the
oracle's mean and Hydra's capture = (twap-cross − hydra) / (twap-cross − oracle).

Goals (the execution-quality issue), checked per cell: Hydra's mean IS-complete below every
baseline's, with the paired interval excluding zero against market, sweep, cross-rest,
twap-cross and adaptive-proxy; capture at least 50%; CVaR95 no worse than twap-cross's.

Mirrored seeds (``--mirror``): every seed s is also run on its market reflected about the
start mid (``MarketParams.mirrored``), reported as seed −s. A sell on seed −s is then the buy on
seed s with every price reflected (the same dollars per contract, ``tests/test_tca_run.py``), so
with the mirrors a cell's markets are symmetric and the buy and sell cells differ only by what
the seeds cannot cancel: a handful of seeds that happen to fall more than they rise makes every
policy's sells dearer than its buys and favours patience on the buys, without the mirrors.
A trend or gaps day's cells are split by the sign of the day's move (``oats-trend-up``, a
mirrored seed in the other); ``--both-signs`` reports the two as one cell, each seed with its
mirror as one draw: the day as a trader meets it, its sign not known.

Run: ``.venv/bin/python bench/tca.py [--seeds N | --quick] [--mirror] [--json FILE]
[--plot FILE] [--processes 2] [--sizes 0.25,1,2,5] [--scenarios oats-front,...]
[--policies hydra,...] [--rows FILE [--allow-mixed]] [--with-rows FILE]
[--both-signs]``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import math
import multiprocessing
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import structlog
from _common import header
from _tca_rows import (
    both_signs,
    commits_read,
    earlier_rows,
    mixed_simulators,
    read_rows,
    stamp,
    unstamped,
)
from _tca_run import POLICIES, Job, arrival_offset, move_sign, run
from _tca_stats import capture, cvar, estimate, pair_means, paired, sd

from hydra import HydraConfig
from hydra._enums import Side
from hydra.scenario import Scenario, load_scenario
from hydra.sim import SimParams

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
SCENARIOS = {  # key: (file, how the day moves: None, "trend" or "gaps", signed per seed)
    "oats-front": ("tca-oats-front.toml", None),
    "hogs-front": ("tca-hogs-front.toml", None),
    "hogs-deferred": ("tca-hogs-deferred.toml", None),
    "oats-trend": ("tca-oats-drift.toml", "trend"),
    "oats-gaps": ("tca-oats-gaps.toml", "gaps"),
}
SIZES = (0.25, 1.0, 2.0, 5.0)  # % of ADV
SIDES = (Side.BUY, Side.SELL)
BASELINES = ("market", "sweep", "cross-rest", "twap-cross", "passive-sweep", "adaptive-proxy")
MUST_BEAT = ("market", "sweep", "cross-rest", "twap-cross", "adaptive-proxy")  # paired, CI ≠ 0
GOAL_CAPTURE = 0.5
COMPARED = {"hydra", "twap-cross"}  # the summary and the goals need both in every cell
NO_LIMIT = 10**9


# --- building a job ----------------------------------------------------------------------------


@functools.cache
def _scenario(key: str) -> Scenario:
    return load_scenario(SCENARIO_DIR / SCENARIOS[key][0])


def _unbound(config: HydraConfig) -> HydraConfig:
    """Hydra's settings with the risk limits out of the way (a 5%-of-ADV hogs order is 1,500
    lots): the bench measures execution, not risk."""
    risk = attrs.evolve(
        config.risk, max_order_quantity=NO_LIMIT, max_position=NO_LIMIT,
        max_order_notional=Decimal(10**15), max_position_value=Decimal(10**15),
        daily_loss_limit=Decimal(10**12), max_drawdown=Decimal(10**12),
        max_single_trade_loss=Decimal(10**12))
    return attrs.evolve(config, risk=risk)


def day(key: str, seed: int) -> SimParams:
    """The scenario's market on ``seed``: a trend or the gaps turned by the seed's sign, the
    gaps timed from the seed's arrival."""
    sim, kind = _scenario(key).sim, SCENARIOS[key][1]
    if kind is None:
        return sim
    sign = move_sign(seed)
    market = sim.markets[0]
    if kind == "trend":
        market = attrs.evolve(market, drift_per_session=sign * abs(market.drift_per_session))
    else:
        offset = arrival_offset(seed)
        gaps = [attrs.evolve(g, at=g.at + offset, change=sign * g.change) for g in market.gaps]
        market = attrs.evolve(market, gaps=gaps)
    return attrs.evolve(sim, markets=(market, *sim.markets[1:]))


def quantity(key: str, size: float) -> int:
    adv = _scenario(key).sim.markets[0].adv
    return max(1, round(adv * size / 100))


def mirrored_day(key: str, seed: int) -> SimParams:
    """The market of run ``seed``: `day` for a seed above zero; for seed −s, seed s's market
    mirrored about its start mid (``--mirror``: its trend and gaps reversed with it)."""
    sim = day(key, abs(seed))
    if seed > 0:
        return sim
    market = attrs.evolve(sim.markets[0], mirrored=True)
    return attrs.evolve(sim, markets=(market, *sim.markets[1:]))


def make_job(key: str, size: float, side: Side, policy: str, seed: int) -> Job:
    scenario = _scenario(key)
    return Job(sim=mirrored_day(key, seed), config=_unbound(scenario.config),
               contract=scenario.sim.markets[0].contract, side=side,
               quantity=quantity(key, size), horizon=scenario.config.execution.twap_horizon,
               policy=policy, seed=abs(seed))


def cell_name(key: str, size: float, side: Side, seed: int) -> str:
    """Where a run is reported: ``oats-front 2% BUY``; moving days by the sign of their move
    (a mirrored seed's is the other)."""
    if SCENARIOS[key][1] is not None:
        up = move_sign(abs(seed)) * (1 if seed > 0 else -1) > 0
        key = f"{key}-{'up' if up else 'down'}"
    return f"{key} {size:g}% {side.value}"


def run_one(task: tuple[str, float, str, str, int]) -> dict[str, Any]:
    key, size, side_name, policy, seed = task
    side = Side(side_name)
    outcome = run(make_job(key, size, side, policy, seed))
    return dict(cell=cell_name(key, size, side, seed), policy=policy, seed=seed,
                **attrs.asdict(outcome))


def _quiet_worker() -> None:
    """Hydra logs every order at info: keep warnings and errors only."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))


# --- figures -----------------------------------------------------------------------------------


def _mean(values: Sequence[float]) -> float | None:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return sum(values) / len(values) if values else None


def policy_figures(rows: Sequence[dict[str, Any]], hydra: dict[int, float]) -> dict[str, Any]:
    """One policy's figures in one cell; means and intervals count a seed and its mirror as
    one draw, SD and CVaR95 are over the runs."""
    costs = [r["is_bps"] for r in rows]
    by_seed = pair_means({r["seed"]: r["is_bps"] for r in rows})
    dollars = pair_means({r["seed"]: r["is_dollars"] for r in rows})
    passive = [r["passive_share"] for r in rows]
    return {
        "runs": len(rows),
        "is_bps": estimate(list(by_seed.values())).to_json(),
        "sd_bps": _round(sd(costs)),
        "cvar95_bps": _round(cvar(costs)),
        "is_dollars_per_contract": estimate(list(dollars.values())).to_json(),
        "completion": round(sum(r["completion"] for r in rows) / len(rows), 4),
        "passive_share": _round(_mean(passive)),
        "markouts_bps": {f"{h:g}s": _round(_mean([r["markouts_bps"][h] for r in rows]))
                         for h in rows[0]["markouts_bps"]},
        "messages": round(sum(r["messages"] for r in rows) / len(rows), 2),
        "paired_vs_hydra_bps": paired(by_seed, pair_means(hydra)).to_json(),
    }


def _round(value: float | None) -> float | None:
    """Four places; None for none (or NaN: JSON has no NaN)."""
    return None if value is None or math.isnan(value) else round(value, 4)


def figures(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every figure, per cell: the JSON that ``--json`` writes."""
    cells: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        cells[row["cell"]][row["policy"]].append(row)
    out = {}
    for name in sorted(cells, key=_cell_order):
        policies = cells[name]
        hydra = {r["seed"]: r["is_bps"] for r in policies.get("hydra", [])}
        entry: dict[str, Any] = {"seeds": len(hydra), "policies": {
            p: policy_figures(policies[p], hydra) for p in POLICIES if p in policies}}
        means = {p: f["is_bps"]["mean"] for p, f in entry["policies"].items()}
        entry["oracle_bps"] = means.get("oracle")
        entry["capture"] = _round(_capture(means, "hydra"))
        for p, f in entry["policies"].items():
            f["capture"] = _round(_capture(means, p))
        entry["goals"] = goals(entry) if entry["policies"].keys() >= COMPARED else None
        out[name] = entry
    return out


def _capture(means: dict[str, float | None], policy: str) -> float | None:
    try:
        value = capture(means[policy], means["twap-cross"], means["oracle"])  # type: ignore[arg-type]
    except (KeyError, TypeError):
        return None
    return None if math.isnan(value) else value


def _cell_order(name: str) -> tuple[int, float, str, str]:
    scenario, size, side = name.split()
    base = next(i for i, k in enumerate(SCENARIOS) if scenario.startswith(k))
    return base, float(size.rstrip("%")), scenario, side


def goals(entry: dict[str, Any]) -> dict[str, Any]:
    """The issue's three goals for one cell, and by how much each is missed."""
    policies = entry["policies"]
    hydra = policies["hydra"]
    mean = hydra["is_bps"]["mean"]
    dearer = [p for p in BASELINES if p in policies and policies[p]["is_bps"]["mean"] <= mean]
    unclear = [p for p in MUST_BEAT if p in policies
               and not (policies[p]["paired_vs_hydra_bps"]["ci_low"] or 0) > 0]
    cvar_gap = (hydra["cvar95_bps"] or 0.0) - (policies["twap-cross"]["cvar95_bps"] or 0.0)
    return {
        "cheapest": not dearer and not unclear,
        "baselines_not_beaten": dearer,
        "paired_interval_not_clear": unclear,
        "capture_ok": entry["capture"] is not None and entry["capture"] >= GOAL_CAPTURE,
        "cvar_ok": cvar_gap <= 0,
        "cvar_vs_twap_cross_bps": round(cvar_gap, 4),
    }


# --- output ------------------------------------------------------------------------------------


def _est(entry: dict[str, Any]) -> str:
    low, high, mean = entry["ci_low"], entry["ci_high"], entry["mean"]
    if mean is None:
        return "—"
    return f"{mean:+.2f}" if low is None else f"{mean:+.2f} ± {(high - low) / 2:.2f}"


def print_summary(out: dict[str, dict[str, Any]]) -> None:
    print("IS-complete per intended contract, bps of the arrival mid (positive = a cost),")
    print("commissions and the sweep at T included; 95% Student-t intervals; paired = policy −")
    print("hydra on the same seeds (positive: Hydra cheaper).\n")
    print("| cell | seeds | hydra | best baseline | twap-cross | oracle | capture | CVaR95 "
          "hydra / twap-cross | goals |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, entry in out.items():
        p = entry["policies"]
        best = min((b for b in BASELINES if b in p), key=lambda b: p[b]["is_bps"]["mean"])
        g = entry["goals"]
        marks = "".join([_mark(g["cheapest"]), _mark(g["capture_ok"]), _mark(g["cvar_ok"])])
        cap = "—" if entry["capture"] is None else f"{entry['capture']:.0%}"
        oracle = "—" if entry["oracle_bps"] is None else f"{entry['oracle_bps']:+.2f}"
        print(f"| {name} | {entry['seeds']} | {_est(p['hydra']['is_bps'])} | {best} "
              f"{_est(p[best]['is_bps'])} (paired {_est(p[best]['paired_vs_hydra_bps'])}) | "
              f"{_est(p['twap-cross']['is_bps'])} | {oracle} | {cap} | "
              f"{p['hydra']['cvar95_bps']:+.1f} / {p['twap-cross']['cvar95_bps']:+.1f} | "
              f"{marks} |")
    print("\ngoals: cheapest with clear paired intervals / capture ≥ 50% / CVaR95 ≤ twap-cross "
          "(✓ met, ✗ missed)\n")


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def print_cell(name: str, entry: dict[str, Any]) -> None:
    print(f"{name} ({entry['seeds']} seeds)\n")
    print("| policy | IS-complete bps | $/contract | SD | CVaR95 | completion | passive | "
          "markout 1/10/60/300 s | messages | paired vs hydra |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for policy, f in entry["policies"].items():
        marks = "/".join("—" if v is None else f"{v:+.1f}" for v in f["markouts_bps"].values())
        passive = "—" if f["passive_share"] is None else f"{f['passive_share']:.0%}"
        paired_text = "" if policy == "hydra" else _est(f["paired_vs_hydra_bps"])
        print(f"| {policy} | {_est(f['is_bps'])} | {_est(f['is_dollars_per_contract'])} | "
              f"{f['sd_bps']:.1f} | {f['cvar95_bps']:+.1f} | {f['completion']:.1%} | {passive} | "
              f"{marks} | {f['messages']:.1f} | {paired_text} |")
    print()


def print_goals(out: dict[str, dict[str, Any]]) -> None:
    total = len(out)
    cheapest = sum(e["goals"]["cheapest"] for e in out.values())
    captured = sum(e["goals"]["capture_ok"] for e in out.values())
    tail = sum(e["goals"]["cvar_ok"] for e in out.values())
    print(f"Goals over {total} cells: Hydra cheapest with clear paired intervals in {cheapest}; "
          f"capture ≥ {GOAL_CAPTURE:.0%} in {captured}; CVaR95 ≤ twap-cross's in {tail}.")
    captures = [e["capture"] for e in out.values() if e["capture"] is not None]
    if captures:
        print(f"capture: median {sorted(captures)[len(captures) // 2]:.0%}, "
              f"range {min(captures):.0%} to {max(captures):.0%}")
    beaten: dict[str, int] = defaultdict(int)
    for e in out.values():
        for p in {*e["goals"]["baselines_not_beaten"], *e["goals"]["paired_interval_not_clear"]}:
            beaten[p] += 1
    if beaten:
        print("cells where Hydra is not clearly cheaper than: "
              + ", ".join(f"{p} {n}" for p, n in sorted(beaten.items())))
    print()


def task_key(task: tuple[str, float, str, str, int]) -> tuple[str, str, int]:
    """A run's cell, policy and seed: what identifies its row."""
    key, size, side, policy, seed = task
    return cell_name(key, size, Side(side), seed), policy, seed


def plot(out: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(out)
    present = set.intersection(*(set(entry["policies"]) for entry in out.values()))
    shown = [p for p in ("hydra", *BASELINES, "oracle") if p in present]
    fig, axes = plt.subplots(2, 1, figsize=(max(10, len(names) * 0.45), 10))
    width = 0.8 / len(shown)
    for index, policy in enumerate(shown):
        colour = f"C{index}"  # a policy's colour in both panels
        xs = [k + (index - (len(shown) - 1) / 2) * width for k in range(len(names))]
        means = [out[n]["policies"][policy]["is_bps"] for n in names]
        axes[0].bar(xs, [m["mean"] for m in means], width, label=policy, color=colour,
                    yerr=[0 if m["ci_low"] is None else (m["ci_high"] - m["ci_low"]) / 2
                          for m in means], capsize=1.5)
        if policy in BASELINES:
            diffs = [out[n]["policies"][policy]["paired_vs_hydra_bps"] for n in names]
            axes[1].errorbar(xs, [d["mean"] for d in diffs], fmt="o", ms=3, label=policy,
                             color=colour,
                             yerr=[0 if d["ci_low"] is None else (d["ci_high"] - d["ci_low"]) / 2
                                   for d in diffs])
    axes[0].set_ylabel("IS-complete (bps of arrival mid)")
    axes[1].set_ylabel("paired: policy − hydra (bps)")
    for ax in axes:
        ax.axhline(0, color="grey", lw=0.8)
        ax.grid(axis="y", alpha=0.3)
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
    axes[0].legend(ncols=4, fontsize=7)
    axes[1].legend(ncols=3, fontsize=7)
    fig.suptitle("Hydra TCA: IS-complete with 95% intervals (common random numbers)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"plot written to {path}")


# --- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100, help="seeds per cell (default 100)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 6 seeds, 2%% of ADV, buys only")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--mirror", action="store_true",
                        help="also run every seed s on its market mirrored (reported as seed "
                        "-s): each cell then holds each market and its reflection, so the "
                        "seeds' drift cancels and a buy cell meets what the sell cell meets")
    parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--sizes", default=",".join(f"{s:g}" for s in SIZES),
                        help="order sizes in %% of ADV (default 0.25,1,2,5)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--sides", default=",".join(side.value for side in SIDES),
                        help="BUY, SELL or both (default); with --mirror a sell cell is the "
                        "buy cell's reflection, so one side says what both do")
    parser.add_argument("--policies", default=",".join(POLICIES),
                        help="the policies to run (default all; the figures need hydra, "
                        "twap-cross and oracle)")
    parser.add_argument("--json", type=Path, help="write every figure as JSON here")
    parser.add_argument("--rows", type=Path,
                        help="append every run's outcome here as it ends, one JSON line each; "
                        "runs already in the file are not run again (a killed bench resumes)")
    parser.add_argument("--with-rows", type=Path,
                        help="add the runs of other policies from an earlier --rows file "
                        "(while iterating on Hydra: rerun hydra only, reuse the baselines)")
    parser.add_argument("--allow-mixed", action="store_true",
                        help="resume a --rows file whose runs another simulator made")
    parser.add_argument("--both-signs", action="store_true",
                        help="report a trend or gaps day's up and down cells as one (each seed "
                        "with its mirror, which moved the other way, as one draw)")
    parser.add_argument("--plot", type=Path, help="write a PNG of the comparison here")
    args = parser.parse_args()
    seeds = 6 if args.quick else args.seeds
    sizes = [2.0] if args.quick else [float(s) for s in args.sizes.split(",")]
    keys, policies = args.scenarios.split(","), args.policies.split(",")
    if seeds < 2 or any(k not in SCENARIOS for k in keys):
        parser.error("--seeds must be at least 2, --scenarios among " + ", ".join(SCENARIOS))
    if any(side not in {s.value for s in SIDES} for side in args.sides.split(",")):
        parser.error(f"--sides among BUY, SELL, got {args.sides!r}")
    sides = [Side.BUY] if args.quick else [Side(side) for side in args.sides.split(",")]
    if args.first_seed < 1:
        parser.error(f"--first-seed must be at least 1 (seed -s is seed s mirrored), "
                     f"got {args.first_seed}")
    if any(p not in POLICIES for p in policies):
        parser.error("--policies among " + ", ".join(POLICIES))
    header("Hydra TCA: IS-complete, Hydra against six baselines and the front-of-queue oracle")
    for key in keys:
        lots = ", ".join(f"{s:g}% = {quantity(key, s)}" for s in sizes)
        print(f"{key:<14}bench/scenarios/{SCENARIOS[key][0]}: lots {lots}")
    mirror = " and their mirrors (-seed)" if args.mirror else ""
    print(f"\nseeds {args.first_seed}..{args.first_seed + seeds - 1}{mirror} in every cell and "
          f"policy; {args.processes} processes\n", flush=True)
    runs = range(args.first_seed, args.first_seed + seeds)

    tasks = [(key, size, side.value, policy, seed) for key in keys for size in sizes
             for side in sides for policy in policies
             for base in runs for seed in ((base, -base) if args.mirror else (base,))]
    wanted = {task_key(task) for task in tasks}
    rows = [row for row in read_rows(args.rows, repair=True)
            if (row["cell"], row["policy"], row["seed"]) in wanted] if args.rows else []
    done_before = {(row["cell"], row["policy"], row["seed"]) for row in rows}
    todo = [task for task in tasks if task_key(task) not in done_before]
    made_by = stamp()  # each row written: the code that made it
    if rows:
        refusal = mixed_simulators(rows, args.rows, sim=made_by["sim"])
        if refusal is not None and not args.allow_mixed:
            parser.exit(2, refusal + "\n")
        for line in (refusal, unstamped(rows, args.rows)):
            if line is not None:
                print(line, file=sys.stderr, flush=True)
        print(f"{len(rows)} runs read from {args.rows}, {len(todo)} to run\n", flush=True)
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with (context.Pool(args.processes, initializer=_quiet_worker) as pool,
          contextlib.ExitStack() as stack):
        sink = stack.enter_context(args.rows.open("a")) if args.rows else None
        for done, row in enumerate(pool.imap_unordered(run_one, todo, chunksize=4), 1):
            if sink is not None:
                sink.write(json.dumps({**row, **made_by}) + "\n")
                sink.flush()
            rows.append(row)
            if done % 500 == 0:  # progress on stderr, stdout stays the report
                print(f"{done}/{len(todo)} runs, {time.perf_counter() - started:.0f} s",
                      file=sys.stderr, flush=True)
    wall = time.perf_counter() - started
    if args.with_rows:
        earlier = earlier_rows(args.with_rows, exclude=set(policies),
                               cells={(r["cell"], r["seed"]) for r in rows})
        print(commits_read(earlier, args.with_rows), flush=True)
        rows += earlier

    out = figures(both_signs(rows) if args.both_signs else rows)
    if all(entry["goals"] is not None for entry in out.values()):
        print_summary(out)
        for name, entry in out.items():
            if " 2% " in name or len(out) <= 6:
                print_cell(name, entry)
        print_goals(out)
    else:
        print("no summary: every cell needs hydra and twap-cross (run them, or read them "
              "with --with-rows FILE)")
    print(f"{len(todo)} runs in {wall:.0f} s wall "
          f"({wall / max(len(todo), 1) * 1000:.0f} ms a run over {args.processes} processes)")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
        print(f"figures written to {args.json}")
    if args.plot:
        plot(out, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
