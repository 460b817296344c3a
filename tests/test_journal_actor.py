import functools
import sqlite3
import threading
from decimal import Decimal
from pathlib import Path

import pytest
import trio
import trio.testing

from hydra._contracts import OATS
from hydra._enums import Side
from hydra._journal import Journal
from hydra._journal_actor import (
    JournalClient,
    JournalWrite,
    Offload,
    run_in_thread,
    run_inline,
    run_journal,
)
from hydra._orders import OrderIntent


async def test_writes_run_in_a_worker_thread_in_order_and_answer_when_committed(
    tmp_path: Path,
) -> None:
    """Through the production thread runner, each write returns once committed, in order."""
    journal = Journal.open(tmp_path / "j.sqlite")
    send, receive = trio.open_memory_channel[JournalWrite](0)
    async with trio.open_nursery() as nursery:
        await nursery.start(lambda task_status: run_journal(
            receive, journal=journal, offload=run_in_thread, task_status=task_status
        ))
        client = JournalClient(send)
        async with client._outbox:
            for quantity in (1, 2, 3):
                intent = OrderIntent(contract=OATS, side=Side.BUY, quantity=quantity)
                await client.record_intent(intent, arrival_mid=Decimal(350), predicted_bps=None)
                reader = Journal.open_read_only(tmp_path / "j.sqlite")
                assert len(list(reader.events())) == quantity  # on disk when the call returns
                reader.close()
    quantities = [payload["intent"]["quantity"] for _, _, payload in journal.events()]
    assert quantities == [1, 2, 3]


async def _serve(journal: Journal, nursery: trio.Nursery, offload: Offload) -> JournalClient:
    send, receive = trio.open_memory_channel[JournalWrite](0)
    await nursery.start(functools.partial(run_journal, receive, journal=journal,
                                          offload=offload))
    return JournalClient(send)


class _BadQuery:
    """A query of a table that does not exist."""

    def apply(self, journal: Journal) -> None:
        journal._db.execute("SELECT seq FROM nowhere")


async def test_a_failing_call_raises_in_its_caller_and_the_actor_keeps_running(
    tmp_path: Path,
) -> None:
    """A query and a write that raise do so in the task that asked; the next write is served."""
    journal = Journal.open(tmp_path / "j.sqlite")
    async with trio.open_nursery() as nursery:
        client = await _serve(journal, nursery, run_inline)
        async with client._outbox:
            with pytest.raises(sqlite3.OperationalError, match="no such table: nowhere"):
                await client.ask(_BadQuery())
            with pytest.raises(TypeError, match="not JSON serializable"):
                await client.record_note("reconnected", peer=object())
            await client.record_note("reconnected", peer="127.0.0.1")
    assert [payload for _, _, payload in journal.events()] == [
        {"what": "reconnected", "peer": "127.0.0.1"}]
    journal.close()


async def test_a_caller_cancelled_while_waiting_does_not_stop_the_actor(tmp_path: Path) -> None:
    """A caller cancelled while its call runs in the worker thread loses only its answer."""
    journal = Journal.open(tmp_path / "j.sqlite")
    running, release = threading.Event(), threading.Event()

    class SlowQuery:
        def apply(self, journal: Journal) -> int:
            running.set()
            release.wait()
            return len(list(journal.events()))

    async with trio.open_nursery() as nursery:
        client = await _serve(journal, nursery, run_in_thread)
        async with client._outbox:
            with trio.CancelScope() as caller:
                nursery.start_soon(_cancel_when, running, caller, release)
                await client.ask(SlowQuery())
            assert caller.cancelled_caught
            await client.record_note("reconnected")
            assert await client.ask(SlowQuery()) == 1
    journal.close()


async def _cancel_when(running: threading.Event, scope: trio.CancelScope,
                       release: threading.Event) -> None:
    await trio.to_thread.run_sync(running.wait)
    scope.cancel(reason="the caller gave up")
    await trio.testing.wait_all_tasks_blocked()
    release.set()


async def test_writers_waiting_together_share_one_commit(tmp_path: Path) -> None:
    """Ten notes asked for at once go to the journal in one group commit (two at most: the
    first may be taken alone), each answered and on disk."""
    journal = Journal.open(tmp_path / "j.sqlite")
    groups = 0

    async def counting(work: functools.partial[object]) -> object:
        nonlocal groups
        groups += 1
        return await run_inline(work)

    async with trio.open_nursery() as nursery:
        client = await _serve(journal, nursery, counting)  # type: ignore[arg-type]
        async with client._outbox, trio.open_nursery() as writers:
            for n in range(10):
                writers.start_soon(functools.partial(client.record_note, "n", n=n))
    assert groups <= 2
    assert sorted(p["n"] for _, _, p in journal.events()) == list(range(10))
