"""What restart tests do to a journal: a crash right after a commit, a lost ``-wal``, and what
a lost ``-wal`` leaves (every event from some point on gone; the append-only trigger is lifted
only to make the cut, then put back). Also the attack tests' bracket, killed once its entry
filled."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import outcome
import pytest
import trio

from hydra import OATS, Side
from hydra._bracket import BracketIntent
from hydra._ids import IntentId
from hydra._journal import Journal
from hydra._journal_actor import run_inline
from hydra._journal_schema import STATEMENTS
from hydra.sim import SimExchange
from tests.simulated import open_engine


class Crash(Exception):
    """Stands for the process dying (SIGKILL) right after a journal commit."""


def crash_once(path: Path, when: Callable[[Journal], bool]) -> Callable[[Any], Any]:
    """A journal offload that dies right after the first commit that makes ``when`` true:
    every caller of that commit, and of each one after it, gets `Crash` instead of its
    answer (and nothing after it is written)."""
    crashed = False

    async def offload(work: functools.partial[list[outcome.Outcome[Any]]]) -> Any:
        nonlocal crashed
        calls = len(work.args[0])  # journal.apply_together's list of calls
        if not crashed:
            results = await run_inline(work)
            reader = Journal.open_read_only(path)
            try:
                crashed = when(reader)
            finally:
                reader.close()
            if not crashed:
                return results
        return [outcome.Error(Crash("right after a journal commit")) for _ in range(calls)]

    return offload


def crash_from(seconds: float) -> Callable[[Any], Any]:
    """A journal offload that dies (`Crash`) at every journal access from Trio time
    ``seconds`` on, and works as usual before it."""

    async def offload(work: Callable[[], Any]) -> Any:
        if trio.current_time() >= seconds:
            raise Crash(f"crash at {trio.current_time()} s")
        return await run_inline(work)

    return offload


def drop_wal(path: Path) -> None:
    """Lose the journal's -wal and -shm files (after a close they hold nothing more)."""
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _lose_events(path: Path, first: str, args: tuple[str, ...], *, keep_first: bool) -> None:
    """Delete every event from the first one ``first`` (a query of its seq) finds on (or from
    the one after it, with ``keep_first``)."""
    db = sqlite3.connect(path)
    try:
        (seq,) = db.execute(first, args).fetchone()
        db.execute("DROP TRIGGER events_no_delete")
        db.execute("DELETE FROM events WHERE seq > ?" if keep_first
                   else "DELETE FROM events WHERE seq >= ?", (seq,))
        (trigger,) = [s for s in STATEMENTS if "events_no_delete" in s]
        db.execute(trigger)
        db.commit()
    finally:
        db.close()


def lose_events_after_intent(path: Path, intent_id: str) -> None:
    """The last checkpoint fell between an intent's record and its first order: every event
    after the intent is gone."""
    _lose_events(path, "SELECT seq FROM events WHERE kind = 'intent' AND intent_id = ?",
                 (intent_id,), keep_first=True)


def lose_events_of_kind(path: Path, kind: str, intent_id: str) -> None:
    """The last checkpoint fell just before ``intent_id``'s first ``kind`` event: it and
    everything after it are gone."""
    _lose_events(path, "SELECT min(seq) FROM events WHERE kind = ? AND intent_id = ?",
                 (kind, intent_id), keep_first=False)


def lose_events_from_order(path: Path, client_order_id: str) -> None:
    """The last checkpoint fell just before ``client_order_id`` was journaled: its order event
    and everything after it are gone."""
    _lose_events(path, "SELECT min(seq) FROM events WHERE kind = 'order'"
                 " AND client_order_id = ?", (client_order_id,), keep_first=False)


def lose_events_from_ack(path: Path, order: str) -> None:
    """The last checkpoint fell just after ``order`` (an unstamped client order id) was
    journaled, before its ack: the ack and all after it are gone."""
    _lose_events(path, "SELECT min(seq) FROM events WHERE kind = 'ack'"
                 " AND client_order_id LIKE ?", (f"%:{order}",), keep_first=False)


BRACKET = BracketIntent(
    contract=OATS, side=Side.BUY, quantity=2, entry_price="350.00", take_profit_price="351.00",
    stop_price="349.00", stop_limit_price="348.75", intent_id=IntentId("bracket"))
"""The attack tests' bracket: 2 long at 350.00, take-profit 351.00, stop 349.00 / 348.75."""


async def kill_once_the_bracket_filled(exchange: SimExchange, path: Path) -> None:
    """Work `BRACKET` on ``exchange`` with the journal at ``path`` until its entry's fill is
    journaled, then die (a SIGKILL right after that commit): its exits work at the broker."""
    crash = crash_once(path, lambda j: len(j.fills()) > 0)
    with pytest.raises(BaseExceptionGroup):
        async with open_engine(exchange, path, offload=crash) as engine:
            await (await engine.submit_bracket(BRACKET)).wait_done()
