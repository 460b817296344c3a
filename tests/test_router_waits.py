"""A held intent's waits at the open (for the broker session, for a usable quote) and an
in-session intent's wait for the broker session: each is bounded by the intent's deadline
(past it the intent ends unworked, or is refused, naming the deadline, and nothing is sent);
a quote unusable until the close holds the intent again for the next open, and a usable
quote releases it at once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pytest
import trio
import trio.testing
from structlog.testing import capture_logs

from hydra._errors import InvalidValueError, MarketClosedError
from hydra._ids import IntentId
from hydra.sim import BadQuotes, Disconnect, Fault, SimParams, StaleQuotes, open_sim_exchange
from tests.test_sessions import ct, hours_params, now_of, oats, open_hours_engine

OPEN = 40 * 60.0
"""The 08:30 open, in seconds after the simulation's 07:50 start."""


def _at_0750(*faults: Fault) -> SimParams:
    return attrs.evolve(hours_params(ct(2, 7, 50)), faults=faults)


async def test_a_held_intent_waits_for_a_usable_quote_at_the_open(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """The quote is one-sided from 08:29:55 to 08:30:10: the intent held for the open says
    once that it waits for a usable quote, and is sent at 08:30:10, and buys."""
    params = _at_0750(BadQuotes(at=OPEN - 5.0, duration=15.0, problem="one-sided"))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite") as (engine, broker):
            with capture_logs() as logs:
                report = await (await engine.submit(oats())).wait_done()
    assert [(e["symbol"], e["why"]) for e in logs if e["event"] == "intent_waiting_for_quote"
            ] == [("ZO 202703", "one-sided")]
    assert broker.sent[0] == ("place", ct(2, 8, 30) + dt.timedelta(seconds=10))
    assert report.filled == 2


@pytest.mark.parametrize(("fault", "waited_for"), [
    (StaleQuotes(at=OPEN - 60.0, duration=1800.0), "a usable quote (stale "),
    (Disconnect(at=OPEN - 30.0, duration=150.0), "the broker session"),
], ids=["stale-quote", "link-down"])
async def test_a_held_intents_deadline_ends_its_wait_at_the_open(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, fault: Fault, waited_for: str,
) -> None:
    """Held for 08:30 with a deadline of 08:31, the intent that still waits for a usable
    quote (or for the broker session) at 08:31:00 ends unworked then, its reason naming its
    deadline and what it waited for; nothing is journaled or sent."""
    async with open_sim_exchange(_at_0750(fault), seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite") as (engine, broker):
            with capture_logs() as logs:
                handle = await engine.submit(oats(intent_id=IntentId("due")),
                                             deadline=ct(2, 8, 31))
                report = await handle.wait_done()
            assert now_of(exchange) == ct(2, 8, 31)
            assert not await engine.was_submitted(IntentId("due"))
    assert report.children == () and report.filled == 0
    (ended,) = [e for e in logs if e["event"] == "intent_not_worked"]
    assert ended["reason"].startswith(
        f"its deadline 2026-12-02T08:31:00-06:00 passed while it waited for {waited_for}")
    assert report.end_reason == ended["reason"]  # it used to give none: no order to say why
    assert broker.sent == []


async def test_a_held_intent_cancelled_before_the_open_says_so(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """Held at 07:50 for 08:30 and cancelled at 08:00, the intent ends then, unworked, and its
    report says why (it gave none: it had no order to say so); nothing is sent."""
    async with open_sim_exchange(_at_0750(), seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite") as (engine, broker):
            handle = await engine.submit(oats(intent_id=IntentId("held")))
            await trio.sleep(600)
            handle.cancel()
            report = await handle.wait_done()
            assert now_of(exchange) == ct(2, 8, 0)
    assert report.children == () and report.filled == 0
    assert report.end_reason == "stopped: intent held cancelled before its market opened"
    assert broker.sent == []


async def test_an_in_session_intents_deadline_bounds_its_wait_for_the_session(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """At 09:00:15 with the link down since 09:00:10 (for 150 s), an intent due by 09:01 is
    refused at 09:01:00 exactly, in one line naming its deadline; nothing is sent."""
    params = attrs.evolve(hours_params(ct(2, 9)), faults=(Disconnect(at=10.0, duration=150.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite") as (engine, broker):
            await trio.sleep(15)
            with pytest.raises(MarketClosedError) as refused:
                await engine.submit(oats(intent_id=IntentId("due")), deadline=ct(2, 9, 1))
            assert now_of(exchange) == ct(2, 9, 1)
    assert str(refused.value) == ("intent due refused: its deadline 2026-12-02T09:01:00-06:00 "
                                  "passed while it waited for the broker session")
    assert broker.sent == []


async def test_an_intent_whose_deadline_has_passed_is_refused_at_once(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """In session at 09:00, a deadline of 08:59 is refused in one line naming the field."""
    async with open_sim_exchange(hours_params(ct(2, 9)), seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite") as (engine, broker):
            with pytest.raises(InvalidValueError) as refused:
                await engine.submit(oats(), deadline=ct(2, 8, 59))
    assert str(refused.value).startswith("deadline: has passed")
    assert "2026-12-02T08:59:00-06:00" in str(refused.value)
    assert broker.sent == []


async def test_a_quote_unusable_until_the_close_holds_the_intent_for_the_next_open(
    autojump_clock: trio.testing.MockClock, tmp_path: Path,
) -> None:
    """The quote is stale from 08:29 until after the 13:20 close: the held intent is held
    again at the close (logged) and worked at the next day's 08:30 open."""
    stale = StaleQuotes(at=OPEN - 60.0, duration=(ct(2, 13, 30) - ct(2, 8, 29)).total_seconds())
    async with open_sim_exchange(_at_0750(stale), seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite") as (engine, broker):
            with capture_logs() as logs:
                report = await (await engine.submit(oats())).wait_done()
    again = [e for e in logs if e["event"] == "intent_waiting_for_open" and "reason" in e]
    assert [e["reason"] for e in again] == [
        "no broker session or no usable quote until the close"]
    assert broker.sent[0] == ("place", ct(3, 8, 30))
    assert report.filled == 2
