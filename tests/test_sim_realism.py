"""The simulated market does not flatter patience or crossing (TCA.md, "What the simulator must
model"): paired random streams, spread refill, own impact, informed flow, queue dynamics, depth
that refills, a burn-in, and market and stop orders from clients other than Hydra."""

from __future__ import annotations

import itertools
import random
import statistics
from collections import Counter
from decimal import Decimal

import attrs
import pytest
import trio

from hydra._enums import OrderStatus, Side
from hydra._errors import InvalidValueError
from hydra._ids import ClientOrderId
from hydra.brokers import FillReported, OrderStatusChanged
from hydra.sim import DisplayedSize, Gap, MarketParams, SimParams, open_sim_exchange
from hydra.sim._market import Market, Print
from tests.simulated import quiet_oats
from tests.test_sim_exchange import of_type, recorder, ticket


def calm_oats(**changes: object) -> SimParams:
    """Oats with no random flow and no random walk, but the crowd alive (the new model)."""
    fields: dict[str, object] = dict(adv=0, daily_volatility=0.0) | changes
    return SimParams(markets=(MarketParams.oats(**fields),))  # type: ignore[arg-type]


async def _paired_run(seed: int, policy: str) -> tuple[list[Print], list[Decimal], float]:
    """One hour of default oats under ``policy``; the tape, the latent mid each second, and
    the time of our first fill (inf when none)."""
    async with open_sim_exchange(SimParams(markets=(MarketParams.oats(),)), seed=seed) as ex:
        client, log = recorder(ex)
        quote = ex.quote("ZO")
        if policy == "deep":  # a bid far below the market: never trades
            ex.place(client, ticket("a", Side.BUY, str(quote.bid - 20 * Decimal("0.25"))))
        else:  # joins the bid, and looks at the quote every second
            ex.place(client, ticket("a", Side.BUY, str(quote.bid), quantity=5))
        mids = []
        for _ in range(3600):
            await trio.sleep(1)
            mids.append(ex.latent_mid("ZO"))
            if policy != "deep":
                ex.quote("ZO")
        tape = [attrs.evolve(p, time=p.time - ex.origin) for p in ex.tape("ZO")]
    fills = [time - ex.origin for time, _ in of_type(log, FillReported)]
    return tape, mids, min(fills, default=float("inf"))


async def test_two_policies_on_one_seed_see_one_exogenous_market(autojump_clock: object) -> None:
    """On one seed, a policy that rests far away and one that joins the bid (and reads quotes)
    see the same flow (times, sides, sizes) all hour and the same latent mid until our first
    fill."""
    for seed in (1, 2):
        deep_tape, deep_mids, _ = await _paired_run(seed, "deep")
        join_tape, join_mids, first_fill = await _paired_run(seed, "join")
        assert first_fill < 3600  # the joining policy did trade
        flow = [[(round(p.time, 9), p.aggressor, p.quantity) for p in tape]
                for tape in (deep_tape, join_tape)]
        assert flow[0] == flow[1] and len(flow[0]) > 50
        before = int(first_fill) - 1  # whole seconds strictly before the fill's report
        assert deep_mids[:before] == join_mids[:before]


def _spread_shares(params: MarketParams, seeds: range) -> dict[int, float]:
    seconds: Counter[int] = Counter()
    for seed in seeds:
        market = Market(params, random.Random(seed))
        time, end = market.start, market.start + params.session_seconds
        while market.next_time() <= end:
            at = market.next_time()
            seconds[market.book.crowd_ask - market.book.crowd_bid] += at - time
            time = at
            market.step()
    total = sum(seconds.values())
    return {ticks: seconds[ticks] / total for ticks in seconds}


def test_steady_state_spread_matches_spread_ticks() -> None:
    """Over sessions of default oats, the time at each crowd spread is within 5 percentage
    points of ``spread_ticks`` (1: 60%, 2: 30%, 3: 5%, 4: 5%)."""
    params = MarketParams.oats()
    shares = _spread_shares(params, range(1, 5))
    for ticks, weight in params.spread_ticks:
        assert abs(shares.get(ticks, 0.0) - weight) < 0.05, (ticks, shares)


def test_without_refill_one_tick_spreads_are_rare() -> None:
    """The old model (``refill_rate=0``) is still reachable, with its artifact: a 1-tick
    spread far less often than its parameters say."""
    params = MarketParams.oats(refill_rate=0.0, depth_levels=None, queue_events_per_second=0.0)
    shares = _spread_shares(params, range(1, 3))
    assert shares.get(1, 0.0) < 0.35


