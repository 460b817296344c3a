"""Fuzzing the configuration and scenario loaders: every input loads or is one named error.

A small, fast version of ``bench/fuzz.py`` (b) and (c): mutated example tables and TOML text,
and random ones, go to `config_from_table`, `load_config`, `scenario_from_table` and
`load_scenario`; each either loads or raises the loader's own error (`ConfigError`,
`ScenarioError`) whose message starts with the field it names — never another exception.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from hydra import HydraConfig
from hydra._config import config_from_table, config_to_dict, load_config
from hydra._errors import ConfigError
from hydra.scenario import ScenarioError, load_scenario, scenario_from_table

ROOT = Path(__file__).resolve().parent.parent
FUZZ = settings(max_examples=80, deadline=None, database=None)

names = st.text(min_size=1, max_size=8)  # an empty key is the known defect tested below
scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1), st.floats(), st.booleans(),
    st.text(max_size=10), st.sampled_from(["", "0", "-1", "1e309", "NaN", "50", "bps", "ZO"]),
    st.datetimes(), st.dates(), st.times(),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(names, inner, max_size=3), max_leaves=5)


def _drop_none(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _drop_none(v) for k, v in tree.items() if v is not None}
    return tree


def _paths(tree: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(
        tree, list) else ()
    for key, value in items:
        out += _paths(value, (*path, key))
    return out


def _deep(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _deep(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_deep(v) for v in tree]
    return tree


@st.composite
def _mutated(draw: st.DrawFn, bases: list[dict[str, Any]]) -> dict[str, Any]:
    tree = _deep(draw(st.sampled_from(bases)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(tree)))
        node: Any = tree
        for step in path[:-1]:
            node = node[step]
        op = draw(st.sampled_from(["replace", "delete", "add"]))
        if path and op == "replace":
            node[path[-1]] = draw(values)
        elif path and op == "delete":
            del node[path[-1]]
        else:
            target = node[path[-1]] if path else tree
            if isinstance(target, dict):
                target[draw(names)] = draw(values)
            elif isinstance(target, list):
                target.append(draw(values))
    return tree


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, float) and abs(value) == float("inf"):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))


def _text(table: dict[str, Any]) -> bytes:
    lines = (f"{json.dumps(k)} = {_toml(v)}" for k, v in table.items())
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


def _loads_or_names_a_field(load: Callable[[], Any], error: type[ConfigError]) -> None:
    try:
        load()
    except error as e:
        message = e.message if isinstance(e, ScenarioError) else str(e)
        assert e.field, message
        assert message.startswith(f"{e.field}:"), message


CONFIG_TEXT = (ROOT / "examples" / "hydra.toml").read_text()
CONFIG_BASES = [_drop_none(config_to_dict(HydraConfig())), tomllib.loads(CONFIG_TEXT)]
SCENARIO_FILES = sorted((ROOT / "examples" / "scenarios").glob("*.toml"))
SCENARIO_BASES = [tomllib.loads(p.read_text()) for p in SCENARIO_FILES]


def _file(data: bytes) -> Callable[[Callable[[Path], Any]], Callable[[], Any]]:
    def bind(load: Callable[[Path], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "input.toml"
                path.write_bytes(data)
                return load(path)
        return run
    return bind


@FUZZ
@given(table=_mutated(CONFIG_BASES) | st.dictionaries(names, values, max_size=3))
def test_config_tables_load_or_name_a_field(table: dict[str, Any]) -> None:
    """config_from_table gives a config or a ConfigError naming a field, nothing else."""
    _loads_or_names_a_field(lambda: config_from_table(table), ConfigError)


@FUZZ
@given(data=_mutated(CONFIG_BASES).map(_text) | st.binary(max_size=100))
def test_config_files_load_or_name_a_field(data: bytes) -> None:
    """load_config on mutated or random file contents: a config or a ConfigError naming a field."""
    _loads_or_names_a_field(_file(data)(load_config), ConfigError)


@FUZZ
@given(table=_mutated(SCENARIO_BASES))
def test_scenario_tables_load_or_name_a_field(table: dict[str, Any]) -> None:
    """scenario_from_table gives a scenario or a ScenarioError naming a field, nothing else."""
    _loads_or_names_a_field(lambda: scenario_from_table(table), ScenarioError)


@FUZZ
@given(data=_mutated(SCENARIO_BASES).map(_text) | st.text(max_size=100).map(str.encode))
def test_scenario_files_load_or_name_a_field(data: bytes) -> None:
    """load_scenario on mutated or random text: a scenario or a ScenarioError naming a field."""
    _loads_or_names_a_field(_file(data)(load_scenario), ScenarioError)


@pytest.mark.parametrize("load", [config_from_table, scenario_from_table])
def test_an_empty_top_level_key_names_a_field(load: Callable[[Any], Any]) -> None:
    """The fuzzers' one finding, fixed: ``"" = 0`` is refused naming the key as ``""``."""
    with pytest.raises(ConfigError) as caught:
        load({"": 0})
    assert caught.value.field == '""'

