"""The ``hydra`` command line (also ``python -m hydra``).

Each subcommand is one ``add_parser(subparsers)`` function listed in `COMMANDS`: it adds its
parser and sets ``run`` (``args -> exit status``) as the parser's default. A subcommand that
lives in its own module exports such a function and is added to `COMMANDS`; nothing else here
changes. A command that cannot do its work raises `CommandError`, which `main` prints as one
line on standard error, without a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .._version import __version__
from . import (
    _config_command,
    _dashboard_command,
    _gateway_command,
    _ib_commands,
    _model_commands,
    _rehearse_command,
    _report_commands,
    _resume_command,
    _run_command,
    _scenario_command,
)
from ._shared import CommandError

if TYPE_CHECKING:
    from ._shared import Subparsers

COMMANDS: Sequence[Callable[[Subparsers], None]] = (
    _config_command.add_parser,
    _run_command.add_parser,
    _scenario_command.add_parser,
    _ib_commands.add_parsers,
    _resume_command.add_parser,
    _report_commands.add_fill_report_parser,
    _report_commands.add_gate_check_parser,
    _model_commands.add_parser,
    _rehearse_command.add_parser,
    _dashboard_command.add_parser,
    _gateway_command.add_parser,
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
        sys.stdout.flush()
    except CommandError as e:
        print(e.to_json() if getattr(args, "json", False) else e.message, file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:  # the reader has gone (| head): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # for the final flush
        return BROKEN_PIPE
    return status


BROKEN_PIPE = 128 + signal.SIGPIPE
"""The exit status when standard output's reader went away: the shell's, for a writer that a
closed pipe stopped."""
