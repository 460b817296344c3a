"""``hydra status``, ``positions`` and ``cancel-all`` against a simulated gateway process, and
their refusal of a live port without ``--live`` and ``HYDRA_LIVE_CONFIRMED=true``."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from ib_async import IB, ContFuture, Future, LimitOrder, StopOrder

from hydra.cli import main


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def gateway_port(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A `hydra sim-gateway` process on a free port, with IB_GATEWAY_PORT pointing at it."""
    with _gateway(_free_port(), monkeypatch) as port:
        yield port


@pytest.fixture
def live_gateway_port(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A `hydra sim-gateway` process on IB Gateway's live port 4001 (skipped when that port is
    taken on this machine), with IB_GATEWAY_PORT pointing at it."""
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 4001))
    except OSError as e:
        pytest.skip(f"port 4001 is taken on this machine: {e}")
    with _gateway(4001, monkeypatch) as port:
        yield port


@contextlib.contextmanager
def _gateway(port: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
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


def _front_oats(ib: IB) -> Future:
    """The front oats month, qualified (the gateway lists a year of months, so a bare
    ``Future("ZO", exchange="CBOT")`` is ambiguous: error 200, as at IB)."""
    front = ContFuture("ZO", "CBOT")
    ib.qualifyContracts(front)
    oats = Future(conId=front.conId, exchange="CBOT")
    ib.qualifyContracts(oats)
    return oats


def _rest_an_order(port: int) -> None:
    """Another program (client id 1) leaves a resting buy far below the market."""
    ib = IB()
    ib.connect("127.0.0.1", port, clientId=1, timeout=10)
    ib.placeOrder(_front_oats(ib), LimitOrder("BUY", 2, 300.0, orderRef="someone-else.1"))
    ib.sleep(0.5)
    ib.disconnect()


def _buy_one(port: int) -> None:
    """Another program (client id 1) buys one oats contract at any price up to 1000."""
    ib = IB()
    ib.connect("127.0.0.1", port, clientId=1, timeout=10)
    ib.placeOrder(_front_oats(ib), LimitOrder("BUY", 1, 1000.0, orderRef="someone-else.2"))
    ib.sleep(0.5)
    ib.disconnect()


def test_positions_of_a_held_contract_print_alone(gateway_port: int) -> None:
    """positions with a position held: the report alone on standard output, and no log of
    the contract IB reports before Hydra knows it on standard error."""
    _buy_one(gateway_port)
    done = _hydra("positions", port=gateway_port, confirmed=None)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "positions: 1" and lines[1].startswith("  ZO ") and len(lines) == 2
    assert done.stderr == ""


def _hydra(*argv: str, port: int, confirmed: str | None) -> subprocess.CompletedProcess[str]:
    """``python -m hydra ARGV`` in its own process, with IB_GATEWAY_PORT=``port`` and
    HYDRA_LIVE_CONFIRMED=``confirmed`` (unset when None)."""
    environ = {k: v for k, v in os.environ.items() if k != "HYDRA_LIVE_CONFIRMED"}
    environ["IB_GATEWAY_PORT"] = str(port)
    if confirmed is not None:
        environ["HYDRA_LIVE_CONFIRMED"] = confirmed
    return subprocess.run([sys.executable, "-m", "hydra", *argv], env=environ,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("command", "port"), [
    ("status", 4001), ("positions", 7496), ("cancel-all", 4001), ("cancel-all", 7496),
])
def test_a_live_port_without_live_is_refused_in_one_line(command: str, port: int) -> None:
    """Without --live, a live port exits 2 with one line naming --live, before connecting."""
    done = _hydra(command, port=port, confirmed="true")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"{command}: port {port} is a live trading port: to trade live pass --live and set "
        "HYDRA_LIVE_CONFIRMED=true, or use a paper port (4002 or 7497)"
    ]
    assert done.stdout == ""


@pytest.mark.parametrize(("command", "confirmed", "said"), [
    ("status", None, "HYDRA_LIVE_CONFIRMED is not set"),
    ("positions", "yes", 'HYDRA_LIVE_CONFIRMED="yes"'),
    ("cancel-all", None, "HYDRA_LIVE_CONFIRMED is not set"),
    ("cancel-all", "", "HYDRA_LIVE_CONFIRMED is empty"),
])
def test_live_without_the_confirmation_is_refused_in_one_line(
    command: str, confirmed: str | None, said: str
) -> None:
    """--live on a live port without HYDRA_LIVE_CONFIRMED=true exits 2 with one line."""
    done = _hydra(command, "--live", port=4001, confirmed=confirmed)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"{command}: port 4001 is a live trading port and --live was given, but {said}: "
        "set HYDRA_LIVE_CONFIRMED=true to trade live"
    ]


def test_live_on_a_paper_port_is_refused_in_one_line() -> None:
    """--live on the paper port 4002 is a mismatch: exit 2, one line."""
    done = _hydra("cancel-all", "--live", port=4002, confirmed="true")
    assert (done.returncode, done.stderr.splitlines()) == (2, [
        "cancel-all: --live was given but port 4002 is a paper trading port: live trading "
        "uses only port 4001 or 7496"
    ])


def test_cancel_all_reaches_a_live_port_with_both_opt_ins(
    live_gateway_port: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a live port, cancel-all without --live leaves the order; with --live and
    HYDRA_LIVE_CONFIRMED=true it reaches the gateway and cancels it."""
    _rest_an_order(live_gateway_port)
    monkeypatch.setenv("HYDRA_LIVE_CONFIRMED", "true")
    assert main(["cancel-all"]) == 2
    assert "pass --live" in capsys.readouterr().err
    assert main(["status", "--live"]) == 0
    out = capsys.readouterr().out
    assert "LIVE" in out and "working orders: 1" in out
    assert main(["cancel-all", "--live"]) == 0
    assert "global cancel sent for 1 working order(s)" in capsys.readouterr().out
    assert main(["status", "--live"]) == 0
    assert "working orders: 0" in capsys.readouterr().out
    assert main(["positions", "--live"]) == 0
    assert "positions: 0" in capsys.readouterr().out


