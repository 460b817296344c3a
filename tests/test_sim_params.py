"""Scenario parameters: MARKETS.md defaults, overrides and validation naming the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from hydra._contracts import OATS
from hydra._errors import InvalidValueError
from hydra.sim import DisplayedSize, Halt, MarketParams, SimParams, SizeBucket


def test_defaults_follow_the_markets_table() -> None:
    """Oats and hogs start at the table's mid and ADV; overrides replace single fields."""
    oats, hogs = MarketParams.oats(), MarketParams.hogs(adv=800)
    assert (oats.symbol, oats.start_mid, oats.adv) == ("ZO", Decimal("350.00"), 1500)
    assert (hogs.symbol, hogs.start_mid, hogs.adv) == ("HE", Decimal("85.000"), 800)
    assert SimParams().commission_per_contract == Decimal("2.50")
    assert (SimParams().ack_latency, SimParams().fill_latency) == (0.030, 0.020)


def test_flow_rate_is_adv_over_mean_flow_size_per_session_second() -> None:
    """1,500 lots a day in flows averaging 2.225 lots arrive at 1500/2.225/23400 per second."""
    oats = MarketParams.oats()
    assert oats.mean_flow_size == pytest.approx(2.225)
    assert oats.flow_rate == pytest.approx(1500 / 2.225 / 23_400)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: MarketParams.oats(adv=-1), "adv"),
        (lambda: MarketParams.oats(daily_volatility=float("nan")), "daily_volatility"),
        (lambda: MarketParams.oats(start_mid="abc"), "start_mid"),
        (lambda: MarketParams.oats(spread_ticks=((0, 1.0),)), "spread_ticks"),
        (lambda: MarketParams.oats(drift_per_session=float("inf")), "drift_per_session"),
        (lambda: DisplayedSize(minimum=5, maximum=3, mean=4), "maximum"),
        (lambda: DisplayedSize(minimum=1, maximum=3, mean=4), "mean"),
        (lambda: SizeBucket(low=3, high=2, weight=1.0), "high"),
        (lambda: Halt(start=10, end=5), "end"),
        (lambda: SimParams(session_start=dt.datetime(2025, 1, 1)), "session_start"),
        (lambda: SimParams(markets=(MarketParams.oats(), MarketParams.oats())), "markets"),
        (lambda: SimParams(ack_latency=-0.1), "ack_latency"),
        (lambda: SimParams(starting_cash=0), "starting_cash"),
    ],
)
def test_bad_value_names_its_field(build: object, field: str) -> None:
    """Each invalid parameter raises InvalidValueError naming the field."""
    with pytest.raises(InvalidValueError) as caught:
        build()  # type: ignore[operator]
    assert caught.value.field == field


def test_market_lookup_names_unknown_symbols() -> None:
    """Asking the params for a contract they do not trade names the symbol field."""
    with pytest.raises(InvalidValueError, match=r"^symbol:"):
        SimParams().market("XX")
    assert SimParams().market("HE").symbol == "HE"


def test_markets_are_keyed_by_contract_and_month() -> None:
    """Two months of one product are two markets; the same month twice is refused."""
    march, may = OATS.for_month("202603"), OATS.for_month("202605")
    params = SimParams(markets=(MarketParams.oats(contract=march), MarketParams.oats(contract=may)))
    assert params.market(may).contract == may
    assert params.market("ZO").contract == march  # a bare symbol: its first market
    with pytest.raises(InvalidValueError, match="markets"):
        SimParams(markets=(MarketParams.oats(contract=march), MarketParams.oats(contract=march)))
    with pytest.raises(InvalidValueError, match="contract"):
        params.market(OATS.for_month("202607"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("flow_sign_persistence", 1.5),
        ("step_ahead_probability", -0.1),
        ("depth_levels", 0),
        ("refill_rate", float("nan")),
        ("market_protection_ticks", 0),
    ],
)
def test_market_model_parameters_are_validated(field: str, value: object) -> None:
    """A probability outside [0, 1], no depth levels, a NaN rate or no protection names the
    field."""
    with pytest.raises(InvalidValueError, match=field):
        MarketParams.oats(**{field: value})


def test_legacy_turns_the_new_market_model_off() -> None:
    """`MarketParams.legacy` gives the old book: instant requotes, lazy depth, no crowd, no
    burn-in, no own impact nor own depletion move; the flow's own impact stays."""
    old = MarketParams.oats().legacy()
    assert (old.refill_rate, old.depth_levels, old.queue_events_per_second) == (0.0, None, 0.0)
    assert (old.burn_in_seconds, old.own_impact_ticks_per_lot) == (0.0, 0.0)
    assert old.own_depletion_ticks == 0.0 < MarketParams.oats().own_depletion_ticks
    assert old.impact_ticks_per_lot == MarketParams.oats().impact_ticks_per_lot
