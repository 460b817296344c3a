import math
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hydra._core._quote_check import quote_problem, side_problem
from hydra._quotes import Quote
from tests.strategies import broker_prices, timed_quotes

QUOTE = Quote(bid="350.00", ask="350.25", time=100.0)

ages = st.floats(min_value=0.0, max_value=1e6)
max_ages = st.one_of(st.floats(min_value=0.001, max_value=1e6), st.just(math.inf))


def test_a_fresh_quote_is_usable() -> None:
    """A two-sided quote five seconds old is usable under a ten-second limit."""
    assert quote_problem(QUOTE, now=105.0, max_age=10.0) is None


def test_no_quote_is_unusable() -> None:
    """No quote at all is "no quote"."""
    assert quote_problem(None, now=0.0, max_age=10.0) == "no quote"


def test_an_old_quote_is_stale_with_its_age() -> None:
    """A quote 61 s old under a 10 s limit is "stale 61.0 s"; at exactly the limit it is not."""
    assert quote_problem(QUOTE, now=161.0, max_age=10.0) == "stale 61.0 s"
    assert quote_problem(QUOTE, now=110.0, max_age=10.0) is None


def test_an_infinite_limit_never_goes_stale() -> None:
    """With the age check off (infinity) a day-old quote is usable."""
    assert quote_problem(QUOTE, now=86_500.0, max_age=math.inf) is None


def test_a_quote_from_the_future_is_unusable() -> None:
    """A quote stamped after ``now`` (a clock mix-up) is not priced from."""
    assert quote_problem(QUOTE, now=98.0, max_age=10.0) == "stamped 2.0 s ahead"


@pytest.mark.parametrize(
    ("bid", "ask", "problem"),
    [
        (350.0, 350.25, None),
        (350.25, 350.25, None),  # locked, not crossed
        (350.5, 350.25, "crossed"),
        (None, 350.25, "one-sided"),
        (-1.0, 350.25, "one-sided"),
        (350.0, math.nan, "nan"),
        (Decimal("NaN"), 350.25, "nan"),
        (350.0, math.inf, "nan"),
        (0.0, 350.25, "zero"),
        (350.0, -0.25, "zero"),
        (math.nan, -1.0, "one-sided"),  # the first problem in that order wins
    ],
)
def test_side_problem_names_what_is_wrong(bid: object, ask: object, problem: str | None) -> None:
    """Each way a broker's bid and ask can be unusable has its own short reason."""
    assert side_problem(bid, ask) == problem  # type: ignore[arg-type]


@given(timed_quotes(), ages, max_ages)
@example(QUOTE, 10.0, 10.0)
def test_usable_exactly_when_within_age(quote: Quote, age: float, max_age: float) -> None:
    """A valid quote is usable exactly when its age is at most the limit; else it is stale."""
    problem = quote_problem(quote, now=quote.time + age, max_age=max_age)
    real_age = (quote.time + age) - quote.time
    if real_age <= max_age:
        assert problem is None
    else:
        assert problem is not None and problem.startswith("stale ")


@given(broker_prices, broker_prices)
def test_side_problem_none_only_for_a_two_sided_uncrossed_quote(bid: object, ask: object) -> None:
    """The broker's sides are usable exactly when both are positive finite prices, ask ≥ bid;
    and then they make a valid Quote."""
    problem = side_problem(bid, ask)  # type: ignore[arg-type]
    if problem is None:
        quote = Quote(bid=str(bid), ask=str(ask))
        assert quote.ask >= quote.bid > 0
    else:
        assert problem in ("one-sided", "nan", "zero", "crossed")
