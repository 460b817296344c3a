"""One run of ``bench/tca.py`` (``bench/_tca_run.py``, jobs from ``bench/tca.py``): the same
run on a seed's mirrored market is the seed's run with the sides swapped. The figures of the
benchmark are never a test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from _tca_run import play
from tca import cell_name, make_job

from hydra._enums import Side


@pytest.mark.parametrize("policy", ["hydra", "twap-cross", "oracle"])
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


def test_a_mirrored_seed_is_reported_in_the_cell_of_its_move() -> None:
    """Seed −s is seed s's market mirrored: on a trending day its cell has the other sign."""
    up, down = (cell_name("oats-trend", 2, Side.BUY, s) for s in (1, -1))
    assert {up.split()[0], down.split()[0]} == {"oats-trend-up", "oats-trend-down"}
    assert cell_name("oats-front", 2, Side.SELL, -3) == "oats-front 2% SELL"
