"""The simulated IB gateway: the simulated exchange served over the TWS API socket protocol.

Layers (each imports only from those below it):
    _server       serve_gateway, Gateway: the Trio server, one task per connection
    _session      one client's state: requests and exchange events to replies
    _registry     client ids, exchange attachments and orders, across connections
    _account      account, portfolio and position replies from snapshots
    _catalog      the simulator's futures as IB contracts
    _handshake    version negotiation
    _requests     client messages (typed), _replies: server messages (typed)
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
