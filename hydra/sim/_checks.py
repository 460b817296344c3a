"""Validators for the simulator's plain float parameters (times, rates, weights)."""

from __future__ import annotations

import math
from typing import Any

import attrs

from .._errors import InvalidValueError


def non_negative_number(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a finite int or float of zero or more (seconds, weights, volatilities)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValueError(field.name, value, "must be a number")
    if not math.isfinite(value) or value < 0:
        raise InvalidValueError(field.name, value, "must be finite and not negative")


def finite_number(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a finite int or float, of either sign."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidValueError(field.name, value, "must be a finite number")
