"""The simulated exchange and `SimBroker`: deterministic for a seed, timed through Trio.

Layers (each imports only from those below it):
    _broker       SimBroker: one client session (Broker protocol)
    _exchange     SimExchange, open_sim_exchange: the one task, the link, delivery, looking
    _desk         the orders' life cycle: holds, the book, fills, OCA and bracket cancels
    _rules        pure checks: what a new order or a modification is refused for
    _stops        pure: armed stop orders and their trigger (the last trade price)
    _oca          pure: one-cancels-all groups (IB ocaType 1)
    _brackets     pure: orders staged until transmitted, parents and children
    _daily_history  pure: the daily bars before the session, from the market's model
    _fault_state  the faults in force (rejections, duplicated/delayed reports, stale quotes)
    _ledger       the account: positions, executions, cash
    _market       one contract's market: latent mid, crowd, depth, informed flow, streams
    _book         pure price-time matching with queue position
    _ticket       OrderTicket: an order in the exchange's terms
    _params       scenario parameters
    _faults       injectable faults
    hydra.brokers, hydra._*
"""

from ._broker import SimBroker
from ._exchange import SimExchange, SimStatistics, open_sim_exchange
from ._faults import (
    BadQuotes,
    DelayExecution,
    Disconnect,
    DuplicateExecution,
    Fault,
    RejectNextOrder,
    StaleQuotes,
)
from ._params import (
    SESSION_SECONDS,
    DisplayedSize,
    Gap,
    Halt,
    MarketParams,
    ScriptedFlow,
    SimParams,
    SizeBucket,
)
from ._ticket import OrderTicket

__all__ = [
    "SESSION_SECONDS",
    "BadQuotes",
    "DelayExecution",
    "Disconnect",
    "DisplayedSize",
    "DuplicateExecution",
    "Fault",
    "Gap",
    "Halt",
    "MarketParams",
    "OrderTicket",
    "RejectNextOrder",
    "ScriptedFlow",
    "SimBroker",
    "SimExchange",
    "SimParams",
    "SimStatistics",
    "SizeBucket",
    "StaleQuotes",
    "open_sim_exchange",
]
