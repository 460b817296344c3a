"""Helpers for the gateway's end-to-end tests: the real ib_async client, inside trio-asyncio,
against `serve_gateway` on 127.0.0.1."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import pathlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import attrs
import trio
import trio_asyncio
from ib_async import IB, Future

from hydra.gateway import Gateway, serve_gateway
from hydra.sim import MarketParams, SimExchange, SimParams, open_sim_exchange

FEBRUARY = dt.datetime(2025, 2, 3, 14, 30, tzinfo=dt.UTC)
"""A Monday when oats' March month (ZOH5) is the front month, not yet in delivery."""
# A still market (no random walk, no flow) so resting orders rest and the quote is known.
PARAMS = SimParams(
    markets=(MarketParams.oats(adv=0, daily_volatility=0.0), MarketParams.hogs(adv=0)),
    ack_latency=0.001,
    fill_latency=0.001,
    session_start=FEBRUARY,
)
ZO = dict(symbol="ZO", exchange="CBOT", lastTradeDateOrContractMonth="202503")
HANG_GUARD = 10


@attrs.frozen
class Served:
    gateway: Gateway
    exchange: SimExchange


@asynccontextmanager
async def serving(params: SimParams = PARAMS, *, seed: int = 7) -> AsyncIterator[Served]:
    """A gateway over a fresh exchange, and trio-asyncio's loop for ib_async, on 127.0.0.1."""
    with trio.fail_after(HANG_GUARD):
        async with open_sim_exchange(params, seed=seed) as exchange, trio.open_nursery() as nursery:
            gateway = await nursery.start(serve_gateway, exchange)
            async with trio_asyncio.open_loop():
                yield Served(gateway=gateway, exchange=exchange)
            nursery.cancel_scope.cancel(reason="test over")


@asynccontextmanager
async def connected(served: Served, client_id: int = 1) -> AsyncIterator[IB]:
    ib = IB()
    # ib_async's bound on each start-up request: a connect takes milliseconds, but a loaded
    # machine must not fail it (the tests' own hang guards catch a gateway that never answers).
    await trio_asyncio.aio_as_trio(ib.connectAsync)(
        "127.0.0.1", served.gateway.port, clientId=client_id, timeout=5, raiseSyncErrors=True
    )
    try:
        yield ib
    finally:
        ib.disconnect()


async def wait_until(condition: Callable[[], bool]) -> None:
    """Let ib_async's loop run until ``condition`` holds (the fixture's guard bounds it).
    ib_async's state changes on the asyncio side, where no Trio event can be set: poll."""
    while not condition():  # noqa: ASYNC110
        await trio.sleep(0.002)


def errors_of(ib: IB) -> list[tuple[int, int]]:
    """(request or order id, code) of each error ib_async reports from now on."""
    seen: list[tuple[int, int]] = []
    ib.errorEvent += lambda req_id, code, message, contract: seen.append((req_id, code))
    return seen


async def qualified(ib: IB) -> Future:
    contract = Future(**ZO)
    await trio_asyncio.aio_as_trio(ib.qualifyContractsAsync)(contract)
    return contract




@contextlib.contextmanager
def sim_gateway_process(log: pathlib.Path, *argv: str) -> Iterator[int]:
    """``hydra sim-gateway --port 0 ARGV`` in its own process; yields the port it listens on
    (read from its ``gateway_listening`` log line). Its JSON log goes to ``log``."""
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "hydra", "sim-gateway", "--port", "0", *argv],
            stdout=subprocess.DEVNULL, stderr=sink,
        )  # fmt: skip
    try:
        yield _listening_port(log, process)
    finally:
        process.terminate()
        process.wait(timeout=HANG_GUARD)


def _listening_port(log: pathlib.Path, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 3 * HANG_GUARD
    while time.monotonic() < deadline and process.poll() is None:
        for line in log.read_text().splitlines():
            event = json.loads(line)
            if event.get("event") == "gateway_listening":
                return int(event["port"])
        time.sleep(0.05)
    raise AssertionError(f"sim-gateway did not start: {log.read_text()[-2000:]}")


def run_client_script(
    script: pathlib.Path, port: int, *, seconds: float, first_on_path: pathlib.Path | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Run a client's user script (``python SCRIPT PORT``) to its end, at most ``seconds``;
    its last line of output is the JSON of what it saw. ``first_on_path``: a directory its
    imports look in before any other (a client installed apart, beside another version)."""
    env = None
    if first_on_path is not None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(first_on_path), env.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, str(script), str(port)],
        capture_output=True, text=True, timeout=seconds, check=False, env=env,
    )  # fmt: skip
    output = done.stdout[-3000:] + done.stderr[-3000:]
    assert done.returncode == 0, f"{script.name} failed:\n{output}"
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result
