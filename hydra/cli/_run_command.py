"""``hydra run``: the paper (or live) trading runner, on the same code path as live trading.

Connects through IB (IB Gateway paper at 127.0.0.1:4002 unless the config or
``IB_GATEWAY_HOST`` / ``IB_GATEWAY_PORT`` say otherwise; ``--sim`` starts the simulated gateway
in this process instead, and writes to its own journal beside the paper one), recovers from the
journal, then runs the strategy hook on its schedule and the intent inbox until Ctrl-C, SIGTERM
or SIGHUP. The first stops new work, drains what is working, then cancels (or leaves, by config)
the rest; a second cuts the drain short: working orders are cancelled at once, and the exit
status is 3.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import math
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

import attrs
import structlog
import trio

from .._contracts import BUILT_IN_CONTRACTS
from .._engine import Engine
from .._errors import HydraError, InvalidValueError
from .._journal import utc_now
from .._journal_actor import run_in_thread
from .._journal_lock import refuse_if_held
from .._logging import configure_logging
from .._open_hydra import open_hydra
from .._rehearsal_journal import simulation_journal
from .._runner import HookLimits, run_inbox, run_schedule
from .._screen import StatusScreen, status_screen
from .._session_healing import heal_after_each_close, logged_cycle
from .._settings import HydraConfig
from .._status import StatusRegion, run_status
from .._stop_reasons import describe_error
from .._strategy_hook import load_hook
from ..brokers import Broker
from ._dashboard_options import add_run_options as add_dashboard_options
from ._dashboard_options import maybe_dashboard
from ._shared import STOP_SIGNALS, CommandError, broker_settings, load_config_arg

if TYPE_CHECKING:
    from ._shared import Subparsers

log = structlog.get_logger()

DRAIN_CUT_SHORT = 3
"""The exit status of ``hydra run`` when a second signal cut the drain short (or the start)."""

INTERRUPTED = 130
"""The exit status of ``hydra run`` after a Ctrl-C it could not drain (the shell's 128 + 2)."""


def add_parser(subparsers: Subparsers) -> None:
    """``hydra run [--paper | --live] [--sim] [--config FILE] [--journal PATH] [--adopt-unknown]
    [--new-journal] [--dashboard [[HOST:]PORT] [--dashboard-allow-remote]]``."""
    parser = subparsers.add_parser(
        "run", help="run the paper (or live) trading cycle until Ctrl-C (or SIGTERM)",
        description=__doc__.split("\n\n")[1].replace("\n", " ").replace("``", ""),
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--paper", action="store_true", help="paper trading (the default)")
    mode.add_argument("--live", action="store_true",
                      help="live trading: also needs HYDRA_LIVE_CONFIRMED=true and a live port")
    parser.add_argument("--sim", action="store_true",
                        help="trade against the simulated gateway started in this process")
    parser.add_argument("--sim-hours", choices=("exchange", "none"), default="exchange",
                        help="with --sim: the simulated gateway gives the contracts' exchange "
                        "hours (the default: nothing is sent while the market is closed), or "
                        "none (a market that never closes, for a rehearsal at any hour)")
    parser.add_argument("--config", metavar="FILE", help="a TOML configuration file")
    parser.add_argument("--journal", metavar="PATH",
                        help="the journal (default: journal.path; with --sim the simulation's "
                        "own beside it, journal.path with .sim before its suffix; a journal "
                        "that traded paper or live is refused for --sim)")
    parser.add_argument("--adopt-unknown", action="store_true",
                        help="start even when the broker shows orders or executions of this "
                        "journal that it does not know: journal them as strangers, leave them "
                        "to the trader, and never send their intents again")
    parser.add_argument("--new-journal", action="store_true",
                        help="start a new journal where one lived before (its file is missing, "
                        "empty or another journal)")
    add_dashboard_options(parser)
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    config = load_config_arg(args.config, with_hook=True) if args.config else HydraConfig()
    config = attrs.evolve(config, broker=broker_settings(config, os.environ))
    try:
        journal = (simulation_journal(config.journal, args.journal) if args.sim else
                   attrs.evolve(config.journal, path=args.journal or config.journal.path))
    except InvalidValueError as e:
        raise CommandError(f"hydra run --sim: {e}") from None
    config = attrs.evolve(config, journal=journal)
    # On a terminal, logs and the status region share standard error through one screen.
    with status_screen() as screen:
        configure_logging(config.logging, stream=cast(TextIO, screen or sys.stderr))
        hook = load_hook(config.runner.strategy) if config.runner.strategy else None
        try:
            stopping = trio.run(functools.partial(
                run_until_signalled, config, hook=hook, sim=args.sim, live=args.live,
                sim_hours=args.sim_hours == "exchange",
                adopt_unknown=args.adopt_unknown, new_journal=args.new_journal, screen=screen,
                dashboard=args.dashboard, dashboard_allow_remote=args.dashboard_allow_remote))
        except KeyboardInterrupt:  # Ctrl-C before the runner listened for signals, or after
            raise CommandError("hydra run stopped: Ctrl-C outside the runner: nothing drained",
                               exit_code=INTERRUPTED) from None
        except (HydraError, OSError, BaseExceptionGroup) as error:
            raise CommandError(f"hydra run stopped: {describe_error(error)}") from error
    message = stopping.cut_short_message()
    if message is not None:
        raise CommandError(message, exit_code=DRAIN_CUT_SHORT)
    return 0


@asynccontextmanager
async def open_venue(config: HydraConfig, *, sim: bool, live: bool,
                     sim_hours: bool = True) -> AsyncIterator[Broker]:
    """IBBroker to the configured gateway, or to a simulated gateway started here (giving the
    contracts' trading hours, unless ``sim_hours`` is False)."""
    from ..ib import open_ib_broker

    if not sim:
        async with open_ib_broker(config.broker, live=live) as broker:
            yield broker
        return
    from ..gateway import serve_gateway
    from ..sim import SimParams, open_sim_exchange

    # The simulated session opens now, so fills carry the wall-clock time like everything else.
    params = SimParams(session_start=dt.datetime.now(dt.UTC).replace(microsecond=0))
    async with open_sim_exchange(params, seed=1) as exchange, trio.open_nursery() as n:
        gateway = await n.start(functools.partial(serve_gateway, exchange, port=0,
                                                  hours=sim_hours))
        settings = attrs.evolve(config.broker, host="127.0.0.1", port=gateway.port)
        async with open_ib_broker(settings) as broker:
            yield broker
        n.cancel_scope.cancel(reason="the runner is done with the simulated gateway")


async def run_until_signalled(
    config: HydraConfig, *, hook: object, sim: bool, live: bool, adopt_unknown: bool = False,
    sim_hours: bool = True, new_journal: bool = False, screen: StatusScreen | None = None,
    dashboard: str | None = None, dashboard_allow_remote: bool = False,
) -> Stopping:
    """Run the runner's actors beside Hydra until a stop signal, then drain (see `Stopping`)."""
    stopping = Stopping(drain_timeout=config.shutdown.drain_timeout, screen=screen)
    with trio.open_signal_receiver(*STOP_SIGNALS) as signals:
        async with trio.open_nursery() as guard:
            guard.start_soon(serve_stop_signals, signals, stopping, guard.cancel_scope)
            refuse_if_held(config.journal.path)  # a second copy: refused before it connects
            async with open_venue(config, sim=sim, live=live, sim_hours=sim_hours) as broker:
                venue = "sim" if sim else "live" if live else "paper"
                try:
                    async with open_hydra(config, broker, adopt_unknown=adopt_unknown,
                                          new_journal=new_journal, venue=venue) as engine:
                        stopping.engine = engine
                        stopping.region = StatusRegion(
                            engine, config, venue.upper(), utc_now, market=broker,
                            schedule=config.runner.daily_schedule() if hook is not None
                            else None)
                        log.info("runner_started", sim=sim, live=live,
                                 strategy=config.runner.strategy, inbox=config.runner.inbox)
                        async with maybe_dashboard(dashboard,
                                                   allow_remote=dashboard_allow_remote,
                                                   config=config, engine=engine, broker=broker):
                            with stopping.new_work:
                                await run_runner(config, engine, broker, hook=hook,
                                                 screen=screen, region=stopping.region)
                finally:  # the drain's countdown draws the region until Hydra has closed
                    if stopping.region is not None:
                        stopping.region.follower.close()
                stats = engine.statistics()
                log.info("runner_stopped", signal=stopping.first.name if stopping.first else None,
                         done=stats.finished, blocked=stats.blocked, fills=stats.fills,
                         filled_quantity=stats.filled_quantity, working=stats.working)
            await heal_after_run(config)
            guard.cancel_scope.cancel(reason="Hydra has closed: no more signals to handle")
    return stopping


async def heal_after_run(config: HydraConfig) -> None:
    """One healing cycle of the slippage model over the journal Hydra has just closed (as
    ``hydra model heal`` runs one): a cycle that cannot run is logged, never an error of the
    run."""
    # Imported here: the cycle's statistics (scipy) take about a second to load, and only
    # this step of the run needs them.
    from .._model_journal import heal

    await logged_cycle(functools.partial(
        trio.to_thread.run_sync, heal, config.journal.path, config.slippage))


async def run_runner(config: HydraConfig, engine: Engine, broker: Broker, *, hook: object,
                     screen: StatusScreen | None, region: StatusRegion) -> None:
    """The strategy schedule, the inbox and the status region: new work, until cancelled."""
    async with trio.open_nursery() as nursery:
        if hook is not None:
            assert config.runner.strategy is not None
            nursery.start_soon(functools.partial(
                run_schedule, engine, broker, hook=hook,  # type: ignore[arg-type]
                name=config.runner.strategy.partition(":")[2],
                schedule=config.runner.daily_schedule(), now=utc_now,
                limits=HookLimits(timeout=config.runner.hook_timeout,
                                  max_failures=config.runner.max_hook_failures)))
        nursery.start_soon(functools.partial(
            run_inbox, engine, path=Path(config.runner.inbox),
            state=Path(config.journal.path + ".inbox"), now=utc_now,
            wait=config.runner.inbox_deadline, offload=run_in_thread))
        nursery.start_soon(functools.partial(
            heal_after_each_close, engine, broker,
            [engine.in_front_month(BUILT_IN_CONTRACTS[symbol]) for symbol in config.adv
             if symbol in BUILT_IN_CONTRACTS],
            settings=config.slippage, now=utc_now))
        nursery.start_soon(functools.partial(run_status, region, screen=screen))


@attrs.define
class Stopping:
    """Which signals stopped the run, and what they act on. The first cancels `new_work`
    (the runner's actors), so `open_hydra` closes: it drains, then cancels what is left. A
    second one cancels every intent now, so the drain ends and the close goes on as usual;
    before Hydra is open, it abandons the start."""

    drain_timeout: float
    new_work: trio.CancelScope = attrs.Factory(trio.CancelScope)
    engine: Engine | None = None  # once Hydra is open
    region: StatusRegion | None = None  # the status region, once Hydra is open
    screen: StatusScreen | None = None  # on a terminal: where the drain is shown
    first: signal.Signals | None = None
    second: signal.Signals | None = None

    def cut_short_message(self) -> str | None:
        """The one line ``hydra run`` ends with when a second signal came, else None."""
        if self.second is None:
            return None
        if self.engine is None:
            return f"hydra run: second {self.second.name} while starting: stopped before trading"
        return (f"hydra run: second {self.second.name} during the drain: working orders "
                f"cancelled, not drained")


def drain_line(first: signal.Signals, *, working: int | None, left: float) -> str:
    """The status line of a drain with ``left`` seconds to go (``working``: intents still
    working, None before Hydra is open)."""
    if working == 0:
        return "hydra: DRAINED: nothing working, closing"
    what = "starting" if working is None else f"{working} working"
    if left <= 0:
        return f"hydra: DRAINING {what} | drain time is up: cancelling what is left"
    return (f"hydra: DRAINING {what} | {math.ceil(left):d} s left | {first.name} again "
            f"cancels now")


async def show_drain(stopping: Stopping, screen: StatusScreen) -> None:
    """Count the drain down on ``screen``, every second, until the run is over: in place of
    the status region's first line, once Hydra is open (its orders draining below it)."""
    assert stopping.first is not None
    end = trio.current_time() + stopping.drain_timeout
    while True:
        working = None if stopping.engine is None else stopping.engine.statistics().working
        line = drain_line(stopping.first, working=working, left=end - trio.current_time())
        if stopping.region is None:
            screen.show([line])
        else:
            await stopping.region.draw(screen, head=line)
        await trio.sleep(1.0)


async def serve_stop_signals(signals: AsyncIterator[int], stopping: Stopping,
                             run_scope: trio.CancelScope) -> None:
    """Act on the first two stop signals as `Stopping` says; later ones change nothing."""
    stopping.first = signal.Signals(await anext(signals))
    log.warning("draining", signal=stopping.first.name, drain_timeout=stopping.drain_timeout)
    stopping.new_work.cancel(reason=f"{stopping.first.name}: stop new work, drain")
    async with trio.open_nursery() as countdown:
        if stopping.screen is not None:
            countdown.start_soon(show_drain, stopping, stopping.screen)
        stopping.second = signal.Signals(await anext(signals))
        countdown.cancel_scope.cancel(reason=f"second {stopping.second.name}: no more drain")
    if stopping.engine is None:
        log.warning("start_abandoned", signal=stopping.second.name)
        run_scope.cancel(reason=f"second {stopping.second.name} while starting")
        return
    log.warning("drain_cut_short", signal=stopping.second.name)
    await stopping.engine.cancel_all()
    async for _ in signals:  # swallowed: the cancels are under way, each with a deadline
        pass
