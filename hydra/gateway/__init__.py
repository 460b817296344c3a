"""The simulated IB gateway: the simulated exchange served over the TWS API socket protocol.

Layers (each imports only from those below it):
    _server       serve_gateway, Gateway: the Trio server, one task per connection
    _pumps        the tasks that keep depth, tick-by-tick and bar streams flowing
    _session      one client's connection: requests and exchange events to replies, by topic:
    _session_orders, _session_market, _session_account, _session_history,
                  _session_streams
    _unserved     IB's answers for services the simulator does not have
    _registry     client ids, exchange attachments and orders, across connections
    _account      account, portfolio and position replies from snapshots
    _margins      margin per contract, what-if answers
    _history      bars built from the generated past and the live record
    _bar_table    bars as numpy columns, and their wire text made at once
    _past         the market's generated past, minute by minute
    _periods      IB's bar sizes, durations and end times
    _catalog      the simulator's futures as IB contracts
    _hours        trading windows by trading day, and IB's hours text
    _handshake    version negotiation
    _requests     client messages (typed), _replies: server messages (typed)
    _order        one IB order, from placeOrder to open orders and the exchange's ticket
    _message_ids  the TWS API's message ids (IntEnums)
    _wire         framing and field encoding, sans I/O
    hydra.sim, hydra.brokers, hydra._*
"""

from ._catalog import Catalog, Listing
from ._handshake import SERVER_VERSION, VersionRange, negotiate, parse_version_range
from ._requests import ClientRequest, ContractFields, parse_request
from ._server import DEFAULT_ACCOUNT, Gateway, GatewayStatistics, serve_gateway
from ._wire import MAX_FRAME_BYTES, FrameDecoder, WireError, encode_frame

__all__ = [
    "DEFAULT_ACCOUNT",
    "MAX_FRAME_BYTES",
    "SERVER_VERSION",
    "Catalog",
    "ClientRequest",
    "ContractFields",
    "FrameDecoder",
    "Gateway",
    "GatewayStatistics",
    "Listing",
    "VersionRange",
    "WireError",
    "encode_frame",
    "negotiate",
    "parse_request",
    "parse_version_range",
    "serve_gateway",
]
