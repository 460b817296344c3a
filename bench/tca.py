"""Transaction-cost analysis: Hydra's routing against three baselines on thin-market scenarios.

Four scenarios (``bench/scenarios/tca-*.toml``: oats front month, hogs deferred (thin), oats on
a trending day, oats on a gappy day), each one buy of 2% of ADV, run for ``--seeds N`` seeds
(default 200; ``--quick``: 20) under four policies with common random numbers (the same seeds
for every policy):

- ``hydra``: Hydra's routing (2% of ADV: a TWAP whose slices are worked with patience);
- ``cross``: a marketable limit at the far touch at once (``RunPolicy.CROSS``);
- ``passive``: rest at the near touch, never step (``RunPolicy.PASSIVE``);
- ``twap-cross``: a naive equal-slice TWAP crossing each slice. Hydra has no such policy, so it
  is built here from the scenario API: each intent becomes ``execution.twap_slices`` equal
  intents (sizes differ by at most one) at equal intervals over ``execution.twap_horizon``,
  each with ``Policy.CROSS``; their fills are pooled and measured against the first slice's
  arrival mid (the parent's, at the same time and seed as the other policies').

Measures (MARKETS.md, execution-quality measures), per run, with side +1 for a buy:

- shortfall (bps) = side × (average fill price − arrival mid) / arrival mid × 10,000, over the
  filled part (runs with no fill are left out of its mean; their count is shown);
- completion = filled / ordered;
- opportunity cost (bps of the whole order) = side × (end mid − arrival mid) / arrival mid ×
  10,000 × unfilled / ordered, the unfilled rest charged at the end-of-horizon mid;
- combined cost (bps of the whole order) = shortfall × filled / ordered + opportunity cost.

The scenario results do not carry the end-of-horizon mid, so this script runs each scenario
with its own copy of `hydra.scenario.play` that reads ``SimExchange.quote(contract).mid`` when
the scenario's fixed horizon ends (2,400 s after the arrival for every policy; the TWAP horizon
is 1,800 s, so no order of any policy is working then), before Hydra closes.

Means are shown with 95% Student-t intervals (df = n − 1). The goal line: Hydra's mean
shortfall at most half of cross's, at 98% completion or more.

Run: ``.venv/bin/python bench/tca.py [--seeds N | --quick] [--plot tca.png] [--processes 2]``.
"""

from __future__ import annotations

import argparse
import functools
import logging
import math
import multiprocessing
import statistics
import sys
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import structlog
from _common import header, t_quantile

from hydra._enums import Policy
from hydra.scenario import RunPolicy, Scenario, SubmitIntent, load_scenario
from hydra.scenario._run import market_key, run_scenario

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
SCENARIOS = {
    "oats-front": "tca-oats-front.toml",
    "hogs-deferred": "tca-hogs-deferred.toml",
    "oats-drift": "tca-oats-drift.toml",
    "oats-gaps": "tca-oats-gaps.toml",
}
POLICIES = ("hydra", "cross", "passive", "twap-cross")
GOAL_RATIO = 0.5  # Hydra's shortfall at most half of cross's …
GOAL_COMPLETION = 0.98  # … at this completion or more
PARENT_SEPARATOR = "#slice"


# --- one run -----------------------------------------------------------------------------------


@functools.cache
def _scenario(key: str) -> Scenario:
    return load_scenario(SCENARIO_DIR / SCENARIOS[key])


def twap_cross_variant(scenario: Scenario) -> Scenario:
    """``scenario`` with each policy-less intent split into ``twap_slices`` equal intents at
    equal intervals over ``twap_horizon``, each crossing (Policy.CROSS); same end time."""
    if scenario.horizon is None:
        raise ValueError(f"{scenario.name}: a TCA scenario needs a fixed horizon (seconds)")
    end = max(action.at for action in scenario.actions) + scenario.horizon
    execution = scenario.config.execution
    actions: list[Any] = []
    for action in scenario.actions:
        if not isinstance(action, SubmitIntent) or action.policy is not None:
            actions.append(action)
            continue
        count = min(execution.twap_slices, action.quantity)
        base, extra = divmod(action.quantity, count)
        for index in range(count):
            actions.append(attrs.evolve(
                action, at=action.at + index * execution.twap_horizon / count,
                intent_id=f"{action.intent_id}{PARENT_SEPARATOR}{index + 1}",
                quantity=base + (1 if index < extra else 0), policy=Policy.CROSS,
            ))
    last = max(action.at for action in actions)
    return attrs.evolve(scenario, actions=actions, horizon=end - last)


