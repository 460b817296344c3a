"""Hydra: patient limit-order execution for futures, on Trio.

Layers, lowest first; a module imports only from layers below its own:
  1. _errors, _ids, _validate, _enums       vocabulary: exceptions, ids, validators
  2. _contracts, _quotes, _orders, _settings domain values and settings
  3. _positions                              pure accounting over the values
"""

from ._contracts import (
    BUILT_IN_CONTRACTS,
    LEAN_HOGS,
    OATS,
    ContractSpec,
    TradingSession,
    contract_for,
)
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
from ._orders import Fill, OrderIntent, OrderRequest
from ._positions import Position
from ._quotes import Quote
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
    SlippageSettings,
)
from ._version import __version__

__all__ = [
    "BUILT_IN_CONTRACTS",
    "LEAN_HOGS",
    "OATS",
    "BackoffSettings",
    "BrokerConnectionError",
    "BrokerError",
    "BrokerOrderId",
    "BrokerSettings",
    "ClientOrderId",
    "ConfigError",
    "ContractSpec",
    "Distance",
    "DistanceUnit",
    "ExecutionId",
    "ExecutionSettings",
    "Fill",
    "HydraConfig",
    "HydraError",
    "IntentId",
    "InvalidValueError",
    "JournalSettings",
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
    "RiskDeniedError",
    "RiskLimits",
    "Side",
    "SlippageSettings",
    "TimeInForce",
    "TradingSession",
    "TradingState",
    "UnsupportedOrderTypeError",
    "__version__",
    "contract_for",
    "new_intent_id",
]
