"""A scenario from TOML: every mistake is one `ScenarioError` naming the key path and line.

The ``[config]`` table is Hydra's own configuration (the tables of hydra.toml) and is loaded by
`hydra.config_from_table`; everything else is read here, key by key, so that a wrong type, an
unknown key or a bad value names its exact path (``actions[2].quantity``, ``markets[0].adv``).
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from .._bracket import BracketIntent
from .._config import config_from_table, read_toml_file
from .._contracts import BUILT_IN_CONTRACTS, ContractSpec
from .._converter import key_path
from .._enums import Policy, Side
from .._errors import ConfigError, InvalidValueError, TomlSyntaxError
from .._ids import IntentId
from .._settings import HydraConfig
from .._toml_lines import line_of, table_at
from .._validate import to_decimal
from ..sim import (
    BadQuotes,
    DelayExecution,
    Disconnect,
    DisplayedSize,
    DuplicateExecution,
    Fault,
    Gap,
    Halt,
    MarketParams,
    RejectNextOrder,
    ScriptedFlow,
    SimParams,
    SizeBucket,
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


# --- reading tables key by key -----------------------------------------------------------------


REQUIRED: Any = object()
"""The default of a getter: the key must be there."""

_NONE: Any = object()
"""A getter's default meaning "not given" where None cannot say it."""


