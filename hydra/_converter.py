"""One converter between Hydra's values and plain data: TOML tables in, JSON-able data out,
and that JSON back in.

Built on cattrs (`converter`). Out: decimals as strings (exactly), enums as their values,
datetimes as ISO 8601, a `Distance` as its one-key table (``{"bps": "50"}``), a contract as
symbol and delivery month, tuples as lists, mappings as dicts, unset values as None. In
(`structure`): what a TOML file can say, checked by type with the project's messages (a
string for a number is "must be a number"), an unknown key refused with a near match, and
the first problem raised as one `ConfigError` whose ``field`` is the dotted key path
(``strategies.momo.patience``) and whose ``value`` is what the table said there. Back in
(`from_json`): what ``out`` wrote — the journal's and audit log's payloads — read by the same
forms in reverse (a contract's symbol names the built-in contract, which supplies the rest).
Two variants of "out": for a TOML file (`toml_data`, for tomli-w) numbers and times stay
TOML's own; for a report of figures (`numbers_converter`) a decimal is a rounded JSON number.
`fields_out` writes one class with cattrs' per-attribute overrides (left out, renamed, its own
hook), so an output states only what the converter cannot: a computed figure.
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import json
import math
import typing
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.errors import (
    AttributeValidationNote,
    ForbiddenExtraKeysError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn
from cattrs.gen import override as override  # for `fields_out`'s callers

from ._contracts import ContractSpec, contract_for
from ._core._model_versions import FillPrediction, ModelVersion, Prediction
from ._errors import ConfigError, InvalidValueError, MissingKeyError
from ._settings import Distance, DistanceUnit
from ._validate import to_decimal

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


def _with_out_hooks(made: cattrs.Converter) -> cattrs.Converter:
    """``made`` writing Hydra's JSON forms (the module docstring's "out")."""
    made.register_unstructure_hook(Decimal, str)
    made.register_unstructure_hook(dt.datetime, dt.datetime.isoformat)
    made.register_unstructure_hook(dt.date, dt.date.isoformat)
    made.register_unstructure_hook(dt.time, dt.time.isoformat)
    made.register_unstructure_hook(Distance, _distance_out)
    made.register_unstructure_hook(ContractSpec, _contract_out)
    made.register_unstructure_hook_func(
        lambda tp: isinstance(tp, type) and issubclass(tp, Mapping),
        lambda value: {str(key): made.unstructure(item) for key, item in value.items()})
    made.register_unstructure_hook(tuple, lambda value: [made.unstructure(v) for v in value])
    return made


def _toml_converter() -> cattrs.Converter:
    """The out forms as TOML writes them: TOML has numbers, datetimes and times of its own,
    so a decimal stays a decimal (a distance's amount too) and a datetime a datetime."""
    made = _with_out_hooks(cattrs.Converter())
    for tp in (Decimal, dt.datetime, dt.date, dt.time):
        made.register_unstructure_hook(tp, lambda value: value)
    made.register_unstructure_hook(Distance, lambda value: {value.unit.value: value.value})
    return made


_toml = _toml_converter()


def toml_data(value: Any) -> Any:
    """``value`` as data that `tomli_w` writes: `unstructure`'s forms, numbers and times as
    TOML's own, and unset values left out (TOML has no null; unset is each one's default)."""
    return _set_only(_toml.unstructure(value))


def _set_only(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _set_only(item) for key, item in data.items() if item is not None}
    if isinstance(data, list):
        return [_set_only(item) for item in data]
    return data


# --- back in -------------------------------------------------------------------------------


def _contract_back(data: Mapping[str, Any], _: Any) -> ContractSpec:
    contract = contract_for(data["symbol"])
    return contract.for_month(data["expiry"]) if data.get("expiry") else contract


def _as_it_is(value: Any, _: Any) -> Any:
    return value


def _is_optional(tp: Any) -> bool:
    args = typing.get_args(tp)
    return len(args) == 2 and type(None) in args


def _optional_back(tp: Any, made: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """``X | None`` read as None or by X's hook, found once (cattrs finds it at each call)."""
    (inner,) = (arg for arg in typing.get_args(tp) if arg is not type(None))
    hook = made.get_structure_hook(inner)
    if hook is _as_it_is:
        return _as_it_is
    return lambda value, _: None if value is None else hook(value, inner)


def _json_converter() -> cattrs.Converter:
    """The out forms read back: a key the class lacks is ignored (a payload field a later
    version added), one it lacks takes the class's default (one an earlier version had not
    yet written: a fill's month, an intent's policy). Errors are the plain ones (a `KeyError`,
    a validator's), not grouped: what it reads is Hydra's own writing, not a person's."""
    made = _with_out_hooks(cattrs.Converter(detailed_validation=False,
                                            prefer_attrib_converters=True))
    for tp in (str, int, bool):  # JSON's own: taken as they are, for the validators to judge
        made.register_structure_hook(tp, _as_it_is)
    made.register_structure_hook_func(
        lambda tp: getattr(tp, "__supertype__", None) in (str, int), _as_it_is)  # an id
    made.register_structure_hook_factory(_is_optional, _optional_back)
    made.register_structure_hook(Decimal, lambda value, _: Decimal(value))
    made.register_structure_hook(dt.datetime, lambda value, _: dt.datetime.fromisoformat(value))
    made.register_structure_hook(ContractSpec, _contract_back)
    return made


_json = _json_converter()


def from_json(data: Any, cls: type[T]) -> T:
    """The ``cls`` that `unstructure` wrote as ``data``."""
    return _json.structure(data, cls)


# --- in ------------------------------------------------------------------------------------

_SCALARS: dict[type, tuple[tuple[type, ...], str]] = {
    bool: ((bool,), "must be true or false"),
    int: ((int,), "must be a whole number"),
    float: ((int, float), "must be a number"),
    Decimal: ((int, float, str), "must be a number"),
    str: ((str,), "must be a string"),
}


def _scalar_in(tp: type, *, finite: bool) -> Callable[[Any, Any], Any]:
    """A TOML value of the scalar type ``tp``, checked by type (and, with ``finite``, a number
    must be finite): an attrs converter and validator judge the rest (without ``finite``, a
    `Decimal` field's string stays a string until its converter reads it)."""
    accepted, problem = _SCALARS[tp]

    def structure(value: Any, _: Any) -> Any:
        if _is_wrong_type(value, accepted, tp):
            raise ConfigError("", value, problem)
        if finite and tp is Decimal:
            number = to_decimal(value)
            if not isinstance(number, Decimal) or not number.is_finite():
                raise ConfigError("", value, problem)
            return number
        if finite and tp is float:
            if not math.isfinite(value):
                raise ConfigError("", value, problem)
            return value  # as written: a validator's message shows the file's -2, not -2.0
        return float(value) if tp is float else value

    return structure


def _is_wrong_type(value: Any, accepted: tuple[type, ...], tp: type) -> bool:
    return (isinstance(value, bool) and tp is not bool) or not isinstance(value, accepted)


def _enum_in(value: Any, tp: type[enum.Enum]) -> enum.Enum:
    try:
        return tp(value)
    except ValueError:
        choices = ", ".join(repr(member.value) for member in tp)
        raise ConfigError("", value, f"must be one of {choices}") from None


def _enum_in_any_case(value: Any, tp: type[enum.Enum]) -> enum.Enum:
    if not isinstance(value, str):
        raise ConfigError("", value, "must be a string")
    by_name = {str(member.value).lower(): member for member in tp}
    if value.lower() not in by_name:
        raise ConfigError("", value, f"must be one of {', '.join(map(repr, by_name))}")
    return by_name[value.lower()]


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
    return typing.get_origin(tp) is Mapping


def _mapping_in(tp: Any, made: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """A table of names: each key a non-empty name, each count (ADV) above zero."""
    _, value_type = typing.get_args(tp)
    entries = made.gen_structure_mapping(tp)

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


def _is_array(tp: Any) -> bool:
    args = typing.get_args(tp)
    return typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _array_in(tp: Any, made: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """An array of like items, as a tuple."""
    items = homogenous_tuple_structure_factory(tp, made)

    def structure(array: Any, _: Any) -> tuple[Any, ...]:
        if not isinstance(array, list | tuple):
            raise ConfigError("", array, "must be an array")
        result: tuple[Any, ...] = items(array, tp)
        return result

    return structure


def _class_in(cls: type, made: cattrs.Converter, *, extra_keys: bool = False
              ) -> Callable[[Any, Any], Any]:
    """An attrs class from a table: an unknown key is refused (cattrs' extra-keys check),
    or with ``extra_keys`` ignored."""
    build: Callable[[Any, Any], Any] = make_dict_structure_fn(
        cls, made, _cattrs_forbid_extra_keys=not extra_keys)

    def structure(table: Any, _: Any) -> Any:
        if not isinstance(table, Mapping):
            raise ConfigError("", table, "must be a table")
        return build(table, cls)

    return structure


def make_converter(*, finite: bool = False, any_case: bool = False) -> cattrs.Converter:
    """A converter with Hydra's hooks. ``finite``: numbers must be finite and a whole number
    stays one (a scenario's times and sizes; in a configuration, ``inf`` turns an age check
    off, and a float setting becomes a float). ``any_case``: an
    enum's value may be written in any case (a scenario's ``side = "buy"``)."""
    made = _with_out_hooks(cattrs.Converter(detailed_validation=True, forbid_extra_keys=True))
    for tp in _SCALARS:
        made.register_structure_hook(tp, _scalar_in(tp, finite=finite))
    made.register_structure_hook_func(lambda tp: isinstance(tp, type) and issubclass(
        tp, enum.Enum), _enum_in_any_case if any_case else _enum_in)
    made.register_structure_hook(Distance, _distance_in)
    made.register_structure_hook_factory(_is_mapping, _mapping_in)
    made.register_structure_hook_factory(_is_array, _array_in)
    made.register_structure_hook_factory(
        lambda tp: attrs.has(tp) and tp is not Distance, _class_in)
    return made


converter = make_converter()
"""Hydra's converter for configuration tables and every JSON output."""


def _zoned_in(value: Any, _: Any) -> dt.datetime:
    problem = "must be an ISO 8601 time with its zone"
    if not isinstance(value, str):
        raise ConfigError("", value, problem)
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError("", value, problem) from None
    if when.tzinfo is None:
        raise ConfigError("", value, problem)
    return when


def _fill_prediction_in(made: cattrs.Converter) -> Callable[[Any, Any], FillPrediction]:
    """A fill's own prediction: one flat table, its `Prediction`'s fields beside the rest
    (its bps as ``predicted_bps``, as `FillPrediction.to_json` writes it)."""
    made.register_structure_hook(Prediction, make_dict_structure_fn(
        Prediction, made, _cattrs_forbid_extra_keys=False, bps=override(rename="predicted_bps")))
    fields = make_dict_structure_fn(FillPrediction, made, _cattrs_forbid_extra_keys=False)

    def structure(table: Any, _: Any) -> FillPrediction:
        if not isinstance(table, Mapping):
            raise ConfigError("", table, "must be a table")
        return fields({**table, "prediction": table}, FillPrediction)

    return structure


def _notes_converter() -> cattrs.Converter:
    """A journal note's payload read as a table is (`structure`): each field checked by type,
    numbers finite; but a key its class lacks is ignored (one a later version added), and a
    time is its ISO 8601 text with its zone."""
    made = make_converter(finite=True)
    made.register_structure_hook_factory(
        lambda tp: attrs.has(tp) and tp is not Distance,
        lambda cls, made: _class_in(cls, made, extra_keys=True))
    made.register_structure_hook(dt.datetime, _zoned_in)
    made.register_structure_hook(FillPrediction, _fill_prediction_in(made))
    return made


notes_converter = _notes_converter()
"""The converter of the journal's notes (`hydra._codec.note_from_json`)."""


def unstructure(value: Any) -> Any:
    """``value`` as JSON-able data."""
    return converter.unstructure(value)


def fields_out(cls: type, *, using: cattrs.Converter = converter, **overrides: Any
               ) -> Callable[[Any], dict[str, Any]]:
    """The function that writes a ``cls`` as ``using`` does (`unstructure`), with cattrs'
    per-attribute ``overrides`` (`override`: one left out, renamed, or written by a hook of
    its own)."""
    made: Callable[[Any], dict[str, Any]] = make_dict_unstructure_fn(cls, using, **overrides)
    return made


def rounded(places: int) -> Callable[[Decimal | None], float | None]:
    """A decimal as a JSON number rounded to ``places`` (None stays None)."""
    def number(value: Decimal | None) -> float | None:
        return None if value is None else float(round(value, places))
    return number


def numbers_converter(places: int) -> cattrs.Converter:
    """`unstructure`'s forms, but a decimal as a JSON number rounded to ``places``: a report
    for programs that compute with its figures (``scenario run --json``)."""
    made = _with_out_hooks(cattrs.Converter())
    made.register_unstructure_hook(Decimal, rounded(places))
    return made


def _version_out() -> Callable[[ModelVersion], dict[str, Any]]:
    """A slippage model's version as a ``model_version`` note's payload: its weights sorted by
    key, and its held-out RMSE stated by hand, for it is computed from the residuals (a
    property, not an attribute; read back, it is ignored)."""
    fields = fields_out(ModelVersion, weights=override(
        unstruct_hook=lambda weights: {key: converter.unstructure(weights[key])
                                       for key in sorted(weights)}))

    def version_out(version: ModelVersion) -> dict[str, Any]:
        return {**fields(version), "heldout_rmse_bps": unstructure(version.heldout_rmse_bps)}

    return version_out


converter.register_unstructure_hook(ModelVersion, _version_out())
_json.register_structure_hook(ModelVersion, make_dict_structure_fn(
    ModelVersion, _json, _cattrs_prefer_attrib_converters=False))  # its weights as `Weights`


def json_text(value: Any, *, indent: int | None = None) -> str:
    """``value`` as JSON text, as every ``--json`` output prints it (see `unstructure`)."""
    return json.dumps(unstructure(value), indent=indent)


def structure(table: Mapping[str, Any], cls: type[T], *,
              using: cattrs.Converter = converter) -> T:
    """The ``cls`` that ``table`` describes (read by ``using``); the first problem is one
    `ConfigError` naming its key path and showing the table's value there (a key ``cls``
    requires and ``table`` lacks: a `MissingKeyError`)."""
    try:
        return using.structure(table, cls)
    except (cattrs.BaseValidationError, InvalidValueError) as e:
        path, error = _first_problem(e, ())  # cattrs groups what each field raised
        if not isinstance(error, _TABLE_PROBLEMS):
            raise  # a bug, not a mistake in the table
        raise _config_error(path, error, table) from e


_TABLE_PROBLEMS = (ForbiddenExtraKeysError, KeyError, ValueError, TypeError)
"""What structuring a table raises for a mistake in it: an unknown key, a missing one, a
hook's or a validator's refusal (`InvalidValueError` is a ValueError), a class's own."""


_KeyPath = tuple[str | int, ...]
"""A key path: table keys, and array indexes as ints."""


def _dotted(path: _KeyPath) -> str:
    """``path`` as errors name it: ``markets[0].gaps[1].at``."""
    text = ""
    for part in path:
        text = f"{text}[{part}]" if isinstance(part, int) else key_path(text, part)
    return text


def _first_problem(error: BaseException, path: _KeyPath
                   ) -> tuple[_KeyPath, BaseException]:
    """The key path and the exception of the problem to report: an unknown key first, else
    the first in field order."""
    if not isinstance(error, BaseExceptionGroup):
        return path, error
    subs = sorted(error.exceptions, key=lambda sub: not isinstance(sub, ForbiddenExtraKeysError))
    sub = subs[0]
    return _first_problem(sub, (*path, *_where(sub)))


def _where(error: BaseException) -> Iterator[str | int]:
    for note in getattr(error, "__notes__", ()):
        if isinstance(note, AttributeValidationNote):
            yield note.name
        elif isinstance(note, IterableValidationNote):
            yield note.index


def _config_error(path: _KeyPath, error: BaseException, table: Mapping[str, Any]) -> ConfigError:
    here = _at(table, path)
    where = _dotted(path)
    if isinstance(error, ForbiddenExtraKeysError):
        assert isinstance(here, Mapping)
        key = next(k for k in here if k in error.extra_fields)
        known = attrs.fields_dict(error.cl) if error.cl is not None else {}
        close = difflib.get_close_matches(key, known, n=1)
        problem = f"unknown key (did you mean {close[0]}?)" if close else "unknown key"
        return ConfigError(key_path(where, key), here[key], problem)
    if isinstance(error, KeyError) and path:  # cattrs: a required attribute is not there
        return MissingKeyError(where, None, "is required")
    if isinstance(error, ConfigError):  # a hook's: the field is relative, the value raw
        return ConfigError(key_path(where, error.field) if error.field else where,
                           error.value, error.problem)
    if isinstance(error, InvalidValueError):  # an attrs validator's: field names an attribute
        value = here.get(error.field, error.value) if isinstance(here, Mapping) else error.value
        return ConfigError(key_path(where, error.field), value, error.problem)
    return ConfigError(where, here, str(error))


def _at(table: Any, path: _KeyPath) -> Any:
    """What ``table`` holds at ``path`` (None past its end: a required key it lacks)."""
    for part in path:
        try:
            table = table[part]
        except (KeyError, IndexError, TypeError):
            return None
    return table
