"""Converters and validators for attrs fields: exact decimals, finite positive numbers.

Every failure raises `InvalidValueError` naming the field and showing the bad value.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from ._errors import InvalidValueError


def _decimal(value: Any, field: attrs.Attribute[Any]) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise InvalidValueError(field.name, value, "must be a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr gives the shortest decimal that round-trips: 0.1 -> Decimal("0.1").
        return Decimal(repr(value)) if math.isfinite(value) else Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise InvalidValueError(field.name, value, "must be a number") from None
    raise InvalidValueError(field.name, value, "must be a number")


to_decimal = attrs.Converter(_decimal, takes_field=True)  # type: ignore[misc,call-overload]
"""attrs converter: int, str, float or Decimal to an exact `Decimal`, naming the field if not."""


def _optional_decimal(value: Any, field: attrs.Attribute[Any]) -> Decimal | None:
    return None if value is None else _decimal(value, field)


to_optional_decimal = attrs.Converter(  # type: ignore[misc,call-overload]
    _optional_decimal, takes_field=True
)
"""Like `to_decimal`, but lets ``None`` through."""


def positive(_: Any, field: attrs.Attribute[Any], value: Decimal) -> None:
    """Validator: a finite Decimal greater than zero."""
    if not value.is_finite():
        raise InvalidValueError(field.name, value, "must be finite")
    if value <= 0:
        raise InvalidValueError(field.name, value, "must be greater than zero")


def non_negative(_: Any, field: attrs.Attribute[Any], value: Decimal | float) -> None:
    """Validator: a finite number that is zero or more."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidValueError(field.name, value, "must be a number")
    if not (value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)):
        raise InvalidValueError(field.name, value, "must be finite")
    if value < 0:
        raise InvalidValueError(field.name, value, "must not be negative")


def optional_positive(instance: Any, field: attrs.Attribute[Any], value: Decimal | None) -> None:
    """Validator: ``None`` or a finite Decimal greater than zero."""
    if value is not None:
        positive(instance, field, value)


def positive_int(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a whole number (not a bool) greater than zero."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError(field.name, value, "must be a whole number")
    if value <= 0:
        raise InvalidValueError(field.name, value, "must be greater than zero")


def non_negative_int(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a whole number (not a bool) of zero or more."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError(field.name, value, "must be a whole number")
    if value < 0:
        raise InvalidValueError(field.name, value, "must not be negative")


def positive_seconds(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a finite duration in seconds greater than zero (int or float)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValueError(field.name, value, "must be a number of seconds")
    if not math.isfinite(value) or value <= 0:
        raise InvalidValueError(field.name, value, "must be a finite number of seconds above zero")


def fraction(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidValueError(field.name, value, "must be a number")
    if not (0 <= value < 1):
        raise InvalidValueError(field.name, value, "must be at least 0 and below 1")


def non_empty_str(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a string with something other than whitespace in it."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(field.name, value, "must be a non-empty string")
