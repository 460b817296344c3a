from decimal import Decimal

import pytest

from hydra._enums import Side
from hydra._errors import InvalidValueError
from hydra._quotes import Quote


def test_mid_spread_and_touches() -> None:
    """A quote gives its mid, spread and the near and far touch of each side."""
    quote = Quote(bid="350.00", ask="350.50", bid_size=3, ask_size=4)
    assert quote.mid == Decimal("350.25")
    assert quote.spread == Decimal("0.50")
    assert quote.far_touch(Side.BUY) == quote.near_touch(Side.SELL) == Decimal("350.50")
    assert quote.far_touch(Side.SELL) == quote.near_touch(Side.BUY) == Decimal("350.00")


def test_crossed_quote_is_refused() -> None:
    """An ask below the bid is refused, naming the ask."""
    with pytest.raises(InvalidValueError, match="ask: is below the bid 350"):
        Quote(bid=350, ask="349.75")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 0, -1])
def test_bad_bid_is_refused(bad: object) -> None:
    """A NaN, infinite, zero or negative bid names the bid field."""
    with pytest.raises(InvalidValueError, match="bid"):
        Quote(bid=bad, ask=350)


def test_negative_size_is_refused() -> None:
    """Displayed sizes cannot be negative."""
    with pytest.raises(InvalidValueError, match="bid_size"):
        Quote(bid=350, ask=351, bid_size=-1)
