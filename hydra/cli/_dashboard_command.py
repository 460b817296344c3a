"""``hydra dashboard --journal PATH``: the dashboard served read-only from a journal alone
(`hydra.dashboard.serve_journal_dashboard`), on a loopback address, until Ctrl-C. Beside a
running engine it is ``hydra run --dashboard`` (`hydra.cli._dashboard_options`).
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
from typing import TYPE_CHECKING

import trio

from .._errors import HydraError
from .._logging import configure_logging
from .._settings import HydraConfig
from ..dashboard import serve_journal_dashboard
from ._dashboard_options import DEFAULT_LISTEN, parse_listen
from ._shared import CommandError, load_config_arg

if TYPE_CHECKING:
    from ._shared import Subparsers


def add_parser(subparsers: Subparsers) -> None:
    """``hydra dashboard [--journal PATH] [--config FILE] [--listen [HOST:]PORT]``."""
    parser = subparsers.add_parser(
        "dashboard", help="serve the dashboard read-only from a journal (no engine running)",
        description="Serve the dashboard's page from a journal alone, read-only, until Ctrl-C: "
        "after a run has closed, or for a copy of another machine's journal. Only on a "
        "loopback address.")
    parser.add_argument("--journal", metavar="PATH", default=None,
                        help="the journal file (default: journal.path of --config, else "
                        f"{HydraConfig().journal.path})")
    parser.add_argument("--config", metavar="FILE", default=None,
                        help="a TOML configuration: its journal.path and slippage thresholds")
    parser.add_argument("--listen", metavar="[HOST:]PORT", default=DEFAULT_LISTEN,
                        help=f"where the page listens (default {DEFAULT_LISTEN})")
    parser.set_defaults(run=run_dashboard)


def run_dashboard(args: argparse.Namespace) -> int:
    config = load_config_arg(args.config) if args.config else HydraConfig()
    configure_logging(config.logging, stream=sys.stderr)
    path = args.journal or config.journal.path
    if not os.path.isfile(path):
        raise CommandError(f"hydra dashboard: no journal at {path!r}")
    host, port = parse_listen("--listen", args.listen)

    async def serve() -> None:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with trio.open_nursery() as nursery:
                url = await nursery.start(functools.partial(
                    serve_journal_dashboard, path, host=host, port=port, config=config))
                print(f"dashboard of {path} at {url} (read-only; Ctrl-C stops it)",
                      file=sys.stderr, flush=True)
                async for _ in signals:
                    nursery.cancel_scope.cancel(reason="a stop signal")
                    break

    try:
        trio.run(serve)
    except (HydraError, OSError) as e:
        raise CommandError(f"hydra dashboard: {e}") from e
    return 0
