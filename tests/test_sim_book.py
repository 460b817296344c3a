"""The pure matching book: queue position, price-time priority, partial and marketable fills."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from hydra._contracts import OATS
from hydra._enums import Side
from hydra._ids import ClientOrderId, ExecutionId
from hydra._orders import Fill
from hydra.sim._book import Book, Match
from hydra.sim._ledger import Ledger


def five_lot_book() -> Book:
    """Crowd bid 100 and ask 101 (ticks), 5 lots at every level."""
    return Book(bid=100, ask=101, draw_size=lambda: 5)


def test_order_behind_five_lots_fills_after_five_lots_of_flow() -> None:
    """A bid joining 5 displayed lots is untouched by 5 lots of selling and fills on the 6th."""
    book = five_lot_book()
    assert book.place(key="a", side=Side.BUY, price=100, quantity=2) == []
    assert book.flow(Side.SELL, 5) == ([], 100)
    assert book.flow(Side.SELL, 1)[0] == [Match(key="a", price=100, quantity=1)]


def test_order_better_than_the_touch_has_nothing_ahead() -> None:
    """A bid inside the spread becomes the touch and trades first."""
    book = Book(bid=100, ask=103, draw_size=lambda: 5)
    book.place(key="a", side=Side.BUY, price=101, quantity=3)
    assert book.best(Side.BUY) == (101, 3)
    assert book.flow(Side.SELL, 4)[0] == [Match(key="a", price=101, quantity=3)]
    assert book.best(Side.BUY) == (100, 4)


def test_partial_fill_leaves_the_rest_at_the_front() -> None:
    """A flow smaller than the order fills it partly; the rest keeps its place."""
    book = Book(bid=100, ask=103, draw_size=lambda: 5)
    book.place(key="a", side=Side.BUY, price=101, quantity=3)
    assert book.flow(Side.SELL, 2)[0] == [Match(key="a", price=101, quantity=2)]
    resting = book.resting("a")
    assert resting is not None and (resting.remaining, resting.ahead) == (1, 0)


def test_two_orders_at_one_price_fill_in_time_order() -> None:
    """The earlier of two bids at one price fills before the later one."""
    book = five_lot_book()
    book.place(key="first", side=Side.BUY, price=100, quantity=2)
    book.place(key="second", side=Side.BUY, price=100, quantity=2)
    matches, _ = book.flow(Side.SELL, 8)
    assert matches == [
        Match(key="first", price=100, quantity=2),
        Match(key="second", price=100, quantity=1),
    ]


def test_marketable_order_walks_only_as_far_as_its_limit() -> None:
    """A buy limited to 102 takes 5 at 101 and 5 at 102 and rests the rest at 102."""
    book = five_lot_book()
    matches = book.place(key="a", side=Side.BUY, price=102, quantity=12)
    assert matches == [Match(key="a", price=101, quantity=5), Match(key="a", price=102, quantity=5)]
    assert book.best(Side.BUY) == (102, 2)
    assert book.best(Side.SELL) == (103, 5)


def test_crowd_recenters_without_crossing_our_orders() -> None:
    """A falling crowd quote stops one tick above our bid, which then has nothing ahead."""
    book = five_lot_book()
    book.place(key="a", side=Side.BUY, price=100, quantity=1)
    book.recenter(bid=95, ask=96)
    assert book.best(Side.SELL)[0] == 101
    resting = book.resting("a")
    assert resting is not None and resting.ahead == 0


operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("place"), st.sampled_from(list(Side)), st.integers(95, 106), st.integers(1, 8)
        ),
        st.tuples(st.just("flow"), st.sampled_from(list(Side)), st.integers(1, 20), st.just(0)),
        st.tuples(st.just("cancel"), st.sampled_from(list(Side)), st.integers(0, 30), st.just(0)),
        st.tuples(
            st.just("recenter"),
            st.sampled_from(list(Side)),
            st.integers(90, 110),
            st.integers(1, 4),
        ),
    ),
    max_size=60,
)


@given(operations, st.integers(1, 9))
def test_filled_never_exceeds_ordered_and_position_is_sum_of_fills(
    ops: list[tuple[str, Side, int, int]], depth: int
) -> None:
    """Whatever the flow, no order fills beyond its quantity and the ledger's position is the
    signed sum of the fills."""
    book = Book(bid=100, ask=101, draw_size=lambda: depth)
    ledger = Ledger(starting_cash=Decimal(100_000))
    ordered: dict[str, tuple[Side, int]] = {}
    filled: dict[str, int] = {}
    signed_total = 0

    def record(matches: list[Match]) -> None:
        nonlocal signed_total
        for match in matches:
            side, _ = ordered[match.key]
            filled[match.key] = filled.get(match.key, 0) + match.quantity
            signed_total += side.sign * match.quantity
            fill = Fill(
                execution_id=ExecutionId(f"x{len(filled)}.{signed_total}"),
                client_order_id=ClientOrderId(match.key),
                symbol="ZO",
                side=side,
                price=match.price * OATS.tick_size,
                quantity=match.quantity,
                time=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
            )
            ledger.record(fill, OATS)

    for n, (kind, side, a, b) in enumerate(ops):
        if kind == "place" and not book.would_cross_own(side, a):
            ordered[f"o{n}"] = (side, b)
            record(book.place(key=f"o{n}", side=side, price=a, quantity=b))
        elif kind == "flow":
            record(book.flow(side, a)[0])
        elif kind == "cancel":
            book.remove(f"o{a}")
        elif kind == "recenter":
            book.recenter(bid=a, ask=a + b)
        bid, ask = book.best(Side.BUY)[0], book.best(Side.SELL)[0]
        assert bid < ask
    for key, quantity in filled.items():
        assert quantity <= ordered[key][1]
        resting = book.resting(key)
        assert resting is None or resting.remaining == ordered[key][1] - quantity
    positions = ledger.positions()
    assert sum(p.quantity for p in positions) == signed_total
