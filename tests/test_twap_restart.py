"""A TWAP across a crash and restart (hydra._recovery with hydra._twap_actor): the slices begun
counted from the parts its orders journaled (an order resting ahead of the schedule, or a
chunk of a slice, is no slice of its own), an ahead order found working cancelled rather than
worked as a ladder, and no order left working without an owner."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import trio
import trio.testing
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hydra import OATS, ExecutionSettings, HydraConfig, OrderIntent, OrderStatus, Side
from hydra._core._ladder import LadderStage
from hydra._ids import ClientOrderId, IntentId, unstamped
from hydra._journal import IntentRecord, Journal, JournaledOrder
from hydra._ladder_notes import StagesTold
from hydra._orders import OrderRequest, TwapPart
from hydra._recovery import (
    _History,
    _journaled_schedule,
    _ladder_left,
    _slices_begun,
    _slices_begun_at,
)
from hydra._settings import RestartSettings, RiskLimits
from hydra.sim import ScriptedFlow, SimExchange, SimParams, open_sim_exchange
from tests.journal_surgery import crash_from, crash_once
from tests.simulated import open_engine, quiet_oats

TWAP = ExecutionSettings(twap_slices=3, twap_horizon=300.0, twap_jitter=0.0)
INTENT = IntentId("twap")
BID = Decimal("350.00")  # quiet_oats(spread_ticks=1) without flow: the bid never moves


def _config(ahead: int, *, max_order_quantity: int = 50, **changes: object) -> HydraConfig:
    return HydraConfig(execution=attrs.evolve(TWAP, twap_ahead=ahead, **changes),
                       risk=RiskLimits(max_order_quantity=max_order_quantity))


async def _crash_at(exchange: SimExchange, path: Path, config: HydraConfig,
                    seconds: float) -> None:
    """Buy 15 as a TWAP; the journal dies at ``seconds`` (the process with it): the first
    write after that fails, and the finalizer gives up 10 s later."""
    with pytest.raises(BaseExceptionGroup):
        async with open_engine(exchange, path, config,
                               offload=crash_from(exchange.origin + seconds)) as engine:
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=15,
                                            intent_id=INTENT))
            await trio.sleep_until(exchange.origin + seconds)
            await engine.record_control("crash")  # the first write after the crash


async def _restart(exchange: SimExchange, path: Path, config: HydraConfig) -> int:
    """Start again on the journal and let what it resumes finish: the lots its reports fill."""
    filled = 0
    async with open_engine(exchange, path, config) as engine:
        for handle in engine.adopted:
            filled += (await handle.wait_done()).filled
    return filled


def _orders(path: Path, exchange: SimExchange
            ) -> list[tuple[float, int, TwapPart | None, OrderStatus]]:
    """Each journaled order: seconds after the open, its number, its part, its status."""
    start = exchange.params.session_start
    return [(round((at - start).total_seconds(), 2),
             int(unstamped(o.request.client_order_id).rpartition(".")[2]), o.part, o.status)
            for o, at in Journal.open_read_only(path).intent_orders(INTENT)]


def _part(slice: int, *, ahead: bool = False) -> TwapPart:
    return TwapPart(slice=slice, slices=3, ahead=ahead)


def _resumed(path: Path) -> tuple[object, ...]:
    (note,) = Journal.open_read_only(path).notes("intent_resumed")
    return note["slices"], note["horizon"], note["remaining"]


def _bought(exchange: SimExchange) -> int:
    return sum(f.quantity for f in exchange.executions_since(exchange.params.session_start))


async def test_a_restart_counts_the_slices_begun_not_the_orders_resting_ahead(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """With ``twap_ahead`` 1 slice 1 fills at its step (57 s) and slice 2's lots rest ahead
    as order 2, which becomes slice 2's order when it starts at 100 s (its journaled part
    stays "ahead", its ladder_stage notes tell slice 2's ladder). The journal dies at 130 s:
    the restart at 140 s counts two slices begun, not two orders and not one, and carries
    order 2 on as slice 2's, the first of the 2 slices left over the 160 s left, on the
    ladder it journaled: it fills at that ladder's step (157 s), its place in the queue kept
    (it used to be cancelled and slice 2 placed again). Slice 3's lots rest ahead as order
    3, which works slice 3 from 220 s and fills at its step."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(spread_ticks=1)
    async with open_sim_exchange(params, seed=1) as exchange:
        await _crash_at(exchange, path, _config(1), 130.0)
        assert trio.current_time() - exchange.origin == 140.0
        assert await _restart(exchange, path, _config(1)) == 15  # the earlier orders too
        assert _bought(exchange) == 15
        assert [round((f.time - exchange.params.session_start).total_seconds(), 2)
                for f in exchange.executions_since(exchange.params.session_start)
                ] == [57.14, 157.14, 265.71]
        orders = _orders(path, exchange)
    assert _resumed(path) == (2, 160.0, 10)
    assert orders == [
        (0.0, 1, _part(1), OrderStatus.FILLED),
        (57.17, 2, _part(2, ahead=True), OrderStatus.FILLED),
        (157.17, 3, _part(3, ahead=True), OrderStatus.FILLED),
    ]


