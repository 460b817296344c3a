import itertools
import math
import random

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hydra._config import config_from_table
from hydra._core._twap import (
    TwapPlan,
    chunk_sizes,
    intervals,
    lots_ahead,
    plan_twap,
    schedule,
    slice_sizes,
)
from hydra._errors import ConfigError, InvalidValueError
from hydra._settings import ExecutionSettings
from tests.strategies import quantities

slice_counts = st.integers(min_value=1, max_value=50)
horizons = st.floats(min_value=1.0, max_value=86_400.0)
jitters = st.floats(min_value=0.0, max_value=0.99)
seeds = st.integers(min_value=0, max_value=2**32)


def test_slice_sizes_larger_first() -> None:
    """25 in 10 slices is five 3s then five 2s."""
    assert slice_sizes(25, 10) == (3, 3, 3, 3, 3, 2, 2, 2, 2, 2)


def test_zero_size_slices_are_skipped() -> None:
    """3 in 10 slices is three slices of one."""
    assert slice_sizes(3, 10) == (1, 1, 1)


def test_single_slice_is_the_whole_quantity() -> None:
    """One slice carries everything."""
    assert slice_sizes(7, 1) == (7,)


@pytest.mark.parametrize(("quantity", "slices"), [(0, 10), (-1, 10), (5, 0), (True, 3), (5, 2.0)])
def test_bad_slice_input_is_refused(quantity: object, slices: object) -> None:
    """A quantity or slice count that is not a positive whole number is refused by name."""
    with pytest.raises(InvalidValueError) as info:
        slice_sizes(quantity, slices)  # type: ignore[arg-type]
    assert info.value.field in ("quantity", "slices")


def test_schedule_without_jitter_is_even() -> None:
    """With no jitter, 4 slices over 3600 s start every 900 s."""
    starts = schedule(4, horizon=3600.0, jitter=0.0, rng=random.Random(0))
    assert starts == (0.0, 900.0, 1800.0, 2700.0)


def test_schedule_is_deterministic_for_a_seed() -> None:
    """The same seed gives the same jittered schedule."""
    first = schedule(10, horizon=3600.0, jitter=0.2, rng=random.Random(42))
    again = schedule(10, horizon=3600.0, jitter=0.2, rng=random.Random(42))
    assert first == again
    assert first != schedule(10, horizon=3600.0, jitter=0.2, rng=random.Random(43))


def test_intervals_are_jittered_base_scaled_to_fit() -> None:
    """Intervals are base × (1 ± jitter) from the rng's uniform draws, scaled to fit if needed."""
    draws = random.Random(7)
    raw = [360.0 * (1 + draws.uniform(-0.2, 0.2)) for _ in range(10)]
    scale = min(1.0, 3600.0 / sum(raw))
    durations = intervals(10, horizon=3600.0, jitter=0.2, rng=random.Random(7))
    assert durations == pytest.approx([d * scale for d in raw])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"count": 0}, "count"),
        ({"horizon": 0.0}, "horizon"),
        ({"horizon": math.inf}, "horizon"),
        ({"jitter": 1.0}, "jitter"),
        ({"jitter": -0.1}, "jitter"),
        ({"rng": 42}, "rng"),
    ],
)
def test_bad_schedule_input_is_refused(kwargs: dict[str, object], field: str) -> None:
    """A bad count, horizon, jitter or rng is an InvalidValueError naming it."""
    args: dict[str, object] = {
        "count": 3,
        "horizon": 60.0,
        "jitter": 0.1,
        "rng": random.Random(0),
        **kwargs,
    }
    with pytest.raises(InvalidValueError) as info:
        schedule(**args)  # type: ignore[arg-type]
    assert info.value.field == field


def test_plan_twap_skips_empty_slices_and_spans_horizon() -> None:
    """3 contracts with 10 slices plan three slices of one across the whole horizon."""
    settings = ExecutionSettings(twap_slices=10, twap_horizon=3600.0, twap_jitter=0.0)
    plan = plan_twap(3, settings=settings, rng=random.Random(0))
    assert plan == TwapPlan(
        sizes=(1, 1, 1), starts=(0.0, 1200.0, 2400.0), durations=(1200.0, 1200.0, 1200.0)
    )
    assert plan.quantity == 3
    assert plan.slices() == ((1, 0.0, 1200.0), (1, 1200.0, 1200.0), (1, 2400.0, 1200.0))


@given(quantities, slice_counts)
def test_slices_sum_to_quantity(quantity: int, slices: int) -> None:
    """The slice sizes add up to the order quantity, with no more slices than asked."""
    sizes = slice_sizes(quantity, slices)
    assert sum(sizes) == quantity
    assert len(sizes) == min(quantity, slices)


@given(quantities, slice_counts)
def test_slices_differ_by_at_most_one(quantity: int, slices: int) -> None:
    """Slice sizes are positive, differ by at most one, and the larger come first."""
    sizes = slice_sizes(quantity, slices)
    assert min(sizes) >= 1
    assert max(sizes) - min(sizes) <= 1
    assert list(sizes) == sorted(sizes, reverse=True)


