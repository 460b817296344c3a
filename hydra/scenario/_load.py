"""A scenario from TOML: every mistake is one `ScenarioError` naming the key path and line.

The file is read into the tables of `hydra.scenario._tables` by the converter of
`hydra._converter`, so that a wrong type, an unknown key or a missing one names its exact path
(``actions[2].quantity``, ``markets[0].adv``); the ``[config]`` table is Hydra's own
configuration (the tables of hydra.toml), loaded by `hydra.config_from_table`. What spans
tables (a market's symbol, an action's contract, strategy and id) is checked here.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import attrs

from .._bracket import BracketIntent
from .._config import config_from_table, read_toml_file
from .._contracts import BUILT_IN_CONTRACTS, ContractSpec
from .._converter import key_path, structure
from .._errors import ConfigError, InvalidValueError, MissingKeyError, TomlSyntaxError
from .._ids import IntentId
from .._settings import HydraConfig
from .._toml_lines import line_of, table_at
from ..sim import (
    BadQuotes,
    DelayExecution,
    Disconnect,
    DuplicateExecution,
    Fault,
    MarketParams,
    RejectNextOrder,
    SimParams,
    StaleQuotes,
)
from ._model import (
    Action,
    CancelIntent,
    ClosePosition,
    KillSwitch,
    Roll,
    Scenario,
    SubmitBracket,
    SubmitIntent,
)
from ._tables import (
    ACTION_KINDS,
    CancelTable,
    CloseTable,
    IntentTable,
    KillTable,
    MarketTable,
    RollTable,
    ScenarioTable,
    SimTable,
    converter,
)

T = TypeVar("T")

UNTIL_FINISHED = "finish"
"""The ``horizon`` that runs until every intent has finished."""


class ScenarioError(ConfigError):
    """A scenario file is malformed: ``field`` is the key path, ``line`` where it is written
    (None when unknown), ``file`` the file's name (None for a table given in code)."""

    def __init__(
        self, field: str, value: Any, problem: str, *, line: int | None = None,
        file: str | None = None, show_value: bool = True,
    ) -> None:
        super().__init__(field, value, problem)
        self.line = line
        self.file = file
        self.show_value = show_value

    def located(self, *, line: int | None, file: str) -> ScenarioError:
        return ScenarioError(self.field, self.value, self.problem, line=line, file=file,
                             show_value=self.show_value)

    @property
    def message(self) -> str:
        """One line: ``actions[2].quantity: must be greater than zero, got -3 (in f.toml,
        line 17)``."""
        text = f"{self.field}: {self.problem}"
        if self.show_value:
            text += f", got {self.value!r}"
        where = [self.file] if self.file else []
        if self.line is not None:
            where.append(f"line {self.line}")
        return f"{text} (in {', '.join(where)})" if where else text


# --- files -------------------------------------------------------------------------------------


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """The scenario in the TOML file at ``path``, named after the file's stem."""
    name = os.fspath(path)
    try:
        file = read_toml_file(name)
    except TomlSyntaxError as e:
        raise _syntax_error(e.reason, e.text, name) from None
    except ConfigError as e:  # about the file itself: missing, unreadable, too deep
        raise ScenarioError(e.field, e.value, e.problem) from None
    try:
        return scenario_from_table(file.table, name=Path(name).stem)
    except ScenarioError as e:
        raise e.located(line=line_of(file.text, e.field), file=name) from None


_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _syntax_error(message: str, text: str, name: str) -> ScenarioError:
    match = _AT_LINE.search(message)
    line = int(match[1]) if match else None
    if match:
        message = f"{message[:match.start()]} at column {match[2]}"
    field = (table_at(text, line) if line else "") or "(top level)"
    return ScenarioError(field, None, f"not valid TOML: {message}", line=line, file=name,
                         show_value=False)


# --- reading tables --------------------------------------------------------------------------


def _read(table: Any, cls: type[T], path: str) -> T:
    """``table`` read into ``cls`` by the scenario converter; a problem names its key path
    under ``path``."""
    try:
        return structure(table, cls, using=converter)
    except ConfigError as e:
        field = key_path(path, e.field) if e.field else path or "(top level)"
        raise ScenarioError(field, e.value, e.problem,
                            show_value=not isinstance(e, MissingKeyError)) from None


def _make(path: str, build: Callable[..., T], **kwargs: Any) -> T:
    """``build(**kwargs)``; its `InvalidValueError` becomes a `ScenarioError` under ``path``."""
    try:
        return build(**kwargs)
    except InvalidValueError as e:
        raise ScenarioError(key_path(path, _FIELD_KEYS.get(e.field, e.field)), e.value,
                            e.problem) from None


_FIELD_KEYS = {"expiry": "month", "intent_id": "id", "to_expiry": "to_month"}
"""Field names of Hydra's classes that a scenario spells differently."""


def _given(table: attrs.AttrsInstance) -> dict[str, Any]:
    """The fields of a file's table that it gives (None: not given)."""
    return {key: value for key, value in attrs.asdict(table, recurse=False).items()
            if value is not None}


