"""The ``hydra`` command line (also ``python -m hydra``).

Each subcommand is one ``add_parser(subparsers)`` function listed in `COMMANDS`: it adds its
parser and sets ``run`` (``args -> exit status``) as the parser's default. A subcommand that
lives in its own module exports such a function and is added to `COMMANDS`; nothing else here
changes. A command that cannot do its work raises `CommandError`, which `main` prints as one
line on standard error, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from . import _ib_commands, _report_commands, _resume_command, _run_command, gateway, scenario
from ._command_base import CommandError, load_config_arg
from ._config import config_to_dict, config_to_toml
from ._version import __version__

if TYPE_CHECKING:
    from ._command_base import Subparsers

# --- hydra config ----------------------------------------------------------------------------


def add_config_parser(subparsers: Subparsers) -> None:
    """``hydra config check FILE [--json]``."""
    config = subparsers.add_parser("config", help="check configuration files")
    actions = config.add_subparsers(title="actions", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="load a configuration file and print the effective configuration",
        description="Load FILE, report the first mistake in it (exit status 2), or print the "
        "effective configuration: every setting, defaults included.",
    )
    check.add_argument("file", metavar="FILE", help="a TOML file, like examples/hydra.toml")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(run=run_config_check)


def run_config_check(args: argparse.Namespace) -> int:
    config = load_config_arg(args.file)
    if args.json:
        print(json.dumps(config_to_dict(config), indent=2))
    else:
        print(f"# effective configuration from {args.file}\n")
        print(config_to_toml(config).rstrip())
    return 0


# --- main ------------------------------------------------------------------------------------

COMMANDS: Sequence[Callable[[Subparsers], None]] = (
    add_config_parser,
    _run_command.add_parser,
    scenario.add_parser,
    _ib_commands.add_parsers,
    _resume_command.add_parser,
    _report_commands.add_fill_report_parser,
    _report_commands.add_gate_check_parser,
    gateway.add_parser,
)
"""Each subcommand's ``add_parser``, in the order ``hydra --help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hydra",
        description="Hydra: patient limit-order execution for futures, through Interactive "
        "Brokers or its own simulator.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add_parser in COMMANDS:
        add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hydra`` command line on ``argv`` (default: ``sys.argv[1:]``); the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help, --version or a usage error: argparse has printed it
        return e.code if isinstance(e.code, int) else int(e.code is not None)
    try:
        status: int = args.run(args)
    except CommandError as e:
        print(e.message, file=sys.stderr)
        return e.exit_code
    return status
