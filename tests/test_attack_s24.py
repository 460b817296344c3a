"""Attacks on the work of session 23 (a TWAP's parts journaled with its orders, a restart's fit
to the close, the hours lookup and the open's quote waiting for the broker session, the
rehearsal through its hook): each test showed a defect on the tree before its fix, or is a
strict xfail naming the file that holds the defect."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from hydra._enums import NoteKind
from hydra._errors import JournalFormatError
from hydra._journal import Journal
from hydra._journal_records import read_journal
from hydra._journal_schema import STATEMENTS
from hydra._rehearsal import Rehearsal, rehearse
from hydra._rehearsal_broker import BrokerKind
from hydra._settings import ExecutionSettings, HydraConfig, RiskLimits
from hydra._strategy_hook import StrategyContext
from hydra.sim import BadQuotes, Disconnect, Fault, StaleQuotes, open_sim_exchange
from tests.journal_surgery import crash_from
from tests.simulated import open_engine, quiet_oats
from tests.test_rehearsal import _quiet
from tests.test_sessions import ct, hours_params, oats, open_hours_engine
from tests.test_twap_restart import _config, _crash_at


def _leaves(error: BaseException) -> list[BaseException]:
    """The exceptions an exception group holds, however deep (``error`` itself when none)."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _mend_last_order(path: Path, part: Any) -> None:
    """Hand-mend the journal's last order record: its TWAP part becomes ``part`` (the
    append-only trigger is lifted only to make the change, then put back)."""
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        seq, payload = db.execute("SELECT seq, payload FROM events WHERE kind = 'order'"
                                  " ORDER BY seq DESC LIMIT 1").fetchone()
        data = json.loads(payload)
        assert data["part"] == {"slice": 2, "slices": 3, "ahead": True}
        db.execute("DROP TRIGGER events_no_update")
        db.execute("UPDATE events SET payload = ? WHERE seq = ?",
                   (json.dumps({**data, "part": part}), seq))
        (trigger,) = [s for s in STATEMENTS if "events_no_update" in s]
        db.execute(trigger)


@pytest.mark.parametrize("part", [{"slice": 3, "slices": 2}, "slice 2 of 3"],
                         ids=["slice-past-its-schedule", "not-a-table"])
async def test_a_damaged_twap_part_is_one_line_naming_the_order_record(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, part: Any
) -> None:
    """15 lots in three 100 s slices with ``twap_ahead`` 1, killed at 80 s while slice 2's
    lots rest ahead; the journal is hand-mended (its last order's part made slice 3 of 2, or
    a string) and Hydra started on it. The restart is refused, rightly, but in a line that
    names neither the journal's event nor its part: ``slices: must be at least slice 3, got
    2`` (which reads as ``[execution] twap_slices``), or for a part that is no table
    ``TypeError: string indices must be integers``. Expected: a `JournalFormatError` naming
    the order record's part, as a damaged fill record or note is."""
    path = tmp_path / "j.sqlite"
    config = _config(1)
    async with open_sim_exchange(quiet_oats(spread_ticks=1), seed=1) as exchange:
        await _crash_at(exchange, path, config, 80.0)
        _mend_last_order(path, part)
        with pytest.raises(BaseExceptionGroup) as refused:
            async with open_engine(exchange, path, config):
                pass
    (error,) = _leaves(refused.value)
    assert isinstance(error, JournalFormatError), repr(error)
    assert "its part does not read" in str(error) and "event" in str(error)
    assert str(error).startswith(f"{path}: ")


@pytest.mark.parametrize("fault", [
    BadQuotes(at=40 * 60 - 5.0, duration=15.0, problem="one-sided"),
    StaleQuotes(at=40 * 60 - 60.0, duration=95.0),
], ids=["one-sided", "stale"])
async def test_an_intent_held_for_the_open_outlives_a_bad_quote_at_the_open(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, fault: Fault
) -> None:
    """A buy of 2 submitted at 07:50 Chicago in the grains' break is held for 08:30, as the
    user guide says, to be "journaled and worked at the open's quote". The quote at the open
    is one-sided for its first 10 s (or has not changed for 60 s: stale): the intent asked
    for its arrival quote once, at 08:30:00, and ended unworked ("no usable quote for ZO:
    one-sided"), an overnight order lost to one bad quote, where an intent already working
    just waits for a usable one. Expected: it is worked once the quote is usable, and buys
    its 2 lots."""
    params = attrs.evolve(hours_params(ct(2, 7, 50)), faults=(fault,))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite") as (engine, broker):
            report = await (await engine.submit(oats())).wait_done()
    assert report.filled == 2
    assert broker.sent[0][1] > ct(2, 8, 30)