async def test_a_restart_counts_the_chunks_of_a_slice_as_that_one_slice(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """With ``max_order_quantity`` 3 each slice of 5 goes as orders of 3 and 2. The journal
    dies at 130 s in slice 2's second order (4 orders journaled): the restart resumes it as
    the first of 2 slices, and slice 3 goes at 220 s, its chunks numbered slice 3 of 3."""
    path = tmp_path / "j.sqlite"
    config = _config(0, max_order_quantity=3)
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        await _crash_at(exchange, path, config, 130.0)
        await _restart(exchange, path, config)
        assert _bought(exchange) == 15
        orders = _orders(path, exchange)
    assert _resumed(path) == (2, 160.0, 7)
    assert [(at, part) for at, _, part, _ in orders] == [
        (0.0, _part(1)), (28.6, _part(1)), (100.0, _part(2)), (128.6, _part(2)),
        (220.0, _part(3)), (242.89, _part(3))]


async def test_an_order_resting_ahead_at_a_restart_is_cancelled_not_worked_as_a_ladder(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Slice 1 fills at 57 s and order 2 rests slice 2's 5 lots at the bid; a sell of 7 at
    70 s fills 2 of them (5 of the crowd's are ahead). The journal dies at 80 s: at the
    restart at 90 s order 2 is cancelled at its one price (it never steps, never takes) and
    its 2 lots count: the 8 left go as the 2 slices left over the 210 s left, from 90.03 s
    (the cancel confirmed), numbered on as slices 2 and 3 of 3; slice 3's lots rest ahead
    from 150.06 s as order 4, which works slice 3 from 195 s and fills."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(spread_ticks=1, flows=(ScriptedFlow(at=70.0, side=Side.SELL,
                                                            quantity=7),))
    async with open_sim_exchange(params, seed=1) as exchange:
        await _crash_at(exchange, path, _config(1), 80.0)
        await _restart(exchange, path, _config(1))
        assert _bought(exchange) == 15
        orders = _orders(path, exchange)
        journal = Journal.open_read_only(path)
        ahead = journal.order_request(journal.intent_orders(INTENT)[1][0].request.client_order_id)
        modified = [n["client_order_id"] for n in journal.notes("modify")]
    assert _resumed(path) == (2, 210.0, 8)
    assert orders == [
        (0.0, 1, _part(1), OrderStatus.FILLED),
        (57.17, 2, _part(2, ahead=True), OrderStatus.CANCELLED),
        (90.03, 3, _part(2), OrderStatus.FILLED),
        (150.06, 4, _part(3, ahead=True), OrderStatus.FILLED),
    ]
    assert ahead is not None and ahead.limit_price == BID
    assert ahead.client_order_id not in modified