def run_one(job: tuple[str, str, int]) -> dict[str, Any]:
    """One (scenario, policy, seed): the parent order's measures (floats, None when undefined)."""
    key, policy_name, seed = job
    scenario = _scenario(key)
    if policy_name == "twap-cross":
        scenario, run_policy = twap_cross_variant(scenario), RunPolicy.HYDRA
    else:
        run_policy = RunPolicy(policy_name)
    contracts = {a.contract for a in scenario.actions if isinstance(a, SubmitIntent)}
    if len(contracts) != 1:
        raise ValueError(f"{scenario.name}: a TCA scenario trades one contract")
    result = run_scenario(scenario, seed=seed, policy=run_policy)
    reports = [order.report for order in result.orders]
    end_mid = result.end_mids[market_key(contracts.pop())]
    ordered = sum(r.quantity for r in reports)
    filled = sum(r.filled for r in reports)
    first = reports[0]  # the parent, or its first slice: arrival at the same time and seed
    side, arrival = first.side.sign, first.arrival_mid
    notional = sum((r.average_price * r.filled for r in reports if r.filled), Decimal(0))
    shortfall = (float(side * (notional / filled - arrival) / arrival * 10_000)
                 if filled else None)
    unfilled = (ordered - filled) / ordered
    opportunity = float(side * (end_mid - arrival) / arrival * 10_000) * unfilled
    combined = (shortfall or 0.0) * filled / ordered + opportunity
    return dict(scenario=key, policy=policy_name, seed=seed, ordered=ordered, filled=filled,
                shortfall=shortfall, completion=filled / ordered, opportunity=opportunity,
                combined=combined, arrival=float(arrival), end_mid=float(end_mid),
                blocked=sum(r.blocked for r in reports))


