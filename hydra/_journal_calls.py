"""The journal actor's protocol: one message type per operation, each applied to the journal.

Other actors never hand the journal actor code to run: they send one of these values, the
actor applies it (in arrival order, writes and queries alike) and sends back its outcome. A
message is plain data, so what an actor asked of the journal can be logged, compared in a test
and read in a traceback. Writes are sent by `JournalClient`'s ``record_*`` methods; queries
through `JournalClient.ask`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs

from ._core._risk_state import Booked
from ._enums import NoteKind, OrderStatus
from ._ids import BrokerOrderId, ClientOrderId, ExecutionId, IntentId
from ._journal import Journal, JournaledOrder
from ._orders import Fill, OrderIntent, OrderRequest, TwapPart
from ._settings import SlippageSettings

if TYPE_CHECKING:
    from ._healing import HealingCycle

T_co = TypeVar("T_co", covariant=True)


class JournalCall(Protocol[T_co]):
    """One operation on the journal, and what it answers."""

    def apply(self, journal: Journal) -> T_co: ...


# --- writes ------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RecordIntent:
    intent: OrderIntent
    arrival_mid: Decimal
    predicted_bps: Decimal | None

    def apply(self, journal: Journal) -> None:
        journal.record_intent(self.intent, arrival_mid=self.arrival_mid,
                              predicted_bps=self.predicted_bps)


@attrs.frozen(kw_only=True)
class RecordOrder:
    request: OrderRequest
    dry: bool = False
    part: TwapPart | None = None

    def apply(self, journal: Journal) -> None:
        journal.record_order(self.request, dry=self.dry, part=self.part)


@attrs.frozen(kw_only=True)
class RecordAck:
    client_order_id: ClientOrderId
    broker_order_id: BrokerOrderId
    intent_id: str | None

    def apply(self, journal: Journal) -> None:
        journal.record_ack(self.client_order_id, self.broker_order_id, intent_id=self.intent_id)


@attrs.frozen(kw_only=True)
class RecordStatus:
    client_order_id: ClientOrderId
    status: OrderStatus
    reason: str | None
    intent_id: str | None

    def apply(self, journal: Journal) -> None:
        journal.record_status(self.client_order_id, self.status, reason=self.reason,
                              intent_id=self.intent_id)


@attrs.frozen(kw_only=True)
class RecordFill:
    """Answers False (and records nothing) for an execution journaled before."""

    fill: Fill
    intent_id: IntentId | None
    predicted_bps: Decimal | None
    actual_bps: Decimal | None
    fill_prediction: Mapping[str, str] | None = None

    def apply(self, journal: Journal) -> bool:
        return journal.record_fill(self.fill, intent_id=self.intent_id,
                                   predicted_bps=self.predicted_bps, actual_bps=self.actual_bps,
                                   fill_prediction=self.fill_prediction)


@attrs.frozen(kw_only=True)
class RecordBlocked:
    request: OrderRequest
    denials: tuple[str, ...]

    def apply(self, journal: Journal) -> None:
        journal.record_blocked(self.request, denials=list(self.denials))


@attrs.frozen(kw_only=True)
class RecordNote:
    what: NoteKind
    details: dict[str, Any]

    def apply(self, journal: Journal) -> None:
        journal.record_note(self.what, **self.details)


# --- queries -----------------------------------------------------------------------------------


@attrs.frozen
class HasIntent:
    intent_id: IntentId

    def apply(self, journal: Journal) -> bool:
        return journal.has_intent(self.intent_id)


@attrs.frozen
class ControlApplied:
    request_id: str

    def apply(self, journal: Journal) -> bool:
        return journal.control_applied(self.request_id)


@attrs.frozen
class AdoptedAsUnknown:
    client_order_id: ClientOrderId

    def apply(self, journal: Journal) -> bool:
        return journal.adopted_as_unknown(self.client_order_id)


@attrs.frozen
class OrderRequestOf:
    client_order_id: ClientOrderId

    def apply(self, journal: Journal) -> OrderRequest | None:
        return journal.order_request(self.client_order_id)


@attrs.frozen
class PredictionOf:
    """The intent's ``slippage_predicted`` note (None: it has none)."""

    intent_id: IntentId

    def apply(self, journal: Journal) -> dict[str, Any] | None:
        return journal.intent_prediction(self.intent_id)


@attrs.frozen
class FillOf:
    execution_id: ExecutionId

    def apply(self, journal: Journal) -> Fill | None:
        return journal.fill_of(self.execution_id)


@attrs.frozen
class FillsOfOrder:
    client_order_id: ClientOrderId

    def apply(self, journal: Journal) -> list[Fill]:
        return [f for f in journal.fills() if f.client_order_id == self.client_order_id]


@attrs.frozen
class Notes:
    what: NoteKind

    def apply(self, journal: Journal) -> list[dict[str, Any]]:
        return journal.notes(self.what)


@attrs.frozen
class NotesAt:
    what: NoteKind
    intent_id: IntentId | None = None  # only that intent's notes

    def apply(self, journal: Journal) -> list[tuple[dt.datetime, dict[str, Any]]]:
        return journal.notes_at(self.what, intent_id=self.intent_id)


@attrs.frozen
class LatestNote:
    what: NoteKind

    def apply(self, journal: Journal) -> dict[str, Any] | None:
        return journal.latest_note(self.what)


@attrs.frozen
class RiskStateAndSince:
    """The newest ``risk_state`` note and what was booked after it (a restart replays it)."""

    def apply(self, journal: Journal) -> tuple[dict[str, Any] | None, list[Booked]]:
        return journal.risk_state_and_since()


@attrs.frozen
class LiveOrders:
    def apply(self, journal: Journal) -> list[JournaledOrder]:
        return journal.live_orders()


@attrs.frozen
class UnfinishedIntents:
    def apply(self, journal: Journal) -> list[IntentId]:
        return [intent_id for intent_id, _, _ in journal.unfinished_intents()]


@attrs.frozen
class IntentsBehind:
    def apply(self, journal: Journal) -> frozenset[IntentId]:
        return journal.intents_behind()


@attrs.frozen
class KnownOrderIds:
    def apply(self, journal: Journal) -> frozenset[ClientOrderId]:
        return journal.known_order_ids()


@attrs.frozen
class KnownExecutionIds:
    def apply(self, journal: Journal) -> frozenset[ExecutionId]:
        return journal.known_execution_ids()


@attrs.frozen
class LastFillTime:
    def apply(self, journal: Journal) -> dt.datetime | None:
        return journal.last_fill_time()


@attrs.frozen
class JournalNow:
    def apply(self, journal: Journal) -> dt.datetime:
        return journal.now()


@attrs.frozen(kw_only=True)
class HealModel:
    """One healing cycle of the slippage model over the journal, each step journaled
    (`hydra._model_journal.heal`); None when no fill is newer than the last cycle saw."""

    settings: SlippageSettings

    def apply(self, journal: Journal) -> HealingCycle | None:
        # Imported here: the cycle's statistics (scipy) take about a second to load, and an
        # engine that never heals should not pay it.
        from ._model_journal import heal

        return heal(journal, self.settings)
