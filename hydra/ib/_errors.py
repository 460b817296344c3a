"""IB error codes, sorted into what Hydra does with them. Pure.

IB reports connection changes, order refusals and plain notices all as "error" messages with a
code. At this boundary each code becomes a kind (`ErrorKind`), and the translator turns the kind
into a Hydra event, or into nothing. An order's *state* never comes from a notice: only a
refusal of an order IB has not yet acknowledged rejects it (IB sends no order status then).
"""

from __future__ import annotations

import enum

from .._errors import BrokerConnectionError


class ErrorKind(enum.Enum):
    NOTICE = "notice"  # information only: logged, no event
    CONNECTION_LOST = "connection_lost"
    CONNECTION_RESTORED = "connection_restored"  # data maintained
    CONNECTION_RESTORED_DATA_LOST = "connection_restored_data_lost"  # resubscribe market data
    CLIENT_ID_IN_USE = "client_id_in_use"
    REFUSAL = "refusal"  # refuses a new order; on an acknowledged order, only an error event
    ERROR = "error"  # surfaced as BrokerErrorReported, never a status


CONNECTION_LOST_CODES = frozenset({504, 1100, 2110})
"""Not connected; IB Gateway lost IB's servers; TWS-to-server connectivity broken."""

REFUSAL_CODES = frozenset({103, 110, 200, 201, 203, 321})
"""Duplicate order id, price off the tick grid, no security definition, order rejected, security
not allowed for the account, the order failed validation."""

NOTICE_CODES = frozenset({202, 2104, 2106, 2107, 2108, 2119, 2158, 10167})
"""Order cancelled (its Cancelled status says so), data farms OK / inactive, delayed data shown."""

CLIENT_ID_IN_USE = 326

RATE_EXCEEDED = 100
"""Over IB's 50 messages a second: the message was refused, and the error names none."""


def error_kind(code: int) -> ErrorKind:
    """What Hydra does with IB error ``code``."""
    if code in CONNECTION_LOST_CODES:
        return ErrorKind.CONNECTION_LOST
    if code == 1101:
        return ErrorKind.CONNECTION_RESTORED_DATA_LOST
    if code == 1102:
        return ErrorKind.CONNECTION_RESTORED
    if code == CLIENT_ID_IN_USE:
        return ErrorKind.CLIENT_ID_IN_USE
    if code in REFUSAL_CODES:
        return ErrorKind.REFUSAL
    if code in NOTICE_CODES or 2100 <= code < 2200:
        return ErrorKind.NOTICE
    return ErrorKind.ERROR


class ClientIdInUseError(BrokerConnectionError):
    """IB refused the client id (error 326): another session holds it, or an old session of
    ours is not gone yet; retrying after a backoff is the cure for the second case."""

    def __init__(self, client_id: int) -> None:
        self.client_id = client_id
        super().__init__(
            f"client id {client_id} is already in use at IB Gateway/TWS (error 326): another "
            f"program holds it, or a previous session has not closed yet"
        )
