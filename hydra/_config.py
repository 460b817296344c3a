"""Configuration from TOML: a generic loader that walks the attrs classes of `hydra._settings`.

The loader knows shapes, not settings: an attrs class is a table, an enum is its string value,
a `Distance` is a one-key table (``{ bps = 50 }``), a mapping is a table merged over its
default. A new settings field therefore needs no change here. Every mistake becomes one
`ConfigError` whose ``field`` is the dotted key path (``risk.max_order_quantity``,
``strategies.momo.patience``) and whose ``value`` is what the file said.
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import functools
import json
import os
import re
import sys
import tomllib
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import attrs

from ._contracts import BUILT_IN_CONTRACTS
from ._errors import ConfigError, InvalidValueError
from ._settings import LIVE_PORTS, PAPER_PORTS, Distance, DistanceUnit, HydraConfig

FILE_FIELD = "file"
"""The ``field`` of a `ConfigError` about the file itself (missing, unreadable, not TOML)."""

MAX_DEPTH = 16
"""The deepest nesting of tables and arrays a configuration may have (Hydra's own is three);
deeper is refused before it is walked, whatever the file's size."""

_UNITS = ", ".join(unit.value for unit in DistanceUnit)


def load_config(path: str | os.PathLike[str]) -> HydraConfig:
    """The configuration in the TOML file at ``path``; any problem is a `ConfigError`."""
    return config_from_table(read_toml(path))


@attrs.frozen(kw_only=True)
class TomlFile:
    """A TOML file as read: its name, its text (where keys are written) and its table."""

    name: str
    text: str
    table: dict[str, Any]


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The TOML table in the file at ``path`` (see `read_toml_file`)."""
    return read_toml_file(path).table


def read_toml_file(path: str | os.PathLike[str]) -> TomlFile:
    """The TOML file at ``path``; a missing, unreadable or malformed file is a `ConfigError`
    naming the file (and, for a syntax error, the line)."""
    name = os.fspath(path)
    try:
        with open(path, "rb") as file:
            data = file.read()
        text = data.decode()
        table = tomllib.loads(text)
    except FileNotFoundError as e:
        raise ConfigError(FILE_FIELD, name, "no such file") from e
    except OSError as e:
        raise ConfigError(FILE_FIELD, name, f"cannot be read ({e.strerror})") from e
    except UnicodeDecodeError as e:
        raise ConfigError(FILE_FIELD, name, "is not UTF-8 text") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(FILE_FIELD, name, f"is not valid TOML: {e}") from e
    except ValueError as e:  # tomllib: an integer longer than Python converts from text
        raise ConfigError(FILE_FIELD, name, "has a number of more than "
                          f"{sys.get_int_max_str_digits()} digits") from e
    except RecursionError as e:  # tomllib reads nested arrays and inline tables recursively
        raise ConfigError(FILE_FIELD, name, f"nests more than {MAX_DEPTH} deep") from e
    if _depth(table) > MAX_DEPTH:
        raise ConfigError(FILE_FIELD, name, f"nests more than {MAX_DEPTH} deep")
    return TomlFile(name=name, text=text, table=table)


def _depth(value: object) -> int:
    """How deep tables and arrays nest in ``value`` (without recursion: a file's tables nest
    as deep as its dotted keys are long)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children = (item.values() if isinstance(item, dict)
                    else item if isinstance(item, list) else None)
        if children is None:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def config_from_table(table: Mapping[str, Any]) -> HydraConfig:
    """The configuration a parsed TOML table describes, over the defaults of `HydraConfig`."""
    config = _build(HydraConfig, table, path="", base=None)
    assert isinstance(config, HydraConfig)
    return config


# --- loading -------------------------------------------------------------------------------


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def key_path(path: str, key: str) -> str:
    """``path.key``, the dotted key path errors name (an empty key shows as ``""``)."""
    key = key or '""'
    return f"{path}.{key}" if path else key


def _build(cls: type, table: Any, *, path: str, base: Any) -> Any:
    """An instance of attrs class ``cls`` from ``table``; keys it lacks come from ``base``
    (an instance to override) or, without one, from the class defaults."""
    if not isinstance(table, Mapping):
        raise ConfigError(path, table, "must be a table")
    fields = attrs.fields_dict(cls)
    for key, value in table.items():
        if key not in fields:
            raise ConfigError(key_path(path, key), value, _unknown_key(key, fields))
    types_ = _field_types(cls)
    kwargs: dict[str, Any] = {}
    # Tables of attrs classes (strategies) override a sibling field, so they are built last.
    for name in sorted(table, key=lambda name: _is_override_table(types_[name])):
        current = getattr(base, name) if base is not None else _default(fields[name])
        kwargs[name] = _convert(
            types_[name], table[name], path=key_path(path, name), current=current,
            siblings=lambda t: _sibling_of_type(t, types_, kwargs, base, fields),
        )
    try:
        return attrs.evolve(base, **kwargs) if base is not None else cls(**kwargs)
    except ConfigError:
        raise
    except InvalidValueError as e:
        value = table.get(e.field, e.value)
        raise ConfigError(key_path(path, e.field), value, e.problem) from e
    except TypeError as e:
        raise ConfigError(path, table, str(e)) from e


def _unknown_key(key: str, fields: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(key, fields, n=1)
    return f"unknown key (did you mean {close[0]}?)" if close else "unknown key"


def _default(field: attrs.Attribute[Any]) -> Any:
    default: Any = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return default.factory()
    return default


def _is_override_table(tp: Any) -> bool:
    args = typing.get_args(tp)
    return typing.get_origin(tp) is Mapping and len(args) == 2 and attrs.has(args[1])


def _sibling_of_type(
    tp: type, types_: Mapping[str, Any], kwargs: Mapping[str, Any], base: Any,
    fields: Mapping[str, attrs.Attribute[Any]],
) -> Any:
    """The value (as loaded so far) of the one field of type ``tp``, or None if there is none."""
    names = [name for name, t in types_.items() if t is tp]
    if len(names) != 1:
        return None
    (name,) = names
    if name in kwargs:
        return kwargs[name]
    return getattr(base, name) if base is not None else _default(fields[name])


_Siblings = Callable[[type], Any]


def _convert(tp: Any, value: Any, *, path: str, current: Any, siblings: _Siblings) -> Any:
    """``value`` from TOML as a value of type ``tp``; ``current`` is what it replaces."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        (tp,) = (arg for arg in args if arg is not type(None))  # TOML has no null: X | None
        return _convert(tp, value, path=path, current=current, siblings=siblings)
    if origin is Mapping:
        return _convert_mapping(args[1], value, path=path, current=current, siblings=siblings)
    if tp is Distance:
        return _convert_distance(value, path=path)
    if attrs.has(tp):
        return _build(tp, value, path=path, base=current)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _convert_enum(tp, value, path=path)
    _check_scalar(tp, value, path=path)
    return float(value) if tp is float else value


def _convert_mapping(
    value_type: Any, table: Any, *, path: str, current: Mapping[str, Any], siblings: _Siblings
) -> dict[str, Any]:
    """A table merged over ``current``: a table of attrs classes overrides each entry's keys
    over the sibling field of that class (``[strategies.x]`` over ``[execution]``)."""
    if not isinstance(table, Mapping):
        raise ConfigError(path, table, "must be a table")
    merged = dict(current)
    for key, value in table.items():
        entry_path = key_path(path, key)
        if not key.strip():
            raise ConfigError(entry_path, key, "must be a non-empty name")
        if attrs.has(value_type):
            base = siblings(value_type)
            merged[key] = _build(value_type, value, path=entry_path, base=base)
        else:
            merged[key] = _convert(value_type, value, path=entry_path, current=None,
                                   siblings=siblings)
            if value_type is int and value <= 0:  # counts per key (adv: contracts a day)
                raise ConfigError(entry_path, value, "must be greater than zero")
    return merged


def _convert_distance(value: Any, *, path: str) -> Distance:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise ConfigError(path, value, f"must be a table with one key of {_UNITS}")
    ((unit, amount),) = value.items()
    try:
        unit = DistanceUnit(unit)
    except ValueError:
        raise ConfigError(key_path(path, unit), amount, f"unknown unit (use {_UNITS})") from None
    _check_scalar(Decimal, amount, path=key_path(path, unit.value))
    try:
        return Distance(unit=unit, value=amount)
    except InvalidValueError as e:
        raise ConfigError(key_path(path, unit.value), amount, e.problem) from e


def _convert_enum(tp: type[enum.Enum], value: Any, *, path: str) -> enum.Enum:
    try:
        return tp(value)
    except ValueError:
        choices = ", ".join(repr(member.value) for member in tp)
        raise ConfigError(path, value, f"must be one of {choices}") from None


_SCALARS: dict[Any, tuple[tuple[type, ...], str]] = {
    bool: ((bool,), "must be true or false"),
    int: ((int,), "must be a whole number"),
    float: ((int, float), "must be a number"),
    Decimal: ((int, float, str), "must be a number"),
    str: ((str,), "must be a string"),
}


def _check_scalar(tp: Any, value: Any, *, path: str) -> None:
    """Refuse a value of the wrong TOML type (a string for a number, a table for a scalar)."""
    accepted, problem = _SCALARS.get(tp, ((object,), ""))
    wrong_bool = isinstance(value, bool) and tp is not bool
    if wrong_bool or not isinstance(value, accepted):
        raise ConfigError(path, value, problem)


# --- warnings ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ConfigWarning:
    """A setting that loads but is likely not what was meant: ``field`` is its key path."""

    field: str
    value: Any
    problem: str


def config_warnings(config: HydraConfig) -> tuple[ConfigWarning, ...]:
    """What in ``config`` deserves a second look: a live port, an ADV for a contract Hydra
    does not know."""
    warnings = []
    if config.broker.port in LIVE_PORTS:
        warnings.append(ConfigWarning(
            field="broker.port", value=config.broker.port,
            problem="is a live trading port: hydra run refuses it unless given --live with "
            f"HYDRA_LIVE_CONFIRMED=true (paper ports: {' or '.join(map(str, PAPER_PORTS))})"))
    known = ", ".join(sorted(BUILT_IN_CONTRACTS))
    for symbol, adv in config.adv.items():
        if symbol not in BUILT_IN_CONTRACTS:
            warnings.append(ConfigWarning(
                field=key_path("adv", symbol), value=adv,
                problem=f"is for a contract Hydra does not know (known: {known}): only an "
                "intent for a ContractSpec of your own with this symbol uses it"))
    return tuple(warnings)


# --- writing -------------------------------------------------------------------------------


def config_to_dict(config: HydraConfig) -> dict[str, Any]:
    """``config`` as plain JSON-able data: decimals as strings (exactly), enums as their
    values, distances as one-key tables, unset optional values as None."""
    plain = _plain(config)
    assert isinstance(plain, dict)
    return plain


def _plain(value: Any) -> Any:
    if isinstance(value, Distance):
        return {value.unit.value: str(value.value)}
    if attrs.has(type(value)):
        return {f.name: _plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def config_to_toml(config: HydraConfig) -> str:
    """``config`` as readable TOML that `load_config` reads back to an equal configuration."""
    return "\n".join(_toml_lines(config, path=""))


def _toml_lines(obj: Any, *, path: str) -> Iterator[str]:
    items = (
        {f.name: getattr(obj, f.name) for f in attrs.fields(type(obj))}
        if attrs.has(type(obj)) else dict(obj)
    )
    tables = {k: v for k, v in items.items() if _is_table(v)}
    scalars = {k: v for k, v in items.items() if k not in tables}
    if path and (scalars or not tables):
        yield f"[{path}]"
        if not scalars:
            yield ""
    for key, value in scalars.items():
        if value is None:
            yield f"# {_toml_key(key)} is not set"
        else:
            yield f"{_toml_key(key)} = {toml_value(value)}"
    if scalars:
        yield ""
    for key, value in tables.items():
        yield from _toml_lines(value, path=key_path(path, _toml_key(key)))


def _is_table(value: Any) -> bool:
    if isinstance(value, Distance):
        return False
    return isinstance(value, Mapping) or attrs.has(type(value))


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


SHOWN_CHARACTERS = 100
"""The most of a key or value a message shows: a file's megabyte string or hundred-thousand
character key stays a line a trader can read."""


def shown(text: str) -> str:
    """``text`` as a message shows it: whole when short, else its start and its length."""
    if len(text) <= SHOWN_CHARACTERS:
        return text
    return f"{text[:SHOWN_CHARACTERS - 20]}... ({len(text):,} characters)"


def toml_value(value: Any) -> str:
    """``value`` as TOML writes it (``true``, ``"text"``, ``{ bps = 50 }``), so messages show
    what the file says rather than Python's spelling of it."""
    if isinstance(value, Distance):
        return f"{{ {value.unit.value} = {toml_value(value.value)} }}"
    if isinstance(value, enum.Enum):
        return toml_value(value.value)
    if isinstance(value, Mapping):
        items = ", ".join(f"{_toml_key(str(k))} = {toml_value(v)}" for k, v in value.items())
        return f"{{ {items} }}" if items else "{}"
    if isinstance(value, list | tuple):
        return f"[{', '.join(toml_value(item) for item in value)}]"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)  # a JSON string is a valid TOML basic string
