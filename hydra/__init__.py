"""Hydra: patient limit-order execution for futures, on Trio.

Layers, lowest first; a module imports only from layers below its own:
  1. _errors, _ids, _validate, _enums, _version   vocabulary: exceptions, ids, validators
  2. _contracts, _quotes, _orders, _settings      domain values and settings
  3. _positions, _pricing, _ladder, _routing,     pure core: accounting, prices, slicing,
     _twap, _risk_checks, _backoff, _slippage,    risk checks, schedules, models
     _pacing, _codec
  4. _journal, _config, _logging, _audit          storage, configuration, logging
  5. brokers, sim                                 the Broker protocol; the simulated exchange
  6. _messages, _reports, _journal_actor,         the actor system
     _child_order, _risk_actor, _patience,
     _twap_actor, _bracket,
     _supervisor, _publisher, _engine
  7. _cli, __main__                               the command line
"""

from ._backoff import backoff_delays
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
from ._engine import Engine, EngineStatistics, IntentHandle, open_hydra
from ._enums import OrderStatus, OrderType, Policy, Side, TimeInForce, TradingState
from ._errors import (
    BrokerConnectionError,
    BrokerError,
    ConfigError,
    HydraError,
    InvalidValueError,
    LiveTradingRefusedError,
    OrderRejectedError,
    RiskDeniedError,
    UnsupportedOrderTypeError,
)
from ._ids import BrokerOrderId, ClientOrderId, ExecutionId, IntentId, new_intent_id
from ._journal import Journal, JournaledOrder
from ._journal_actor import run_in_thread, run_inline
from ._ladder import LadderStage, baseline_price, ladder_price, ladder_wait
from ._logging import configure_logging
from ._messages import (
    EngineEvent,
    FillRecorded,
    IntentFinished,
    ReconcileDifference,
    SessionChanged,
    TradingStateChanged,
)
from ._orders import Fill, OrderIntent, OrderRequest
from ._positions import Position
from ._pricing import guard_limit, round_aggressive, round_passive
from ._quotes import Quote
from ._reports import ChildOrderReport, ExecutionReport
from ._risk_checks import AccountState, Denial, check_order, tripped_breakers
from ._routing import participation, route
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
    RiskLimits,
    ShutdownSettings,
    SlippageSettings,
)
from ._slippage import SlippageStats, predict_slippage_bps, reconcile, shortfall_bps
from ._twap import TwapPlan, plan_twap, slice_sizes
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
    "HydraConfig",
    "HydraError",
    "IntentFinished",
    "IntentHandle",
    "IntentId",
    "InvalidValueError",
    "Journal",
    "JournalSettings",
    "JournaledOrder",
    "LadderStage",
    "LiveTradingRefusedError",
    "LogFormat",
    "LogLevel",
    "LoggingSettings",
    "OrderIntent",
    "OrderRejectedError",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "Policy",
    "Position",
    "Quote",
    "ReconcileDifference",
    "RiskDeniedError",
    "RiskLimits",
    "SessionChanged",
    "ShutdownSettings",
    "Side",
    "SlippageSettings",
    "SlippageStats",
    "TimeInForce",
    "TradingSession",
    "TradingState",
    "TradingStateChanged",
    "TwapPlan",
    "UnsupportedOrderTypeError",
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
