"""Scenarios from TOML: every field read, defaults filled in, each mistake one located error."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hydra import Distance, Policy, Side
from hydra.scenario import (
    ClosePosition,
    KillSwitch,
    Roll,
    ScenarioError,
    SubmitBracket,
    SubmitIntent,
    load_scenario,
    scenario_from_table,
)
from hydra.sim import BadQuotes, Disconnect, Halt, StaleQuotes

FULL = """
name = "full"
description = "Everything."
seed = 4
horizon = 60
max_duration = 7200

[[markets]]
symbol = "ZO"
month = "202605"
start_mid = "351.25"
adv = 900
daily_volatility = 0.0
spread_ticks = [[1, 0.5], [2, 0.5]]
displayed_size = { minimum = 2, maximum = 9, mean = 4 }
flow_sizes = [{ low = 1, high = 3, weight = 1.0 }]
step_seconds = 2.0
drift_per_session = 0.01
impact_ticks_per_lot = 0.1
own_depletion_ticks = 0.0
flows = [{ at = 5, side = "sell", quantity = 2 }]
gaps = [{ at = 10, change = -1.5 }]
halts = [{ start = 20, end = 30 }]

[[markets]]
symbol = "ZO"
month = "202607"

[[markets]]
symbol = "HE"

[sim]
ack_latency = 0.05
fill_latency = 0.01
commission_per_contract = 1.25
starting_cash = 250000

[[faults]]
kind = "disconnect"
at = 100
duration = 5

[[faults]]
kind = "stale_quotes"
at = 50
duration = 10
symbol = "ZO"

[[faults]]
kind = "bad_quotes"
at = 70
duration = 3
problem = "one-sided"

[config.execution]
patience = 30
slippage_guard = { ticks = 3 }

[config.strategies.slow]
patience = 90

[[actions]]
kind = "intent"
id = "one"
at = 1
symbol = "ZO"
month = "202605"
side = "buy"
quantity = 2
strategy = "slow"
policy = "passive"

[[actions]]
kind = "bracket"
at = 2
symbol = "HE"
side = "BUY"
quantity = 1
entry_price = 85.0
take_profit_price = 85.5
stop_price = 84.5
stop_limit_price = 84.475

[[actions]]
kind = "close"
at = 3
symbol = "ZO"
month = "202605"

[[actions]]
kind = "roll"
at = 4
symbol = "ZO"
month = "202605"
to_month = "202607"

