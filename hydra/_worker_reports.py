"""How a worker hands back the report of each order it worked: over a channel, not a list.

A worker (a patience ladder, a TWAP, a restart's adopted orders) sends each order's
`ChildOrderReport` when the order is over, cancelled workers too, so the intent's report
accounts for every order sent. An order whose worker was stopped while its cancel was held
for the broker link is not over (it may still fill): the worker sends the order itself
(`Unsettled`), and the intent waits for its end (`wait_settled`) before it reports. The
channel is unbounded: a worker sends with ``send_nowait`` from its ``finally`` and never
waits on the router, which reads what came once the worker is done (`collected`).
"""

from __future__ import annotations

import math
from typing import Protocol

import trio

from ._reports import ChildOrderReport


class Unsettled(Protocol):
    """An order still Hydra's when its worker stopped (its cancel held for the link)."""

    async def wait_over(self) -> None:
        """Until the broker has ended the order (or its cancel, sent at last, went
        unconfirmed)."""

    def report(self) -> ChildOrderReport:
        """The order's report as it stands: final once ``wait_over`` has returned."""


Worked = ChildOrderReport | Unsettled
"""What a worker sends for one order: its report, or the order whose end is still to come."""

Reports = trio.MemorySendChannel[Worked]
"""Where a worker sends the report of each order it worked."""


def open_reports() -> tuple[Reports, trio.MemoryReceiveChannel[Worked]]:
    """A channel for one intent's order reports (unbounded: sending never waits)."""
    return trio.open_memory_channel[Worked](math.inf)


def collected(receive: trio.MemoryReceiveChannel[Worked]) -> list[Worked]:
    """Everything sent so far, in the order sent (the worker is over: nothing is waited
    for)."""
    found = []
    while True:
        try:
            found.append(receive.receive_nowait())
        except (trio.WouldBlock, trio.EndOfChannel):
            return found


async def wait_settled(worked: list[Worked]) -> None:
    """Wait for the end of every unsettled order in ``worked`` (cancelled when Hydra closes
    first: the orders are then reported as they stand, their cancel held)."""
    for order in worked:
        if not isinstance(order, ChildOrderReport):
            await order.wait_over()


def reports_of(worked: list[Worked]) -> list[ChildOrderReport]:
    """The report of each order in ``worked``, as it stands."""
    return [o if isinstance(o, ChildOrderReport) else o.report() for o in worked]
