"""The dashboard from the command line: ``hydra run --sim --dashboard`` serves the live page
beside the engine, ``hydra dashboard --journal`` the read-only page of a closed journal. Real
processes on 127.0.0.1, bounded by timeouts."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from hydra._journal import Journal
from hydra.cli._dashboard_options import parse_listen
from hydra.cli._shared import CommandError

INTENT = '{"symbol": "ZO", "side": "BUY", "quantity": 1, "policy": "passive"}\n'


def test_listen_addresses_are_host_and_port_or_a_bare_port() -> None:
    assert parse_listen("--dashboard", "8800") == ("127.0.0.1", 8800)
    assert parse_listen("--dashboard", "0.0.0.0:0") == ("0.0.0.0", 0)
    assert parse_listen("--dashboard", "[::1]:9000") == ("::1", 9000)
    for bad in ("", "host:", ":80", "127.0.0.1:70000", "eighty"):
        with pytest.raises(CommandError, match="--dashboard: must be \\[HOST:\\]PORT"):
            parse_listen("--dashboard", bad)


def _url(log: Path, process: subprocess.Popen[str], seconds: float = 60) -> str:
    """The page's address, once the child has printed it on standard error."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = re.search(r"dashboard (?:of \S+ )?at (http://\S+)", log.read_text())
        if found:
            return found.group(1)
        assert process.poll() is None, log.read_text()
        time.sleep(0.1)
    raise AssertionError(f"no dashboard address in {seconds} s: {log.read_text()}")


def _page(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return response.read().decode()


def test_run_serves_the_dashboard_beside_the_engine(tmp_path: Path) -> None:
    """hydra run --sim --dashboard 127.0.0.1:0 prints the page's address and a token once,
    serves the page (SIM, the working order), and stops with the run on Ctrl-C."""
    journal, inbox, log = tmp_path / "j.sqlite", tmp_path / "inbox.jsonl", tmp_path / "err.log"
    config = tmp_path / "hydra.toml"
    config.write_text(f'[execution]\npatience = 600.0\n[shutdown]\ndrain_timeout = 0.5\n'
                      f'[journal]\npath = "{journal}"\n[runner]\ninbox = "{inbox}"\n'
                      f'[logging]\nformat = "json"\n')
    inbox.write_text(INTENT)
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "hydra", "run", "--sim",
             "--sim-hours", "none", "--config", str(config), "--journal", str(journal),
             "--dashboard", "127.0.0.1:0"], stdout=subprocess.DEVNULL, stderr=err, text=True)
    try:
        url = _url(log, process)
        assert "token for its actions: " in log.read_text()
        page = _page(url)
        assert "SIM" in page
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0, log.read_text()
    finally:
        process.kill()
    (started,) = Journal.open_read_only(journal).notes("engine_started")
    assert started["venue"] == "sim" and started["address"].startswith("127.0.0.1:")
    assert started["address"].startswith(f"127.0.0.1:{started['port']} ")  # the gateway's
    assert started["account"] == "DU*****67"  # IB's managedAccounts, masked


def test_dashboard_serves_a_closed_journal_read_only(tmp_path: Path) -> None:
    """hydra dashboard --journal PATH serves the page of a journal no engine holds, and a
    missing journal is refused in one line."""
    journal, log = tmp_path / "j.sqlite", tmp_path / "err.log"
    missing = subprocess.run(
        [sys.executable, "-m", "hydra", "dashboard", "--journal", str(journal)],
        capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"hydra dashboard: no journal at {str(journal)!r}"
    Journal.open(journal).close()
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "hydra", "dashboard", "--journal", str(journal),
             "--listen", "127.0.0.1:0"], stdout=subprocess.DEVNULL, stderr=err, text=True)
    try:
        page = _page(_url(log, process))
        assert "<html" in page.lower()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0, log.read_text()
    finally:
        process.kill()
