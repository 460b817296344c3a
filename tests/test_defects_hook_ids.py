"""A strategy hook's intent ids and strategy names obey the inbox's rule (printable, at most
64 characters): a hook answering any other is a hook_error naming the field, nothing sent."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from hydra import OATS, OrderIntent, Side
from hydra._errors import HookFailedError
from hydra._ids import IntentId
from hydra._journal import EventKind, Journal
from hydra._runner import HookLimits, run_schedule
from hydra._schedule import DailySchedule, parse_days
from hydra._strategy_hook import StrategyContext, ask_hook
from hydra.sim import SimBroker, open_sim_exchange
from tests.simulated import journal_notes, open_engine, quiet_oats

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
START = dt.datetime(2026, 11, 25, 8, 0, tzinfo=CHICAGO)  # a Wednesday, 35 minutes early
FIRST_CALL = 35 * 60.0

BAD_IDS = [
    ("a\x00b", "bad answer: intent_id: must hold only printable characters, got 'a\\x00b'"),
    ("fake\nlog_line level=error", "bad answer: intent_id: must hold only printable "
                                   "characters, got 'fake\\nlog_line level=error'"),
    ("\x1b[2Jcleared", "bad answer: intent_id: must hold only printable characters, got "
                       "'\\x1b[2Jcleared'"),
    ("x" * 200_000, "bad answer: intent_id: must be at most 64 characters, got '"
                    + "x" * 64 + "…'"),
]


def _intent(**changes: Any) -> OrderIntent:
    return OrderIntent(contract=OATS, side=Side.BUY, quantity=1, **changes)


async def _ask(answer: list[OrderIntent]) -> list[OrderIntent]:
    context = StrategyContext(now=START, positions={})
    return await ask_hook(lambda _: answer, context, strategy="desk",
                          limiter=trio.CapacityLimiter(1))


@pytest.mark.parametrize(("intent_id", "reason"), BAD_IDS)
async def test_an_unprintable_or_long_intent_id_is_a_bad_answer(intent_id: str,
                                                                reason: str) -> None:
    """An intent id with a NUL, a newline, an ANSI escape or 200,000 characters is a bad
    answer whose one-line reason names intent_id (and shows at most 64 of its characters)."""
    with pytest.raises(HookFailedError) as failed:
        await _ask([_intent(), _intent(intent_id=IntentId(intent_id))])
    assert failed.value.reason == reason


async def test_an_unprintable_strategy_name_is_a_bad_answer() -> None:
    """A hook's own strategy name travels with its orders too: a newline in it is refused."""
    with pytest.raises(HookFailedError) as failed:
        await _ask([_intent(strategy="mine\nforged")])
    assert failed.value.reason == ("bad answer: strategy: must hold only printable "
                                   "characters, got 'mine\\nforged'")


async def test_a_printable_intent_id_of_64_characters_is_kept() -> None:
    """The rule's edge: 64 printable characters (spaces too) are an intent id."""
    (intent,) = await _ask([_intent(intent_id=IntentId("a b" + "c" * 61))])
    assert intent.intent_id == "a b" + "c" * 61


def _now() -> dt.datetime:
    return START + dt.timedelta(seconds=trio.current_time())


async def test_a_hook_with_a_nul_intent_id_is_a_hook_error_and_sends_nothing(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A hook answering an intent whose id has a NUL is journaled as one hook_error naming
    intent_id at 08:35; no intent of that answer is journaled or sent, and trading goes on."""
    path = tmp_path / "j.sqlite"

    async def hook(context: Any) -> Any:
        return [_intent(intent_id=IntentId("good")), _intent(intent_id=IntentId("bad\x00id"))]

    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        async with open_engine(exchange, path) as engine, trio.open_nursery() as nursery:
            broker = SimBroker(exchange)
            await broker.connect()
            nursery.start_soon(functools.partial(
                run_schedule, engine, broker, hook=hook, name="desk",
                schedule=DailySchedule(at=dt.time(8, 35), days=parse_days("d", "Mon-Sun"),
                                       zone=CHICAGO),
                now=_now, limits=HookLimits(timeout=30.0, max_failures=3)))
            await trio.sleep(FIRST_CALL + 600)
            nursery.cancel_scope.cancel(reason="test over")
            assert engine.statistics().trading_state.value == "ACTIVE"
            assert exchange.statistics().orders == 0
    (error,) = journal_notes(path, "hook_error")
    assert (error["hook"], error["failures"]) == ("desk", 1)
    assert error["reason"] == ("bad answer: intent_id: must hold only printable characters,"
                               " got 'bad\\x00id'")
    journal = Journal.open_read_only(path)
    try:
        assert [p for _, kind, p in journal.events() if kind is EventKind.INTENT] == []
    finally:
        journal.close()
