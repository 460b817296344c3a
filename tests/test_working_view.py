"""The working orders' view model shared by the dashboard and the status region: the parts
that follow the journal (the dashboard's tests show each field)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import trio

from hydra._contracts import OATS, ContractSpec
from hydra._enums import Side
from hydra._journal_records import read_journal
from hydra._quotes import Quote
from hydra._working_view import Ladders, price_text, usable_quotes
from tests.paper_journal import PaperJournal


def test_ladders_read_in_parts_are_the_ladders_read_whole(tmp_path: Path) -> None:
    """For every k, the ladders of a journal's first k events extended with the rest are
    those of all its events: placements, repricings, intents and orders per intent."""
    paper = PaperJournal(tmp_path / "j.sqlite").start()
    for name, side in (("one", Side.BUY), ("two", Side.SELL)):
        paper.at(0).intent(name, side=side, quantity=2, arrival_mid="350.00", predicted="1")
        order = paper.at(0.001).order(name, side=side, quantity=2, limit="349.75")
        paper.note("modify", client_order_id=order, limit_price="350.00")
        paper.at(0.002).note("modify", client_order_id=order, limit_price="350.25")
        paper.fill(order, f"e-{name}", side=side, quantity=2, price="350.25", predicted="1",
                   actual="7.14")
    paper.close()
    records = read_journal(paper.path)
    whole = Ladders.of(records)
    assert whole.prices == {"one.1": Decimal("350.25"), "two.1": Decimal("350.25")}
    assert whole.orders == {"one": 1, "two": 1}
    for k in range(len(records) + 1):
        assert Ladders.of(records[:k]).extended(records[k:]) == whole


def test_a_price_shows_at_least_the_ticks_decimals() -> None:
    """IB's 350.0 shows as 350.00 for oats (a quarter tick), 84.125 keeps its three."""
    assert price_text(Decimal("350.0"), OATS) == "350.00"
    assert price_text(Decimal("84.125"), OATS) == "84.125"
    assert price_text(Decimal("350.0"), None) == "350.0"


class StampedWhenRead:
    """A market whose quote is stamped with the Trio time it is read, as IBBroker stamps a
    quote its feed vouches for (and the simulator every quote)."""

    def quote_nowait(self, contract: ContractSpec) -> Quote:
        return Quote(bid=Decimal("350.00"), ask=Decimal("350.25"), bid_size=5, ask_size=5,
                     time=trio.current_time())


async def test_a_quote_stamped_as_it_is_read_is_usable_on_the_real_clock() -> None:
    """On the real clock (this test's), a quote stamped as it is read is a moment later than
    a now read before it: it must not be taken as stamped ahead (the status region and the
    dashboard showed "bid - ask -" for every order through IB)."""
    quotes = usable_quotes(StampedWhenRead(), [OATS], max_age=30.0)  # type: ignore[arg-type]
    assert list(quotes) == ["ZO"]
