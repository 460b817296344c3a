"""The patience ladder and the two baseline policies, as pure functions of the current quote.

Stage 0 rests at mid (less the limit offset), stage 1 steps toward the market, stage 2 crosses
the spread. Every price is a limit price on the tick grid, never past the slippage guard.
"""

from __future__ import annotations

import enum
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .._contracts import ContractSpec
from .._enums import Policy, Side
from .._errors import InvalidValueError
from .._quotes import Quote
from .._settings import ExecutionSettings
from ._pricing import (
    apply_offset,
    check_side,
    clamp_to_guard,
    guard_limit,
    round_aggressive,
    round_passive,
)


class LadderStage(enum.IntEnum):
    """One rung of the patience ladder, in the order they are worked."""

    AT_MID = 0
    STEPPED = 1
    CROSSING = 2


_WAIT_FRACTION = {LadderStage.AT_MID: 1.0, LadderStage.STEPPED: 0.5, LadderStage.CROSSING: 0.25}


def _check_stage(value: Any) -> LadderStage:
    if isinstance(value, bool) or not isinstance(value, int) or value not in set(LadderStage):
        raise InvalidValueError("stage", value, "must be a LadderStage (0, 1 or 2)")
    return LadderStage(value)


def ladder_wait(stage: LadderStage, *, settings: ExecutionSettings) -> float:
    """Seconds to rest at ``stage``: patience, then half of it, then a quarter."""
    return settings.patience * _WAIT_FRACTION[_check_stage(stage)]


def step_size(*, mid: Decimal, settings: ExecutionSettings, tick_size: Decimal) -> Decimal:
    """One step toward the market: ``price_step_pct`` % of mid in whole ticks, at least one."""
    ticks = (mid * settings.price_step_pct / 100 / tick_size).quantize(1, ROUND_HALF_UP)
    return max(ticks, Decimal(1)) * tick_size


def _unguarded_price(
    side: Side, quote: Quote, stage: LadderStage, settings: ExecutionSettings, tick: Decimal
) -> Decimal:
    far = round_aggressive(side, quote.far_touch(side), tick_size=tick)
    if stage is LadderStage.CROSSING:
        return far
    at_mid = apply_offset(side, quote.mid, offset=settings.limit_offset, tick_size=tick)
    price = round_passive(side, at_mid, tick_size=tick)
    if stage is LadderStage.AT_MID:
        return price
    stepped = price + side.sign * step_size(mid=quote.mid, settings=settings, tick_size=tick)
    return min(stepped, far) if side is Side.BUY else max(stepped, far)


def _guarded(side: Side, price: Decimal, *, guard: Decimal, tick: Decimal) -> Decimal:
    return max(clamp_to_guard(side, price, limit=guard), tick)


def ladder_price(
    side: Side,
    quote: Quote,
    stage: LadderStage,
    *,
    settings: ExecutionSettings,
    contract: ContractSpec,
    arrival_mid: Decimal,
) -> Decimal:
    """The limit price of ``stage`` for the current ``quote``, clamped to the slippage guard."""
    side, stage, tick = check_side(side), _check_stage(stage), contract.tick_size
    guard = guard_limit(
        side, arrival_mid=arrival_mid, guard=settings.slippage_guard, tick_size=tick
    )
    price = _unguarded_price(side, quote, stage, settings, tick)
    return _guarded(side, price, guard=guard, tick=tick)


def baseline_price(
    policy: Policy,
    side: Side,
    quote: Quote,
    *,
    settings: ExecutionSettings,
    contract: ContractSpec,
    arrival_mid: Decimal,
) -> Decimal:
    """The limit price of a baseline: CROSS at the far touch, PASSIVE at the near touch."""
    side, tick = check_side(side), contract.tick_size
    if policy is Policy.CROSS:
        price = round_aggressive(side, quote.far_touch(side), tick_size=tick)
    elif policy is Policy.PASSIVE:
        price = round_passive(side, quote.near_touch(side), tick_size=tick)
    else:
        raise InvalidValueError("policy", policy, "must be Policy.CROSS or Policy.PASSIVE")
    guard = guard_limit(
        side, arrival_mid=arrival_mid, guard=settings.slippage_guard, tick_size=tick
    )
    return _guarded(side, price, guard=guard, tick=tick)
