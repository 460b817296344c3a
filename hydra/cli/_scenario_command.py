"""``hydra scenario run FILE`` and ``hydra scenario list``.

Example scenarios live in ``examples/scenarios/``; the command looks for that folder in the
current directory, then next to the installed package (a source checkout), unless ``--dir``
names one. ``scenario run`` takes a file, or the name of an example scenario.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .._converter import json_text
from .._logging import configure_logging
from .._settings import LoggingSettings, LogLevel
from ..scenario import ScenarioError, example_files, examples_dir, load_scenario
from ..scenario._examples import EXAMPLES
from ..scenario._model import RunPolicy, Scenario
from ..scenario._output import progress_bar, render_run, render_seeds, run_to_json, seeds_to_json
from ..scenario._run import RunResult, run_scenario
from ._shared import CommandError

if TYPE_CHECKING:
    from ._shared import Subparsers


def add_parser(subparsers: Subparsers) -> None:
    """``hydra scenario run FILE [--seed N | --seeds A..B] [--policy NAME] [--json]
    [--journal PATH]`` and ``hydra scenario list [--dir DIR]``."""
    scenario = subparsers.add_parser(
        "scenario", help="run execution scenarios on the simulator",
        description="Run a scenario (simulated markets, faults, Hydra's configuration and "
        "timed intents, in one TOML file) on the simulated exchange under a virtual clock.",
    )
    actions = scenario.add_subparsers(title="actions", metavar="ACTION", required=True)
    run = actions.add_parser(
        "run", help="run a scenario and report every intent",
        description="Run FILE (or an example scenario by name) and print a table of its "
        "intents and a summary, or with --json one JSON object on standard output.",
    )
    run.add_argument("file", metavar="FILE", help="a scenario TOML file, or an example's name")
    seeds = run.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=None,
                       help="simulator seed (default: the scenario's own, else 1)")
    seeds.add_argument("--seeds", type=seed_range, default=None, metavar="A..B",
                       help="run every seed from A to B and summarise across them")
    run.add_argument("--policy", choices=[p.value for p in RunPolicy], default="hydra",
                     help="how intents without their own policy are worked: hydra (routing, "
                     "the default), cross (at the far touch at once), passive (rest at the "
                     "near touch, never step)")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.add_argument("--journal", type=Path, default=None, metavar="PATH",
                     help="write the journal to PATH (a new file; with --seeds, one per seed: "
                     "PATH's name plus -seedN) instead of a temporary directory")
    run.add_argument("--dir", type=Path, default=None, help="where example scenarios live")
    run.set_defaults(run=run_scenario_command)
    listing = actions.add_parser("list", help="list the example scenarios",
                                 description="List the example scenarios: name and the first "
                                 "line of each description.")
    listing.add_argument("--dir", type=Path, default=None, help="where example scenarios live")
    listing.set_defaults(run=run_scenario_list)


def seed_range(text: str) -> range:
    """``A..B`` (inclusive, A ≤ B) as a range of seeds."""
    first, dots, last = text.partition("..")
    try:
        seeds = range(int(first), int(last) + 1)
    except ValueError:
        seeds = range(0)
    if not dots or not seeds:
        raise argparse.ArgumentTypeError(f"must be A..B with whole numbers A <= B, got {text!r}")
    return seeds


def _error(message: str) -> CommandError:
    return CommandError(message)


# --- list --------------------------------------------------------------------------------------


def run_scenario_list(args: argparse.Namespace) -> int:
    files = example_files(args.dir)
    if not files:
        raise _error(f"no example scenarios found (looked for {EXAMPLES} in the current "
                     "directory and the source checkout; use --dir)")
    scenarios = [_load(path) for path in files]
    width = max(len(s.name) for s in scenarios)
    for scenario in scenarios:
        print(f"{scenario.name.ljust(width)}  {scenario.summary_line}")
    return 0


# --- run ---------------------------------------------------------------------------------------


def _load(path: Path) -> Scenario:
    try:
        return load_scenario(path)
    except ScenarioError as e:
        raise CommandError(f"scenario error: {e.message}", details={
            "field": e.field, "problem": e.problem, "file": e.file, "line": e.line}) from e


def _resolve(file: str, directory: Path | None) -> Path:
    path = Path(file)
    if path.exists() or path.suffix == ".toml":
        return path
    folder = examples_dir(directory)
    example = folder / f"{file}.toml" if folder is not None else path
    return example if example.exists() else path


def _journal(base: Path | None, seed: int, several: bool) -> Path | None:
    if base is None:
        return None
    path = base.with_name(f"{base.stem}-seed{seed}{base.suffix}") if several else base
    if path.exists():
        raise _error(f"journal {str(path)!r} already exists: give a new file")
    return path


def run_scenario_command(args: argparse.Namespace) -> int:
    configure_logging(LoggingSettings(level=LogLevel.WARNING))  # to stderr: stdout is ours
    scenario = _load(_resolve(args.file, args.dir))
    policy = RunPolicy(args.policy)
    if args.seeds is None:
        seed = scenario.seed if args.seed is None else args.seed
        result = run_scenario(scenario, seed=seed, policy=policy,
                              journal=_journal(args.journal, seed, several=False))
        print(json_text(run_to_json(result)) if args.json else render_run(result))
        return 0
    results = _run_seeds(scenario, args.seeds, policy, args.journal)
    text = f"{args.seeds.start}..{args.seeds.stop - 1}"
    print(json_text(seeds_to_json(results, text)) if args.json else render_seeds(results, text))
    return 0


def _run_seeds(
    scenario: Scenario, seeds: range, policy: RunPolicy, journal: Path | None
) -> list[RunResult]:
    show = sys.stderr.isatty()
    results = []
    for done, seed in enumerate(seeds):
        if show:
            print(progress_bar(done, len(seeds)), end="", file=sys.stderr, flush=True)
        results.append(run_scenario(scenario, seed=seed, policy=policy,
                                    journal=_journal(journal, seed, several=True)))
    if show:
        print(progress_bar(len(seeds), len(seeds)), file=sys.stderr, flush=True)
    return results
