"""How a worker hands back the report of each order it worked: over a channel, not a list.

A worker (a patience ladder, a TWAP, a restart's adopted orders) sends each order's
`ChildOrderReport` when the order is over, cancelled workers too, so the intent's report
accounts for every order sent. The channel is unbounded: a worker sends with ``send_nowait``
from its ``finally`` and never waits on the router, which reads what came once the worker is
done (`collected`).
"""

from __future__ import annotations

import math

import trio

from ._reports import ChildOrderReport

Reports = trio.MemorySendChannel[ChildOrderReport]
"""Where a worker sends the report of each order it worked."""


def open_reports() -> tuple[Reports, trio.MemoryReceiveChannel[ChildOrderReport]]:
    """A channel for one intent's order reports (unbounded: sending never waits)."""
    return trio.open_memory_channel[ChildOrderReport](math.inf)


def collected(receive: trio.MemoryReceiveChannel[ChildOrderReport]) -> list[ChildOrderReport]:
    """Every report sent so far, in the order sent (the worker is over: nothing is waited
    for)."""
    found = []
    while True:
        try:
            found.append(receive.receive_nowait())
        except (trio.WouldBlock, trio.EndOfChannel):
            return found
