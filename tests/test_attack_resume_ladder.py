"""Attacks on a restart resuming a TWAP's working slice on the ladder its ``ladder_stage``
notes journaled (hydra._recovery with hydra._patience and hydra._twap_actor)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import pytest
import trio
import trio.testing
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hydra import OATS, ExecutionSettings, HydraConfig, OrderIntent, OrderStatus, Side
from hydra._enums import NoteKind
from hydra._journal import Journal
from hydra._settings import Distance, RiskLimits
from hydra.sim import ScriptedFlow, SimExchange, open_sim_exchange
from tests.journal_surgery import crash_from
from tests.simulated import journal_notes, open_engine, quiet_oats
from tests.test_twap_restart import _bought, _config, _orders, _part, _restart

INTENT = "twap"


async def _crash_at(exchange: SimExchange, path: Path, config: HydraConfig, seconds: float,
                    *, seed: int) -> None:
    """Buy 15 as a TWAP under the engine's ``seed``; the journal dies at ``seconds`` (the
    process with it), and the finalizer gives up 10 s later."""
    with pytest.raises(BaseExceptionGroup):
        async with open_engine(exchange, path, config, seed=seed,
                               offload=crash_from(exchange.origin + seconds)) as engine:
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=15,
                                            intent_id=INTENT))
            await trio.sleep_until(exchange.origin + seconds)
            await engine.record_control("crash")  # the first write after the crash


def _stage_ends(path: Path, exchange: SimExchange) -> list[float]:
    """When each stage of every ``ladder_stage`` note ends, seconds after the open."""
    start = exchange.params.session_start
    return [round((dt.datetime.fromisoformat(end) - start).total_seconds(), 2)
            for note in journal_notes(path, "ladder_stage") for _, end in note["stages"]]


def _ended_at(path: Path, exchange: SimExchange) -> list[tuple[int, float]]:
    """Each of the intent's orders (its number) with when its last status was journaled."""
    journal = Journal.open_read_only(path)
    start = exchange.params.session_start
    try:
        rows = journal._db.execute(
            "SELECT client_order_id, max(recorded_at) FROM events WHERE kind = 'status'"
            " AND client_order_id LIKE ? GROUP BY client_order_id ORDER BY min(seq)",
            (f"%:{INTENT}.%",)).fetchall()
    finally:
        journal.close()
    return [(int(coid.rpartition(".")[2]),
             round((dt.datetime.fromisoformat(at) - start).total_seconds(), 2))
            for coid, at in rows]


