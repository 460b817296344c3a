"""hydra scenario run / list through the command line's main function: every example, the policy
baselines, several seeds, malformed files, determinism."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import structlog

from hydra import LEAN_HOGS, OATS
from hydra.cli import main as hydra
from hydra.cli._scenario_command import seed_range
from hydra.scenario import example_files

EXAMPLES = example_files(Path(__file__).resolve().parent.parent / "examples" / "scenarios")
TICKS = {"ZO": OATS.tick_size, "HE": LEAN_HOGS.tick_size}


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The command sends logs to this test's stderr; later tests get the old setup back."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def _run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert hydra(["scenario", "run", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _on_tick(price: float | None, symbol: str) -> bool:
    return price is None or Decimal(repr(price)) % TICKS[symbol] == 0


def test_there_are_at_least_ten_examples() -> None:
    """examples/scenarios holds at least ten scenarios."""
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_keeps_hydras_invariants(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each example prints one JSON object whose orders are LMT or STP LMT on the tick grid,
    never overfilled, blocked only before the exchange, with a shortfall for every fill."""
    printed = _run_json(capsys, str(path))
    assert set(printed) == {"scenario", "seed", "policy", "orders", "summary"}
    assert printed["scenario"] == path.stem and printed["orders"]
    for order in printed["orders"]:
        children = order["child_orders"]
        assert 0 <= order["filled"] <= order["quantity"]
        assert (order["shortfall_bps"] is not None) == (order["filled"] > 0)
        # Blocked intents have a refused child; a TWAP slice refused only while the link was
        # down is carried to the next slice and does not make the intent blocked.
        assert not order["blocked"] or any(c["status"] == "BLOCKED" for c in children)
        for child in children:
            if child["status"] == "BLOCKED":
                assert child["filled"] == 0
            assert child["order_type"] in ("LMT", "STP LMT")
            assert _on_tick(child["limit_price"], order["symbol"])
            assert _on_tick(child["stop_price"], order["symbol"])
            assert 0 <= child["filled"] <= child["quantity"]
            assert child["status"] in ("WORKING", "FILLED", "CANCELLED", "REJECTED", "BLOCKED",
                                       "LEFT_WORKING")
            if child["status"] == "BLOCKED":
                assert child["filled"] == 0
        if children and all(c["status"] == "BLOCKED" for c in children):
            assert order["filled"] == 0 and order["avg_price"] is None


def test_examples_show_what_they_promise(capsys: pytest.CaptureFixture[str]) -> None:
    """The breaker, kill switch and guard examples block or refuse as their descriptions say."""
    orders = {o["intent_id"]: o for o in _run_json(capsys, "daily-loss-breaker",
                                                     "--dir", str(EXAMPLES[0].parent))["orders"]}
    assert orders["buy-2"]["blocked"] and "daily_loss" in orders["buy-2"]["block_reason"]
    assert not orders["buy-10"]["blocked"] and orders["buy-10"]["filled"] == 10
    kill = _run_json(capsys, str(EXAMPLES[0].parent / "kill-switch.toml"))
    assert [o["blocked"] for o in kill["orders"]] == [False, False, True]
    assert kill["summary"]["trading_state"] == "HALTED"
    guard = _run_json(capsys, str(EXAMPLES[0].parent / "gap-through-guard.toml"))
    assert guard["orders"][0]["filled"] == 0
    roll = _run_json(capsys, str(EXAMPLES[0].parent / "roll-oats.toml"))
    assert [(o["action"], o["month"]) for o in roll["orders"]] == [
        ("intent", "202605"), ("roll-close", "202605"), ("roll-open", "202607"),
        ("close", "202607"),
    ]


def test_cross_and_hydra_price_differently_on_the_same_seed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--policy cross sends a marketable limit where Hydra's routing starts at mid."""
    path = str(EXAMPLES[0].parent / "oats-small-patience.toml")
    hydra_run = _run_json(capsys, path, "--seed", "3")
    cross_run = _run_json(capsys, path, "--seed", "3", "--policy", "cross")
    assert cross_run["policy"] == "cross" and hydra_run["policy"] == "hydra"

    def prices(run: Any) -> list[float]:
        return [c["limit_price"] for o in run["orders"] for c in o["child_orders"]]

    assert prices(hydra_run) != prices(cross_run)
    assert hydra_run["orders"][0]["arrival_mid"] == cross_run["orders"][0]["arrival_mid"]


def test_seeds_give_one_run_each(capsys: pytest.CaptureFixture[str]) -> None:
    """--seeds 1..3 prints one object with three runs and the summary across them."""
    printed = _run_json(capsys, str(EXAMPLES[0].parent / "oats-small-patience.toml"),
                        "--seeds", "1..3")
    assert printed["seed"] == "1..3"
    assert [run["seed"] for run in printed["runs"]] == [1, 2, 3]
    assert printed["summary"]["runs"] == 3
    assert set(printed["summary"]) == {
        "runs", "policy", "mean_shortfall_bps", "shortfall_ci95_bps", "mean_completion",
        "is_complete_bps", "is_complete_ci95_bps", "opportunity_bps", "commission_bps",
        "intents"}
    (intent,) = printed["summary"]["intents"]
    assert intent["intent_id"] == "buy-3" and intent["runs"] == 3


