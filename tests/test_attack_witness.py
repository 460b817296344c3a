"""Attacks on the witness's completed orders (commit 7a6a0a2..4f363c0): each test shows a
defect and fails on the code as it is."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import attrs
import trio

from hydra import (
    OATS,
    ExecutionSettings,
    HydraConfig,
    InvalidValueError,
    OrderIntent,
    Policy,
    Side,
)
from hydra._bracket import BracketIntent
from hydra._errors import RiskDeniedError
from hydra._ids import IntentId, unstamped
from hydra._journal import Journal
from hydra._settings import Distance, RiskLimits, ShutdownSettings
from hydra.sim import DisplayedSize, MarketParams, ScriptedFlow, SimParams, open_sim_exchange
from tests.journal_surgery import (
    drop_wal,
    kill_once_the_bracket_filled,
    lose_events_after_intent,
    lose_events_from_order,
    lose_events_of_kind,
)
from tests.simulated import open_engine, quiet_oats


async def test_a_lost_filled_order_from_before_the_trading_day_roll_is_bought_again(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The witness takes an unknown *completed* order as harmless ("they hold no position")
    and only today's executions as proof the journal is behind. An intent whose record
    survived a lost -wal but whose order (filled 2 of 2 at 16:58 Chicago) did not is, after
    the 17:00 roll, neither behind nor ended: the restart resumes it and buys 2 more: the
    fill is duplicated (4 bought for an intent of 2). Expected: refused as behind, or the
    intent not resumed."""
    path = tmp_path / "j.sqlite"
    # 2025-03-03 is CST: 17:00 Chicago is 23:00 UTC; the first run trades at 22:58 UTC.
    params = attrs.evolve(quiet_oats(),
                          session_start=dt.datetime(2025, 3, 3, 22, 58, tzinfo=dt.UTC))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path) as engine:
            report = await (await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=2, policy=Policy.CROSS,
                intent_id="buy2"))).wait_done()
            assert report.filled == 2
        drop_wal(path)
        lose_events_after_intent(path, "buy2")
        await trio.sleep(300)  # 23:03 UTC: a new trading day
        async with open_engine(exchange, path) as engine:
            await trio.sleep(120)
        bought = sum(f.quantity for f in exchange.executions_since(params.session_start))
        assert bought == 2, f"intent of 2 bought {bought}"


LEAVE = HydraConfig(
    execution=ExecutionSettings(slippage_guard=Distance.ticks(2)),
    shutdown=ShutdownSettings(drain_timeout=1.0, leave_working=True),
)


async def test_an_order_adopted_as_unknown_by_schema_2_is_resent_after_the_upgrade(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A schema-2 journal (the Hydra before this change) adopted a working order it had lost
    (--adopt-unknown): its ``unknown_order`` note names the order in its payload only, with
    no intent id (neither in the payload nor in a column). The migration to schema 3 does
    not key old notes by intent, and `intents_behind` and `last_sequence` now read only the
    column: the intent, whose record survived, is resumed (it was never to be) and numbered
    from 0, so its next order reuses the adopted order's client order id while that order
    still works at the broker. Expected: not resumed, and no id sent twice."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with open_engine(exchange, path, LEAVE) as engine:
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                            policy=Policy.PASSIVE, intent_id="rest"))
            await trio.sleep(5)
        (working,) = exchange.open_orders()
        coid = working.client_order_id
        drop_wal(path)
        lose_events_after_intent(path, "rest")
        db = sqlite3.connect(path)  # what the schema-2 witness wrote when told to adopt it
        db.execute("INSERT INTO events (recorded_at, kind, payload) VALUES (?, 'note', ?)",
                   ("2025-03-03T14:31:00+00:00", json.dumps(
                       {"what": "unknown_order", "client_order_id": coid,
                        "left_to": "the trader"})))
        db.execute("PRAGMA user_version = 2")
        db.commit()
        db.close()
        async with open_engine(exchange, path, LEAVE):
            await trio.sleep(5)
        sent = exchange.statistics().orders
    journal = Journal.open_read_only(path)
    resumed = [n for n in journal.notes("intent_resumed") if n["intent_id"] == "rest"]
    numbered = journal.last_sequence(IntentId("rest"))
    journal.close()
    assert (resumed, numbered, sent) == ([], 1, 1), (
        f"resumed={resumed} last_sequence={numbered} (the adopted order is {coid}) "
        f"orders at the exchange={sent}")


