"""The client proof scripts do not hang on a gateway that stays silent: each ends with an
error within its deadline (a listener on 127.0.0.1 that accepts and never answers)."""

from __future__ import annotations

import pathlib
import socket
import subprocess
import sys
import time

import pytest

CLIENTS = pathlib.Path(__file__).parent / "clients"


@pytest.mark.parametrize(
    ("module", "script"), [("ib_insync", "ib_insync_user.py"), ("ibapi", "ibapi_user.py")]
)
def test_a_silent_gateway_fails_the_script_fast(module: str, script: str) -> None:
    """Against a socket that never answers the handshake the script exits non-zero in well
    under its deadline plus a margin, never waiting forever."""
    pytest.importorskip(module, reason=f"{module} is installed by the test extra")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, str(CLIENTS / script), str(port), "5"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        took = time.monotonic() - started
    assert done.returncode != 0
    assert took < 20, f"{script} took {took:.1f} s against a silent gateway"
