"""Results for people (a table and a summary) and for programs (one JSON object).

JSON shapes (prices and bps as numbers, null when there is none):

* one seed: ``{"scenario", "seed", "policy", "orders": [ORDER, ...], "summary": SUMMARY}``
* ``--seeds A..B``: ``{"scenario", "seed": "A..B", "policy", "runs": [{"seed", "orders",
  "summary"}, ...], "summary": {"runs", "policy", "mean_shortfall_bps", "shortfall_ci95_bps",
  "mean_completion", "is_complete_bps", "is_complete_ci95_bps", "opportunity_bps",
  "commission_bps", "intents": [{"intent_id", "runs", "is_complete_bps",
  "is_complete_ci95_bps", "filled_bps", "opportunity_bps", "commission_bps", "completion"},
  ...]}}``

ORDER is ``{"intent_id", "action", "symbol", "month", "side", "quantity", "filled",
"avg_price", "arrival_mid", "shortfall_bps", "completion", "blocked", "block_reason",
"end_reason", "is_complete_bps", "filled_bps", "opportunity_bps", "commission_bps", "commission",
"child_orders": [{"client_order_id", "order_type", "limit_price", "stop_price", "quantity",
"filled", "status"}]}``; a client order id is shown without its journal id (``<intent>.<n>``),
so one seed prints the same JSON with every journal. ``shortfall_bps`` is over the filled part
only; ``is_complete_bps`` is the whole order's cost (IS-complete: the filled part, the unfilled
rest finished at the far touch when the run ended, and commissions paid and due, all in bps of
the arrival mid per intended contract) and is what compares policies that fill different amounts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import cattrs

from .._converter import fields_out, numbers_converter, override, rounded
from .._ids import unstamped
from .._reports import ChildOrderReport
from ._run import (
    IntentCost,
    IntentSeeds,
    OrderResult,
    RunResult,
    RunSummary,
    summarize_seeds,
)

# --- JSON --------------------------------------------------------------------------------------

_DOLLARS = override(unstruct_hook=rounded(2))


def _number(value: Decimal | None) -> float | None:
    """A price as a JSON number, unrounded (None stays None)."""
    return None if value is None else float(value)


def child_to_json(child: ChildOrderReport) -> dict[str, Any]:
    """A child order as ORDER's ``child_orders`` show it: picked by hand, since most of it is
    computed (its last limit price, what filled) and its id is shown without the journal's."""
    return {
        "client_order_id": unstamped(child.client_order_id),  # the same for every journal
        "order_type": child.order_type.value,
        "limit_price": _number(child.limit_price),
        "stop_price": _number(child.stop_price),
        "quantity": child.quantity,
        "filled": child.filled,
        "status": child.status.value,
    }


def order_to_json(order: OrderResult) -> dict[str, Any]:
    """One intent's ORDER: its report's figures (computed from the fills, so picked by hand:
    the average price to 6 places, the arrival mid unrounded), its cost and its children."""
    report = order.report
    return {
        "intent_id": report.intent_id,
        "action": order.action,
        "symbol": report.symbol,
        "month": order.month,
        "side": report.side.value,
        "quantity": report.quantity,
        "filled": report.filled,
        "avg_price": rounded(6)(report.average_price),
        "arrival_mid": _number(report.arrival_mid),
        "shortfall_bps": rounded(4)(report.shortfall_bps),
        "completion": rounded(4)(report.completion),
        "blocked": report.blocked,
        "block_reason": report.block_reason,
        "end_reason": report.end_reason,
        **cost_to_json(order.cost),
        "child_orders": [child_to_json(child) for child in report.children],
    }


def cost_to_json(cost: IntentCost | None) -> dict[str, Any]:
    """An intent's IS-complete and its parts (nulls when it has none): ``is_complete_bps`` is
    computed (the parts' sum), so it is added to the converter's fields by hand."""
    if cost is None:
        return dict.fromkeys(("is_complete_bps", *_COST_PARTS))
    return {"is_complete_bps": rounded(4)(cost.is_complete_bps), **_cost_fields(cost)}


def _json_converter() -> cattrs.Converter:
    """A results converter: decimals as JSON numbers to 4 places (bps and fractions), dollars
    to 2, a run's duration in seconds to 3, and what each result leaves out."""
    made = numbers_converter(places=4)
    made.register_unstructure_hook(OrderResult, order_to_json)
    made.register_unstructure_hook(RunSummary, fields_out(
        RunSummary, using=made, commission=_DOLLARS,
        duration=override(rename="duration_seconds", unstruct_hook=lambda s: round(s, 3))))
    made.register_unstructure_hook(RunResult, fields_out(
        RunResult, using=made, end_mids=override(omit=True)))
    return made


_json = _json_converter()
_cost_fields = fields_out(IntentCost, using=_json, completion=override(omit=True),
                          commission=_DOLLARS)
_COST_PARTS = ("filled_bps", "opportunity_bps", "commission_bps", "commission")
_seed_run = fields_out(RunResult, using=_json, scenario=override(omit=True),
                       policy=override(omit=True), end_mids=override(omit=True))


def run_to_json(result: RunResult) -> dict[str, Any]:
    """One run as the JSON object ``scenario run --json`` prints."""
    plain: dict[str, Any] = _json.unstructure(result)
    return plain


