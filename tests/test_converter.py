"""Tests for hydra._converter: one converter between Hydra's values and plain data."""

from __future__ import annotations

import datetime as dt
import enum
import json
import typing
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydra._config import config_from_table
from hydra._contracts import OATS
from hydra._converter import json_text, make_converter, structure, unstructure
from hydra._enums import Side
from hydra._errors import ConfigError, InvalidValueError, MissingKeyError
from hydra._settings import Distance, DistanceUnit, ExecutionSettings, HydraConfig
from hydra.cli._shared import CommandError

SECTIONS = [field.name for field in attrs.fields(HydraConfig)]

distances = st.builds(
    Distance, unit=st.sampled_from(list(DistanceUnit)),
    value=st.decimals(min_value=0, max_value=10_000, places=4, allow_nan=False))


@pytest.mark.parametrize("section", SECTIONS)
def test_every_config_section_round_trips(section: str) -> None:
    """Each section of the default configuration, made plain data, structures back equal."""
    value = getattr(HydraConfig(), section)
    cls = type(value) if attrs.has(type(value)) else None
    plain = unstructure(HydraConfig())[section]
    json.dumps(plain)  # plain data indeed
    if cls is not None:
        assert structure(plain, cls) == value


def test_whole_config_round_trips_through_json() -> None:
    """The configuration as JSON text and back is the same configuration."""
    config = HydraConfig(strategies={"momo": ExecutionSettings(patience=5.0)},
                         adv={"ZO": 10, "HE": 20})
    assert structure(json.loads(json.dumps(unstructure(config))), HydraConfig) == config


@given(distances)
def test_distance_round_trips_exactly(distance: Distance) -> None:
    """A distance goes out as its one-key table, the amount as exact text, and comes back."""
    plain = unstructure(distance)
    assert plain == {distance.unit.value: str(distance.value)}
    assert structure(plain, Distance) == distance


@given(st.decimals(allow_nan=False, allow_infinity=False, places=6),
       st.sampled_from(list(Side)), st.datetimes(timezones=st.just(dt.UTC)))
def test_values_go_out_as_json_text(price: Decimal, side: Side, when: dt.datetime) -> None:
    """Decimals go out as exact strings, enums as their values, datetimes as ISO 8601."""
    assert unstructure(price) == str(price)
    assert Decimal(unstructure(price)) == price
    assert unstructure(side) == side.value
    assert dt.datetime.fromisoformat(unstructure(when)) == when


def test_contract_goes_out_as_symbol_and_month() -> None:
    """A contract is its symbol and delivery month, as the journal writes it."""
    assert unstructure(OATS.for_month("202703")) == {"symbol": "ZO", "expiry": "202703"}


def test_mappings_and_tuples_go_out_as_dicts_and_lists() -> None:
    """A frozen mapping and a tuple become a dict and a list, their items converted."""
    assert unstructure(HydraConfig().adv) == {"ZO": 1500, "HE": 30000}
    assert unstructure((Decimal("1.5"), Side.BUY)) == ["1.5", "BUY"]


@pytest.mark.parametrize(("table", "field", "value", "problem"), [
    ({"execution": {"patiense": 1}}, "execution.patiense", 1,
     "unknown key (did you mean patience?)"),
    ({"strategies": {"m": {"twap_slices": "3"}}}, "strategies.m.twap_slices", "3",
     "must be a whole number"),
    ({"risk": {"breakers": {"drawdown": "off"}}}, "risk.breakers.drawdown", "off",
     "must be one of 'ACTIVE', 'REDUCING', 'HALTED'"),
    ({"adv": {"ZO": 0}}, "adv.ZO", 0, "must be greater than zero"),
    ({"adv": {" ": 3}}, 'adv. ', " ", "must be a non-empty name"),
    ({"broker": 4002}, "broker", 4002, "must be a table"),
    ({"execution": {"slippage_guard": {"pips": 3}}}, "execution.slippage_guard.pips", 3,
     "unknown unit (use bps, ticks, absolute)"),
    ({"execution": {"price_step_pct": "-1"}}, "execution.price_step_pct", "-1",
     "must be greater than zero"),
])
def test_first_problem_names_its_key_path(table: dict[str, Any], field: str, value: Any,
                                          problem: str) -> None:
    """Whatever level a problem is at, the one error names its dotted key path and shows
    the table's value there."""
    with pytest.raises(ConfigError) as caught:
        structure(table, HydraConfig)
    assert (caught.value.field, caught.value.value, caught.value.problem) == (
        field, value, problem)


def test_unknown_key_comes_before_other_problems() -> None:
    """A table with an unknown key and a bad value reports the unknown key, whatever the
    order they are written in (as the hand-written loader did)."""
    with pytest.raises(ConfigError) as caught:
        structure({"execution": {"patience": -1, "twap_slice": 1}}, HydraConfig)
    assert caught.value.field == "execution.twap_slice"


