"""The dashboard's options, shared by ``hydra run --dashboard`` and ``hydra dashboard``: the
``[HOST:]PORT`` they listen on, and the dashboard served beside a running engine
(`hydra.dashboard.open_dashboard`). Actions need a token: ``HYDRA_DASHBOARD_TOKEN``, else a
random one printed once on standard error; anything but a loopback address needs
``--dashboard-allow-remote``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import AsyncIterator

from .._engine import Engine
from .._settings import HydraConfig
from ..brokers import MarketView
from ..dashboard import DEFAULT_HOST, DEFAULT_PORT, TOKEN_ENV, open_dashboard
from ..dashboard import token_from as dashboard_token
from ._shared import CommandError

DEFAULT_LISTEN = f"{DEFAULT_HOST}:{DEFAULT_PORT}"


def parse_listen(option: str, text: str) -> tuple[str, int]:
    """``[HOST:]PORT`` as (host, port): a bare port listens on the loopback address."""
    host, colon, port = text.rpartition(":")
    host = host.strip("[]") if colon else DEFAULT_HOST
    if not port.isdigit() or not 0 <= int(port) <= 65535 or (colon and not host):
        raise CommandError(f"{option}: must be [HOST:]PORT with a port from 0 to 65535, "
                           f"got {text!r}")
    return host, int(port)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """``--dashboard [[HOST:]PORT]`` and ``--dashboard-allow-remote`` of ``hydra run``."""
    parser.add_argument("--dashboard", metavar="[HOST:]PORT", nargs="?", const=DEFAULT_LISTEN,
                        default=None,
                        help=f"serve the live dashboard from this process (default address "
                        f"{DEFAULT_LISTEN}); its actions need the token printed at start or "
                        "HYDRA_DASHBOARD_TOKEN")
    parser.add_argument("--dashboard-allow-remote", action="store_true",
                        help="let the dashboard listen on an address other machines reach "
                        "(reading it then needs the token too)")


@contextlib.asynccontextmanager
async def maybe_dashboard(listen: str | None, *, allow_remote: bool, config: HydraConfig,
                          engine: Engine, broker: MarketView) -> AsyncIterator[None]:
    """The dashboard beside ``engine`` while the block runs, when ``hydra run`` was given
    ``--dashboard`` (``listen``); its address, and the token when it made one, go to
    standard error once."""
    if listen is None:
        yield
        return
    host, port = parse_listen("--dashboard", listen)
    token = dashboard_token(os.environ)
    async with open_dashboard(engine, journal_path=config.journal.path, host=host, port=port,
                              token=token, allow_remote=allow_remote, config=config,
                              market=broker) as running:
        made = "" if os.environ.get(TOKEN_ENV) else f" (token for its actions: {token})"
        print(f"dashboard at {running.url}{made}", file=sys.stderr, flush=True)
        yield
