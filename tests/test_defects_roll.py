"""A roll naming no month rolls the position from the month it is held in (the earliest held
before the month it rolls to), not from today's front month: inside the roll window the
position is still in the old month while the front month has moved on.

On 2025-04-28 ZOK5 is two days from its first notice: Hydra's front month is ZON5 already."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
import trio
import trio.testing

from hydra import OATS, InvalidValueError, OrderIntent, Side
from hydra._engine import Engine
from hydra._ids import IntentId
from hydra.sim import Disconnect, open_sim_exchange
from tests.simulated import journal_notes, open_engine
from tests.test_front_month_intents import FAST, FRONT, NEAR, NEXT, PARAMS


async def _buy(engine: Engine, month: str, quantity: int) -> None:
    handle = await engine.submit(OrderIntent(contract=OATS.for_month(month), side=Side.BUY,
                                             quantity=quantity))
    assert (await handle.wait_done()).filled == quantity


async def test_in_the_roll_window_a_roll_naming_no_month_rolls_the_month_held(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """2 ZOK5 held, the front month ZON5: "roll ZO to 202507" sells the 2 ZOK5 and buys 2
    ZON5 (it was refused: ZON5 is not after the front month)."""
    async with open_sim_exchange(PARAMS, seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", FAST) as engine:
            await _buy(engine, NEAR, 2)
            assert engine.front_months()["ZO"] == FRONT
            closed, opened = await engine.roll(OATS, to_expiry=FRONT)
    assert opened is not None
    assert ({f.expiry for f in closed.fills}, closed.side, closed.filled) == ({NEAR}, Side.SELL, 2)
    assert ({f.expiry for f in opened.fills}, opened.side, opened.filled) == (
        {FRONT}, Side.BUY, 2)


async def test_a_roll_naming_no_month_rolls_the_earliest_month_held(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """1 ZOK5 and 2 ZON5 held: "roll ZO to 202509" rolls the ZOK5 (the month nearest its
    delivery), not the front month's 2; a second roll then rolls the ZON5."""
    async with open_sim_exchange(PARAMS, seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", FAST) as engine:
            await _buy(engine, NEAR, 1)
            await _buy(engine, FRONT, 2)
            first, _ = await engine.roll(OATS, to_expiry=NEXT)
            second, _ = await engine.roll(OATS, to_expiry=NEXT)
            held = {p.contract.expiry: p.quantity for p in exchange.positions()}
    assert ({f.expiry for f in first.fills}, first.filled) == ({NEAR}, 1)
    assert ({f.expiry for f in second.fills}, second.filled) == ({FRONT}, 2)
    assert {m: q for m, q in held.items() if q} == {NEXT: 3}


async def test_a_roll_with_nothing_held_before_its_month_is_refused(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Only ZOU5 held: "roll ZO to 202509" finds nothing to roll, and says so naming the
    front month (as before); a named month is rolled from as named."""
    async with open_sim_exchange(PARAMS, seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", FAST) as engine:
            await _buy(engine, NEXT, 1)
            with pytest.raises(InvalidValueError, match=r"no position to close, got 'ZO 202507'"):
                await engine.roll(OATS, to_expiry=NEXT)
            with pytest.raises(InvalidValueError, match="must be after 202509"):
                await engine.roll(OATS.for_month(NEXT), to_expiry=NEXT)


async def test_a_roll_to_a_malformed_month_is_refused_before_the_broker_is_asked(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """"roll ZO to 2025-09" is refused naming the month, with the broker's session down (its
    positions cannot be asked): the month is checked first."""
    down = attrs.evolve(PARAMS, faults=(Disconnect(at=30.0, duration=600.0),))
    async with open_sim_exchange(down, seed=1) as exchange:
        async with open_engine(exchange, tmp_path / "j.sqlite", FAST) as engine:
            await _buy(engine, NEAR, 1)
            await trio.sleep(31.0 - trio.current_time())
            with pytest.raises(InvalidValueError, match="2025-09"):
                await engine.roll(OATS, to_expiry="2025-09")


async def test_a_dry_runs_roll_journals_its_open_as_skipped(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """2 ZOK5 held, then a dry run rolls them to ZON5: its close is not sent, so nothing
    closed and nothing opens, and the open is journaled as skipped (``roll_open_skipped``,
    naming the dry run), as the runner journals its skipped opens: a restart opens none."""
    journal = tmp_path / "j.sqlite"
    async with open_sim_exchange(PARAMS, seed=1) as exchange:
        async with open_engine(exchange, journal, FAST) as engine:
            await _buy(engine, NEAR, 2)
        async with open_engine(exchange, journal, FAST, dry_run=True) as engine:
            closed, opened = await engine.roll(OATS.for_month(NEAR), to_expiry=FRONT,
                                               intent_ids=(IntentId("close"), IntentId("open")))
        assert {p.contract.expiry: p.quantity for p in exchange.positions()}[NEAR] == 2
    assert (closed.dry_run, closed.filled, opened) == (True, 0, None)
    assert [(n["open_intent_id"], n["reason"]) for n in journal_notes(
        journal, "roll_open_skipped")] == [("open", "dry run: nothing was sent")]