@given(slice_counts, horizons, jitters, seeds)
@example(count=50, horizon=1.0, jitter=0.99, seed=0)
def test_schedule_inside_horizon(count: int, horizon: float, jitter: float, seed: int) -> None:
    """Starts begin at 0, increase, and every slice, the last included, ends inside the horizon."""
    durations = intervals(count, horizon=horizon, jitter=jitter, rng=random.Random(seed))
    starts = schedule(count, horizon=horizon, jitter=jitter, rng=random.Random(seed))
    assert len(starts) == len(durations) == count
    assert starts[0] == 0.0
    assert all(d > 0 for d in durations)
    assert all(a < b for a, b in itertools.pairwise(starts))
    assert all(s < horizon for s in starts)
    assert starts[-1] + durations[-1] <= horizon


@given(quantities, seeds)
def test_plan_twap_is_consistent(quantity: int, seed: int) -> None:
    """A plan has one start and duration per non-empty slice, and covers the quantity."""
    plan = plan_twap(quantity, settings=ExecutionSettings(), rng=random.Random(seed))
    assert plan.quantity == quantity
    assert len(plan.sizes) == len(plan.starts) == len(plan.durations)
    assert plan.starts[-1] + plan.durations[-1] <= ExecutionSettings().twap_horizon


def test_chunks_of_a_close_over_the_order_limit() -> None:
    """68 lots under a 50-lot limit are two orders of 34; no limit leaves one order."""
    assert chunk_sizes(68, 50) == (34, 34)
    assert chunk_sizes(100, 50) == (50, 50)
    assert chunk_sizes(101, 50) == (34, 34, 33)
    assert chunk_sizes(68, None) == (68,)


@pytest.mark.parametrize(("quantity", "limit", "field"),
                         [(0, 5, "quantity"), (5, 0, "max_order_quantity"),
                          (5, True, "max_order_quantity")])
def test_bad_chunk_input_is_refused(quantity: int, limit: object, field: str) -> None:
    """A quantity or limit that is not a positive whole number is refused by name."""
    with pytest.raises(InvalidValueError) as info:
        chunk_sizes(quantity, limit)  # type: ignore[arg-type]
    assert info.value.field == field


@given(quantities, st.one_of(st.none(), st.integers(min_value=1, max_value=500)))
@example(quantity=68, limit=50)
def test_chunks_sum_to_quantity_within_the_limit(quantity: int, limit: int | None) -> None:
    """Chunks add up to the quantity, each is at most the limit, and no fewer would do."""
    sizes = chunk_sizes(quantity, limit)
    assert sum(sizes) == quantity
    assert min(sizes) >= 1
    if limit is None:
        assert sizes == (quantity,)
    else:
        assert max(sizes) <= limit
        assert len(sizes) == math.ceil(quantity / limit)


def test_lots_ahead_are_the_next_slices_less_what_filled_beyond_the_earlier() -> None:
    """Before slice 2 of (4, 4, 4, 3) with 9 filled and two slices ahead allowed, the lots
    ahead are 8 + 7 − 9 = 6 (3 with an order limit of 3); with 7 filled (one behind), none."""
    sizes = (4, 4, 4, 3)
    assert lots_ahead(sizes, 2, filled=9, ahead=2) == 6
    assert lots_ahead(sizes, 2, filled=9, ahead=2, max_order_quantity=3) == 3
    assert lots_ahead(sizes, 2, filled=7, ahead=2) == 0
    assert lots_ahead(sizes, 2, filled=9, ahead=0) == 0


@given(st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=20),
       st.data(), st.integers(min_value=0, max_value=25),
       st.one_of(st.none(), st.integers(min_value=1, max_value=60)))
def test_lots_ahead_never_run_more_than_twap_ahead_slices_ahead(
    sizes: list[int], data: st.DataObject, ahead: int, limit: int | None,
) -> None:
    """Whatever has filled, the lots rested ahead before slice k together with the fills
    never exceed the first k + ``twap_ahead`` slices' lots (nor the order limit), and none
    rest while the earlier slices are behind."""
    index = data.draw(st.integers(min_value=0, max_value=len(sizes) - 1))
    filled = data.draw(st.integers(min_value=0, max_value=sum(sizes)))
    lots = lots_ahead(tuple(sizes), index, filled=filled, ahead=ahead,
                      max_order_quantity=limit)
    assert lots >= 0 and filled + lots <= max(filled, sum(sizes[:index + ahead]))
    assert limit is None or lots <= limit
    if filled < sum(sizes[:index]) or ahead == 0:
        assert lots == 0


@pytest.mark.parametrize("bad", [-1, 1.5, True, "1"])
def test_a_twap_ahead_that_is_not_a_whole_number_from_0_is_refused_by_its_path(
    bad: object,
) -> None:
    """``[execution] twap_ahead`` must be a whole number from 0: anything else is one error
    naming ``execution.twap_ahead``; 2 loads as 2."""
    with pytest.raises(ConfigError) as info:
        config_from_table({"execution": {"twap_ahead": bad}})
    assert info.value.field == "execution.twap_ahead"
    assert config_from_table({"execution": {"twap_ahead": 2}}).execution.twap_ahead == 2
