"""One converter between Hydra's values and plain data: TOML tables in, JSON-able data out.

Built on cattrs (`converter`). Out: decimals as strings (exactly), enums as their values,
datetimes as ISO 8601, a `Distance` as its one-key table (``{"bps": "50"}``), a contract as
symbol and delivery month, tuples as lists, mappings as dicts, unset values as None. In
(`structure`): what a TOML file can say, checked by type with the project's messages (a
string for a number is "must be a number"), an unknown key refused with a near match, and
the first problem raised as one `ConfigError` whose ``field`` is the dotted key path
(``strategies.momo.patience``) and whose ``value`` is what the table said there.
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import json
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    ForbiddenExtraKeysError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn

from ._contracts import ContractSpec
from ._errors import ConfigError, InvalidValueError
from ._settings import Distance, DistanceUnit

T = TypeVar("T")

_UNITS = ", ".join(unit.value for unit in DistanceUnit)


def key_path(path: str, key: str) -> str:
    """``path.key``, the dotted key path errors name (an empty key shows as ``""``)."""
    key = key or '""'
    return f"{path}.{key}" if path else key


# --- out -----------------------------------------------------------------------------------


def _distance_out(value: Distance) -> dict[str, str]:
    return {value.unit.value: str(value.value)}


def _contract_out(value: ContractSpec) -> dict[str, str | None]:
    return {"symbol": value.symbol, "expiry": value.expiry}


def _mapping_out(value: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(key): converter.unstructure(item) for key, item in value.items()}


# --- in ------------------------------------------------------------------------------------

_SCALARS: dict[type, tuple[tuple[type, ...], str]] = {
    bool: ((bool,), "must be true or false"),
    int: ((int,), "must be a whole number"),
    float: ((int, float), "must be a number"),
    Decimal: ((int, float, str), "must be a number"),
    str: ((str,), "must be a string"),
}


def _scalar_in(tp: type) -> Callable[[Any, Any], Any]:
    """A TOML value of the scalar type ``tp``, checked by type only: an attrs converter and
    validator judge its value (a `Decimal` field's string stays a string until then)."""
    accepted, problem = _SCALARS[tp]

    def structure(value: Any, _: Any) -> Any:
        if (isinstance(value, bool) and tp is not bool) or not isinstance(value, accepted):
            raise ConfigError("", value, problem)
        return float(value) if tp is float else value  # type: ignore[arg-type]

    return structure


def _enum_in(value: Any, tp: type[enum.Enum]) -> enum.Enum:
    try:
        return tp(value)
    except ValueError:
        choices = ", ".join(repr(member.value) for member in tp)
        raise ConfigError("", value, f"must be one of {choices}") from None


def _distance_in(value: Any, _: Any) -> Distance:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise ConfigError("", value, f"must be a table with one key of {_UNITS}")
    ((unit, amount),) = value.items()
    try:
        unit = DistanceUnit(unit)
    except ValueError:
        raise ConfigError(unit, amount, f"unknown unit (use {_UNITS})") from None
    if isinstance(amount, bool) or not isinstance(amount, int | float | str):
        raise ConfigError(unit.value, amount, _SCALARS[Decimal][1])
    try:
        return Distance(unit=unit, value=amount)
    except InvalidValueError as e:
        raise ConfigError(unit.value, amount, e.problem) from e


def _is_mapping(tp: Any) -> bool:
    return getattr(tp, "__origin__", None) is Mapping


def _mapping_in(tp: Any) -> Callable[[Any, Any], Any]:
    """A table of names: each key a non-empty name, each count (ADV) above zero."""
    _, value_type = tp.__args__
    entries = converter.gen_structure_mapping(tp)

    def structure(table: Any, _: Any) -> dict[str, Any]:
        if not isinstance(table, Mapping):
            raise ConfigError("", table, "must be a table")
        for key in table:
            if not key.strip():
                raise ConfigError(key, key, "must be a non-empty name")
        result: dict[str, Any] = entries(table, tp)
        for key, value in result.items():
            if value_type is int and value <= 0:
                raise ConfigError(key, value, "must be greater than zero")
        return result

    return structure


def _class_in(cls: type) -> Callable[[Any, Any], Any]:
    """An attrs class from a table: an unknown key is refused (cattrs' extra-keys check)."""
    build: Callable[[Any, Any], Any] = make_dict_structure_fn(
        cls, converter, _cattrs_forbid_extra_keys=True)

    def structure(table: Any, _: Any) -> Any:
        if not isinstance(table, Mapping):
            raise ConfigError("", table, "must be a table")
        return build(table, cls)

    return structure


def _make_converter() -> cattrs.Converter:
    made = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
    made.register_unstructure_hook(Decimal, str)
    made.register_unstructure_hook(dt.datetime, dt.datetime.isoformat)
    made.register_unstructure_hook(dt.date, dt.date.isoformat)
    made.register_unstructure_hook(dt.time, dt.time.isoformat)
    made.register_unstructure_hook(Distance, _distance_out)
    made.register_unstructure_hook(ContractSpec, _contract_out)
    made.register_unstructure_hook_func(lambda tp: isinstance(tp, type) and issubclass(
        tp, Mapping), _mapping_out)
    made.register_unstructure_hook(tuple, lambda value: [made.unstructure(v) for v in value])
    for tp in _SCALARS:
        made.register_structure_hook(tp, _scalar_in(tp))
    made.register_structure_hook_func(
        lambda tp: isinstance(tp, type) and issubclass(tp, enum.Enum), _enum_in)
    made.register_structure_hook(Distance, _distance_in)
    made.register_structure_hook_factory(_is_mapping, _mapping_in)
    made.register_structure_hook_factory(
        lambda tp: attrs.has(tp) and tp is not Distance, _class_in)
    return made


converter = _make_converter()
"""Hydra's one cattrs converter (see the module's docstring)."""


def unstructure(value: Any) -> Any:
    """``value`` as JSON-able data."""
    return converter.unstructure(value)


def json_text(value: Any, *, indent: int | None = None) -> str:
    """``value`` as JSON text, as every ``--json`` output prints it (see `unstructure`)."""
    return json.dumps(unstructure(value), indent=indent)


def structure(table: Mapping[str, Any], cls: type[T]) -> T:
    """The ``cls`` that ``table`` describes; the first problem is one `ConfigError` naming
    its key path and showing the table's value there."""
    try:
        return converter.structure(table, cls)
    except Exception as e:  # cattrs groups what each field raised, with notes of where
        path, error = _first_problem(e, ())
        raise _config_error(path, error, table) from e


def _first_problem(error: BaseException, path: tuple[str, ...]
                   ) -> tuple[tuple[str, ...], BaseException]:
    """The key path and the exception of the problem to report: an unknown key first, else
    the first in field order."""
    if not isinstance(error, BaseExceptionGroup):
        return path, error
    subs = sorted(error.exceptions, key=lambda sub: not isinstance(sub, ForbiddenExtraKeysError))
    sub = subs[0]
    return _first_problem(sub, (*path, *_where(sub)))


def _where(error: BaseException) -> Iterator[str]:
    for note in getattr(error, "__notes__", ()):
        if isinstance(note, AttributeValidationNote):
            yield note.name
        elif isinstance(note, IterableValidationNote):
            yield str(note.index)


def _config_error(path: tuple[str, ...], error: BaseException, table: Mapping[str, Any]
                  ) -> ConfigError:
    here = _at(table, path)
    dotted = ""
    for key in path:
        dotted = key_path(dotted, key)
    if isinstance(error, ForbiddenExtraKeysError):
        assert isinstance(here, Mapping)
        key = next(k for k in here if k in error.extra_fields)
        known = attrs.fields_dict(error.cl) if error.cl is not None else {}
        close = difflib.get_close_matches(key, known, n=1)
        problem = f"unknown key (did you mean {close[0]}?)" if close else "unknown key"
        return ConfigError(key_path(dotted, key), here[key], problem)
    if isinstance(error, ConfigError):  # a hook's: the field is relative, the value raw
        return ConfigError(key_path(dotted, error.field) if error.field else dotted,
                           error.value, error.problem)
    if isinstance(error, InvalidValueError):  # an attrs validator's: field names an attribute
        value = here.get(error.field, error.value) if isinstance(here, Mapping) else error.value
        return ConfigError(key_path(dotted, error.field), value, error.problem)
    return ConfigError(dotted, here, str(error))


def _at(table: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        table = table[key]
    return table
