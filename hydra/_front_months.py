"""The front months as a run goes on, by the engine's clock.

What an intent, bracket, close or roll naming no month trades is its product's front month on
the exchange's trading day of the moment it is asked (`FrontMonths.today`), for each product
whose dates Hydra knows (never the broker's own front month, which may already be in its
delivery window): a run that goes on past a roll date trades the new front month.

The months are journaled (a ``front_months`` note) and logged at start (`decide_front_months`)
and again, by `run_front_months`, at the start of each trading day on which they change
(``front_months_changed``); that actor also warns, each trading day, of every position held
within ``roll_days`` of its delivery window or in it (`warn_of_delivery`: a
``delivery_window`` note and a ``position_in_delivery_window`` line), as the start does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import attrs
import structlog
import trio

from ._contracts import BUILT_IN_CONTRACTS, delivery_window_opens
from ._core._front_month import days_to_delivery_window, front_months
from ._core._positions import Position
from ._enums import NoteKind
from ._errors import BrokerError
from ._journal_actor import JournalClient
from ._schedule import trading_day, trading_day_start
from .brokers import MarketView

log = structlog.get_logger()


@attrs.frozen(kw_only=True)
class FrontMonths:
    """Each product's front month ("YYYYMM" by symbol) on the trading day of ``clock()``."""

    roll_days: int
    clock: Callable[[], dt.datetime]

    def on(self, day: dt.date) -> dict[str, str]:
        """The front months on the trading day ``day``."""
        return front_months(BUILT_IN_CONTRACTS.values(), today=day, roll_days=self.roll_days)

    def today(self) -> dict[str, str]:
        """The front months now, by the clock."""
        return self.on(trading_day(self.clock()))


async def decide_front_months(journal: JournalClient, front: FrontMonths) -> dict[str, str]:
    """Today's front months, journaled (a ``front_months`` note) and logged: at start."""
    day = trading_day(front.clock())
    months = front.on(day)
    details = {"months": months, "today": day.isoformat(), "roll_days": front.roll_days}
    await journal.record_note(NoteKind.FRONT_MONTHS, **details)
    log.info("front_months", **details)
    return months


async def run_front_months(
    front: FrontMonths, *, months: Mapping[str, str], journal: JournalClient,
    broker: MarketView, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """At the start of each trading day: journal and log the front months when they differ
    from the day before's (``months`` at start), and warn of the positions held near or in
    their delivery window. Runs until cancelled."""
    task_status.started()
    while True:
        day = trading_day(front.clock())
        next_start = trading_day_start(front.clock()) + dt.timedelta(days=1)
        await trio.sleep(max(0.0, (next_start - front.clock()).total_seconds()))
        if trading_day(front.clock()) == day:
            continue  # woke a little early (the clock is not Trio's): sleep the rest
        day = trading_day(front.clock())
        months = await _changed(journal, front, before=months, day=day)
        try:
            held = [p for p in await broker.positions() if p.quantity]
        except BrokerError as e:  # the session is down: the next day's check sees them
            log.warning("delivery_window_unchecked", today=day.isoformat(), reason=str(e))
            continue
        await warn_of_delivery(held, journal, today=day, roll_days=front.roll_days)


async def _changed(journal: JournalClient, front: FrontMonths, *, before: Mapping[str, str],
                   day: dt.date) -> Mapping[str, str]:
    """``day``'s front months, journaled and logged when they differ from ``before``."""
    months = front.on(day)
    if months != before:
        details = {"months": months, "today": day.isoformat(), "roll_days": front.roll_days}
        await journal.record_note(NoteKind.FRONT_MONTHS, **details)
        log.info("front_months_changed", before=dict(before), **details)
    return months


async def warn_of_delivery(held: Sequence[Position], journal: JournalClient, *,
                           today: dt.date, roll_days: int) -> None:
    """A note and a log line for each position of a month within ``roll_days`` of its
    delivery window, or in it (of the products whose dates Hydra knows)."""
    for position in held:
        symbol, month = position.contract.symbol, position.contract.expiry
        if month is None or symbol not in BUILT_IN_CONTRACTS:  # no month, or no dates known
            continue
        days = days_to_delivery_window(symbol, month, today=today)
        if days > roll_days:
            continue
        details = {"symbol": symbol, "month": month, "quantity": position.quantity,
                   "window_opens": delivery_window_opens(symbol, month).isoformat(),
                   "days_to_window": days, "roll_days": roll_days}
        await journal.record_note(NoteKind.DELIVERY_WINDOW, **details)
        log.warning("position_in_delivery_window", **details)
