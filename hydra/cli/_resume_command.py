"""``hydra resume --reason TEXT``: clear the kill switch and every latched breaker of the runner.

It appends one control line to the runner's inbox (``runner.inbox``); a running ``hydra run``
applies it within a second, a stopped one at its next start. The line carries an id, and the
runner applies each id once (journaled as ``control_applied``), so a restart never repeats it.
A breaker whose limit is still exceeded trips again at once after the resume.
"""

from __future__ import annotations

import argparse
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from .._inbox import resume_line
from .._settings import HydraConfig
from ._shared import CommandError, load_config_arg

if TYPE_CHECKING:
    from ._shared import Subparsers


def add_parser(subparsers: Subparsers) -> None:
    """``hydra resume --reason TEXT [--config FILE]``."""
    parser = subparsers.add_parser(
        "resume", help="clear the kill switch and latched breakers of the runner",
        description="Ask the runner (through its inbox) to clear the kill switch and every "
                    "latched circuit breaker; journaled with the reason.")
    parser.add_argument("--reason", required=True, help="why trading resumes (journaled)")
    parser.add_argument("--config", metavar="FILE", help="a TOML configuration file")
    parser.set_defaults(run=run_resume)


def run_resume(args: argparse.Namespace) -> int:
    reason = " ".join(args.reason.split())
    if not reason:
        raise CommandError("resume: --reason must say why trading resumes")
    config = load_config_arg(args.config) if args.config else HydraConfig()
    inbox = Path(config.runner.inbox)
    request_id = f"resume-{uuid.uuid4().hex[:12]}"
    try:
        with inbox.open("a", encoding="utf-8") as file:
            file.write(resume_line(reason, request_id=request_id) + "\n")
    except OSError as e:
        raise CommandError(f"resume: cannot write the inbox {inbox}: {e.strerror}") from e
    print(f"resume {request_id} written to {inbox}: the runner applies it within a second "
          "(or at its next start)")
    return 0
