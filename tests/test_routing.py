from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydra._core._routing import participation, route
from hydra._enums import Policy
from hydra._errors import InvalidValueError
from hydra._settings import ExecutionSettings
from tests.strategies import quantities

DEFAULTS = ExecutionSettings()  # TWAP at 1 % of ADV or more


def test_participation_is_exact() -> None:
    """Participation is quantity over ADV as an exact Decimal."""
    assert participation(15, adv=1500) == Decimal("0.01")
    assert participation(3, adv=Decimal(30000)) == Decimal("0.0001")


def test_below_threshold_routes_to_patience() -> None:
    """14 oats against an ADV of 1500 is under 1 %, so the patience ladder works it."""
    assert route(14, adv=1500, settings=DEFAULTS) is Policy.PATIENCE


def test_at_threshold_routes_to_twap() -> None:
    """Exactly 1 % of ADV (15 of 1500) goes to TWAP."""
    assert route(15, adv=1500, settings=DEFAULTS) is Policy.TWAP


def test_auto_routes_by_participation() -> None:
    """An explicit AUTO routes exactly like no policy at all."""
    assert route(15, adv=1500, settings=DEFAULTS, policy=Policy.AUTO) is Policy.TWAP
    assert route(14, adv=1500, settings=DEFAULTS, policy=Policy.AUTO) is Policy.PATIENCE


@pytest.mark.parametrize("policy", [Policy.PATIENCE, Policy.TWAP, Policy.CROSS, Policy.PASSIVE])
def test_explicit_policy_wins(policy: Policy) -> None:
    """An explicit non-AUTO policy is used whatever the participation, and needs no ADV."""
    assert route(10_000, adv=1500, settings=DEFAULTS, policy=policy) is policy
    assert route(1, adv=None, settings=DEFAULTS, policy=policy) is policy


@pytest.mark.parametrize(
    "bad", [None, 0, -5, Decimal(0), Decimal("NaN"), float("nan"), float("inf"), "1500", True]
)
def test_bad_adv_is_refused(bad: object) -> None:
    """A missing, zero, negative, NaN or non-numeric ADV is an InvalidValueError naming ``adv``."""
    with pytest.raises(InvalidValueError) as info:
        route(10, adv=bad, settings=DEFAULTS)  # type: ignore[arg-type]
    assert info.value.field == "adv"


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_quantity_is_refused(bad: object) -> None:
    """A quantity that is not a positive whole number names ``quantity``."""
    with pytest.raises(InvalidValueError) as info:
        participation(bad, adv=1500)  # type: ignore[arg-type]
    assert info.value.field == "quantity"


def test_bad_policy_is_refused() -> None:
    """A policy that is not a Policy names ``policy``."""
    with pytest.raises(InvalidValueError) as info:
        route(10, adv=1500, settings=DEFAULTS, policy="twap")  # type: ignore[arg-type]
    assert info.value.field == "policy"


@given(quantities, st.integers(min_value=1, max_value=1_000_000))
def test_route_splits_at_threshold(quantity: int, adv: int) -> None:
    """Routing picks TWAP exactly when participation reaches the threshold."""
    expected = (
        Policy.TWAP if Decimal(quantity) / adv >= DEFAULTS.twap_threshold else (Policy.PATIENCE)
    )
    assert route(quantity, adv=adv, settings=DEFAULTS) is expected
