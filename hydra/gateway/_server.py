"""The Trio server: TCP on 127.0.0.1, one task per connection, the sans-I/O parts inside.

A connection runs the handshake, claims its client id (error 326 and close when it is taken),
then tasks share it: the reader (frames → `Session.handle`), the event pump (exchange events →
`Session.on_event`) and one quote pump per market data subscription, which waits for the
exchange to say the quote changed (`SimExchange.wait_quote_changed`) and sends `Session.ticks`.
Only the connection boundary catches errors: a protocol error (`WireError`), a broken socket or
a bug in one connection's handling closes that connection with a logged reason, never the
gateway.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Awaitable, Callable, Iterable
from typing import NoReturn

import attrs
import structlog
import trio

from ..brokers import BrokerEvent
from ..sim import SimExchange
from ._catalog import Catalog, Listing
from ._handshake import API_MAGIC, negotiate, parse_version_range, server_hello
from ._pumps import Running, follow_streams
from ._registry import Registry
from ._replies import ErrorMessage, ManagedAccounts, NextValidId, Reply, encode_reply
from ._requests import StartApi, parse_request
from ._session import Session
from ._wire import FrameDecoder, WireError, decode_payload

log = structlog.get_logger()

DEFAULT_ACCOUNT = "DU1234567"
"""The simulated account id (IB paper accounts start with DU)."""

_RECEIVE_BYTES = 65_536

_Sender = Callable[[Iterable[Reply]], Awaitable[None]]


@attrs.frozen(kw_only=True)
class GatewayStatistics:
    """Counts since the gateway started."""

    connections: int
    open_connections: int
    clients: tuple[int, ...]
    closed_for_errors: int
    drops: int


class _Closed(Exception):
    """The peer closed its side between frames."""


class Gateway:
    """A running simulated gateway: where it listens, and its fault switch."""

    def __init__(self, registry: Registry, *, port: int, quote_interval: float = 0.0) -> None:
        """``quote_interval`` is accepted for compatibility and ignored: quotes are pushed."""
        self.port = port
        self._registry = registry
        self._scopes: set[trio.CancelScope] = set()
        self._connections = self._errors = self._drops = 0

    def drop_all_connections(self, reason: str = "fault switch") -> None:
        """Close every client connection now (clients may reconnect; orders stay)."""
        self._drops += 1
        log.warning("gateway_dropping_connections", count=len(self._scopes), reason=reason)
        for scope in list(self._scopes):
            scope.cancel(reason=f"gateway dropped all connections: {reason}")

    def statistics(self) -> GatewayStatistics:
        return GatewayStatistics(
            connections=self._connections,
            open_connections=len(self._scopes),
            clients=self._registry.connected_clients,
            closed_for_errors=self._errors,
            drops=self._drops,
        )

    # --- one connection -----------------------------------------------------------------------

    async def serve_connection(self, stream: trio.SocketStream) -> None:
        """Serve one client until it leaves, breaks the protocol, or is dropped."""
        self._connections += 1
        peer = _peer(stream)
        with trio.CancelScope() as scope, structlog.contextvars.bound_contextvars(peer=peer):
            self._scopes.add(scope)
            try:
                await self._converse(stream)
            except* WireError as group:
                self._errors += 1
                log.warning("gateway_connection_closed", reason=_reasons(group))
            except* (trio.BrokenResourceError, trio.ClosedResourceError) as group:
                log.info("gateway_connection_lost", reason=_reasons(group))
            except* _Closed:
                log.info("gateway_client_left")
            except* Exception as group:  # the connection boundary: a bug must not stop the gateway
                self._errors += 1
                log.error("gateway_connection_failed", exc_info=group)
            finally:
                self._scopes.discard(scope)
                with trio.move_on_after(1) as cleanup:
                    cleanup.shield = True
                    await stream.aclose()
        if scope.cancelled_caught:
            log.info("gateway_connection_dropped")

    async def _converse(self, stream: trio.SocketStream) -> None:
        decoder = FrameDecoder(magic=API_MAGIC)
        version = negotiate(parse_version_range(await _next_payload(stream, decoder)))
        now = self._registry.exchange.timestamp(trio.current_time())
        await stream.send_all(server_hello(version, now.astimezone(dt.UTC)))
        request = parse_request(await _next_frame(stream, decoder))
        if not isinstance(request, StartApi):
            raise WireError(f"expected startApi (71) after the handshake, got {request!r}")
        # Unbounded: the exchange is one task serving every client and must never block on a
        # slow reader; this connection drains it at its own pace (SimBroker does the same).
        send_event, receive_event = trio.open_memory_channel[BrokerEvent](math.inf)
        exchange_client = self._registry.claim(request.client_id, send_event.send_nowait)
        if exchange_client is None:
            log.warning("gateway_client_id_in_use", client_id=request.client_id)
            await _send(stream, refusal_in_use(request.client_id, self._registry.account))
            return
        try:
            with structlog.contextvars.bound_contextvars(client_id=request.client_id):
                log.info("gateway_client_connected")
                session = Session(
                    self._registry, client_id=request.client_id, exchange_client=exchange_client
                )
                await self._run_session(stream, decoder, session, receive_event)
        finally:
            self._registry.release(request.client_id, send_event.send_nowait)

    async def _run_session(
        self,
        stream: trio.SocketStream,
        decoder: FrameDecoder,
        session: Session,
        events: trio.MemoryReceiveChannel[BrokerEvent],
    ) -> None:
        lock = trio.StrictFIFOLock()

        async def send(replies: Iterable[Reply]) -> None:
            async with lock:
                await _send(stream, replies)

        await send(session.startup())
        feeds: dict[int, tuple[Listing, trio.CancelScope]] = {}
        running: Running = {}
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_pump_events, events, session, send)
            while True:
                frame = await _next_frame(stream, decoder)
                refusal = session.admit()
                if refusal is not None:
                    await send(refusal)
                    continue
                await send(await session.answer(parse_request(frame)))
                await _follow_subscriptions(nursery, feeds, session, send, self._registry.exchange)
                await follow_streams(nursery, running, session, send)


async def _pump_events(
    events: trio.MemoryReceiveChannel[BrokerEvent], session: Session, send: _Sender
) -> None:
    """Exchange events to replies; account updates once a burst of events has been read."""
    async for event in events:
        replies = session.on_event(event)
        if events.statistics().current_buffer_used == 0:
            replies += session.account_updates()
        await send(replies)


async def _follow_subscriptions(
    nursery: trio.Nursery,
    feeds: dict[int, tuple[Listing, trio.CancelScope]],
    session: Session,
    send: _Sender,
    exchange: SimExchange,
) -> None:
    """Start a quote pump for each new subscription, stop those cancelled or replaced."""
    wanted = session.market.subscriptions
    for ticker_id, (listing, scope) in list(feeds.items()):
        if wanted.get(ticker_id) != listing:
            scope.cancel(reason=f"market data {ticker_id} cancelled")
            del feeds[ticker_id]
    for ticker_id, listing in wanted.items():
        if ticker_id not in feeds:
            pump = functools.partial(_pump_quotes, session, ticker_id, listing, send, exchange)
            feeds[ticker_id] = listing, await nursery.start(pump)


async def _pump_quotes(
    session: Session,
    ticker_id: int,
    listing: Listing,
    send: _Sender,
    exchange: SimExchange,
    *,
    task_status: trio.TaskStatus[trio.CancelScope] = trio.TASK_STATUS_IGNORED,
) -> None:
    """One subscription's ticks, sent whenever the exchange's quote changes."""
    with trio.CancelScope() as scope:
        task_status.started(scope)
        while (since := session.market.last_sent(ticker_id)) is not None:
            await exchange.wait_quote_changed(listing.spec, since)
            replies = session.market.ticks(ticker_id)
            if replies:
                await send(replies)


async def _send(stream: trio.SocketStream, replies: Iterable[Reply]) -> None:
    data = b"".join(encode_reply(reply) for reply in replies)
    if data:
        await stream.send_all(data)


async def _next_frame(stream: trio.SocketStream, decoder: FrameDecoder) -> tuple[str, ...]:
    """The next frame's fields from the client."""
    return decode_payload(await _next_payload(stream, decoder))