async def test_our_taker_lots_move_the_latent_mid(autojump_clock: object) -> None:
    """Four lots taken by our marketable buy move the latent mid up 4 × 0.25 ticks."""
    params = quiet_oats(own_impact_ticks_per_lot=0.25)
    async with open_sim_exchange(params, seed=1) as exchange:
        client, _ = recorder(exchange)
        before = exchange.latent_mid("ZO")
        exchange.place(client, ticket("a", Side.BUY, str(exchange.quote("ZO").ask), quantity=4))
        assert exchange.latent_mid("ZO") - before == Decimal("0.25")  # 1 tick = 0.25 cents


async def test_by_default_our_taker_lots_move_it_as_the_crowds_do(autojump_clock: object) -> None:
    """The default own impact is the crowd's: 0.05 tick per lot."""
    assert MarketParams.oats().own_impact_ticks_per_lot == MarketParams.oats().impact_ticks_per_lot
    async with open_sim_exchange(calm_oats(), seed=3) as exchange:
        client, _ = recorder(exchange)
        before = exchange.latent_mid("ZO")
        exchange.place(client, ticket("a", Side.BUY, str(exchange.quote("ZO").ask), quantity=2))
        assert exchange.latent_mid("ZO") - before == Decimal("0.025")  # 2 × 0.05 × 0.25


def _passive_moves(seed: int, horizons: tuple[float, ...]) -> dict[float, list[float]]:
    """One session with a 1-lot order at the crowd's near touch (sides alternating): for each
    fill, side × (crowd mid h s later − crowd mid just before the fill), in ticks, per h."""
    params = MarketParams.oats()
    market = Market(params, random.Random(seed))
    end = market.start + params.session_seconds
    side, resting = Side.BUY, False
    pending: list[tuple[float, float, int, float]] = []  # due, horizon, sign, mid before
    moves: dict[float, list[float]] = {h: [] for h in horizons}
    while market.next_time() <= end:
        if not resting:
            price = market.book.crowd_bid if side is Side.BUY else market.book.crowd_ask
            market.book.place(key=str(market.events), side=side, price=price, quantity=1)
            resting = True
        book = market.book
        before = (book.crowd_bid + book.crowd_ask) / 2
        trade = market.step()
        mid = (book.crowd_bid + book.crowd_ask) / 2
        for item in [p for p in pending if p[0] <= trade.time]:
            moves[item[1]].append(item[2] * (mid - item[3]))
            pending.remove(item)
        if trade.matches:
            pending += [(trade.time + h, h, side.sign, before) for h in horizons]
            resting, side = False, side.opposite
    return moves


def test_passive_fills_suffer_adverse_selection() -> None:
    """On average the crowd's mid moves against a passive filler after the fill: at 10 s and
    at 60 s the mean move is negative by more than two standard errors."""
    runs = [_passive_moves(seed, (10.0, 60.0)) for seed in range(1, 7)]
    for horizon in (10.0, 60.0):
        moves = [m for run in runs for m in run[horizon]]
        error = statistics.stdev(moves) / len(moves) ** 0.5
        assert statistics.mean(moves) < -2 * error, (horizon, statistics.mean(moves), error)


def test_flow_sides_persist() -> None:
    """With ``flow_sign_persistence`` 0.5, a flow has the side of the one before about 75% of
    the time; with 0, about half."""
    for persistence, expected in ((0.5, 0.75), (0.0, 0.5)):
        market = Market(MarketParams.oats(flow_sign_persistence=persistence), random.Random(4))
        while market.next_time() <= market.start + 4 * 3600:
            market.step()
        sides = [p.aggressor for p in market.tape]
        same = sum(a is b for a, b in itertools.pairwise(sides)) / (len(sides) - 1)
        assert abs(same - expected) < 0.06


def test_a_queue_that_empties_moves_the_latent_mid() -> None:
    """Flow that takes the whole best offer moves the latent mid by impact plus
    ``depletion_ticks``; flow that leaves some does not add it."""
    params = MarketParams.oats(adv=0, daily_volatility=0.0, displayed_size=DisplayedSize.fixed(5),
                               burn_in_seconds=0.0, queue_events_per_second=0.0)
    for lots, move in ((3, 3 * 0.05), (5, 5 * 0.05 + 0.5)):
        market = Market(params, random.Random(1))
        before = market.latent_mid
        market.inject_flow(1.0, Side.BUY, lots)
        assert abs(float((market.latent_mid - before) / Decimal("0.25")) - move) < 1e-9


