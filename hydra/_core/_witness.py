"""The broker as the journal's witness: what its orders and executions say about the journal.

Write-ahead means the journal knows every order before the broker does. So an order working at
the broker, or an execution of the trading day, that carries this journal's id in its client
order id but is unknown to the journal says the journal is *behind* (a lost ``-wal`` file, a
restored backup): `Testimony.behind`. Orders without this journal's id (another program's, or
another journal's) are strangers: reported, never touched. Every intent id the broker shows
under this journal's id (working, completed today or executed) counts as submitted, so nothing
is sent for it again. Completed orders unknown to the journal do not make it behind (they hold
no position and no working risk); they are journaled as seen, so that an intent's next order
is numbered above them and no client order id is sent twice.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from .._ids import ClientOrderId, ExecutionId, IntentId, JournalId, intent_id_of, journal_id_of
from .._orders import Fill


@attrs.frozen(kw_only=True)
class Testimony:
    """What the broker showed at start, judged against the journal."""

    unknown_orders: tuple[ClientOrderId, ...] = ()  # ours, working, unknown to the journal
    unknown_executions: tuple[Fill, ...] = ()  # ours, today, for orders the journal does not know
    unknown_completed: tuple[ClientOrderId, ...] = ()  # ours, ended today, unknown
    strangers: tuple[ClientOrderId, ...] = ()  # working, not ours, unknown to the journal
    seen_intents: frozenset[IntentId] = frozenset()  # every intent the broker showed as ours

    @property
    def behind(self) -> bool:
        return bool(self.unknown_orders or self.unknown_executions)

    @property
    def ended_intents(self) -> frozenset[IntentId]:
        """Intents of the completed orders the journal did not know, with nothing of theirs
        left working: if the journal lost the intent too, it ended while Hydra did not look."""
        working = {intent_id_of(c) for c in self.unknown_orders}
        return frozenset(intent_id_of(c) for c in self.unknown_completed) - working


def hear_witness(
    journal_id: JournalId, *, working: Iterable[ClientOrderId], executions: Iterable[Fill],
    completed: Iterable[ClientOrderId], known_orders: frozenset[ClientOrderId],
    known_executions: frozenset[ExecutionId],
) -> Testimony:
    """Judge the broker's ``working`` orders, today's ``executions`` and the orders it
    ``completed`` today against the journal's ``known_orders`` and ``known_executions``."""
    working, executions = tuple(working), tuple(executions)
    ours = [coid for coid in working if journal_id_of(coid) == journal_id]
    our_fills = [f for f in executions if journal_id_of(f.client_order_id) == journal_id]
    ours_done = [c for c in dict.fromkeys(completed)
                 if journal_id_of(c) == journal_id and c not in ours]
    seen = [*ours, *ours_done, *(f.client_order_id for f in our_fills)]
    return Testimony(
        unknown_orders=tuple(c for c in ours if c not in known_orders),
        unknown_executions=tuple(
            f for f in our_fills
            if f.client_order_id not in known_orders and f.execution_id not in known_executions),
        unknown_completed=tuple(c for c in ours_done if c not in known_orders),
        strangers=tuple(c for c in working
                        if journal_id_of(c) != journal_id and c not in known_orders),
        seen_intents=frozenset(intent_id_of(c) for c in seen),
    )
