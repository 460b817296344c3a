"""IBBroker: Hydra's `Broker` over ib_async, inside trio-asyncio.

Layers (each imports only from those below it):
    _broker       IBBroker, open_ib_broker: the one module that crosses into asyncio
    _translate    what ib_async's callbacks saw → broker events (sans-I/O)
    _seen         the callbacks' snapshots of ib_async objects
    _convert      ib_async objects ↔ Hydra values (pure)
    _errors       IB error codes → kinds; ClientIdInUseError (pure)
    _ports        port safety: paper, live, and the live opt-in (pure)
    _spacing      every message to IB under its rate, spaced once it waits (sans-I/O)
    hydra.brokers, hydra._*
"""

from ._broker import IB_SYNC_TIMEOUT, IBBroker, open_ib_broker
from ._convert import ForeignOrder
from ._errors import ClientIdInUseError, ErrorKind, error_kind
from ._ports import LIVE_CONFIRMED_ENV, check_port, live_confirmed

__all__ = [
    "IB_SYNC_TIMEOUT",
    "LIVE_CONFIRMED_ENV",
    "ClientIdInUseError",
    "ErrorKind",
    "ForeignOrder",
    "IBBroker",
    "check_port",
    "error_kind",
    "live_confirmed",
    "open_ib_broker",
]
