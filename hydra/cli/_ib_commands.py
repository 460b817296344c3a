"""``hydra status``, ``hydra positions`` and ``hydra cancel-all``: looking at (and stopping)
a running account through IB with the CLI's own client id (3), beside a running Hydra.

A live port (4001, 7496) takes the same double opt-in as ``hydra run``: ``--live`` and
``HYDRA_LIVE_CONFIRMED=true``, so the emergency ``cancel-all`` can reach a live account and
nothing reaches one by accident."""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import attrs
import trio

from .._errors import HydraError
from .._logging import configure_logging
from .._settings import BrokerSettings, HydraConfig, LogLevel
from .._stop_reasons import describe_error
from ._shared import CommandError, broker_settings, load_config_arg

if TYPE_CHECKING:
    from ..ib import IBBroker
    from ._shared import Subparsers


def add_parsers(subparsers: Subparsers) -> None:
    """``hydra status``, ``hydra positions``, ``hydra cancel-all`` (each ``[--live]
    [--config FILE]``)."""
    for name, help_text, action in (
        ("status", "connection, account, working orders and positions", _status),
        ("positions", "the account's positions", _positions),
        ("cancel-all", "cancel every working order of the account (IB global cancel)",
         _cancel_all),
    ):
        parser = subparsers.add_parser(name, help=help_text, description=help_text + ", "
                                       "through IB with the CLI's client id.")
        parser.add_argument("--live", action="store_true",
                            help="the port is a live one (4001, 7496): also needs "
                                 "HYDRA_LIVE_CONFIRMED=true")
        parser.add_argument("--config", metavar="FILE", help="a TOML configuration file")
        parser.set_defaults(run=functools.partial(_run, name, action))


def _run(name: str, action: Action, args: argparse.Namespace) -> int:
    config = load_config_arg(args.config) if args.config else HydraConfig()
    # Standard output is the report's: logs go to standard error, and IB's notices (market
    # data farm connected, 2104/2106/2158) are not the trader's business here.
    level = max(config.logging.level, LogLevel.WARNING, key=list(LogLevel).index)
    configure_logging(attrs.evolve(config.logging, level=level))
    settings = broker_settings(config, os.environ)
    try:
        trio.run(functools.partial(_connected, settings, action, live=args.live))
    except (HydraError, BaseExceptionGroup) as error:
        raise CommandError(f"{name}: {describe_error(error)}") from error
    return 0


Action = Callable[["IBBroker"], Awaitable[None]]


async def _connected(settings: BrokerSettings, action: Action, *, live: bool) -> None:
    from ..ib import open_ib_broker

    cli = attrs.evolve(settings, client_id=settings.cli_client_id)
    async with open_ib_broker(cli, live=live) as broker:
        await action(broker)


async def _status(broker: IBBroker) -> None:
    from ..ib import ForeignOrder
    account = await broker.account()
    live = "  LIVE" if broker.live else ""
    print(f"connected: {broker.address}{live}  equity {account.equity} {account.currency}  "
          f"realized {account.realized}  unrealized {account.unrealized}")
    orders = await broker.account_open_orders()
    print(f"working orders: {len(orders)}")
    for order in orders:
        if isinstance(order, ForeignOrder):
            print(f"  {order.client_order_id}  {order.side.value} {order.remaining}/"
                  f"{order.quantity} {order.symbol} {order.order_type} "
                  f"(a type Hydra does not send)")
            continue
        request = order.request
        print(f"  {request.client_order_id}  {request.side.value} {order.remaining}/"
              f"{request.quantity} {request.contract.symbol} {request.order_type.value} "
              f"@ {request.limit_price}")
    await _positions(broker)


async def _positions(broker: IBBroker) -> None:
    positions = [p for p in await broker.positions() if p.quantity]
    print(f"positions: {len(positions)}")
    for position in positions:
        month = position.contract.expiry or ""
        print(f"  {position.contract.symbol} {month} {position.quantity:+d} "
              f"@ {position.average_price}")


async def _cancel_all(broker: IBBroker) -> None:
    before = len(await broker.account_open_orders())
    await broker.cancel_everything()
    print(f"global cancel sent for {before} working order(s)")
