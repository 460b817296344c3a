"""The status of ``hydra run``: on a terminal, the status region redrawn every second; else a
log line a minute.

The region reads what the dashboard reads: the engine's statistics, the journal (followed as
it grows: each second only its new events, in a worker thread) and the broker's quotes, and
shows the working orders as `hydra._working_view` builds them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable
from typing import NoReturn
from zoneinfo import ZoneInfo

import attrs
import structlog
import trio

from ._engine import Engine, EngineStatistics
from ._enums import NoteKind
from ._errors import JournalFormatError
from ._journal import Journal, JournaledOrder
from ._journal_actor import Offload, run_in_thread
from ._journal_records import JournalRecord, read_journal
from ._schedule import EXCHANGE_ZONE, DailySchedule
from ._screen import StatusScreen
from ._settings import HydraConfig
from ._status_region import StatusView, fitted, region_rows, status_lines
from ._working_view import Ladders, WorkingOrder, quoted, usable_quotes
from .brokers import MarketView

log = structlog.get_logger()

Clock = Callable[[], dt.datetime]

REDRAW_SECONDS = 1.0
LOG_SECONDS = 60.0


@attrs.define
class JournalFollower:
    """The journal at ``path`` as the region needs it, read a little more at each `read`."""

    path: str
    seq: int = 0  # the last event read
    ladders: Ladders = attrs.Factory(lambda: Ladders.of([]))
    account: str | None = None  # masked, from the last engine_started
    live: list[JournaledOrder] = attrs.Factory(list)  # the working orders as of ``asked``
    asked: int = -1  # the last event read when the working orders were asked for
    # The events the last read took in (the dashboard's view takes them in after it), even
    # when that read then failed to ask for the working orders.
    taken: list[JournalRecord] = attrs.Factory(list)
    # Kept open: a reader asked again reads only the orders' events since its last answer
    # (on a four-week journal about 1 ms, where a new reader looks at every order: 130 ms).
    _journal: Journal | None = attrs.field(default=None, init=False)
    # One read at a time: the redraw and the drain's countdown may both draw, each in a
    # worker thread, and the reader's connection and its position are not for two at once.
    _reading: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def read(self) -> list[JournaledOrder]:
        """Take in the events journaled since the last read; the orders working now (asked
        of the journal again only when it has new events)."""
        with self._reading:
            return self._read()

    def close(self) -> None:
        """Let go of the journal (a later `read` opens it again)."""
        with self._reading:
            if self._journal is not None:
                self._journal.close()
                self._journal = None

    def _read(self) -> list[JournaledOrder]:
        self.taken = []
        records = self.taken = read_journal(self.path, after=self.seq)
        if records:
            self.seq = records[-1].seq
            self.ladders = self.ladders.extended(records)
        for record in records:
            if record.is_note(NoteKind.ENGINE_STARTED):
                account = record.payload.get("account")
                self.account = None if account is None else str(account)
        if self.asked != self.seq:  # else none has changed: they change only by events
            if self._journal is None:
                self._journal = Journal.open_read_only(self.path)
            try:
                self.live, self.asked = self._journal.live_orders(), self.seq
            except sqlite3.Error as e:
                self._journal.close()  # the file may have gone: the next read opens it anew
                self._journal = None
                raise JournalFormatError(self.path, f"cannot be read ({e})") from e
        return self.live


def status_view(stats: EngineStatistics, *, venue: str, account: str | None, now: dt.datetime,
                next_hook: dt.datetime | None, orders: tuple[WorkingOrder, ...],
                problem: str | None = None) -> StatusView:
    """The region's content: ``now`` and ``next_hook`` in the exchange's time zone."""
    zone = ZoneInfo(EXCHANGE_ZONE)
    return StatusView(
        venue=venue, account=account, session_up=stats.session_up,
        trading_state=stats.trading_state, now=now.astimezone(zone),
        next_hook=None if next_hook is None else next_hook.astimezone(zone),
        working=stats.working, finished=stats.finished, blocked=stats.blocked,
        fills=stats.fills, filled_quantity=stats.filled_quantity, orders=orders,
        problem=problem)


@attrs.define
class StatusRegion:
    """The region of a running ``engine``, read afresh at each `draw`: ``market`` gives the
    bid and ask, ``schedule`` the hook's next run."""

    engine: Engine
    config: HydraConfig
    venue: str  # SIM, PAPER or LIVE
    now: Clock
    market: MarketView | None = None
    schedule: DailySchedule | None = None
    offload: Offload = run_in_thread  # reads the journal away from the event loop
    follower: JournalFollower = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.follower = JournalFollower(self.config.journal.path)

    async def draw(self, screen: StatusScreen, *, head: str | None = None) -> None:
        """Draw the region on ``screen`` now, with ``head`` in place of its first line (the
        drain's countdown) when given."""
        try:
            live, problem = await self.offload(self.follower.read), None
        except JournalFormatError as e:  # moved away, say: shown, and the last read kept
            live, problem = self.follower.live, f"journal unreadable: {e}"
        moment = self.now()
        orders = tuple(self.follower.ladders.working(order, moment, self.config)
                       for order in live)
        if self.market is not None:
            orders = quoted(orders, usable_quotes(self.market, [o.contract for o in orders],
                                                  max_age=self.config.risk.max_quote_age))
        view = status_view(
            self.engine.statistics(), venue=self.venue, account=self.follower.account,
            now=moment, orders=orders, problem=problem,
            next_hook=None if self.schedule is None else self.schedule.next_after(moment))
        size = screen.size()
        lines = status_lines(view, width=size.columns, rows=region_rows(size.lines))
        screen.show(lines if head is None else [fitted(head, size.columns), *lines[1:]])


async def run_status(region: StatusRegion, *, screen: StatusScreen | None) -> None:
    """``region`` on ``screen``, every second; without a screen, a log line a minute."""
    if screen is None:
        await _log_status(region.engine)
    while True:
        await region.draw(screen)
        await trio.sleep(REDRAW_SECONDS)


async def _log_status(engine: Engine) -> NoReturn:
    while True:
        stats = engine.statistics()
        log.info("status", session_up=stats.session_up, trading_state=stats.trading_state.value,
                 working=stats.working, finished=stats.finished, fills=stats.fills)
        await trio.sleep(LOG_SECONDS)
