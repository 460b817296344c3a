"""What every ``hydra`` command shares: `CommandError`, the parser type, the config argument.

A leaf of the command line: the command modules and `hydra._cli` import it, it imports none of
them, so no command imports another through a function-level import.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TypeAlias

from ._config import config_from_table, read_toml
from ._errors import ConfigError
from ._settings import HydraConfig

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
