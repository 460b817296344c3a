"""The tables a scenario file is written in, as types: `hydra._converter` reads a file into
them (a key of the wrong type, an unknown key or a missing one is refused by its key path),
and `hydra.scenario._load` builds the scenario from them and checks what spans tables (a
market's symbol, an action's contract and strategy, unique ids).

A scenario's numbers are finite and its names (sides, policies) any case. The simulator's
own values (a gap, a halt, a scripted flow, a fault) are read straight into their classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NewType

import attrs
import cattrs

from .._converter import make_converter
from .._enums import Policy, Side
from .._errors import ConfigError
from ..sim import DisplayedSize, Gap, Halt, ScriptedFlow, SizeBucket

RawTable = NewType("RawTable", dict[str, Any])
"""A table read later, as it is (Hydra's configuration; a fault or an action, by its kind)."""

SpreadPair = NewType("SpreadPair", tuple[int, float])
"""A ``[ticks, weight]`` pair of a market's spread distribution."""


def _spread_pair(value: Any, _: Any) -> SpreadPair:
    ok = (isinstance(value, list) and len(value) == 2
          and isinstance(value[0], int) and not isinstance(value[0], bool)
          and isinstance(value[1], int | float) and not isinstance(value[1], bool))
    if not ok:
        raise ConfigError("", value, "must be a [ticks, weight] pair")
    return SpreadPair((value[0], float(value[1])))


def _raw_table(value: Any, _: Any) -> RawTable:
    if not isinstance(value, Mapping):
        raise ConfigError("", value, "must be a table")
    return RawTable(dict(value))


def _make() -> cattrs.Converter:
    made = make_converter(finite=True, any_case=True)
    made.register_structure_hook(SpreadPair, _spread_pair)
    made.register_structure_hook(RawTable, _raw_table)
    return made


converter = _make()
"""The converter of scenario files (`hydra._converter`'s, with finite numbers)."""


@attrs.frozen(kw_only=True)
class SimTable:
    """``[sim]``: the simulated exchange's latencies and money."""

    ack_latency: float | None = None
    fill_latency: float | None = None
    commission_per_contract: Decimal | None = None
    starting_cash: Decimal | None = None


@attrs.frozen(kw_only=True)
class MarketTable:
    """``[[markets]]``: one market, over the defaults of its symbol's (None: not given)."""

    symbol: str
    month: str | None = None
    start_mid: Decimal | None = None
    adv: int | None = None
    daily_volatility: float | None = None
    spread_ticks: tuple[SpreadPair, ...] | None = None
    displayed_size: DisplayedSize | None = None
    flow_sizes: tuple[SizeBucket, ...] | None = None
    session_seconds: float | None = None
    step_seconds: float | None = None
    drift_per_session: float | None = None
    impact_ticks_per_lot: float | None = None
    own_impact_ticks_per_lot: float | None = None
    own_depletion_ticks: float | None = None
    flow_sign_persistence: float | None = None
    depletion_ticks: float | None = None
    spread_regime_seconds: float | None = None
    refill_rate: float | None = None
    depth_levels: int | None = None
    queue_events_per_second: float | None = None
    join_improver_probability: float | None = None
    step_ahead_probability: float | None = None
    burn_in_seconds: float | None = None
    market_protection_ticks: int | None = None
    flows: tuple[ScriptedFlow, ...] = ()
    gaps: tuple[Gap, ...] = ()
    halts: tuple[Halt, ...] = ()


@attrs.frozen(kw_only=True)
class ScenarioTable:
    """The whole file. Faults and actions stay tables until their ``kind`` says which
    class reads them; ``config`` is Hydra's configuration, read by `config_from_table`."""

    name: str | None = None
    description: str = ""
    seed: int = 1
    horizon: Any = None  # seconds, or "finish"
    max_duration: float | None = None
    markets: tuple[MarketTable, ...] = ()
    sim: SimTable = SimTable()
    faults: tuple[RawTable, ...] = ()
    config: RawTable = attrs.field(factory=lambda: RawTable({}))
    actions: tuple[RawTable, ...] = ()


@attrs.frozen(kw_only=True)
class IntentTable:
    """``kind = "intent"``."""

    at: float
    id: str | None = None
    symbol: str
    month: str | None = None
    side: Side
    quantity: int
    strategy: str = "default"
    policy: Policy | None = None


@attrs.frozen(kw_only=True)
class BracketTable:
    """``kind = "bracket"``: an entry with its take-profit and stop limit."""

    at: float
    id: str | None = None
    symbol: str
    month: str | None = None
    side: Side
    quantity: int
    strategy: str = "default"
    entry_price: Decimal
    take_profit_price: Decimal
    stop_price: Decimal
    stop_limit_price: Decimal


@attrs.frozen(kw_only=True)
class CloseTable:
    """``kind = "close"``."""

    at: float
    id: str | None = None
    symbol: str
    month: str | None = None
    strategy: str = "default"


@attrs.frozen(kw_only=True)
class RollTable:
    """``kind = "roll"``: from ``month`` to ``to_month``."""

    at: float
    id: str | None = None
    symbol: str
    month: str | None = None
    to_month: str
    strategy: str = "default"


@attrs.frozen(kw_only=True)
class KillTable:
    """``kind = "kill"``."""

    at: float
    reason: str | None = None


@attrs.frozen(kw_only=True)
class CancelTable:
    """``kind = "cancel"``: stop the intent or bracket ``intent`` names."""

    at: float
    intent: str


ActionTable = IntentTable | BracketTable | CloseTable | RollTable | KillTable | CancelTable

ACTION_KINDS: dict[str, type[ActionTable]] = {
    "intent": IntentTable, "bracket": BracketTable, "close": CloseTable, "roll": RollTable,
    "kill": KillTable, "cancel": CancelTable,
}