async def _next_payload(stream: trio.SocketStream, decoder: FrameDecoder) -> bytes:
    """The next frame's payload from the client; end of stream is `_Closed` (or a `WireError`
    when it ends inside a frame)."""
    while True:
        payload = decoder.next_payload()
        if payload is not None:
            return payload
        data = await stream.receive_some(_RECEIVE_BYTES)
        if not data:
            decoder.end_of_input()
            raise _Closed
        decoder.feed(data)


def refusal_in_use(client_id: int, account: str) -> list[Reply]:
    """Error 326, then what ends a client's wait for the API: ib_async's connect waits for
    nothing but managedAccounts and nextValidId, so after IB's 326 alone it would wait out its
    whole time-out; with them it goes on, finds the connection closed and fails at once."""
    message = (
        f"Unable to connect as the client id {client_id} is already in use. "
        "Retry with a unique client id."
    )
    return [
        ErrorMessage(req_id=-1, code=326, message=message),
        ManagedAccounts(accounts=(account,)),
        NextValidId(order_id=1),
    ]


def _reasons(group: BaseExceptionGroup[Exception]) -> str:
    """The reasons in a group of connection errors, as one line."""
    return "; ".join(e.reason if isinstance(e, WireError) else repr(e) for e in _leaves(group))


def _leaves(group: BaseExceptionGroup[Exception]) -> list[Exception]:
    leaves: list[Exception] = []
    for e in group.exceptions:
        leaves += _leaves(e) if isinstance(e, BaseExceptionGroup) else [e]
    return leaves