def seeds_to_json(results: Sequence[RunResult], seeds: str) -> dict[str, Any]:
    """Several seeds of one scenario as one JSON object; ``seeds`` is the range ("1..3"),
    each run its seed, orders and summary, and the summary the means across them."""
    return {
        "scenario": results[0].scenario,
        "seed": seeds,
        "policy": results[0].policy.value,
        "runs": [_seed_run(result) for result in results],
        "summary": _json.unstructure(summarize_seeds(results)),
    }


# --- text --------------------------------------------------------------------------------------

_COLUMNS = ("id", "symbol", "side", "qty", "filled", "avg price", "arrival mid",
            "shortfall bps", "completion", "ended short because")
_RIGHT = {"qty", "filled", "avg price", "arrival mid", "shortfall bps", "completion"}


def _text(value: Decimal | None, places: int) -> str:
    return "-" if value is None else f"{value:.{places}f}"


def _row(order: OrderResult) -> tuple[str, ...]:
    r = order.report
    symbol = f"{r.symbol} {order.month}" if order.month else r.symbol
    return (r.intent_id, symbol, r.side.value, str(r.quantity), str(r.filled),
            _text(r.average_price, 4), str(r.arrival_mid), _text(r.shortfall_bps, 2),
            f"{r.completion:.0%}", r.end_reason or "")


def render_table(rows: Sequence[tuple[str, ...]]) -> str:
    """Rows under the column headings, aligned (numbers to the right)."""
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(_COLUMNS)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(w) if name in _RIGHT else cell.ljust(w)
            for cell, w, name in zip(cells, widths, _COLUMNS, strict=True)
        ).rstrip()

    return "\n".join([line(_COLUMNS), line(["-" * w for w in widths]),
                      *(line(row) for row in rows)])


def render_run(result: RunResult) -> str:
    """One run: the table of intents and a summary."""
    s = result.summary
    lines = [
        f"scenario {result.scenario}  seed {result.seed}  policy {result.policy.value}",
        "",
        render_table([_row(order) for order in result.orders]) if result.orders
        else "(no intents)",
        "",
        f"filled {s.filled} of {s.ordered} contracts ({s.completion:.0%}) in {s.intents} "
        f"intent(s) with {s.child_orders} order(s); {s.blocked} blocked",
        f"shortfall of the filled part: mean {_text(s.mean_shortfall_bps, 2)} bps, weighted by "
        f"quantity {_text(s.weighted_shortfall_bps, 2)} bps",
        f"IS-complete {_text(s.is_complete_bps, 2)} bps (opportunity "
        f"{_text(s.opportunity_bps, 2)}, commissions {_text(s.commission_bps, 2)} bps, "
        f"${s.commission:.2f}), the unfilled rest finished at the far touch at the end",
        f"trading state at the end {s.trading_state.value}; {s.duration:.0f} s simulated",
    ]
    lines += [f"note: {note}" for note in s.notes]
    return "\n".join(lines)


def render_seeds(results: Sequence[RunResult], seeds: str) -> str:
    """Several seeds: one line per run, then the means across them."""
    across = summarize_seeds(results)
    first = results[0]
    lines = [f"scenario {first.scenario}  seeds {seeds}  policy {first.policy.value}", ""]
    for r in results:
        s = r.summary
        lines.append(
            f"seed {r.seed:>5}: filled {s.filled}/{s.ordered} ({s.completion:.0%}), "
            f"IS-complete {_text(s.is_complete_bps, 2)} bps, filled-part shortfall "
            f"{_text(s.mean_shortfall_bps, 2)} bps, {s.blocked} blocked"
        )
    lines += [
        "",
        f"{across.runs} runs, policy {across.policy.value}: IS-complete "
        f"{_text(across.is_complete_bps, 2)}{_pm(across.is_complete_ci95_bps)} bps "
        f"(opportunity {_text(across.opportunity_bps, 2)}, commissions "
        f"{_text(across.commission_bps, 2)}), mean completion {across.mean_completion:.1%}; "
        f"filled-part shortfall {_text(across.mean_shortfall_bps, 2)}"
        f"{_pm(across.shortfall_ci95_bps)} bps",
    ]
    if across.intents:
        lines += ["", render_intents(across.intents, across.policy.value)]
    return "\n".join(lines)


def _pm(interval: Decimal | None) -> str:
    return "" if interval is None else f" ± {interval:.2f} (95%)"


_INTENT_COLUMNS = ("intent", "policy", "runs", "IS-complete bps", "filled bps",
                   "opportunity bps", "commission bps", "completion")


def render_intents(intents: Sequence[IntentSeeds], policy: str) -> str:
    """Per intent across seeds: IS-complete and its parts (they add up), and completion."""
    rows = [_INTENT_COLUMNS] + [
        (i.intent_id, policy, str(i.runs),
         f"{i.is_complete_bps:.2f}{_pm(i.is_complete_ci95_bps).replace(' (95%)', '')}",
         f"{i.filled_bps:.2f}", f"{i.opportunity_bps:.2f}", f"{i.commission_bps:.2f}",
         f"{i.completion:.1%}")
        for i in intents
    ]
    widths = [max(len(row[k]) for row in rows) for k in range(len(_INTENT_COLUMNS))]
    return "\n".join("  ".join(cell.ljust(w) if k < 2 else cell.rjust(w)
                               for k, (cell, w) in enumerate(zip(row, widths, strict=True)))
                     .rstrip() for row in rows)


def progress_bar(done: int, total: int, *, width: int = 30) -> str:
    """``\\r[#########.....] 3/10 seeds``: one line that rewrites itself on a terminal."""
    filled = math.floor(width * done / total) if total else width
    return f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} seeds"
