"""What the risk book is told, what it answers, and the effects it asks its shell to carry out.

All frozen values. The book never touches a channel, a file or a socket: where an effect names
the actor to tell (``owner``) or the caller to answer (``reply``), that is an opaque handle the
shell gave it. Effects are carried out in the order they are returned: a journal effect before
the transmit that follows it is the write-ahead rule.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from .._contracts import ContractSpec
from .._enums import NoteKind, OrderStatus, TradingState
from .._ids import BrokerOrderId, ClientOrderId, ExecutionId, IntentId
from .._orders import Fill, OrderRequest, TwapPart
from ._risk_checks import Denial

Handle = Any
"""A channel of the shell's (an order's owner, a caller awaiting an answer): opaque here."""

# --- answers to the actor that asked ----------------------------------------------------------


@attrs.frozen(kw_only=True)
class Sent:
    """The request passed every check, was journaled and went to the broker (unless dry)."""

    dry: bool = False


@attrs.frozen(kw_only=True)
class Blocked:
    """The request was refused; nothing reached the broker."""

    denials: tuple[Denial, ...]

    @property
    def reason(self) -> str:
        return "; ".join(denial.message for denial in self.denials)


OrderAnswer = Sent | Blocked


# --- told to the book: order entry ----------------------------------------------------------


@attrs.frozen(kw_only=True)
class NewOrder:
    """Check ``request``; if it passes, journal it and transmit it; answer once it is sent.
    ``reference_price`` is the usable mid the collar is measured from (None: none usable)."""

    request: OrderRequest
    arrival_mid: Decimal
    predicted_bps: Decimal | None
    owner: Handle
    reply: Handle
    reference_price: Decimal | None
    part: TwapPart | None = None  # journaled with the order (`JournalOrder`)


@attrs.frozen(kw_only=True)
class Modify:
    """Move a working order's limit price, after the price and state checks of a new order."""

    client_order_id: ClientOrderId
    limit_price: Decimal
    reply: Handle
    reference_price: Decimal | None


@attrs.frozen(kw_only=True)
class Cancel:
    client_order_id: ClientOrderId


@attrs.frozen(kw_only=True)
class Adopt:
    """An order already at the broker (found on restart); its events go to ``owner``."""

    request: OrderRequest
    filled: int
    arrival_mid: Decimal
    owner: Handle


@attrs.frozen(kw_only=True)
class CheckIntent:
    """Could ``signed_quantity`` more of ``symbol`` ever fit the position limit (against the
    position alone)? Answered
    `Sent` (it fits) or `Blocked`; nothing is recorded or sent."""

    symbol: str
    signed_quantity: int
    reply: Handle


@attrs.frozen(kw_only=True)
class KeepWorking:
    """Its intent is over and left ``client_order_id`` working on purpose: leaving Hydra
    does not cancel it (it still counts against every limit while Hydra runs)."""

    client_order_id: ClientOrderId


@attrs.frozen(kw_only=True)
class AllowFlatten:
    """Orders of ``intent_id`` flatten a position on the trader's explicit word: in HALTED
    they may still go out when they reduce the position."""

    intent_id: IntentId


@attrs.frozen(kw_only=True)
class KillSwitch:
    """Halt, latch the kill, cancel every working entry order; protective stops stay.
    ``cause`` names the latch and its note (the trader's kill, or the runner's halt when the
    strategy hook keeps failing)."""

    reason: str
    cause: NoteKind = NoteKind.KILL_SWITCH


@attrs.frozen(kw_only=True)
class Resume:
    """Clear the kill and every latched breaker (an explicit, journaled act of the trader)."""

    reason: str


@attrs.frozen(kw_only=True)
class Latch:
    """Latch ``state`` by hand (REDUCING or HALTED) until a resume."""

    state: TradingState
    reason: str


@attrs.frozen(kw_only=True)
class Marks:
    """Current usable mids by symbol, and the trading day it is; a new day resets the day's
    baseline (start-of-day equity, realized PnL, worst trade)."""

    mids: Mapping[str, Decimal]
    day: str  # ISO date of the exchange's trading day


class Action(enum.Enum):
    PLACE = "place"
    MODIFY = "modify"
    CANCEL = "cancel"


class Outcome(enum.Enum):
    SENT = "sent"
    WITHDRAWN = "withdrawn"  # a cancel overtook it before it was sent: never sent
    LINK_DOWN = "link down"  # the broker refused the call itself: never sent


@attrs.frozen(kw_only=True)
class Dispatched:
    """What the sender did with one transmit."""

    client_order_id: ClientOrderId
    action: Action
    outcome: Outcome
    limit_price: Decimal | None = None  # of a modification
    error: str | None = None


@attrs.frozen(kw_only=True)
class Finalize:
    """Hydra is leaving: cancel every working order (or leave it, when ``leave_working``)."""

    leave_working: bool


@attrs.frozen(kw_only=True)
class Abandon:
    """The finalizer's deadline passed: every order still working is now unmanaged."""

    reason: str


@attrs.frozen(kw_only=True)
class JournalFailed:
    """A journal write failed (``problem``: "disk full", ...). ``client_order_id``: the order
    whose write-ahead it was, so never sent (``placing``: its placement, else a
    modification); None when the write was of something that already happened."""

    problem: str
    client_order_id: ClientOrderId | None = None
    placing: bool = False


# --- told to the book: the broker -----------------------------------------------------------


@attrs.frozen(kw_only=True)
class Acked:
    client_order_id: ClientOrderId
    broker_order_id: BrokerOrderId