@pytest.mark.parametrize(("start", "down_at", "deadline"), [
    (ct(2, 7, 50), 40 * 60 - 30.0, ct(2, 8, 31)),
    (ct(2, 9, 0), 10.0, ct(2, 9, 1)),
], ids=["held-for-the-open", "in-session"])
async def test_an_intents_deadline_bounds_its_wait_for_the_broker_session(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, start: Any, down_at: float,
    deadline: Any,
) -> None:
    """A buy of 2 that must be done by 08:31 Chicago (``Engine.submit(deadline=...)``, an
    inbox line's ``deadline``), held at 07:50 for the 08:30 open; the link is down from
    08:29:30 for 150 s. The intent waited for the session with no bound and was sent at
    08:32:28, 88 s after its deadline, and bought. The same in session: submitted at 09:00:15
    with the link down since 09:00:10, deadline 09:01, it was sent after the reconnect, at
    09:03:08. Expected: past its deadline an intent is refused, nothing sent, as an open
    after the deadline refuses it and as the runner's inbox intents expire."""
    params = attrs.evolve(hours_params(start),
                          faults=(Disconnect(at=down_at, duration=150.0),))
    async with open_sim_exchange(params, seed=1) as exchange:
        async with open_hours_engine(exchange, tmp_path / "j.sqlite") as (engine, broker):
            await trio.sleep(15)
            with contextlib.suppress(Exception):
                await (await engine.submit(oats(), deadline=deadline)).wait_done()
    assert broker.sent == []


def _plain_targets(context: StrategyContext) -> Mapping[str, int]:
    """A plain (not ``async``) strategy, as ``hydra run`` users write them, that takes a few
    milliseconds of real time to decide (here, summing a million numbers): long one oats
    contract on even days, short one on odd days."""
    return {"ZO": 1 if (context.now.day + sum(range(1_000_000))) % 2 == 0 else -1}


async def test_a_plain_strategy_hook_is_rehearsed_without_timing_out(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """``hydra rehearse --config FILE`` rehearses the ``[runner] strategy`` the file names, a
    plain function as in ``hydra run``. One that decides in a few milliseconds was "no answer
    within 30 s" (a ``hook_error``) at every call of three sessions, so none of its targets
    was traded: the virtual clock jumped to the hook's deadline while its thread ran.
    (``hydra rehearse --weeks 3`` with a hook that returns at once: 7 of 15 calls timed
    out.) The user guide says time moves on while a plain hook computes, not that every call
    fails. Expected: three sessions, three answers, no hook error."""
    journal = tmp_path / "r.sqlite"
    await rehearse(Rehearsal(config=HydraConfig(), journal=journal,
                             broker=BrokerKind.IN_PROCESS, hook=_plain_targets,
                             hook_name="_plain_targets", progress=lambda _: None),
                   _quiet([1, 2, 3]))
    errors = [r.payload for r in read_journal(journal) if r.is_note(NoteKind.HOOK_ERROR)]
    assert errors == []


async def test_a_chunked_intent_resumed_shares_the_time_to_the_close_among_its_orders(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A buy of 4 at 13:00 Chicago, 20 minutes before the close, with ``patience`` 600 and
    ``max_order_quantity`` 2: two orders of 2 share the time to the close (each ladder
    1195 s / 2 long: patience 341 s), and order 1 fills at its last stage. Killed at 13:01
    and restarted at 13:02, the adopted order 1 was fitted to the close as if it were the
    intent's only order: patience 600 s, its last stage at 13:15, and order 2 had the 295 s
    left before the close for a ladder of patience 600. Expected: the adopted order shares
    the time left with order 2, as a new intent's orders do: patience (1195 - 120) / 1.75 / 2
    s, so order 1 reaches its last stage 1.5 times that after 13:00 and fills there, and
    order 2 follows 30 ms on."""
    path = tmp_path / "j.sqlite"
    config = HydraConfig(execution=ExecutionSettings(patience=600.0),
                         risk=RiskLimits(max_order_quantity=2))
    async with open_sim_exchange(hours_params(ct(2, 13)), seed=1) as exchange:
        with pytest.raises(BaseExceptionGroup):
            async with open_engine(exchange, path, config,
                                   offload=crash_from(exchange.origin + 60.0)) as engine:
                intent = (await engine.submit(oats(4))).intent
                await trio.sleep(60)
                await engine.record_control("crash")  # the first write after the crash
        await trio.sleep_until(exchange.origin + 120.0)
        async with open_engine(exchange, path, config) as engine:
            (adopted,) = engine.adopted
            assert (await adopted.wait_done()).filled == 4
    placed = [round((at - ct(2, 13)).total_seconds(), 6)
              for _, at in Journal.open_read_only(path).intent_orders(intent.intent_id)]
    step = 1.5 * (1195.0 - 120.0) / 1.75 / 2
    assert placed == [0.0, round(step + 0.03, 6)]
