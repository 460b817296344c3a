"""The engine's event fan-out: every subscriber gets every engine event, in order."""

from __future__ import annotations

import math

import attrs
import trio

from ._enums import TradingState
from ._messages import (
    EngineEvent,
    FillRecorded,
    SessionChanged,
    TradingStateChanged,
)


@attrs.frozen(kw_only=True)
class Subscribe:
    """Add ``channel`` to the subscribers."""

    channel: trio.MemorySendChannel[EngineEvent]


@attrs.define
class EngineView:
    """What the publisher has seen: the source of `Engine.statistics()`."""

    trading_state: TradingState = TradingState.ACTIVE
    session_up: bool = True
    fills: int = 0
    filled_quantity: int = 0


def _observe(view: EngineView, event: EngineEvent) -> None:
    match event:
        case TradingStateChanged():
            view.trading_state = event.state
        case SessionChanged():
            view.session_up = event.up
        case FillRecorded():
            view.fills += 1
            view.filled_quantity += event.fill.quantity


def open_subscription() -> tuple[Subscribe, trio.MemoryReceiveChannel[EngineEvent]]:
    # Unbounded: a slow subscriber must never hold up the engine; it reads at its own pace.
    send, receive = trio.open_memory_channel[EngineEvent](math.inf)
    return Subscribe(channel=send), receive


async def run_publisher(
    inbox: trio.MemoryReceiveChannel[EngineEvent | Subscribe],
    *,
    view: EngineView,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Fan events out to subscribers until the inbox closes; then close every subscription."""
    subscribers: list[trio.MemorySendChannel[EngineEvent]] = []
    task_status.started()
    try:
        async with inbox:
            async for message in inbox:
                if isinstance(message, Subscribe):
                    subscribers.append(message.channel)
                    continue
                _observe(view, message)
                for channel in list(subscribers):
                    try:
                        channel.send_nowait(message)
                    except trio.BrokenResourceError:  # the subscriber closed its end
                        subscribers.remove(channel)
    finally:
        for channel in subscribers:
            channel.close()
