"""Routing: which policy works an intent, from its participation in average daily volume."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from .._enums import Policy
from .._errors import InvalidValueError
from .._settings import ExecutionSettings


def _check_quantity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidValueError("quantity", value, "must be a whole number above zero")
    return value


def _check_adv(value: Any) -> Decimal:
    if value is None:
        raise InvalidValueError("adv", value, "is missing: configure the contract's ADV")
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidValueError("adv", value, "must be a number of contracts per day")
    if isinstance(value, float):
        value = Decimal(repr(value)) if math.isfinite(value) else Decimal(str(value))
    adv = Decimal(value)
    if not adv.is_finite() or adv <= 0:
        raise InvalidValueError("adv", value, "must be a finite number above zero")
    return adv


def participation(quantity: int, *, adv: Decimal | int | None) -> Decimal:
    """``quantity`` as a fraction of average daily volume (``adv``, contracts per day)."""
    return _check_quantity(quantity) / _check_adv(adv)


def route(
    quantity: int,
    *,
    adv: Decimal | int | None,
    settings: ExecutionSettings,
    policy: Policy | None = None,
) -> Policy:
    """The policy that works ``quantity``: an explicit one, else PATIENCE or TWAP by participation.

    An explicit policy other than AUTO needs no ADV; AUTO or ``None`` route by participation,
    PATIENCE below ``settings.twap_threshold`` and TWAP at or above it.
    """
    if policy is not None and not isinstance(policy, Policy):
        raise InvalidValueError("policy", policy, "must be a Policy or None")
    if policy is not None and policy is not Policy.AUTO:
        _check_quantity(quantity)
        return policy
    if participation(quantity, adv=adv) < settings.twap_threshold:
        return Policy.PATIENCE
    return Policy.TWAP
