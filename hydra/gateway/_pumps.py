"""The tasks that keep a client's streams flowing (depth, tick-by-tick, real-time bars, bars
kept up to date): each waits for what moves its stream — the book changing, or the next
5-second boundary — and sends what the session says changed. Trio; one task per stream."""

from __future__ import annotations

import functools
import math
from collections.abc import Awaitable, Callable, Iterable

import trio

from ..sim import SimExchange
from ._replies import Reply
from ._session import Session
from ._session_streams import REAL_TIME_BAR_SECONDS, Stream, StreamKind

Sender = Callable[[Iterable[Reply]], Awaitable[None]]
Running = dict[tuple[StreamKind, int], tuple[Stream, trio.CancelScope]]


async def follow_streams(
    nursery: trio.Nursery, running: Running, session: Session, send: Sender
) -> None:
    """Start a pump for each new stream of ``session``, stop those cancelled or replaced."""
    wanted = session.streams.streams
    for key, (stream, scope) in list(running.items()):
        if wanted.get(key) != stream:
            scope.cancel(reason=f"{stream.kind.value} {stream.req_id} cancelled")
            del running[key]
    for key, stream in wanted.items():
        if key not in running:
            pump = functools.partial(_pump, session, stream, send)
            running[key] = stream, await nursery.start(pump)


async def _pump(
    session: Session,
    stream: Stream,
    send: Sender,
    *,
    task_status: trio.TaskStatus[trio.CancelScope] = trio.TASK_STATUS_IGNORED,
) -> None:
    exchange = session.streams.exchange
    with trio.CancelScope() as scope:
        task_status.started(scope)
        if stream.kind is StreamKind.REAL_TIME_BARS:
            await _every_five_seconds(session, stream, send, exchange)
        else:
            await _on_book_changes(session, stream, send, exchange)


async def _on_book_changes(
    session: Session, stream: Stream, send: Sender, exchange: SimExchange
) -> None:
    """Depth, tick-by-tick and bar updates: whatever changed, each time the book changes."""
    streams, spec = session.streams, stream.listing.spec
    changes = {
        StreamKind.DEPTH: streams.depth_changes,
        StreamKind.TICK_BY_TICK: streams.ticks,
        StreamKind.BAR_UPDATES: streams.bar_update,
    }[stream.kind]
    version = exchange.book_version(spec)
    while True:
        version = await exchange.wait_book_changed(spec, version)
        replies = changes(stream.req_id)
        if replies:
            await send(replies)


async def _every_five_seconds(
    session: Session, stream: Stream, send: Sender, exchange: SimExchange
) -> None:
    """Each bar at the end of its 5 seconds (of the exchange's wall clock)."""
    offset = exchange.params.session_start.timestamp() - exchange.origin  # wall - Trio time
    while True:
        now = trio.current_time() + offset
        end = (math.floor(now / REAL_TIME_BAR_SECONDS) + 1) * REAL_TIME_BAR_SECONDS
        await trio.sleep_until(end - offset)
        replies = session.streams.real_time_bar(stream.req_id, end)
        if replies:
            await send(replies)