async def test_an_order_resting_ahead_of_a_twap_not_resumed_is_cancelled_not_worked(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """With ``[restart] resume = false`` the TWAP stopped at 80 s goes no further: the order
    resting slice 2's lots ahead is cancelled at the restart (90 s), not worked as a ladder
    that would step and take, and nothing else is sent; the intent is reported interrupted."""
    path = tmp_path / "j.sqlite"
    config = attrs.evolve(_config(1), restart=RestartSettings(resume=False))
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        await _crash_at(exchange, path, config, 80.0)
        await _restart(exchange, path, config)
        await trio.sleep_until(exchange.origin + 400.0)
        assert _bought(exchange) == 5
        orders = _orders(path, exchange)
    assert orders == [(0.0, 1, _part(1), OrderStatus.FILLED),
                      (57.17, 2, _part(2, ahead=True), OrderStatus.CANCELLED)]
    (note,) = Journal.open_read_only(path).notes("intent_interrupted")
    assert (note["filled"], note["quantity"]) == (5, 15)


async def test_with_leave_working_a_restart_finds_only_the_working_slices_order(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """With ``leave_working`` slice 1's order (a bid inside the two-tick spread) used to be
    left working at its ladder's end, beside slice 2's for the same lots. It is cancelled at
    its end now (only the schedule's end leaves its rest working): when the journal dies at
    130 s slice 2's order alone rests, and the restart carries it on and buys the 15."""
    path = tmp_path / "j.sqlite"
    config = _config(0, leave_working=True)
    async with open_sim_exchange(quiet_oats(spread_ticks=2), seed=1) as exchange:
        await _crash_at(exchange, path, config, 130.0)
        first, second = [o.request.client_order_id for o, _ in
                         Journal.open_read_only(path).intent_orders(INTENT)]
        assert [o.client_order_id for o in exchange.open_orders()] == [second]
        assert first in exchange.completed_orders()
        await _restart(exchange, path, config)
        assert _bought(exchange) == 15


def _cancels_of_first(journal: Journal) -> list[bool]:
    """The ``ladder_end`` of each ``cancel_requested`` note of the intent's first order."""
    return [n["ladder_end"] for n in journal.notes("cancel_requested")
            if n["client_order_id"].endswith(f":{INTENT}.1")]


async def test_a_ladder_end_cancel_completed_by_a_restart_stays_one_across_a_second_crash(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Slice 1's bid (inside a two-tick spread, never taking) is cancelled at its ladder's end
    (100 s) and Hydra dies right after journaling that it asked. The restart completes the
    cancel as a ladder's end again, and dies right after journaling that; a second restart
    then still resumes the TWAP (a stop would not) and the last slice buys the 15."""
    path = tmp_path / "j.sqlite"
    config = _config(0)
    async with open_sim_exchange(quiet_oats(spread_ticks=2), seed=1) as exchange:
        for asked in (1, 2):
            crash = crash_once(path, lambda j, asked=asked: len(_cancels_of_first(j)) >= asked)
            with pytest.raises(BaseExceptionGroup):
                async with open_engine(exchange, path, config, offload=crash) as engine:
                    if asked == 1:
                        await engine.submit(OrderIntent(contract=OATS, side=Side.BUY,
                                                        quantity=15, intent_id=INTENT))
                    await trio.sleep_forever()
        await _restart(exchange, path, config)
        assert _bought(exchange) == 15
    journal = Journal.open_read_only(path)
    assert _cancels_of_first(journal) == [True, True, True]
    assert len(journal.notes("intent_resumed")) == 2


# --- killed at every record ------------------------------------------------------------------


def _records(journal: Journal) -> int:
    """The journal's records of the TWAP intent: its own and its orders'."""
    (count,) = journal._db.execute(
        "SELECT count(*) FROM events WHERE intent_id = ? OR client_order_id LIKE ?",
        (INTENT, f"%:{INTENT}.%")).fetchone()
    return int(count)


def _flows() -> SimParams:
    """Sells that reach resting bids now and then (5 of the crowd's lots are ahead of ours)."""
    return quiet_oats(spread_ticks=1, flows=tuple(
        ScriptedFlow(at=at, side=Side.SELL, quantity=7) for at in (70.0, 80.0, 150.0, 250.0)))


async def _killed_at(record: int, ahead: int, downtime: float, path: Path) -> None:
    """Buy 15 as a TWAP, killed right after the intent's ``record``-th journal record (or
    never, past its last), started again ``downtime`` s later; checked once all is over."""
    config = _config(ahead)
    async with open_sim_exchange(_flows(), seed=1) as exchange:
        crash = crash_once(path, lambda j: _records(j) >= record)
        try:
            async with open_engine(exchange, path, config, offload=crash) as engine:
                handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY,
                                                         quantity=15, intent_id=INTENT))
                await handle.wait_done()
        except BaseExceptionGroup:
            await trio.sleep(downtime)
            await _restart(exchange, path, config)
        await trio.sleep_until(exchange.origin + 400.0)
        assert _bought(exchange) == 15  # never more, and the last slice takes the rest
        assert exchange.open_orders() == ()  # nothing works without an owner
        journal = Journal.open_read_only(path)
        modified = [(at, n["client_order_id"]) for at, n in journal.notes_at("modify")]
        began = _slices_begun_at(journal.notes_at("ladder_stage"))  # lots ahead adopted
        for order, at in journal.intent_orders(INTENT):
            if order.part is not None and order.part.ahead:  # never moved or took while ahead
                coid = order.request.client_order_id
                ahead_until = began.get(coid, dt.datetime.max.replace(tzinfo=dt.UTC))
                assert all(when >= ahead_until for when, c in modified if c == coid)
                assert order.request.limit_price < _ask_before(exchange, at)


def _ask_before(exchange: SimExchange, at: dt.datetime) -> Decimal:
    """The crowd's ask just before ``at`` (a journal time)."""
    now = exchange.origin + (at - exchange.params.session_start).total_seconds()
    return [ask for time, _, ask in exchange.touches("ZO") if time < now][-1]


@settings(max_examples=12, deadline=None)
@given(record=st.integers(1, 40), ahead=st.sampled_from([0, 1, 2]),
       downtime=st.sampled_from([0.0, 30.0]))
@example(record=6, ahead=1, downtime=0.0)
@example(record=9, ahead=2, downtime=30.0)
@example(record=20, ahead=2, downtime=0.0)  # lots ahead past their slice's own
def test_killed_at_any_record_a_twap_never_overfills_crosses_ahead_or_orphans_an_order(
    record: int, ahead: int, downtime: float
) -> None:
    """A TWAP with ``twap_ahead`` 0, 1 or 2, killed after any journal record of it and
    started again: it buys its 15 lots, never more, nothing resting ahead of the schedule is
    moved or takes before it becomes its slice's order, and nothing is left working at the
    broker without an owner."""
    with tempfile.TemporaryDirectory() as directory:
        trio.run(_killed_at, record, ahead, downtime, Path(directory) / "j.sqlite",
                 clock=trio.testing.MockClock(autojump_threshold=0))


def _history(parts: list[TwapPart | None], last_sequence: int) -> _History:
    intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=15, intent_id=INTENT)
    at = dt.datetime(2026, 12, 2, 15, tzinfo=dt.UTC)
    orders = tuple((JournaledOrder(request=OrderRequest(
        client_order_id=ClientOrderId(f"{INTENT}.{n}"), intent_id=INTENT, contract=OATS,
        side=Side.BUY, quantity=1, limit_price=BID), dry=False, broker_order_id=None,
        status=OrderStatus.CANCELLED, filled=0, part=part), at)
        for n, part in enumerate(parts, start=1))
    record = IntentRecord(intent=intent, arrival_mid=BID, predicted_bps=None, submitted_at=at)
    return _History(record=record, orders=orders, fills=(), last_sequence=last_sequence)


def test_the_slices_begun_come_from_the_parts_or_from_the_order_numbers_without_them() -> None:
    """Slice 1 in two chunks, then an order ahead for slice 2: one slice of 4 begun (the
    journaled total, not the configured 10); a journal whose orders carry no part (an
    older Hydra's) counts one slice per order number, of the configured slices."""
    parts = [TwapPart(slice=1, slices=4), TwapPart(slice=1, slices=4),
             TwapPart(slice=2, slices=4, ahead=True)]
    assert _slices_begun(_history(parts, 3), planned=10) == (1, 4)
    assert _slices_begun(_history([None, None, None], 3), planned=10) == (3, 10)


def test_a_twap_part_names_a_slice_within_its_schedule() -> None:
    """A part's slice is within its schedule, and an ahead one begins none of its own."""
    assert (_part(2).begun, _part(2, ahead=True).begun) == (2, 1)
    with pytest.raises(ValueError, match="slices"):
        TwapPart(slice=4, slices=3)




async def test_a_twap_crashed_late_in_its_last_slice_resumes_its_order_on_the_ladder_it_had(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """15 lots in three 100 s slices on a two-tick oats market whose only flow is a lot at
    1 s. The journal dies at 276 s, in the last slice's step (which ends at 285.71 s, its
    last stage at 300 s); the restart at 286 s resumes the slice's order on the ladder it
    journaled: its last stage at once, taking what is left through 300 s as it would have,
    all 15 bought. (It used to lay the 14 s left out as a whole new ladder: 8 s resting, 4 s
    at the step, a 2 s last stage; 11 bought, "ladder ended at 350.50".)"""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=attrs.evolve(TWAP, twap_ahead=1))
    params = quiet_oats(spread_ticks=2,
                        flows=(ScriptedFlow(at=1.0, side=Side.SELL, quantity=1),))
    async with open_sim_exchange(params, seed=1) as exchange:
        await _crash_at(exchange, path, config, 276.0)
        assert trio.current_time() - exchange.origin == 286.0
        await _restart(exchange, path, config)
        assert _bought(exchange) == 15
        assert trio.current_time() - exchange.origin == 288.03  # the last lots, taken
        orders = _orders(path, exchange)
        fills = [(f.price, f.quantity) for f in exchange.executions_since(
            exchange.params.session_start) if f.client_order_id.endswith(".3")]
    assert _resumed(path) == (1, 14.0, 14)
    assert orders[-1] == (200.06, 3, _part(3), OrderStatus.FILLED)  # the slice's own order
    assert fills == [(Decimal("350.25"), 5), (Decimal("350.50"), 5), (Decimal("350.75"), 4)]


def test_only_a_ladder_note_that_reads_as_ladder_stages_gives_a_resumed_slice_its_ladder(
) -> None:
    """The last ``ladder_stage`` note of the order, read as ladder stages; none for another
    order, a baseline's stage, an end that is no time, or no stage (the slice then works on
    its resumed plan)."""
    at = dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC)
    first = {"client_order_id": "a", "stages": [["STEPPED", at.isoformat()],
                                                ["CROSSING", at.isoformat()]]}
    last = {"client_order_id": "a", "stages": [["CROSSING", at.isoformat()]]}
    other = {"client_order_id": "b", "stages": [["RESTING", at.isoformat()]]}
    notes = [(at, first), (at, last), (at, other)]
    assert _ladder_left(notes, ClientOrderId("a")) == StagesTold(stages=(("CROSSING", at),))
    assert _ladder_left(notes, ClientOrderId("c")) is None
    for stages in ([["PASSIVE", at.isoformat()]], [["CROSSING", "soon"]], []):
        note = {"client_order_id": "a", "stages": stages}
        assert _ladder_left([(at, note)], ClientOrderId("a")) is None


async def test_a_journaled_ladder_resumes_at_the_stage_not_ended_on_trios_clock(
    autojump_clock: trio.testing.MockClock,
) -> None:
    at = dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC)
    told = StagesTold(stages=(("STEPPED", at + dt.timedelta(seconds=10)),
                              ("CROSSING", at + dt.timedelta(seconds=25))))
    end = at + dt.timedelta(seconds=25)  # the resumed schedule's
    await trio.sleep(100)
    assert _journaled_schedule(told, at, until=end) == ((LadderStage.STEPPED, 110.0),
                                                        (LadderStage.CROSSING, 125.0))
    assert _journaled_schedule(told, at + dt.timedelta(seconds=12), until=end) == (
        (LadderStage.CROSSING, 113.0),)
    assert _journaled_schedule(told, at + dt.timedelta(seconds=25), until=end) is None
    assert _journaled_schedule(None, at, until=end) is None
    # A ladder told to end after the resumed schedule's end (another clock's, mended by
    # hand) is not followed: the slice works on its plan.
    assert _journaled_schedule(told, at, until=end - dt.timedelta(seconds=2)) is None
