"""A Hypothesis state machine over the journal's order lifecycle, with crashes in between."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from hydra._contracts import OATS
from hydra._enums import OrderStatus, Side
from hydra._ids import BrokerOrderId, ClientOrderId, ExecutionId, IntentId
from hydra._journal import Journal
from hydra._orders import Fill, OrderRequest

T0 = dt.datetime(2026, 11, 25, 14, 30, tzinfo=dt.UTC)
FINAL = [OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED]


class JournalLifecycle(RuleBasedStateMachine):
    """Orders are written ahead, acked, filled (sometimes twice by id) and finished; the
    journal is reopened at random points as after a crash. The model is plain Python."""

    orders = Bundle("orders")

    @initialize()
    def open(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.path = Path(self.folder.name) / "j.sqlite"
        self.journal = Journal.open(self.path, clock=lambda: T0)
        self.quantity: dict[str, int] = {}
        self.filled: dict[str, int] = {}
        self.final: set[str] = set()
        self.executions: dict[str, tuple[str, int]] = {}

    def teardown(self) -> None:
        self.journal.close()
        self.folder.cleanup()

    @rule(target=orders, quantity=st.integers(min_value=1, max_value=10))
    def place(self, quantity: int) -> str:
        key = f"int-1.{len(self.quantity) + 1}"
        self.journal.record_order(OrderRequest(
            client_order_id=ClientOrderId(key), intent_id=IntentId("int-1"), contract=OATS,
            side=Side.BUY, quantity=quantity, limit_price="350.25",
        ))
        self.quantity[key], self.filled[key] = quantity, 0
        return key

    @rule(key=orders)
    def ack(self, key: str) -> None:
        self.journal.record_ack(ClientOrderId(key), BrokerOrderId(len(key)))

    @rule(key=orders, data=st.data())
    def fill(self, key: str, data: st.DataObject) -> None:
        remaining = self.quantity[key] - self.filled[key]
        if remaining == 0 or key in self.final:
            return
        quantity = data.draw(st.integers(min_value=1, max_value=remaining))
        execution = f"e{len(self.executions) + 1}"
        self._record(execution, key, quantity)
        self.executions[execution] = (key, quantity)
        self.filled[key] += quantity

    @precondition(lambda self: bool(self.executions))
    @rule(data=st.data())
    def duplicate_report(self, data: st.DataObject) -> None:
        """A repeated execution id is refused by the journal and changes nothing."""
        execution = data.draw(st.sampled_from(sorted(self.executions)))
        key, quantity = self.executions[execution]
        assert not self._record(execution, key, quantity)

    def _record(self, execution: str, key: str, quantity: int) -> bool:
        fill = Fill(execution_id=ExecutionId(execution), client_order_id=ClientOrderId(key),
                    symbol="ZO", side=Side.BUY, price="350.25", quantity=quantity, time=T0)
        return self.journal.record_fill(fill, intent_id=None, predicted_bps=None,
                                        actual_bps=None)

    @rule(key=orders, status=st.sampled_from(FINAL))
    def finish(self, key: str, status: OrderStatus) -> None:
        self.journal.record_status(ClientOrderId(key), status)
        self.final.add(key)

    @rule()
    def crash_and_reopen(self) -> None:
        self.journal.close()
        self.journal = Journal.open(self.path, clock=lambda: T0)

    @invariant()
    def each_execution_once_and_never_overfilled(self) -> None:
        fills = self.journal.fills()
        assert sorted(f.execution_id for f in fills) == sorted(self.executions)
        for order in self.journal.orders():
            key = order.request.client_order_id
            assert order.filled == self.filled[key] <= order.request.quantity

    @invariant()
    def live_orders_are_the_unfinished_ones(self) -> None:
        live = {o.request.client_order_id for o in self.journal.live_orders()}
        assert live == set(self.quantity) - self.final


TestJournalLifecycle = JournalLifecycle.TestCase
TestJournalLifecycle.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)
