"""IB message pacing as a pure token bucket: time is passed in, nothing sleeps here.

IB disconnects a client that sends more than 50 messages a second; the risk actor keeps all
broker traffic under a configured rate (45 by default) by asking this bucket how long to wait.
"""

from __future__ import annotations

import math

import attrs

from .._errors import InvalidValueError

_EPSILON = 1e-9  # float sums of refills land a hair under a whole token


@attrs.frozen(kw_only=True)
class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; one token per message."""

    rate: float
    burst: float
    tokens: float
    updated: float  # the time `tokens` was counted at, in seconds (trio.current_time())

    @classmethod
    def full(cls, *, rate: float, burst: float, now: float) -> TokenBucket:
        for name, value in (("rate", rate), ("burst", burst)):
            if not math.isfinite(value) or value <= 0:
                raise InvalidValueError(name, value, "must be finite and above zero")
        return cls(rate=rate, burst=burst, tokens=burst, updated=now)

    def refilled(self, now: float) -> TokenBucket:
        """The bucket as it stands at ``now``."""
        tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        return attrs.evolve(self, tokens=tokens, updated=max(now, self.updated))

    def wait_for_token(self, now: float) -> float:
        """Seconds until one token is available at ``now`` (0 when one is there)."""
        missing = 1 - self.refilled(now).tokens
        return 0.0 if missing <= _EPSILON else missing / self.rate

    def take(self, now: float) -> TokenBucket:
        """The bucket after spending one token at ``now``; call only when the wait is 0."""
        bucket = self.refilled(now)
        if bucket.tokens < 1 - _EPSILON:
            raise InvalidValueError("tokens", bucket.tokens, "no token to take; wait first")
        return attrs.evolve(bucket, tokens=max(0.0, bucket.tokens - 1))
