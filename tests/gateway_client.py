"""Helpers for the gateway's end-to-end tests: the real ib_async client, inside trio-asyncio,
against `serve_gateway` on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

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
    await trio_asyncio.aio_as_trio(ib.connectAsync)(
        "127.0.0.1", served.gateway.port, clientId=client_id, timeout=2, raiseSyncErrors=True
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