def test_status_prints_its_report_alone_on_standard_output(gateway_port: int) -> None:
    """hydra status in its own process: standard output holds the report and nothing else,
    IB's informational notices are not shown, and standard error is empty."""
    done = _hydra("status", port=gateway_port, confirmed=None)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("connected: ") and lines[1] == "working orders: 0"
    assert lines[2:] == ["positions: 0"] and done.stderr == ""


@pytest.mark.parametrize(("command", "report"), [
    ("positions", ["positions: 0"]), ("cancel-all", ["global cancel sent for 1 working order(s)"]),
])
def test_positions_and_cancel_all_print_their_report_alone(
    gateway_port: int, command: str, report: list[str]
) -> None:
    """positions and cancel-all in their own process: their report alone on standard
    output, nothing on standard error (no IB notices, no log lines)."""
    _rest_an_order(gateway_port)
    done = _hydra(command, port=gateway_port, confirmed=None)
    assert (done.returncode, done.stdout.splitlines(), done.stderr) == (0, report, "")


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


def test_status_and_cancel_all_see_another_programs_stop_order(
    gateway_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another program's stop order (STP, a type Hydra cannot express) working in the account:
    status lists it for what it is beside the limit order, and cancel-all, the panic button,
    counts it and cancels both (both commands failed with "order type 'STP' is not
    supported")."""
    _rest_an_order(gateway_port)
    ib = IB()
    ib.connect("127.0.0.1", gateway_port, clientId=1, timeout=10)
    ib.placeOrder(_front_oats(ib), StopOrder("SELL", 3, 250.0, orderRef="someone-else.3"))
    ib.sleep(0.5)
    ib.disconnect()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "working orders: 2" in out and "BUY 2/2 ZO LMT @ 300" in out
    assert "SELL 3/3 ZO STP (a type Hydra does not send)" in out
    assert main(["cancel-all"]) == 0
    assert "global cancel sent for 2 working order(s)" in capsys.readouterr().out
    assert main(["status"]) == 0
    assert "working orders: 0" in capsys.readouterr().out


def test_status_without_a_gateway_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing listening: exit 2 and one line saying the connection failed."""
    monkeypatch.setenv("IB_GATEWAY_PORT", str(_free_port()))
    assert main(["status"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("status: ")
