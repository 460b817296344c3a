from decimal import Decimal

import attrs
import pytest

from hydra._errors import HydraError, InvalidValueError
from hydra._validate import fraction, non_negative, positive, positive_seconds, to_decimal


@attrs.frozen(kw_only=True)
class _Priced:
    price: Decimal = attrs.field(converter=to_decimal, validator=positive)


def test_floats_become_their_shortest_exact_decimal() -> None:
    """0.1 becomes Decimal('0.1'), not the binary float's long expansion."""
    assert _Priced(price=0.1).price == Decimal("0.1")
    assert _Priced(price="350.25").price == Decimal("350.25")
    assert _Priced(price=7).price == Decimal(7)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (float("nan"), "must be finite"),
        (Decimal("sNaN"), "must be finite"),
        (float("-inf"), "must be finite"),
        (0, "must be greater than zero"),
        ("-2", "must be greater than zero"),
        ("twelve", "must be a number"),
        (None, "must be a number"),
        (True, "must be a number"),
    ],
)
def test_bad_prices_name_field_and_value(value: object, problem: str) -> None:
    """Each kind of bad price is refused with the field, the problem and the value's repr."""
    with pytest.raises(InvalidValueError) as caught:
        _Priced(price=value)
    assert caught.value.field == "price"
    assert str(caught.value).startswith(f"price: {problem}, got ")


def test_invalid_value_error_is_a_value_error_and_hydra_error() -> None:
    """Validation errors can be caught as ValueError or as HydraError."""
    assert issubclass(InvalidValueError, ValueError)
    assert issubclass(InvalidValueError, HydraError)


@attrs.frozen(kw_only=True)
class _Timed:
    wait: float = attrs.field(default=1.0, validator=positive_seconds)
    share: float = attrs.field(default=0.0, validator=fraction)
    size: float = attrs.field(default=0.0, validator=non_negative)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"wait": 0}, "wait"),
        ({"wait": float("inf")}, "wait"),
        ({"wait": "5"}, "wait"),
        ({"share": 1}, "share"),
        ({"share": -0.1}, "share"),
        ({"size": -1}, "size"),
        ({"size": float("nan")}, "size"),
    ],
)
def test_durations_fractions_and_sizes_are_checked(changes: dict[str, object], field: str) -> None:
    """Durations must be finite and positive, fractions in [0, 1), sizes finite and >= 0."""
    with pytest.raises(InvalidValueError, match=f"^{field}:"):
        _Timed(**changes)  # type: ignore[arg-type]
