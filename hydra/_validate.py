"""Converters and validators for attrs fields: exact decimals, finite positive numbers.

Every failure raises `InvalidValueError` naming the field and showing the bad value.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from ._errors import InvalidValueError


class WrittenFloat(float):
    """A float that keeps the decimal it was written as (a TOML file's
    ``max_order_notional = 17499.9999999999999999``), so `to_decimal` reads it exactly however
    many digits it has, while every float setting and check sees an ordinary float."""

    __slots__ = ("written",)
    written: Decimal

    def __new__(cls, text: str) -> WrittenFloat:
        number = super().__new__(cls, text)
        number.written = _without_exponent(Decimal(text))
        return number

    def __reduce__(self) -> tuple[type[WrittenFloat], tuple[str]]:
        return WrittenFloat, (str(self.written),)


def _without_exponent(number: Decimal) -> Decimal:
    """``number`` with its digits written out when it has a positive exponent and at most the
    context's precision of them (1e3 as 1000, not 1E+3); else as it is (1e999999999 is not
    written out: a billion digits)."""
    if not number.is_finite() or int(number.as_tuple().exponent) <= 0:
        return number
    try:
        return number.quantize(Decimal(1))
    except InvalidOperation:
        return number


def to_decimal(value: Any) -> Any:
    """attrs converter: int, str, float or Decimal to an exact `Decimal`.

    Anything it cannot convert passes through unchanged for the field's validator to refuse by
    name (a converter does not know which field it serves). A `WrittenFloat` becomes the
    decimal it was written as; other floats their shortest exact decimal: 0.1 becomes
    Decimal("0.1").
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, WrittenFloat):
        return value.written
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return value
    return value


def to_optional_decimal(value: Any) -> Any:
    """Like `to_decimal`, but lets ``None`` through."""
    return None if value is None else to_decimal(value)


def _number(field: attrs.Attribute[Any], value: Any) -> Decimal:
    if not isinstance(value, Decimal):
        raise InvalidValueError(field.name, value, "must be a number")
    if not value.is_finite():
        raise InvalidValueError(field.name, value, "must be finite")
    return value


def positive(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a finite Decimal greater than zero."""
    if _number(field, value) <= 0:
        raise InvalidValueError(field.name, value, "must be greater than zero")


def non_negative(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a finite Decimal that is zero or more."""
    if _number(field, value) < 0:
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


MAX_ID_CHARS = 64
"""The longest intent id, strategy name or control id (they travel to the broker in orderRef)."""


def printable_text(field: str, value: Any, longest: int) -> str:
    """``value``, the ``field`` of a line or an answer: a string of printable characters, not
    blank, at most ``longest`` long (a longer one is shown cut to ``longest``)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(field, value, "must be a non-empty string")
    if len(value) > longest:
        raise InvalidValueError(field, f"{value[:longest]}…",
                                f"must be at most {longest} characters")
    if not value.isprintable():
        raise InvalidValueError(field, value, "must hold only printable characters")
    return value


DELIVERY_MONTH = re.compile(r"^\d{4}(0[1-9]|1[0-2])$")
"""A futures delivery month as ``YYYYMM``."""


def optional_delivery_month(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    """Validator: ``None`` or a delivery month as ``YYYYMM``."""
    if value is not None and not (isinstance(value, str) and DELIVERY_MONTH.match(value)):
        raise InvalidValueError(field.name, value, "must be a delivery month as YYYYMM")
