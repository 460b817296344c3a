"""The dashboard served by Hypercorn's Trio worker on 127.0.0.1, and where it may listen."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from hydra import OATS, Distance, ExecutionSettings, HydraConfig, OrderIntent, Side
from hydra._journal_actor import run_inline
from hydra.dashboard import (
    TOKEN_ENV,
    RemoteBindRefusedError,
    open_dashboard,
    serve_journal_dashboard,
    token_from,
)
from hydra.sim import open_sim_exchange
from tests.simulated import open_engine, quiet_oats

CONFIG = HydraConfig(execution=ExecutionSettings(patience=60.0, slippage_guard=Distance.ticks(2)))


async def _fetch(url: str, path: str) -> bytes:
    """``path`` of the server at ``url`` over a real socket, as a browser would ask for it."""
    host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    stream = await trio.open_tcp_stream(host, int(port))
    async with stream:
        await stream.send_all(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                              "Connection: close\r\n\r\n".encode())
        received = b""
        while chunk := await stream.receive_some():
            received += chunk
    return received


async def test_open_dashboard_serves_the_live_page_on_loopback(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Beside a running engine (port 0), the page comes over HTTP with the fill."""
    journal = tmp_path / "j.sqlite"
    with trio.fail_after(3600):
        async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
            async with open_engine(exchange, journal, CONFIG) as engine:
                # Inline reads: a worker thread would let the virtual clock run away meanwhile.
                async with open_dashboard(engine, journal_path=journal, port=0, config=CONFIG,
                                          offload=run_inline) as dashboard:
                    assert dashboard.url.startswith("http://127.0.0.1:")
                    await (await engine.submit(OrderIntent(
                        contract=OATS, side=Side.BUY, quantity=1, intent_id="served",
                    ))).wait_done()
                    response = await _fetch(dashboard.url, "/")
    assert response.startswith(b"HTTP/1.1 200")
    assert b"<td>served</td>" in response and b"live engine" in response


async def test_journal_dashboard_serves_read_only(tmp_path: Path) -> None:
    """`serve_journal_dashboard` serves a stopped engine's journal, without actions."""
    journal = tmp_path / "j.sqlite"
    with trio.fail_after(20):
        async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
            async with open_engine(exchange, journal, CONFIG):
                pass
        async with trio.open_nursery() as nursery:
            url = await nursery.start(lambda task_status=trio.TASK_STATUS_IGNORED:
                                      serve_journal_dashboard(journal, port=0,
                                                              task_status=task_status))
            page = await _fetch(url, "/")
            refused = await _fetch(url, "/kill")
            nursery.cancel_scope.cancel(reason="test over")
    assert b"read-only from the journal" in page
    assert refused.startswith(b"HTTP/1.1 403")


@pytest.mark.parametrize(("host", "token", "allow_remote", "problem"), [
    ("0.0.0.0", "t", False, "not a loopback address"),
    ("192.0.2.7", "t", False, "not a loopback address"),
    ("0.0.0.0", None, True, "needs a token"),
])
async def test_a_remote_bind_needs_allow_remote_and_a_token(
    tmp_path: Path, host: str, token: str | None, allow_remote: bool, problem: str
) -> None:
    """Listening beyond loopback is refused before anything binds, unless explicitly allowed
    and guarded by a token."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", CONFIG) as engine:
            with pytest.raises(RemoteBindRefusedError, match=problem):
                async with open_dashboard(engine, journal_path=tmp_path / "j.sqlite",
                                          host=host, port=0, token=token,
                                          allow_remote=allow_remote):
                    pass


def test_token_from_the_environment_or_new() -> None:
    """The environment's token wins; without one each call makes a new random token."""
    assert token_from({TOKEN_ENV: "given"}) == "given"
    first, second = token_from({}), token_from({})
    assert first != second and len(first) >= 32
