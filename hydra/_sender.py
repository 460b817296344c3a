"""The sender: the one task that holds the broker's order entry and IB's pacing bucket.

The risk actor hands it transmits without waiting; it sends them one at a time, each after a
token of the pacing bucket, cancels before new orders and modifications, and tells the risk
actor what became of each (`Dispatched`). An order withdrawn before its turn is never sent,
nor a modification still waiting when its order's cancel comes.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from decimal import Decimal
from typing import Generic, TypeVar

import attrs
import structlog
import trio

from ._core._pacing import TokenBucket
from ._core._risk_messages import Action, Dispatched, Outcome
from ._errors import BrokerConnectionError
from ._ids import ClientOrderId
from ._orders import OrderRequest
from .brokers import OrderEntry

log = structlog.get_logger()

T = TypeVar("T")


class TwoLanes(Generic[T]):
    """A queue with an urgent lane served before the normal one; putting never waits."""

    def __init__(self) -> None:
        self._urgent: collections.deque[T] = collections.deque()
        self._normal: collections.deque[T] = collections.deque()
        self._wake = trio.Event()

    def put_nowait(self, item: T, *, urgent: bool = False) -> None:
        (self._urgent if urgent else self._normal).append(item)
        self._wake.set()

    async def wait_ready(self) -> None:
        """Return once an item is waiting (at once if one is)."""
        while not (self._urgent or self._normal):
            self._wake = trio.Event()
            await self._wake.wait()

    def get_nowait(self) -> T:
        return self._urgent.popleft() if self._urgent else self._normal.popleft()

    async def get(self) -> T:
        await self.wait_ready()
        return self.get_nowait()

    def __len__(self) -> int:
        return len(self._urgent) + len(self._normal)

    def holds(self, match: Callable[[T], bool]) -> bool:
        """True when an item waiting in either lane matches."""
        return any(map(match, self._urgent)) or any(map(match, self._normal))


@attrs.frozen(kw_only=True)
class Transmission:
    """One call to the broker's order entry."""

    action: Action
    client_order_id: ClientOrderId
    request: OrderRequest | None = None  # for a placement
    limit_price: Decimal | None = None  # for a modification


class SendQueue:
    """What waits for the sender, and which of it was withdrawn."""

    def __init__(self) -> None:
        self.lanes = TwoLanes[Transmission]()
        self._withdrawn: set[ClientOrderId] = set()
        self._modify_withdrawn: set[ClientOrderId] = set()

    def place(self, request: OrderRequest) -> None:
        self.lanes.put_nowait(Transmission(action=Action.PLACE,
                                           client_order_id=request.client_order_id,
                                           request=request))

    def modify(self, client_order_id: ClientOrderId, limit_price: Decimal) -> None:
        self.lanes.put_nowait(Transmission(action=Action.MODIFY, client_order_id=client_order_id,
                                           limit_price=limit_price))

    def cancel(self, client_order_id: ClientOrderId) -> None:
        """Queue a cancel ahead of placements and modifications; a modification of the same
        order still waiting is withdrawn (it would reach the broker after the cancel)."""
        if self.lanes.holds(lambda t: t.action is Action.MODIFY
                            and t.client_order_id == client_order_id):
            self._modify_withdrawn.add(client_order_id)
        self.lanes.put_nowait(Transmission(action=Action.CANCEL,
                                           client_order_id=client_order_id), urgent=True)

    def withdraw(self, client_order_id: ClientOrderId) -> None:
        self._withdrawn.add(client_order_id)

    def take_withdrawn(self, item: Transmission) -> bool:
        """True (once) when ``item`` is a placement withdrawn before its turn, or a
        modification whose order's cancel was queued after it."""
        withdrawn = {Action.PLACE: self._withdrawn, Action.MODIFY: self._modify_withdrawn}.get(
            item.action, set())
        if item.client_order_id in withdrawn:
            withdrawn.discard(item.client_order_id)
            return True
        return False

    def sent(self, item: Transmission) -> None:
        self._withdrawn.discard(item.client_order_id)  # too late to withdraw: it went


async def _call(entry: OrderEntry, item: Transmission) -> None:
    if item.action is Action.PLACE:
        assert item.request is not None
        await entry.place(item.request)
    elif item.action is Action.MODIFY:
        assert item.limit_price is not None
        await entry.modify(item.client_order_id, limit_price=item.limit_price)
    else:
        await entry.cancel(item.client_order_id)


async def run_sender(
    queue: SendQueue,
    *,
    entry: OrderEntry,
    bucket: TokenBucket,
    report: trio.MemorySendChannel[Dispatched],
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Send what the queue holds, paced, until cancelled; report each outcome."""
    task_status.started()
    async with report:
        while True:
            await queue.lanes.wait_ready()
            await trio.sleep(bucket.wait_for_token(trio.current_time()))
            item = queue.lanes.get_nowait()  # chosen after the wait: a cancel may have come
            if queue.take_withdrawn(item):
                await report.send(Dispatched(client_order_id=item.client_order_id,
                                             action=item.action, outcome=Outcome.WITHDRAWN))
                continue
            bucket = bucket.take(trio.current_time())
            outcome, error = Outcome.SENT, None
            try:
                await _call(entry, item)
            except BrokerConnectionError as e:
                outcome, error = Outcome.LINK_DOWN, str(e)
                log.warning("not_sent", action=item.action.value,
                            client_order_id=item.client_order_id, error=error)
            queue.sent(item)
            await report.send(Dispatched(client_order_id=item.client_order_id,
                                         action=item.action, outcome=outcome,
                                         limit_price=item.limit_price, error=error))
