import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydra._contracts import LEAN_HOGS, OATS, ContractSpec
from hydra._core._ladder import LadderStage, baseline_price, ladder_price, ladder_wait, step_size
from hydra._core._pricing import is_at_least_as_aggressive
from hydra._enums import OrderType, Policy, Side
from hydra._errors import InvalidValueError
from hydra._ids import ClientOrderId, IntentId
from hydra._orders import OrderRequest
from hydra._quotes import Quote
from hydra._settings import Distance, DistanceUnit, ExecutionSettings
from tests.strategies import contract_and_quote, quantities, sides

DEFAULTS = ExecutionSettings()  # step 0.1 % of mid, guard 50 bps, no offset, patience 60 s
ZO_WIDE = Quote(bid=Decimal("350.00"), ask=Decimal("351.00"))  # 4 ticks, mid 350.50
ZO_TIGHT = Quote(bid=Decimal("350.00"), ask=Decimal("350.50"))  # 2 ticks, mid 350.25
HE_WIDE = Quote(bid=Decimal("80.000"), ask=Decimal("80.200"))  # 8 ticks, mid 80.100


def _ladder(
    side: Side,
    quote: Quote,
    contract: ContractSpec,
    *,
    settings: ExecutionSettings = DEFAULTS,
    arrival_mid: Decimal | None = None,
) -> list[Decimal]:
    mid = quote.mid if arrival_mid is None else arrival_mid
    return [
        ladder_price(side, quote, stage, settings=settings, contract=contract, arrival_mid=mid)
        for stage in LadderStage
    ]


def _d(*texts: str) -> list[Decimal]:
    return [Decimal(text) for text in texts]


@pytest.mark.parametrize(
    ("side", "quote", "contract", "expected"),
    [
        (Side.BUY, ZO_WIDE, OATS, _d("350.50", "350.75", "351.00")),
        (Side.SELL, ZO_WIDE, OATS, _d("350.50", "350.25", "350.00")),
        (Side.BUY, ZO_TIGHT, OATS, _d("350.25", "350.50", "350.50")),
        (Side.SELL, ZO_TIGHT, OATS, _d("350.25", "350.00", "350.00")),
        (Side.BUY, HE_WIDE, LEAN_HOGS, _d("80.100", "80.175", "80.200")),
        (Side.SELL, HE_WIDE, LEAN_HOGS, _d("80.100", "80.025", "80.000")),
    ],
)
def test_ladder_prices_on_oats_and_hogs(
    side: Side, quote: Quote, contract: ContractSpec, expected: list[Decimal]
) -> None:
    """Mid, one step toward the market (capped at the far touch), then the far touch."""
    assert _ladder(side, quote, contract) == expected


def test_mid_between_ticks_rounds_passively() -> None:
    """A mid half-way between ticks rests a buy on the tick below and a sell on the tick above."""
    quote = Quote(bid=Decimal("80.000"), ask=Decimal("80.025"))  # mid 80.0125
    assert _ladder(Side.BUY, quote, LEAN_HOGS)[0] == Decimal("80.000")
    assert _ladder(Side.SELL, quote, LEAN_HOGS)[0] == Decimal("80.025")


def test_step_rounds_to_whole_ticks_and_is_at_least_one() -> None:
    """0.1 % of 80.10 is 3.2 hog ticks, so three; a tiny step still moves one tick."""
    assert step_size(mid=Decimal("80.100"), settings=DEFAULTS, tick_size=LEAN_HOGS.tick_size) == (
        Decimal("0.075")
    )
    tiny = ExecutionSettings(price_step_pct=Decimal("0.0001"))
    assert step_size(mid=Decimal("350"), settings=tiny, tick_size=OATS.tick_size) == Decimal("0.25")