async def test_our_order_that_empties_the_best_queue_moves_the_latent_mid_as_the_crowds(
        autojump_clock: object) -> None:
    """Our marketable buy that takes the whole best offer moves the latent mid by its impact
    plus ``own_depletion_ticks``, as the crowd's flow does (the test above); one that leaves
    some of it, or its rest resting at the ask's price, does not add it. With
    ``own_depletion_ticks=0`` (the model before) it moves by the impact alone."""
    cases = ((3, None, 3 * 0.05), (5, None, 5 * 0.05 + 0.5), (7, None, 5 * 0.05 + 0.5),
             (5, 0.0, 5 * 0.05))
    for lots, own_depletion, move in cases:
        changes: dict[str, object] = dict(
            spread_ticks=((1, 1.0),), displayed_size=DisplayedSize.fixed(5),
            burn_in_seconds=0.0, queue_events_per_second=0.0)
        if own_depletion is not None:
            changes["own_depletion_ticks"] = own_depletion
        async with open_sim_exchange(calm_oats(**changes), seed=1) as exchange:
            client, _ = recorder(exchange)
            before = exchange.latent_mid("ZO")
            ask = exchange.quote("ZO").ask
            exchange.place(client, ticket("a", Side.BUY, str(ask), quantity=lots))
            ticks = float((exchange.latent_mid("ZO") - before) / Decimal("0.25"))
            assert abs(ticks - move) < 1e-9, (lots, own_depletion, ticks)


def test_cancels_ahead_move_our_order_up_the_queue() -> None:
    """With no flow at all, crowd cancels at our price shorten the queue ahead of our bid."""
    params = MarketParams.oats(adv=0, daily_volatility=0.0)
    market = Market(params, random.Random(2))
    market.book.place(key="a", side=Side.BUY, price=market.book.crowd_bid, quantity=1)
    resting = market.book.resting("a")
    assert resting is not None
    start = resting.ahead
    while market.next_time() <= market.start + 600:
        market.step()
    assert resting.ahead < start


async def _stepped_ahead(seed: int) -> bool:
    """Whether, within 5 minutes, the crowd bids above our bid one tick inside a 3-tick
    spread (no flow, no walk)."""
    async with open_sim_exchange(calm_oats(spread_ticks=((3, 1.0),)), seed=seed) as exchange:
        client, _ = recorder(exchange)
        ours = exchange.quote("ZO").bid + Decimal("0.25")
        exchange.place(client, ticket("a", Side.BUY, str(ours)))
        with trio.move_on_after(300):
            quote = exchange.quote("ZO")
            while quote.bid <= ours:
                quote = await exchange.wait_quote_changed("ZO", quote)
            return True
    return False


async def test_an_improving_order_is_sometimes_stepped_ahead_of(autojump_clock: object) -> None:
    """Over ten seeds, the crowd steps ahead of our improving bid in some runs, not all (it
    joins behind it in others)."""
    stepped = [await _stepped_ahead(seed) for seed in range(1, 11)]
    assert 2 <= sum(stepped) <= 9


async def test_depth_refills_at_a_rate_after_a_sweep(autojump_clock: object) -> None:
    """A sell sweep of the three best bid levels leaves the book thin; it refills a level at a
    time (not at once) until five levels and the target spread stand again."""
    params = calm_oats(spread_ticks=((1, 1.0),))
    async with open_sim_exchange(params, seed=5) as exchange:
        levels = exchange.depth("ZO", Side.BUY)
        assert len(levels) == 5
        swept = sum(lots for _, lots in levels[:3])
        exchange.inject_flow("ZO", Side.SELL, swept)
        after = exchange.depth("ZO", Side.BUY)
        assert after[0][0] == levels[3][0] and len(after) == 2
        counts = []
        for _ in range(120):
            await trio.sleep(0.5)
            counts.append(len(exchange.depth("ZO", Side.BUY)))
        quote = exchange.quote("ZO")
        assert counts[0] < 5 and counts[-1] == 5
        assert all(b - a <= 1 for a, b in itertools.pairwise(counts))
        assert quote.ask - quote.bid == Decimal("0.25")


