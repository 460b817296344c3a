"""Which broker a rehearsal trades through: the simulated TCP gateway, or the exchange in-process.

``gateway`` is ``hydra run --sim``'s path: `hydra.gateway.serve_gateway` serves the simulated
exchange over the TWS protocol on 127.0.0.1 and Hydra talks to it through `hydra.ib.IBBroker`
(ib_async inside trio-asyncio), both in the one Trio run. ``in-process`` (the default) is
`hydra.sim.SimBroker` on the same exchange: no sockets, no asyncio, under a third of the
gateway's CPU.

Both keep Trio's virtual clock (`trio.testing.MockClock` with ``autojump_threshold=0``) honest.
The clock jumps only when no task can run and an I/O poll with a zero timeout finds nothing
ready; on the loopback interface a ``send`` has put its bytes in the peer's receive buffer by
the time it returns, so a reply already written is readable at that poll and the clock does not
jump past it. A threshold above zero is not needed, and would cost that much real time at every
one of the run's tens of thousands of jumps. Measured (BENCHMARKS.md, "Four weeks rehearsed"):
through the gateway every order's ack arrives exactly the exchange's ack latency after the
order, as in-process; two runs of a seed journal the same fills at the same instants, at a load
average of 7 on two CPUs; no ib_async request timed out. What would break it is work off the
Trio thread: a journal written through a worker thread, or a strategy hook run in one, lets the
clock move on while the thread works, so a rehearsal writes its journal inline and its own
hooks are ``async def``.

The paths differ where IB does: a fill's commission comes in a later report than the fill
(the risk book adds it to that trade's loss then), and IB streams only a quote's changes (a
still market's quote is current while IB's feed vouches for it, `hydra.ib._feed`).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from ._settings import BrokerSettings
from .brokers import Broker
from .gateway import serve_gateway
from .ib import open_ib_broker
from .sim import SimBroker, SimExchange


class BrokerKind(enum.StrEnum):
    """How a rehearsal reaches its simulated exchange."""

    IN_PROCESS = "in-process"
    GATEWAY = "gateway"


@asynccontextmanager
async def open_rehearsal_broker(exchange: SimExchange, kind: BrokerKind, *,
                                settings: BrokerSettings) -> AsyncIterator[Broker]:
    """A broker on ``exchange``: through a gateway served here on a free port of 127.0.0.1
    (``settings`` give the client id and the reconnect backoff), or in-process."""
    if kind is BrokerKind.IN_PROCESS:
        yield SimBroker(exchange, client_id=settings.client_id)
        return
    async with trio.open_nursery() as nursery:
        gateway = await nursery.start(functools.partial(serve_gateway, exchange, port=0))
        served = BrokerSettings(host="127.0.0.1", port=gateway.port,
                                client_id=settings.client_id, backoff=settings.backoff)
        async with open_ib_broker(served) as broker:
            yield broker
        nursery.cancel_scope.cancel(reason="the rehearsal's session is over")
