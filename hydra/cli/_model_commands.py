"""``hydra model show | history | heal``: the slippage model's versions and its healing cycle.

``show`` and ``history`` read the journal (never writing to it); ``heal`` runs one healing cycle
over the journal's fills (`hydra._model_journal.heal`) and journals each step, so it needs the
journal to itself: while a Hydra runs on it, it is refused (``hydra run`` heals when it stops).
The journal is found as the report commands find it: ``--journal PATH``, else ``journal.path``
of ``--config FILE``, else the default.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .._converter import json_text
from .._errors import HydraError
from .._model_journal import heal
from .._model_report import history_to_json, render_history, render_model
from .._model_store import model_versions
from ._shared import CommandError, add_journal_options, read_records

if TYPE_CHECKING:
    from ._shared import Subparsers


def add_parser(subparsers: Subparsers) -> None:
    """``hydra model {show,history,heal} [--journal PATH] [--config FILE] [--json]``."""
    parser = subparsers.add_parser(
        "model", help="the slippage model: its current version, its history, a healing cycle",
        description="Show the slippage model's current version (its weights per symbol and "
        "policy, when and why it was made), its history (every version and healing cycle), or "
        "run one healing cycle now: detect drift in the recent fills, name what changed, fit "
        "and judge a candidate on held-out fills, then promote it or roll it back.")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    for name, run, text in (
        ("show", _run_show, "the current version"),
        ("history", _run_history, "every version and healing cycle, oldest first"),
        ("heal", _run_heal, "run one healing cycle over the journal's fills and journal it"),
    ):
        action = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        add_journal_options(action)
        action.set_defaults(run=run)


def _run_show(args: argparse.Namespace) -> int:
    path, records, _ = read_records(args)
    versions = model_versions(records)
    current = versions[-1] if versions else None
    if args.json:
        print(json_text({"journal": path,
                         "current": current}, indent=2))
    else:
        print(render_model(current))
    return 0


def _run_history(args: argparse.Namespace) -> int:
    path, records, _ = read_records(args)
    if args.json:
        print(json_text({"journal": path, **history_to_json(records)}, indent=2))
    else:
        print(render_history(records))
    return 0


def _run_heal(args: argparse.Namespace) -> int:
    path, _, settings = read_records(args)
    try:
        cycle = heal(path, settings)
    except HydraError as e:
        raise CommandError(f"hydra model heal: {e}") from e
    if args.json:
        print(json_text({"journal": path, "cycle": cycle}, indent=2))
    elif cycle is None:
        print("no fills newer than the last healing cycle saw: nothing to heal")
    else:
        print(f"detect: {cycle.detection.summary}")
        if cycle.hypothesis is not None:
            print(f"hypothesis: {cycle.hypothesis.summary}")
        if cycle.experiment is not None:
            trial = cycle.experiment
            print(f"experiment: {trial.candidate.version_id} fitted on {trial.training_count} "
                  f"fills, judged on {trial.heldout_count} held out")
        if cycle.decision is not None:
            print(f"decision: {cycle.decision.summary}")
    return 0
