"""The statistics of ``bench/tca.py``, pure and synchronous: means with 95% Student-t intervals,
paired differences (common random numbers), CVaR95 and the capture ratio.

Conventions: costs are positive (bps or dollars), so CVaR95 is the mean of the worst (highest)
5% of runs, and a paired difference ``a − b`` below zero means ``a`` was cheaper on the same
seeds. A seed −s is seed s's market mirrored: means and intervals take the pair as one draw
(`pair_means`). ``tests/test_tca_stats.py`` checks each helper on known inputs.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

import attrs
from _common import t_quantile


@attrs.frozen
class Estimate:
    """A mean over ``n`` values and its 95% Student-t interval (df = n − 1)."""

    n: int
    mean: float
    half_width: float  # nan for fewer than 2 values

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of zero."""
        return not math.isnan(self.half_width) and (self.low > 0 or self.high < 0)

    def to_json(self) -> dict[str, float | int | None]:
        return {"n": self.n, "mean": _finite(self.mean), "ci_low": _finite(self.low),
                "ci_high": _finite(self.high)}

    def __str__(self) -> str:
        if self.n == 0:
            return "—"
        if math.isnan(self.half_width):
            return f"{self.mean:+.2f}"
        return f"{self.mean:+.2f} ± {self.half_width:.2f}"


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


def estimate(values: Sequence[float]) -> Estimate:
    """The mean of ``values`` with its 95% t interval."""
    n = len(values)
    if n == 0:
        return Estimate(0, math.nan, math.nan)
    mean = statistics.fmean(values)
    if n < 2:
        return Estimate(n, mean, math.nan)
    return Estimate(n, mean, t_quantile(0.975, n - 1) * statistics.stdev(values) / math.sqrt(n))


def sd(values: Sequence[float]) -> float:
    """The sample standard deviation (nan for fewer than 2 values)."""
    return statistics.stdev(values) if len(values) >= 2 else math.nan


def cvar(values: Sequence[float], level: float = 0.95) -> float:
    """Conditional value at risk of costs: the mean of the worst ``1 − level`` share of
    ``values`` (the highest costs), at least one value; nan for none. With 100 values at 95%,
    the mean of the 5 highest."""
    if not values:
        return math.nan
    count = max(1, math.ceil(round((1 - level) * len(values), 9)))
    return statistics.fmean(sorted(values, reverse=True)[:count])


def paired(a: Mapping[int, float], b: Mapping[int, float]) -> Estimate:
    """The mean per-seed difference ``a − b`` over the seeds both have, with its interval."""
    seeds = sorted(a.keys() & b.keys())
    return estimate([a[seed] - b[seed] for seed in seeds])


def pair_means(values: Mapping[int, float]) -> dict[int, float]:
    """Per seed s, the mean of its value and its mirror's (seed −s) where both are there, else
    its own: a seed and its mirror are one antithetic draw, so intervals count pairs, not
    runs (their values are correlated, mostly negatively)."""
    groups: dict[int, list[float]] = {}
    for seed, value in values.items():
        groups.setdefault(abs(seed), []).append(value)
    return {seed: statistics.fmean(group) for seed, group in groups.items()}


def capture(policy: float, twap_cross: float, oracle: float) -> float:
    """The share of the achievable saving (twap-cross's cost down to the oracle's) that
    ``policy`` takes: 1 at the oracle, 0 at twap-cross, below 0 when dearer than twap-cross;
    nan when the oracle is no cheaper than twap-cross."""
    gap = twap_cross - oracle
    return (twap_cross - policy) / gap if gap > 0 else math.nan
