"""Reconnect backoff: the delays the connection supervisor sleeps between tries.

Pure: the schedule is computed from `BackoffSettings` and a seeded `random.Random`; the supervisor
does the sleeping (through Trio, so tests run it on a `MockClock`).
"""

from __future__ import annotations

import random

from .._settings import BackoffSettings


def backoff_delays(settings: BackoffSettings, *, rng: random.Random) -> tuple[float, ...]:
    """The ``max_tries`` delays, in seconds, before each reconnect attempt.

    The base delay starts at ``initial`` and doubles each try up to ``cap`` (1, 2, 4, 8 … 30, 30);
    each delay is the base × (1 ± jitter), drawn uniformly from ``rng``, then held within
    [0, cap]. Doubling by multiplication under ``min`` never overflows, however many tries.
    """
    delays = []
    base = min(settings.initial, settings.cap)
    for _ in range(settings.max_tries):
        delays.append(_jittered(base, jitter=settings.jitter, cap=settings.cap, rng=rng))
        base = min(base * 2, settings.cap)
    return tuple(delays)


def _jittered(base: float, *, jitter: float, cap: float, rng: random.Random) -> float:
    delay = base * (1 + rng.uniform(-jitter, jitter))
    return min(max(delay, 0.0), cap)
