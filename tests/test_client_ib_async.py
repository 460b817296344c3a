"""The README's ib_async quickstart (`examples/ib_async_quickstart.py`) against ``hydra
sim-gateway`` in its own process, every month listed: it finds the front month through
ContFuture, quotes it and buys one lot at the ask."""

from __future__ import annotations

import pathlib
import subprocess
import sys

from tests.gateway_client import HANG_GUARD, sim_gateway_process

QUICKSTART = pathlib.Path(__file__).parents[1] / "examples" / "ib_async_quickstart.py"


def test_the_readme_quickstart_buys_the_front_month(tmp_path: pathlib.Path) -> None:
    """The script ends Filled with one fill and a position of one lot in the front month."""
    with sim_gateway_process(tmp_path / "gateway.log", "--market", "oats") as port:
        done = subprocess.run(
            [sys.executable, str(QUICKSTART), str(port)],
            capture_output=True, text=True, timeout=6 * HANG_GUARD, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    quote, status, positions = done.stdout.splitlines()[-3:]
    assert quote.startswith("ZO") and " bid " in quote and " ask " in quote
    assert status.startswith("Filled [(")
    assert "position=1.0" in positions
