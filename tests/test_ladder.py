import itertools
import math
from decimal import Decimal

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from hydra._contracts import LEAN_HOGS, OATS, ContractSpec
from hydra._core._crowd import (
    OwnOrder,
    crowd_quote,
    far_size,
    first_in_queue,
    near_size,
    queue_ahead,
    track_ahead,
)
from hydra._core._ladder import (
    LadderStage,
    baseline_price,
    chases,
    ladder_patience,
    ladder_price,
    ladder_wait,
    repeg,
    step_size,
)
from hydra._core._pricing import is_at_least_as_aggressive
from hydra._enums import OrderType, Policy, Side
from hydra._errors import InvalidValueError
from hydra._ids import ClientOrderId, IntentId
from hydra._orders import OrderRequest
from hydra._quotes import Quote
from hydra._settings import Distance, DistanceUnit, ExecutionSettings, Urgency
from tests.strategies import contract_and_quote, quantities, sides

DEFAULTS = ExecutionSettings()  # step 0.1 % of mid, guard 50 bps, no offset, patience 60 s
ZO_WIDE = Quote(bid=Decimal("350.00"), ask=Decimal("351.00"))  # 4 ticks, mid 350.50
ZO_TIGHT = Quote(bid=Decimal("350.00"), ask=Decimal("350.50"))  # 2 ticks, mid 350.25
HE_WIDE = Quote(bid=Decimal("80.000"), ask=Decimal("80.200"))  # 8 ticks, mid 80.100
ZO_ONE = Quote(bid=Decimal("350.00"), ask=Decimal("350.25"), bid_size=5, ask_size=4)  # 1 tick


def _ladder(
    side: Side,
    quote: Quote,
    contract: ContractSpec,
    *,
    settings: ExecutionSettings = DEFAULTS,
    arrival_mid: Decimal | None = None,
    own: OwnOrder | None = None,
    final: bool = False,
) -> list[Decimal]:
    mid = quote.mid if arrival_mid is None else arrival_mid
    return [
        ladder_price(side, quote, stage, settings=settings, contract=contract, arrival_mid=mid,
                     own=own, final=final)
        for stage in LadderStage
    ]


def _d(*texts: str) -> list[Decimal]:
    return [Decimal(text) for text in texts]


@pytest.mark.parametrize(
    ("side", "quote", "contract", "expected"),
    [
        (Side.BUY, ZO_WIDE, OATS, _d("350.25", "350.50", "350.75")),
        (Side.SELL, ZO_WIDE, OATS, _d("350.75", "350.50", "350.25")),
        (Side.BUY, ZO_TIGHT, OATS, _d("350.25", "350.25", "350.25")),
        (Side.SELL, ZO_TIGHT, OATS, _d("350.25", "350.25", "350.25")),
        (Side.BUY, HE_WIDE, LEAN_HOGS, _d("80.025", "80.100", "80.175")),
        (Side.SELL, HE_WIDE, LEAN_HOGS, _d("80.175", "80.100", "80.025")),
        (Side.BUY, ZO_ONE, OATS, _d("350.00", "350.25", "350.25")),
        (Side.SELL, ZO_ONE, OATS, _d("350.25", "350.00", "350.00")),
    ],
)
def test_ladder_prices_on_oats_and_hogs(
    side: Side, quote: Quote, contract: ContractSpec, expected: list[Decimal]
) -> None:
    """One tick inside a wide spread, a step toward the market, then one tick short of the far
    touch; a one-tick spread with size there is taken from the step on."""
    assert _ladder(side, quote, contract) == expected


def test_a_one_tick_spread_without_size_is_not_taken_before_the_deadline() -> None:
    """With nothing displayed at the ask, a buy rests at the bid; the deadline takes the ask."""
    empty = Quote(bid=Decimal("350.00"), ask=Decimal("350.25"), bid_size=5, ask_size=0)
    assert _ladder(Side.BUY, empty, OATS) == _d("350.00", "350.00", "350.00")
    assert _ladder(Side.BUY, empty, OATS, final=True) == _d("350.00", "350.00", "350.25")


def test_the_deadline_takes_a_wide_spread_in_the_last_stage_only() -> None:
    """The intent's final order takes the far touch of a 4-tick spread at its last stage."""
    assert _ladder(Side.BUY, ZO_WIDE, OATS, final=True) == _d("350.25", "350.50", "351.00")
    assert _ladder(Side.SELL, ZO_WIDE, OATS, final=True) == _d("350.75", "350.50", "350.00")


