import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydra._core._pacing import TokenBucket
from hydra._errors import InvalidValueError


def test_burst_then_one_token_per_interval() -> None:
    """A full bucket allows its burst at once, then one message per 1/rate seconds."""
    bucket = TokenBucket.full(rate=45, burst=3, now=0.0)
    for _ in range(3):
        assert bucket.wait_for_token(0.0) == 0
        bucket = bucket.take(0.0)
    assert bucket.wait_for_token(0.0) == pytest.approx(1 / 45)
    with pytest.raises(InvalidValueError, match="tokens"):
        bucket.take(0.0)
    assert bucket.take(1 / 45).tokens == pytest.approx(0)


def test_tokens_never_exceed_burst() -> None:
    """An idle bucket saves up to its burst and no more."""
    bucket = TokenBucket.full(rate=10, burst=5, now=0.0).take(0.0)
    assert bucket.refilled(100.0).tokens == 5


@pytest.mark.parametrize("rate", [0, -1, float("nan"), float("inf")])
def test_bad_rate_is_refused(rate: float) -> None:
    """A rate that is not finite and positive names the rate field."""
    with pytest.raises(InvalidValueError, match="rate"):
        TokenBucket.full(rate=rate, burst=1, now=0)


@given(
    gaps=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=300),
    rate=st.integers(min_value=1, max_value=49),
)
def test_no_second_exceeds_rate_plus_burst(gaps: list[float], rate: int) -> None:
    """Sending as fast as the bucket allows, no one-second window holds more than rate + burst."""
    burst = 5.0
    bucket = TokenBucket.full(rate=rate, burst=burst, now=0.0)
    now, sent = 0.0, []
    for gap in gaps:
        now += gap
        now += bucket.wait_for_token(now)
        bucket = bucket.take(now)
        sent.append(now)
    for start in sent:
        in_window = [t for t in sent if start <= t < start + 1]
        assert len(in_window) <= rate + burst