async def test_an_intent_whose_only_order_the_journal_lost_is_reported_not_resumed(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """An intent whose record survived a lost -wal but whose only order (cancelled at the
    broker, nothing filled) did not: the broker's completed orders show the order, so the
    journal's account of the intent is short (it could have filled on an earlier day). The
    restart reports it interrupted, with its reason, and sends nothing (it was resumed with its
    whole quantity, for want of a quote silently)."""
    path = tmp_path / "j.sqlite"
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with open_engine(exchange, path) as engine:  # cancelled at the close
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                            policy=Policy.PASSIVE, intent_id="rest"))
            await trio.sleep(5)
        assert exchange.open_orders() == ()
        drop_wal(path)
        lose_events_after_intent(path, "rest")
        async with open_engine(exchange, path, LEAVE):
            await trio.sleep(5)
            working = exchange.open_orders()
        sent = exchange.statistics().orders
    journal = Journal.open_read_only(path)
    resumed = [n["intent_id"] for n in journal.notes("intent_resumed")]
    (ended,) = [n for n in journal.notes("intent_interrupted") if n["intent_id"] == "rest"]
    journal.close()
    assert resumed == [] and working == () and sent == 1
    assert "the journal had lost some of its orders" in ended["reason"]


async def test_a_roll_whose_open_leg_the_journal_lost_is_opened_again_or_crashes(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A roll of 3 May oats ran both legs; a lost -wal keeps ``roll_started`` and the close
    (3 closed) but loses the open leg (its intent, order and fill). Restarted with
    adopt_unknown, the witness adopts the open leg's execution and journals the lost intent
    as ``intent_interrupted``; but the roll recovery asks only `has_intent` (an ``intent``
    event) and opens the July leg again: either 3 more July lots are bought (6 held), or the
    submit of an intent the broker has seen is refused inside the engine's nursery and the
    start crashes, every start. Expected: a clean start that holds 3 July lots."""
    path = tmp_path / "j.sqlite"
    may = OATS.for_month("202605")
    async with open_sim_exchange(_two_months(), seed=1) as exchange:
        async with open_engine(exchange, path) as engine:
            await (await engine.submit(OrderIntent(contract=may, side=Side.BUY,
                                                   quantity=3))).wait_done()
            await engine.roll(may, to_expiry="202607",
                              intent_ids=(IntentId("close"), IntentId("open")))
        assert {p.contract.expiry: p.quantity for p in exchange.positions()} == {
            "202605": 0, "202607": 3}
        drop_wal(path)
        lose_events_of_kind(path, "intent", "open")
        problems = []
        for adopt in (True, False):  # the start after it too
            try:
                async with open_engine(exchange, path, adopt_unknown=adopt):
                    await trio.sleep(120)
            except BaseException as error:
                problems.append(repr(error))
        held = {p.contract.expiry: p.quantity for p in exchange.positions()}
    assert (problems, held) == ([], {"202605": 0, "202607": 3})


def _two_months() -> SimParams:
    return SimParams(markets=tuple(
        MarketParams.oats(contract=OATS.for_month(month), adv=0, daily_volatility=0.0,
                          spread_ticks=((2, 1.0),), displayed_size=DisplayedSize.fixed(5))
        for month in ("202605", "202607")))


async def test_a_fill_the_journal_lost_is_counted_twice_in_the_restart_position(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A lost -wal keeps an order (bought 2) but loses its fill. At the restart the book's
    positions are the broker's (2 held, the lost fill in them), then the recovery's resync
    journals the lost fill and books it again as Hydra's own: the book holds 4. With
    max_position 3 a buy of 1 (3 held after it) is blocked as over the limit. Expected:
    the fill is journaled once and the position stays the broker's, so the buy of 1 fills."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(risk=RiskLimits(max_position=3))
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path, config) as engine:
            report = await (await engine.submit(OrderIntent(
                contract=OATS, side=Side.BUY, quantity=2, policy=Policy.CROSS,
                intent_id="buy2"))).wait_done()
            assert report.filled == 2
        drop_wal(path)
        lose_events_of_kind(path, "fill", "buy2")
        refused = None
        async with open_engine(exchange, path, config) as engine:
            try:
                await (await engine.submit(OrderIntent(
                    contract=OATS, side=Side.BUY, quantity=1, policy=Policy.CROSS,
                    intent_id="one"))).wait_done()
            except RiskDeniedError as error:
                refused = str(error)  # "intent one refused: position 5 exceeds limit 3"
        held = sum(p.quantity for p in exchange.positions())
    assert (refused, held) == (None, 3)


async def test_a_lost_intent_seen_only_as_completed_is_sent_again_the_next_day(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A passive bid cancelled at the close of a run whose journal then loses it (a lost
    -wal, the file put back to before the intent). The next start hears it among the
    broker's completed orders: ``unknown_completed_order`` and ``intent_interrupted`` are
    journaled, "so that no client order id is sent twice". The day after, the broker no
    longer lists it; `was_submitted` asks only the day's witness and ``has_intent``, so the
    intent is accepted again and its first order reuses the very client order id the
    journal recorded as seen. Expected: refused as already submitted (or numbered .2)."""
    path = tmp_path / "j.sqlite"
    Journal.open(path).close()
    backup = path.with_name("backup.sqlite")
    shutil.copy(path, backup)
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:
        async with open_engine(exchange, path) as engine:
            await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                            policy=Policy.PASSIVE, intent_id="gone"))
            await trio.sleep(5)
        shutil.copy(backup, path)
        drop_wal(path)
        async with open_engine(exchange, path) as engine:
            (seen,) = engine.witness.unknown_completed
    async with open_sim_exchange(quiet_oats(spread_ticks=6), seed=1) as exchange:  # next day
        async with open_engine(exchange, path, LEAVE) as engine:
            with contextlib.suppress(InvalidValueError):  # refused: what is expected
                await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=2,
                                                policy=Policy.PASSIVE, intent_id="gone"))
            await trio.sleep(5)
        sent = [o.client_order_id for o in exchange.open_orders()]
    assert seen not in sent, f"{seen} sent again"


