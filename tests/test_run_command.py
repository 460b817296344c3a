"""``hydra run``: the whole paper path against the in-process simulated gateway, and its
refusals. These run a real process on the real clock, bounded by timeouts."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hydra._enums import OrderStatus
from hydra._errors import BrokerConnectionError, UnmanagedOrdersError
from hydra._journal import EventKind, Journal
from hydra._settings import HydraConfig
from hydra._stop_reasons import describe_error
from hydra.cli import main
from hydra.cli._run_command import DRAIN_CUT_SHORT, drain_line
from hydra.cli._shared import broker_settings
from hydra.ib._broker import IB_SYNC_TIMEOUT
from tests.terminal import hydra_run_on_a_pty, read_all
from tests.tiny_disk import mounted_tiny_disk


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


def test_a_hook_module_that_fails_to_import_stops_run_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """hydra run with a hook module that raises as it loads: exit 2 and one line naming
    runner.strategy, its line and the cause, before anything connects (no journal)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    (tmp_path / "bad_desk.py").write_text("import json\nraise RuntimeError('no model file')\n")
    (tmp_path / "hydra.toml").write_text('[journal]\npath = "j.sqlite"\n\n[runner]\n'
                                         'strategy = "bad_desk:targets"\n')
    assert main(["run", "--sim", "--config", "hydra.toml"]) == 2
    assert capsys.readouterr().err == (
        "config error: runner.strategy: cannot import bad_desk (RuntimeError: no model file), "
        "got \"bad_desk:targets\" (in hydra.toml, line 5)\n")
    assert not (tmp_path / "j.sqlite").exists()


