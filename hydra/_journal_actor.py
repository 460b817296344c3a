"""The journal actor: the single writer of the journal, and the typed client other actors use.

Each write is answered only after it is committed, so ``await journal.record_order(...)``
returning means the order is on disk: that is the write-ahead rule. SQLite work runs through
``offload`` — `trio.to_thread.run_sync` in production; tests on the autojump clock pass an
inline runner, because virtual time would jump ahead while a worker thread is busy.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import attrs
import structlog
import trio

from ._audit import AuditLog
from ._enums import OrderStatus
from ._ids import BrokerOrderId, ClientOrderId, IntentId
from ._journal import Journal
from ._orders import Fill, OrderIntent, OrderRequest

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
    """One write: the journal call, what the audit line says, and where to answer."""

    write: Callable[[Journal], Any]
    audit: dict[str, Any]
    reply: trio.MemorySendChannel[Any]


async def run_journal(
    inbox: trio.MemoryReceiveChannel[JournalWrite],
    *,
    journal: Journal,
    audit: AuditLog | None,
    offload: Offload = run_in_thread,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Apply writes in arrival order, one at a time, until every writer has closed its end."""
    task_status.started()
    async with inbox:
        async for message in inbox:
            result = await offload(functools.partial(message.write, journal))
            if audit is not None:
                audit.write(**message.audit)
            message.reply.send_nowait(result)


class JournalClient:
    """Awaitable, typed writes to the journal actor. Each call returns once committed."""

    def __init__(self, outbox: trio.MemorySendChannel[JournalWrite]) -> None:
        self._outbox = outbox

    def clone(self) -> JournalClient:
        return JournalClient(self._outbox.clone())

    async def aclose(self) -> None:
        await self._outbox.aclose()

    async def _write(self, write: Callable[[Journal], T], what: str, correlation: str | None,
                     **details: Any) -> T:
        send, receive = trio.open_memory_channel[Any](1)  # one answer, sent without waiting
        audit = {"what": what, "correlation_id": correlation, **details}
        await self._outbox.send(JournalWrite(write=write, audit=audit, reply=send))
        result: T = await receive.receive()
        return result

    async def record_intent(
        self, intent: OrderIntent, *, arrival_mid: Decimal, predicted_bps: Decimal | None
    ) -> None:
        await self._write(
            lambda j: j.record_intent(intent, arrival_mid=arrival_mid, predicted_bps=predicted_bps),
            "intent", intent.intent_id, intent=intent, arrival_mid=arrival_mid,
        )

    async def record_order(self, request: OrderRequest, *, dry: bool = False) -> None:
        await self._write(lambda j: j.record_order(request, dry=dry), "order",
                          request.intent_id, request=request, dry=dry)

    async def record_ack(
        self, client_order_id: ClientOrderId, broker_order_id: BrokerOrderId, intent: str | None
    ) -> None:
        await self._write(lambda j: j.record_ack(client_order_id, broker_order_id), "ack",
                          intent, client_order_id=client_order_id, broker_order_id=broker_order_id)

    async def record_status(
        self, client_order_id: ClientOrderId, status: OrderStatus, *, reason: str | None,
        intent: str | None,
    ) -> None:
        await self._write(lambda j: j.record_status(client_order_id, status, reason=reason),
                          "status", intent, client_order_id=client_order_id, status=status,
                          reason=reason)

    async def record_fill(
        self, fill: Fill, *, intent_id: IntentId | None, predicted_bps: Decimal | None,
        actual_bps: Decimal | None,
    ) -> bool:
        """Record ``fill``; False when its execution id was journaled before (a duplicate)."""
        return await self._write(
            lambda j: j.record_fill(fill, intent_id=intent_id, predicted_bps=predicted_bps,
                                    actual_bps=actual_bps),
            "fill", intent_id, fill=fill, actual_bps=actual_bps,
        )

    async def record_blocked(self, request: OrderRequest, *, denials: list[str]) -> None:
        await self._write(lambda j: j.record_blocked(request, denials=denials), "blocked",
                          request.intent_id, request=request, denials=denials)

    async def record_note(self, what: str, **details: Any) -> None:
        await self._write(lambda j: j.record_note(what, **details), what, None, **details)

    async def read(self, query: Callable[[Journal], T]) -> T:
        """Run a read-only ``query`` on the journal, in order with the writes."""
        return await self._write(query, "read", None)