[[actions]]
kind = "kill"
at = 0.5
"""


def test_every_section_is_read() -> None:
    """Markets, simulator settings, faults, config overrides and each kind of action."""
    scenario = scenario_from_table(tomllib.loads(FULL))
    assert (scenario.name, scenario.seed, scenario.horizon, scenario.max_duration) == (
        "full", 4, 60, 7200)
    oats, _, hogs = scenario.sim.markets
    assert oats.contract.expiry == "202605" and oats.start_mid == Decimal("351.25")
    assert oats.adv == 900 and oats.spread_ticks == ((1, 0.5), (2, 0.5))
    assert oats.flows[0].side is Side.SELL and oats.gaps[0].change == Decimal("-1.5")
    assert oats.halts == (Halt(start=20, end=30),)
    assert oats.own_depletion_ticks == 0.0 < hogs.own_depletion_ticks
    assert hogs.adv == 30_000
    assert scenario.sim.commission_per_contract == Decimal("1.25")
    assert scenario.sim.faults == (Disconnect(at=100, duration=5),
                                   StaleQuotes(at=50, duration=10, symbol="ZO"),
                                   BadQuotes(at=70, duration=3, problem="one-sided"))
    config = scenario.config
    assert config.execution.patience == 30 and config.strategies["slow"].patience == 90
    assert config.execution.slippage_guard == Distance.ticks(3)
    assert config.adv["ZO"] == 900  # from the market, as [config.adv] does not say
    kinds = [type(a) for a in scenario.actions]
    assert kinds == [KillSwitch, SubmitIntent, SubmitBracket, ClosePosition, Roll]
    intent = scenario.actions[1]
    assert isinstance(intent, SubmitIntent)
    assert (intent.intent_id, intent.policy, intent.contract.expiry) == ("one", Policy.PASSIVE,
                                                                         "202605")
    close = scenario.actions[3]
    assert isinstance(close, ClosePosition) and close.label == "close-3"


def test_defaults_are_both_markets_and_until_finished() -> None:
    """Without markets, oats and hogs with their defaults; without horizon, until finished."""
    scenario = scenario_from_table({"actions": [{"kind": "kill", "at": 0}]}, name="tiny")
    assert [m.symbol for m in scenario.sim.markets] == ["ZO", "HE"]
    assert scenario.horizon is None and scenario.name == "tiny" and scenario.seed == 1


def test_a_scenario_takes_its_markets_adv_as_given_unless_it_asks_for_bars() -> None:
    """Order sizes in a scenario are fractions of its markets' ADV, so Hydra must route by
    that ADV, not by one measured from simulated bars; the scenario can ask for the bars."""
    given = scenario_from_table({"actions": KILL})
    assert not given.config.market_facts.from_bars
    assert given.config.adv["ZO"] == given.sim.markets[0].adv
    measured = scenario_from_table({"actions": KILL,
                                    "config": {"market_facts": {"from_bars": True}}})
    assert measured.config.market_facts.from_bars


def _error(table: dict[str, Any]) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_table(table)
    return caught.value


KILL = [{"kind": "kill", "at": 0}]
BUY = {"kind": "intent", "at": 0, "symbol": "ZO", "side": "BUY", "quantity": 1}


@pytest.mark.parametrize(
    ("table", "field", "problem"),
    [
        ({}, "actions", "at least one"),
        ({"actions": KILL, "horizon": "soon"}, "horizon", "number of seconds"),
        ({"actions": [{**BUY, "side": "HOLD"}]}, "actions[0].side", "must be one of"),
        ({"actions": [{**BUY, "policy": "yolo"}]}, "actions[0].policy", "must be one of"),
        ({"actions": [{**BUY, "strategy": "momo"}]}, "actions[0].strategy", "unknown strategy"),
        ({"actions": [{**BUY, "reason": "x"}]}, "actions[0].reason", "kind 'intent'"),
        ({"actions": [{**BUY, "id": "x"}, {**BUY, "id": "x"}]}, "actions[1].id", "unique"),
        ({"actions": [{**BUY, "month": "202602"}]}, "actions[0].month", "trades only in"),
        ({"actions": [{"kind": "bracket", **{k: v for k, v in BUY.items() if k != "kind"},
                       "entry_price": 350.1, "take_profit_price": 351, "stop_price": 349,
                       "stop_limit_price": 348}]}, "actions[0].entry_price", "tick grid"),
        ({"actions": [{"kind": "bracket", **{k: v for k, v in BUY.items() if k != "kind"},
                       "entry_price": 350, "take_profit_price": 349, "stop_price": 349,
                       "stop_limit_price": 348}]}, "actions[0].take_profit_price", "above"),
        ({"actions": [{"kind": "roll", "at": 0, "symbol": "ZO", "to_month": "202607"}]},
         "actions[0].month", "required"),
        ({"actions": [{"kind": "roll", "at": 0, "symbol": "ZO", "month": "202605",
                       "to_month": "202609"}],
          "markets": [{"symbol": "ZO", "month": "202605"}, {"symbol": "ZO", "month": "202607"}]},
         "actions[0].to_month", "not a month of ZO"),
        ({"actions": KILL, "markets": [{"symbol": "ZO"}, {"symbol": "ZO"}]}, "markets",
         "once"),
        ({"actions": KILL, "markets": [{"symbol": "ZO", "month": "202613"}]},
         "markets[0].month", "YYYYMM"),
        ({"actions": KILL, "markets": [{"symbol": "ZO", "spread_ticks": [[1]]}]},
         "markets[0].spread_ticks[0]", "pair"),
        ({"actions": KILL, "markets": [{"symbol": "ZO", "halts": [{"start": 5, "end": 1}]}]},
         "markets[0].halts[0].end", "after start"),
        ({"actions": KILL, "sim": {"ack_latency": -1}}, "sim.ack_latency", "negative"),
        ({"actions": KILL, "faults": [{"kind": "disconnect", "at": 1}]}, "faults[0].duration",
         "required"),
        ({"actions": KILL, "faults": [{"kind": "disconnect", "at": 1, "duration": 1,
                                       "code": 3}]}, "faults[0].code", "kind 'disconnect'"),
        ({"actions": KILL, "config": {"adv": {"ZO": 0}}}, "config.adv.ZO", "greater than zero"),
        ({"actions": KILL, "config": 3}, "config", "must be a table"),
        ({"actions": KILL, "seeds": 3}, "seeds", "did you mean seed"),
    ],
)
def test_each_mistake_names_its_key_path(table: dict[str, Any], field: str, problem: str) -> None:
    """One `ScenarioError` whose field is the exact key path."""
    error = _error(table)
    assert error.field == field
    assert problem in error.problem


def test_a_file_error_carries_the_file_and_line(tmp_path: Path) -> None:
    """load_scenario adds the file name and the key's line to the message."""
    path = tmp_path / "s.toml"
    path.write_text("seed = 1\n\n[[actions]]\nkind = 'kill'\nat = -2\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.line == 5
    assert caught.value.message == f"actions[0].at: must be a finite number of seconds, 0 or " \
        f"more, got -2 (in {path}, line 5)"


def test_a_file_names_its_scenario_after_its_stem(tmp_path: Path) -> None:
    """Without a name key, the scenario is named after the file."""
    path = tmp_path / "my-case.toml"
    path.write_text("[[actions]]\nkind = 'kill'\nat = 0\n")
    assert load_scenario(path).name == "my-case"


@pytest.mark.parametrize(("data", "problem"), [
    (b"a = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "nests more than 16 deep"),
    (b"seed = " + b"9" * 5000 + b"\n", "has a number of more than 4300 digits"),
    (b"seed = 1 # \xff\n", "is not UTF-8 text"),
])
def test_a_hostile_file_is_one_error_about_the_file(tmp_path: Path, data: bytes,
                                                    problem: str) -> None:
    """A file nested 100,000 deep or with a 5000-digit number is one ScenarioError about
    the file (they were a RecursionError and a ValueError): scenarios are read by the
    configuration's one TOML reader."""
    path = tmp_path / "s.toml"
    path.write_bytes(data)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert (caught.value.field, caught.value.problem) == ("file", problem)


def _scalar_paths(value: Any, path: str = "") -> list[tuple[str, list[Any]]]:
    """Each key path to a scalar in a TOML table, as (dotted path, keys to reach it)."""
    found: list[tuple[str, list[Any]]] = []

    def walk(item: Any, dotted: str, keys: list[Any]) -> None:
        if isinstance(item, dict):
            for key, child in item.items():
                walk(child, f"{dotted}.{key}" if dotted else key, [*keys, key])
        elif isinstance(item, list) and item and isinstance(item[0], dict):
            for index, child in enumerate(item):
                walk(child, f"{dotted}[{index}]", [*keys, index])
        else:
            found.append((dotted, keys))

    walk(value, path, [])
    return found


FULL_PATHS = _scalar_paths(tomllib.loads(FULL))


@given(st.sampled_from(FULL_PATHS), st.sampled_from([{"x": {"y": 1}}, [[{"z": 1}]]]))
@example(("actions[0].quantity", ["actions", 0, "quantity"]), {"x": {"y": 1}})
def test_a_value_of_the_wrong_shape_is_refused_at_its_key_path(
    where: tuple[str, list[Any]], wrong: Any
) -> None:
    """Whichever key of a scenario holds a table or an array of arrays instead of its value,
    the one error names that key (or a key inside it)."""
    dotted, keys = where
    table = tomllib.loads(FULL)
    parent = table
    for key in keys[:-1]:
        parent = parent[key]
    parent[keys[-1]] = wrong
    error = _error(table)
    assert error.field.startswith(dotted), (dotted, error.message)


def test_a_clash_with_an_action_s_own_name_shows_no_value() -> None:
    """An id-less action whose own name (``close-2``) an earlier id took is refused at its
    id, with no value to show since the file wrote none."""
    close = {"kind": "close", "symbol": "ZO"}
    error = _error({"actions": [{**close, "at": 0, "id": "close-2"}, {**close, "at": 1}]})
    assert error.message == "actions[1].id: names an earlier action too; ids must be unique"
