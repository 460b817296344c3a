"""``hydra run``: the whole paper path against the in-process simulated gateway, and its
refusals. These run a real process on the real clock, bounded by timeouts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hydra._cli import main
from hydra._errors import BrokerConnectionError
from hydra._journal import EventKind, Journal
from hydra._run_command import broker_settings, describe_error
from hydra._settings import HydraConfig


def test_environment_overrides_the_gateway_address() -> None:
    """IB_GATEWAY_HOST and IB_GATEWAY_PORT take precedence over the config."""
    settings = broker_settings(HydraConfig(), {"IB_GATEWAY_HOST": "10.1.2.3",
                                               "IB_GATEWAY_PORT": "4012"})
    assert (settings.host, settings.port) == ("10.1.2.3", 4012)
    assert broker_settings(HydraConfig(), {}).port == 4002


def test_a_stop_message_names_the_first_cause_in_one_line() -> None:
    """Nested exception groups give their first real cause (not a Ctrl-C beside it), typed
    unless it is a Hydra error, on one line, with how many more causes there were."""
    nested = BaseExceptionGroup("outer", [KeyboardInterrupt(), ExceptionGroup("inner", [
        ConnectionRefusedError(111, "Connect call\nfailed"), ValueError("x")])])
    assert describe_error(nested) == "ConnectionRefusedError: [Errno 111] Connect call failed " \
                                     "(and 1 more)"
    assert describe_error(BrokerConnectionError("IB Gateway has lost IB")) == \
        "IB Gateway has lost IB"


def test_a_stop_message_is_never_empty() -> None:
    """An error without a message (a bare Ctrl-C in a group) is named by its type."""
    assert describe_error(BaseExceptionGroup("g", [KeyboardInterrupt()])) == "KeyboardInterrupt"
    assert describe_error(TimeoutError()) == "TimeoutError"


def test_live_without_confirmation_is_refused_in_one_line(capsys: object) -> None:
    """--live without HYDRA_LIVE_CONFIRMED=true stops before connecting, with one line."""
    os.environ.pop("HYDRA_LIVE_CONFIRMED", None)
    os.environ["IB_GATEWAY_PORT"] = "4001"
    try:
        status = main(["run", "--live"])
    finally:
        del os.environ["IB_GATEWAY_PORT"]
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and "HYDRA_LIVE_CONFIRMED" in err


def test_run_sim_works_an_inbox_intent_and_drains_on_ctrl_c(tmp_path: Path) -> None:
    """hydra run --sim picks an intent from the inbox, fills it through the simulated gateway,
    and on Ctrl-C stops cleanly with the journal closed out."""
    journal, inbox = tmp_path / "journal.sqlite", tmp_path / "inbox.jsonl"
    config = tmp_path / "hydra.toml"
    config.write_text(f'[execution]\npatience = 1.0\n[journal]\npath = "{journal}"\n'
                      f'[runner]\ninbox = "{inbox}"\n')
    inbox.write_text('{"symbol": "ZO", "side": "BUY", "quantity": 2, "policy": "cross"}\n')
    process = subprocess.Popen(
        [sys.executable, "-m", "hydra", "run", "--sim", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _settled(journal) and time.monotonic() < deadline:
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    notes = [p["what"] for _, kind, p in Journal.open(journal).events() if kind is EventKind.NOTE]
    assert notes[0] == "engine_started" and notes[-1] == "engine_stopped"
    (order,) = Journal.open(journal).orders()
    assert order.status.is_final and order.filled >= 1
    assert order.filled == sum(fill.quantity for fill in Journal.open(journal).fills())


def _settled(journal: Path) -> bool:
    """The inbox intent's order has reached a final status in the journal."""
    if not journal.exists():
        return False
    orders = Journal.open(journal).orders()
    return bool(orders) and orders[0].status.is_final