async def test_a_journaled_ladder_longer_than_the_resumed_first_slice_never_works_past_horizon(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """15 lots in three slices over 300 s at the default jitter (0.2, engine seed 12) on a
    four-tick oats market (349.50 / 350.50) whose 1-tick guard keeps every order from the
    ask, so each works its whole ladder. Slice 1 drew 112.94 s; the journal dies at 5 s and
    the restart at 15 s lays the 285 s left out as three slices, the first 80.7 s long. The
    slice's order goes on with its re-planned ladder (to 76.9 s), slices 2 and 3 follow,
    and the last order is cancelled at 300.06 s, the horizon's end (its cancel's 30 ms
    latencies). Following the journaled ladder to 112.94 s instead pushed both later slices
    back: the last order worked until 321.13 s, 21 s past the horizon."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(
        execution=ExecutionSettings(twap_slices=3, twap_horizon=300.0, twap_jitter=0.2,
                                    slippage_guard=Distance.ticks(1)),
        risk=RiskLimits(max_quote_age=1000.0))  # the quote changes only when a test acts
    async with open_sim_exchange(quiet_oats(spread_ticks=4), seed=1) as exchange:
        await _crash_at(exchange, path, config, 5.0, seed=12)
        assert _stage_ends(path, exchange) == [64.53, 96.8, 112.94]  # slice 1's, journaled
        async with open_engine(exchange, path, config, seed=12) as engine:
            (handle,) = engine.adopted
            report = await handle.wait_done()
        assert trio.current_time() - exchange.origin == pytest.approx(300.06)
        assert report.filled == 0
        assert exchange.open_orders() == ()
        ended = _ended_at(path, exchange)
    assert ended == [(1, 76.93), (2, 191.78), (3, 300.06)]


async def _ended_after_crash(path: Path, *, seed: int, crash_at: float, ahead: int = 0,
                             ) -> list[tuple[int, float]]:
    """The unfilled jittered TWAP of the test above under engine ``seed``, crashed at
    ``crash_at`` and resumed: nothing fills and nothing is left working; each order's number
    with when its last status was journaled."""
    config = HydraConfig(
        execution=ExecutionSettings(twap_slices=3, twap_horizon=300.0, twap_jitter=0.2,
                                    twap_ahead=ahead, slippage_guard=Distance.ticks(1)),
        risk=RiskLimits(max_quote_age=1000.0))
    async with open_sim_exchange(quiet_oats(spread_ticks=4), seed=1) as exchange:
        await _crash_at(exchange, path, config, crash_at, seed=seed)
        async with open_engine(exchange, path, config, seed=seed) as engine:
            for handle in engine.adopted:
                await handle.wait_done()
        assert _bought(exchange) == 0
        assert exchange.open_orders() == ()
        return _ended_at(path, exchange)


def test_a_last_slice_resumed_on_its_journaled_ladder_works_nothing_after_the_horizon(
) -> None:
    """The unfilled jittered TWAP above under engine seed 86: the journal dies at 204 s,
    just after slice 3's order (order 3, all 15 lots) was placed at 203.4 s; the restart at
    214 s carries it on as the one slice left, on its journaled ladder, which ends with the
    horizon (300.09 s), and nothing more is sent: its ladder has worked the 15 lots. Before
    the fix the 15 lots it did not fill were worked again as order 4, a 1.75 s ladder ending
    at 301.87 s, past the horizon (before the journaled ladder the order resumed 10.6 s into
    an 86 s ladder, to 289.4 s, and order 4 had the 10.6 s left)."""
    with tempfile.TemporaryDirectory() as directory:
        ended = trio.run(lambda: _ended_after_crash(Path(directory) / "j.sqlite", seed=86,
                                                    crash_at=204.0),
                         clock=trio.testing.MockClock(autojump_threshold=0))
    assert len(ended) == 3 and ended[-1] == (3, 300.09), ended


@settings(max_examples=int(os.environ.get("ATTACK_EXAMPLES", "10")), deadline=None)
@given(seed=st.integers(0, 99), crash_at=st.floats(1.0, 285.0), ahead=st.sampled_from([0, 1]))
@example(seed=12, crash_at=5.0, ahead=0)  # slice 1's ladder to 112.94 s: the last to 321 s
def test_a_resumed_jittered_twap_never_works_an_order_past_its_horizon(
    seed: int, crash_at: float, ahead: int
) -> None:
    """Crashed at any time before 285 s of its 300 s horizon under any engine seed, with or
    without lots ahead, the unfilled TWAP's last order ends by 302 s: the horizon, the 1.75 s
    a resumed last slice gives at least to lots its order did not fill in less time than
    that (`run_twap`; seed 40 at 1.48 s left ends at 300.3 s), and latencies. Seed 12 at 5 s
    ended at 321.13 s before the first-slice check."""
    with tempfile.TemporaryDirectory() as directory:
        ended = trio.run(lambda: _ended_after_crash(Path(directory) / "j.sqlite", seed=seed,
                                                    crash_at=crash_at, ahead=ahead),
                         clock=trio.testing.MockClock(autojump_threshold=0))
    assert max(at for _, at in ended) <= 302.0, ended


async def test_a_twap_with_a_horizon_for_ever_is_resumed_not_refused_at_the_restart(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """15 lots in three slices over a horizon "for ever" (1e12 s, as a trader writes it):
    slice 1's order rests at the bid from 0 s. The journal dies at 50 s; the restart at 60 s
    resumes the intent (its 1e12 s less 60 are past the last time a datetime holds, 9999)
    and carries the order on; a cancel at 70 s ends it at 70.03 s, nothing left working.
    Before the fix the restart died on that end: OverflowError, and Hydra did not start."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=ExecutionSettings(twap_slices=3, twap_horizon=1e12,
                                                     twap_jitter=0.0))
    async with open_sim_exchange(quiet_oats(spread_ticks=2), seed=1) as exchange:
        await _crash_at(exchange, path, config, 50.0, seed=0)
        (working,) = exchange.open_orders()
        async with open_engine(exchange, path, config) as engine:
            (handle,) = engine.adopted
            await trio.sleep_until(exchange.origin + 70.0)
            handle.cancel()
            report = await handle.wait_done()
            assert trio.current_time() - exchange.origin == pytest.approx(70.03)
        assert exchange.open_orders() == ()
    (resumed,) = journal_notes(path, "intent_resumed")
    assert (resumed["adopted"], resumed["slices"], resumed["horizon"]) == (
        working.client_order_id, 3, 1e12 - 60.0)
    assert [c.client_order_id for c in report.children] == [working.client_order_id]