async def test_a_bracket_whose_stop_the_journal_lost_has_its_take_profit_cancelled(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A bracket's entry filled (2 long) and Hydra was killed; its take-profit and stop work
    at the broker. A lost -wal keeps the entry and the take-profit but loses the
    stop's order. Restarted with adopt_unknown, the stop is adopted as unknown (left to the
    trader), but the bracket recovery ignores `intents_behind` and takes the bracket for
    one "interrupted before all its legs were sent": it cancels the take-profit of the live
    position. Expected: the take-profit (and the stop) still working after the start."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(flows=(ScriptedFlow(at=5.0, side=Side.SELL, quantity=2),))
    async with open_sim_exchange(params, seed=1) as exchange:
        await kill_once_the_bracket_filled(exchange, path)
        legs = sorted(o.client_order_id for o in exchange.open_orders())
        assert [unstamped(c) for c in legs] == ["bracket.2", "bracket.3"]
        drop_wal(path)
        lose_events_from_order(path, legs[1])
        async with open_engine(exchange, path, LEAVE, adopt_unknown=True):
            await trio.sleep(30)
            working = sorted(o.client_order_id for o in exchange.open_orders())
    assert working == legs, f"working after the start: {working}"


async def test_a_brackets_exits_are_left_working_at_a_close_that_leaves_orders_working(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """shutdown.leave_working = true: a graceful close leaves working orders working
    (journaled LEFT_WORKING). A bracket whose entry filled (2 long) has its take-profit and
    protective stop cancelled at the close instead: the position is left with no stop.
    Expected: both exits still working after the close."""
    path = tmp_path / "j.sqlite"
    params = quiet_oats(flows=(ScriptedFlow(at=5.0, side=Side.SELL, quantity=2),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path, LEAVE) as engine:
            await engine.submit_bracket(BracketIntent(
                contract=OATS, side=Side.BUY, quantity=2, entry_price="350.00",
                take_profit_price="351.00", stop_price="349.00", stop_limit_price="348.75",
                intent_id=IntentId("bracket")))
            await trio.sleep(30)
            before = sorted(unstamped(o.client_order_id) for o in exchange.open_orders())
        after = sorted(unstamped(o.client_order_id) for o in exchange.open_orders())
        held = sum(p.quantity for p in exchange.positions())
    assert (before, held) == (["bracket.2", "bracket.3"], 2)
    assert after == before, f"left working after the close: {after}"


async def test_a_lost_brackets_interruption_counts_its_exit_as_filled_too(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A bracket of 2 whose entry filled and whose take-profit then filled (flat again); the
    journal is put back to before it (a lost -wal). Restarted with adopt_unknown, the witness
    journals the lost intent as interrupted with ``filled`` = every execution of the intent
    summed whatever its side: 4 of a 2-lot bracket (the entry's 2 and the exit's 2).
    Expected: filled 2, as the bracket's own report counts it."""
    path = tmp_path / "j.sqlite"
    Journal.open(path).close()
    backup = path.with_name("backup.sqlite")
    shutil.copy(path, backup)
    params = quiet_oats(flows=(ScriptedFlow(at=5.0, side=Side.SELL, quantity=2),
                               ScriptedFlow(at=20.0, side=Side.BUY, quantity=7)))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_engine(exchange, path) as engine:
            handle = await engine.submit_bracket(BracketIntent(
                contract=OATS, side=Side.BUY, quantity=2, entry_price="350.00",
                take_profit_price="350.25", stop_price="349.00", stop_limit_price="348.75",
                intent_id=IntentId("bracket")))
            with trio.fail_after(600):
                report = await handle.wait_done()
        fills = exchange.executions_since(params.session_start)
        assert sum(f.signed_quantity for f in fills) == 0, fills
        shutil.copy(backup, path)
        drop_wal(path)
        async with open_engine(exchange, path, adopt_unknown=True):
            pass
    journal = Journal.open_read_only(path)
    (ended,) = [n for n in journal.notes("intent_interrupted") if n["intent_id"] == "bracket"]
    journal.close()
    assert ended["filled"] == report.filled == 2, (ended["filled"], report.filled)
