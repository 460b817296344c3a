"""Configuration from TOML: the file read once, its table merged over the defaults, and the
result structured into the attrs classes of `hydra._settings` by `hydra._converter`.

Nothing here knows a setting: an attrs class is a table, an enum is its string value, a
`Distance` is a one-key table (``{ bps = 50 }``), a mapping is a table merged over its
default, and ``[strategies.x]`` is merged over ``[execution]``. A new settings field therefore
needs no change here. Every mistake becomes one `ConfigError` whose ``field`` is the dotted
key path (``risk.max_order_quantity``, ``strategies.momo.patience``) and whose ``value`` is
what the file said.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import os
import re
import sys
import tomllib
import typing
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import attrs
import tomli_w

from ._contracts import BUILT_IN_CONTRACTS
from ._converter import key_path, structure, toml_data, unstructure
from ._errors import ConfigError, TomlSyntaxError
from ._settings import LIVE_PORTS, PAPER_PORTS, Distance, HydraConfig
from ._validate import WrittenFloat

FILE_FIELD = "file"
"""The ``field`` of a `ConfigError` about the file itself (missing, unreadable, not TOML)."""

MAX_DEPTH = 16
"""The deepest nesting of tables and arrays a configuration may have (Hydra's own is three);
deeper is refused before it is walked, whatever the file's size."""

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
    naming the file (for a syntax error, a `TomlSyntaxError` naming the line). The one reader
    of TOML files: the configuration's and the scenarios'. Each float is a `WrittenFloat`, so
    a money or price setting is read as the decimal the file writes, whatever its digits."""
    name = os.fspath(path)
    try:
        with open(path, "rb") as file:
            data = file.read()
        text = data.decode()
        table = tomllib.loads(text, parse_float=WrittenFloat)
    except FileNotFoundError as e:
        raise ConfigError(FILE_FIELD, name, "no such file") from e
    except OSError as e:
        raise ConfigError(FILE_FIELD, name, f"cannot be read ({e.strerror})") from e
    except UnicodeDecodeError as e:
        raise ConfigError(FILE_FIELD, name, "is not UTF-8 text") from e
    except tomllib.TOMLDecodeError as e:
        raise TomlSyntaxError(FILE_FIELD, name, f"is not valid TOML: {e}", reason=str(e),
                              text=text) from e
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
    return structure(_over(HydraConfig, table, unstructure(HydraConfig())), HydraConfig)


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _over(cls: type, table: Any, base: Mapping[str, Any]) -> Any:
    """``table`` merged over ``base`` (an attrs class ``cls`` as plain data): a table of a
    class merges key by key, a mapping's entries are added to its default's, and an entry of
    a table of classes (``[strategies.x]``) merges over the one field of that class
    (``[execution]`` as merged). What is not a table is left for `structure` to refuse."""
    if not isinstance(table, Mapping):
        return table
    types_ = _field_types(cls)
    merged = dict(base)
    for key in sorted(table, key=lambda key: _is_override_table(types_.get(key))):
        value, tp = table[key], types_.get(key)
        if tp is None or not isinstance(value, Mapping):
            merged[key] = value
        elif attrs.has(tp) and tp is not Distance:
            merged[key] = _over(tp, value, merged[key])
        elif _is_override_table(tp):
            entry_type = typing.get_args(tp)[1]
            sibling = _sibling_of_type(entry_type, types_)
            over = merged[sibling] if sibling else None
            merged[key] = merged[key] | {
                name: _over(entry_type, entry, over) if isinstance(over, Mapping) else entry
                for name, entry in value.items()}
        elif typing.get_origin(tp) is Mapping:
            merged[key] = merged[key] | dict(value)
        else:
            merged[key] = value
    return merged


def _is_override_table(tp: Any) -> bool:
    args = typing.get_args(tp)
    return typing.get_origin(tp) is Mapping and len(args) == 2 and attrs.has(args[1])


def _sibling_of_type(tp: type, types_: Mapping[str, Any]) -> str | None:
    """The name of the one field of type ``tp``, or None if there is not exactly one."""
    names = [name for name, t in types_.items() if t is tp]
    return names[0] if len(names) == 1 else None


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
    """``config`` as plain JSON-able data (`hydra._converter`): decimals as strings
    (exactly), enums as their values, distances as one-key tables, unset values as None."""
    plain = unstructure(config)
    assert isinstance(plain, dict)
    return plain


def config_to_toml(config: HydraConfig) -> str:
    """``config`` as readable TOML that `load_config` reads back to an equal configuration
    (`hydra._converter.toml_data` written by tomli-w). TOML has no null, so the settings
    that are not set are left out and named in a comment at the top instead."""
    unset = list(_unset(config_to_dict(config), path=""))
    comment = f"# not set: {', '.join(unset)}\n\n" if unset else ""
    return comment + tomli_w.dumps(toml_data(config))


def _unset(plain: Mapping[str, Any], *, path: str) -> Iterator[str]:
    """The key path of each None in ``plain``, in order."""
    for key, value in plain.items():
        if value is None:
            yield key_path(path, key)
        elif isinstance(value, Mapping):
            yield from _unset(value, path=key_path(path, key))


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
