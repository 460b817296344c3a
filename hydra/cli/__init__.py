"""The ``hydra`` command line: `main` (the ``hydra`` script and ``python -m hydra``).

Layers (each imports only from those below it):
    _main              main, build_parser: every subcommand, in the order --help lists them
    _config_command    hydra config check
    _run_command       hydra run: the paper (or live) runner
    _resume_command    hydra resume
    _ib_commands       hydra status / positions / cancel-all
    _report_commands   hydra fill-report / gate-check
    _scenario_command  hydra scenario run / list
    _gateway_command   hydra sim-gateway
    _shared            CommandError, the config argument, the broker settings
    hydra, hydra.scenario, hydra.gateway, hydra.ib, hydra.sim
"""

from ._main import main

__all__ = ["main"]
