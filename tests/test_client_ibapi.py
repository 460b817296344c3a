"""IB's own ``ibapi`` (10.50, the ``ibapi-stable`` build), as IB's samples write programs, against
``hydra sim-gateway`` in its own process: history, head timestamp, depth, tick-by-tick,
what-if, a market order, a bracket with a STP stop, every month, margins in the account
summary, PnL, completed orders, a global cancel from another client seen by the owner
(`tests/clients/ibapi_user.py`)."""

from __future__ import annotations

import pathlib

import pytest

from hydra._contracts import MONTH_CODES
from tests.gateway_client import run_client_script, sim_gateway_process

pytest.importorskip("ibapi", reason="ibapi is installed by the test extra (ibapi-stable)")
SCRIPT = pathlib.Path(__file__).parent / "clients" / "ibapi_user.py"


def test_a_typical_ibapi_program_runs_unchanged(tmp_path: pathlib.Path) -> None:
    """Every request of the program gets its callbacks and every order ends as IB would end it;
    the only errors are the 202s of the cancelled exits."""
    with sim_gateway_process(tmp_path / "gateway.log", "--seed", "3") as port:
        seen = run_client_script(SCRIPT, port, seconds=90)
    assert len(seen["oats_months"]) == 5 and seen["hogs_months"] == 8  # every listed month
    assert seen["front"] == f"ZO{MONTH_CODES[int(seen['oats_months'][0][4:]) - 1]}" \
        f"{seen['oats_months'][0][3]}"
    assert seen["time_zone"] == "US/Central"  # as IB names CBOT's zone
    assert seen["hour_bars"] > 0 and seen["head"] < seen["first_bar"]
    assert seen["depth_sides"] == [0, 1] and seen["tick_by_tick"]
    assert seen["what_if"] == ["1485", "1350"] and seen["what_if_commission"] > 0
    assert seen["what_if_status"] == []  # a what-if places nothing: no order status
    assert (seen["market"], seen["bracket_parent"]) == ("Filled", "Filled")
    assert seen["margin_tags"] == ["ExcessLiquidity", "InitMarginReq", "MaintMarginReq"]
    assert seen["owner_sees"] == ["Cancelled", "Cancelled"]
    assert seen["completed"] == ["Filled", "Filled", "Cancelled", "Cancelled"]
    assert seen["completed_perm_ids"]
    assert [code for _, code, _ in seen["errors"]] == [202, 202]
