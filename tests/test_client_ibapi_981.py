"""IB's own ``ibapi`` at 9.81 (2020, the last 9.x on PyPI), as IB's samples write programs,
against ``hydra sim-gateway`` in its own process: the same program as the 10.50 one in 9.81's
API (`tests/clients/ibapi_981_user.py`). 9.81 asks for server versions 100 to 157, so the
gateway serves it at 157, an old client's version.

9.81 is the same ``ibapi`` module as the test extra's 10.50 (``ibapi-stable``), so it cannot
be installed beside it as a dependency: the README's test command installs it into its own
directory, ``.venv/ibapi-9.81`` (``pip install --no-deps --target``), and the script runs in
a subprocess with that directory first on its path. Without it the test is skipped."""

from __future__ import annotations

import pathlib
import sys

import pytest

from tests.gateway_client import run_client_script, sim_gateway_process

SCRIPT = pathlib.Path(__file__).parent / "clients" / "ibapi_981_user.py"
IBAPI_981 = pathlib.Path(sys.prefix) / "ibapi-9.81"
"""Where the README's test command installs ibapi 9.81 (inside the virtual env)."""

pytestmark = pytest.mark.skipif(
    not (IBAPI_981 / "ibapi" / "client.py").is_file(),
    reason=f"ibapi 9.81 is not installed in {IBAPI_981} (the README's test command puts it "
    "there with pip install --no-deps --target; it cannot share site-packages with 10.50)",
)


def test_a_typical_ibapi_981_program_runs_unchanged(tmp_path: pathlib.Path) -> None:
    """The 9.81 client negotiates server version 157 and every request of the program gets
    its callbacks; every order ends as IB would end it; the only errors are the 202s of the
    cancelled exits."""
    with sim_gateway_process(tmp_path / "gateway.log", "--seed", "3") as port:
        seen = run_client_script(SCRIPT, port, seconds=90, first_on_path=IBAPI_981)
    assert seen["ibapi"].startswith("9.81.") and seen["server_version"] == 157
    assert len(seen["oats_months"]) == 5 and seen["hogs_months"] == 8
    assert seen["time_zone"] == "US/Central"
    assert "1900" in seen["hours"] and "1900" not in seen["liquid_hours"]
    assert seen["hour_bars"] > 0 and seen["head"] < seen["first_bar"]
    assert seen["depth_sides"] == [0, 1] and seen["tick_by_tick"]
    assert seen["what_if"] == ["1485", "1350"] and seen["what_if_commission"] > 0
    assert seen["what_if_status"] == []
    assert (seen["market"], seen["bracket_parent"]) == ("Filled", "Filled")
    assert seen["margin_tags"] == ["ExcessLiquidity", "InitMarginReq", "MaintMarginReq"]
    assert seen["owner_sees"] == ["Cancelled", "Cancelled"]
    assert seen["completed"] == ["Filled", "Filled", "Cancelled", "Cancelled"]
    assert seen["completed_perm_ids"]
    assert [code for _, code, _ in seen["errors"]] == [202, 202]
