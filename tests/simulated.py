"""Shared set-up for tests that run Hydra on the simulated exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio

from hydra import HydraConfig
from hydra._engine import Engine, open_hydra
from hydra._journal_actor import run_inline
from hydra.sim import DisplayedSize, MarketParams, SimBroker, SimExchange, SimParams


def quiet_oats(*, spread_ticks: int = 2, **changes: Any) -> SimParams:
    """Oats with no random flow and no random walk: only what a test scripts happens."""
    market = MarketParams.oats(
        adv=0,
        daily_volatility=0.0,
        spread_ticks=((spread_ticks, 1.0),),
        displayed_size=DisplayedSize.fixed(5),
        **changes,
    )
    return SimParams(markets=(market,))


def still_oats(*, spread_ticks: int = 1, **changes: Any) -> SimParams:
    """Oats at 350.00 / 350.25 (one tick) with 5 lots at every level, no random flow, and a
    mid that not even our own trades move."""
    return quiet_oats(spread_ticks=spread_ticks, impact_ticks_per_lot=0.0, **changes)


@asynccontextmanager
async def open_engine(
    exchange: SimExchange, journal: Path, config: HydraConfig | None = None, **kwargs: Any
) -> AsyncIterator[Engine]:
    """Hydra on a new SimBroker of ``exchange``, journal stamped with simulated time."""
    # A worker thread would let the virtual clock jump while a write is in progress.
    kwargs.setdefault("offload", run_inline)
    async with open_hydra(
        config or HydraConfig(),
        SimBroker(exchange, client_id=1),  # as Hydra's trading client id at IB
        journal_path=journal,
        clock=lambda: exchange.timestamp(trio.current_time()),
        **kwargs,
    ) as engine:
        yield engine