def test_run_sim_works_an_inbox_intent_and_drains_on_ctrl_c(tmp_path: Path) -> None:
    """hydra run --sim refuses the inbox's bad lines by number (an id with a NUL, one of
    200,000 characters: neither reaches the gateway), picks the good intent after them, fills
    it through the simulated gateway, and on Ctrl-C stops cleanly with the journal closed out."""
    journal, inbox = tmp_path / "journal.sqlite", tmp_path / "inbox.jsonl"
    config = tmp_path / "hydra.toml"
    config.write_text(f'[execution]\npatience = 1.0\n[journal]\npath = "{journal}"\n'
                      f'[runner]\ninbox = "{inbox}"\n[logging]\nformat = "json"\n')
    bad = [{"symbol": "ZO", "side": "BUY", "quantity": 2, "intent_id": text}
           for text in ("a\u0000b", "x" * 200_000)]
    inbox.write_text("".join(json.dumps(line) + "\n" for line in bad)
                     + '{"symbol": "ZO", "side": "BUY", "quantity": 2, "policy": "cross"}\n')
    process = subprocess.Popen(
        [sys.executable, "-m", "hydra", "run", "--sim",
         "--sim-hours", "none", "--config", str(config), "--journal", str(journal)],
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
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [e["line"] for e in logs if e["event"] == "inbox_line_refused"] == [1, 2]
    payloads = [p for _, kind, p in Journal.open(journal).events() if kind is EventKind.NOTE]
    notes = [p["what"] for p in payloads]
    assert notes[0] == "engine_started" and "model_version" in notes
    assert payloads[0]["durable"] is True  # hydra run syncs every commit, --sim too
    # Once Hydra has closed the journal, the run heals the slippage model: one cycle, which
    # finds too few fills to judge (and says so).
    assert notes[-2:] == ["engine_stopped", "heal_detected"]
    (healed,) = [e for e in logs if e["event"] == "healing_cycle"]
    assert healed["detection"].startswith("not enough fills") and healed["decision"] is None
    assert json.loads((tmp_path / "journal.sqlite.inbox").read_text())["generation"] == 0
    (order,) = Journal.open(journal).orders()
    assert order.status.is_final and order.filled >= 1
    assert order.filled == sum(fill.quantity for fill in Journal.open(journal).fills())
    started = dt.datetime.fromtimestamp(config.stat().st_mtime, dt.UTC)
    for fill in Journal.open(journal).fills():  # stamped with the wall clock, not the sim's
        assert started - dt.timedelta(seconds=5) < fill.time < started + dt.timedelta(minutes=5)


REDRAW = re.compile("\r(?:\x1b\\[\\d+A)?\x1b\\[J")
"""The status region's redraw: back up to its first line, and erase everything below."""


def _run_on_a_terminal(config: Path, *, journal: Path, columns: int,
                       ready: Callable[[], bool], settle: float = 0.0) -> list[str]:
    """``hydra run --sim`` on a pseudo-terminal ``columns`` wide, Ctrl-C once ``ready`` (and
    ``settle`` seconds more, for a redraw); it must exit 0. The screen's lines, each status
    redraw (up to the region's first line and erase) a line of its own."""
    process, leader = hydra_run_on_a_pty(config, journal, columns=columns)
    chunks: list[bytes] = []
    reader = threading.Thread(target=read_all, args=(leader, chunks))
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not ready() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(settle)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
        reader.join(timeout=10)
        os.close(leader)
    screen = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return [line for piece in re.split(REDRAW, screen) for line in piece.split("\n")]


def test_on_a_terminal_log_lines_never_land_on_the_status_line(tmp_path: Path) -> None:
    """hydra run --sim on an 80-column pseudo-terminal: every status line fits in 79 columns
    and no log line is written onto the end of one, through an intent's fills and the drain."""
    journal, inbox = tmp_path / "journal.sqlite", tmp_path / "inbox.jsonl"
    config = tmp_path / "hydra.toml"
    config.write_text(f'[execution]\npatience = 1.0\n[journal]\npath = "{journal}"\n'
                      f'[runner]\ninbox = "{inbox}"\n')
    inbox.write_text('{"symbol": "ZO", "side": "BUY", "quantity": 2, "policy": "cross"}\n')
    lines = _run_on_a_terminal(config, journal=journal, columns=80,
                               ready=lambda: _settled(journal), settle=1.5)
    status = [line for line in lines if line.startswith("hydra: ")]
    assert status and all(len(line) <= 79 for line in status)
    assert not [line for line in lines if "hydra: " in line[1:]]
    assert any("intent_finished" in line for line in lines)
    assert any(re.match(r"hydra: SIM .*\| connected \| risk ACTIVE \| \d\d:\d\d:\d\d C[SD]T$",
                        line) for line in status)
    assert any(line.startswith("hydra: DRAINED: nothing working") for line in status)


def test_on_a_terminal_the_drain_counts_down(tmp_path: Path) -> None:
    """Ctrl-C with an order resting: the status line counts the drain down (3 s, 2 s, 1 s
    left, with the working count), then says time is up, and the run exits 0."""
    journal, inbox = tmp_path / "journal.sqlite", tmp_path / "inbox.jsonl"
    config = tmp_path / "hydra.toml"
    config.write_text(f'[execution]\npatience = 600.0\n[shutdown]\ndrain_timeout = 3.0\n'
                      f'[journal]\npath = "{journal}"\n[runner]\ninbox = "{inbox}"\n')
    inbox.write_text(RESTING)
    lines = _run_on_a_terminal(config, journal=journal, columns=100,
                               ready=lambda: _working(journal))
    drain = [line for line in lines if line.startswith("hydra: DRAIN")]
    assert drain[:3] == [f"hydra: DRAINING 1 working | {n} s left | SIGINT again cancels now"
                         for n in (3, 2, 1)]
    assert "hydra: DRAINING 1 working | drain time is up: cancelling what is left" in drain


def _working(journal: Path) -> bool:
    if not journal.exists() or not journal.stat().st_size:
        return False
    reader = Journal.open_read_only(journal)  # while hydra run writes it
    try:
        return [order.status for order in reader.orders()] == [OrderStatus.WORKING]
    finally:
        reader.close()


def test_the_drain_line_counts_whole_seconds_down() -> None:
    """The drain's status line: seconds left rounded up, then time up, and drained."""
    sigterm = signal.SIGTERM
    assert drain_line(sigterm, working=2, left=29.2) == (
        "hydra: DRAINING 2 working | 30 s left | SIGTERM again cancels now")
    assert drain_line(sigterm, working=None, left=5) == (
        "hydra: DRAINING starting | 5 s left | SIGTERM again cancels now")
    assert drain_line(sigterm, working=1, left=-0.5) == (
        "hydra: DRAINING 1 working | drain time is up: cancelling what is left")
    assert drain_line(sigterm, working=0, left=12) == "hydra: DRAINED: nothing working, closing"




def _settled(journal: Path) -> bool:
    """The inbox intent's order has reached a final status in the journal."""
    if not journal.exists() or not journal.stat().st_size:
        return False
    orders = Journal.open_read_only(journal).orders()  # while hydra run writes it
    return bool(orders) and orders[0].status.is_final

# --- signals: a real `hydra run --sim` process, an order resting at the simulated broker -------

RESTING = '{"symbol": "ZO", "side": "BUY", "quantity": 1, "policy": "passive"}\n'
"""A passive bid with a long patience: still working when the signal comes."""


class Run:
    """A ``hydra run --sim`` child with its journal, inbox and log (standard error) in tmp."""

    def __init__(self, tmp_path: Path, *, drain_timeout: float, gateway_port: int | None = None,
                 flags: tuple[str, ...] = (), leave_working: bool = False,
                 journal: Path | None = None) -> None:
        """Against the simulated gateway, or (``gateway_port``) an IB Gateway on 127.0.0.1."""
        self.journal, self.inbox = journal or tmp_path / "journal.sqlite", tmp_path / "inbox.jsonl"
        self.log = tmp_path / "stderr.log"
        config = tmp_path / "hydra.toml"
        config.write_text(f'[execution]\npatience = 600.0\n[shutdown]\ndrain_timeout = '
                          f'{drain_timeout}\nleave_working = {str(leave_working).lower()}\n'
                          f'[journal]\npath = "{self.journal}"\n[runner]\n'
                          f'inbox = "{self.inbox}"\n[logging]\nformat = "json"\n')
        self.inbox.write_text(RESTING)
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hydra", "run", "--paper", "--config", str(config),
                 *(["--sim", "--sim-hours", "none", "--journal", str(self.journal)]
                   if gateway_port is None else []), *flags],
                env=os.environ if gateway_port is None
                else {**os.environ, "IB_GATEWAY_PORT": str(gateway_port)},
                stdout=subprocess.DEVNULL, stderr=log, text=True,
            )

    def wait_for(self, condition: Callable[[], bool], what: str, *, seconds: float = 30) -> None:
        """Poll ``condition`` until it holds; fail naming ``what`` (and the child's log)."""
        deadline = time.monotonic() + seconds
        while not condition():
            assert self.process.poll() is None, f"exited before {what}: {self.log.read_text()}"
            assert time.monotonic() < deadline, f"no {what} in {seconds} s"
            time.sleep(0.05)

    def order_working(self) -> bool:
        return self.statuses() == [OrderStatus.WORKING]

    def first_order(self) -> str:
        journal = Journal.open_read_only(self.journal)
        try:
            return journal.orders()[0].request.client_order_id
        finally:
            journal.close()

    def statuses(self) -> list[OrderStatus]:
        if not self.journal.exists() or not self.journal.stat().st_size:
            return []
        journal = Journal.open_read_only(self.journal)  # while hydra run writes it
        try:
            return [order.status for order in journal.orders()]
        finally:
            journal.close()

    def notes(self) -> list[str]:
        journal = Journal.open_read_only(self.journal)
        try:
            return [p["what"] for _, kind, p in journal.events() if kind is EventKind.NOTE]
        finally:
            journal.close()

    def logged(self, event: str) -> list[dict[str, Any]]:
        lines = (line for line in self.log.read_text().splitlines() if line.startswith("{"))
        return [entry for entry in map(json.loads, lines) if entry.get("event") == event]

    def wait_exit(self, *, seconds: float = 30) -> tuple[int, list[str]]:
        """The exit status and the lines of standard error that are not JSON log lines."""
        status = self.process.wait(timeout=seconds)
        return status, [line for line in self.log.read_text().splitlines()
                        if not line.startswith("{")]

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT],
                         ids=lambda s: s.name)
