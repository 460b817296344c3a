"""What every ``hydra`` command shares: `CommandError`, the parser type, the config argument
and the broker settings.

The leaf of `hydra.cli`: every command module and `hydra.cli._main` import it, it imports none
of them, so no command imports another.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, TypeAlias

import attrs

from .._config import config_from_table, read_toml
from .._errors import ConfigError
from .._settings import BrokerSettings, HydraConfig

if TYPE_CHECKING:  # argparse has no public name for it, and it is generic only in typeshed
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


class CommandError(Exception):
    """A command could not do its work; `main` prints the message and exits with
    ``exit_code`` (2, like a usage error, unless the command says otherwise)."""

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def load_config_arg(path: str) -> HydraConfig:
    """The configuration in the file a command was given; any problem is a `CommandError`
    naming the key path and the file."""
    try:
        table = read_toml(path)
    except ConfigError as e:  # about the file itself: its value is the file name
        raise CommandError(f"config error: {e.value}: {e.problem}") from e
    try:
        return config_from_table(table)
    except ConfigError as e:
        raise CommandError(f"config error: {e} (in {path})") from e


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