@pytest.mark.parametrize(
    ("urgency", "expected"),
    [
        (Urgency.LOW, _d("350.00", "350.00", "350.00")),
        (Urgency.NORMAL, _d("350.00", "350.25", "350.25")),
        (Urgency.HIGH, _d("350.25", "350.25", "350.25")),
    ],
)
def test_urgency_sets_the_first_stage_that_takes_a_one_tick_spread(
    urgency: Urgency, expected: list[Decimal]
) -> None:
    """LOW takes a one-tick spread only at the deadline, NORMAL from the step, HIGH at once."""
    settings = ExecutionSettings(urgency=urgency)
    assert _ladder(Side.BUY, ZO_ONE, OATS, settings=settings) == expected


def test_our_own_improving_order_is_not_the_market() -> None:
    """A buy alone at 350.25 in a 350.25 / 351.00 book stays there: the crowd's bid is taken
    to be 350.00, so the price does not chase itself up to 350.50."""
    shown = Quote(bid=Decimal("350.25"), ask=Decimal("351.00"), bid_size=3, ask_size=4)
    own = OwnOrder(price=Decimal("350.25"), remaining=3)
    assert _ladder(Side.BUY, shown, OATS, own=own)[0] == Decimal("350.25")
    assert _ladder(Side.BUY, shown, OATS)[0] == Decimal("350.50")  # as if it were the crowd's


def test_joining_others_at_the_touch_keeps_their_touch() -> None:
    """With two crowd lots beside our three at a one-tick spread, the step takes the ask."""
    shown = Quote(bid=Decimal("350.00"), ask=Decimal("350.25"), bid_size=5, ask_size=4)
    own = OwnOrder(price=Decimal("350.00"), remaining=3)
    assert _ladder(Side.BUY, shown, OATS, own=own) == _d("350.00", "350.25", "350.25")


def test_first_in_the_crowds_queue_the_step_does_not_take_until_the_deadline() -> None:
    """Our three lots first at the bid (nobody ahead, two crowd lots behind) of a one-tick
    spread: no stage takes the ask but the last of the intent's final order; with lots
    ahead of it, or not known, the step takes it as before."""
    shown = Quote(bid=Decimal("350.00"), ask=Decimal("350.25"), bid_size=5, ask_size=4)
    first = OwnOrder(price=Decimal("350.00"), remaining=3, ahead=0)
    assert _ladder(Side.BUY, shown, OATS, own=first) == _d("350.00", "350.00", "350.00")
    assert _ladder(Side.BUY, shown, OATS, own=first, final=True) == _d(
        "350.00", "350.00", "350.25")
    for behind in (1, None):
        own = attrs.evolve(first, ahead=behind)
        assert _ladder(Side.BUY, shown, OATS, own=own) == _d("350.00", "350.25", "350.25")


def test_the_lots_ahead_are_what_the_quote_shows_at_our_price_less_ours() -> None:
    """Joining the bid of 5 lots: 5 ahead; resting there with 3 of the 8 shown: at most 5;
    improving the bid: none; behind it: not known. The estimate keeps the lowest seen while
    the order is at the touch and is lost behind it."""
    shown = Quote(bid=Decimal("350.00"), ask=Decimal("350.50"), bid_size=5, ask_size=4)
    assert queue_ahead(Side.BUY, Decimal("350.00"), shown, own=None) == 5
    resting = OwnOrder(price=Decimal("350.00"), remaining=3)
    assert queue_ahead(Side.BUY, Decimal("350.00"), attrs.evolve(shown, bid_size=8),
                       own=resting) == 5
    assert queue_ahead(Side.BUY, Decimal("350.25"), shown, own=resting) == 0
    assert queue_ahead(Side.BUY, Decimal("349.75"), shown, own=resting) is None
    assert queue_ahead(Side.SELL, Decimal("350.25"), shown, own=None) == 0
    assert [track_ahead(5, 2), track_ahead(2, 4), track_ahead(None, 4), track_ahead(2, None)
            ] == [2, 2, 4, None]
    crowd = crowd_quote(Side.BUY, shown, own=resting, tick_size=OATS.tick_size)
    assert first_in_queue(Side.BUY, crowd, attrs.evolve(resting, ahead=0))
    assert not first_in_queue(Side.BUY, crowd, attrs.evolve(resting, ahead=1))
    assert not first_in_queue(Side.BUY, crowd, None)
    alone = Quote(bid=Decimal("350.00"), ask=Decimal("350.50"), bid_size=3, ask_size=4)
    crowd = crowd_quote(Side.BUY, alone, own=resting, tick_size=OATS.tick_size)
    assert not first_in_queue(Side.BUY, crowd, attrs.evolve(resting, ahead=0))  # crowd behind