def test_limit_offset_moves_stage_zero_to_passive_side() -> None:
    """A 10 bps offset from mid 350.50 rests a buy at 350.00 and a sell at 351.00."""
    settings = ExecutionSettings(limit_offset=Distance.bps(10))  # 0.3505 cents
    assert _ladder(Side.BUY, ZO_WIDE, OATS, settings=settings)[:2] == _d("350.00", "350.25")
    assert _ladder(Side.SELL, ZO_WIDE, OATS, settings=settings)[:2] == _d("351.00", "350.75")


def test_every_stage_clamped_to_guard_from_arrival_mid() -> None:
    """After the market ran away from arrival mid 340.00, no stage prices past the 50 bps guard."""
    assert _ladder(Side.BUY, ZO_WIDE, OATS, arrival_mid=Decimal("340.00")) == _d(
        "341.50", "341.50", "341.50"
    )
    low = Quote(bid=Decimal("330.00"), ask=Decimal("331.00"))
    assert _ladder(Side.SELL, low, OATS, arrival_mid=Decimal("340.00")) == _d(
        "338.50", "338.50", "338.50"
    )


def test_off_tick_quote_still_gives_on_tick_prices() -> None:
    """A quote off the tick grid still yields on-tick prices, crossing rounded aggressively."""
    quote = Quote(bid=Decimal("80.01"), ask=Decimal("80.09"))
    prices = _ladder(Side.BUY, quote, LEAN_HOGS)
    assert prices == _d("80.050", "80.100", "80.100")


def test_waits_halve_at_each_stage() -> None:
    """The ladder waits patience, then half of it, then a quarter."""
    settings = ExecutionSettings(patience=60.0)
    waits = [ladder_wait(stage, settings=settings) for stage in LadderStage]
    assert waits == [60.0, 30.0, 15.0]


@pytest.mark.parametrize("bad", [3, -1, True, "AT_MID", None])
def test_bad_stage_is_refused(bad: object) -> None:
    """A stage that is not 0, 1 or 2 is an InvalidValueError naming ``stage``."""
    with pytest.raises(InvalidValueError) as info:
        ladder_price(
            Side.BUY,
            ZO_WIDE,
            bad,  # type: ignore[arg-type]
            settings=DEFAULTS,
            contract=OATS,
            arrival_mid=ZO_WIDE.mid,
        )
    assert info.value.field == "stage"


def test_bad_arrival_mid_is_refused() -> None:
    """An arrival mid that is a float or not positive names ``arrival_mid``."""
    for bad in (350.5, Decimal(0), Decimal("NaN")):
        with pytest.raises(InvalidValueError) as info:
            _ladder(Side.BUY, ZO_WIDE, OATS, arrival_mid=bad)  # type: ignore[arg-type]
        assert info.value.field == "arrival_mid"


@pytest.mark.parametrize(
    ("policy", "side", "expected"),
    [
        (Policy.CROSS, Side.BUY, Decimal("351.00")),
        (Policy.CROSS, Side.SELL, Decimal("350.00")),
        (Policy.PASSIVE, Side.BUY, Decimal("350.00")),
        (Policy.PASSIVE, Side.SELL, Decimal("351.00")),
    ],
)
def test_baseline_prices(policy: Policy, side: Side, expected: Decimal) -> None:
    """CROSS takes the far touch at once; PASSIVE joins the near touch."""
    price = baseline_price(
        policy, side, ZO_WIDE, settings=DEFAULTS, contract=OATS, arrival_mid=ZO_WIDE.mid
    )
    assert price == expected


def test_baseline_cross_clamped_to_guard() -> None:
    """CROSS never prices past the slippage guard from arrival mid."""
    price = baseline_price(
        Policy.CROSS,
        Side.BUY,
        ZO_WIDE,
        settings=DEFAULTS,
        contract=OATS,
        arrival_mid=Decimal("340.00"),
    )
    assert price == Decimal("341.50")


