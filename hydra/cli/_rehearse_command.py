"""``hydra rehearse``: the paper run's weeks against the simulator, on a virtual clock.

The runner (strategy hook, inbox, journal, risk book, the healer after each close) runs each
trading day of --weeks weeks against the simulated gateway over TCP on 127.0.0.1 and the IB
client, as hydra run --sim trades (--broker in-process: the simulator without sockets, at
under half the CPU) on Trio's virtual clock, so four weeks pass in under a minute, with a
drill of each gate condition placed in them (see docs/USER_GUIDE.md). It writes a new journal
(--journal), marked as a rehearsal: hydra gate-check --journal PATH then shows every condition
with its evidence, and never passes. A line per simulated day goes to standard error, the
summary to standard output (--json: one object). Exit status 0 when every gate condition was
met and the healer found the change of costs within two sessions, 1 when not, 2 for a usage
error.

The calendar and the drills are `hydra._rehearsal_plan`'s, the sessions `hydra._rehearsal`'s.
"""

from __future__ import annotations

import argparse
import functools
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import trio
import trio.testing

from .._converter import json_text
from .._errors import HydraError
from .._gate import gate_report
from .._journal_records import read_journal
from .._logging import configure_logging
from .._rehearsal import Rehearsal, rehearsal_hook, rehearse, summary
from .._rehearsal_broker import BrokerKind
from .._rehearsal_journal import real_venues
from .._rehearsal_plan import FIRST_MONDAY, REGIME_DAY, plan_rehearsal
from .._settings import HydraConfig, LogLevel
from .._stop_reasons import describe_error
from .._strategy_hook import load_hook
from ._shared import STOP_SIGNALS, CommandError, load_config_arg

if TYPE_CHECKING:
    from ._shared import Subparsers

T = TypeVar("T")

INTERRUPTED = 130
"""The exit status after Ctrl-C (the shell's 128 + 2)."""

DETECT_WITHIN = 2
"""Sessions after the change of costs (its own included) within which the healer must find it."""



def add_parser(subparsers: Subparsers) -> None:
    """``hydra rehearse [--weeks N] [--config FILE] [--seed N] --journal PATH [--json]``."""
    parser = subparsers.add_parser(
        "rehearse", help="rehearse weeks of paper trading against the simulator in a minute",
        description=__doc__.split("\n\n")[1].replace("\n", " ").replace("``", ""))
    parser.add_argument("--weeks", type=int, default=4, metavar="N",
                        help="weeks to rehearse (default 4; at least 3, where the drills fall)")
    parser.add_argument("--config", metavar="FILE",
                        help="a TOML configuration: limits, execution, slippage, strategy hook")
    parser.add_argument("--seed", type=int, default=1, metavar="N",
                        help="the simulator's seed (default 1): it fixes each day's market, and "
                        "two runs of one seed journal the same fills")
    parser.add_argument("--broker", choices=[kind.value for kind in BrokerKind],
                        default=BrokerKind.GATEWAY.value,
                        help="gateway (the default): the simulated gateway over TCP and the IB "
                        "client, as hydra run --sim trades; in-process: the simulator without "
                        "sockets (under half the CPU)")
    parser.add_argument("--journal", metavar="PATH", required=True,
                        help="the rehearsal's journal: a new file (never the paper journal)")
    parser.add_argument("--json", action="store_true", help="the summary as one JSON object")
    parser.set_defaults(run=run_rehearse)


def _rehearsal(args: argparse.Namespace) -> Rehearsal:
    """The rehearsal the arguments ask for; a `CommandError` for each way they are wrong."""
    journal = Path(args.journal)
    if real_venues(journal):
        raise CommandError(f"--journal: {args.journal!r} holds {' and '.join(real_venues(journal))}"
                           " trading: a rehearsal never writes into it")
    if journal.exists():
        raise CommandError(f"--journal: {args.journal!r} exists: a rehearsal writes a new "
                           "journal (remove it, or name another file)")
    config = load_config_arg(args.config) if args.config else HydraConfig()
    # Logs are errors only: the progress lines and the journal tell the rehearsal's story.
    config = attrs.evolve(config, journal=attrs.evolve(config.journal, path=str(journal),
                                                       audit_path=None),
                          logging=attrs.evolve(config.logging, level=LogLevel.ERROR))
    strategy = config.runner.strategy
    try:
        hook = load_hook(strategy) if strategy else rehearsal_hook
    except HydraError as e:
        raise CommandError(str(e)) from None
    return Rehearsal(config=config, journal=journal, seed=args.seed,
                     broker=BrokerKind(args.broker), hook=hook,
                     hook_name=strategy.partition(":")[2] if strategy else "rehearsal",
                     progress=lambda line: print(f"rehearse: {line}", file=sys.stderr,
                                                 flush=True))


