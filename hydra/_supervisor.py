"""The connection supervisor: reconnects with backoff after a loss, then resyncs.

The risk actor tells it the session went down (and refuses new orders meanwhile). It retries
`Broker.connect` on the core's backoff schedule, giving up with `BrokerConnectionError` after
the configured tries, then reads the executions since the last journaled one and the orders
still working, and hands both to the risk actor, which journals each missed fill once.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable

import structlog
import trio

from ._core._backoff import backoff_delays
from ._core._positions import Position
from ._errors import BrokerConnectionError
from ._journal_actor import JournalClient
from ._journal_calls import JournalNow, LastFillTime
from ._messages import FromBroker, Resynced, RiskMessage, SessionDown
from ._schedule import trading_day_start
from ._settings import BackoffSettings
from .brokers import BrokerEvent, MarketView

log = structlog.get_logger()

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


async def reconnect(broker: MarketView, *, settings: BackoffSettings, rng: random.Random) -> int:
    """Connect, retrying after each backoff delay; the number of tries it took."""
    last_error: BrokerConnectionError | None = None
    for attempt, delay in enumerate(backoff_delays(settings, rng=rng), start=1):
        await trio.sleep(delay)
        try:
            await broker.connect()
        except BrokerConnectionError as e:
            last_error = e
            log.info("reconnect_failed", attempt=attempt, error=str(e))
            continue
        return attempt
    raise BrokerConnectionError(
        f"could not reconnect after {settings.max_tries} tries: {last_error}"
    ) from last_error


async def resync(broker: MarketView, journal: JournalClient) -> Resynced:
    """The broker's executions since the last journaled one (and at least the trading day's:
    after a lost ``-wal`` the journal's newest fill may be newer than one it lost), its working
    orders and its positions (symbol → contracts). The risk actor journals each execution
    once, by its id."""
    last = await journal.ask(LastFillTime())
    since = EPOCH if last is None else min(last, trading_day_start(await journal.ask(
        JournalNow())))
    fills = await broker.executions_since(since)
    open_orders = await broker.open_orders()
    return Resynced(fills=fills, open_orders=open_orders,
                    positions=positions_by_symbol(await broker.positions()))


def positions_by_symbol(positions: Iterable[Position]) -> dict[str, int]:
    """Signed contracts per symbol, delivery months added together."""
    totals: dict[str, int] = {}
    for position in positions:
        symbol = position.contract.symbol
        totals[symbol] = totals.get(symbol, 0) + position.quantity
    return totals


async def run_connection(
    inbox: trio.MemoryReceiveChannel[SessionDown],
    *,
    broker: MarketView,
    risk: trio.MemorySendChannel[RiskMessage],
    journal: JournalClient,
    settings: BackoffSettings,
    rng: random.Random,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """For each session loss: reconnect, resync, report to the risk actor."""
    task_status.started()
    async with inbox:
        async for down in inbox:
            tries = await reconnect(broker, settings=settings, rng=rng)
            log.info("reconnected", tries=tries, after=down.reason)
            await risk.send(await resync(broker, journal))


async def run_broker_events(
    events: trio.MemoryReceiveChannel[BrokerEvent],
    *,
    risk: trio.MemorySendChannel[RiskMessage],
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Pass every broker event to the risk actor, in order, until the stream ends."""
    task_status.started()
    async with risk:
        async for event in events:
            await risk.send(FromBroker(event=event))
