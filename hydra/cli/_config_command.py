"""``hydra config check FILE [--json]``: the effective configuration, or its first mistake."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .._config import config_to_toml
from .._converter import json_text
from ._shared import load_config_arg

if TYPE_CHECKING:
    from ._shared import Subparsers


def add_parser(subparsers: Subparsers) -> None:
    """``hydra config check FILE [--json]``."""
    config = subparsers.add_parser("config", help="check configuration files")
    actions = config.add_subparsers(title="actions", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="load a configuration file and print the effective configuration",
        description="Load FILE, report the first mistake in it (exit status 2), or print the "
        "effective configuration: every setting, defaults included. The strategy hook it "
        "names is imported (its module runs) to check that it exists.",
    )
    check.add_argument("file", metavar="FILE", help="a TOML file, like examples/hydra.toml")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(run=run_config_check)


def run_config_check(args: argparse.Namespace) -> int:
    config = load_config_arg(args.file, json_lines=args.json, with_hook=True)
    if args.json:
        print(json_text(config, indent=2))
    else:
        print(f"# effective configuration from {args.file}\n")
        print(config_to_toml(config).rstrip())
    return 0
