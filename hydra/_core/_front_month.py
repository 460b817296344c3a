"""The front month: the nearest delivery month a trader should trade, given how many days
before its delivery window (first notice, or last trade when cash-settled) a position is
rolled. Pure."""

from __future__ import annotations

import datetime as dt

from .._contracts import ContractSpec, delivery_months, delivery_window_opens
from .._errors import InvalidValueError


def days_to_delivery_window(symbol: str, month: str, *, today: dt.date) -> int:
    """Days from ``today`` until ``month`` of ``symbol`` enters its delivery window (zero on
    its first day, negative inside it)."""
    return (delivery_window_opens(symbol, month) - today).days


def in_roll_window(symbol: str, month: str, *, today: dt.date, roll_days: int) -> bool:
    """True when ``month`` is within ``roll_days`` days of its first notice or last trade,
    or past it: a position in it should be rolled, and nothing new opened in it."""
    return days_to_delivery_window(symbol, month, today=today) <= roll_days


def front_month(spec: ContractSpec, *, today: dt.date, roll_days: int) -> str:
    """The nearest listed month of ``spec`` ("YYYYMM") not within ``roll_days`` of its first
    notice or last trade on ``today``."""
    if isinstance(roll_days, bool) or not isinstance(roll_days, int) or roll_days < 0:
        raise InvalidValueError("roll_days", roll_days, "must be a whole number of days, >= 0")
    months = delivery_months(spec, since=today)  # without end: one always qualifies
    return next(m for m in months
                if not in_roll_window(spec.symbol, m, today=today, roll_days=roll_days))