def _peer(stream: trio.SocketStream) -> str:
    try:
        host, port, *_ = stream.socket.getpeername()
    except OSError:
        return "?"
    return f"{host}:{port}"


async def serve_gateway(
    exchange: SimExchange,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    account: str = DEFAULT_ACCOUNT,
    quote_interval: float = 0.25,
    drop_at: float | None = None,
    hours: bool = True,
    task_status: trio.TaskStatus[Gateway] = trio.TASK_STATUS_IGNORED,
) -> NoReturn:
    """Serve ``exchange`` over the TWS API on ``host``:``port`` (0: any free port) until
    cancelled. Reports the running `Gateway` (its ``port``, its fault switch) when listening.

    ``quote_interval`` is ignored (kept for compatibility): quotes are sent when they change;
    ``drop_at`` drops every connection once, that many seconds after the gateway started;
    ``hours`` False serves contract details without trading hours (a market that a client
    cannot see close).
    """
    catalog = Catalog(
        (market.contract for market in exchange.params.markets),
        today=exchange.params.session_start.date(),
        hours=hours,
        clock=lambda: exchange.timestamp(trio.current_time()).date(),
    )
    registry = Registry(exchange, catalog, account=account)
    listeners = await trio.open_tcp_listeners(port, host=host)
    bound = listeners[0].socket.getsockname()[1]
    gateway = Gateway(registry, port=bound, quote_interval=quote_interval)
    log.info("gateway_listening", host=host, port=bound, account=account)
    async with trio.open_nursery() as nursery:
        if drop_at is not None:
            nursery.start_soon(_drop_at, gateway, trio.current_time() + drop_at)
        task_status.started(gateway)
        await trio.serve_listeners(gateway.serve_connection, listeners, handler_nursery=nursery)
    raise AssertionError("serve_listeners returned")


async def _drop_at(gateway: Gateway, deadline: float) -> None:
    await trio.sleep_until(deadline)
    gateway.drop_all_connections(reason="scheduled drop (--drop-at)")
