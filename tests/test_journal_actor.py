from decimal import Decimal
from pathlib import Path

import trio

from hydra._contracts import OATS
from hydra._enums import Side
from hydra._journal import Journal
from hydra._journal_actor import JournalClient, JournalWrite, run_in_thread, run_journal
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
