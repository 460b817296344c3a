"""The market model: random walk, scripted paths, halts and Poisson flow."""

from __future__ import annotations

import collections
import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from hydra._enums import Side
from hydra.sim import DisplayedSize, Gap, Halt, MarketParams, ScriptedFlow
from hydra.sim._market import _MOVE, _QUEUE, _REFILL, Market


def run(market: Market, until: float) -> int:
    """Step ``market`` to ``until``; return the number of events."""
    events = 0
    while market.next_time() <= until:
        market.step()
        events += 1
    return events


def test_same_seed_walks_the_same_path() -> None:
    """Two markets with one seed quote the same mid after an hour; another seed does not."""
    mids = []
    for seed in (1, 1, 2):
        market = Market(MarketParams.oats(), random.Random(seed))
        run(market, 3600)
        mids.append(market.mid)
    assert mids[0] == mids[1] != mids[2]


def test_scripted_path_trends_and_gaps() -> None:
    """With no volatility the mid follows the drift and jumps at the gap."""
    params = MarketParams.oats(
        adv=0,
        daily_volatility=0.0,
        spread_ticks=((1, 1.0),),
        drift_per_session=0.01,
        gaps=(Gap(at=100, change=Decimal("-2.00")),),
    ).legacy()
    market = Market(params, random.Random(1))
    run(market, 99.5)
    assert market.mid == Decimal("350.125")
    run(market, 100.5)
    assert market.mid == Decimal("348.125")
    run(market, params.session_seconds)
    assert Decimal("351") < market.mid < Decimal("352")  # 348 + 1% of 350


def test_no_flow_trades_during_a_halt() -> None:
    """Flow inside a halt leaves the book and the last trade alone."""
    params = MarketParams.oats(
        adv=0,
        daily_volatility=0.0,
        displayed_size=DisplayedSize.fixed(5),
        halts=(Halt(start=10, end=20),),
        flows=(ScriptedFlow(at=15, side=Side.BUY, quantity=50),),
    )
    market = Market(params, random.Random(1))
    before = market.book.best(Side.SELL)
    run(market, 30)
    assert market.book.best(Side.SELL) == before and market.last_trade is None


def test_flow_volume_matches_adv() -> None:
    """Over a session, the random flow's arrivals are close to ADV / mean flow size."""
    params = MarketParams.oats(daily_volatility=0.0)
    market = Market(params, random.Random(3))
    run(market, params.session_seconds)
    expected = params.adv / params.mean_flow_size
    assert abs(len(market.tape) - expected) < 4 * expected**0.5
    assert abs(market.volume - params.adv) < 0.15 * params.adv


def test_buy_flow_pushes_the_mid_up() -> None:
    """Buying flow moves the mid in its direction (adverse selection for resting sellers)."""
    params = MarketParams.oats(adv=0, daily_volatility=0.0, impact_ticks_per_lot=0.5)
    market = Market(params, random.Random(1))
    before = market.mid
    market.inject_flow(1.0, Side.BUY, 10)
    assert market.mid > before


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_foreseeing_the_book_leaves_the_path_as_stepping_draws_it(seed: int) -> None:
    """A market asked for its next book change before every event walks the same mid and
    quotes the same touches as one that is only stepped: the steps drawn ahead are the ones
    its stream would draw."""
    asked, stepped = (Market(MarketParams.oats(), random.Random(seed)) for _ in range(2))
    while asked.next_time() <= 1800:
        asked.next_book_time()
        asked.step()
    run(stepped, 1800)
    assert (asked.latent_mid, asked.touches, asked.book.version) == (
        stepped.latent_mid, stepped.touches, stepped.book.version)


