"""The working orders' view model shared by the dashboard and the status region: the parts
that follow the journal (the dashboard's tests show each field)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import trio

from hydra import Distance, ExecutionSettings, HydraConfig, OrderIntent
from hydra._contracts import OATS, ContractSpec
from hydra._enums import NoteKind, OrderStatus, Side
from hydra._journal import Journal, JournaledOrder
from hydra._journal_records import read_journal
from hydra._quotes import Quote
from hydra._settings import RiskLimits, ShutdownSettings
from hydra._working_view import Ladders, WorkingOrder, price_text, usable_quotes, working_orders
from hydra.sim import Gap, SimExchange, open_sim_exchange
from tests.paper_journal import T0, PaperJournal
from tests.simulated import open_engine, quiet_oats


def test_ladders_read_in_parts_are_the_ladders_read_whole(tmp_path: Path) -> None:
    """For every k, the ladders of a journal's first k events extended with the rest are
    those of all its events: placements, repricings, intents, orders per intent and the
    stages told."""
    paper = PaperJournal(tmp_path / "j.sqlite").start()
    for name, side in (("one", Side.BUY), ("two", Side.SELL)):
        paper.at(0).intent(name, side=side, quantity=2, arrival_mid="350.00", predicted="1")
        order = paper.at(0.001).order(name, side=side, quantity=2, limit="349.75")
        paper.note("modify", client_order_id=order, limit_price="350.00")
        paper.at(0.002).note("modify", client_order_id=order, limit_price="350.25")
        paper.note("ladder_stage", client_order_id=order, intent_id=name,
                   stages=[["CROSSING", "2026-03-02T14:31:00+00:00"]])
        paper.fill(order, f"e-{name}", side=side, quantity=2, price="350.25", predicted="1",
                   actual="7.14")
    paper.close()
    records = read_journal(paper.path)
    whole = Ladders.of(records)
    assert whole.prices == {"one.1": Decimal("350.25"), "two.1": Decimal("350.25")}
    assert whole.orders == {"one": 1, "two": 1}
    assert set(whole.told) == {"one.1", "two.1"}
    for k in range(len(records) + 1):
        assert Ladders.of(records[:k]).extended(records[k:]) == whole


def test_a_price_shows_at_least_the_ticks_decimals() -> None:
    """IB's 350.0 shows as 350.00 for oats (a quarter tick), 84.125 keeps its three."""
    assert price_text(Decimal("350.0"), OATS) == "350.00"
    assert price_text(Decimal("84.125"), OATS) == "84.125"
    assert price_text(Decimal("350.0"), None) == "350.0"


class StampedWhenRead:
    """A market whose quote is stamped with the Trio time it is read, as IBBroker stamps a
    quote its feed vouches for (and the simulator every quote)."""

    def quote_nowait(self, contract: ContractSpec) -> Quote:
        return Quote(bid=Decimal("350.00"), ask=Decimal("350.25"), bid_size=5, ask_size=5,
                     time=trio.current_time())


async def test_a_quote_stamped_as_it_is_read_is_usable_on_the_real_clock() -> None:
    """On the real clock (this test's), a quote stamped as it is read is a moment later than
    a now read before it: it must not be taken as stamped ahead (the status region and the
    dashboard showed "bid - ask -" for every order through IB)."""
    quotes = usable_quotes(StampedWhenRead(), [OATS], max_age=30.0)  # type: ignore[arg-type]
    assert list(quotes) == ["ZO"]


MICROSECOND = 1e-6  # the journal's clock stamps to the microsecond
CHASED = HydraConfig(execution=ExecutionSettings(patience=60.0, slippage_guard=Distance.ticks(8)))


def _seconds(exchange: SimExchange, at: dt.datetime) -> float:
    return (at - exchange.params.session_start).total_seconds()


def _view(journal: Path, exchange: SimExchange, config: HydraConfig) -> WorkingOrder:
    """The one working order as the dashboard and the status region read it now."""
    records = read_journal(journal)
    reader = Journal.open_read_only(journal)
    try:
        live = reader.live_orders()
    finally:
        reader.close()
    (order,) = working_orders(records, live, now=exchange.timestamp(trio.current_time()),
                              config=config)
    return order



async def _told_then_done(exchange: SimExchange, journal: Path, config: HydraConfig,
                          intent: OrderIntent, *, look_at: float,
                          ) -> tuple[WorkingOrder, float]:
    """Submit ``intent`` at the exchange's open, read the view ``look_at`` seconds in, work
    the intent to its end; the view and the seconds at which the engine moved the order next."""
    async with open_engine(exchange, journal, config) as engine:
        handle = await engine.submit(intent)
        await trio.sleep_until(exchange.origin + look_at)
        seen = _view(journal, exchange, config)
        await handle.wait_done()
        return seen, _next_step_after(journal, exchange, seen, look_at)


