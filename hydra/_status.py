"""The status of ``hydra run``: on a terminal, the status region redrawn every second; else a
log line a minute.

The region reads what the dashboard reads: the engine's statistics, the journal (followed as
it grows: each second only its new events, in a worker thread; read again from its start when
another journal takes its place at the path) and the broker's quotes, and shows the working
orders as `hydra._working_view` builds them.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Callable
from typing import NoReturn, TypeVar
from zoneinfo import ZoneInfo

import attrs
import structlog
import trio

from ._engine import Engine, EngineStatistics
from ._enums import NoteKind
from ._errors import JournalFormatError
from ._ids import JournalId
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

T = TypeVar("T")


@attrs.define
class JournalFollower:
    """The journal at ``path`` as the region needs it, read a little more at each `read`.

    It follows one journal: the file at the path (its device and inode), the journal in it
    (its id) and its events up to the last one read, which the journal must still hold as it
    was read. A journal replaced under it (moved aside and a new one made at the path, as
    ``hydra run --new-journal`` does; another copied over it; one that lost its last events
    with its ``-wal``) is read again from its first event by a fresh reader: `started_over`
    says so, and nothing of the journal before is kept. A path with no journal at it is a
    `JournalFormatError`, and the journal followed until then is kept for when it is back."""

    path: str
    ladders: Ladders = attrs.Factory(lambda: Ladders.of([]))
    account: str | None = None  # masked, from the last engine_started
    live: list[JournaledOrder] = attrs.Factory(list)  # the working orders as of ``asked``
    asked: int = -1  # the last event read when the working orders were asked for
    # The events the last read took in (the dashboard's view takes them in after it), even
    # when that read then failed to ask for the working orders.
    taken: list[JournalRecord] = attrs.Factory(list)
    # Whether the last read began again on another journal at the path: ``taken`` are then
    # its first events, and what was taken before is of the journal it replaced.
    started_over: bool = False
    _file: tuple[int, int] | None = attrs.field(default=None, init=False)  # st_dev, st_ino
    _journal_id: JournalId | None = attrs.field(default=None, init=False)
    _last: JournalRecord | None = attrs.field(default=None, init=False)  # the last event read
    # Kept open: a reader asked again reads only the orders' events since its last answer
    # (on a four-week journal about 1 ms, where a new reader looks at every order: 130 ms).
    _journal: Journal | None = attrs.field(default=None, init=False)
    # One read at a time: the redraw and the drain's countdown may both draw, each in a
    # worker thread, and the reader's connection and its position are not for two at once.
    _reading: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    @property
    def seq(self) -> int:
        """The number of the last event read (0 before any)."""
        return 0 if self._last is None else self._last.seq

    def read(self) -> list[JournaledOrder]:
        """Take in the events journaled since the last read; the orders working now (asked
        of the journal again only when it has new events)."""
        with self._reading:
            try:
                return self._read()
            except JournalFormatError:  # let go of the file: a journal may be made anew in it
                self._close_reader()
                raise

    def close(self) -> None:
        """Let go of the journal (a later `read` opens it again)."""
        with self._reading:
            self._close_reader()

    def _read(self) -> list[JournaledOrder]:
        self.taken, self.started_over = [], False
        file = _file_at(self.path)
        if file != self._file:
            self._start_over(file)
        journal_id = self._ask(lambda journal: journal.journal_id)
        if journal_id != self._journal_id:  # another in the file: copied over it, say
            if self._last is not None:
                self._start_over(file)
            self._journal_id = journal_id
        records = self.taken = self._records(file)
        if records:
            self._last = records[-1]
            self.ladders = self.ladders.extended(records)
        for record in records:
            if record.is_note(NoteKind.ENGINE_STARTED):
                account = record.payload.get("account")
                self.account = None if account is None else str(account)
        if self.asked != self.seq:  # else none has changed: they change only by events
            self.live = self._ask(lambda journal: journal.live_orders())
            self.asked = self.seq
        return self.live

    def _records(self, file: tuple[int, int]) -> list[JournalRecord]:
        """The events after the last one read, which the journal must still hold unchanged;
        else (it went back, or is another) every event, the follower started over."""
        last = self._last
        if last is None:
            return read_journal(self.path)
        records = read_journal(self.path, after=last.seq - 1)
        if records and records[0] == last:
            return records[1:]
        self._start_over(file)
        return read_journal(self.path)

    def _start_over(self, file: tuple[int, int]) -> None:
        """Forget the journal followed: the next events read are the first of the one at
        ``file``, by a fresh reader."""
        self._close_reader()
        self.started_over = self.started_over or self._file is not None
        self._file, self._last = file, None
        self.ladders, self.account, self.live, self.asked = Ladders.of([]), None, [], -1

    def _ask(self, question: Callable[[Journal], T]) -> T:
        """``question``'s answer from the kept reader (opened if need be)."""
        if self._journal is None:
            self._journal = Journal.open_read_only(self.path)
        try:
            return question(self._journal)
        except sqlite3.Error as e:
            raise JournalFormatError(self.path, f"cannot be read ({e})") from e

    def _close_reader(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None


def _file_at(path: str) -> tuple[int, int]:
    """The device and inode of the file at ``path``: another file there is another journal."""
    try:
        found = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise JournalFormatError(path, "no such file") from None
    except OSError as e:
        raise JournalFormatError(path, f"cannot be read ({e.strerror})") from e
    return found.st_dev, found.st_ino


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