def test_json_text_encodes_what_a_table_can_hold() -> None:
    """JSON text of TOML's values: a datetime in ISO 8601, a decimal exactly, nested too."""
    when = dt.datetime(1979, 5, 27, 7, 32, tzinfo=dt.UTC)
    text = json_text({"at": when, "price": Decimal("1.10"), "sides": (Side.BUY,)})
    assert json.loads(text) == {"at": "1979-05-27T07:32:00+00:00", "price": "1.10",
                                "sides": ["BUY"]}


def test_command_error_json_shows_the_value_in_iso() -> None:
    """A ``--json`` error about a TOML datetime shows it in ISO 8601, not Python's str."""
    when = dt.datetime(1979, 5, 27, 7, 32)
    error = CommandError("config error", details={"field": "broker.port", "value": when})
    assert json.loads(error.to_json()) == {"error": "config error", "field": "broker.port",
                                           "value": "1979-05-27T07:32:00"}


@attrs.frozen(kw_only=True)
class _Leg:
    at: float
    side: Side = Side.BUY


@attrs.frozen(kw_only=True)
class _Plan:
    legs: tuple[_Leg, ...] = ()


SCENARIO_RULES = make_converter(finite=True, any_case=True)


@pytest.mark.parametrize(("table", "field", "problem"), [
    ({"legs": [{"at": 1}, {}]}, "legs[1].at", "is required"),
    ({"legs": [{"at": float("inf")}]}, "legs[0].at", "must be a number"),
    ({"legs": [{"at": 1, "side": "hold"}]}, "legs[0].side", "must be one of 'buy', 'sell'"),
    ({"legs": {"at": 1}}, "legs", "must be an array"),
])
def test_scenario_rules_name_array_indexes(table: dict[str, Any], field: str,
                                           problem: str) -> None:
    """With finite numbers and names in any case, a problem inside an array names its index,
    and a missing key is a MissingKeyError."""
    with pytest.raises(ConfigError) as caught:
        structure(table, _Plan, using=SCENARIO_RULES)
    assert (caught.value.field, caught.value.problem) == (field, problem)
    assert isinstance(caught.value, MissingKeyError) == (problem == "is required")


def test_scenario_rules_take_names_in_any_case_and_keep_whole_numbers() -> None:
    """``side = "sell"`` is Side.SELL, and ``at = 2`` stays the file's 2."""
    plan = structure({"legs": [{"at": 2, "side": "sell"}]}, _Plan, using=SCENARIO_RULES)
    assert plan.legs == (_Leg(at=2, side=Side.SELL),)
    assert type(plan.legs[0].at) is int


class _Odd:
    """A type whose hook has a bug."""


@attrs.frozen(kw_only=True)
class _HoldsOdd:
    odd: _Odd


def test_a_bug_in_a_hook_is_not_a_config_error() -> None:
    """A hook that fails by a bug (not a refusal of the table) propagates as itself."""
    made = make_converter()

    def broken(value: Any, _: Any) -> _Odd:
        raise AttributeError("a bug")

    made.register_structure_hook(_Odd, broken)
    with pytest.raises(BaseExceptionGroup) as caught:
        structure({"odd": 1}, _HoldsOdd, using=made)
    assert caught.group_contains(AttributeError, match="a bug", depth=None)


def _values_of(tp: Any) -> st.SearchStrategy[Any] | None:
    """Values a settings field of type ``tp`` may hold (some of them its validator refuses);
    None for a type this test does not draw (text, tables)."""
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(min_value=1, max_value=10_000)
    if tp is float:
        return st.floats(min_value=0.001, max_value=1e6) | st.just(float("inf"))
    if tp is Decimal:
        return st.decimals(min_value=0, max_value=10**6, places=4)
    if tp is Distance:
        return distances
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    return None


_DRAWN = {
    section: {name: values for name, tp in typing.get_type_hints(type(value)).items()
              if (values := _values_of(tp)) is not None}
    for section in SECTIONS if attrs.has(type(value := getattr(HydraConfig(), section)))
    and any(_values_of(tp) is not None for tp in typing.get_type_hints(type(value)).values())}
"""Per section of the configuration, the settings this test changes and their values."""


@given(st.data())
def test_any_config_loads_back_from_its_json(data: st.DataObject) -> None:
    """A configuration with some settings changed, written as JSON (`json_text`), loads back
    (`config_from_table`) to the same configuration: decimals, enums, distances, inf."""
    config = HydraConfig()
    for section in data.draw(st.lists(st.sampled_from(sorted(_DRAWN)), max_size=4)):
        name = data.draw(st.sampled_from(sorted(_DRAWN[section])))
        try:
            changed = attrs.evolve(getattr(config, section),
                                   **{name: data.draw(_DRAWN[section][name])})
            config = attrs.evolve(config, **{section: changed})
        except InvalidValueError:
            continue  # a value its validator refuses: the configuration stays as it was
    assert config_from_table(json.loads(json_text(config))) == config
