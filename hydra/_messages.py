"""Messages between Hydra's actors, grouped by direction. All are frozen attrs values; a reply
channel inside a message is how an actor answers the one that asked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

import attrs
import trio

from ._core._risk_messages import Action, Dispatched
from ._core._risk_messages import Blocked as Blocked  # re-exported: workers read answers here
from ._core._risk_messages import OrderAnswer as OrderAnswer
from ._core._risk_messages import Sent as Sent
from ._enums import NoteKind, OrderStatus, TradingState
from ._ids import ClientOrderId, ExecutionId, IntentId
from ._orders import Fill, OrderRequest, TwapPart
from ._reports import ExecutionReport
from .brokers import BrokerEvent, OpenOrder

# --- answers from the risk actor: `Sent` or `Blocked` (hydra._core._risk_messages) -----------


# --- from the risk actor to an order's owner, beside the broker's events ------------------------


@attrs.frozen(kw_only=True)
class CancelHeld:
    """The order's cancel cannot go out: the broker link is down. The risk actor sends it
    after the reconnect's resync, which also tells what filled meanwhile; until then the
    order may still fill at the broker, and is still its owner's."""

    client_order_id: ClientOrderId


@attrs.frozen(kw_only=True)
class CancelReleased:
    """The held cancel went out after the resync: its confirmation is awaited as any cancel's."""

    client_order_id: ClientOrderId


OwnerEvent = BrokerEvent | CancelHeld | CancelReleased
"""What an order's owner is told about its order: the broker's events and its cancel's hold."""


# --- to the risk actor: order entry (from order actors and the engine) --------------------------


@attrs.frozen(kw_only=True)
class PlaceOrder:
    """Check, journal (write-ahead) and send ``request``; route its events to ``owner``.

    The risk actor takes the reference price for the collar from the broker's quote itself."""

    request: OrderRequest
    arrival_mid: Decimal  # of the intent, for each fill's actual slippage
    predicted_bps: Decimal | None
    owner: trio.MemorySendChannel[OwnerEvent]
    reply: trio.MemorySendChannel[OrderAnswer]
    part: TwapPart | None = None  # of its TWAP's schedule: journaled with the order


@attrs.frozen(kw_only=True)
class ModifyOrder:
    """Move a working order's limit price, after the same price checks as a new order."""

    client_order_id: ClientOrderId
    limit_price: Decimal
    reply: trio.MemorySendChannel[OrderAnswer]


@attrs.frozen(kw_only=True)
class CancelOrder:
    """Cancel a working order. Cancels always pass the risk checks.

    ``ladder_end``: the order's ladder ran out (its intent goes on, with a later slice or
    order, or ends as planned); otherwise the cancel stops the intent, and a restart completes
    it instead of resuming the intent."""

    client_order_id: ClientOrderId
    ladder_end: bool = False


@attrs.frozen(kw_only=True)
class StageBegun:
    """An order's ladder began a stage (at its placement, a step, a chase, a resumed ladder):
    ``stages`` are the stages left, each named as the screens show it with the Trio time it
    ends, the one begun first; ``slice`` is which of its TWAP's slices it works (k of n).
    Journaled and published, so the screens show what the ladder does."""

    client_order_id: ClientOrderId
    intent_id: IntentId
    stages: tuple[tuple[str, float], ...]
    slice: tuple[int, int] | None = None


@attrs.frozen(kw_only=True)
class AdoptOrder:
    """Route the events of an order already at the broker (found on restart) to ``owner``."""

    order: OpenOrder
    arrival_mid: Decimal
    owner: trio.MemorySendChannel[OwnerEvent]


@attrs.frozen(kw_only=True)
class SetTradingState:
    state: TradingState
    reason: str


@attrs.frozen(kw_only=True)
class Kill:
    """Halt trading and cancel every working entry order (protective stops stay); ``done`` is
    set once the cancels are queued."""

    reason: str
    done: trio.Event
    cause: NoteKind = NoteKind.KILL_SWITCH  # or STRATEGY_HALTED: see `KillSwitch`


@attrs.frozen(kw_only=True)
class ResumeTrading:
    """Clear the kill and every latched breaker; ``done`` is set once it is journaled."""

    reason: str
    done: trio.Event


