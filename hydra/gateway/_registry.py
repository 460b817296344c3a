"""What the gateway remembers across connections: which client ids are connected, each client
id's attachment to the exchange, and every order by IB's (client id, order id) and by the
exchange's client order id. Synchronous; one per gateway.

A client id is attached to the exchange once, on its first connection, and stays attached, so
orders a client placed keep their owner across its disconnects; the exchange's events for a
client id go to whichever connection holds that id now, and are dropped while none does (the
snapshots — open orders, positions, executions — still hold everything).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from decimal import Decimal

import attrs

from .._ids import ClientOrderId
from ..brokers import BrokerEvent, FillReported, OrderAcknowledged, OrderStatusChanged
from ..sim import SimExchange
from ._catalog import Catalog, Listing
from ._order import IBOrder
from ._past import Past

EventSink = Callable[[BrokerEvent], None]

_FIRST_PERM_ID = 1_000_001


@attrs.define(kw_only=True)
class OrderRecord:
    """One IB order as the gateway knows it: the order as accepted (replaced when modified)
    and its life since (mutable: it follows the order)."""

    key: ClientOrderId  # the exchange's
    client_id: int
    order_id: int
    listing: Listing
    order: IBOrder
    perm_id: int = 0
    status: str = "PendingSubmit"
    filled: int = 0
    average_fill_price: Decimal = Decimal(0)
    last_fill_price: Decimal = Decimal(0)
    executions: set[str] = attrs.field(factory=set)  # ids already counted in ``filled``
    completed_time: str = ""  # IB date-time text of when it finished

    @property
    def remaining(self) -> int:
        return max(0, self.order.contracts - self.filled)

    @property
    def is_done(self) -> bool:
        return self.status in ("Filled", "Cancelled", "ApiCancelled", "Inactive")


class Registry:
    """The gateway's memory; sessions share it, the exchange's sinks route through it."""

    def __init__(self, exchange: SimExchange, catalog: Catalog, *, account: str) -> None:
        self.exchange = exchange
        self.catalog = catalog
        self.account = account
        self._live: dict[int, EventSink] = {}
        self._attached: dict[int, int] = {}
        self._by_key: dict[ClientOrderId, OrderRecord] = {}
        self._by_ib: dict[tuple[int, int], OrderRecord] = {}
        self._perm_ids = itertools.count(_FIRST_PERM_ID)
        self._pasts: dict[Listing, Past] = {}

    # --- client ids ---------------------------------------------------------------------------

    def claim(self, client_id: int, sink: EventSink) -> int | None:
        """Mark ``client_id`` connected, its events going to ``sink``; the exchange client it
        acts as, or None when the id is already in use."""
        if client_id in self._live:
            return None
        self._live[client_id] = sink
        if client_id not in self._attached:
            route = functools.partial(self._route, client_id)
            self._attached[client_id] = self.exchange.attach(route)
        return self._attached[client_id]

    def release(self, client_id: int, sink: EventSink) -> None:
        """``client_id``'s connection (the one with ``sink``) has gone."""
        if self._live.get(client_id) == sink:  # bound methods: equal, not identical
            del self._live[client_id]

    @property
    def connected_clients(self) -> tuple[int, ...]:
        return tuple(sorted(self._live))

    def _route(self, client_id: int, event: BrokerEvent) -> None:
        """An order's status, acknowledgement and fills go to the client that placed it (the
        exchange reports a cancel to whoever cancelled, as in a global cancel); the rest to
        ``client_id``."""
        match event:
            case OrderStatusChanged(client_order_id=key) | OrderAcknowledged(client_order_id=key):
                record = self._by_key.get(key)
            case FillReported(fill=fill):
                record = self._by_key.get(fill.client_order_id)
            case _:
                record = None
        sink = self._live.get(record.client_id if record is not None else client_id)
        if sink is not None:
            sink(event)

    # --- history ------------------------------------------------------------------------------

    def past(self, listing: Listing) -> Past:
        """The market's past before the session (generated as far as asked, and kept)."""
        past = self._pasts.get(listing)
        if past is None:
            exchange = self.exchange
            params = next(
                m for m in exchange.params.markets
                if self.catalog.for_contract(m.contract) == listing
            )  # fmt: skip
            _, bid, ask = exchange.touches(listing.spec)[0]
            tick = listing.spec.tick_size
            past = Past(
                params,
                seed=f"{exchange.seed}:{listing.wire.local_symbol}",
                opening=exchange.params.session_start.timestamp(),
                bid=int(bid / tick),
                ask=int(ask / tick),
            )
            self._pasts[listing] = past
        return past

    # --- orders -------------------------------------------------------------------------------

    def new_key(self, client_id: int, order_id: int, order_ref: str) -> ClientOrderId:
        """The exchange's key for a new order: its orderRef when no other order has it."""
        if order_ref and ClientOrderId(order_ref) not in self._by_key:
            return ClientOrderId(order_ref)
        base = f"ib.{client_id}.{order_id}"
        for n in itertools.count():
            key = ClientOrderId(base if n == 0 else f"{base}.{n}")
            if key not in self._by_key:
                return key
        raise AssertionError("unreachable")

    def add(self, record: OrderRecord) -> None:
        """Remember a new order; it gets its permanent id (IB's permId) now."""
        record.perm_id = next(self._perm_ids)
        self._by_key[record.key] = record
        self._by_ib[record.client_id, record.order_id] = record

    def by_ib(self, client_id: int, order_id: int) -> OrderRecord | None:
        return self._by_ib.get((client_id, order_id))

    def by_key(self, key: ClientOrderId) -> OrderRecord | None:
        return self._by_key.get(key)

    def orders(self) -> Iterator[OrderRecord]:
        return iter(self._by_key.values())

    def next_order_id(self, client_id: int) -> int:
        """One above the highest order id ``client_id`` has used (1 for a new client)."""
        used = [order_id for (client, order_id) in self._by_ib if client == client_id]
        return max(used, default=0) + 1