def test_the_market_runs_a_burn_in_before_it_opens() -> None:
    """After the burn-in the book has traded (a last trade stands), volume counts from the
    opening, the mid is within half a tick of the start mid, and the book is not the fresh
    one of the same seed."""
    params = MarketParams.oats()
    market = Market(params, random.Random(9), start=0.0)
    fresh = Market(attrs.evolve(params, burn_in_seconds=0.0), random.Random(9))
    assert market.last_trade is not None and market.volume == 0 and not market.tape
    assert abs(market.latent_mid - params.start_mid) <= Decimal("0.125")
    assert [market.book.levels(s) for s in Side] != [fresh.book.levels(s) for s in Side]


async def test_a_market_order_walks_the_book(autojump_clock: object) -> None:
    """Another client's MKT buy of 12 takes 5 at the ask and walks the next levels; its
    average price is worse than the touch; nothing of it rests."""
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        client, log = recorder(exchange)
        ask = exchange.quote("ZO").ask
        exchange.place(client, ticket("m", Side.BUY, "1", quantity=12, order_type="MKT",
                                      limit_price=None))
        await trio.sleep(1)
        assert exchange.open_orders() == ()
    fills = [(e.fill.price, e.fill.quantity) for _, e in of_type(log, FillReported)]
    tick = Decimal("0.25")
    assert fills == [(ask, 5), (ask + tick, 5), (ask + 2 * tick, 2)]
    assert of_type(log, OrderStatusChanged)[-1][1].status is OrderStatus.FILLED


async def test_a_market_order_rests_at_its_protection(autojump_clock: object) -> None:
    """A MKT order larger than the book within ``market_protection_ticks`` fills what is there
    and the rest stays in the book as a limit at the protection price (Globex's market order
    with protection): here the best offer, one tick under the bid it arrived on."""
    params = quiet_oats(spread_ticks=1, market_protection_ticks=1)
    async with open_sim_exchange(params, seed=1) as exchange:
        client, log = recorder(exchange)
        bid = exchange.quote("ZO").bid
        exchange.place(client, ticket("m", Side.SELL, "1", quantity=30, order_type="MKT",
                                      limit_price=None))
        await trio.sleep(1)
        assert exchange.working_orders() == {ClientOrderId("m")}
        assert exchange.quote("ZO").ask == bid - Decimal("0.25")
    assert sum(e.fill.quantity for _, e in of_type(log, FillReported)) == 10
    last = of_type(log, OrderStatusChanged)[-1][1]
    assert (last.status, last.filled, last.remaining) == (OrderStatus.WORKING, 10, 20)


async def test_an_ioc_market_order_cancels_its_rest(autojump_clock: object) -> None:
    """A MKT IOC takes what is within its protection and the rest is cancelled at once."""
    params = quiet_oats(spread_ticks=1, market_protection_ticks=1)
    async with open_sim_exchange(params, seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("m", Side.SELL, "1", quantity=30, order_type="MKT",
                                      limit_price=None, time_in_force="IOC"))
        await trio.sleep(1)
        assert exchange.working_orders() == frozenset()
    last = of_type(log, OrderStatusChanged)[-1][1]
    assert (last.status, last.filled, last.remaining) == (OrderStatus.CANCELLED, 10, 20)


async def test_a_stop_order_becomes_a_market_order_when_touched(autojump_clock: object) -> None:
    """A STP sell at 349.75 rests unseen by Hydra's snapshot, and when a print touches it it
    sells at the market (walking the bid)."""
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("s", Side.SELL, "1", quantity=3, order_type="STP",
                                      limit_price=None, stop_price=Decimal("349.75")))
        await trio.sleep(1)
        assert exchange.open_orders() == () and not of_type(log, FillReported)
        exchange.inject_flow("ZO", Side.SELL, 10)  # prints 350.00 then 349.75
        await trio.sleep(1)
    fills = [(e.fill.price, e.fill.quantity) for _, e in of_type(log, FillReported)]
    assert sum(q for _, q in fills) == 3 and all(p <= Decimal("349.75") for p, _ in fills)