@attrs.frozen(kw_only=True)
class CheckIntentFits:
    """Could ``signed_quantity`` more of ``symbol`` ever fit the position limit, against the
    position alone? (asked at submit)"""

    symbol: str
    signed_quantity: int
    reply: trio.MemorySendChannel[OrderAnswer]


@attrs.frozen(kw_only=True)
class FlattenIntent:
    """The orders of ``intent_id`` flatten a position on the trader's word (allowed when
    HALTED, as long as they reduce the position)."""

    intent_id: IntentId


@attrs.frozen(kw_only=True)
class LeaveWorking:
    """``client_order_id`` stays working at the broker on purpose (its intent is over)."""

    client_order_id: ClientOrderId


@attrs.frozen(kw_only=True)
class Settle:
    """Hydra is leaving: cancel every working order (or leave it, by ``leave_working``);
    ``done`` is set once none is working."""

    leave_working: bool
    done: trio.Event


@attrs.frozen(kw_only=True)
class GiveUp:
    """The finalizer is done waiting: journal every order still working as unmanaged (with
    ``reason``, when there is one) and answer with their client order ids."""

    reason: str | None
    reply: trio.MemorySendChannel[list[str]]


# --- to the risk actor: from the connection supervisor ----------------------------------------


@attrs.frozen(kw_only=True)
class SessionDown:
    reason: str


@attrs.frozen(kw_only=True)
class Resynced:
    """The broker's state after a reconnect: executions since the last journaled one and the
    orders still working. The risk actor journals missed fills once and routes them."""

    fills: tuple[Fill, ...]
    open_orders: tuple[OpenOrder, ...]
    positions: Mapping[str, int] | None = None  # symbol → contracts at the broker, to compare
    done: trio.Event | None = None  # set once every fill is journaled (a restart waits on it)
    restart: bool = False  # a start's: the book then takes the broker's positions


@attrs.frozen(kw_only=True)
class FromBroker:
    """One event from the broker's stream."""

    event: BrokerEvent


RiskMessage = (
    PlaceOrder
    | ModifyOrder
    | CancelOrder
    | StageBegun
    | AdoptOrder
    | SetTradingState
    | Kill
    | ResumeTrading
    | CheckIntentFits
    | FlattenIntent
    | LeaveWorking
    | Settle
    | GiveUp
    | Resynced
    | FromBroker
    | Dispatched
)


# --- from the engine's actors to its subscribers ----------------------------------------------


@attrs.frozen(kw_only=True)
class TradingStateChanged:
    state: TradingState
    reason: str


@attrs.frozen(kw_only=True)
class SessionChanged:
    up: bool
    reason: str


@attrs.frozen(kw_only=True)
class FillRecorded:
    """A new fill was journaled (duplicates never get here)."""

    fill: Fill
    intent_id: str | None


@attrs.frozen(kw_only=True)
class OrderSent:
    """The sender handed an order's placement, modification or cancel to the broker (what
    the broker made of it comes later, as its own events)."""

    client_order_id: ClientOrderId
    intent_id: IntentId
    action: Action
    limit_price: Decimal | None  # the order's limit as sent (a cancel: as it was)


@attrs.frozen(kw_only=True)
class StageRecorded:
    """An order's ladder began ``stage`` (journaled); its next step is due at ``next_step_at``
    (the ladder's end, at its last stage)."""

    client_order_id: ClientOrderId
    intent_id: IntentId
    stage: str
    next_step_at: dt.datetime


@attrs.frozen(kw_only=True)
class OrderStatusRecorded:
    """An order's new status was journaled (working, filled, cancelled, rejected, ...)."""

    client_order_id: ClientOrderId
    intent_id: IntentId | None
    status: OrderStatus
    reason: str | None


@attrs.frozen(kw_only=True)
class CommissionRecorded:
    """The commission of a journaled fill was journaled."""

    execution_id: ExecutionId
    client_order_id: ClientOrderId
    commission: Decimal


@attrs.frozen(kw_only=True)
class ReconcileDifference:
    """The broker and the journal disagree; reported, never silently overwritten."""

    client_order_id: ClientOrderId | None
    description: str


@attrs.frozen(kw_only=True)
class IntentFinished:
    report: ExecutionReport


EngineEvent = (
    TradingStateChanged | SessionChanged | FillRecorded | OrderSent | StageRecorded
    | OrderStatusRecorded | CommissionRecorded | ReconcileDifference | IntentFinished
)
