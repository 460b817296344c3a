"""Hydra before and after a change, paired seed by seed on the TCA benchmark's rows.

``bench/tca.py --rows BEFORE`` on the unchanged tree (with ``twap-cross`` and ``oracle``), then
the changed tree (a setting in a copy of ``bench/scenarios``) with ``--policies hydra --rows
AFTER``: this reads both files and prints, per cell both hold, Hydra's IS-complete before
and after (bps of the arrival mid, 95% Student-t intervals), the paired difference after −
before (below zero: the change was cheaper), each paired against ``twap-cross``, the capture
of the gap to the oracle, CVaR95, completion, passive share and messages. AFTER's own
``twap-cross`` and ``oracle`` runs, where it holds them for the cell's seeds, are what its
figures are measured against (a change of Hydra's schedule changes ``twap-cross``, which
is that schedule crossed); else BEFORE's. A seed and its mirror (seed −s) count as one draw
(`pair_means`), as in ``bench/tca.py``; a run twice in a file counts once (`read_rows`).

Run: ``python bench/tca_compare.py BEFORE AFTER [--policy hydra] [--both-signs]``.
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _tca_rows import both_signs, read_rows
from _tca_stats import Estimate, capture, cvar, estimate, pair_means, paired

Rows = dict[str, dict[str, list[dict[str, Any]]]]  # cell -> policy -> runs


def load(path: Path, *, joined: bool = False) -> Rows:
    """The runs of a ``--rows`` file by cell and policy (a last line cut off is dropped);
    ``joined``: a moving day's up and down cells as one (`both_signs`)."""
    rows = read_rows(path)
    cells: Rows = defaultdict(lambda: defaultdict(list))
    for row in both_signs(rows) if joined else rows:
        cells[row["cell"]][row["policy"]].append(row)
    return cells


def _by_seed(rows: Sequence[dict[str, Any]]) -> dict[int, float]:
    return pair_means({r["seed"]: r["is_bps"] for r in rows})


def _mean(rows: Sequence[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in rows if r[key] is not None]
    return sum(values) / len(values) if values else math.nan


def compare(before: Rows, after: Rows, policy: str) -> list[dict[str, Any]]:
    """One entry per cell where both files hold ``policy`` on the same runs."""
    out = []
    for cell, policies in before.items():
        old, new = policies.get(policy, []), after.get(cell, {}).get(policy, [])
        seeds = {r["seed"] for r in old} & {r["seed"] for r in new}
        if not seeds:
            continue
        old = [r for r in old if r["seed"] in seeds]
        new = [r for r in new if r["seed"] in seeds]
        entry: dict[str, Any] = {"cell": cell, "runs": len(seeds)}
        after_twap = _reference(after[cell], policies, "twap-cross", seeds)
        for name, rows, own, twap_runs in (
                ("before", old, policies, _reference(policies, policies, "twap-cross", seeds)),
                ("after", new, after[cell], after_twap)):
            twap = _by_seed(twap_runs)
            oracle = estimate(list(_by_seed(_reference(own, policies, "oracle", seeds))
                                   .values())).mean
            means = _by_seed(rows)
            entry[name] = {
                "is_bps": estimate(list(means.values())),
                "vs_twap_cross": paired(twap, means),
                "capture": capture(estimate(list(means.values())).mean,
                                   estimate(list(twap.values())).mean, oracle)
                if twap else math.nan,
                "cvar95": cvar([r["is_bps"] for r in rows]),
                "completion": _mean(rows, "completion"),
                "passive_share": _mean(rows, "passive_share"),
                "messages": _mean(rows, "messages"),
            }
        entry["paired"] = paired(_by_seed(new), _by_seed(old))
        entry["twap_cvar95"] = cvar([r["is_bps"] for r in after_twap])
        out.append(entry)
    return out


def _reference(own: dict[str, list[dict[str, Any]]], before: dict[str, list[dict[str, Any]]],
               policy: str, seeds: set[int]) -> list[dict[str, Any]]:
    """``policy``'s runs on ``seeds`` from ``own`` (a file's own cell) when it holds them all,
    else from ``before``."""
    mine = [r for r in own.get(policy, []) if r["seed"] in seeds]
    if {r["seed"] for r in mine} == seeds:
        return mine
    return [r for r in before.get(policy, []) if r["seed"] in seeds]


def _pct(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.0%}"


def _num(value: float, digits: int = 1) -> str:
    return "—" if math.isnan(value) else f"{value:+.{digits}f}"


def print_table(entries: Sequence[dict[str, Any]]) -> None:
    print("| cell | runs | before | after | paired after − before | vs twap-cross, paired "
          "(before → after) | capture before → after | CVaR95 before → after (twap-cross) | "
          "completion | passive share | messages |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for e in entries:
        b, a = e["before"], e["after"]
        twap: tuple[Estimate, Estimate] = (b["vs_twap_cross"], a["vs_twap_cross"])
        print(f"| {e['cell']} | {e['runs']} | {b['is_bps']} | {a['is_bps']} | {e['paired']} | "
              f"{twap[0]} → {twap[1]} | {_pct(b['capture'])} → {_pct(a['capture'])} | "
              f"{_num(b['cvar95'])} → {_num(a['cvar95'])} ({_num(e['twap_cvar95'])}) | "
              f"{b['completion']:.1%} → {a['completion']:.1%} | "
              f"{b['passive_share']:.0%} → {a['passive_share']:.0%} | "
              f"{b['messages']:.1f} → {a['messages']:.1f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="rows of the unchanged tree (bench/tca.py)")
    parser.add_argument("after", type=Path, help="rows of the changed tree")
    parser.add_argument("--policy", default="hydra")
    parser.add_argument("--both-signs", action="store_true",
                        help="a trend or gaps day's up and down cells as one (as bench/tca.py)")
    args = parser.parse_args()
    entries = compare(load(args.before, joined=args.both_signs),
                      load(args.after, joined=args.both_signs), args.policy)
    if not entries:
        parser.error(f"no cell holds {args.policy} in both files")
    print_table(entries)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