def test_crowd_quote_takes_our_order_out() -> None:
    """Alone at the ask, our sell leaves the crowd's ask a tick above; joined, only its size."""
    shown = Quote(bid=Decimal("350.00"), ask=Decimal("350.50"), bid_size=2, ask_size=3)
    alone = crowd_quote(Side.SELL, shown, own=OwnOrder(price=Decimal("350.50"), remaining=3),
                        tick_size=OATS.tick_size)
    assert (alone.ask, alone.ask_size, alone.bid, alone.bid_size) == (
        Decimal("350.75"), 0, Decimal("350.00"), 2)
    joined = crowd_quote(Side.SELL, shown, own=OwnOrder(price=Decimal("350.50"), remaining=1),
                         tick_size=OATS.tick_size)
    assert (joined.ask, joined.ask_size) == (Decimal("350.50"), 2)
    behind = OwnOrder(price=Decimal("350.75"), remaining=1)
    assert crowd_quote(Side.SELL, shown, own=behind, tick_size=OATS.tick_size) == shown


def test_mid_between_ticks_rounds_passively() -> None:
    """A one-tick hog spread rests a buy at the bid and a sell at the ask."""
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
    """A 10 bps offset (about 0.35 cents) moves a buy's 350.25 down to 349.75 and a sell's
    350.75 up to 351.25; the step is not offset."""
    settings = ExecutionSettings(limit_offset=Distance.bps(10))
    assert _ladder(Side.BUY, ZO_WIDE, OATS, settings=settings)[:2] == _d("349.75", "350.50")
    assert _ladder(Side.SELL, ZO_WIDE, OATS, settings=settings)[:2] == _d("351.25", "350.50")


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
    """A quote off the tick grid still yields on-tick prices."""
    quote = Quote(bid=Decimal("80.01"), ask=Decimal("80.09"))
    prices = _ladder(Side.BUY, quote, LEAN_HOGS)
    assert prices == _d("80.025", "80.075", "80.075")


def test_waits_halve_at_each_stage() -> None:
    """The ladder waits patience, then half of it, then a quarter."""
    settings = ExecutionSettings(patience=60.0)
    waits = [ladder_wait(stage, settings=settings) for stage in LadderStage]
    assert waits == [60.0, 30.0, 15.0]


@pytest.mark.parametrize(("share", "patience", "waits"), [
    (1.0, 60.0, [1000.0, 500.0, 250.0]),  # the whole deadline
    (0.5, 60.0, [500.0, 250.0, 125.0]),
    (0.0, 60.0, [60.0, 30.0, 15.0]),  # the default: patience alone
    (0.05, 60.0, [60.0, 30.0, 15.0]),  # 87.5 s of the deadline is shorter than the ladder
    (1.0, 1200.0, [1200.0, 600.0, 300.0]),  # a longer patience is kept
])
def test_a_small_intents_ladder_spans_its_share_of_the_deadline(
    share: float, patience: float, waits: list[float],
) -> None:
    """With a deadline of 1,750 s the ladder's three waits add up to ``deadline_share`` of it
    (in the ratio 4:2:1), unless ``patience`` makes the ladder longer."""
    settings = ExecutionSettings(patience=patience, twap_horizon=1750.0, deadline_share=share)
    assert [ladder_wait(stage, settings=settings) for stage in LadderStage] == waits
    assert ladder_patience(settings) == waits[0]


@pytest.mark.parametrize(("share", "patience", "waits"), [
    (1.0, 60.0, [1705.0, 30.0, 15.0]),  # the whole deadline: stage 0 rests all but 45 s
    (0.5, 60.0, [830.0, 30.0, 15.0]),
    (0.0, 60.0, [60.0, 30.0, 15.0]),  # patience alone: as without stretch_rest
    (1.0, 1200.0, [1200.0, 600.0, 300.0]),  # a longer patience is kept
])
def test_stretch_rest_gives_the_deadline_to_stage_zero(
    share: float, patience: float, waits: list[float],
) -> None:
    """With ``stretch_rest`` a ladder stretched over its share of a 1,750 s deadline rests at
    stage 0 for all of it but the step's and the last stage's ``patience``-sized waits."""
    settings = ExecutionSettings(patience=patience, twap_horizon=1750.0, deadline_share=share,
                                 stretch_rest=True)
    assert [ladder_wait(stage, settings=settings) for stage in LadderStage] == waits