def _quiet_worker() -> None:
    """Hydra logs every order at info: keep warnings and errors only."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


# --- statistics --------------------------------------------------------------------------------


@attrs.frozen
class Estimate:
    n: int
    mean: float
    half_width: float  # of the 95% t interval (nan for fewer than 2 values)

    def __str__(self) -> str:
        if self.n == 0:
            return "—"
        if math.isnan(self.half_width):
            return f"{self.mean:+.2f}"
        return f"{self.mean:+.2f} ± {self.half_width:.2f}"


def estimate(values: Sequence[float]) -> Estimate:
    n = len(values)
    if n == 0:
        return Estimate(0, math.nan, math.nan)
    mean = statistics.fmean(values)
    if n < 2:
        return Estimate(n, mean, math.nan)
    return Estimate(n, mean, t_quantile(0.975, n - 1) * statistics.stdev(values) / math.sqrt(n))


@attrs.frozen
class Cell:
    runs: int
    shortfall: Estimate  # over runs with a fill
    completion: float  # total filled / total ordered
    opportunity: Estimate
    combined: Estimate


def cell(rows: Sequence[dict[str, Any]]) -> Cell:
    return Cell(
        runs=len(rows),
        shortfall=estimate([r["shortfall"] for r in rows if r["shortfall"] is not None]),
        completion=sum(r["filled"] for r in rows) / sum(r["ordered"] for r in rows),
        opportunity=estimate([r["opportunity"] for r in rows]),
        combined=estimate([r["combined"] for r in rows]),
    )


# --- output ------------------------------------------------------------------------------------


def print_table(cells: dict[tuple[str, str], Cell]) -> None:
    print("Means over seeds with 95% Student-t intervals (df = n − 1); bps of the arrival mid,")
    print("positive = a cost. shortfall: filled part only (n = runs with a fill); opportunity and")
    print("combined: bps of the whole order, the unfilled rest charged at the end-of-horizon mid.")
    print()
    head = (f"{'scenario':<14}{'policy':<12}{'shortfall bps':>18}{'n':>5}{'completion':>12}"
            f"{'opportunity bps':>18}{'combined bps':>18}")
    print(head)
    print("-" * len(head))
    for key in SCENARIOS:
        for policy in POLICIES:
            c = cells[key, policy]
            print(f"{key:<14}{policy:<12}{c.shortfall!s:>18}{c.shortfall.n:>5}"
                  f"{c.completion:>11.1%} {c.opportunity!s:>18}{c.combined!s:>18}")
        print()


def print_goal(cells: dict[tuple[str, str], Cell], rows: Sequence[dict[str, Any]]) -> None:
    print(f"Goal: Hydra's mean shortfall ≤ {GOAL_RATIO:g} × cross's, at ≥ {GOAL_COMPLETION:.0%} "
          "completion.")
    for key in SCENARIOS:
        hydra, cross = cells[key, "hydra"], cells[key, "cross"]
        limit = GOAL_RATIO * cross.shortfall.mean
        shortfall_ok = hydra.shortfall.mean <= limit
        completion_ok = hydra.completion >= GOAL_COMPLETION
        verdict = "MET" if shortfall_ok and completion_ok else "NOT MET"
        parts = [f"shortfall {hydra.shortfall.mean:+.2f} vs limit {limit:+.2f} bps "
                 + ("(ok)" if shortfall_ok else
                    f"(misses by {hydra.shortfall.mean - limit:.2f} bps)"),
                 f"completion {hydra.completion:.1%} "
                 + ("(ok)" if completion_ok else
                    f"(misses by {(GOAL_COMPLETION - hydra.completion) * 100:.1f} points)")]
        paired = _paired(rows, key, "hydra", "cross")
        print(f"  {key:<14}{verdict:<8} " + "; ".join(parts)
              + f"; combined hydra − cross (paired) {paired} bps")
    print()


def _paired(rows: Sequence[dict[str, Any]], key: str, a: str, b: str) -> Estimate:
    """The mean per-seed difference of combined cost between policies ``a`` and ``b``."""
    by = {(r["policy"], r["seed"]): r["combined"] for r in rows if r["scenario"] == key}
    seeds = sorted({s for p, s in by if p == a} & {s for p, s in by if p == b})
    return estimate([by[a, s] - by[b, s] for s in seeds])


def plot(cells: dict[tuple[str, str], Cell], path: Path, seeds: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(SCENARIOS)
    fig, axes = plt.subplots(3, 1, figsize=(10, 11), sharex=True)
    width = 0.8 / len(POLICIES)
    panels = [("shortfall", "shortfall, filled part (bps)"),
              ("combined", "combined cost incl. opportunity (bps)"),
              ("completion", "completion (filled / ordered)")]
    for ax, (what, label) in zip(axes, panels, strict=True):
        for index, policy in enumerate(POLICIES):
            xs = [k + (index - (len(POLICIES) - 1) / 2) * width for k in range(len(keys))]
            if what == "completion":
                ax.bar(xs, [cells[k, policy].completion for k in keys], width, label=policy)
            else:
                estimates = [getattr(cells[k, policy], what) for k in keys]
                ax.bar(xs, [e.mean for e in estimates], width, label=policy,
                       yerr=[0 if math.isnan(e.half_width) else e.half_width
                             for e in estimates], capsize=3)
        ax.set_ylabel(label)
        ax.axhline(GOAL_COMPLETION if what == "completion" else 0, color="grey", lw=0.8,
                   ls="--" if what == "completion" else "-")
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(ncols=len(POLICIES), loc="upper left")
    axes[-1].set_xticks(range(len(keys)), keys)
    axes[-1].set_ylim(0, 1.05)
    fig.suptitle(f"Hydra TCA: 2% of ADV buys, {seeds} seeds each (common random numbers), "
                 "95% t intervals")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"plot written to {path}")


# --- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200, help="seeds per scenario (default 200)")
    parser.add_argument("--quick", action="store_true", help="20 seeds per scenario")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--plot", type=Path, help="write a PNG of the results here")
    args = parser.parse_args()
    seeds = 20 if args.quick else args.seeds
    if seeds < 2:
        parser.error("--seeds must be at least 2")
    header("Hydra TCA: hydra vs cross, passive and twap-cross on thin-market scenarios")
    for key, name in SCENARIOS.items():
        print(f"{key:<14}bench/scenarios/{name}: {_scenario(key).summary_line}")
    print(f"\nseeds {args.first_seed}..{args.first_seed + seeds - 1} for every policy; "
          f"{args.processes} processes\n", flush=True)

    jobs = [(key, policy, seed) for key in SCENARIOS for policy in POLICIES
            for seed in range(args.first_seed, args.first_seed + seeds)]
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with context.Pool(args.processes, initializer=_quiet_worker) as pool:
        rows = list(pool.imap_unordered(run_one, jobs, chunksize=8))
    wall = time.perf_counter() - started

    cells = {(key, policy): cell([r for r in rows if r["scenario"] == key
                                  and r["policy"] == policy])
             for key in SCENARIOS for policy in POLICIES}
    print_table(cells)
    print_goal(cells, rows)
    blocked = sum(r["blocked"] for r in rows)
    if blocked:
        print(f"note: {blocked} intents had an order blocked by risk")
    print(f"{len(jobs)} runs in {wall:.1f} s wall ({wall / len(jobs) * 1000:.0f} ms a run "
          f"over {args.processes} processes)")
    if args.plot:
        plot(cells, args.plot, seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