def test_a_stop_signal_drains_then_cancels_the_working_order(
    tmp_path: Path, signum: signal.Signals
) -> None:
    """SIGTERM, SIGHUP and SIGINT each stop new work, drain for the drain timeout, cancel the
    order still working, journal engine_stopped and exit 0."""
    run = Run(tmp_path, drain_timeout=0.5)
    try:
        run.wait_for(run.order_working, "working order")
        run.process.send_signal(signum)
        status, lines = run.wait_exit()
    finally:
        run.kill()
    assert status == 0, run.log.read_text()
    assert lines == []
    assert run.statuses()[-1] in (OrderStatus.CANCELLED, OrderStatus.FILLED)
    notes = [n for n in run.notes() if not n.startswith("heal_")]  # the heal after the stop
    assert notes[-1] == "engine_stopped" and "unrecoverable_error" not in notes
    (draining,) = run.logged("draining")
    assert (draining["signal"], draining["drain_timeout"]) == (signum.name, 0.5)
    (summary,) = run.logged("runner_stopped")  # the exit summary
    assert {k: summary[k] for k in ("signal", "done", "working")} == {
        "signal": signum.name, "done": 1, "working": 0}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_second_signal_cuts_the_drain_short_and_cancels(
    tmp_path: Path, signum: signal.Signals
) -> None:
    """A second signal during a long drain cancels the working order at once (through
    Hydra's close, journaled) and exits 3 with one line saying so."""
    run = Run(tmp_path, drain_timeout=600.0)
    try:
        run.wait_for(run.order_working, "working order")
        run.process.send_signal(signum)
        run.wait_for(lambda: bool(run.logged("draining")), "draining log line")
        run.process.send_signal(signum)
        status, lines = run.wait_exit()
    finally:
        run.kill()
    assert status == DRAIN_CUT_SHORT == 3, run.log.read_text()
    assert [entry["signal"] for entry in run.logged("drain_cut_short")] == [signum.name]
    assert lines == [f"hydra run: second {signum.name} during the drain: working orders "
                     f"cancelled, not drained"]
    assert run.statuses()[-1] in (OrderStatus.CANCELLED, OrderStatus.FILLED)
    notes = [n for n in run.notes() if not n.startswith("heal_")]  # the heal after the stop
    assert notes[-1] == "engine_stopped" and "unrecoverable_error" not in notes


