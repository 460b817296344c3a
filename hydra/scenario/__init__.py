"""Scenarios: simulated markets, faults, Hydra's configuration and timed actions in one TOML
file, run on the simulated exchange under Trio's virtual clock (``hydra scenario run``).

Layers (each imports only from those below it):
    _output    table and JSON
    _run       run_scenario, play: the engine on the simulator; summaries
    _load      load_scenario: TOML to the model, ScenarioError with key path and line
    _tables    the file's tables as types, and the converter that reads them
    _examples  where the example scenarios live
    _model     Scenario and its actions
    hydra, hydra.sim
"""

from ._examples import example_files, examples_dir
from ._load import ScenarioError, load_scenario, scenario_from_table
from ._model import (
    Action,
    CancelIntent,
    ClosePosition,
    KillSwitch,
    Roll,
    RunPolicy,
    Scenario,
    SubmitBracket,
    SubmitIntent,
)
from ._output import run_to_json, seeds_to_json
from ._run import (
    IntentCost,
    IntentSeeds,
    OrderResult,
    RunResult,
    RunSummary,
    SeedsSummary,
    play,
    run_scenario,
    summarize,
    summarize_seeds,
)

__all__ = [
    "Action",
    "CancelIntent",
    "ClosePosition",
    "IntentCost",
    "IntentSeeds",
    "KillSwitch",
    "OrderResult",
    "Roll",
    "RunPolicy",
    "RunResult",
    "RunSummary",
    "Scenario",
    "ScenarioError",
    "SeedsSummary",
    "SubmitBracket",
    "SubmitIntent",
    "example_files",
    "examples_dir",
    "load_scenario",
    "play",
    "run_scenario",
    "run_to_json",
    "scenario_from_table",
    "seeds_to_json",
    "summarize",
    "summarize_seeds",
]
