"""What every ``hydra`` command shares: `CommandError`, the parser type, the config argument,
the broker settings, and how the journal commands find and read their journal.

The leaf of `hydra.cli`: every command module and `hydra.cli._main` import it, it imports none
of them, so no command imports another.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from .._config import (
    TomlFile,
    config_from_table,
    config_warnings,
    read_toml_file,
    shown,
    toml_value,
)
from .._converter import json_text
from .._errors import ConfigError, InvalidValueError
from .._journal_records import JournalRecord, read_journal
from .._settings import BrokerSettings, HydraConfig, SlippageSettings
from .._strategy_hook import load_hook
from .._toml_lines import line_of

if TYPE_CHECKING:  # argparse has no public name for it, and it is generic only in typeshed
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Ctrl-C, ``kill`` and a closed terminal: what stops ``hydra run`` (each stops new work and
drains; a second one cuts the drain short) and ``hydra rehearse``."""


class CommandError(Exception):
    """A command could not do its work; `main` prints the message (with ``--json``, a JSON
    object of the message and ``details``) and exits with ``exit_code`` (2, like a usage
    error, unless the command says otherwise)."""

    def __init__(self, message: str, *, exit_code: int = 2,
                 details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.details = dict(details or {})

    def to_json(self) -> str:
        """One line of JSON: ``{"error": message, ...details}``."""
        return json_text({"error": self.message, **self.details})


def load_config_arg(path: str, *, json_lines: bool = False, with_hook: bool = False
                    ) -> HydraConfig:
    """The configuration in the file a command was given. Any problem is a `CommandError`
    naming the key path, the file and the line; each warning (`config_warnings`) is one
    line on standard error (with ``json_lines``, a JSON object). ``with_hook``: the
    strategy hook it names must import, too (its module runs)."""
    try:
        file = read_toml_file(path)
    except ConfigError as e:  # about the file itself: its value is the file name
        raise CommandError(f"config error: {e.value}: {e.problem}",
                           details={"field": e.field, "file": e.value, "problem": e.problem}
                           ) from e
    try:
        config = config_from_table(file.table)
        if with_hook and config.runner.strategy is not None:
            load_hook(config.runner.strategy)
    except InvalidValueError as e:  # a ConfigError, or the hook's
        found = _Found(e.field, e.value, e.problem, file)
        raise CommandError(f"config error: {found}", details=found.details()) from e
    for warning in config_warnings(config):
        found = _Found(warning.field, warning.value, warning.problem, file)
        print(json_text({"warning": f"config warning: {found}", **found.details()})
              if json_lines else f"config warning: {found}",
              file=sys.stderr)
    return config


@attrs.frozen
class _Found:
    """A key path with its value and what is wrong with it, where the file writes it."""

    field: str
    value: Any
    problem: str
    file: TomlFile

    @property
    def line(self) -> int | None:
        return line_of(self.file.text, self.field)

    def __str__(self) -> str:
        where = self.file.name if self.line is None else f"{self.file.name}, line {self.line}"
        value = shown(toml_value(self.value))
        return f"{shown(self.field)}: {self.problem}, got {value} (in {where})"

    def details(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "problem": self.problem,
                "file": self.file.name, "line": self.line}


def broker_settings(config: HydraConfig, environ: os._Environ[str] | dict[str, str]
                    ) -> BrokerSettings:
    """The config's broker settings, with ``IB_GATEWAY_HOST`` / ``IB_GATEWAY_PORT`` on top."""
    settings = config.broker
    if environ.get("IB_GATEWAY_HOST"):
        settings = attrs.evolve(settings, host=environ["IB_GATEWAY_HOST"])
    if environ.get("IB_GATEWAY_PORT"):
        try:
            settings = attrs.evolve(settings, port=int(environ["IB_GATEWAY_PORT"]))
        except ValueError:
            raise CommandError(f"IB_GATEWAY_PORT: not a port number, got "
                               f"{environ['IB_GATEWAY_PORT']!r}") from None
    return settings


def add_journal_options(parser: argparse.ArgumentParser) -> None:
    """``--journal PATH``, ``--config FILE`` and ``--json``, as every journal command takes."""
    parser.add_argument("--journal", metavar="PATH", default=None,
                        help="the journal file (default: journal.path of --config, else "
                        f"{HydraConfig().journal.path})")
    parser.add_argument("--config", metavar="FILE", default=None,
                        help="a TOML configuration: its journal.path and slippage thresholds")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def read_records(args: argparse.Namespace) -> tuple[str, list[JournalRecord], SlippageSettings]:
    """The journal's path and records, and the slippage settings, from the common options."""
    config = HydraConfig()
    if args.config is not None:
        config = load_config_arg(args.config, json_lines=args.json)
    path: str = args.journal or config.journal.path
    try:
        records = read_journal(path)
    except InvalidValueError as e:
        raise CommandError(f"journal error: {e.value}: {e.problem}") from e
    return path, records, config.slippage