def _choice(path: str, value: Any, choices: Mapping[str, T]) -> T:
    """The member of ``choices`` that ``value`` names, in any case."""
    if not isinstance(value, str):
        raise ScenarioError(path, value, "must be a string")
    if value.lower() not in choices:
        raise ScenarioError(path, value, f"must be one of {', '.join(map(repr, choices))}")
    return choices[value.lower()]


def _kind(table: Mapping[str, Any], path: str, kinds: Mapping[str, type[Any]], what: str
          ) -> tuple[str, type[Any], dict[str, Any]]:
    """A table whose ``kind`` says which class reads the rest: a key of another kind is
    refused by name, and an unknown key by the converter."""
    if "kind" not in table:
        raise ScenarioError(key_path(path, "kind"), None, "is required", show_value=False)
    kind = _choice(key_path(path, "kind"), table["kind"], {name: name for name in kinds})
    cls = kinds[kind]
    keys = tuple(attrs.fields_dict(cls))
    others = {key for other in kinds.values() for key in attrs.fields_dict(other)}
    for key, value in table.items():
        if key != "kind" and key not in keys and key in others:
            raise ScenarioError(key_path(path, key), value, f"is not a key of {what} of kind "
                                f"{kind!r} (keys: {', '.join(keys)})")
    return kind, cls, {key: value for key, value in table.items() if key != "kind"}


# --- the scenario ------------------------------------------------------------------------------


def scenario_from_table(table: Mapping[str, Any], *, name: str = "scenario") -> Scenario:
    """The scenario a parsed TOML table describes; ``name`` unless the table names it."""
    top = _read(table, ScenarioTable, "")
    markets = tuple(_market(t, f"markets[{i}]") for i, t in enumerate(top.markets)) or (
        MarketParams.oats(), MarketParams.hogs()
    )
    sim = _sim(top.sim, markets, _faults(top.faults))
    config = _config(top.config, markets)
    actions = _actions(top.actions, sim, config)
    horizon = top.horizon
    if horizon is None or horizon == UNTIL_FINISHED:
        horizon = None
    elif isinstance(horizon, bool) or not isinstance(horizon, int | float) or not math.isfinite(
            horizon):
        raise ScenarioError("horizon", horizon,
                            f"must be a number of seconds or {UNTIL_FINISHED!r}")
    if not actions:
        raise ScenarioError("actions", None, "must hold at least one action", show_value=False)
    optional = {} if top.max_duration is None else {"max_duration": top.max_duration}
    return _make("", Scenario, name=name if top.name is None else top.name, seed=top.seed,
                 description=top.description, sim=sim, config=config, actions=actions,
                 horizon=horizon, **optional)


def _actions(tables: Sequence[Mapping[str, Any]], sim: SimParams, config: HydraConfig
             ) -> tuple[Action, ...]:
    actions: list[Action] = []
    names: set[str] = set()
    intents: set[str] = set()  # what a cancel may name
    for index, table in enumerate(tables):
        path = f"actions[{index}]"
        action = _action(table, path, index, sim, config)
        name = _name(action)
        if name is not None and name in names:
            raise ScenarioError(key_path(path, "id"), table.get("id"),
                                "names an earlier action too; ids must be unique",
                                show_value="id" in table)
        if isinstance(action, CancelIntent) and action.intent_id not in intents:
            raise ScenarioError(key_path(path, "intent"), table.get("intent"),
                                "names no intent or bracket before it in the file")
        names |= {name} if name is not None else set()
        if isinstance(action, SubmitIntent | SubmitBracket):
            intents.add(str(name))
        actions.append(action)
    return tuple(actions)


def _name(action: Action) -> str | None:
    if isinstance(action, SubmitIntent):
        return action.intent_id
    if isinstance(action, SubmitBracket):
        return action.bracket.intent_id
    if isinstance(action, ClosePosition | Roll):
        return action.label
    return None


# --- markets and the simulator -----------------------------------------------------------------

_DEFAULTS: Mapping[str, Callable[..., MarketParams]] = {
    "ZO": MarketParams.oats, "HE": MarketParams.hogs,
}


def _market(t: MarketTable, path: str) -> MarketParams:
    symbol = _choice(key_path(path, "symbol"), t.symbol,
                     {s.lower(): s for s in BUILT_IN_CONTRACTS})
    contract = BUILT_IN_CONTRACTS[symbol]
    if t.month is not None:
        contract = _make(path, contract.for_month, expiry=t.month)
    changes = _given(t)
    del changes["symbol"]
    changes.pop("month", None)
    return _make(path, _DEFAULTS[symbol], contract=contract, **changes)


def _sim(t: SimTable, markets: tuple[MarketParams, ...], faults: tuple[Fault, ...]) -> SimParams:
    try:
        return SimParams(markets=markets, faults=faults, **_given(t))
    except InvalidValueError as e:
        path = "markets" if e.field == "markets" else key_path("sim", e.field)
        raise ScenarioError(path, e.value, e.problem) from None


