"""The journal actor: the single writer of the journal, and the typed client other actors use.

Each write is answered only after it is committed, so ``await journal.record_order(...)``
returning means the order is on disk: that is the write-ahead rule. Each operation is a message
of its own (`hydra._journal_calls`), never a closure. A write or a query that fails raises in
the task that asked for it; the actor goes on serving the others. A write the disk refuses
(`JournalWriteError`) is also told to whoever waits in `wait_write_failed`: `open_hydra` stops
on it. The journal mirrors what it commits to the audit log itself, so nothing here writes to
it. SQLite work runs through ``offload`` — `trio.to_thread.run_sync` in production; tests on
the autojump clock pass an inline runner, because virtual time would jump ahead while a worker
thread is busy.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import attrs
import outcome
import structlog
import trio

from ._enums import NoteKind, OrderStatus
from ._errors import JournalWriteError
from ._ids import BrokerOrderId, ClientOrderId, IntentId
from ._journal import Journal
from ._journal_calls import (
    JournalCall,
    RecordAck,
    RecordBlocked,
    RecordFill,
    RecordIntent,
    RecordNote,
    RecordOrder,
    RecordStatus,
)
from ._orders import Fill, OrderIntent, OrderRequest, TwapPart

log = structlog.get_logger()

T = TypeVar("T")
Offload = Callable[[Callable[[], Any]], Awaitable[Any]]


async def run_inline(work: Callable[[], T]) -> T:
    """Run ``work`` on the Trio thread (for tests on a virtual clock)."""
    return work()


async def run_in_thread(work: Callable[[], T]) -> T:
    """Run ``work`` in a worker thread, so the event loop never waits on the disk."""
    return await trio.to_thread.run_sync(work)


@attrs.frozen(kw_only=True)
class JournalWrite:
    """One operation on the journal (a write or a query), and where to send its outcome."""

    call: JournalCall[Any]
    reply: trio.MemorySendChannel[outcome.Outcome[Any]]


GROUP_COMMIT_MAX = 64
"""The most calls one transaction (one fsync) takes: what is waiting when the actor is free."""


async def run_journal(
    inbox: trio.MemoryReceiveChannel[JournalWrite],
    *,
    journal: Journal,
    offload: Offload = run_in_thread,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Apply calls in arrival order until every writer has closed its end. The calls waiting
    when the actor is free are committed together (a group commit: one fsync, each answered
    only once all are on disk, so write-ahead holds). Each call's outcome (its value, or the
    exception it raised) goes back to its caller."""
    task_status.started()
    async with inbox:
        async for first in inbox:
            group = [first]
            while len(group) < GROUP_COMMIT_MAX:
                try:
                    group.append(inbox.receive_nowait())
                except (trio.WouldBlock, trio.EndOfChannel):
                    break
            results = await offload(functools.partial(
                journal.apply_together, [message.call.apply for message in group]))
            for message, result in zip(group, results, strict=True):
                with contextlib.suppress(trio.BrokenResourceError):  # the caller was cancelled
                    message.reply.send_nowait(result)


class _WriteFailures:
    """The first write failure any clone of one client saw, shared by all of them."""

    def __init__(self) -> None:
        self.first: JournalWriteError | None = None
        self.seen = trio.Event()


class JournalClient:
    """Awaitable, typed writes to the journal actor. Each call returns once committed."""

    def __init__(self, outbox: trio.MemorySendChannel[JournalWrite], *,
                 _failures: _WriteFailures | None = None) -> None:
        self._outbox = outbox
        self._failures = _failures or _WriteFailures()

    def clone(self) -> JournalClient:
        return JournalClient(self._outbox.clone(), _failures=self._failures)

    async def wait_write_failed(self) -> JournalWriteError:
        """The first `JournalWriteError` a call through this client (or a clone) raised,
        once there is one."""
        await self._failures.seen.wait()
        assert self._failures.first is not None
        return self._failures.first

    async def aclose(self) -> None:
        await self._outbox.aclose()

    async def ask(self, call: JournalCall[T]) -> T:
        """Apply ``call`` (a query, or a write) in the actor, in order with every other call;
        its answer, or its exception raised here."""
        send, receive = trio.open_memory_channel[outcome.Outcome[T]](1)  # one answer, no wait
        with receive:
            await self._outbox.send(JournalWrite(call=call, reply=send))
            result = await receive.receive()
        error = result.error if isinstance(result, outcome.Error) else None
        if isinstance(error, JournalWriteError) and self._failures.first is None:
            self._failures.first = error
            self._failures.seen.set()
        return result.unwrap()

    async def record_intent(
        self, intent: OrderIntent, *, arrival_mid: Decimal, predicted_bps: Decimal | None
    ) -> None:
        await self.ask(RecordIntent(intent=intent, arrival_mid=arrival_mid,
                                    predicted_bps=predicted_bps))

    async def record_order(self, request: OrderRequest, *, dry: bool = False,
                           part: TwapPart | None = None) -> None:
        await self.ask(RecordOrder(request=request, dry=dry, part=part))

    async def record_ack(
        self, client_order_id: ClientOrderId, broker_order_id: BrokerOrderId, intent: str | None
    ) -> None:
        await self.ask(RecordAck(client_order_id=client_order_id,
                                 broker_order_id=broker_order_id, intent_id=intent))

    async def record_status(
        self, client_order_id: ClientOrderId, status: OrderStatus, *, reason: str | None,
        intent: str | None,
    ) -> None:
        await self.ask(RecordStatus(client_order_id=client_order_id, status=status,
                                    reason=reason, intent_id=intent))

    async def record_fill(
        self, fill: Fill, *, intent_id: IntentId | None, predicted_bps: Decimal | None,
        actual_bps: Decimal | None, fill_prediction: Mapping[str, str] | None = None,
    ) -> bool:
        """Record ``fill``; False when its execution id was journaled before (a duplicate)."""
        return await self.ask(RecordFill(fill=fill, intent_id=intent_id,
                                         predicted_bps=predicted_bps, actual_bps=actual_bps,
                                         fill_prediction=fill_prediction))

    async def record_blocked(self, request: OrderRequest, *, denials: list[str]) -> None:
        await self.ask(RecordBlocked(request=request, denials=tuple(denials)))

    async def record_note(self, what: NoteKind, **details: Any) -> None:
        await self.ask(RecordNote(what=what, details=details))
