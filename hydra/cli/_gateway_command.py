"""``hydra sim-gateway``: serve the simulated exchange over the TWS API, in real time."""

from __future__ import annotations

import argparse
import datetime as dt
import math
from typing import TYPE_CHECKING

import trio

from .._logging import configure_logging
from .._settings import LoggingSettings
from ..gateway._catalog import listed_months
from ..gateway._server import DEFAULT_ACCOUNT, serve_gateway
from ..sim import MarketParams, SimParams, open_sim_exchange
from ._shared import CommandError

if TYPE_CHECKING:
    from ._shared import Subparsers

MARKETS = {"oats": MarketParams.oats, "hogs": MarketParams.hogs}


def markets_for(
    names: list[str], *, months: int | None, today: dt.date
) -> tuple[MarketParams, ...]:
    """The simulated markets of products ``names``: with ``months`` None (the default) each
    product's listed months of the coming year (oats' five, H K N U Z; hogs' eight), with 1
    its front market alone, else its first ``months`` listed months; each month a market of
    its own, thinner the further out (half the ADV a month further; an estimate of how
    deferred months trade)."""
    markets: list[MarketParams] = []
    for name in names:
        make = MARKETS[name]
        if months == 1:
            markets.append(make())
            continue
        product = make()
        count = len(product.contract.months) if months is None else months
        for k, month in enumerate(listed_months(product.contract, today, count)):
            contract = product.contract.for_month(month)
            markets.append(make(contract=contract, adv=max(1, product.adv >> k)))
    return tuple(markets)


def add_parser(subparsers: Subparsers) -> None:
    """``hydra sim-gateway --port PORT [--market oats|hogs ...] [--months N] [--seed N]
    [--account ID] [--drop-at SECONDS] [--hours exchange|none]``."""
    parser = subparsers.add_parser(
        "sim-gateway",
        help="serve the simulated exchange over the TWS API (for ib_async programs)",
        description="Serve the simulated exchange on 127.0.0.1 over the TWS API socket "
        "protocol, in real time, so that ib_async programs and Hydra's IB adapter run against "
        "it unchanged, with no IB account. Stop it with Ctrl-C.",
    )
    parser.add_argument("--port", type=_port, default=4002, help="TCP port (default 4002)")
    parser.add_argument(
        "--market",
        choices=sorted(MARKETS),
        action="append",
        help="serve only this product (repeat for several; default: all of them)",
    )
    parser.add_argument(
        "--months",
        type=_count,
        default=None,
        help="listed delivery months per product, each its own market (default: a year's "
        "worth, every listed month; 1: the front month alone)",
    )
    parser.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")
    parser.add_argument("--account", default=DEFAULT_ACCOUNT, help="the account id to report")
    parser.add_argument(
        "--drop-at",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="drop every client connection once, SECONDS after start (for reconnect tests)",
    )
    parser.add_argument(
        "--hours",
        choices=("exchange", "none"),
        default="exchange",
        help="the contracts' trading hours given to clients: the exchange's (the default: "
        "Hydra sends nothing while the market is closed), or none (a market that never "
        "closes, to trade against at any hour)",
    )
    parser.set_defaults(run=run_sim_gateway)


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535, got {text!r}")
    return port


def _count(text: str) -> int:
    count = int(text)
    if not 1 <= count <= 12:
        raise argparse.ArgumentTypeError(f"must be 1..12 months, got {text!r}")
    return count


def _seconds(text: str) -> float:
    seconds = float(text)
    if not math.isfinite(seconds) or seconds < 0:
        raise argparse.ArgumentTypeError(f"must be seconds of zero or more, got {text!r}")
    return seconds


def run_sim_gateway(args: argparse.Namespace) -> int:
    configure_logging(LoggingSettings())
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    names = args.market or sorted(MARKETS, reverse=True)  # oats first: the default symbol
    params = SimParams(
        markets=markets_for(names, months=args.months, today=now.date()), session_start=now
    )

    async def main() -> None:
        async with open_sim_exchange(params, seed=args.seed) as exchange:
            await serve_gateway(
                exchange, port=args.port, account=args.account, drop_at=args.drop_at,
                hours=args.hours == "exchange",
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