def test_a_second_signal_while_connecting_abandons_the_start(tmp_path: Path) -> None:
    """Two signals while IB Gateway has not answered the handshake stop at once (exit 3),
    without waiting out the connect timeout."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        silent.settimeout(30)
        run = Run(tmp_path, drain_timeout=0.5, gateway_port=silent.getsockname()[1])
        try:
            peer, _ = silent.accept()  # the runner is connecting; the gateway never answers
            with peer:
                run.process.send_signal(signal.SIGTERM)
                run.wait_for(lambda: bool(run.logged("draining")), "draining log line")
                run.process.send_signal(signal.SIGTERM)
                status, lines = run.wait_exit(seconds=IB_SYNC_TIMEOUT / 2)
        finally:
            run.kill()
    assert status == DRAIN_CUT_SHORT, run.log.read_text()
    assert lines == ["hydra run: second SIGTERM while starting: stopped before trading"]
    assert run.statuses() == []


def test_a_stop_message_names_unmanaged_orders_before_any_other_cause() -> None:
    """When the reconnect gave up and orders were left unmanaged, the one line names those
    orders (they need a human at the broker), with the count of the other causes."""
    group = BaseExceptionGroup("nursery", [
        BrokerConnectionError("could not reconnect after 2 tries"),
        UnmanagedOrdersError(["rest.1"], cause="could not reconnect after 2 tries"),
    ])
    assert describe_error(group) == (
        "1 order(s) left unmanaged at the broker, check and cancel them by hand: rest.1 "
        "(could not reconnect after 2 tries) (and 1 more)")


# --- the journal's witnesses: its marker, and the broker ---------------------------------------


def test_run_refuses_an_emptied_journal_unless_new_journal(tmp_path: Path) -> None:
    """A journal emptied where one lived is refused in one line (exit 2); --new-journal
    starts a new one."""
    journal = tmp_path / "journal.sqlite"
    Journal.open(journal).close()  # a journal lived here: its marker stays beside it
    journal.write_bytes(b"")
    run = Run(tmp_path, drain_timeout=0.5)
    try:
        status, lines = run.wait_exit()
    finally:
        run.kill()
    assert status == 2, run.log.read_text()
    assert len(lines) == 1 and "is missing or empty" in lines[0] and "--new-journal" in lines[0]
    run = Run(tmp_path, drain_timeout=0.5, flags=("--new-journal",))
    try:
        run.wait_for(run.order_working, "working order")
        run.process.send_signal(signal.SIGTERM)
        status, lines = run.wait_exit()
    finally:
        run.kill()
    assert status == 0, run.log.read_text()


def test_a_second_run_on_a_held_journal_is_refused_before_it_connects(tmp_path: Path) -> None:
    """While another process holds the journal, ``hydra run`` is refused in one line naming
    the holder, before it connects anywhere: here no gateway listens, and the refusal is the
    lock's, not a connection error."""
    journal = tmp_path / "journal.sqlite"
    holder = Journal.open(journal)
    try:
        run = Run(tmp_path, drain_timeout=0.5, gateway_port=_free_port())
        try:
            status, lines = run.wait_exit()
        finally:
            run.kill()
    finally:
        holder.close()
    assert status == 2, run.log.read_text()
    assert len(lines) == 1 and "one Hydra per journal" in lines[0], lines
    assert f"pid {os.getpid()}" in lines[0]


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def _wait_listening(port: int, gateway: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert gateway.poll() is None, "the simulated gateway exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the simulated gateway never listened")


