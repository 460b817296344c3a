"""The simulated IB gateway as a benchmark subprocess: `hydra sim-gateway` with the exchange's
latencies exposed, a free port, and its counts reported when it is told to stop.

Run by the benchmarks (``bench/_common.py`` starts it), not by hand: it prints ``PORT <n>`` on
standard output once it listens, logs warnings and errors as JSON lines on standard error (the
gateway's ``gateway_rate_exceeded`` line is its error 100), and on SIGTERM or SIGINT prints
``STATS <json>`` (gateway and exchange statistics) and exits 0. On SIGUSR1 it drops every
client connection once (the gateway's drop fault, as ``hydra sim-gateway --drop-at`` does at a
fixed time): clients reconnect and resync; orders stay. ``--market oats-months`` lists three
delivery months of oats (202703, 202705, 202707), each its own market, for rolls.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import signal
import sys
from decimal import Decimal

import attrs
import trio

from hydra import OATS, LoggingSettings, LogLevel, configure_logging
from hydra._settings import LogFormat
from hydra.gateway import serve_gateway
from hydra.sim import MarketParams, SimParams, open_sim_exchange

MARKETS = {"oats": MarketParams.oats, "hogs": MarketParams.hogs}
MONTHS = (("202703", Decimal("350")), ("202705", Decimal("356")), ("202707", Decimal("360")))


def markets_for(name: str) -> tuple[MarketParams, ...]:
    if name == "oats-months":
        return tuple(MarketParams.oats(contract=OATS.for_month(month), start_mid=mid)
                     for month, mid in MONTHS)
    return (MARKETS[name](),)


async def _serve(args: argparse.Namespace) -> None:
    params = SimParams(
        markets=markets_for(args.market),
        session_start=dt.datetime.now(dt.UTC).replace(microsecond=0),
        ack_latency=args.ack_latency,
        fill_latency=args.fill_latency,
    )
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGUSR1) as signals:
        async with open_sim_exchange(params, seed=args.seed) as exchange:
            async with trio.open_nursery() as nursery:
                # No trading hours: the benches run on the real clock at any time of day, and
                # after the grains' close Hydra would hold every intent for the next open.
                gateway = await nursery.start(functools.partial(
                    serve_gateway, exchange, port=args.port, hours=False))
                print(f"PORT {gateway.port}", flush=True)
                async for signum in signals:
                    if signum == signal.SIGUSR1:
                        gateway.drop_all_connections(reason="SIGUSR1 (bench drop fault)")
                        continue
                    stats = {"gateway": attrs.asdict(gateway.statistics()),
                             "exchange": attrs.asdict(exchange.statistics())}
                    print(f"STATS {json.dumps(stats, default=str)}", flush=True)
                    nursery.cancel_scope.cancel(reason="benchmark gateway told to stop")
                    break


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="TCP port (default 0: a free one)")
    parser.add_argument("--market", choices=[*sorted(MARKETS), "oats-months"], default="oats")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ack-latency", type=float, default=0.030,
                        help="exchange acknowledgement latency, s (default 0.030, as sim-gateway)")
    parser.add_argument("--fill-latency", type=float, default=0.020,
                        help="exchange fill latency, s (default 0.020, as sim-gateway)")
    args = parser.parse_args()
    configure_logging(LoggingSettings(level=LogLevel.WARNING, format=LogFormat.JSON))
    with contextlib.suppress(KeyboardInterrupt):
        trio.run(_serve, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
