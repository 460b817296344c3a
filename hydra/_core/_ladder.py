"""The patience ladder and the two baseline policies, as pure functions of the current quote.

The ladder prices from the crowd's quote, our own resting order taken out of it
(`hydra._core._crowd`). Stage 0 rests at the crowd's near touch, or one tick inside it when the
crowd's spread is two ticks or more (less the limit offset); stage 1 steps toward the market by
``price_step_pct`` and stage 2 goes to one tick short of the far touch: neither takes a spread
wider than one tick. The far touch is taken only when the crowd's spread is one tick with size
displayed there (from the stage the urgency allows) and our order is not first in the crowd's
queue at the near touch (there, the next marketable order from the other side fills it), or in
the last stage of an intent's last order, when the deadline demands it. Every price is a limit
price on the tick grid, never past the slippage guard. `repeg` says when a resting order moves
to its stage's price; `ladder_wait` how long each stage lasts; `chases` when the market has
moved far enough against the order that the ladder goes to its last stage at once. Two settings
give a ladder with time to spare (an order stretched over its deadline by ``deadline_share``) to
the queue: with ``stretch_rest`` the stretch is stage 0's alone, and a stage 0 resting
``join_wait`` or longer joins the crowd's near touch of a wide spread instead of paying a tick
to lead it.
"""

from __future__ import annotations

import enum
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .._contracts import ContractSpec
from .._enums import Policy, Side
from .._errors import InvalidValueError
from .._quotes import Quote
from .._settings import ExecutionSettings, Urgency
from ._crowd import OwnOrder, alone_at_touch, crowd_quote, far_size, first_in_queue
from ._pricing import (
    apply_offset,
    check_side,
    clamp_to_guard,
    guard_limit,
    is_at_least_as_aggressive,
    round_aggressive,
    round_passive,
)


class LadderStage(enum.IntEnum):
    """One rung of the patience ladder, in the order they are worked."""

    RESTING = 0
    STEPPED = 1
    CROSSING = 2


_WAIT_FRACTION = {LadderStage.RESTING: 1.0, LadderStage.STEPPED: 0.5, LadderStage.CROSSING: 0.25}

_FIRST_TAKING = {Urgency.LOW: None, Urgency.NORMAL: LadderStage.STEPPED,
                 Urgency.HIGH: LadderStage.RESTING}
"""The first stage that takes a one-tick crowd spread, by urgency (LOW: only at the deadline)."""


def _check_stage(value: Any) -> LadderStage:
    if isinstance(value, bool) or not isinstance(value, int) or value not in set(LadderStage):
        raise InvalidValueError("stage", value, "must be a LadderStage (0, 1 or 2)")
    return LadderStage(value)


def ladder_patience(settings: ExecutionSettings) -> float:
    """The stage-0 wait: ``patience``, or longer when the ladder must span its share of the
    deadline (the whole ladder lasts 1.75 times this)."""
    span = settings.deadline_share * settings.twap_horizon
    return max(settings.patience, span / _LADDER_LENGTH)


_LADDER_LENGTH = sum(_WAIT_FRACTION.values())


def _stretched_rest(settings: ExecutionSettings) -> float:
    """Stage 0's wait with ``stretch_rest``: ``patience``, and all of the stretch by which the
    ladder's share of the deadline is longer than ``patience`` × 1.75."""
    span = settings.deadline_share * settings.twap_horizon
    return settings.patience + max(0.0, span - settings.patience * _LADDER_LENGTH)


def ladder_wait(stage: LadderStage, *, settings: ExecutionSettings) -> float:
    """Seconds to rest at ``stage``: `ladder_patience`, then half of it, then a quarter; with
    ``stretch_rest``, the step and the last stage keep ``patience``'s half and quarter and
    stage 0 rests for the rest of the ladder's span."""
    stage = _check_stage(stage)
    if not settings.stretch_rest:
        return ladder_patience(settings) * _WAIT_FRACTION[stage]
    if stage is not LadderStage.RESTING:
        return settings.patience * _WAIT_FRACTION[stage]
    return _stretched_rest(settings)


def chases(side: Side, quote: Quote, *, own: OwnOrder | None, settings: ExecutionSettings,
           contract: ContractSpec, arrival_mid: Decimal) -> bool:
    """True when the crowd's mid (``quote`` without ``own`` in it) has moved against the order
    from ``arrival_mid`` by ``chase_at`` of the slippage guard or more: the ladder then goes
    to its last stage at once, before the market runs past the guard and leaves the rest to
    be bought at the deadline at a worse price."""
    side, tick = check_side(side), contract.tick_size
    crowd = crowd_quote(side, quote, own=own, tick_size=tick)
    reach = settings.slippage_guard.in_price(reference=arrival_mid, tick_size=tick)
    return side.sign * (crowd.mid - arrival_mid) >= settings.chase_at * reach


