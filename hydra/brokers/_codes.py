"""IB-like error codes that brokers put on rejections and error events.

The numbers follow TWS API error codes where TWS has one, so the simulator, the simulated
gateway and the IB adapter report the same refusal with the same number.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.IntEnum):
    """Codes on `OrderStatusChanged` (status REJECTED) and `BrokerErrorReported` events."""

    DUPLICATE_ORDER_ID = 103  # an order with this client order id already exists
    MODIFY_FILLED_ORDER = 104  # modify of an order that is already finished
    MODIFY_MISMATCH = 105  # the modification is impossible (e.g. quantity at or below filled)
    PRICE_OFF_TICK = 110  # price is not a multiple of the contract's minimum tick
    ORDER_NOT_FOUND = 135  # modify or cancel of an order the broker does not know
    NOT_CANCELLABLE = 161  # cancel of an order that is already finished
    UNKNOWN_CONTRACT = 200  # no security definition for the symbol
    ORDER_REJECTED = 201  # rejected: unsupported order type, self-trade, risk, simulated fault
