"""The front month by roll days (`hydra._core._front_month`)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hydra._contracts import LEAN_HOGS, OATS, ContractSpec, delivery_months
from hydra._core._front_month import days_to_delivery_window, front_month, in_roll_window
from hydra._errors import InvalidValueError
from tests.strategies import contracts

days = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2040, 12, 31))
roll_days = st.integers(min_value=0, max_value=120)


@given(contracts, days, roll_days)
@example(OATS, dt.date(2026, 12, 1), 0)
def test_the_front_month_is_never_within_roll_days(spec: ContractSpec, today: dt.date,
                                                   roll: int) -> None:
    """The month chosen is more than ``roll_days`` before its delivery window."""
    month = front_month(spec, today=today, roll_days=roll)
    assert days_to_delivery_window(spec.symbol, month, today=today) > roll


@given(contracts, days, roll_days)
def test_the_front_month_is_the_nearest_that_qualifies(spec: ContractSpec, today: dt.date,
                                                       roll: int) -> None:
    """Every listed month before the one chosen is within ``roll_days`` of its window (or
    past it), and the chosen one is of the product's cycle."""
    month = front_month(spec, today=today, roll_days=roll)
    earlier = itertools.takewhile(lambda m: m != month, delivery_months(spec, since=today))
    assert all(in_roll_window(spec.symbol, m, today=today, roll_days=roll) for m in earlier)
    assert "FGHJKMNQUVXZ"[int(month[4:]) - 1] in spec.months


@given(contracts, days, roll_days)
def test_more_roll_days_never_choose_an_earlier_month(spec: ContractSpec, today: dt.date,
                                                      roll: int) -> None:
    """Rolling earlier can only move the front month out, never back."""
    assert (front_month(spec, today=today, roll_days=roll + 7)
            >= front_month(spec, today=today, roll_days=roll))


def test_oats_in_december_2026_front_is_march() -> None:
    """On 2026-12-01 ZOZ6 is past its first notice day (2026-11-30): the front is ZOH7."""
    assert front_month(OATS, today=dt.date(2026, 12, 1), roll_days=5) == "202703"
    assert front_month(OATS, today=dt.date(2026, 11, 24), roll_days=5) == "202612"
    assert front_month(OATS, today=dt.date(2026, 11, 25), roll_days=5) == "202703"


def test_hogs_roll_before_their_last_trading_day() -> None:
    """HEZ6 last trades on 2026-12-14 (cash-settled, no notice): the front on 2026-12-01
    with 5 roll days, but not with 13."""
    assert front_month(LEAN_HOGS, today=dt.date(2026, 12, 1), roll_days=5) == "202612"
    assert front_month(LEAN_HOGS, today=dt.date(2026, 12, 1), roll_days=13) == "202702"


def test_days_to_the_window_count_down_through_zero() -> None:
    """Zero on the first notice day, negative inside the window."""
    assert days_to_delivery_window("ZO", "202612", today=dt.date(2026, 11, 30)) == 0
    assert days_to_delivery_window("ZO", "202612", today=dt.date(2026, 12, 3)) == -3
    assert days_to_delivery_window("ZO", "202612", today=dt.date(2026, 11, 20)) == 10


@pytest.mark.parametrize("bad", [-1, True, 2.5, "5"])
def test_roll_days_must_be_a_whole_number_of_days(bad: object) -> None:
    """Negative, bool, fractional or text roll days are refused by name."""
    with pytest.raises(InvalidValueError) as caught:
        front_month(OATS, today=dt.date(2026, 12, 1), roll_days=bad)  # type: ignore[arg-type]
    assert caught.value.field == "roll_days"
