"""TWAP slicing: slice sizes, a jittered schedule of start times, and the plan combining them;
the same plan inside a contract's sessions; the lots that may rest ahead of the schedule; and
the chunks that keep each order within the order-quantity limit."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from typing import Any

import attrs

from .._errors import InvalidValueError
from .._settings import ExecutionSettings
from ._sessions import SessionCalendar


def _check_count(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidValueError(field, value, "must be a whole number above zero")
    return value


def _check_seconds(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValueError(field, value, "must be a number of seconds")
    if not math.isfinite(value) or value <= 0:
        raise InvalidValueError(field, value, "must be a finite number of seconds above zero")
    return float(value)


def _check_jitter(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise InvalidValueError("jitter", value, "must be a number at least 0 and below 1")
    return float(value)


def slice_sizes(quantity: int, slices: int) -> tuple[int, ...]:
    """``quantity`` split into at most ``slices`` sizes differing by at most one, larger first."""
    base, extra = divmod(_check_count("quantity", quantity), _check_count("slices", slices))
    sizes = [base + 1] * extra + [base] * (slices - extra)
    return tuple(size for size in sizes if size > 0)


def chunk_sizes(quantity: int, max_order_quantity: int | None) -> tuple[int, ...]:
    """``quantity`` as consecutive orders of at most ``max_order_quantity`` each (None: one
    order), as few as the limit allows, differing by at most one, larger first."""
    quantity = _check_count("quantity", quantity)
    if max_order_quantity is None:
        return (quantity,)
    limit = _check_count("max_order_quantity", max_order_quantity)
    return slice_sizes(quantity, -(-quantity // limit))


def lots_ahead(sizes: tuple[int, ...], index: int, *, filled: int, ahead: int,
               max_order_quantity: int | None = None) -> int:
    """The lots to rest ahead of schedule before slice ``index`` (from 0) starts: the next
    ``ahead`` slices' lots (slice ``index`` and those after it) less what has filled beyond
    the earlier slices, at most ``max_order_quantity`` (None: no limit); 0 when the earlier
    slices are not all filled (lots behind schedule are the slice's to work, not these)."""
    planned = sum(sizes[:index])
    if filled < planned or ahead <= 0:
        return 0
    lots = planned + sum(sizes[index:index + ahead]) - filled
    return max(0, lots if max_order_quantity is None else min(lots, max_order_quantity))


def intervals(
    count: int, *, horizon: float, jitter: float, rng: random.Random
) -> tuple[float, ...]:
    """Each slice's working time, base × (1 ± jitter), scaled down to fit inside ``horizon``."""
    horizon, jitter = _check_seconds("horizon", horizon), _check_jitter(jitter)
    if not isinstance(rng, random.Random):
        raise InvalidValueError("rng", rng, "must be a seeded random.Random")
    base = horizon / _check_count("count", count)
    raw = [base * (1 + rng.uniform(-jitter, jitter)) for _ in range(count)]
    scale = min(1.0, horizon / sum(raw))
    durations = [d * scale for d in raw]
    last_start = starts_of(tuple(durations))[-1]
    durations[-1] = min(durations[-1], horizon - last_start)  # float rounding must not spill over
    return tuple(durations)


def starts_of(durations: tuple[float, ...]) -> tuple[float, ...]:
    """Start offsets of back-to-back intervals: 0, then each running total but the last."""
    return (0.0, *itertools.accumulate(durations[:-1]))


def schedule(count: int, *, horizon: float, jitter: float, rng: random.Random) -> tuple[float, ...]:
    """Start offsets in seconds of ``count`` slices over ``horizon``, the first at 0."""
    return starts_of(intervals(count, horizon=horizon, jitter=jitter, rng=rng))


@attrs.frozen(kw_only=True)
class TwapPlan:
    """A TWAP's slices: sizes, start offsets and working times (seconds), one of each per slice."""

    sizes: tuple[int, ...]
    starts: tuple[float, ...]
    durations: tuple[float, ...]

    @property
    def quantity(self) -> int:
        return sum(self.sizes)

    def slices(self) -> tuple[tuple[int, float, float], ...]:
        """(size, start, duration) of each slice, in order."""
        return tuple(zip(self.sizes, self.starts, self.durations, strict=True))


def plan_twap(quantity: int, *, settings: ExecutionSettings, rng: random.Random) -> TwapPlan:
    """Split ``quantity`` into ``settings.twap_slices`` slices spread over the TWAP horizon."""
    sizes = slice_sizes(quantity, settings.twap_slices)
    durations = intervals(
        len(sizes), horizon=settings.twap_horizon, jitter=settings.twap_jitter, rng=rng
    )
    return TwapPlan(sizes=sizes, starts=starts_of(durations), durations=durations)


def plan_twap_in_sessions(
    quantity: int, *, settings: ExecutionSettings, rng: random.Random, start: dt.datetime,
    calendar: SessionCalendar,
) -> TwapPlan:
    """`plan_twap` for a TWAP starting at ``start`` (inside a session of ``calendar``), its
    offsets in seconds from ``start`` on the wall clock, every slice inside a session.

    Without ``settings.twap_carry`` the horizon is cut at the session's close. With it, the
    horizon is session time: the plan is laid out over the open seconds from ``start`` (as far
    as the calendar knows them), each slice starts where that much session time has passed,
    and a slice that would run past a close is cut there (the next slice makes up its rest)."""
    close = calendar.close_of(start)
    if close is None:
        raise InvalidValueError("start", start.isoformat(), "is outside the sessions")
    if not settings.twap_carry:
        horizon = min(settings.twap_horizon, (close - start).total_seconds())
        return plan_twap(quantity, settings=_with_horizon(settings, horizon), rng=rng)
    known = calendar.open_seconds(start, calendar.known_until)
    inside = plan_twap(quantity, settings=_with_horizon(settings, min(settings.twap_horizon,
                                                                       known)), rng=rng)
    starts, durations = [], []
    for offset, duration in zip(inside.starts, inside.durations, strict=True):
        begins = calendar.after_open_seconds(start, offset)
        assert begins is not None  # the horizon is within the known session time
        session_close = calendar.close_of(begins)
        assert session_close is not None
        starts.append((begins - start).total_seconds())
        durations.append(min(duration, (session_close - begins).total_seconds()))
    return TwapPlan(sizes=inside.sizes, starts=tuple(starts), durations=tuple(durations))


def _with_horizon(settings: ExecutionSettings, horizon: float) -> ExecutionSettings:
    return attrs.evolve(settings, twap_horizon=horizon)