_FAULTS: Mapping[str, type[Fault]] = {
    "disconnect": Disconnect, "reject_next_order": RejectNextOrder,
    "duplicate_execution": DuplicateExecution, "delay_execution": DelayExecution,
    "stale_quotes": StaleQuotes, "bad_quotes": BadQuotes,
}


def _faults(tables: Sequence[Mapping[str, Any]]) -> tuple[Fault, ...]:
    faults = []
    for index, table in enumerate(tables):
        path = f"faults[{index}]"
        _, cls, rest = _kind(table, path, _FAULTS, "a fault")
        faults.append(_read(rest, cls, path))
    return tuple(faults)


def _config(raw: Mapping[str, Any], markets: tuple[MarketParams, ...]) -> HydraConfig:
    """Hydra's configuration from ``[config]``; its ADV per symbol defaults to the first
    market of that symbol (when its adv is above zero).

    A scenario states its markets' ADV and volatility, and its order sizes are fractions of
    that ADV, so Hydra takes them as given rather than measuring them from twenty simulated
    sessions' bars (which would route an order of exactly 1% of ADV by the noise of the
    sample); ``[config.market_facts]`` in the scenario turns the measurement back on."""
    adv: dict[str, Any] = {}
    for market in markets:
        if market.adv > 0:
            adv.setdefault(market.symbol, market.adv)
    table = dict(raw)
    if isinstance(raw.get("adv", {}), Mapping):
        table["adv"] = adv | dict(raw.get("adv", {}))
    table.setdefault("market_facts", {"from_bars": False})
    try:
        return config_from_table(table)
    except ConfigError as e:
        raise ScenarioError(key_path("config", e.field), e.value, e.problem) from None


# --- actions -----------------------------------------------------------------------------------


def _action(table: Mapping[str, Any], path: str, index: int, sim: SimParams,
            config: HydraConfig) -> Action:
    kind, cls, rest = _kind(table, path, ACTION_KINDS, "an action")
    t = _read(rest, cls, path)
    if isinstance(t, KillTable):
        reason = {} if t.reason is None else {"reason": t.reason}
        return _make(path, KillSwitch, at=t.at, **reason)
    if isinstance(t, CancelTable):
        return _make(path, CancelIntent, at=t.at, intent_id=IntentId(t.intent))
    label = f"{kind}-{index + 1}" if t.id is None else t.id
    contract = _contract(path, t.symbol, t.month, sim, month_key="month")
    if t.strategy != "default" and t.strategy not in config.strategies:
        known = ", ".join(["default", *config.strategies])
        raise ScenarioError(key_path(path, "strategy"), t.strategy,
                            f"unknown strategy (known: {known})")
    if isinstance(t, CloseTable):
        return _make(path, ClosePosition, at=t.at, label=label, contract=contract,
                     strategy=t.strategy)
    if isinstance(t, RollTable):
        _contract(path, t.symbol, t.to_month, sim, month_key="to_month")
        return _make(path, Roll, at=t.at, label=label, contract=contract, to_month=t.to_month,
                     strategy=t.strategy)
    common = dict(contract=contract, side=t.side, quantity=t.quantity, strategy=t.strategy,
                  intent_id=IntentId(label))
    if isinstance(t, IntentTable):
        return _make(path, SubmitIntent, at=t.at, policy=t.policy, **common)
    prices = {key: _on_tick(key_path(path, key), getattr(t, key), contract)
              for key in ("entry_price", "take_profit_price", "stop_price", "stop_limit_price")}
    return SubmitBracket(at=t.at, bracket=_make(path, BracketIntent, **common, **prices))


def _on_tick(path: str, price: Decimal, contract: ContractSpec) -> Decimal:
    if price <= 0 or not contract.is_on_tick(price):
        raise ScenarioError(path, price, "must be a price above zero on the tick grid "
                            f"({contract.tick_size})")
    return price


def _contract(path: str, symbol: str, month: str | None, sim: SimParams, *, month_key: str
              ) -> ContractSpec:
    """The contract an action names: a market of the scenario, by symbol and month."""
    same = [m.contract for m in sim.markets if m.symbol == symbol]
    if not same:
        known = ", ".join(sorted({m.symbol for m in sim.markets}))
        raise ScenarioError(key_path(path, "symbol"), symbol,
                            f"is not a market of this scenario (known: {known})")
    at = key_path(path, month_key)
    if month is None:
        if len(same) > 1:
            raise ScenarioError(at, None, f"is required: {symbol} trades in several months here",
                                show_value=False)
        return same[0]
    exact = [c for c in same if c.expiry == month]
    if exact:
        return exact[0]
    if len(same) == 1 and same[0].expiry is None:
        return _make(path, same[0].for_month, expiry=month)
    months = ", ".join(c.expiry or "(none)" for c in same)
    raise ScenarioError(at, month, f"is not a month of {symbol} here (months: {months})")
