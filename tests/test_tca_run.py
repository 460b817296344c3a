"""One run of ``bench/tca.py`` (``bench/_tca_run.py``, jobs from ``bench/tca.py``): the same
run on a seed's mirrored market is the seed's run with the sides swapped. The figures of the
benchmark are never a test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from _tca_rows import both_signs
from _tca_run import play
from tca import cell_name, figures, make_job, print_summary

from hydra._enums import Side

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize("policy", ["hydra", "twap-cross", "oracle", "market"])
async def test_a_sell_on_a_mirrored_seed_costs_what_a_buy_costs_on_the_seed(
    autojump_clock: object, policy: str
) -> None:
    """A 30-lot oats order (2% of ADV) bought on seed 4 and sold on seed 4's mirror costs the
    same dollars per contract, fills the same share before the deadline, passively the same
    share, with the same messages: the simulator, Hydra's routing and the measure favour
    neither side (only the bps differ, by the arrival mid they are counted in)."""
    buy = await play(make_job("oats-front", 2, Side.BUY, policy, 4))
    sell = await play(make_job("oats-front", 2, Side.SELL, policy, -4))
    assert sell.is_dollars == buy.is_dollars != 0
    assert (sell.completion, sell.messages) == (buy.completion, buy.messages)
    assert sell.passive_share == buy.passive_share or policy == "oracle"  # nan for the oracle


async def test_the_market_policy_is_a_market_order_whose_rest_waits_at_its_protection(
    autojump_clock: object,
) -> None:
    """5% of front-month hogs' ADV (750 lots) is more than the book holds within 20 ticks of
    the ask: the market order (MKT) takes what is there, its rest waits at the protection
    price and is cancelled and swept at T (three messages); a 0.25% order fills at once."""
    large = await play(make_job("hogs-front", 5, Side.BUY, "market", 1))
    assert 0 < large.completion < 1 and large.messages == 3
    small = await play(make_job("hogs-front", 0.25, Side.BUY, "market", 1))
    assert (small.completion, small.messages, small.passive_share) == (1.0, 1, 0.0)


def test_a_mirrored_seed_is_reported_in_the_cell_of_its_move() -> None:
    """Seed −s is seed s's market mirrored: on a trending day its cell has the other sign."""
    up, down = (cell_name("oats-trend", 2, Side.BUY, s) for s in (1, -1))
    assert {up.split()[0], down.split()[0]} == {"oats-trend-up", "oats-trend-down"}
    assert cell_name("oats-front", 2, Side.SELL, -3) == "oats-front 2% SELL"


def test_a_killed_bench_resumes_from_its_rows_file(tmp_path: Path) -> None:
    """``--rows`` appends each run as it ends; a second run reads the file, runs only what is
    missing (here: one run lost whole, one cut off mid-line as a kill would leave it) and
    reports the figures the first run reported."""
    rows, first, again = tmp_path / "rows.jsonl", tmp_path / "a.json", tmp_path / "b.json"
    command = [sys.executable, str(BENCH / "tca.py"), "--seeds", "2", "--sizes", "1",
               "--scenarios", "oats-front", "--policies", "hydra,twap-cross,oracle",
               "--processes", "1", "--rows", str(rows)]
    subprocess.run([*command, "--json", str(first)], check=True, capture_output=True)
    lines = rows.read_text().splitlines(keepends=True)
    assert len(lines) == 12  # 2 sides x 3 policies x 2 seeds
    rows.write_text("".join(lines[:10]) + lines[10][:40])
    done = subprocess.run([*command, "--json", str(again)], check=True, capture_output=True,
                          text=True)
    assert f"10 runs read from {rows}, 2 to run" in done.stdout
    assert sorted(rows.read_text().splitlines()) == sorted(line.rstrip("\n") for line in lines)
    assert json.loads(again.read_text()) == json.loads(first.read_text())


def test_the_baselines_alone_give_their_figures_without_hydras() -> None:
    """The grid's baselines are run without Hydra (``--policies twap-cross,...``): their cells
    get each policy's figures, no capture and no goals, where the end of the run used to
    divide by Hydra's zero runs."""
    row = {"cell": "oats-front 2% BUY", "is_dollars": 10.0, "completion": 1.0,
           "passive_share": 0.0, "markouts_bps": {1.0: None}, "messages": 1}
    rows = [{**row, "policy": policy, "seed": seed, "is_bps": cost + seed}
            for policy, cost in (("twap-cross", 10.0), ("oracle", 1.0)) for seed in (1, -1)]
    (cell,) = figures(rows).values()
    assert sorted(cell["policies"]) == ["oracle", "twap-cross"]
    assert cell["policies"]["twap-cross"]["is_bps"]["mean"] == 10.0
    assert (cell["seeds"], cell["capture"], cell["goals"]) == (0, None, None)


def test_the_summary_of_hydra_and_twap_cross_without_the_oracle_prints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Hydra against ``twap-cross`` alone (``--policies hydra,twap-cross``, as a variant is
    checked on fresh seeds): the summary row shows no oracle and no capture, where it used to
    end the run with a TypeError after the rows were written."""
    row = {"cell": "oats-front 2% BUY", "is_dollars": 10.0, "completion": 1.0,
           "passive_share": 0.0, "markouts_bps": {1.0: None}, "messages": 1}
    rows = [{**row, "policy": policy, "seed": seed, "is_bps": cost + seed}
            for policy, cost in (("twap-cross", 10.0), ("hydra", 6.0)) for seed in (1, -1, 2)]
    print_summary(figures(rows))
    (line,) = [x for x in capsys.readouterr().out.splitlines() if x.startswith("| oats-front")]
    assert "| +7.00 ± " in line and "| — | — |" in line  # a seed and its mirror: one draw


def test_both_signs_of_a_moving_day_are_one_cell_a_seed_and_its_mirror_one_draw() -> None:
    """A trend day's seed 1 (up) and its mirror (down) are one draw of the day: joined, the
    cell's mean is the mean of the two; a flat day's cell is left as it is."""
    row = {"is_dollars": 10.0, "completion": 1.0, "passive_share": 0.0,
           "markouts_bps": {1.0: None}, "messages": 1, "policy": "twap-cross"}
    rows = [{**row, "cell": "oats-trend-up 1% BUY", "seed": 1, "is_bps": 20.0},
            {**row, "cell": "oats-trend-down 1% BUY", "seed": -1, "is_bps": -4.0},
            {**row, "cell": "oats-trend-up 1% BUY", "seed": -2, "is_bps": 6.0},
            {**row, "cell": "oats-trend-down 1% BUY", "seed": 2, "is_bps": 2.0},
            {**row, "cell": "oats-front 1% BUY", "seed": 1, "is_bps": 5.0}]
    joined = figures(both_signs(rows))
    assert sorted(joined) == ["oats-front 1% BUY", "oats-trend 1% BUY"]
    assert joined["oats-trend 1% BUY"]["policies"]["twap-cross"]["is_bps"]["mean"] == 6.0
    assert joined["oats-trend 1% BUY"]["policies"]["twap-cross"]["runs"] == 4
    assert sorted(figures(rows)) == ["oats-front 1% BUY", "oats-trend-down 1% BUY",
                                     "oats-trend-up 1% BUY"]