def _next_kind(market: Market) -> int:
    """The kind of ``market``'s next event (`_MOVE`, `_REFILL` …)."""
    due = market._next
    return due.index(min(due))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_no_event_before_the_next_book_time_changes_the_book(seed: int) -> None:
    """Every event due before `Market.next_book_time` leaves the book as it was, and some
    are skipped: the steps of the latent mid that stay inside the crowd's quote, and the
    refills that find nothing to refill."""
    market = Market(MarketParams.oats(), random.Random(seed))
    skipped: collections.Counter[int] = collections.Counter()
    while market.next_time() <= 1800:
        foreseen, version = market.next_book_time(), market.book.version
        while market.next_time() < foreseen:
            skipped[_next_kind(market)] += 1
            market.step()
            assert market.book.version == version
        market.step()
    assert skipped[_MOVE] > 100 and skipped[_REFILL] > 100


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_foreseeing_the_quote_leaves_the_path_as_stepping_draws_it(seed: int) -> None:
    """A market asked for its next quote change before every event walks the same mid and
    leaves the same book as one that is only stepped: the crowd's queue events drawn ahead
    are the ones its stream would draw."""
    asked, stepped = (Market(MarketParams.hogs(), random.Random(seed)) for _ in range(2))
    while asked.next_time() <= 1800:
        asked.next_quote_time()
        asked.step()
    run(stepped, 1800)
    assert (asked.latent_mid, asked.touches, asked.book.version) == (
        stepped.latent_mid, stepped.touches, stepped.book.version)
    assert [asked.book.levels(side) for side in Side] == [
        stepped.book.levels(side) for side in Side]


def _top(market: Market) -> tuple[tuple[int, int], tuple[int, int]]:
    return market.book.best(Side.BUY), market.book.best(Side.SELL)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    market=st.sampled_from(["oats", "hogs", "thin", "mirrored"]),
    offset=st.sampled_from([None, -2, 0, 1]),
)
def test_no_event_before_the_next_quote_time_changes_the_quote(
    seed: int, market: str, offset: int | None
) -> None:
    """Every event due before `Market.next_quote_time` leaves the best bid and offer (prices
    and lots) as they were, with a bid of ours resting under, at or inside the crowd's touch
    (``offset`` ticks from it) or none, and many of the crowd's queue events are skipped."""
    params = {
        "oats": MarketParams.oats(),
        "hogs": MarketParams.hogs(),
        "mirrored": MarketParams.hogs(mirrored=True),
        "thin": MarketParams.oats(spread_ticks=((2, 0.5), (3, 0.5)),
                                  displayed_size=DisplayedSize(minimum=1, maximum=6, mean=2)),
    }[market]  # fmt: skip
    model = Market(params, random.Random(seed))
    if offset is not None:
        bid = model.book.crowd_bid + offset
        if bid < model.book.crowd_ask:
            model.book.place(key="ours", side=Side.BUY, price=bid, quantity=1000)
    skipped: collections.Counter[int] = collections.Counter()
    while model.next_time() <= 1800:
        foreseen, top = model.next_quote_time(), _top(model)
        assert foreseen >= model.next_book_time()
        while model.next_time() < foreseen:
            skipped[_next_kind(model)] += 1
            model.step()
            assert _top(model) == top
        model.step()
    assert skipped[_QUEUE] > 20


def test_the_next_quote_time_follows_our_orders() -> None:
    """Asked before and after a bid of ours is placed inside the spread, a market answers as
    one asked only after (what it remembers of its foresight goes with the book it saw), and
    the bid changes the answer for some seeds (the crowd may join it or step ahead of it)."""
    params = MarketParams.oats(spread_ticks=((2, 0.5), (3, 0.5)))
    changed = 0
    for seed in range(40):
        asked, fresh = (Market(params, random.Random(seed)) for _ in range(2))
        before = asked.next_quote_time()
        for market in (asked, fresh):
            bid = market.book.crowd_bid + 1
            market.book.place(key="ours", side=Side.BUY, price=bid, quantity=1)
        after = asked.next_quote_time()
        assert after == fresh.next_quote_time()
        changed += after != before
    assert changed > 0
