from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from hydra._contracts import LEAN_HOGS, OATS
from hydra._core._positions import Position
from hydra._enums import Side


def test_round_trip_on_oats_makes_fifty_dollars_a_cent() -> None:
    """Buying 1 ZO at 350 and selling at 351 realizes $50 before commission."""
    flat = Position(contract=OATS)
    long = flat.after_fill(side=Side.BUY, quantity=1, price=Decimal(350), commission=Decimal("2.5"))
    closed = long.after_fill(side=Side.SELL, quantity=1, price=Decimal(351),
                             commission=Decimal("2.5"))
    assert closed.quantity == 0
    assert closed.realized_pnl == Decimal(50)
    assert closed.commission == Decimal(5)
    assert closed.average_price == 0


def test_adding_averages_and_unrealized_uses_point_value() -> None:
    """Adding to a long averages the price; unrealized PnL uses multiplier / magnifier."""
    position = Position(contract=LEAN_HOGS)
    position = position.after_fill(side=Side.BUY, quantity=1, price=Decimal("85.000"))
    position = position.after_fill(side=Side.BUY, quantity=1, price=Decimal("85.050"))
    assert position.average_price == Decimal("85.025")
    assert position.unrealized_pnl(Decimal("85.125")) == Decimal(80)  # 0.1 × 2 × $400
    assert position.market_value(Decimal(85)) == Decimal(68_000)


def test_flip_through_flat_opens_rest_at_fill_price() -> None:
    """Selling more than the long closes it and opens a short at the fill price."""
    position = Position(contract=OATS).after_fill(side=Side.BUY, quantity=2, price=Decimal(350))
    position = position.after_fill(side=Side.SELL, quantity=5, price=Decimal(352))
    assert position.quantity == -3
    assert position.average_price == Decimal(352)
    assert position.realized_pnl == Decimal(200)  # 2 × 2 cents × $50


def test_partial_close_keeps_average() -> None:
    """A partial close realizes PnL on the closed part and keeps the average of the rest."""
    position = Position(contract=OATS).after_fill(side=Side.SELL, quantity=4, price=Decimal(350))
    position = position.after_fill(side=Side.BUY, quantity=1, price=Decimal(349))
    assert position.quantity == -3
    assert position.average_price == Decimal(350)
    assert position.realized_pnl == Decimal(50)


fills = st.lists(
    st.tuples(
        st.sampled_from(list(Side)),
        st.integers(min_value=1, max_value=20),
        st.integers(min_value=1000, max_value=2000),
    ),
    max_size=30,
)


@given(fills=fills, mark_ticks=st.integers(min_value=1000, max_value=2000))
def test_total_pnl_equals_cash_flow_marked_to_market(
    fills: list[tuple[Side, int, int]], mark_ticks: int
) -> None:
    """Realized plus unrealized PnL equals the fills' cash flow plus the marked position."""
    position = Position(contract=OATS)
    cash = Decimal(0)
    for side, quantity, ticks in fills:
        price = OATS.tick_size * ticks
        position = position.after_fill(side=side, quantity=quantity, price=price)
        cash -= side.sign * quantity * price * OATS.point_value
    mark = OATS.tick_size * mark_ticks
    assert position.quantity == sum(side.sign * quantity for side, quantity, _ in fills)
    total = position.realized_pnl + position.unrealized_pnl(mark)
    # The average price of an uneven add is a repeating decimal: exact to Decimal's 28 digits.
    assert abs(total - (cash + position.quantity * mark * OATS.point_value)) < Decimal("1e-12")
