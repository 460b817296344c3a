"""Attacks on the start through IB (witness before the event pump, the day's resync): each
test fails on the code as it is."""

from __future__ import annotations

from pathlib import Path

import attrs
import trio

from hydra import OATS, OrderIntent, Policy, Side
from hydra._journal import Journal
from hydra._open_hydra import open_hydra
from hydra.ib import open_ib_broker
from tests.test_ib_engine import FAST, Served, open_ib_hydra
from tests.test_ib_engine import served_now as served_now


async def test_another_journals_fill_today_does_not_halt_a_new_journal(
    served_now: Served, tmp_path: Path
) -> None:
    """Another journal (another Hydra, or this account's journal before --new-journal)
    bought 1 today. A Hydra on a fresh journal starts: the witness asks IB for the day's
    executions, ib_async reports that fill on the new session as a live execution, and the
    event pump hands it to the risk actor before the recovery's resync can journal it as a
    stranger's: it is judged an execution Hydra does not know on its own session, a broker
    anomaly, and trading latched HALTED (every later start too). Now: a stranger's execution
    (it carries the other journal's id), trading ACTIVE."""
    async with open_ib_hydra(served_now, tmp_path / "other.sqlite") as engine:
        handle = await engine.submit(OrderIntent(contract=OATS, side=Side.BUY, quantity=1,
                                                 policy=Policy.CROSS, intent_id="theirs"))
        assert (await handle.wait_done()).filled == 1
    path = tmp_path / "mine.sqlite"
    settings = attrs.evolve(FAST.broker, port=served_now.gateway.port)
    async with open_ib_broker(settings) as broker:
        async with open_hydra(attrs.evolve(FAST, broker=settings), broker,
                              journal_path=path) as engine:
            await trio.sleep(0.5)
            state = engine.statistics().trading_state.value
    notes = [p["what"] for _, kind, p in Journal.open_read_only(path).events()
             if kind.value == "note"]
    anomalies = [p.get("problems") or p for _, kind, p in Journal.open_read_only(path).events()
                 if kind.value == "note" and p["what"] == "broker_anomaly"]
    assert (state, "broker_anomaly" in notes) == ("ACTIVE", False), anomalies
