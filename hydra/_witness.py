"""The broker as the journal's witness, heard once at start (before recovery).

The broker's working orders, today's executions and its orders completed today are judged by
the pure core (`hydra._core._witness`): when the broker knows orders or executions of this
journal that the journal does not, the journal is behind and Hydra refuses to start
(`JournalBehindError`) rather than send again what was sent, unless told to adopt them
(``adopt_unknown``): then each is journaled with a note, left to the trader (never managed,
never cancelled), and reported. Another program's working orders are reported as strangers and
left alone. This journal's orders the broker completed today that the journal lost are
journaled as seen (``unknown_completed_order`` notes), so the journal again knows every id it
sent; an intent the journal lost whose orders all ended is journaled as interrupted, with its
reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import structlog
import trio

from ._core._witness import Testimony, hear_witness
from ._enums import NoteKind
from ._errors import JournalBehindError
from ._ids import ClientOrderId, IntentId, JournalId, intent_id_of
from ._journal_actor import JournalClient
from ._journal_calls import HasIntent, KnownExecutionIds, KnownOrderIds
from ._messages import EngineEvent, ReconcileDifference
from ._orders import Fill
from ._schedule import trading_day_start
from .brokers import MarketView

log = structlog.get_logger()


async def hear_broker(
    broker: MarketView, journal: JournalClient, *, journal_id: JournalId, adopt_unknown: bool,
    now: dt.datetime, publish: trio.MemorySendChannel[EngineEvent],
) -> Testimony:
    """Ask the broker what it holds for this journal; refuse a journal behind it, or (with
    ``adopt_unknown``) journal and report what it did not know. Strangers are reported."""
    working = await broker.open_orders()
    executions = await broker.executions_since(trading_day_start(now))
    completed = await broker.completed_orders()
    testimony = hear_witness(
        journal_id, working=[o.client_order_id for o in working], executions=executions,
        completed=completed,
        known_orders=await journal.ask(KnownOrderIds()),
        known_executions=await journal.ask(KnownExecutionIds()))
    if testimony.behind and not adopt_unknown:
        log.error("journal_behind", orders=list(testimony.unknown_orders),
                  executions=[f.execution_id for f in testimony.unknown_executions])
        raise JournalBehindError(orders=len(testimony.unknown_orders),
                                 executions=len(testimony.unknown_executions))
    # Judged before any note below makes their intents known to the journal.
    lost = [i for i in sorted(testimony.ended_intents) if not await journal.ask(HasIntent(i))]
    for coid in testimony.unknown_orders:
        await journal.record_note(NoteKind.UNKNOWN_ORDER, client_order_id=coid,
                                  intent_id=intent_id_of(coid), left_to="the trader")
        _report(publish, coid, "working at the broker with this journal's id, unknown to the "
                "journal: adopted as a stranger, left to the trader")
    for fill in testimony.unknown_executions:
        await journal.record_note(NoteKind.UNKNOWN_EXECUTION, execution_id=fill.execution_id,
                                  client_order_id=fill.client_order_id,
                                  intent_id=intent_id_of(fill.client_order_id), fill=fill)
        _report(publish, fill.client_order_id, f"execution {fill.execution_id} at the broker "
                "with this journal's id, unknown to the journal: adopted as a stranger")
    for coid in testimony.unknown_completed:
        await journal.record_note(NoteKind.UNKNOWN_COMPLETED_ORDER, client_order_id=coid,
                                  intent_id=intent_id_of(coid))
        log.warning("unknown_completed_order", client_order_id=coid)
    for intent_id in lost:
        await _record_lost_intent(journal, publish, intent_id, executions)
    for coid in testimony.strangers:
        await journal.record_note(NoteKind.STRANGER_ORDER, client_order_id=coid)
        _report(publish, coid, "working at the broker, placed by another program: left alone")
    return testimony


async def _record_lost_intent(
    journal: JournalClient, publish: trio.MemorySendChannel[EngineEvent], intent_id: IntentId,
    executions: Sequence[Fill],
) -> None:
    """End an intent the journal lost whose orders all ended at the broker: journaled as
    interrupted, with what the broker filled of it today, never resumed."""
    fills = [f for f in executions if intent_id_of(f.client_order_id) == intent_id]
    # What it bought or sold: the side of its first execution (a bracket's exits go back).
    filled = sum(f.quantity for f in fills if f.side is fills[0].side) if fills else 0
    reason = (f"the journal had lost intent {intent_id}; its orders had ended at the broker "
              f"({filled} filled today): not resumed")
    await journal.record_note(NoteKind.INTENT_INTERRUPTED, intent_id=intent_id, filled=filled,
                              reason=reason)
    log.warning("intent_interrupted", intent_id=intent_id, filled=filled, reason=reason)
    publish.send_nowait(ReconcileDifference(client_order_id=None, description=reason))


def _report(publish: trio.MemorySendChannel[EngineEvent], coid: ClientOrderId,
            description: str) -> None:
    log.warning("reconcile_difference", client_order_id=coid, description=description)
    publish.send_nowait(ReconcileDifference(client_order_id=coid, description=description))
