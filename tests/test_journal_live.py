"""`Journal.live_orders` followed from the new events (`hydra._journal_live`) answers what a
fresh look at every order answers, whatever is journaled between two calls."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hydra import OATS, Side
from hydra._enums import OrderStatus
from hydra._ids import ClientOrderId, IntentId
from hydra._journal import Journal
from hydra._journal_live import MAX_ASKED
from hydra._orders import OrderRequest

# One step: (order number, what happens to it); a status on an order not yet journaled
# journals the order first.
STEPS = st.lists(st.tuples(st.integers(0, 5), st.sampled_from(
    [*OrderStatus, "order", "dry order", "look"])), max_size=40)


def _request(n: int) -> OrderRequest:
    return OrderRequest(client_order_id=ClientOrderId(f"int-{n % 3}.{n}"),
                        intent_id=IntentId(f"int-{n % 3}"), contract=OATS, side=Side.BUY,
                        quantity=1, limit_price=Decimal(350))


def _fresh(path: Path) -> list[ClientOrderId]:
    reader = Journal.open_read_only(path)
    try:
        return [o.request.client_order_id for o in reader.live_orders()]
    finally:
        reader.close()


def _ids(journal: Journal) -> list[ClientOrderId]:
    return [o.request.client_order_id for o in journal.live_orders()]


@settings(max_examples=60, deadline=None)
@given(STEPS)
def test_followed_live_orders_match_a_fresh_look(steps: list[tuple[int, object]]) -> None:
    """After every step the writer's followed answer and a long-lived reader's equal a fresh
    reader's: an order with no status or PENDING, WORKING or LEFT_WORKING as its newest is
    live, a dry one never, and a final one comes back with a later working status."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "j.sqlite"
        journal = Journal.open(path, new_journal=True)
        follower = Journal.open_read_only(path)
        try:
            journaled: set[int] = set()
            assert _ids(journal) == _ids(follower) == []
            for n, step in steps:
                if step == "look":
                    assert _ids(journal) == _ids(follower) == _fresh(path)
                    continue
                if n not in journaled:
                    journal.record_order(_request(n), dry=step == "dry order")
                    journaled.add(n)
                if isinstance(step, OrderStatus):
                    journal.record_status(_request(n).client_order_id, step)
            assert _ids(journal) == _ids(follower) == _fresh(path)
        finally:
            follower.close()
            journal.close()


def test_more_live_intents_than_asked_by_name_are_all_found(tmp_path: Path) -> None:
    """Past MAX_ASKED intents with a working order, the followed answer still names each."""
    path = tmp_path / "j.sqlite"
    journal = Journal.open(path, new_journal=True)
    try:
        assert journal.live_orders() == []
        for n in range(MAX_ASKED + 1):
            journal.record_order(OrderRequest(
                client_order_id=ClientOrderId(f"int-{n}.1"), intent_id=IntentId(f"int-{n}"),
                contract=OATS, side=Side.BUY, quantity=1, limit_price=Decimal(350)))
        assert len(journal.live_orders()) == MAX_ASKED + 1
    finally:
        journal.close()
