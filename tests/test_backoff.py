"""Tests for the reconnect backoff schedule."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from hydra._core._backoff import backoff_delays
from hydra._settings import BackoffSettings


def test_delays_double_up_to_the_cap_without_jitter() -> None:
    """With no jitter the delays are 1, 2, 4, 8, 16, then 30 until max_tries delays are given."""
    settings = BackoffSettings(initial=1.0, cap=30.0, jitter=0.0, max_tries=8)
    delays = backoff_delays(settings, rng=random.Random(0))
    assert delays == (1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0)


def test_one_delay_per_try() -> None:
    """The schedule has exactly max_tries delays."""
    settings = BackoffSettings(max_tries=3)
    assert len(backoff_delays(settings, rng=random.Random(1))) == 3


def test_initial_above_cap_starts_at_cap() -> None:
    """An initial delay above the cap is held at the cap."""
    settings = BackoffSettings(initial=50.0, cap=30.0, jitter=0.0, max_tries=2)
    assert backoff_delays(settings, rng=random.Random(0)) == (30.0, 30.0)


def test_jitter_stays_within_proportional_bounds() -> None:
    """Each jittered delay lies within base × (1 ± jitter), and within the cap."""
    settings = BackoffSettings(initial=1.0, cap=30.0, jitter=0.5, max_tries=8)
    bases = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0)
    delays = backoff_delays(settings, rng=random.Random(7))
    for base, delay in zip(bases, delays, strict=True):
        assert base * 0.5 <= delay <= min(base * 1.5, 30.0)


def test_jitter_is_deterministic_for_a_seed() -> None:
    """The same seed gives the same schedule, a different seed a different one."""
    settings = BackoffSettings(jitter=0.2)
    first = backoff_delays(settings, rng=random.Random(42))
    assert first == backoff_delays(settings, rng=random.Random(42))
    assert first != backoff_delays(settings, rng=random.Random(43))


def test_many_tries_do_not_overflow() -> None:
    """Thousands of tries stay at the cap instead of overflowing the doubling."""
    settings = BackoffSettings(jitter=0.0, max_tries=5000)
    assert backoff_delays(settings, rng=random.Random(0))[-1] == 30.0


@given(
    initial=st.floats(min_value=0.001, max_value=1000),
    cap=st.floats(min_value=0.001, max_value=1000),
    jitter=st.floats(min_value=0, max_value=0.999),
    max_tries=st.integers(min_value=1, max_value=60),
    seed=st.integers(),
)
def test_backoff_never_exceeds_cap(
    initial: float, cap: float, jitter: float, max_tries: int, seed: int
) -> None:
    """Every delay is between 0 and the cap, and there are exactly max_tries of them."""
    settings = BackoffSettings(initial=initial, cap=cap, jitter=jitter, max_tries=max_tries)
    delays = backoff_delays(settings, rng=random.Random(seed))
    assert len(delays) == max_tries
    assert all(0 <= delay <= cap for delay in delays)