def test_run_refuses_a_journal_behind_the_broker_unless_adopt_unknown(tmp_path: Path) -> None:
    """The journal loses its order (a backup put back) while the order stays at the gateway:
    hydra run refuses in one line; --adopt-unknown journals it as a stranger, leaves it, and
    never sends the inbox intent again."""
    port = _free_port()
    # No hours: with the exchange's, a run after the close or at a weekend holds the intent.
    gateway = subprocess.Popen([sys.executable, "-m", "hydra", "sim-gateway", "--port",
                                str(port), "--hours", "none"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        _wait_listening(port, gateway)
        journal = tmp_path / "journal.sqlite"
        Journal.open(journal).close()
        backup = tmp_path / "backup.sqlite"
        shutil.copy(journal, backup)
        first = Run(tmp_path, drain_timeout=0.2, gateway_port=port, leave_working=True)
        try:
            first.wait_for(first.order_working, "working order")
            first.process.send_signal(signal.SIGTERM)
            assert first.wait_exit()[0] == 0, first.log.read_text()
        finally:
            first.kill()
        shutil.copy(backup, journal)
        refused = Run(tmp_path, drain_timeout=0.2, gateway_port=port)
        try:
            status, lines = refused.wait_exit()
        finally:
            refused.kill()
        assert status == 2, refused.log.read_text()
        assert len(lines) == 1 and "journal is behind the broker: 1 order and 0 executions " \
            "it does not know" in lines[0]
        adopting = Run(tmp_path, drain_timeout=0.2, gateway_port=port,
                       flags=("--adopt-unknown",))
        try:
            adopting.wait_for(lambda: bool(adopting.logged("intent_already_journaled")),
                              "the inbox intent recognised as sent")
            adopting.process.send_signal(signal.SIGTERM)
            status, _ = adopting.wait_exit()
        finally:
            adopting.kill()
        assert status == 0, adopting.log.read_text()
        assert "unknown_order" in adopting.notes()
        assert adopting.statuses() == []  # nothing was sent again
    finally:
        gateway.kill()
        gateway.wait(timeout=10)


def test_a_full_disk_stops_the_run_in_one_line(tmp_path: Path) -> None:
    """The journal's disk fills while an order rests: the next intent's journal write fails,
    and hydra run cancels the resting order, leaves nothing unmanaged and exits 2 with one
    line saying why."""
    with mounted_tiny_disk(tmp_path) as disk:
        run = Run(tmp_path, drain_timeout=0.5, journal=disk.root / "journal.sqlite")
        try:
            run.wait_for(run.order_working, "working order")
            disk.fill()
            with run.inbox.open("a") as inbox:
                inbox.write(RESTING)
            status, lines = run.wait_exit()
        finally:
            run.kill()
        disk.free()
        assert status == 2, run.log.read_text()
        assert lines == ["hydra run stopped: journal write failed: disk full"]
        assert run.logged("journal_write_failed") and not run.logged("orders_unmanaged")
        assert "order_unmanaged" not in run.notes()
        assert [entry["client_order_id"] for entry in run.logged("ib_order_cancel_sent")] == [
            run.first_order()]


# --- the strategy hook: real `hydra` script processes, each hook in its current directory ------

HUNG_HOOK = """\
import pathlib

HERE = pathlib.Path(__file__).parent


def targets(context):
    (HERE / "called").write_text(context.now.isoformat())
    (HERE / "release").read_text()  # a FIFO: blocks until the test opens it for writing
    return {"ZO": 1}
"""

RAISING_ASYNC_HOOK = """\
import pathlib

import trio


async def targets(context):
    await trio.sleep(0.1)
    (pathlib.Path(__file__).parent / "called").write_text(context.now.isoformat())
    raise LookupError("no signal for\\n ZO today")
"""

GARBAGE_HOOK = """\
import pathlib


def targets(context):
    (pathlib.Path(__file__).parent / "called").write_text(context.now.isoformat())
    return "buy some oats"
"""


def _next_minute(*, at_least: float) -> dt.datetime:
    """The first whole UTC minute at least ``at_least`` seconds from now."""
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=at_least + 60)
    return soon.replace(second=0, microsecond=0)


class HookRun:
    """``hydra run --sim`` through the ``hydra`` script in ``directory``, whose ``desk.py``
    is the hook, called once at ``at`` (UTC)."""

    def __init__(self, directory: Path, hook: str, *, at: dt.datetime, settings: str) -> None:
        directory.mkdir()
        self.directory, self.journal = directory, directory / "journal.sqlite"
        self.inbox, self.log = directory / "inbox.jsonl", directory / "stderr.log"
        (directory / "desk.py").write_text(hook)
        (directory / "hydra.toml").write_text(
            f'[journal]\npath = "{self.journal}"\n[logging]\nformat = "json"\n'
            f'[runner]\nstrategy = "desk:targets"\ninbox = "{self.inbox}"\n'
            f'schedule = "{at:%H:%M}"\ndays = "Mon-Sun"\ntime_zone = "UTC"\n{settings}')
        hydra = shutil.which("hydra", path=str(Path(sys.executable).parent))
        assert hydra is not None
        with self.log.open("w") as err:
            self.process = subprocess.Popen([hydra, "run", "--sim",
                                             "--sim-hours", "none", "--config", "hydra.toml",
                                             "--journal", str(self.journal)],
                                            cwd=directory, stdout=subprocess.DEVNULL, stderr=err)

    def wait_for(self, condition: Callable[[], object], what: str, deadline: float) -> None:
        while not condition():
            assert self.process.poll() is None, f"exited before {what}: {self.log.read_text()}"
            assert time.monotonic() < deadline, f"no {what}"
            time.sleep(0.1)

    def called(self) -> bool:
        return (self.directory / "called").exists()

    def notes(self, what: str) -> list[dict[str, Any]]:
        if not self.journal.exists() or not self.journal.stat().st_size:
            return []
        reader = Journal.open_read_only(self.journal)  # while hydra run writes it
        try:
            return [p for _, kind, p in reader.events() if kind is EventKind.NOTE
                    and p["what"] == what]
        finally:
            reader.close()

    def settled(self) -> bool:
        return _settled(self.journal)

    def stop(self) -> str:
        """Ctrl-C; standard error once it has exited 0."""
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(timeout=60) == 0, self.log.read_text()
        return self.log.read_text()


def test_hooks_that_hang_raise_or_answer_garbage_never_stop_the_runner(tmp_path: Path) -> None:
    """Three runners, each through the ``hydra`` script with its hook module in its current
    directory. A hook blocked on a FIFO the test never opens is cut off at hook_timeout while
    an inbox intent is worked and filled, journaled as hook_error, and (max_hook_failures = 1)
    halts trading as strategy_halted; an ``async def`` hook that raises, and a plain one that
    answers a string, are each one hook_error with a one-line reason, and an intent after
    them is still worked. Each exits 0 on Ctrl-C (the hung thread too), without an
    unrecoverable_error."""
    at = _next_minute(at_least=15)
    hung = HookRun(tmp_path / "hung", HUNG_HOOK, at=at,
                   settings="hook_timeout = 8.0\nmax_hook_failures = 1\n")
    os.mkfifo(hung.directory / "release")
    raising = HookRun(tmp_path / "raising", RAISING_ASYNC_HOOK, at=at, settings="")
    garbage = HookRun(tmp_path / "garbage", GARBAGE_HOOK, at=at, settings="")
    runs = (hung, raising, garbage)
    try:
        deadline = time.monotonic() + 120
        hung.wait_for(hung.called, "hook call", deadline)
        hung.inbox.write_text(
            '{"symbol": "ZO", "side": "BUY", "quantity": 2, "policy": "cross"}\n')
        hung.wait_for(lambda: hung.notes("strategy_halted"), "strategy_halted", deadline)
        for run in (raising, garbage):
            run.wait_for(lambda run=run: run.notes("hook_error"), "hook_error", deadline)
            run.inbox.write_text(
                '{"symbol": "ZO", "side": "BUY", "quantity": 1, "policy": "cross"}\n')
            run.wait_for(run.settled, "the intent worked", deadline)
        logs = {run.directory.name: run.stop() for run in runs}
    finally:
        for run in runs:
            run.process.kill()
    events = list(Journal.open(hung.journal).events())
    (error,) = [(seq, p) for seq, kind, p in events if p.get("what") == "hook_error"]
    assert error[1]["hook"] == "targets" and error[1]["failures"] == 1
    assert error[1]["reason"].startswith("no answer within 8 s;")
    fills = [seq for seq, kind, _ in events if kind is EventKind.FILL]
    assert fills and max(fills) < error[0]  # the intent filled while the hook hung
    (halt,) = hung.notes("strategy_halted")
    assert halt["reason"].startswith("strategy hook targets failed 1 time in a row")
    ((raised,), (answered,)) = (raising.notes("hook_error"), garbage.notes("hook_error"))
    assert raised["reason"] == "raised LookupError: no signal for ZO today"  # one line
    assert answered["reason"] == ("bad answer: strategy answer: must be target positions "
                                  "(symbol → contracts) or intents, got 'buy some oats'")
    for run in runs:
        assert not run.notes("unrecoverable_error") and not run.notes("kill_switch")
        assert "never awaited" not in logs[run.directory.name]
    assert not raising.notes("strategy_halted") and not garbage.notes("strategy_halted")
