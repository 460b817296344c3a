"""The slippage model's healing cycle after each session's close, while `hydra run` runs.

The runner asks the broker for the trading hours of each product it trades (``[adv]``'s
symbols) and sleeps until the next close among them; a second after it, one healing cycle
runs over the journal through the engine's journal actor (`Engine.heal_model`). A cycle with
no fill newer than the last one saw journals nothing, so two products closing together heal
once. A broker that gives no hours for any of them (the simulator by default, ``hydra run
--sim --sim-hours none``) leaves the healing to the end of the run. A cycle that cannot run
is logged, never an error of the run.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

import structlog
import trio

from ._contracts import ContractSpec
from ._core._sessions import SessionCalendar
from ._engine import Engine
from ._errors import HydraError
from ._settings import SlippageSettings
from .brokers import MarketView

if TYPE_CHECKING:
    from ._healing import HealingCycle

log = structlog.get_logger("hydra.healing")

AFTER_CLOSE = 1.0
"""Seconds after a close before its cycle runs (the close's last fills journaled first)."""

RETRY = 60.0
"""Seconds before the hours are asked for again, when the broker could not give them."""


def next_close(calendars: Iterable[SessionCalendar], now: dt.datetime) -> dt.datetime | None:
    """The first session close after ``now`` in any of ``calendars`` (None: none known)."""
    closes = [s.close for c in calendars for s in c.sessions if s.close > now]
    return min(closes, default=None)


async def heal_after_each_close(
    engine: Engine, broker: MarketView, contracts: Iterable[ContractSpec], *,
    settings: SlippageSettings, now: Callable[[], dt.datetime],
) -> None:
    """Run a healing cycle a second after each session close of ``contracts`` until
    cancelled; return at once when the broker gives none of them hours."""
    contracts = tuple(contracts)
    while True:
        try:
            calendars = [c for c in [await broker.trading_hours(x) for x in contracts]
                         if c is not None]
        except HydraError as e:  # the session is down, say: ask again in a while
            log.warning("healing_hours_unavailable", reason=str(e))
            await trio.sleep(RETRY)
            continue
        close = next_close(calendars, now())
        if close is None:
            if not calendars:
                log.info("healing_at_close_off", reason="the broker gives no trading hours")
                return
            # The hours known end before another close: ask again where they end.
            ends = min(c.known_until for c in calendars)
            await trio.sleep(max(RETRY, (ends - now()).total_seconds()))
            continue
        await trio.sleep(max(0.0, (close - now()).total_seconds()) + AFTER_CLOSE)
        await _heal(engine, settings, close)


async def _heal(engine: Engine, settings: SlippageSettings, close: dt.datetime) -> None:
    await logged_cycle(functools.partial(engine.heal_model, settings), close=close.isoformat())


async def logged_cycle(heal: Callable[[], Awaitable[HealingCycle | None]],
                       **where: object) -> None:
    """Run one healing cycle with ``heal`` and log what it did (``where`` it ran beside);
    a cycle that cannot run is logged, never raised."""
    try:
        cycle = await heal()
    except HydraError as e:
        log.warning("healing_skipped", **where, reason=str(e))
        return
    if cycle is None:
        log.info("healing_cycle", **where, detection="no fills newer than the last cycle saw")
        return
    log.info("healing_cycle", **where, detection=cycle.detection.summary,
             decision=None if cycle.decision is None else cycle.decision.summary)
