"""Client order ids carry their journal's id, and the intent and journal read back from them."""

from __future__ import annotations

from hydra._ids import (
    ClientOrderId,
    IntentId,
    OrderIds,
    client_order_id_for,
    intent_id_of,
    is_journal_id,
    journal_id_of,
    new_journal_id,
    unstamped,
)


def test_an_order_id_names_its_journal_and_its_intent() -> None:
    """``<journal id>:<intent id>.<n>``: both read back; the same inputs, the same id."""
    journal = new_journal_id()
    ids = OrderIds(journal)
    coid = ids.for_intent(IntentId("int-abc"), 2)
    assert coid == f"{journal}:int-abc.2" == ids.for_intent(IntentId("int-abc"), 2)
    assert journal_id_of(coid) == journal
    assert intent_id_of(coid) == "int-abc"
    assert unstamped(coid) == "int-abc.2"


def test_an_unstamped_or_foreign_id_has_no_journal() -> None:
    """Ids without a journal id (old journals, other programs) read as before."""
    assert journal_id_of(client_order_id_for(IntentId("int-x"), 1)) is None
    assert journal_id_of(ClientOrderId("ib.0.7")) is None
    assert intent_id_of(ClientOrderId("strategy:buy.1")) == "strategy:buy"  # not a journal id
    assert unstamped(ClientOrderId("plain")) == "plain"


def test_journal_ids_are_random_and_recognisable() -> None:
    """Each new journal id is fresh and matches the journal id pattern."""
    first, second = new_journal_id(), new_journal_id()
    assert first != second and is_journal_id(first) and not is_journal_id("int-1")