class _Table:
    """One TOML table being read: each getter checks the key's type and names its path."""

    def __init__(self, raw: Any, path: str, keys: tuple[str, ...]) -> None:
        if not isinstance(raw, Mapping):
            raise ScenarioError(path or "(top level)", raw, "must be a table")
        for key, value in raw.items():
            if key not in keys:
                close = difflib.get_close_matches(key, keys, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise ScenarioError(key_path(path, key), value, f"unknown key{hint}")
        self.raw = raw
        self.path = path

    def has(self, key: str) -> bool:
        return key in self.raw

    def at(self, key: str) -> str:
        return key_path(self.path, key)

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ScenarioError(self.at(key), self.raw.get(key), problem, show_value=key in self.raw)

    def _get(self, key: str, check: Callable[[Any], bool], problem: str, default: Any) -> Any:
        if key not in self.raw:
            if default is REQUIRED:
                raise ScenarioError(self.at(key), None, "is required", show_value=False)
            return default
        value = self.raw[key]
        if isinstance(value, bool) or not check(value):
            self.fail(key, problem)
        return value

    def number(self, key: str, default: Any = REQUIRED) -> Any:
        return self._get(key, _is_number, "must be a number", default)

    def whole(self, key: str, default: Any = REQUIRED) -> Any:
        return self._get(key, _is_int, "must be a whole number", default)

    def text(self, key: str, default: Any = REQUIRED) -> Any:
        return self._get(key, _is_text, "must be a string", default)

    def decimal(self, key: str, default: Any = REQUIRED) -> Any:
        value = self._get(key, _is_decimal, "must be a number", default)
        return to_decimal(value) if isinstance(value, int | float | str) else value

    def table(self, key: str, keys: tuple[str, ...]) -> _Table:
        return _Table(self._get(key, _is_table, "must be a table", {}), self.at(key), keys)

    def tables(self, key: str, keys: tuple[str, ...]) -> Iterator[_Table]:
        for index, item in enumerate(self._get(key, _is_list, "must be an array", [])):
            yield _Table(item, f"{self.at(key)}[{index}]", keys)

    def array(self, key: str) -> list[Any]:
        return list(self._get(key, _is_list, "must be an array", []))

    def choice(self, key: str, choices: Mapping[str, T], default: Any = REQUIRED) -> Any:
        """The member of ``choices`` the key names (case-insensitive), else ``default``."""
        value = self._get(key, _is_text, "must be a string", default)
        if key not in self.raw:
            return value
        if value.lower() in choices:
            return choices[value.lower()]
        self.fail(key, f"must be one of {', '.join(repr(c) for c in choices)}")


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_decimal(value: Any) -> bool:
    if isinstance(value, str):
        value = to_decimal(value)
        return isinstance(value, Decimal) and value.is_finite()
    return _is_number(value)


def _is_table(value: Any) -> bool:
    return isinstance(value, Mapping)


def _is_list(value: Any) -> bool:
    return isinstance(value, list)


def _make(path: str, build: Callable[..., T], **kwargs: Any) -> T:
    """``build(**kwargs)``; its `InvalidValueError` becomes a `ScenarioError` under ``path``."""
    try:
        return build(**kwargs)
    except InvalidValueError as e:
        raise ScenarioError(key_path(path, _FIELD_KEYS.get(e.field, e.field)), e.value,
                            e.problem) from None


_FIELD_KEYS = {"expiry": "month", "intent_id": "id", "to_expiry": "to_month"}
"""Field names of Hydra's classes that a scenario spells differently."""


def _given(table: _Table, getters: Mapping[str, Callable[[str], Any]]) -> dict[str, Any]:
    """The keys of ``table`` that are present, each read with its getter."""
    return {key: get(key) for key, get in getters.items() if table.has(key)}


# --- the scenario ------------------------------------------------------------------------------

_TOP = ("name", "description", "seed", "horizon", "max_duration", "markets", "sim", "faults",
        "config", "actions")


def scenario_from_table(table: Mapping[str, Any], *, name: str = "scenario") -> Scenario:
    """The scenario a parsed TOML table describes; ``name`` unless the table names it."""
    top = _Table(table, "", _TOP)
    markets = tuple(_market(t) for t in top.tables("markets", _MARKET_KEYS)) or (
        MarketParams.oats(), MarketParams.hogs()
    )
    sim = _sim(top.table("sim", _SIM_KEYS), markets, _faults(top))
    config = _config(top, markets)
    actions = _actions(top, sim, config)
    horizon = top.raw.get("horizon", UNTIL_FINISHED)
    if horizon == UNTIL_FINISHED:
        horizon = None
    elif not _is_number(horizon) or isinstance(horizon, bool):
        top.fail("horizon", f"must be a number of seconds or {UNTIL_FINISHED!r}")
    if not actions:
        raise ScenarioError("actions", None, "must hold at least one action", show_value=False)
    return _make("", Scenario, name=top.text("name", name), seed=top.whole("seed", 1),
                 description=top.text("description", ""), sim=sim, config=config,
                 actions=actions, horizon=horizon,
                 **_given(top, {"max_duration": top.number}))


def _actions(top: _Table, sim: SimParams, config: HydraConfig) -> tuple[Action, ...]:
    actions: list[Action] = []
    names: set[str] = set()
    intents: set[str] = set()  # what a cancel may name
    for index, t in enumerate(top.tables("actions", _ANY)):
        action = _action(t, index, sim, config)
        name = _name(action)
        if name is not None and name in names:
            t.fail("id", "names an earlier action too; ids must be unique")
        if isinstance(action, CancelIntent) and action.intent_id not in intents:
            t.fail("intent", "names no intent or bracket before it in the file")
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


_ANY = ("kind", "at", "id", "symbol", "month", "to_month", "side", "quantity", "strategy",
        "policy", "entry_price", "take_profit_price", "stop_price", "stop_limit_price", "reason",
        "intent")


# --- markets and the simulator -----------------------------------------------------------------

_MARKET_KEYS = ("symbol", "month", "start_mid", "adv", "daily_volatility", "spread_ticks",
                "displayed_size", "flow_sizes", "session_seconds", "step_seconds",
                "drift_per_session", "impact_ticks_per_lot", "flows", "gaps", "halts",
                "own_impact_ticks_per_lot", "flow_sign_persistence", "depletion_ticks",
                "spread_regime_seconds", "refill_rate", "depth_levels", "queue_events_per_second",
                "join_improver_probability", "step_ahead_probability", "burn_in_seconds",
                "market_protection_ticks")
_DEFAULTS: Mapping[str, Callable[..., MarketParams]] = {
    "ZO": MarketParams.oats, "HE": MarketParams.hogs,
}


def _market(t: _Table) -> MarketParams:
    symbol = t.choice("symbol", {s.lower(): s for s in BUILT_IN_CONTRACTS})
    contract = BUILT_IN_CONTRACTS[symbol]
    if t.has("month"):
        contract = _make(t.path, contract.for_month, expiry=t.text("month"))
    changes = _given(t, {
        "start_mid": t.decimal, "adv": t.whole, "daily_volatility": t.number,
        "session_seconds": t.number, "step_seconds": t.number, "drift_per_session": t.number,
        "impact_ticks_per_lot": t.number, "own_impact_ticks_per_lot": t.number,
        "flow_sign_persistence": t.number, "depletion_ticks": t.number,
        "spread_regime_seconds": t.number, "refill_rate": t.number, "depth_levels": t.whole,
        "queue_events_per_second": t.number, "join_improver_probability": t.number,
        "step_ahead_probability": t.number, "burn_in_seconds": t.number,
        "market_protection_ticks": t.whole,
    })
    if t.has("spread_ticks"):
        changes["spread_ticks"] = _spread(t)
    if t.has("displayed_size"):
        size = t.table("displayed_size", ("minimum", "maximum", "mean"))
        changes["displayed_size"] = _make(size.path, DisplayedSize, minimum=size.whole("minimum"),
                                          maximum=size.whole("maximum"), mean=size.number("mean"))
    if t.has("flow_sizes"):
        changes["flow_sizes"] = tuple(
            _make(b.path, SizeBucket, low=b.whole("low"), high=b.whole("high"),
                  weight=b.number("weight"))
            for b in t.tables("flow_sizes", ("low", "high", "weight"))
        )
    changes["flows"] = tuple(
        _make(f.path, ScriptedFlow, at=f.number("at"), side=f.choice("side", _SIDES),
              quantity=f.whole("quantity"))
        for f in t.tables("flows", ("at", "side", "quantity"))
    )
    changes["gaps"] = tuple(_make(g.path, Gap, at=g.number("at"), change=g.decimal("change"))
                            for g in t.tables("gaps", ("at", "change")))
    changes["halts"] = tuple(_make(h.path, Halt, start=h.number("start"), end=h.number("end"))
                             for h in t.tables("halts", ("start", "end")))
    return _make(t.path, _DEFAULTS[symbol], contract=contract, **changes)


def _spread(t: _Table) -> tuple[tuple[int, float], ...]:
    pairs = []
    for index, pair in enumerate(t.array("spread_ticks")):
        ok = (isinstance(pair, list) and len(pair) == 2 and _is_int(pair[0])
              and not isinstance(pair[0], bool) and _is_number(pair[1])
              and not isinstance(pair[1], bool))
        if not ok:
            raise ScenarioError(f"{t.at('spread_ticks')}[{index}]", pair,
                                "must be a [ticks, weight] pair")
        pairs.append((pair[0], float(pair[1])))
    return tuple(pairs)


_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_SIM_KEYS = ("ack_latency", "fill_latency", "commission_per_contract", "starting_cash")


def _sim(t: _Table, markets: tuple[MarketParams, ...], faults: tuple[Fault, ...]) -> SimParams:
    settings = _given(t, {"ack_latency": t.number, "fill_latency": t.number,
                          "commission_per_contract": t.decimal, "starting_cash": t.decimal})
    try:
        return SimParams(markets=markets, faults=faults, **settings)
    except InvalidValueError as e:
        path = "markets" if e.field == "markets" else t.at(e.field)
        raise ScenarioError(path, e.value, e.problem) from None


_FAULTS: Mapping[str, tuple[type, tuple[str, ...], tuple[str, ...]]] = {
    # kind: (class, required keys, optional keys)
    "disconnect": (Disconnect, ("at", "duration"), ()),
    "reject_next_order": (RejectNextOrder, ("at",), ("code", "reason")),
    "duplicate_execution": (DuplicateExecution, ("at",), ()),
    "delay_execution": (DelayExecution, ("at", "delay"), ()),
    "stale_quotes": (StaleQuotes, ("at", "duration"), ("symbol",)),
    "bad_quotes": (BadQuotes, ("at", "duration"), ("problem", "symbol")),
}
_FAULT_KEYS = ("kind", "at", "duration", "code", "reason", "delay", "symbol", "problem")


def _faults(top: _Table) -> tuple[Fault, ...]:
    faults = []
    for t in top.tables("faults", _FAULT_KEYS):
        kind = t.choice("kind", {name: name for name in _FAULTS})
        cls, required, optional = _FAULTS[kind]
        for key in t.raw:
            if key not in ("kind", *required, *optional):
                t.fail(key, f"is not a key of a fault of kind {kind!r} (keys: "
                       f"{', '.join((*required, *optional))})")
        getters = {"code": t.whole, "reason": t.text, "symbol": t.text, "problem": t.text}
        values = {key: getters.get(key, t.number)(key) for key in required}
        values |= _given(t, {key: getters[key] for key in optional})
        faults.append(_make(t.path, cls, **values))
    return tuple(faults)


def _config(top: _Table, markets: tuple[MarketParams, ...]) -> HydraConfig:
    """Hydra's configuration from ``[config]``; its ADV per symbol defaults to the first
    market of that symbol (when its adv is above zero).

    A scenario states its markets' ADV and volatility, and its order sizes are fractions of
    that ADV, so Hydra takes them as given rather than measuring them from twenty simulated
    sessions' bars (which would route an order of exactly 1% of ADV by the noise of the
    sample); ``[config.market_facts]`` in the scenario turns the measurement back on."""
    raw = top.raw.get("config", {})
    if not isinstance(raw, Mapping):
        top.fail("config", "must be a table")
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

_KINDS: Mapping[str, tuple[str, ...]] = {
    "intent": ("id", "symbol", "month", "side", "quantity", "strategy", "policy"),
    "bracket": ("id", "symbol", "month", "side", "quantity", "strategy", "entry_price",
                "take_profit_price", "stop_price", "stop_limit_price"),
    "close": ("id", "symbol", "month", "strategy"),
    "roll": ("id", "symbol", "month", "to_month", "strategy"),
    "kill": ("reason",),
    "cancel": ("intent",),
}
_POLICIES = {policy.value: policy for policy in Policy}


def _action(t: _Table, index: int, sim: SimParams, config: HydraConfig) -> Action:
    kind = t.choice("kind", {name: name for name in _KINDS})
    for key in t.raw:
        if key not in (*_KINDS[kind], "kind", "at"):
            t.fail(key, f"is not a key of an action of kind {kind!r} "
                   f"(keys: at, {', '.join(_KINDS[kind])})")
    at = t.number("at")
    label = t.text("id", f"{kind}-{index + 1}")
    if kind == "kill":
        return _make(t.path, KillSwitch, at=at, **_given(t, {"reason": t.text}))
    if kind == "cancel":
        return _make(t.path, CancelIntent, at=at, intent_id=IntentId(t.text("intent")))
    contract = _contract(t, sim)
    strategy = t.text("strategy", "default")
    if strategy != "default" and strategy not in config.strategies:
        known = ", ".join(["default", *config.strategies])
        t.fail("strategy", f"unknown strategy (known: {known})")
    if kind == "close":
        return _make(t.path, ClosePosition, at=at, label=label, contract=contract,
                     strategy=strategy)
    if kind == "roll":
        to_month = t.text("to_month")
        _contract(t, sim, month_key="to_month")
        return _make(t.path, Roll, at=at, label=label, contract=contract, to_month=to_month,
                     strategy=strategy)
    common = dict(contract=contract, side=t.choice("side", _SIDES), quantity=t.whole("quantity"),
                  strategy=strategy, intent_id=IntentId(label))
    if kind == "intent":
        policy = t.choice("policy", _POLICIES, default=_NONE)
        return _make(t.path, SubmitIntent, at=at, policy=None if policy is _NONE else policy,
                     **common)
    prices = {key: _on_tick(t, key, contract) for key in _KINDS["bracket"] if "price" in key}
    return SubmitBracket(at=at, bracket=_make(t.path, BracketIntent, **common, **prices))


def _on_tick(t: _Table, key: str, contract: ContractSpec) -> Decimal:
    price = t.decimal(key)
    if price <= 0 or not contract.is_on_tick(price):
        t.fail(key, f"must be a price above zero on the tick grid ({contract.tick_size})")
    assert isinstance(price, Decimal)
    return price


def _contract(t: _Table, sim: SimParams, *, month_key: str = "month") -> ContractSpec:
    """The contract an action names: a market of the scenario, by symbol and month."""
    symbol = t.text("symbol")
    month = t.text(month_key, _NONE)
    same = [m.contract for m in sim.markets if m.symbol == symbol]
    if not same:
        known = ", ".join(sorted({m.symbol for m in sim.markets}))
        t.fail("symbol", f"is not a market of this scenario (known: {known})")
    if month is _NONE:
        if len(same) > 1:
            t.fail(month_key, f"is required: {symbol} trades in several months here")
        return same[0]
    exact = [c for c in same if c.expiry == month]
    if exact:
        return exact[0]
    if len(same) == 1 and same[0].expiry is None:
        return _make(t.path, same[0].for_month, expiry=month)
    months = ", ".join(c.expiry or "(none)" for c in same)
    t.fail(month_key, f"is not a month of {symbol} here (months: {months})")