def _next_step_after(journal: Path, exchange: SimExchange, order: WorkingOrder,
                     after: float) -> float:
    moves = [_seconds(exchange, r.recorded_at) for r in read_journal(journal)
             if (r.is_note(NoteKind.MODIFY) or r.is_note(NoteKind.CANCEL_REQUESTED))
             and r.payload["client_order_id"] == order.client_order_id]
    return min(m for m in moves if m > after)


async def test_a_twap_slices_ladder_is_shown_as_the_slice_works_it(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A TWAP of two slices over 300 s works each slice's ladder over its 150 s (stage 0 for
    150 / 1.75 s, not the configured 60): the view says so, and the step comes then."""
    config = HydraConfig(execution=ExecutionSettings(
        patience=60.0, slippage_guard=Distance.ticks(2), twap_threshold="0.001",
        twap_slices=2, twap_horizon=300.0, twap_jitter=0.0))
    async with open_sim_exchange(quiet_oats(spread_ticks=8), seed=1) as exchange:
        seen, stepped = await _told_then_done(
            exchange, tmp_path / "j.sqlite", config,
            OrderIntent(contract=OATS, side=Side.BUY, quantity=4, intent_id="sliced"),
            look_at=10.0)
    assert (seen.stage, seen.last_stage, seen.slices) == ("RESTING", False, (1, 2))
    assert 10.0 + seen.stage_left == pytest.approx(stepped, abs=MICROSECOND)
    assert stepped == pytest.approx(150 / 1.75, abs=MICROSECOND)


async def test_a_ladder_fitted_to_the_session_is_shown_as_fitted(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Three minutes before oats close (13:17 CT), a 120 s patience is cut so the ladder ends
    5 s before the close (100 s at stage 0): the view counts down to the fitted step."""
    config = HydraConfig(execution=ExecutionSettings(patience=120.0,
                                                     slippage_guard=Distance.ticks(2)))
    params = attrs.evolve(quiet_oats(spread_ticks=8),
                          session_start=dt.datetime(2025, 3, 3, 19, 17, tzinfo=dt.UTC),
                          sessions=True)
    async with open_sim_exchange(params, seed=1) as exchange:
        seen, stepped = await _told_then_done(
            exchange, tmp_path / "j.sqlite", config,
            OrderIntent(contract=OATS, side=Side.BUY, quantity=3, intent_id="fitted"),
            look_at=10.0)
    assert (seen.stage, seen.last_stage) == ("RESTING", False)
    assert 10.0 + seen.stage_left == pytest.approx(stepped, abs=MICROSECOND)
    assert stepped == pytest.approx(100.0, abs=0.1)


