"""The patience actor: works one quantity of one contract with limit orders, never a market one.

Limit at mid, wait ``patience``; one step toward the market, wait half; cross the spread, wait a
quarter; then cancel the rest (or leave it working, by config). Each stage is priced from the
quote at that moment and clamped to the slippage guard. Every order, modification and cancel
goes through the risk actor; the waits are cancel scopes, so fills end them early.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

import attrs
import structlog
import trio

from ._child_order import ChildOrder
from ._contracts import ContractSpec
from ._core._ladder import LadderStage, baseline_price, ladder_price, ladder_wait
from ._enums import OrderStatus, Policy, Side
from ._ids import ClientOrderId, IntentId
from ._messages import Blocked, CancelOrder, ModifyOrder, OrderAnswer, PlaceOrder, RiskMessage
from ._orders import OrderRequest
from ._quotes import Quote
from ._reports import ChildOrderReport
from ._settings import ExecutionSettings
from .brokers import BrokerEvent

log = structlog.get_logger()

CANCEL_CONFIRM_SECONDS = 10.0
"""How long the final cancel waits for the broker's confirmation before reporting it as sent."""

LADDER_LENGTH = 1.75
"""The ladder's total wait in units of ``patience`` (1 + 1/2 + 1/4)."""


@attrs.frozen(kw_only=True)
class Work:
    """One quantity to work: for a whole intent, or for one TWAP slice of it."""

    intent_id: IntentId
    client_order_id: ClientOrderId
    contract: ContractSpec
    side: Side
    quantity: int
    policy: Policy  # PATIENCE, CROSS or PASSIVE
    settings: ExecutionSettings
    arrival_mid: Decimal
    predicted_bps: Decimal | None = None


def stage_plan(policy: Policy, settings: ExecutionSettings) -> tuple[tuple[object, float], ...]:
    """The (stage, wait) pairs a policy works through: the ladder, or one baseline stage."""
    if policy is Policy.CROSS:
        return ((Policy.CROSS, settings.patience),)
    if policy is Policy.PASSIVE:
        return ((Policy.PASSIVE, settings.patience * LADDER_LENGTH),)
    return tuple((stage, ladder_wait(stage, settings=settings)) for stage in LadderStage)


def stage_price(stage: object, quote: Quote, work: Work) -> Decimal:
    """The limit price of ``stage`` (a ladder stage or a baseline policy) at ``quote``."""
    common = {"settings": work.settings, "contract": work.contract, "arrival_mid": work.arrival_mid}
    if isinstance(stage, LadderStage):
        return ladder_price(work.side, quote, stage, **common)  # type: ignore[arg-type]
    assert isinstance(stage, Policy)
    return baseline_price(stage, work.side, quote, **common)  # type: ignore[arg-type]


class PatienceActor:
    def __init__(
        self,
        work: Work,
        *,
        risk: trio.MemorySendChannel[RiskMessage],
        quotes: Callable[[ContractSpec], Quote],
        leave_working: Callable[[], bool],
    ) -> None:
        self.work = work
        self.child = ChildOrder(client_order_id=work.client_order_id, quantity=work.quantity)
        self._risk = risk
        self._quotes = quotes
        self._leave_working = leave_working
        # Unbounded: the risk actor hands events over with send_nowait and must never wait on
        # one order; an order has few events (ack, a status or two, its fills).
        self.events_in, self._events = trio.open_memory_channel[BrokerEvent](math.inf)
        self._placing: trio.MemoryReceiveChannel[OrderAnswer] | None = None  # answer awaited

    async def _ask(self, make: Callable[[trio.MemorySendChannel[OrderAnswer]], RiskMessage]
                   ) -> OrderAnswer:
        send, receive = trio.open_memory_channel[OrderAnswer](1)
        await self._risk.send(make(send))
        return await receive.receive()

    async def place(self, price: Decimal) -> OrderAnswer:
        work = self.work
        request = OrderRequest(
            client_order_id=work.client_order_id, intent_id=work.intent_id,
            contract=work.contract, side=work.side, quantity=work.quantity, limit_price=price,
        )
        self.child.prices.append(price)
        send, self._placing = trio.open_memory_channel[OrderAnswer](1)
        await self._risk.send(PlaceOrder(
            request=request, arrival_mid=work.arrival_mid, predicted_bps=work.predicted_bps,
            owner=self.events_in, reply=send,
        ))
        answer = await self._placing.receive()
        self._placing = None
        return answer

    async def modify(self, price: Decimal) -> OrderAnswer:
        answer = await self._ask(lambda reply: ModifyOrder(
            client_order_id=self.work.client_order_id, limit_price=price, reply=reply,
        ))
        if not isinstance(answer, Blocked):
            self.child.prices.append(price)
        return answer

    async def wait_done(self) -> None:
        """Apply the order's events until it is done."""
        while not self.child.done:
            self.child.apply(await self._events.receive())

    async def run(self, *, adopted: bool = False) -> ChildOrderReport:
        """Work the ladder; on the way out, settle the order whatever happened."""
        try:
            await self._ladder(adopted=adopted)
        finally:
            with trio.CancelScope(shield=True) as cleanup:
                cleanup.relative_deadline = CANCEL_CONFIRM_SECONDS
                await self._settle()
        return self.child.report()

    async def _ladder(self, *, adopted: bool) -> None:
        for index, (stage, wait) in enumerate(stage_plan(self.work.policy, self.work.settings)):
            price = stage_price(stage, self._quotes(self.work.contract), self.work)
            if index == 0 and not adopted:
                answer = await self.place(price)
                if isinstance(answer, Blocked):
                    self.child.block(answer.denials)
                    return
                if answer.dry:
                    self.child.status, self.child.reason = OrderStatus.CANCELLED, "dry run"
                    return
            elif price != self.child.prices[-1] and isinstance(await self.modify(price), Blocked):
                return  # halted or out of the collar: stop stepping, settle what is working
            log.info("ladder_stage", client_order_id=self.work.client_order_id,
                     stage=str(stage), price=str(price), filled=self.child.filled)
            with trio.move_on_after(wait):
                await self.wait_done()
            if self.child.done:
                return

    async def _settle(self) -> None:
        """Cancel what is still working (or leave it, by config) and wait for the answer."""
        child = self.child
        if self._placing is not None:  # cancelled while the risk actor had the order
            answer = await self._placing.receive()
            self._placing = None
            if isinstance(answer, Blocked):
                child.block(answer.denials)
            elif answer.dry:
                child.status, child.reason = OrderStatus.CANCELLED, "dry run"
        if child.done or not child.prices:
            return  # finished, refused, dry, or never sent
        if self.work.settings.leave_working or self._leave_working():
            child.status = OrderStatus.LEFT_WORKING
            return
        try:
            await self._risk.send(CancelOrder(client_order_id=self.work.client_order_id))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return  # the risk actor is gone (Hydra is failing): the journal has the order
        await self.wait_done()


async def run_patience(
    work: Work,
    *,
    risk: trio.MemorySendChannel[RiskMessage],
    quotes: Callable[[ContractSpec], Quote],
    children: list[ChildOrderReport],
    leave_working: Callable[[], bool] = lambda: False,
) -> ChildOrderReport:
    """Work ``work`` through the ladder; its report is appended to ``children`` even when
    cancelled, so the intent's report accounts for every order."""
    actor = PatienceActor(work, risk=risk, quotes=quotes, leave_working=leave_working)
    try:
        return await actor.run()
    finally:
        children.append(actor.child.report())