@pytest.mark.parametrize(("side", "join_wait", "expected"), [
    (Side.BUY, 1000.0, "350.00"),  # stage 0 waits 1,000 s: joins the crowd's bid
    (Side.SELL, 1000.0, "351.00"),
    (Side.BUY, 1000.5, "350.25"),  # a shorter wait than join_wait: one tick inside
    (Side.SELL, math.inf, "350.75"),  # the default: always inside a wide spread
])
def test_a_long_stage_zero_joins_a_wide_spreads_touch(
    side: Side, join_wait: float, expected: str,
) -> None:
    """A stage 0 that rests ``join_wait`` or longer joins the crowd's near touch of a 4-tick
    spread instead of improving it by a tick; the later stages are as they were."""
    settings = ExecutionSettings(twap_horizon=1750.0, deadline_share=1.0, join_wait=join_wait)
    prices = _ladder(side, ZO_WIDE, OATS, settings=settings)
    improving = _ladder(side, ZO_WIDE, OATS, settings=attrs.evolve(settings, join_wait=math.inf))
    assert prices[0] == Decimal(expected)
    assert prices[1:] == improving[1:]


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), True, "600"])
def test_a_join_wait_not_above_zero_is_refused(bad: object) -> None:
    """A ``join_wait`` that is not a number of seconds above zero names the field."""
    with pytest.raises(InvalidValueError) as info:
        ExecutionSettings(join_wait=bad)  # type: ignore[arg-type]
    assert info.value.field == "join_wait"


@pytest.mark.parametrize("bad", [1, "yes", None])
def test_a_stretch_rest_not_a_bool_is_refused(bad: object) -> None:
    """A ``stretch_rest`` that is not true or false names the field."""
    with pytest.raises(TypeError, match="stretch_rest"):
        ExecutionSettings(stretch_rest=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-0.1, 1.5, True, "all", float("nan")])
def test_a_deadline_share_outside_0_to_1_is_refused(bad: object) -> None:
    """A ``deadline_share`` that is not a number from 0 to 1 names the field."""
    with pytest.raises(InvalidValueError) as info:
        ExecutionSettings(deadline_share=bad)  # type: ignore[arg-type]
    assert info.value.field == "deadline_share"


@pytest.mark.parametrize("bad", [0, -1, "1.5", True, "nan"])
def test_a_chase_at_outside_0_to_1_is_refused(bad: object) -> None:
    """A ``chase_at`` that is not above 0 and at most 1 names the field."""
    with pytest.raises(InvalidValueError) as info:
        ExecutionSettings(chase_at=bad)  # type: ignore[arg-type]
    assert info.value.field == "chase_at"


GUARD_8 = ExecutionSettings(slippage_guard=Distance.ticks(8))  # chase 6 ticks (1.50) away


@pytest.mark.parametrize(("side", "bid", "chasing"), [
    (Side.BUY, "351.25", False),  # mid 351.375: 1.25 above the arrival mid
    (Side.BUY, "351.50", True),  # mid 351.625: 1.50 above
    (Side.BUY, "348.00", False),  # a move in the order's favour is never chased
    (Side.SELL, "348.50", True),
    (Side.SELL, "348.75", False),
    (Side.SELL, "352.00", False),
])
def test_the_ladder_chases_a_move_of_chase_at_of_the_guard_against_it(
    side: Side, bid: str, chasing: bool,
) -> None:
    """From an arrival mid of 350.125 with a guard of 8 ticks (2.00) and ``chase_at`` 0.75,
    a crowd mid 1.50 or more against the order is chased; less, or in its favour, is not."""
    quote = Quote(bid=Decimal(bid), ask=Decimal(bid) + Decimal("0.25"))
    assert chases(side, quote, own=None, settings=GUARD_8, contract=OATS,
                  arrival_mid=Decimal("350.125")) is chasing