async def test_a_deadline_ladder_is_shown_stretched(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """With ``deadline_share`` 0.7 of a 300 s horizon the ladder spans 210 s (stage 0 for
    120 s): the view says the step comes at 120 s, and it does."""
    config = HydraConfig(execution=ExecutionSettings(
        patience=60.0, slippage_guard=Distance.ticks(2), deadline_share=0.7,
        twap_horizon=300.0))
    async with open_sim_exchange(quiet_oats(spread_ticks=8), seed=1) as exchange:
        seen, stepped = await _told_then_done(
            exchange, tmp_path / "j.sqlite", config,
            OrderIntent(contract=OATS, side=Side.BUY, quantity=3, intent_id="stretched"),
            look_at=10.0)
    assert (seen.stage, seen.last_stage, seen.slices) == ("RESTING", False, None)
    assert 10.0 + seen.stage_left == pytest.approx(stepped, abs=MICROSECOND)
    assert stepped == pytest.approx(120.0, abs=MICROSECOND)


async def test_a_chased_ladder_is_shown_at_its_last_stage(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The mid jumps 1.75 against a buy at 20.5 s (over 0.75 of its 2.00 guard): the ladder
    goes to CROSSING at once and keeps its end (105 s); the view shows that, not RESTING."""
    params = quiet_oats(spread_ticks=8, gaps=(Gap(at=20.5, change=Decimal("1.75")),))
    async with open_sim_exchange(params, seed=1) as exchange:
        seen, ended = await _told_then_done(
            exchange, tmp_path / "j.sqlite", CHASED,
            OrderIntent(contract=OATS, side=Side.BUY, quantity=3, intent_id="chased"),
            look_at=30.0)
    assert (seen.stage, seen.last_stage) == ("CROSSING", True)
    assert 30.0 + seen.stage_left == pytest.approx(ended, abs=MICROSECOND)
    assert ended == pytest.approx(105.0, abs=MICROSECOND)


async def test_a_resumed_ladder_is_shown_from_the_stage_it_resumed_at(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """An order left working at a stop 30 s into its ladder is adopted by a restart at 70 s
    (two fills meanwhile): the restart works it on from STEPPED, and the view counts down
    to the step the resumed ladder takes."""
    journal = tmp_path / "j.sqlite"
    leave = attrs.evolve(CHASED, shutdown=ShutdownSettings(drain_timeout=1.0,
                                                           leave_working=True))
    async with open_sim_exchange(quiet_oats(spread_ticks=8), seed=1) as exchange:
        async with open_engine(exchange, journal, leave) as engine:
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=3,
                                            intent_id="resumed"))
            await trio.sleep_until(exchange.origin + 30.0)
        await trio.sleep_until(exchange.origin + 70.0)
        config = attrs.evolve(CHASED, shutdown=ShutdownSettings(drain_timeout=600.0))
        async with open_engine(exchange, journal, config) as engine:
            (adopted,) = engine.adopted
            await trio.sleep_until(exchange.origin + 75.0)
            seen = _view(journal, exchange, config)
            await adopted.wait_done()
        stepped = _next_step_after(journal, exchange, seen, 75.0)
    assert seen.stage == "STEPPED"
    assert 75.0 + seen.stage_left == pytest.approx(stepped, abs=MICROSECOND)


async def test_a_twap_slice_worked_as_several_orders_is_shown_as_one_slice(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A slice of two lots under a one-lot order limit is worked as two orders, one after the
    other: the second is still slice 1 of 2 (counting the intent's orders said 2 of 2)."""
    config = HydraConfig(
        execution=ExecutionSettings(patience=60.0, slippage_guard=Distance.ticks(2),
                                    twap_threshold="0.001", twap_slices=2, twap_horizon=300.0,
                                    twap_jitter=0.0),
        risk=RiskLimits(max_order_quantity=1))
    async with open_sim_exchange(quiet_oats(spread_ticks=8), seed=1) as exchange:
        seen, stepped = await _told_then_done(
            exchange, tmp_path / "j.sqlite", config,
            OrderIntent(contract=OATS, side=Side.BUY, quantity=4, intent_id="chunked"),
            look_at=80.0)  # the slice's first order's ladder ended at 75 s
    assert seen.client_order_id.endswith("chunked.2")
    assert (seen.stage, seen.slices) == ("RESTING", (1, 2))
    assert 80.0 + seen.stage_left == pytest.approx(stepped, abs=MICROSECOND)


def test_a_journal_without_told_stages_has_them_derived_from_the_placement(
    tmp_path: Path
) -> None:
    """An order journaled by a Hydra that did not tell its stages is timed from its placement
    by the configured ladder; once a ``ladder_stage`` note tells them, the note's stages are
    shown, the next one once the first has ended."""
    paper = PaperJournal(tmp_path / "j.sqlite").start()
    paper.at(0).intent("old", side=Side.BUY, quantity=2, arrival_mid="350.00", predicted="1")
    order = paper.order("old", side=Side.BUY, quantity=2, limit="349.75")
    config = HydraConfig(execution=ExecutionSettings(patience=60.0))
    request = paper.journal.order_request(order)
    assert request is not None
    live = JournaledOrder(request=request, dry=False, broker_order_id=None,
                          status=OrderStatus.WORKING, filled=0)
    (derived,) = working_orders(read_journal(paper.path), [live],
                                now=T0 + dt.timedelta(seconds=10), config=config)
    assert (derived.stage, derived.stage_left, derived.last_stage) == ("RESTING", 50.0, False)
    step, end = T0 + dt.timedelta(seconds=30), T0 + dt.timedelta(seconds=45)
    paper.note("ladder_stage", client_order_id=order, intent_id="old",
               stages=[["RESTING", step.isoformat()], ["CROSSING", end.isoformat()]])
    records = read_journal(paper.path)
    paper.close()
    shown = [working_orders(records, [live], now=T0 + dt.timedelta(seconds=s), config=config)[0]
             for s in (10, 40, 50)]
    assert [(o.stage, o.stage_left, o.last_stage, o.slices) for o in shown] == [
        ("RESTING", 20.0, False, None), ("CROSSING", 5.0, True, None),
        ("CROSSING", 0.0, True, None)]
