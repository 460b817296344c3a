"""The small closed vocabularies of trading: side, order type, time in force, statuses, and
the kinds of note the journal holds."""

from __future__ import annotations

import enum

from ._errors import UnsupportedOrderTypeError


class Side(enum.Enum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: signed quantity = sign × quantity."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(enum.Enum):
    """The only order types Hydra can express. There is deliberately no market order."""

    LIMIT = "LMT"
    STOP_LIMIT = "STP LMT"

    @classmethod
    def parse(cls, text: str) -> OrderType:
        """The order type named by IB's code; anything else (``MKT`` above all) is refused."""
        for member in cls:
            if member.value == text:
                return member
        raise UnsupportedOrderTypeError(
            f"order type {text!r} is not supported: Hydra sends only LMT and STP LMT orders"
        )


class TimeInForce(enum.Enum):
    DAY = "DAY"
    GTC = "GTC"
    IOC = "IOC"


class OrderStatus(enum.Enum):
    """Where one child order stands, as a report shows it."""

    PENDING = "PENDING"  # journaled, not yet acknowledged by the broker
    WORKING = "WORKING"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    BLOCKED = "BLOCKED"  # refused by the risk actor; never reached the broker
    LEFT_WORKING = "LEFT_WORKING"  # still at the broker on purpose when Hydra stopped

    @property
    def is_final(self) -> bool:
        return self not in (OrderStatus.PENDING, OrderStatus.WORKING)


class TradingState(enum.Enum):
    """The risk actor's gate: all orders, only position-reducing orders, or none."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class Policy(enum.Enum):
    """How an intent is worked: Hydra's routing or a fixed baseline for comparison."""

    AUTO = "auto"  # by participation: patience below the TWAP threshold, TWAP at or above it
    PATIENCE = "patience"
    TWAP = "twap"
    CROSS = "cross"  # a marketable limit at the far touch at once
    PASSIVE = "passive"  # rest at the near touch and never step


class NoteKind(enum.StrEnum):
    """What a ``note`` event is about (its payload's ``what``): every note Hydra writes."""

    ENGINE_STARTED = "engine_started"
    ENGINE_STOPPED = "engine_stopped"
    UNRECOVERABLE_ERROR = "unrecoverable_error"
    SCHEMA_MIGRATED = "schema_migrated"
    INTENT_FINISHED = "intent_finished"
    INTENT_INTERRUPTED = "intent_interrupted"
    INTENT_RESUMED = "intent_resumed"  # a restart carried on with an interrupted intent
    CANCEL_REQUESTED = "cancel_requested"  # journaled before the cancel goes to the broker
    ROLL_STARTED = "roll_started"  # a roll's close and open intents, and the target month
    ROLL_INTERRUPTED = "roll_interrupted"  # a restart found a roll whose open never started
    ROLL_OPEN_SKIPPED = "roll_open_skipped"  # a target's roll opened nothing: none at restart
    DELIVERY_WINDOW = "delivery_window"  # at start, each trading day: a position near delivery
    FRONT_MONTHS = "front_months"  # at start, on a change: the month an intent naming none trades
    RISK_STATE = "risk_state"
    RISK_STATE_RESTORED = "risk_state_restored"
    TRADING_DAY = "trading_day"
    TRADING_STATE = "trading_state"
    BREAKER_TRIPPED = "breaker_tripped"
    KILL_SWITCH = "kill_switch"
    MANUAL = "manual"  # a trader's explicit latch of a trading state
    RESUME = "resume"
    BROKER_ANOMALY = "broker_anomaly"
    BROKER_ERROR = "broker_error"
    STRANGER_EXECUTION = "stranger_execution"
    STRANGER_ORDER = "stranger_order"  # another program's order working at the broker at start
    UNKNOWN_ORDER = "unknown_order"  # this journal's order it did not know (--adopt-unknown)
    UNKNOWN_EXECUTION = "unknown_execution"  # an execution of such an order (--adopt-unknown)
    UNKNOWN_COMPLETED_ORDER = "unknown_completed_order"  # ours, ended at the broker, not known
    ORDER_UNMANAGED = "order_unmanaged"
    MODIFY = "modify"
    LADDER_STAGE = "ladder_stage"  # an order's ladder began a stage: when each stage left ends
    COMMISSION = "commission"
    SESSION_DOWN = "session_down"
    RECONNECTED = "reconnected"
    RECONCILE_DIFFERENCE = "reconcile_difference"
    HOOK_ERROR = "hook_error"  # a strategy hook call raised, timed out or answered badly
    HOOK_INTENT = "hook_intent"  # written before it is submitted: the hook an intent is for
    STRATEGY_HALTED = "strategy_halted"  # the hook failed too often in a row: trading halted
    CONTROL_APPLIED = "control_applied"  # an inbox kill or resume line took effect (by id)
    JOURNAL_WRITE_FAILED = "journal_write_failed"  # written once the journal accepts writes
    MODEL_VERSION = "model_version"  # a slippage model version became current (v1, promotions)
    SLIPPAGE_PREDICTED = "slippage_predicted"  # an intent's prediction, with its model version
    HEAL_DETECTED = "heal_detected"  # a healing cycle's drift check
    HEAL_HYPOTHESIS = "heal_hypothesis"  # what the cycle says changed
    HEAL_EXPERIMENT = "heal_experiment"  # the candidate and both versions on held-out fills
    HEAL_DECISION = "heal_decision"  # the candidate promoted or rolled back