@pytest.mark.parametrize("policy", [Policy.AUTO, Policy.PATIENCE, Policy.TWAP])
def test_baseline_refuses_non_baseline_policy(policy: Policy) -> None:
    """Only CROSS and PASSIVE are baselines; anything else names ``policy``."""
    with pytest.raises(InvalidValueError) as info:
        baseline_price(
            policy, Side.BUY, ZO_WIDE, settings=DEFAULTS, contract=OATS, arrival_mid=ZO_WIDE.mid
        )
    assert info.value.field == "policy"


# --- properties -------------------------------------------------------------------------------

distances = st.builds(
    Distance,
    unit=st.sampled_from(list(DistanceUnit)),
    value=st.decimals(min_value=0, max_value=200, places=2),
)
execution_settings = st.builds(
    ExecutionSettings,
    price_step_pct=st.decimals(min_value=Decimal("0.01"), max_value=5, places=2),
    slippage_guard=distances,
    limit_offset=distances,
)


@st.composite
def ladder_inputs(
    draw: st.DrawFn,
) -> tuple[Side, ContractSpec, Quote, ExecutionSettings, Decimal]:
    """A side, contract, on-tick quote, settings and an arrival mid near the quote."""
    contract, quote = draw(contract_and_quote())
    drift = draw(st.integers(min_value=-60, max_value=60)) * contract.tick_size / 2
    return draw(sides), contract, quote, draw(execution_settings), quote.mid + drift


def _all_prices(
    side: Side, contract: ContractSpec, quote: Quote, settings: ExecutionSettings, mid: Decimal
) -> list[Decimal]:
    baselines = [
        baseline_price(policy, side, quote, settings=settings, contract=contract, arrival_mid=mid)
        for policy in (Policy.CROSS, Policy.PASSIVE)
    ]
    return _ladder(side, quote, contract, settings=settings, arrival_mid=mid) + baselines


@given(ladder_inputs())
def test_every_price_on_tick_grid(
    inputs: tuple[Side, ContractSpec, Quote, ExecutionSettings, Decimal],
) -> None:
    """Every ladder stage and baseline price is a whole number of ticks."""
    side, contract, quote, settings, mid = inputs
    assert all(contract.is_on_tick(p) for p in _all_prices(side, contract, quote, settings, mid))


@given(ladder_inputs())
def test_ladder_moves_only_toward_market(
    inputs: tuple[Side, ContractSpec, Quote, ExecutionSettings, Decimal],
) -> None:
    """For a fixed quote, each stage is at least as aggressive as the one before."""
    side, contract, quote, settings, mid = inputs
    prices = _ladder(side, quote, contract, settings=settings, arrival_mid=mid)
    for earlier, later in itertools.pairwise(prices):
        assert is_at_least_as_aggressive(side, later, earlier)


@given(ladder_inputs())
def test_ladder_never_past_guard(
    inputs: tuple[Side, ContractSpec, Quote, ExecutionSettings, Decimal],
) -> None:
    """No stage or baseline prices further from arrival mid than the slippage guard allows."""
    side, contract, quote, settings, mid = inputs
    distance = settings.slippage_guard.in_price(reference=mid, tick_size=contract.tick_size)
    furthest = mid + side.sign * distance
    for price in _all_prices(side, contract, quote, settings, mid):
        assert is_at_least_as_aggressive(side, furthest, price) or price == contract.tick_size


@given(ladder_inputs(), quantities)
def test_no_input_yields_market_order(
    inputs: tuple[Side, ContractSpec, Quote, ExecutionSettings, Decimal], quantity: int
) -> None:
    """Every output is a positive on-tick Decimal that makes a valid LMT OrderRequest."""
    side, contract, quote, settings, mid = inputs
    for price in _all_prices(side, contract, quote, settings, mid):
        assert isinstance(price, Decimal) and price > 0
        request = OrderRequest(
            client_order_id=ClientOrderId("int-1.1"),
            intent_id=IntentId("int-1"),
            contract=contract,
            side=side,
            quantity=quantity,
            limit_price=price,
        )
        assert request.order_type is OrderType.LIMIT
