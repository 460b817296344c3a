"""The dashboard's hold on Hydra: the journal it reads, and the engine behind it, if any.

A `Board` reads the journal itself (read-only, while the engine writes it) and the engine's own
statistics and events; it never keeps a copy of either. Its two actions go through the engine's
public API, the same calls an inbox control line makes, and are journaled with the source
``dashboard`` (`Engine.record_control`).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar
from zoneinfo import ZoneInfo

import attrs
import structlog
import trio

from .._contracts import ContractSpec
from .._engine import Engine
from .._errors import InvalidValueError, JournalFormatError
from .._ids import IntentId
from .._journal import utc_now
from .._journal_actor import Offload, run_in_thread
from .._messages import EngineEvent
from .._quotes import Quote
from .._settings import HydraConfig
from .._status import JournalFollower
from .._working_view import usable_quotes
from ..brokers import MarketView
from ._picture import JournalView, Live, Picture

log = structlog.get_logger()

SOURCE = "dashboard"
T = TypeVar("T")


def _path(value: str | os.PathLike[str]) -> str:
    return os.fspath(value)


@attrs.define
class Followed:
    """The journal as the board follows it, for every page at once: one reader that takes in
    only the events journaled since it last looked (`JournalFollower`, as the status region
    reads it) and one view of them (`JournalView`), judged again only after new events. A
    journal replaced under the board gets a fresh view, from its first event."""

    follower: JournalFollower
    view: JournalView
    _lock: threading.Lock = attrs.Factory(threading.Lock)  # pages draw in worker threads

    @classmethod
    def of(cls, path: str, config: HydraConfig) -> Followed:
        return cls(follower=JournalFollower(path), view=JournalView(config=config))

    def picture(self, *, live: Live | None, now: dt.datetime) -> Picture:
        """The page's content now: the new events taken in, then the view drawn. A journal
        it cannot read (moved aside and not back yet, damaged) is said on the page, with no
        order shown as working."""
        with self._lock:
            try:
                live_orders, problem = self.follower.read(), None
            except JournalFormatError as e:
                live_orders, problem = [], f"journal unreadable: {e}"
            finally:  # what was read is taken in, even when the working orders were not
                if self.follower.started_over:
                    self.view = JournalView(config=self.view.config)
                self.view.take(self.follower.taken)
            return self.view.picture(live_orders, live=live, now=now, problem=problem)

    def close(self) -> None:
        """Let go of the journal (a later `picture` opens it again)."""
        with self._lock:
            self.follower.close()


@attrs.frozen(kw_only=True)
class Board:
    """What the page reads and what its actions reach; ``engine`` None means read-only from
    the journal alone."""

    journal_path: str = attrs.field(converter=_path)
    engine: Engine | None = None
    config: HydraConfig = HydraConfig()  # the engine's: limits, slippage model, ladders
    market: MarketView | None = None  # the engine's broker, for bid/ask and marks
    time_zone: ZoneInfo = ZoneInfo("America/Chicago")  # the exchange's, for the banner's clock
    clock: Callable[[], dt.datetime] = utc_now
    offload: Offload = run_in_thread  # reads the journal away from the event loop
    followed: Followed = attrs.field(init=False, default=attrs.Factory(
        lambda self: Followed.of(self.journal_path, self.config), takes_self=True))

    async def draw(self, draw: Callable[[Picture], T]) -> T:
        """``draw`` of the page's content now: the journal as committed, the engine's live
        state and the broker's quotes. Reading, judging and drawing run in ``offload`` (a worker
        thread unless a test says otherwise): the journal is followed (`Followed`), so a
        draw reads only what was journaled since any page last drew."""
        live = None
        if self.engine is not None:
            stats = self.engine.statistics()
            live = Live(session_up=stats.session_up, trading_state=stats.trading_state)
        now = self.clock().astimezone(self.time_zone)
        built: Picture = await self.offload(lambda: self.followed.picture(live=live, now=now))
        quoted = built.quoted(self._quotes(built.contracts()))
        drawn: T = await self.offload(lambda: draw(quoted))
        return drawn

    def _quotes(self, contracts: Sequence[ContractSpec]) -> dict[str, Quote]:
        if self.market is None:
            return {}
        return usable_quotes(self.market, contracts, max_age=self.config.risk.max_quote_age)

    def close(self) -> None:
        """Let go of the journal the board follows."""
        self.followed.close()

    def subscribe(self) -> trio.MemoryReceiveChannel[EngineEvent] | None:
        """A channel of the engine's events from now on (None without an engine)."""
        return None if self.engine is None else self.engine.subscribe()

    def _engine(self) -> Engine:
        if self.engine is None:
            raise InvalidValueError("engine", None, "is not running: the dashboard is read-only")
        return self.engine

    async def kill(self, reason: str) -> None:
        """The kill switch, as an inbox ``kill`` line pulls it, journaled from the dashboard."""
        engine = self._engine()
        log.warning("kill_switch_requested", source=SOURCE, reason=reason)
        await engine.kill(f"{SOURCE}: {reason}")
        await engine.record_control(f"{SOURCE}-kill-{secrets.token_hex(6)}", source=SOURCE,
                                    action="kill", reason=reason)

    async def cancel(self, intent_id: IntentId) -> None:
        """Stop working one intent; one the engine does not work is an `InvalidValueError`."""
        engine = self._engine()
        engine.cancel(intent_id)
        log.info("cancel_requested", source=SOURCE, intent_id=intent_id)
        await engine.record_control(f"{SOURCE}-cancel-{secrets.token_hex(6)}", source=SOURCE,
                                    action="cancel", intent_id=intent_id)
