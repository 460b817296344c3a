"""Brokers: the `Broker` protocol, its events and its snapshots.

Layers (each imports only from those below it):
    _protocol     the Broker protocol: OrderEntry and MarketView
    _snapshots    OpenOrder, AccountSnapshot
    _events       the event stream's messages
    _codes        IB-like error codes
    hydra._*      contracts, orders, positions, quotes, daily bars, errors
"""

from .._core._market_stats import DailyBar
from ._codes import ErrorCode
from ._events import (
    AccountValueChanged,
    BrokerErrorReported,
    BrokerEvent,
    CommissionReported,
    ConnectionLost,
    ConnectionRestored,
    FillReported,
    OrderAcknowledged,
    OrderStatusChanged,
    PositionChanged,
)
from ._protocol import Broker, MarketView, OrderEntry
from ._snapshots import AccountSnapshot, OpenOrder

__all__ = [
    "AccountSnapshot",
    "AccountValueChanged",
    "Broker",
    "BrokerErrorReported",
    "BrokerEvent",
    "CommissionReported",
    "ConnectionLost",
    "ConnectionRestored",
    "DailyBar",
    "ErrorCode",
    "FillReported",
    "MarketView",
    "OpenOrder",
    "OrderAcknowledged",
    "OrderEntry",
    "OrderStatusChanged",
    "PositionChanged",
]
