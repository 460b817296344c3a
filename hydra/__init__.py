"""Hydra: patient limit-order execution for futures, on Trio.

Layers, lowest first; a module imports only from its own layer or those below it (a test
parses this map and checks every module's imports against it):
  1. _errors, _ids, _validate, _enums, _version,  vocabulary: exceptions, ids, validators,
     _holidays                                    the exchange's holidays
  2. _contracts, _quotes, _orders, _settings,     domain values and settings
     _schedule, _healing_settings
  3. _core                                        pure core: accounting, prices, slicing, risk
                                                  checks, schedules, models (no I/O, no Trio)
  4. _codec, _reports, _journal,                  storage, reports, configuration, logging,
     _journal_records, _config, _logging,         and the slippage model's healing cycle
     _audit, _journal_lock, _converter, _durable_replace,
     _journal_schema, _journal_marker, _stop_reasons,
     _journal_calls, _toml_lines, _healing, _model_store,
     _model_journal, _exchange_calendar, _journal_live,
     _ladder_notes
  5. brokers, sim                                 the Broker protocol; the simulated exchange
  6. _messages, _journal_actor, _child_order,     the actor system
     _worker_reports,
     _sender, _quote_source, _fill_prediction, _risk_actor,
     _patience, _twap_actor, _session_fit, _bracket,
     _supervisor, _publisher, _witness, _roll_legs, _recovery,
     _router, _front_months, _engine, _market_facts,
     _open_hydra
  7. ib, gateway, scenario                        IBBroker; the simulated gateway; scenarios
  8. _fill_report, _fill_plot, _gate,           fill reports, the gate, the model's reports,
     _gate_sessions, _rehearsal_journal, _inbox,  the paper runner, its status region and
     _inbox_reader, _inbox_polls, _working_view,  the dashboard (both show _working_view)
     _screen, _screen_queue, _status_region, _status,
     _strategy_hook, _runner, _model_report,
     _rehearsal_plan, _rehearsal_broker, _rehearsal,
     _session_healing, _rehearsal_week, dashboard
  9. cli, __main__                                the command line
"""

from ._bracket import BracketIntent, bracket_requests
from ._config import config_from_table, config_to_dict, load_config
from ._contracts import (
    BUILT_IN_CONTRACTS,
    LEAN_HOGS,
    OATS,
    ContractSpec,
    TradingSession,
    contract_for,
)
from ._core._backoff import backoff_delays
from ._core._ladder import LadderStage, baseline_price, ladder_price, ladder_wait
from ._core._model_versions import ModelVersion, Prediction
from ._core._positions import Position
from ._core._pricing import guard_limit, round_aggressive, round_passive
from ._core._risk_checks import AccountState, Denial, check_order, tripped_breakers
from ._core._routing import participation, route
from ._core._slippage import SlippageStats, predict_slippage_bps, reconcile, shortfall_bps
from ._core._twap import TwapPlan, plan_twap, slice_sizes
from ._engine import Engine, EngineStatistics
from ._enums import OrderStatus, OrderType, Policy, Side, TimeInForce, TradingState
from ._errors import (
    BrokerConnectionError,
    BrokerError,
    ConfigError,
    HydraError,
    InvalidValueError,
    JournalBehindError,
    JournalFormatError,
    JournalLockedError,
    JournalReplacedError,
    LiveTradingRefusedError,
    MarketClosedError,
    OrderRejectedError,
    RiskDeniedError,
    UnsupportedOrderTypeError,
)
from ._healing_settings import HealingSettings
from ._ids import BrokerOrderId, ClientOrderId, ExecutionId, IntentId, JournalId, new_intent_id
from ._journal import Journal, JournaledOrder
from ._journal_actor import run_in_thread, run_inline
from ._logging import configure_logging
from ._messages import (
    CommissionRecorded,
    EngineEvent,
    FillRecorded,
    IntentFinished,
    OrderSent,
    OrderStatusRecorded,
    ReconcileDifference,
    SessionChanged,
    StageRecorded,
    TradingStateChanged,
)
from ._open_hydra import open_hydra
from ._orders import Fill, OrderIntent, OrderRequest
from ._quotes import Quote
from ._reports import ChildOrderReport, ExecutionReport
from ._router import IntentHandle
from ._settings import (
    BackoffSettings,
    BrokerSettings,
    Distance,
    DistanceUnit,
    ExecutionSettings,
    HydraConfig,
    JournalSettings,
    LogFormat,
    LoggingSettings,
    LogLevel,
    OutsideHours,
    RestartSettings,
    RiskLimits,
    ShutdownSettings,
    SlippageSettings,
    Urgency,
    WorkingHours,
)
from ._version import __version__

__all__ = [
    "BUILT_IN_CONTRACTS",
    "LEAN_HOGS",
    "OATS",
    "AccountState",
    "BackoffSettings",
    "BracketIntent",
    "BrokerConnectionError",
    "BrokerError",
    "BrokerOrderId",
    "BrokerSettings",
    "ChildOrderReport",
    "ClientOrderId",
    "CommissionRecorded",
    "ConfigError",
    "ContractSpec",
    "Denial",
    "Distance",
    "DistanceUnit",
    "Engine",
    "EngineEvent",
    "EngineStatistics",
    "ExecutionId",
    "ExecutionReport",
    "ExecutionSettings",
    "Fill",
    "FillRecorded",
    "HealingSettings",
    "HydraConfig",
    "HydraError",
    "IntentFinished",
    "IntentHandle",
    "IntentId",
    "InvalidValueError",
    "Journal",
    "JournalBehindError",
    "JournalFormatError",
    "JournalId",
    "JournalLockedError",
    "JournalReplacedError",
    "JournalSettings",
    "JournaledOrder",
    "LadderStage",
    "LiveTradingRefusedError",
    "LogFormat",
    "LogLevel",
    "LoggingSettings",
    "MarketClosedError",
    "ModelVersion",
    "OrderIntent",
    "OrderRejectedError",
    "OrderRequest",
    "OrderSent",
    "OrderStatus",
    "OrderStatusRecorded",
    "OrderType",
    "OutsideHours",
    "Policy",
    "Position",
    "Prediction",
    "Quote",
    "ReconcileDifference",
    "RestartSettings",
    "RiskDeniedError",
    "RiskLimits",
    "SessionChanged",
    "ShutdownSettings",
    "Side",
    "SlippageSettings",
    "SlippageStats",
    "StageRecorded",
    "TimeInForce",
    "TradingSession",
    "TradingState",
    "TradingStateChanged",
    "TwapPlan",
    "UnsupportedOrderTypeError",
    "Urgency",
    "WorkingHours",
    "__version__",
    "backoff_delays",
    "baseline_price",
    "bracket_requests",
    "check_order",
    "config_from_table",
    "config_to_dict",
    "configure_logging",
    "contract_for",
    "guard_limit",
    "ladder_price",
    "ladder_wait",
    "load_config",
    "new_intent_id",
    "open_hydra",
    "participation",
    "plan_twap",
    "predict_slippage_bps",
    "reconcile",
    "round_aggressive",
    "round_passive",
    "route",
    "run_in_thread",
    "run_inline",
    "shortfall_bps",
    "slice_sizes",
    "tripped_breakers",
]