def step_size(*, mid: Decimal, settings: ExecutionSettings, tick_size: Decimal) -> Decimal:
    """One step toward the market: ``price_step_pct`` % of mid in whole ticks, at least one."""
    ticks = (mid * settings.price_step_pct / 100 / tick_size).quantize(1, ROUND_HALF_UP)
    return max(ticks, Decimal(1)) * tick_size


def takes(side: Side, crowd: Quote, stage: LadderStage, *, urgency: Urgency, final: bool,
          tick_size: Decimal, first: bool = False) -> bool:
    """True when ``stage`` takes the far touch of the ``crowd``'s quote: in the last stage of
    an intent's ``final`` order, or when the crowd's spread is one tick with size displayed
    there, ``urgency`` allows taking at ``stage`` and our order is not ``first`` in the
    crowd's queue at the near touch (`first_in_queue`)."""
    if final and stage is LadderStage.CROSSING:
        return True
    if first:
        return False
    taking = _FIRST_TAKING[urgency]
    one_tick = crowd.spread <= tick_size and far_size(side, crowd) > 0
    return one_tick and taking is not None and stage >= taking


def _toward(side: Side, a: Decimal, b: Decimal) -> Decimal:
    """The more aggressive of two prices (buy: the higher)."""
    return max(a, b) if side is Side.BUY else min(a, b)


def _away(side: Side, a: Decimal, b: Decimal) -> Decimal:
    """The less aggressive of two prices (buy: the lower)."""
    return min(a, b) if side is Side.BUY else max(a, b)


def _unguarded_price(side: Side, crowd: Quote, stage: LadderStage, settings: ExecutionSettings,
                     tick: Decimal, *, final: bool, first: bool) -> Decimal:
    far = round_aggressive(side, crowd.far_touch(side), tick_size=tick)
    if takes(side, crowd, stage, urgency=settings.urgency, final=final, tick_size=tick,
             first=first):
        return far
    near = round_passive(side, crowd.near_touch(side), tick_size=tick)
    wide = abs(far - near) >= 2 * tick
    passive = near + side.sign * tick if wide else near
    inside = _toward(side, passive, far - side.sign * tick)  # the best price that does not take
    if stage is LadderStage.RESTING:
        joins = ladder_wait(LadderStage.RESTING, settings=settings) >= settings.join_wait
        offset = apply_offset(side, near if joins else passive, offset=settings.limit_offset,
                              tick_size=tick)
        return round_passive(side, offset, tick_size=tick)
    if stage is LadderStage.STEPPED:
        step = step_size(mid=crowd.mid, settings=settings, tick_size=tick)
        return _away(side, passive + side.sign * step, inside)
    return inside


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
    own: OwnOrder | None = None,
    final: bool = False,
) -> Decimal:
    """The limit price of ``stage`` for the current ``quote`` without ``own`` (our order resting
    in it) in it, clamped to the slippage guard; ``final``: the intent's last order, whose last
    stage takes whatever the spread. Only where ``own`` stands in the queue (``own.ahead``)
    is read from it, never its price as the market's."""
    side, stage, tick = check_side(side), _check_stage(stage), contract.tick_size
    guard = guard_limit(
        side, arrival_mid=arrival_mid, guard=settings.slippage_guard, tick_size=tick
    )
    crowd = crowd_quote(side, quote, own=own, tick_size=tick)
    price = _unguarded_price(side, crowd, stage, settings, tick, final=final,
                             first=first_in_queue(side, crowd, own))
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


def repeg(
    side: Side,
    quote: Quote,
    stage: LadderStage,
    *,
    own: OwnOrder,
    settings: ExecutionSettings,
    contract: ContractSpec,
    arrival_mid: Decimal,
    final: bool = False,
    new_stage: bool = False,
) -> Decimal | None:
    """The price to move ``own`` (our resting order) to at ``quote``, or None to leave it.

    The stage's price (`ladder_price`), when it is toward the market from ``own.price``: the
    ladder never moves away from the market. When a ``new_stage`` begins the order goes to the
    stage's price; within a stage it follows the crowd's touch from the step on, and moves
    otherwise only to take the far touch: at stage 0 it rests where it was placed (following
    a touch that moved away is chasing), and while our order is alone at the displayed touch
    the crowd's own touch is only an estimate (re-pricing from it would step the order up again
    and again, chasing itself)."""
    price = ladder_price(side, quote, stage, settings=settings, contract=contract,
                         arrival_mid=arrival_mid, own=own, final=final)
    if price == own.price or not is_at_least_as_aggressive(side, price, own.price):
        return None
    alone = alone_at_touch(side, quote, own)
    follows = new_stage or (stage is not LadderStage.RESTING and not alone)
    if not follows and not is_at_least_as_aggressive(side, price, quote.far_touch(side)):
        return None
    return price
