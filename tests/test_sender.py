"""The sender: the one holder of order entry, paced, cancels first, withdrawn orders unsent."""

from __future__ import annotations

import ast
import math
import pathlib
from decimal import Decimal

import attrs
import trio
import trio.testing

import hydra
from hydra import OATS, ClientOrderId, IntentId, OrderRequest, Side
from hydra._core._pacing import TokenBucket
from hydra._core._risk_messages import Action, Dispatched, Outcome
from hydra._errors import BrokerConnectionError
from hydra._sender import SendQueue, run_sender
from hydra.brokers import MarketView, OrderEntry


@attrs.define
class RecordingEntry:
    """A fake order entry: records each call with its virtual time; can refuse as link down."""

    calls: list[tuple[float, str, str]] = attrs.Factory(list)
    down: bool = False

    async def _call(self, what: str, coid: str) -> None:
        await trio.lowlevel.checkpoint()
        if self.down:
            raise BrokerConnectionError("link down")
        self.calls.append((trio.current_time(), what, coid))

    async def place(self, request: OrderRequest) -> None:
        await self._call("place", request.client_order_id)

    async def modify(self, client_order_id: ClientOrderId, *, limit_price: Decimal,
                     quantity: int | None = None) -> None:
        await self._call("modify", client_order_id)

    async def cancel(self, client_order_id: ClientOrderId) -> None:
        await self._call("cancel", client_order_id)


def _request(coid: str) -> OrderRequest:
    return OrderRequest(client_order_id=ClientOrderId(coid), intent_id=IntentId("i"),
                        contract=OATS, side=Side.BUY, quantity=1, limit_price=Decimal("350"))


async def _run(queue: SendQueue, entry: RecordingEntry, seconds: float,
               ) -> list[Dispatched]:
    send, receive = trio.open_memory_channel[Dispatched](math.inf)
    bucket = TokenBucket.full(rate=2.0, burst=1.0, now=trio.current_time())
    async with trio.open_nursery() as nursery:
        nursery.start_soon(lambda: run_sender(queue, entry=entry, bucket=bucket, report=send))
        await trio.sleep(seconds)
        nursery.cancel_scope.cancel(reason="test over")
    return [receive.receive_nowait() for _ in range(len(receive._state.data))]


async def test_cancels_go_before_waiting_new_orders_at_the_pacing_rate(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With two messages a second, a cancel queued behind three new orders is sent first, at
    0 s; the orders follow at 0.5, 1.0 and 1.5 s."""
    queue, entry = SendQueue(), RecordingEntry()
    for coid in ("a", "b", "c"):
        queue.place(_request(coid))
    queue.cancel(ClientOrderId("z"))
    reports = await _run(queue, entry, 5)
    assert entry.calls == [(0.0, "cancel", "z"), (0.5, "place", "a"), (1.0, "place", "b"),
                           (1.5, "place", "c")]
    assert [(r.client_order_id, r.action, r.outcome) for r in reports] == [
        ("z", Action.CANCEL, Outcome.SENT), ("a", Action.PLACE, Outcome.SENT),
        ("b", Action.PLACE, Outcome.SENT), ("c", Action.PLACE, Outcome.SENT)]


async def test_a_withdrawn_order_is_never_sent_and_spends_no_token(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An order withdrawn before its turn is reported WITHDRAWN; the next one takes its slot."""
    queue, entry = SendQueue(), RecordingEntry()
    for coid in ("a", "b", "c"):
        queue.place(_request(coid))
    queue.withdraw(ClientOrderId("b"))
    reports = await _run(queue, entry, 5)
    assert entry.calls == [(0.0, "place", "a"), (0.5, "place", "c")]
    assert [(r.client_order_id, r.outcome) for r in reports] == [
        ("a", Outcome.SENT), ("b", Outcome.WITHDRAWN), ("c", Outcome.SENT)]


async def test_a_modification_waiting_when_its_orders_cancel_comes_is_never_sent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A modification of "a" waits for a token behind one of "b"; the cancel of "a" comes
    meanwhile and goes first (at 0.5 s): the modification of "a" is reported WITHDRAWN, never
    sent after its cancel, and takes no token; one queued after the cancel is sent."""
    queue, entry = SendQueue(), RecordingEntry()
    queue.modify(ClientOrderId("b"), Decimal("350.25"))
    queue.modify(ClientOrderId("a"), Decimal("350.25"))
    queue.cancel(ClientOrderId("a"))
    queue.modify(ClientOrderId("a"), Decimal("350.50"))
    reports = await _run(queue, entry, 5)
    assert entry.calls == [(0.0, "cancel", "a"), (0.5, "modify", "b"), (1.0, "modify", "a")]
    assert [(r.client_order_id, r.action, r.outcome) for r in reports] == [
        ("a", Action.CANCEL, Outcome.SENT), ("b", Action.MODIFY, Outcome.SENT),
        ("a", Action.MODIFY, Outcome.WITHDRAWN), ("a", Action.MODIFY, Outcome.SENT)]


async def test_a_refusal_by_the_link_is_reported_not_raised(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A BrokerConnectionError from order entry becomes a LINK_DOWN report with its text."""
    queue, entry = SendQueue(), RecordingEntry(down=True)
    queue.place(_request("a"))
    [report] = await _run(queue, entry, 1)
    assert (report.outcome, report.error) == (Outcome.LINK_DOWN, "link down")


def test_order_entry_and_market_view_are_disjoint() -> None:
    """OrderEntry is place, modify and cancel; MarketView has none of them."""
    entry = {n for n in vars(OrderEntry) if not n.startswith("_")}
    view = {n for n in vars(MarketView) if not n.startswith("_")}
    assert entry == {"place", "modify", "cancel"} and not entry & view


def test_only_the_sender_calls_order_entry() -> None:
    """In the engine's modules, the only awaited place/modify/cancel on a broker or an order
    entry is the sender's (the type split makes it a mypy error elsewhere)."""
    package = pathlib.Path(hydra.__file__).parent
    callers = set()
    for path in [*package.glob("*.py"), *package.glob("_core/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Await) and isinstance(node.value, ast.Call)):
                continue
            function = node.value.func
            if isinstance(function, ast.Attribute) and function.attr in {
                    "place", "modify", "cancel"}:
                receiver = ast.unparse(function.value).lower()
                if "broker" in receiver or "entry" in receiver:
                    callers.add(path.name)
    assert callers == {"_sender.py"}
