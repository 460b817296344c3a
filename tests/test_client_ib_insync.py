"""ib_insync 0.9.86, as its users write scripts, against ``hydra sim-gateway`` in its own
process: history, depth, tick-by-tick, what-if, a market order, a bracket with a STP stop,
every month, margins in the account summary, PnL, completed orders, a global cancel from
another client seen by the owner (`tests/clients/ib_insync_user.py`)."""

from __future__ import annotations

import pathlib

import pytest

from hydra._contracts import MONTH_CODES
from tests.gateway_client import run_client_script, sim_gateway_process

pytest.importorskip("ib_insync", reason="ib_insync is installed by the README's test command")
SCRIPT = pathlib.Path(__file__).parent / "clients" / "ib_insync_user.py"


def test_a_typical_ib_insync_script_runs_unchanged(tmp_path: pathlib.Path) -> None:
    """Every request of the script is answered and every order ends as IB would end it."""
    with sim_gateway_process(tmp_path / "gateway.log", "--seed", "3") as port:
        seen = run_client_script(SCRIPT, port, seconds=90)
    assert len(seen["oats_months"]) == 5 and seen["hogs_months"] == 8  # every listed month
    assert seen["front"] == f"ZO{MONTH_CODES[int(seen['oats_months'][0][4:]) - 1]}" \
        f"{seen['oats_months'][0][3]}"
    assert seen["hour_bars"] > 0 and seen["bars_ordered"] and seen["head_before_bars"]
    assert seen["minute_bars"] > 0
    assert seen["depth"] == [5, 5] and seen["depth_ordered"] and seen["tick_by_tick"]
    assert seen["what_if"] == [1485.0, 1350.0] and seen["what_if_commission"] > 0
    assert not seen["what_if_traded"]
    assert seen["market"] == ["Filled", 1.0]
    assert seen["bracket"] == ["LMT", "LMT", "STP"] and seen["bracket_parent"] == "Filled"
    assert seen["position"] == 2.0
    assert seen["margin_tags"] == ["ExcessLiquidity", "InitMarginReq", "MaintMarginReq"]
    assert seen["pnl"]
    assert seen["owner_sees"] == ["Cancelled", "Cancelled"]
    assert seen["completed"] == 4 and seen["completed_perm_ids"]
