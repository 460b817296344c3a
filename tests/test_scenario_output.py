"""Scenario results as JSON and as text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hydra.scenario import run_scenario, run_to_json, scenario_from_table, seeds_to_json
from hydra.scenario._output import progress_bar, render_run, render_seeds, render_table

SCENARIO = scenario_from_table({
    "markets": [{"symbol": "ZO", "adv": 0, "daily_volatility": 0.0, "spread_ticks": [[2, 1.0]],
                 "displayed_size": {"minimum": 5, "maximum": 5, "mean": 5}}],
    "config": {"risk": {"max_order_notional": 40000}},
    "actions": [
        {"kind": "intent", "id": "buy", "at": 0, "symbol": "ZO", "side": "BUY", "quantity": 2,
         "policy": "cross"},
        {"kind": "intent", "id": "too-big", "at": 1, "symbol": "ZO", "side": "SELL",
         "quantity": 3},
    ],
}, name="out")
RESULT = run_scenario(SCENARIO)


def test_json_has_the_documented_shape_with_numbers() -> None:
    """Prices and bps are JSON numbers; a blocked intent carries its reason."""
    printed = json.loads(json.dumps(run_to_json(RESULT)))
    buy, blocked = printed["orders"]
    assert buy["avg_price"] == 350.25 and buy["arrival_mid"] == 350.0
    assert buy["shortfall_bps"] == pytest.approx(7.1429)
    assert buy["child_orders"] == [{"client_order_id": "buy.1", "order_type": "LMT",
                                    "limit_price": 350.25, "stop_price": None, "quantity": 2,
                                    "filled": 2, "status": "FILLED"}]
    assert blocked["blocked"] and blocked["block_reason"].startswith("order_notional ")
    assert blocked["block_reason"].endswith(" exceeds limit 40000")
    assert blocked["shortfall_bps"] is None and blocked["completion"] == 0.0
    assert printed["summary"]["blocked"] == 1 and printed["summary"]["completion"] == 0.4


def test_seeds_json_holds_each_run() -> None:
    """Several seeds: the range as the seed, each run's orders and summary under runs."""
    printed = seeds_to_json([RESULT, RESULT], "1..2")
    assert printed["seed"] == "1..2" and len(printed["runs"]) == 2
    assert printed["runs"][0]["orders"] == run_to_json(RESULT)["orders"]


def test_the_table_aligns_columns() -> None:
    """Every row of the table starts its columns at the same places."""
    table = render_table([("a", "ZO", "BUY", "3", "3", "1.0", "2", "3", "100%", ""),
                          ("long-id", "HE 202610", "SELL", "30", "0", "-", "2", "-", "0%", "x")])
    header, rule, *rows = table.splitlines()
    assert header.startswith("id       symbol     side")
    assert all(row[9:18].strip() in ("ZO", "HE 202610") for row in rows)
    assert set(rule) <= {"-", " "}


def test_text_reports_name_the_blocked_reason_and_the_means() -> None:
    """The run shows each intent and a summary; seeds show one line each and the means."""
    text = render_run(RESULT)
    assert "exceeds limit 40000" in text and "1 blocked" in text
    assert "IS-complete 8.57 bps (opportunity 4.29, commissions 1.43 bps, $12.50)" in text
    seeds = render_seeds([RESULT, RESULT], "1..2")
    assert "2 runs, policy hydra: IS-complete 8.57 ± 0.00 (95%) bps" in seeds
    assert "filled-part shortfall 7.14 ± 0.00 (95%) bps" in seeds


def test_is_complete_charges_the_unfilled_rest_and_commissions() -> None:
    """The cross buy paid 1 tick on 2 lots (7.14 bps) and $5 (1.43 bps); the blocked sell
    filled nothing and is charged its rest at the end's bid, 1 tick (7.14), and the $7.50 its
    3 lots would pay: both 8.57 bps, where the filled-part shortfall sees only the buy."""
    buy, blocked = json.loads(json.dumps(run_to_json(RESULT)))["orders"]
    assert (buy["is_complete_bps"], buy["filled_bps"], buy["opportunity_bps"],
            buy["commission_bps"], buy["commission"]) == (8.5714, 7.1429, 0.0, 1.4286, 5.0)
    assert (blocked["is_complete_bps"], blocked["filled_bps"], blocked["opportunity_bps"],
            blocked["commission"]) == (8.5714, 0.0, 7.1429, 7.5)
    summary = run_to_json(RESULT)["summary"]
    assert summary["is_complete_bps"] == 8.5714 and summary["commission"] == 12.5


def test_seeds_summary_is_per_intent_and_names_the_policy() -> None:
    """Across seeds: IS-complete, opportunity, commissions and completion for each intent,
    under the run's policy, in JSON and as a table."""
    summary = seeds_to_json([RESULT, RESULT], "1..2")["summary"]
    assert summary["policy"] == "hydra" and summary["is_complete_bps"] == 8.5714
    assert [(i["intent_id"], i["runs"], i["is_complete_bps"], i["opportunity_bps"],
             i["completion"]) for i in summary["intents"]] == [
        ("buy", 2, 8.5714, 0.0, 1.0), ("too-big", 2, 8.5714, 7.1429, 0.0)]
    table = render_seeds([RESULT, RESULT], "1..2").splitlines()
    assert table[-3].split()[:4] == ["intent", "policy", "runs", "IS-complete"]
    assert table[-1].split()[:4] == ["too-big", "hydra", "2", "8.57"]


def test_progress_bar_rewrites_one_line() -> None:
    """A carriage return, a bar and the count."""
    assert progress_bar(1, 4, width=8) == "\r[##......] 1/4 seeds"
    assert progress_bar(4, 4, width=8) == "\r[########] 4/4 seeds"


def test_json_is_what_it_was() -> None:
    """One run and two seeds give the JSON they gave before the converter wrote it: the same
    keys, values and number formats (``tests/scenario_output.json``, written then)."""
    before = json.loads((Path(__file__).parent / "scenario_output.json").read_text())
    assert json.loads(json.dumps(run_to_json(RESULT))) == before["run"]
    assert json.loads(json.dumps(seeds_to_json([RESULT, RESULT], "1..2"))) == before["seeds"]
