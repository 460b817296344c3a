"""Tick arithmetic for limit prices: passive and aggressive rounding, the slippage guard, offsets.

Pure functions of exact `Decimal` prices. "Passive" means away from the market (a buy lower, a
sell higher); "aggressive" means toward it. Every price returned is a whole number of ticks.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._enums import Side
from .._errors import InvalidValueError
from .._settings import Distance


def check_price(field: str, value: Any, *, positive: bool = True) -> Decimal:
    """``value`` as a finite Decimal (above zero if ``positive``), or an error naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvalidValueError(field, value, "must be a Decimal (prices are never floats)")
    price = Decimal(value)
    if not price.is_finite():
        raise InvalidValueError(field, value, "must be finite")
    if positive and price <= 0:
        raise InvalidValueError(field, value, "must be greater than zero")
    return price


def check_side(value: Any) -> Side:
    """``value`` if it is a `Side`, else an error naming ``side``."""
    if not isinstance(value, Side):
        raise InvalidValueError("side", value, "must be Side.BUY or Side.SELL")
    return value


def floor_to_tick(price: Decimal, *, tick_size: Decimal) -> Decimal:
    """The largest whole number of ticks at or below ``price``."""
    ticks, rest = divmod(
        check_price("price", price, positive=False), check_price("tick_size", tick_size)
    )
    return (ticks - 1 if rest < 0 else ticks) * tick_size


def ceil_to_tick(price: Decimal, *, tick_size: Decimal) -> Decimal:
    """The smallest whole number of ticks at or above ``price``."""
    ticks, rest = divmod(
        check_price("price", price, positive=False), check_price("tick_size", tick_size)
    )
    return (ticks + 1 if rest > 0 else ticks) * tick_size


def round_passive(side: Side, price: Decimal, *, tick_size: Decimal) -> Decimal:
    """``price`` on the tick grid, away from the market: a buy down, a sell up."""
    if check_side(side) is Side.BUY:
        return floor_to_tick(price, tick_size=tick_size)
    return ceil_to_tick(price, tick_size=tick_size)


def round_aggressive(side: Side, price: Decimal, *, tick_size: Decimal) -> Decimal:
    """``price`` on the tick grid, toward the market: a buy up, a sell down."""
    return round_passive(check_side(side).opposite, price, tick_size=tick_size)


def guard_limit(
    side: Side, *, arrival_mid: Decimal, guard: Distance, tick_size: Decimal
) -> Decimal:
    """The furthest price the slippage guard allows from ``arrival_mid``; at least one tick."""
    mid = check_price("arrival_mid", arrival_mid)
    distance = guard.in_price(reference=mid, tick_size=check_price("tick_size", tick_size))
    if check_side(side) is Side.BUY:
        limit = floor_to_tick(mid + distance, tick_size=tick_size)
    else:
        limit = ceil_to_tick(mid - distance, tick_size=tick_size)
    return max(limit, tick_size)


def clamp_to_guard(side: Side, price: Decimal, *, limit: Decimal) -> Decimal:
    """``price``, pulled back to the guard ``limit`` if it goes past it."""
    price = check_price("price", price, positive=False)
    limit = check_price("limit", limit)
    return min(price, limit) if check_side(side) is Side.BUY else max(price, limit)


def apply_offset(side: Side, mid: Decimal, *, offset: Distance, tick_size: Decimal) -> Decimal:
    """``mid`` moved by ``offset`` to the passive side (buy below, sell above); not rounded."""
    mid = check_price("mid", mid)
    distance = offset.in_price(reference=mid, tick_size=check_price("tick_size", tick_size))
    return mid - distance if check_side(side) is Side.BUY else mid + distance


def is_at_least_as_aggressive(side: Side, price: Decimal, than: Decimal) -> bool:
    """True when ``price`` is as close to the market as ``than`` or closer (buy: higher)."""
    return price >= than if check_side(side) is Side.BUY else price <= than