def _mend(path: Path, exchange: SimExchange, **note: object) -> None:
    """Add a ``ladder_stage`` note of the TWAP intent by hand (a mended or hostile journal)."""
    journal = Journal.open(path, clock=lambda: exchange.timestamp(trio.current_time()))
    try:
        journal.record_note(NoteKind.LADDER_STAGE, intent_id=INTENT, **note)
    finally:
        journal.close()


@pytest.mark.parametrize("mended", [
    {"stages": [["STEPPED", "2026-12-01T15:00:00+00:00"]]},  # whose order?
    {"ahead": True, "stages": [["STEPPED", "soon"]]},  # an end that is no time
    {"ahead": True, "stages": []},  # no stage
    {"ahead": True, "stages": "STEPPED"},  # no list of stages
], ids=["no order", "no time", "no stage", "no list"])
async def test_an_unreadable_ladder_note_neither_stops_the_restart_nor_starts_lots_ahead(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, mended: dict[str, object]
) -> None:
    """Slice 1 fills at 57 s and order 2 rests slice 2's 5 lots ahead at the bid; a sell of 7
    at 70 s fills 2 of them. The journal dies at 80 s and, before the restart at 90 s, a
    ``ladder_stage`` note of the intent is added by hand that does not read as ladder stages
    (no order named, an end that is no time, no stage, no list; the last three name order
    2). The restart resumes as without it: order 2, still resting ahead, is cancelled at its
    one price (never modified), the 8 left go as slices 2 and 3 from 90.03 s, 15 bought.
    Before the fix the note without an order stopped the restart (KeyError), and so did the
    one without a list (ValueError); the other two made order 2 slice 2's order, carried on
    until that slice's end (195 s) though it never became one, and slice 3 the only one
    left (order 3 from 195.03 s)."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(spread_ticks=1, flows=(ScriptedFlow(at=70.0, side=Side.SELL,
                                                            quantity=7),))
    async with open_sim_exchange(params, seed=1) as exchange:
        await _crash_at(exchange, path, _config(1), 80.0, seed=0)
        ahead = Journal.open_read_only(path).intent_orders(INTENT)[1][0].request
        mended = dict(mended)
        if mended.pop("ahead", False):
            mended["client_order_id"] = ahead.client_order_id
        _mend(path, exchange, **mended)
        await _restart(exchange, path, _config(1))
        assert _bought(exchange) == 15
        assert exchange.open_orders() == ()
        orders = _orders(path, exchange)
    modified = [n["client_order_id"] for n in journal_notes(path, "modify")]
    assert orders == [
        (0.0, 1, _part(1), OrderStatus.FILLED),
        (57.17, 2, _part(2, ahead=True), OrderStatus.CANCELLED),
        (90.03, 3, _part(2), OrderStatus.FILLED),
        (150.06, 4, _part(3, ahead=True), OrderStatus.FILLED),
    ]
    assert ahead.client_order_id not in modified


async def test_a_last_slice_left_working_at_a_restart_is_not_worked_again_beside_itself(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """15 lots in three 100 s slices with ``leave_working`` on a four-tick oats market
    (349.50 / 350.50) whose 1-tick guard keeps every order from the ask. The journal dies at
    250 s, in slice 3 (order 3, 15 lots); the restart at 260 s carries it on, and at 300.06 s
    it is left working, holding all 15 lots: nothing more is sent. A crowd sell of 60 at
    400 s fills it: 15 bought. Before the fix the 15 lots it held were worked again as a new
    order (order 4, a 1.75 s ladder, left working too) and the sell filled both: 30 bought
    for an intent of 15 (so before this session's changes too)."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(
        execution=ExecutionSettings(twap_slices=3, twap_horizon=300.0, twap_jitter=0.0,
                                    leave_working=True, slippage_guard=Distance.ticks(1)),
        risk=RiskLimits(max_quote_age=1000.0))  # the quote changes only when a test acts
    params = quiet_oats(spread_ticks=4, flows=(ScriptedFlow(at=400.0, side=Side.SELL,
                                                            quantity=60),))
    async with open_sim_exchange(params, seed=1) as exchange:
        await _crash_at(exchange, path, config, 250.0, seed=0)
        async with open_engine(exchange, path, config) as engine:
            (handle,) = engine.adopted
            report = await handle.wait_done()
            assert trio.current_time() - exchange.origin == pytest.approx(300.06)
        assert [(c.status, c.quantity, c.filled) for c in report.children] == [
            (OrderStatus.CANCELLED, 5, 0), (OrderStatus.CANCELLED, 10, 0),
            (OrderStatus.LEFT_WORKING, 15, 0)]
        assert [o.remaining for o in exchange.open_orders()] == [15]
        await trio.sleep_until(exchange.origin + 500.0)
        assert _bought(exchange) == 15
