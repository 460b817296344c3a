"""``hydra status``, ``positions`` and ``cancel-all`` against a simulated gateway process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from ib_async import IB, Future, LimitOrder

from hydra._cli import main


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def gateway_port(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A `hydra sim-gateway` process on a free port, with IB_GATEWAY_PORT pointing at it."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "hydra", "sim-gateway", "--port", str(port), "--seed", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        monkeypatch.setenv("IB_GATEWAY_PORT", str(port))
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _rest_an_order(port: int) -> None:
    """Another program (client id 1) leaves a resting buy far below the market."""
    ib = IB()
    ib.connect("127.0.0.1", port, clientId=1, timeout=10)
    oats = Future("ZO", exchange="CBOT")
    ib.qualifyContracts(oats)
    ib.placeOrder(oats, LimitOrder("BUY", 2, 300.0, orderRef="someone-else.1"))
    ib.sleep(0.5)
    ib.disconnect()


def test_status_lists_working_orders_and_cancel_all_clears_them(
    gateway_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """status shows another client's working order; cancel-all cancels it account-wide."""
    _rest_an_order(gateway_port)
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "working orders: 1" in out and "BUY 2/2 ZO LMT @ 300" in out
    assert main(["cancel-all"]) == 0
    assert "global cancel sent for 1 working order(s)" in capsys.readouterr().out
    assert main(["status"]) == 0
    assert "working orders: 0" in capsys.readouterr().out
    assert main(["positions"]) == 0
    assert "positions: 0" in capsys.readouterr().out


def test_status_without_a_gateway_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing listening: exit 2 and one line saying the connection failed."""
    monkeypatch.setenv("IB_GATEWAY_PORT", str(_free_port()))
    assert main(["status"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("status: ")
