"""The pure statistics of ``bench/tca.py`` (``bench/_tca_stats.py``) on known inputs: intervals,
paired differences, CVaR95 and capture. The benchmark itself is never a test."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from _tca_stats import capture, cvar, estimate, pair_means, paired, sd


def test_estimate_is_the_mean_with_a_student_t_interval() -> None:
    """Four values 1..4: mean 2.5, half-width t(0.975, 3) × s / 2 = 3.182 × 1.291 / 2 (the
    Cornish-Fisher t of ``_common`` is 3.179 at df = 3)."""
    e = estimate([1.0, 2.0, 3.0, 4.0])
    assert e.n == 4 and e.mean == 2.5
    assert e.half_width == pytest.approx(3.1824 * math.sqrt(5 / 3) / 2, abs=3e-3)
    assert (e.low, e.high) == pytest.approx((2.5 - e.half_width, 2.5 + e.half_width))
    assert e.excludes_zero()


def test_estimate_of_one_value_has_no_interval() -> None:
    """One value: its mean, a NaN half-width, and no claim that zero is excluded."""
    e = estimate([7.0])
    assert e.mean == 7.0 and math.isnan(e.half_width) and not e.excludes_zero()
    assert e.to_json() == {"n": 1, "mean": 7.0, "ci_low": None, "ci_high": None}


def test_paired_differences_use_only_shared_seeds() -> None:
    """a − b per seed over the seeds both have (seed 9 and seed 0 are left out): differences
    1..5, mean 3, half-width t(0.975, 4) × √2.5 / √5."""
    a = {1: 5.0, 2: 7.0, 3: 3.0, 4: 4.0, 5: 5.0, 9: 100.0}
    b = {1: 4.0, 2: 5.0, 3: 0.0, 4: 0.0, 5: 0.0, 0: 0.0}
    e = paired(a, b)
    assert e.n == 5 and e.mean == 3.0
    assert e.half_width == pytest.approx(2.7764 * math.sqrt(2.5) / math.sqrt(5), abs=2e-3)


def test_paired_interval_is_tighter_than_unpaired_under_common_noise() -> None:
    """When both policies share each seed's noise, the paired interval shrinks to the
    difference's own spread (here exactly zero: b is a plus one)."""
    a = {seed: float(seed * seed % 17) for seed in range(20)}
    b = {seed: value - 1.0 for seed, value in a.items()}
    e = paired(a, b)
    assert e.mean == pytest.approx(1.0) and e.half_width == pytest.approx(0.0)
    assert e.half_width < estimate(list(a.values())).half_width


def test_cvar95_is_the_mean_of_the_worst_five_percent() -> None:
    """100 costs 1..100: the worst 5% are 96..100, mean 98; 10 values: the single worst."""
    assert cvar([float(v) for v in range(1, 101)]) == 98.0
    assert cvar([float(v) for v in range(10)]) == 9.0
    assert math.isnan(cvar([]))


def test_sd_is_the_sample_standard_deviation() -> None:
    """n − 1 in the denominator; NaN for one value."""
    assert sd([1.0, 3.0]) == pytest.approx(math.sqrt(2))
    assert math.isnan(sd([1.0]))


def test_capture_is_the_share_of_the_gap_to_the_oracle() -> None:
    """twap-cross 10, oracle −10: a policy at 0 takes half the gap, at −10 all of it, at 12
    less than none; an oracle no cheaper than twap-cross leaves capture undefined."""
    assert capture(0.0, 10.0, -10.0) == 0.5
    assert capture(-10.0, 10.0, -10.0) == 1.0
    assert capture(12.0, 10.0, -10.0) == pytest.approx(-0.1)
    assert math.isnan(capture(0.0, 5.0, 5.0))


def test_a_seed_and_its_mirror_are_one_draw() -> None:
    """Seeds 1 and −1 (its mirror) average into one value; a seed without its mirror stays;
    the pairs' interval is then over two values, not three."""
    means = pair_means({1: 10.0, -1: -4.0, 2: 5.0})
    assert means == {1: 3.0, 2: 5.0}
    assert estimate(list(means.values())).n == 2