@pytest.mark.parametrize("bad", [3, -1, True, "RESTING", None])
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
join_waits = st.sampled_from([math.inf, 30.0])  # stage 0 (60 s) improves, or joins
execution_settings = st.builds(
    ExecutionSettings,
    price_step_pct=st.decimals(min_value=Decimal("0.01"), max_value=5, places=2),
    slippage_guard=distances,
    limit_offset=distances,
    urgency=st.sampled_from(list(Urgency)),
    join_wait=join_waits,
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
    ladders = [price for final in (False, True)
               for price in _ladder(side, quote, contract, settings=settings, arrival_mid=mid,
                                    final=final)]
    return ladders + baselines


@given(ladder_inputs())
def test_every_price_on_tick_grid(
    inputs: tuple[Side, ContractSpec, Quote, ExecutionSettings, Decimal],
) -> None:
    """Every ladder stage and baseline price is a whole number of ticks."""
    side, contract, quote, settings, mid = inputs
    assert all(contract.is_on_tick(p) for p in _all_prices(side, contract, quote, settings, mid))


@given(ladder_inputs(), st.booleans())
def test_ladder_moves_only_toward_market(
    inputs: tuple[Side, ContractSpec, Quote, ExecutionSettings, Decimal], final: bool
) -> None:
    """For a fixed quote, each stage is at least as aggressive as the one before."""
    side, contract, quote, settings, mid = inputs
    prices = _ladder(side, quote, contract, settings=settings, arrival_mid=mid, final=final)
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


@given(ladder_inputs(), st.booleans())
def test_never_takes_a_crowd_spread_wider_than_one_tick_before_the_deadline(
    inputs: tuple[Side, ContractSpec, Quote, ExecutionSettings, Decimal], final: bool
) -> None:
    """Before the last stage of the final order, a crowd spread of two ticks or more, or one
    with nothing displayed at the far touch, is never taken: every price stays short of it."""
    side, contract, quote, settings, mid = inputs
    prices = _ladder(side, quote, contract, settings=settings, arrival_mid=mid, final=final)
    if final:
        prices = prices[:-1]
    wide = quote.spread > contract.tick_size or far_size(side, quote) == 0
    if wide:
        far = quote.far_touch(side)
        assert all(not is_at_least_as_aggressive(side, price, far) for price in prices)


@st.composite
def crowd_and_own(draw: st.DrawFn) -> tuple[Side, ContractSpec, Quote, Quote, OwnOrder]:
    """A side, contract, the crowd's quote, and the quote shown with our order in it: joined
    at the crowd's near touch, or alone one tick inside a crowd spread of two ticks or more."""
    contract, crowd = draw(contract_and_quote())
    side, tick = draw(sides), contract.tick_size
    remaining = draw(st.integers(min_value=1, max_value=30))
    touch, size = ("bid", "bid_size") if side is Side.BUY else ("ask", "ask_size")
    crowd = attrs.evolve(crowd, **{size: draw(st.integers(min_value=1, max_value=50))})
    near = crowd.near_touch(side)
    if crowd.spread >= 2 * tick and draw(st.booleans()):
        own = OwnOrder(price=near + side.sign * tick, remaining=remaining)
        shown = attrs.evolve(crowd, **{touch: own.price, size: remaining})
    else:
        own = OwnOrder(price=near, remaining=remaining)
        shown = attrs.evolve(crowd, **{size: near_size(side, crowd) + remaining})
    return side, contract, crowd, shown, own


@given(crowd_and_own(), execution_settings)
def test_lots_ahead_of_schedule_never_take_nor_move(
    inputs: tuple[Side, ContractSpec, Quote, Quote, OwnOrder], settings: ExecutionSettings,
) -> None:
    """Lots resting ahead of a TWAP's schedule work stage 0 at the lowest urgency: their
    price never reaches the crowd's far touch, whatever its spread and size, and once placed
    the order is never re-priced (stage 0 moves only to take)."""
    side, contract, crowd, shown, own = inputs
    ahead = attrs.evolve(settings, urgency=Urgency.LOW)
    price = ladder_price(side, crowd, LadderStage.RESTING, settings=ahead, contract=contract,
                         arrival_mid=crowd.mid)
    assert not is_at_least_as_aggressive(side, price, crowd.far_touch(side))
    assert repeg(side, shown, LadderStage.RESTING, own=own, settings=ahead, contract=contract,
                 arrival_mid=crowd.mid) is None


@given(crowd_and_own(), execution_settings, st.booleans())
def test_never_prices_from_our_own_order(
    inputs: tuple[Side, ContractSpec, Quote, Quote, OwnOrder], settings: ExecutionSettings,
    final: bool,
) -> None:
    """With our order joined at the crowd's touch or one tick inside it, every stage prices as
    it would from the crowd's quote alone."""
    side, contract, crowd, shown, own = inputs
    mid = crowd.mid
    assert _ladder(side, shown, contract, settings=settings, arrival_mid=mid, own=own,
                   final=final) == _ladder(side, crowd, contract, settings=settings,
                                           arrival_mid=mid, final=final)


@given(crowd_and_own(), execution_settings, st.booleans())
def test_first_in_the_crowds_queue_no_stage_takes_but_the_deadlines(
    inputs: tuple[Side, ContractSpec, Quote, Quote, OwnOrder], settings: ExecutionSettings,
    final: bool,
) -> None:
    """An order first in the crowd's queue at its near touch (nobody estimated ahead of it)
    never reaches the crowd's far touch before the last stage of the intent's final order,
    whatever the spread, its size and the urgency."""
    side, contract, crowd, shown, own = inputs
    first = attrs.evolve(own, ahead=0)
    prices = _ladder(side, shown, contract, settings=settings, arrival_mid=crowd.mid,
                     own=first, final=final)
    if final:
        prices = prices[:-1]
    if first_in_queue(side, crowd, first):
        assert all(not is_at_least_as_aggressive(side, p, crowd.far_touch(side))
                   for p in prices)


@given(crowd_and_own(), execution_settings)
def test_a_joining_stage_zero_never_improves_the_crowds_touch(
    inputs: tuple[Side, ContractSpec, Quote, Quote, OwnOrder], settings: ExecutionSettings,
) -> None:
    """A stage 0 that joins (its wait at least ``join_wait``) is never priced ahead of the
    crowd's near touch, our own order in the quote or not, unless it takes a one-tick
    spread."""
    side, contract, crowd, shown, own = inputs
    joining = attrs.evolve(settings, join_wait=settings.patience)
    for quote, ours in ((crowd, None), (shown, own)):
        price = ladder_price(side, quote, LadderStage.RESTING, settings=joining,
                             contract=contract, arrival_mid=crowd.mid, own=ours)
        takes_far = price == crowd.far_touch(side) and crowd.spread <= contract.tick_size
        assert takes_far or is_at_least_as_aggressive(side, crowd.near_touch(side), price)


@given(st.floats(min_value=1, max_value=3600), st.floats(min_value=0, max_value=1),
       st.floats(min_value=1, max_value=36_000))
def test_stretch_rest_keeps_the_ladders_span_and_gives_stage_zero_all_of_the_stretch(
    patience: float, share: float, horizon: float,
) -> None:
    """With ``stretch_rest`` the three waits add up to what they add up to without it, the
    step and the last stage wait half and a quarter of ``patience``, and stage 0 never less
    than ``patience``."""
    plain = ExecutionSettings(patience=patience, deadline_share=share, twap_horizon=horizon)
    stretched = attrs.evolve(plain, stretch_rest=True)
    waits = [ladder_wait(stage, settings=stretched) for stage in LadderStage]
    total = sum(ladder_wait(stage, settings=plain) for stage in LadderStage)
    assert sum(waits) == pytest.approx(total, rel=1e-9)
    assert waits[1:] == [patience / 2, patience / 4] and waits[0] >= patience


chase_settings = st.builds(
    ExecutionSettings, slippage_guard=distances,
    chase_at=st.decimals(min_value=Decimal("0.01"), max_value=1, places=2),
)


@given(ladder_inputs(), chase_settings, st.integers(min_value=0, max_value=40))
def test_chasing_only_a_move_against_the_order_and_a_further_one_too(
    inputs: tuple[Side, ContractSpec, Quote, ExecutionSettings, Decimal],
    settings: ExecutionSettings, ticks: int,
) -> None:
    """The ladder chases only when the mid has moved ``chase_at`` of the guard or more
    against the order, and a quote moved further against it is chased as well."""
    side, contract, quote, _, mid = inputs
    reach = settings.slippage_guard.in_price(reference=mid, tick_size=contract.tick_size)
    chased = chases(side, quote, own=None, settings=settings, contract=contract, arrival_mid=mid)
    assert chased == (side.sign * (quote.mid - mid) >= settings.chase_at * reach)
    shift = side.sign * ticks * contract.tick_size
    if chased and quote.bid + shift > 0:  # a sell's quote moved down stays a price
        further = attrs.evolve(quote, bid=quote.bid + shift, ask=quote.ask + shift)
        assert chases(side, further, own=None, settings=settings, contract=contract,
                      arrival_mid=mid)


@given(crowd_and_own(), chase_settings, st.integers(min_value=-30, max_value=30))
def test_chasing_never_reads_our_own_order(
    inputs: tuple[Side, ContractSpec, Quote, Quote, OwnOrder], settings: ExecutionSettings,
    ticks: int,
) -> None:
    """Our order joined at the crowd's touch or one tick inside it moves no chase: the
    decision is the crowd quote's alone."""
    side, contract, crowd, shown, own = inputs
    mid = crowd.mid + ticks * contract.tick_size / 2
    assert chases(side, shown, own=own, settings=settings, contract=contract,
                  arrival_mid=mid) == chases(side, crowd, own=None, settings=settings,
                                             contract=contract, arrival_mid=mid)


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


class RepegMachine(RuleBasedStateMachine):
    """One resting order re-pegged (`repeg`) as the crowd's quote moves, fills come and the
    stages advance: it only ever moves toward the market, stays on the grid and inside the
    guard, and takes the far touch only where the rules allow."""

    def __init__(self) -> None:
        super().__init__()
        self.contract = OATS
        self.tick = OATS.tick_size
        self.taken = False

    @initialize(side=sides, settings=execution_settings, final=st.booleans(),
                bid=st.integers(min_value=1_300, max_value=1_500),
                spread=st.integers(min_value=1, max_value=6), remaining=st.integers(1, 20))
    def place(self, side: Side, settings: ExecutionSettings, final: bool, bid: int,
              spread: int, remaining: int) -> None:
        self.side, self.settings, self.final = side, settings, final
        self.crowd = Quote(bid=bid * self.tick, ask=(bid + spread) * self.tick,
                           bid_size=5, ask_size=5)
        self.arrival_mid, self.stage = self.crowd.mid, LadderStage.RESTING
        price = self._price(self.crowd, None)
        self.own = OwnOrder(price=price, remaining=remaining)
        self._check(price, previous=None)

    def _price(self, shown: Quote, own: OwnOrder | None) -> Decimal:
        return ladder_price(self.side, shown, self.stage, settings=self.settings,
                            contract=self.contract, arrival_mid=self.arrival_mid, own=own,
                            final=self.final)

    def _shown(self) -> Quote:
        """The crowd's quote with our order in it."""
        own, crowd, side = self.own, self.crowd, self.side
        near = crowd.near_touch(side)
        touch, size = ("bid", "bid_size") if side is Side.BUY else ("ask", "ask_size")
        if own.price == near:
            return attrs.evolve(crowd, **{size: near_size(side, crowd) + own.remaining})
        if is_at_least_as_aggressive(side, own.price, near):
            return attrs.evolve(crowd, **{touch: own.price, size: own.remaining})
        return crowd

    def _check(self, price: Decimal, *, previous: Decimal | None) -> None:
        side, crowd = self.side, self.crowd
        assert self.contract.is_on_tick(price)
        if previous is not None:
            assert is_at_least_as_aggressive(side, price, previous) and price != previous
        guard = self.settings.slippage_guard.in_price(reference=self.arrival_mid,
                                                      tick_size=self.tick)
        assert is_at_least_as_aggressive(side, self.arrival_mid + side.sign * guard, price)
        if is_at_least_as_aggressive(side, price, crowd.far_touch(side)):
            at_deadline = self.final and self.stage is LadderStage.CROSSING
            one_tick = crowd.spread == self.tick and far_size(side, crowd) > 0
            assert at_deadline or (one_tick and self.settings.urgency is not Urgency.LOW)
            self.taken = True

    @precondition(lambda self: not self.taken)
    @rule(shift=st.integers(min_value=-3, max_value=3), spread=st.integers(1, 6),
          near=st.integers(0, 9), far=st.integers(0, 9))
    def move(self, shift: int, spread: int, near: int, far: int) -> None:
        """The crowd requotes, never through our order (that would have filled it)."""
        side, tick = self.side, self.tick
        touch = self.crowd.near_touch(side) + side.sign * shift * tick
        beyond_ours = self.own.price + side.sign * tick  # the crowd's far touch at the nearest
        if not is_at_least_as_aggressive(side, touch + side.sign * spread * tick, beyond_ours):
            touch = beyond_ours - side.sign * spread * tick
        other = touch + side.sign * spread * tick
        bid, ask = (touch, other) if side is Side.BUY else (other, touch)
        sizes = (near, far) if side is Side.BUY else (far, near)
        self.crowd = Quote(bid=bid, ask=ask, bid_size=sizes[0], ask_size=sizes[1])
        self._repeg()

    @precondition(lambda self: not self.taken and self.stage < LadderStage.CROSSING)
    @rule()
    def advance(self) -> None:
        self.stage = LadderStage(self.stage + 1)
        self._repeg(new_stage=True)

    @precondition(lambda self: self.taken)
    @rule(remaining=st.integers(1, 20))
    def place_again(self, remaining: int) -> None:
        """The order was taken: the next one starts at the first stage in the crowd's quote."""
        self.taken, self.stage = False, LadderStage.RESTING
        self.crowd = attrs.evolve(self.crowd, bid_size=5, ask_size=5)
        price = self._price(self.crowd, None)
        self.own = OwnOrder(price=price, remaining=remaining)
        self._check(price, previous=None)

    @precondition(lambda self: not self.taken and self.own.remaining > 1)
    @rule()
    def fill_one(self) -> None:
        self.own = attrs.evolve(self.own, remaining=self.own.remaining - 1)
        self._repeg()

    def _repeg(self, *, new_stage: bool = False) -> None:
        price = self._repegged(new_stage=new_stage)
        if price is not None:
            self._check(price, previous=self.own.price)
            self.own = attrs.evolve(self.own, price=price)
            if not self.taken:  # nothing changed but our price: it does not chase itself
                assert self._repegged(new_stage=False) is None

    def _repegged(self, *, new_stage: bool) -> Decimal | None:
        return repeg(self.side, self._shown(), self.stage, own=self.own,
                     settings=self.settings, contract=self.contract,
                     arrival_mid=self.arrival_mid, final=self.final, new_stage=new_stage)


TestRepeg = RepegMachine.TestCase


# --- side symmetry ------------------------------------------------------------------------------


def _mirrored(quote: Quote, centre: Decimal) -> Quote:
    """``quote`` reflected about ``centre``: its bid is the reflected ask, sizes swapped."""
    return Quote(bid=2 * centre - quote.ask, ask=2 * centre - quote.bid,
                 bid_size=quote.ask_size, ask_size=quote.bid_size)


# A distance in bps is measured from a price (the step from the crowd's mid, the offset from
# the resting price) that the reflection moves, so it need not round to the same ticks: the
# property takes tick and absolute distances for those, and any guard (measured from the
# arrival mid, the centre of the reflection).
mirror_settings = st.builds(
    ExecutionSettings,
    price_step_pct=st.decimals(min_value=Decimal("0.01"), max_value=5, places=2),
    slippage_guard=distances,
    limit_offset=st.builds(Distance, unit=st.sampled_from([DistanceUnit.TICKS,
                                                           DistanceUnit.ABSOLUTE]),
                           value=st.decimals(min_value=0, max_value=200, places=2)),
    urgency=st.sampled_from(list(Urgency)),
    join_wait=join_waits,
)


@given(crowd_and_own(), mirror_settings, st.integers(min_value=-60, max_value=60),
       st.booleans(), st.booleans())
def test_a_sell_is_priced_as_the_mirror_of_a_buy(
    inputs: tuple[Side, ContractSpec, Quote, Quote, OwnOrder], settings: ExecutionSettings,
    drift: int, final: bool, resting: bool,
) -> None:
    """Every stage, repeg and chase of a buy on a quote is the reflection, about the arrival
    mid, of a sell's on the reflected quote (with our order reflected too), and the other way
    round: the pricing favours neither side."""
    side, contract, _, shown, own = inputs
    tick = contract.tick_size
    mid = shown.mid + drift * tick / 2
    assume(2 * mid - shown.ask > 0)
    other = _mirrored(shown, mid)
    mirrored_own = OwnOrder(price=2 * mid - own.price, remaining=own.remaining)
    crowds = [crowd_quote(s, q, own=o, tick_size=tick) for s, q, o in (
        (side, shown, own), (side.opposite, other, mirrored_own))]
    steps = {step_size(mid=q.mid, settings=settings, tick_size=tick)
             for q in (shown, other, *crowds)}
    assume(len(steps) == 1)
    ours, theirs = (own, mirrored_own) if resting else (None, None)
    for stage in LadderStage:
        prices = [ladder_price(s, q, stage, settings=settings, contract=contract,
                               arrival_mid=mid, own=o, final=final)
                  for s, q, o in ((side, shown, ours), (side.opposite, other, theirs))]
        assume(tick not in prices)  # a price floored at one tick has no mirror
        assert prices[1] == 2 * mid - prices[0]
        for new in (False, True):
            move, mirror = (repeg(s, q, stage, own=o, settings=settings, contract=contract,
                                  arrival_mid=mid, final=final, new_stage=new)
                            for s, q, o in ((side, shown, own),
                                            (side.opposite, other, mirrored_own)))
            assert mirror == (None if move is None else 2 * mid - move)
    chased = [chases(s, q, own=o, settings=settings, contract=contract, arrival_mid=mid)
              for s, q, o in ((side, shown, ours), (side.opposite, other, theirs))]
    assert chased[0] == chased[1]
