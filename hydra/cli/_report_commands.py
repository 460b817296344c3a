"""``hydra fill-report`` and ``hydra gate-check``: reports read from the journal, read-only.

Each command reads the whole journal (`hydra._journal_records.read_journal`), hands it to a pure
module (`hydra._fill_report`, `hydra._gate`) and prints what comes back. Both find the journal
as Hydra does: ``--journal PATH``, else ``journal.path`` of ``--config FILE``, else the default
``hydra-journal.sqlite``; the slippage thresholds come from the same configuration.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from .._converter import json_text
from .._errors import InvalidValueError, JournalFormatError
from .._fill_plot import PlotUnavailableError, write_plot
from .._fill_report import fill_report, render_report, report_to_json
from .._gate import gate_report, render_gate
from .._journal_records import parse_time
from ._shared import CommandError, add_journal_options, read_records

if TYPE_CHECKING:
    from ._shared import Subparsers


def _fail(message: str) -> NoReturn:
    raise CommandError(message)


@contextlib.contextmanager
def _readable(path: str) -> Iterator[None]:
    """A journal record the report cannot read as one line naming the journal and the event."""
    try:
        yield
    except JournalFormatError as e:
        raise CommandError(f"journal error: {path}: {e}") from e


# --- hydra fill-report -----------------------------------------------------------------------


def add_fill_report_parser(subparsers: Subparsers) -> None:
    """``hydra fill-report [--journal PATH] [--config FILE] [--since DATE] [--strategy S]
    [--json] [--plot FILE.png]``."""
    parser = subparsers.add_parser(
        "fill-report",
        help="predicted vs actual slippage per fill and per intent, from the journal",
        description="Read the journal (never writing to it) and report each intent and fill "
        "with the slippage predicted for it and the slippage it had, in bps of the arrival "
        "mid (positive = cost), then the reconciler's bias, RMSE, correlation and whether "
        "the slippage model is calibrated.",
    )
    add_journal_options(parser)
    parser.add_argument("--since", metavar="DATE", default=None,
                        help="only intents journaled from DATE on (ISO 8601, e.g. 2026-03-02 "
                        "or 2026-03-02T14:30; UTC unless a zone is given)")
    parser.add_argument("--strategy", metavar="S", default=None,
                        help="only intents of strategy S")
    parser.add_argument("--plot", metavar="FILE.png", default=None,
                        help="also draw predicted vs actual slippage and shortfall over time "
                        "into a PNG file (needs matplotlib)")
    parser.set_defaults(run=run_fill_report)


def run_fill_report(args: argparse.Namespace) -> int:
    try:
        since = None if args.since is None else parse_time(args.since)
    except InvalidValueError as e:
        _fail(f"--since: {e.problem}, got {e.value!r}")
    if args.plot is not None and Path(args.plot).suffix.lower() != ".png":
        _fail(f"--plot: must name a .png file (the plot is a PNG image), got {args.plot!r}")
    path, records, settings = read_records(args)
    with _readable(path):
        report = fill_report(records, settings=settings, since=since, strategy=args.strategy)
    if args.plot is not None:
        try:
            write_plot(report, args.plot)
        except PlotUnavailableError as e:
            _fail(str(e))
        except OSError as e:
            _fail(f"cannot write the plot to {args.plot!r}: {e.strerror or e}")
        if not args.json:  # standard output is the report's; --json names the plot in it
            print(f"plot written to {Path(args.plot).resolve()}", file=sys.stderr)
    if args.json:
        header = {"journal": path, "since": None if since is None else since.isoformat(),
                  "strategy": args.strategy,
                  "plot": None if args.plot is None else str(Path(args.plot).resolve())}
        print(json_text({**header, **report_to_json(report)}, indent=2))
    else:
        chosen = [f"since {since.isoformat()}"] if since is not None else []
        chosen += [f"strategy {args.strategy}"] if args.strategy is not None else []
        print(f"Fill report of {path}" + (f" ({', '.join(chosen)})" if chosen else "") + "\n")
        print(render_report(report))
    return 0


# --- hydra gate-check ------------------------------------------------------------------------


def add_gate_check_parser(subparsers: Subparsers) -> None:
    """``hydra gate-check [--journal PATH] [--config FILE] [--json]``."""
    parser = subparsers.add_parser(
        "gate-check",
        help="check the live-capital gate of the paper-trading plan against the journal",
        description="Judge each condition of the live-capital gate (docs/PAPER_TRADING_PLAN.md) "
        "from the journal, with its evidence. Exit status 0 only when every condition passes, "
        "1 when one fails, 2 for a usage error.",
    )
    add_journal_options(parser)
    parser.set_defaults(run=run_gate_check)


def run_gate_check(args: argparse.Namespace) -> int:
    path, records, settings = read_records(args)
    with _readable(path):
        report = gate_report(records, settings=settings)
    if args.json:
        print(json_text({"journal": path, **report.to_json()}, indent=2))
    else:
        kind = " (REHEARSAL)" if report.counted.rehearsal else ""
        print(f"Live-capital gate{kind}, from {path}\n")
        print(render_gate(report))
    return 0 if report.passed else 1
