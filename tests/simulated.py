"""Shared set-up for tests that run Hydra on the simulated exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import trio

from hydra import HydraConfig
from hydra._contracts import ContractSpec
from hydra._core._risk_checks import Denial
from hydra._engine import Engine
from hydra._enums import OrderStatus
from hydra._ids import ClientOrderId, unstamped
from hydra._journal import EventKind, Journal
from hydra._journal_actor import run_inline
from hydra._messages import (
    Blocked,
    CancelOrder,
    ModifyOrder,
    PlaceOrder,
    RiskMessage,
    Sent,
    StageBegun,
)
from hydra._open_hydra import open_hydra
from hydra._orders import OrderRequest
from hydra._router import IntentHandle
from hydra.brokers import BrokerEvent, FillReported
from hydra.sim import DisplayedSize, MarketParams, SimBroker, SimExchange, SimParams


def quiet_oats(*, spread_ticks: int = 2, **changes: Any) -> SimParams:
    """Oats with no random flow and no random walk, and the old model's book (instant
    requotes, 5 lots at every level, no crowd events, no burn-in, our trades leave the mid
    alone): only what a test scripts happens."""
    market = MarketParams.oats(
        adv=0,
        daily_volatility=0.0,
        spread_ticks=((spread_ticks, 1.0),),
        displayed_size=DisplayedSize.fixed(5),
    ).legacy()
    return SimParams(markets=(attrs.evolve(market, **changes),))


def still_oats(*, spread_ticks: int = 1, **changes: Any) -> SimParams:
    """Oats at 350.00 / 350.25 (one tick) with 5 lots at every level, no random flow, and a
    mid that not even our own trades move."""
    return quiet_oats(spread_ticks=spread_ticks, impact_ticks_per_lot=0.0, **changes)


@asynccontextmanager
async def open_engine(
    exchange: SimExchange, journal: Path, config: HydraConfig | None = None, **kwargs: Any
) -> AsyncIterator[Engine]:
    """Hydra on a new SimBroker of ``exchange``, journal stamped with simulated time."""
    # A worker thread would let the virtual clock jump while a write is in progress.
    kwargs.setdefault("offload", run_inline)
    async with open_hydra(
        config or HydraConfig(),
        SimBroker(exchange, client_id=1),  # as Hydra's trading client id at IB
        journal_path=journal,
        clock=lambda: exchange.timestamp(trio.current_time()),
        **kwargs,
    ) as engine:
        yield engine


@attrs.define
class FakeRisk:
    """The risk actor's part in a worker test, as a fake: every request goes straight to the
    broker and is recorded with its virtual time; an order over ``max_order_quantity``, or
    any after the first ``allow`` orders, is blocked."""

    broker: SimBroker
    max_order_quantity: int | None = None
    allow: int | None = None
    placed: list[tuple[float, OrderRequest]] = attrs.Factory(list)
    modified: list[tuple[float, ClientOrderId, Decimal]] = attrs.Factory(list)
    cancelled: list[tuple[float, ClientOrderId]] = attrs.Factory(list)
    told: list[tuple[float, StageBegun]] = attrs.Factory(list)  # each ladder stage begun
    owners: dict[ClientOrderId, trio.MemorySendChannel[BrokerEvent]] = attrs.Factory(dict)

    def prices(self) -> list[Decimal]:
        """Every limit price sent, placed or modified, in order."""
        sent = [(t, r.limit_price) for t, r in self.placed]
        sent += [(t, price) for t, _, price in self.modified]
        return [price for _, price in sorted(sent, key=lambda pair: pair[0])]

    def _denials(self, request: OrderRequest) -> tuple[Denial, ...]:
        limit = self.max_order_quantity
        if limit is not None and request.quantity > limit:
            return (Denial(field="order_quantity", value=request.quantity, limit=limit),)
        if self.allow is not None and len(self.placed) >= self.allow:
            return (Denial(field="trading_state", value="HALTED", limit="ACTIVE"),)
        return ()

    async def serve(self, inbox: trio.MemoryReceiveChannel[RiskMessage]) -> None:
        async for message in inbox:
            now = trio.current_time()
            match message:
                case PlaceOrder(request=request):
                    denials = self._denials(request)
                    if denials:
                        message.reply.send_nowait(Blocked(denials=denials))
                        continue
                    self.placed.append((now, request))
                    self.owners[request.client_order_id] = message.owner
                    await self.broker.place(request)
                    message.reply.send_nowait(Sent())
                case ModifyOrder(client_order_id=coid, limit_price=price):
                    self.modified.append((now, coid, price))
                    await self.broker.modify(coid, limit_price=price)
                    message.reply.send_nowait(Sent())
                case CancelOrder(client_order_id=coid):
                    self.cancelled.append((now, coid))
                    await self.broker.cancel(coid)
                case StageBegun():
                    self.told.append((now, message))

    async def route(self) -> None:
        """Hand each order's broker events to the worker that owns it."""
        async for event in self.broker.events():
            coid = getattr(event, "client_order_id", None)
            if isinstance(event, FillReported):
                coid = event.fill.client_order_id
            if coid in self.owners:
                self.owners[coid].send_nowait(event)


@asynccontextmanager
async def open_fake_risk(
    exchange: SimExchange, contract: ContractSpec, **limits: Any
) -> AsyncIterator[tuple[trio.MemorySendChannel[RiskMessage], FakeRisk]]:
    """A connected SimBroker subscribed to ``contract``, behind a `FakeRisk`; yields the
    channel workers send on, and the fake to read what was sent."""
    broker = SimBroker(exchange)
    await broker.connect()
    await broker.subscribe_quotes(contract)
    risk = FakeRisk(broker, **limits)
    send, receive = trio.open_memory_channel[RiskMessage](0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(risk.serve, receive)
        nursery.start_soon(risk.route)
        yield send, risk
        nursery.cancel_scope.cancel(reason="worker test over")


async def stop_intent(engine: Engine, handle: IntentHandle, how: str) -> None:
    """Stop ``handle``'s intent: the engine's kill switch (``how`` "kill") or its cancel."""
    if how == "kill":
        await engine.kill()
    else:
        handle.cancel()


def journal_notes(path: Path, what: str) -> list[dict[str, Any]]:
    """The payloads of the journal's ``what`` notes, in order (read-only: Hydra may run)."""
    journal = Journal.open_read_only(path)
    try:
        return [p for _, kind, p in journal.events()
                if kind is EventKind.NOTE and p["what"] == what]
    finally:
        journal.close()


def last_statuses(path: Path) -> dict[str, OrderStatus]:
    """Each journaled order's last status, by client order id without the journal's id."""
    journal = Journal.open_read_only(path)
    try:
        return {unstamped(o.request.client_order_id): o.status for o in journal.orders()}
    finally:
        journal.close()