def test_seeds_as_text_show_each_run_and_the_means(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --json, several seeds print one line per run and the means (no progress bar
    when stderr is not a terminal)."""
    assert hydra(["scenario", "run", str(EXAMPLES[0].parent / "oats-small-patience.toml"),
                 "--seeds", "4..5"]) == 0
    captured = capsys.readouterr()
    assert "seed     4:" in captured.out and "2 runs, policy hydra: IS-complete" in captured.out
    assert captured.err == ""


def test_the_same_seed_twice_prints_the_same_json(capsys: pytest.CaptureFixture[str]) -> None:
    """A run is a pure function of the scenario, the seed and the policy."""
    path = str(EXAMPLES[0].parent / "roll-oats.toml")
    assert _run_json(capsys, path, "--seed", "5") == _run_json(capsys, path, "--seed", "5")


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --json the run prints a table of intents and a summary."""
    assert hydra(["scenario", "run", str(EXAMPLES[0].parent / "kill-switch.toml")]) == 0
    out = capsys.readouterr().out
    assert "shortfall bps" in out and "trading_state HALTED" in out
    assert "trading state at the end HALTED" in out


def test_journal_option_writes_a_new_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--journal PATH keeps the journal there; an existing file is refused with exit 2."""
    journal = tmp_path / "run.sqlite"
    path = str(EXAMPLES[0].parent / "bracket.toml")
    _run_json(capsys, path, "--journal", str(journal))
    assert journal.exists()
    assert hydra(["scenario", "run", path, "--journal", str(journal)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_list_shows_each_example_with_its_first_line(capsys: pytest.CaptureFixture[str]) -> None:
    """scenario list prints one line per example: its name and its description's first line."""
    assert hydra(["scenario", "list", "--dir", str(EXAMPLES[0].parent)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(EXAMPLES)
    assert any(line.startswith("bracket ") and "bracket order" in line for line in lines)


def test_list_without_examples_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder with no scenarios gives exit 2 and one line saying where to look."""
    assert hydra(["scenario", "list", "--dir", str(tmp_path)]) == 2
    assert "no example scenarios found" in capsys.readouterr().err


MALFORMED = [
    ("[[actions]\nkind = 'kill'\nat = 0\n", "(top level)", 1),
    ("[[actions]]\nkind = 'intent'\nat = 0\nsymbol = 'ZO'\nside = 'BUY'\nquanity = 3\n",
     "actions[0].quanity: unknown key (did you mean quantity?)", 6),
    ("[[actions]]\nkind = 'intent'\nat = 0\nsymbol = 'ZO'\nside = 'BUY'\nquantity = 'three'\n",
     "actions[0].quantity: must be a whole number", 6),
    ("[[actions]]\nkind = 'kill'\nat = 0\n\n[[actions]]\nkind = 'intent'\nat = 5\n"
     "symbol = 'ZO'\nside = 'BUY'\nquantity = -3\n",
     "actions[1].quantity: must be greater than zero", 10),
    ("[[actions]]\nkind = 'intent'\nat = 0\nsymbol = 'ZC'\nside = 'BUY'\nquantity = 3\n",
     "actions[0].symbol: is not a market of this scenario", 4),
    ("[config.risk]\nmax_order_quantity = -5\n\n[[actions]]\nkind = 'kill'\nat = 0\n",
     "config.risk.max_order_quantity: must be greater than zero", 2),
    ("[[markets]]\nsymbol = 'ZO'\nadv = -1\n\n[[actions]]\nkind = 'kill'\nat = 0\n",
     "markets[0].adv: must not be negative", 3),
    ("[[faults]]\nkind = 'earthquake'\nat = 3\n\n[[actions]]\nkind = 'kill'\nat = 0\n",
     "faults[0].kind: must be one of", 2),
]


@pytest.mark.parametrize(("text", "expected", "line"), MALFORMED,
                         ids=["syntax", "unknown-key", "wrong-type", "bad-value",
                              "unknown-symbol", "config", "market", "fault"])
def test_a_malformed_scenario_is_one_line_and_exit_2(
    text: str, expected: str, line: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each kind of mistake gives exit 2 and one stderr line naming the key path and line."""
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert hydra(["scenario", "run", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (message,) = captured.err.splitlines()
    assert message.startswith("scenario error: ")
    assert expected in message and f"line {line}" in message and str(path) in message


def test_a_malformed_scenario_with_json_is_a_json_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """scenario run --json on a bad file: one JSON object on stderr with the key and line."""
    path = tmp_path / "bad.toml"
    path.write_text("seed = 1\n[[actions]]\nkind = 'intent'\nat = -1\n")
    assert hydra(["scenario", "run", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    error = json.loads(captured.err)
    assert captured.out == "" and error["error"].startswith("scenario error: actions[0]")
    assert (error["file"], error["line"]) == (str(path), 2)


def test_a_missing_file_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A file that does not exist is one line and exit 2."""
    assert hydra(["scenario", "run", "no-such-scenario.toml"]) == 2
    assert capsys.readouterr().err.startswith("scenario error: file: no such file")


@pytest.mark.parametrize("text", ["3..1", "1-3", "a..b", "2"])
def test_a_bad_seed_range_is_refused(text: str) -> None:
    """--seeds takes A..B with A <= B."""
    with pytest.raises(argparse.ArgumentTypeError, match=r"A\.\.B"):
        seed_range(text)
    assert seed_range("2..4") == range(2, 5)
