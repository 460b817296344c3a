"""`later`: seconds ahead of an instant, capped at the last instant a datetime holds."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from hydra._core._instants import LATEST, later

WALLS = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1),
                     timezones=st.just(dt.UTC))


@given(WALLS, st.floats(min_value=0.0, max_value=1e15, allow_nan=False))
def test_later_is_the_sum_or_the_last_instant_and_never_raises(wall: dt.datetime,
                                                                seconds: float) -> None:
    at = later(wall, seconds)
    assert wall <= at <= LATEST
    if seconds < 1e9:  # about 31 years: well inside what a datetime holds from these walls
        assert at == wall + dt.timedelta(seconds=seconds)


def test_a_trader_s_for_ever_is_the_last_instant() -> None:
    wall = dt.datetime(2026, 12, 2, 4, 50, tzinfo=dt.UTC)
    assert later(wall, 1e12) == LATEST
    assert later(wall, 300.0) == dt.datetime(2026, 12, 2, 4, 55, tzinfo=dt.UTC)
