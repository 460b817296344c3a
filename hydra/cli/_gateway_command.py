"""``hydra sim-gateway``: serve the simulated exchange over the TWS API, in real time."""

from __future__ import annotations

import argparse
import datetime as dt
import math
from typing import TYPE_CHECKING

import trio

from .._logging import configure_logging
from .._settings import LoggingSettings
from ..gateway._server import DEFAULT_ACCOUNT, serve_gateway
from ..sim import MarketParams, SimParams, open_sim_exchange
from ._shared import CommandError

if TYPE_CHECKING:
    from ._shared import Subparsers

MARKETS = {"oats": MarketParams.oats, "hogs": MarketParams.hogs}


def add_parser(subparsers: Subparsers) -> None:
    """``hydra sim-gateway --port PORT --market oats|hogs [--seed N] [--account ID]
    [--drop-at SECONDS]``."""
    parser = subparsers.add_parser(
        "sim-gateway",
        help="serve the simulated exchange over the TWS API (for ib_async programs)",
        description="Serve the simulated exchange on 127.0.0.1 over the TWS API socket "
        "protocol, in real time, so that ib_async programs and Hydra's IB adapter run against "
        "it unchanged, with no IB account. Stop it with Ctrl-C.",
    )
    parser.add_argument("--port", type=_port, default=4002, help="TCP port (default 4002)")
    parser.add_argument("--market", choices=sorted(MARKETS), default="oats", help="the market")
    parser.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")
    parser.add_argument("--account", default=DEFAULT_ACCOUNT, help="the account id to report")
    parser.add_argument(
        "--drop-at",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="drop every client connection once, SECONDS after start (for reconnect tests)",
    )
    parser.set_defaults(run=run_sim_gateway)


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535, got {text!r}")
    return port


def _seconds(text: str) -> float:
    seconds = float(text)
    if not math.isfinite(seconds) or seconds < 0:
        raise argparse.ArgumentTypeError(f"must be seconds of zero or more, got {text!r}")
    return seconds


def run_sim_gateway(args: argparse.Namespace) -> int:
    configure_logging(LoggingSettings())
    params = SimParams(
        markets=(MARKETS[args.market](),),
        session_start=dt.datetime.now(dt.UTC).replace(microsecond=0),
    )

    async def main() -> None:
        async with open_sim_exchange(params, seed=args.seed) as exchange:
            await serve_gateway(
                exchange, port=args.port, account=args.account, drop_at=args.drop_at
            )

    try:
        trio.run(main)
    except KeyboardInterrupt:
        return 0
    except BaseExceptionGroup as group:  # the exchange's nursery wraps what stopped it

        if group.subgroup(KeyboardInterrupt) is not None:
            return 0
        refused = group.subgroup(OSError)
        if refused is None:
            raise
        raise CommandError(
            f"cannot listen on 127.0.0.1:{args.port}: {refused.exceptions[0]}"
        ) from group
    return 0