def run_rehearse(args: argparse.Namespace) -> int:
    try:
        days = plan_rehearsal(args.weeks, first=FIRST_MONDAY)
    except HydraError as e:
        raise CommandError(f"--weeks: {str(e).partition(': ')[2]}") from None
    rehearsal = _rehearsal(args)
    configure_logging(rehearsal.config.logging, stream=sys.stderr)
    started = time.perf_counter()
    interrupted = CommandError("hydra rehearse: interrupted (the journal holds the days so far)",
                               exit_code=INTERRUPTED)
    try:
        results = trio.run(until_stopped, functools.partial(rehearse, rehearsal, days),
                           clock=trio.testing.MockClock(autojump_threshold=0))
    except (KeyboardInterrupt, HydraError, OSError, BaseExceptionGroup) as error:
        # Ctrl-C before the handler was set, or a second into a strategy that never returns
        if _interrupted(error):
            raise interrupted from None
        raise CommandError(f"hydra rehearse stopped: {describe_error(error)}") from error
    if results is None:
        raise interrupted
    try:  # the report over the journal takes a moment: Ctrl-C there is Python's again
        report = gate_report(read_journal(rehearsal.journal), settings=rehearsal.config.slippage)
    except KeyboardInterrupt:
        raise interrupted from None
    figures: dict[str, Any] = {
        "journal": str(rehearsal.journal), "weeks": args.weeks, "seed": args.seed,
        "broker": args.broker,
        **summary(results), "wall_seconds": round(time.perf_counter() - started, 2),
        "conditions_met": sum(c.passed for c in report.criteria),
        "conditions": len(report.criteria),
        "failing": [c.name for c in report.criteria if not c.passed]}
    sessions = figures["sessions_to_detect"]
    ok = not figures["failing"] and sessions is not None and sessions <= DETECT_WITHIN
    print(json_text({**figures, "ok": ok}, indent=2) if args.json else render(figures))
    return 0 if ok else 1


async def until_stopped(run: Callable[[], Awaitable[T]]) -> T | None:
    """What ``run`` returns, or None when a stop signal cancelled it (its sessions closed out
    as a cancellation closes them). The first signal is not raised as `KeyboardInterrupt`
    into whatever code runs when it comes, where a strategy's bare ``except`` or a finalizer
    could lose it (the rehearsal then ran on to its end): it cancels ``run`` at Trio's next
    turn. Later ones change nothing once Trio has turned (raised into the closing sessions,
    one left them spinning on the virtual clock for ever); before that, a strategy that never
    returns holds Trio's thread, and a second signal raises `KeyboardInterrupt` in it. Once
    one came, the command ignores them to its end (a signal left to Python's default after
    the rehearsal ended printed a traceback or killed the process)."""
    token = trio.lowlevel.current_trio_token()
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    asked = False  # a stop signal came (Trio has turned since once the scope is cancelled)
    with trio.CancelScope() as scope:

        def handler(number: int, frame: object) -> None:
            nonlocal asked
            if not asked:
                asked = True
                token.run_sync_soon(functools.partial(scope.cancel, reason="a stop signal"))
            elif not scope.cancel_called:
                raise KeyboardInterrupt

        for number in STOP_SIGNALS:
            signal.signal(number, handler)
        try:
            return await run()
        finally:  # once one came, the command is ending: the rest of it ignores them
            for number, was in previous.items():
                signal.signal(number, signal.SIG_IGN if asked else was)
    return None


def _interrupted(error: BaseException) -> bool:
    if isinstance(error, BaseExceptionGroup):
        return error.subgroup(KeyboardInterrupt) is not None
    return isinstance(error, KeyboardInterrupt)


def render(figures: dict[str, Any]) -> str:
    """The summary as lines."""
    found = figures["regime_detected_day"]
    detection = (f"the healer found it after day {found}'s close, {figures['sessions_to_detect']} "
                 f"session(s) on (needed within {DETECT_WITHIN})" if found is not None
                 else "the healer never found it")
    failing = figures["failing"]
    return "\n".join([
        f"Rehearsal of {figures['weeks']} weeks (seed {figures['seed']}, {figures['broker']}) in "
        f"{figures['journal']}: {figures['sessions']} sessions, {figures['fills']} fills, "
        f"{figures['wall_seconds']:.1f} s wall",
        f"healing: {figures['cycles']} cycles, {figures['drift_found']} found drift, "
        f"{figures['promoted']} promoted; model now {figures['model']}",
        f"costs changed on day {REGIME_DAY}: {detection}",
        f"gate: {figures['conditions_met']} of {figures['conditions']} conditions met"
        + (f" (not met: {', '.join(failing)})" if failing else "")
        + f" (a rehearsal never passes: see hydra gate-check --journal {figures['journal']})"])