@attrs.frozen(kw_only=True)
class StatusReported:
    client_order_id: ClientOrderId
    status: OrderStatus
    reason: str | None = None


@attrs.frozen(kw_only=True)
class Executed:
    """A new execution (the shell has journaled it once by execution id). ``known``: the
    journal has its order; ``live``: it came on the session's own event stream (which carries
    only this session's orders), not from a resync's account-wide list; ``contract``: the
    contract it traded, when known; ``restart``: journaled by a start's resync (it happened
    while Hydra did not listen, or the journal had lost it)."""

    fill: Fill
    known: bool
    live: bool
    contract: ContractSpec | None
    restart: bool = False


@attrs.frozen(kw_only=True)
class ExecutionConflict:
    """An execution whose id the journal already holds, reported with a different price,
    quantity, side or time (a restarted gateway reusing ids, say): a broker anomaly, never a
    duplicate to drop. ``stored`` is the journaled fill, ``reported`` the new one (not booked)."""

    stored: Fill
    reported: Fill

    @property
    def differences(self) -> tuple[str, ...]:
        """The fields that differ, each as ``field stored → reported``."""
        return conflicting_fields(self.stored, self.reported)


def conflicting_fields(stored: Fill, reported: Fill) -> tuple[str, ...]:
    """Where two reports of one execution id disagree (price, quantity, side, time); empty
    for a true duplicate."""
    return tuple(f"{name} {getattr(stored, name)} → {getattr(reported, name)}"
                 for name in ("price", "quantity", "side", "time")
                 if getattr(stored, name) != getattr(reported, name))


@attrs.frozen(kw_only=True)
class CommissionAdded:
    execution_id: ExecutionId
    commission: Decimal


@attrs.frozen(kw_only=True)
class LinkLost:
    reason: str


@attrs.frozen(kw_only=True)
class Resync:
    """The broker after a reconnect: the orders still working, and positions by symbol.
    ``restart``: the first resync of a start, after which the book takes the broker's
    positions (any difference reported) and journals its state, the day's new baseline."""

    working: frozenset[ClientOrderId]
    positions: Mapping[str, int] | None
    restart: bool = False


RiskInput = (
    NewOrder
    | ExecutionConflict
    | Modify
    | Cancel
    | Adopt
    | CheckIntent
    | KeepWorking
    | AllowFlatten
    | KillSwitch
    | Resume
    | Latch
    | Marks
    | Dispatched
    | Finalize
    | Abandon
    | JournalFailed
    | Acked
    | StatusReported
    | Executed
    | CommissionAdded
    | LinkLost
    | Resync
)


# --- effects ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Reply:
    reply: Handle
    answer: OrderAnswer


@attrs.frozen(kw_only=True)
class Forward:
    """Pass the broker event being handled to ``owner``."""

    owner: Handle


@attrs.frozen(kw_only=True)
class TellStatus:
    """Tell ``owner`` its order reached ``status`` (the broker did not say so itself)."""

    owner: Handle
    client_order_id: ClientOrderId
    status: OrderStatus
    filled: int
    remaining: int
    reason: str


@attrs.frozen(kw_only=True)
class TellCancel:
    """Tell ``owner`` where its order's cancel stands: ``held`` for the broker link (not sent:
    the session is down; it goes out after the reconnect's resync, which also tells what
    filled meanwhile), or sent now, after the resync, having been held."""

    owner: Handle
    client_order_id: ClientOrderId
    held: bool


@attrs.frozen(kw_only=True)
class JournalOrder:
    request: OrderRequest
    dry: bool
    part: TwapPart | None = None


@attrs.frozen(kw_only=True)
class JournalBlocked:
    request: OrderRequest
    denials: tuple[Denial, ...]


@attrs.frozen(kw_only=True)
class JournalAck:
    client_order_id: ClientOrderId
    broker_order_id: BrokerOrderId
    intent_id: IntentId | None


@attrs.frozen(kw_only=True)
class JournalStatus:
    client_order_id: ClientOrderId
    status: OrderStatus
    reason: str | None
    intent_id: IntentId | None


@attrs.frozen(kw_only=True)
class JournalNote:
    """A note for the journal (and the log, at ``warning`` when ``alarm``)."""

    what: NoteKind = attrs.field(validator=attrs.validators.instance_of(NoteKind))
    details: Mapping[str, Any] = attrs.field(factory=dict)
    alarm: bool = False


@attrs.frozen(kw_only=True)
class Transmit:
    request: OrderRequest


@attrs.frozen(kw_only=True)
class TransmitModify:
    client_order_id: ClientOrderId
    limit_price: Decimal


@attrs.frozen(kw_only=True)
class TransmitCancel:
    client_order_id: ClientOrderId


@attrs.frozen(kw_only=True)
class Withdraw:
    """Do not send ``client_order_id`` if it is still waiting to be sent."""

    client_order_id: ClientOrderId


@attrs.frozen(kw_only=True)
class StateChanged:
    state: TradingState
    reason: str


@attrs.frozen(kw_only=True)
class LinkChanged:
    up: bool
    reason: str


@attrs.frozen(kw_only=True)
class FillBooked:
    fill: Fill
    intent_id: IntentId | None


@attrs.frozen(kw_only=True)
class Difference:
    """The broker and Hydra disagree; reported, never silently overwritten."""

    client_order_id: ClientOrderId | None
    description: str


Effect = (
    Reply | Forward | TellStatus | TellCancel | JournalOrder | JournalBlocked | JournalAck
    | JournalStatus | JournalNote | Transmit | TransmitModify | TransmitCancel | Withdraw
    | StateChanged | LinkChanged | FillBooked | Difference
)
