from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydra._contracts import LEAN_HOGS, OATS, ContractSpec
from hydra._core._pricing import (
    apply_offset,
    ceil_to_tick,
    clamp_to_guard,
    floor_to_tick,
    guard_limit,
    is_at_least_as_aggressive,
    round_aggressive,
    round_passive,
)
from hydra._enums import Side
from hydra._errors import InvalidValueError
from hydra._settings import Distance
from tests.strategies import contracts, sides

ZO_TICK = OATS.tick_size
HE_TICK = LEAN_HOGS.tick_size

prices = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(100_000), places=4)


@pytest.mark.parametrize(
    ("side", "price", "tick", "passive", "aggressive"),
    [
        (Side.BUY, Decimal("350.30"), ZO_TICK, Decimal("350.25"), Decimal("350.50")),
        (Side.SELL, Decimal("350.30"), ZO_TICK, Decimal("350.50"), Decimal("350.25")),
        (Side.BUY, Decimal("350.25"), ZO_TICK, Decimal("350.25"), Decimal("350.25")),
        (Side.BUY, Decimal("80.0625"), HE_TICK, Decimal("80.050"), Decimal("80.075")),
        (Side.SELL, Decimal("80.0625"), HE_TICK, Decimal("80.075"), Decimal("80.050")),
        (Side.SELL, Decimal("80.075"), HE_TICK, Decimal("80.075"), Decimal("80.075")),
    ],
)
def test_round_passive_and_aggressive(
    side: Side, price: Decimal, tick: Decimal, passive: Decimal, aggressive: Decimal
) -> None:
    """Passive rounding moves a buy down and a sell up; aggressive does the reverse."""
    assert round_passive(side, price, tick_size=tick) == passive
    assert round_aggressive(side, price, tick_size=tick) == aggressive


def test_floor_and_ceil_handle_negative_prices() -> None:
    """Rounding is to the grid, not toward zero, for prices below zero too."""
    assert floor_to_tick(Decimal("-0.1"), tick_size=ZO_TICK) == Decimal("-0.25")
    assert ceil_to_tick(Decimal("-0.1"), tick_size=ZO_TICK) == 0


@given(contract=contracts, side=sides, price=prices)
def test_rounding_lands_on_tick_within_one_tick(
    contract: ContractSpec, side: Side, price: Decimal
) -> None:
    """Both roundings land on the tick grid, less than one tick away, on the stated side."""
    tick = contract.tick_size
    passive = round_passive(side, price, tick_size=tick)
    aggressive = round_aggressive(side, price, tick_size=tick)
    for rounded in (passive, aggressive):
        assert contract.is_on_tick(rounded)
        assert abs(rounded - price) < tick
    assert is_at_least_as_aggressive(side, price, passive)
    assert is_at_least_as_aggressive(side, aggressive, price)


def test_guard_limit_bps_on_oats() -> None:
    """A 50 bps guard around 350.25 allows a buy up to 352.00 and a sell down to 348.50."""
    guard = Distance.bps(50)  # 1.75125 cents
    mid = Decimal("350.25")
    assert guard_limit(Side.BUY, arrival_mid=mid, guard=guard, tick_size=ZO_TICK) == Decimal(
        "352.00"
    )
    assert guard_limit(Side.SELL, arrival_mid=mid, guard=guard, tick_size=ZO_TICK) == Decimal(
        "348.50"
    )


def test_guard_limit_ticks_and_absolute_on_hogs() -> None:
    """Tick and absolute guards on hogs give exact limits on the 0.025 grid."""
    mid = Decimal("80.0625")
    assert guard_limit(
        Side.BUY, arrival_mid=mid, guard=Distance.ticks(2), tick_size=HE_TICK
    ) == Decimal("80.100")
    assert guard_limit(
        Side.SELL, arrival_mid=mid, guard=Distance.absolute("0.1"), tick_size=HE_TICK
    ) == Decimal("79.975")


def test_guard_limit_never_below_one_tick() -> None:
    """A sell guard wider than the price itself still leaves at least one tick."""
    limit = guard_limit(
        Side.SELL, arrival_mid=Decimal("1.00"), guard=Distance.absolute(5), tick_size=ZO_TICK
    )
    assert limit == ZO_TICK


def test_clamp_to_guard() -> None:
    """A price past the guard is pulled back to it; a price inside is left alone."""
    limit = Decimal("351.75")
    assert clamp_to_guard(Side.BUY, Decimal("352.00"), limit=limit) == limit
    assert clamp_to_guard(Side.BUY, Decimal("351.50"), limit=limit) == Decimal("351.50")
    assert clamp_to_guard(Side.SELL, Decimal("351.50"), limit=limit) == limit
    assert clamp_to_guard(Side.SELL, Decimal("352.00"), limit=limit) == Decimal("352.00")


def test_apply_offset_to_passive_side() -> None:
    """An offset moves a buy below mid and a sell above it, in bps or absolute units."""
    mid = Decimal("350.00")
    assert apply_offset(Side.BUY, mid, offset=Distance.bps(10), tick_size=ZO_TICK) == Decimal(
        "349.65"
    )
    assert apply_offset(
        Side.SELL, mid, offset=Distance.absolute("0.5"), tick_size=ZO_TICK
    ) == Decimal("350.50")
    assert apply_offset(Side.BUY, mid, offset=Distance.bps(0), tick_size=ZO_TICK) == mid


@pytest.mark.parametrize(
    "bad", [0.25, float("nan"), Decimal("NaN"), Decimal("Infinity"), "1", True]
)
def test_float_or_non_finite_price_is_refused(bad: object) -> None:
    """A float, string or non-finite price is an InvalidValueError naming the price."""
    with pytest.raises(InvalidValueError) as info:
        round_passive(Side.BUY, bad, tick_size=ZO_TICK)  # type: ignore[arg-type]
    assert info.value.field == "price"


@pytest.mark.parametrize("bad", [Decimal(0), Decimal("-0.25"), 0.25, Decimal("NaN")])
def test_bad_tick_size_is_refused(bad: object) -> None:
    """A tick size that is not a positive finite Decimal names ``tick_size``."""
    with pytest.raises(InvalidValueError) as info:
        round_passive(Side.BUY, Decimal(1), tick_size=bad)  # type: ignore[arg-type]
    assert info.value.field == "tick_size"


def test_bad_side_and_arrival_mid_are_refused() -> None:
    """A side that is not a Side, or a non-positive arrival mid, names its field."""
    with pytest.raises(InvalidValueError, match="side"):
        round_passive("BUY", Decimal(1), tick_size=ZO_TICK)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError) as info:
        guard_limit(Side.BUY, arrival_mid=Decimal(0), guard=Distance.bps(5), tick_size=ZO_TICK)
    assert info.value.field == "arrival_mid"