async def test_priced_market_orders_and_modifications_are_refused(autojump_clock: object) -> None:
    """A MKT order with a limit price is refused (201); a working STP cannot be modified."""
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        client, log = recorder(exchange)
        exchange.place(client, ticket("m", Side.BUY, "350.00", order_type="MKT"))
        exchange.place(client, ticket("s", Side.SELL, "1", order_type="STP", limit_price=None,
                                      stop_price=Decimal("340.00")))
        exchange.modify(client, ClientOrderId("s"), limit_price=Decimal("340.00"))
        await trio.sleep(1)
    statuses = {e.client_order_id: e for _, e in of_type(log, OrderStatusChanged)}
    assert (statuses[ClientOrderId("m")].status, statuses[ClientOrderId("m")].code) == (
        OrderStatus.REJECTED, 201)
    assert statuses[ClientOrderId("s")].status is OrderStatus.WORKING


# --- a mirrored market --------------------------------------------------------------------------

OATS_TICK = Decimal("0.25")


def _reflected(price: Decimal, centre: Decimal) -> Decimal:
    return 2 * centre - price


def test_a_mirrored_market_is_its_seeds_market_reflected() -> None:
    """For two hours of default oats and of a trending, gappy day, the mirrored market's events
    come at the same times, its bid levels are the seed's ask levels reflected about the start
    mid (and the other way round), its flow has the other side and its latent mid the
    reflected one."""
    days = (MarketParams.oats(), MarketParams.oats(drift_per_session=0.03, gaps=(
        Gap(at=600.0, change=Decimal("1.25")), Gap(at=3000.0, change=Decimal("-0.75")))))
    for params, seed in itertools.product(days, (1, 2)):
        seen, mirrored = (Market(p, random.Random(seed)) for p in (
            params, attrs.evolve(params, mirrored=True)))
        centre = int(2 * params.start_mid / OATS_TICK)  # twice the start mid, in ticks
        while seen.next_time() <= 7200:
            assert mirrored.next_time() == seen.next_time()
            seen.step()
            mirrored.step()
            for side in Side:
                assert mirrored.book.levels(side.opposite) == [
                    (centre - price, lots) for price, lots in seen.book.levels(side)]
        assert abs(_reflected(mirrored.latent_mid, params.start_mid) - seen.latent_mid) < 1e-9
        assert [(p.time, p.aggressor.opposite, p.quantity, centre - p.price)
                for p in mirrored.tape] == [(p.time, p.aggressor, p.quantity, p.price)
                                            for p in seen.tape]
        assert len(seen.tape) > 100


async def _our_fills(params: SimParams, side: Side, centre: Decimal | None) -> list[object]:
    """One hour of ``params`` on seed 3: a 5-lot order of ``side`` joins the near touch at
    600 s and a 3-lot one takes the far touch at 1,800 s (prices seen reflected about
    ``centre`` when it is given); our fills as (seconds after opening, side, price, lots),
    reflected back."""
    def seen(price: Decimal) -> Decimal:
        return price if centre is None else _reflected(price, centre)

    async with open_sim_exchange(params, seed=3) as exchange:
        client, log = recorder(exchange)
        opened = exchange.origin
        await trio.sleep(600)
        quote = exchange.quote("ZO")
        near = quote.bid if side is Side.BUY else quote.ask
        exchange.place(client, ticket("join", side, str(near), quantity=5))
        await trio.sleep(1200)
        quote = exchange.quote("ZO")
        far = quote.ask if side is Side.BUY else quote.bid
        exchange.place(client, ticket("take", side, str(far), quantity=3))
        await trio.sleep(1800)
    return [(round(time - opened, 9), e.fill.side if centre is None else e.fill.side.opposite,
             seen(e.fill.price), e.fill.quantity) for time, e in of_type(log, FillReported)]


async def test_a_sell_on_the_mirror_fills_as_a_buy_on_the_seed(autojump_clock: object) -> None:
    """A buy that joins the bid and later takes the ask on seed 3 of default oats fills at the
    same times and lots, at the reflected prices, as the same sell on the mirrored market:
    our own orders, their queue and their impact are side-symmetric too."""
    market = MarketParams.oats()
    buys = await _our_fills(SimParams(markets=(market,)), Side.BUY, None)
    sells = await _our_fills(SimParams(markets=(attrs.evolve(market, mirrored=True),)),
                             Side.SELL, market.start_mid)
    assert sells == buys and len(buys) >= 2


def test_a_mirror_needs_a_start_mid_on_the_tick_grid() -> None:
    """Mirroring about a start mid between two ticks would put prices off the grid: refused,
    naming ``start_mid``."""
    with pytest.raises(InvalidValueError) as info:
        MarketParams.oats(start_mid=Decimal("350.10"), mirrored=True)
    assert info.value.field == "start_mid"
