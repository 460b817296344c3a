"""The ``--rows`` file of `bench/tca.py`: one JSON line per run, each stamped with the code
that made it (`stamp`: the commit, and a fingerprint of the simulator's source), so a resumed
grid does not silently mix runs of two simulators (`mixed_simulators`), and what
``--with-rows`` reads says which commits made it (`commits_read`)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "hydra" / "sim"
UNKNOWN = "unknown"


def commit() -> str:
    """The checkout's commit (``git rev-parse HEAD``, 12 digits); "unknown" outside git."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return UNKNOWN
    return done.stdout.strip() or UNKNOWN


def sim_fingerprint(sim: Path = SIM) -> str:
    """The simulator's version: 12 hex digits of the SHA-256 over its source files (their
    paths and contents, in path order), so an uncommitted change counts too."""
    digest = hashlib.sha256()
    for path in sorted(sim.rglob("*.py")):
        digest.update(path.relative_to(sim).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def stamp() -> dict[str, str]:
    """What every row this bench writes carries of the code that made it."""
    return {"commit": commit(), "sim": sim_fingerprint()}


def both_signs(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with a moving day's up and down cells (``oats-trend-up 2% BUY``,
    ``oats-trend-down 2% BUY``) as one, ``oats-trend 2% BUY``: a seed and its mirror, which
    moved the other way, then count as one draw of a day whose sign is not known, as a trader
    meets it. Other cells are left as they are."""
    def joined(cell: str) -> str:
        scenario, _, rest = cell.partition(" ")
        day = scenario.removesuffix("-up").removesuffix("-down")
        return f"{day} {rest}" if day != scenario else cell
    return [{**row, "cell": joined(row["cell"])} for row in rows]


def read_rows(path: Path, *, repair: bool = False) -> list[dict[str, Any]]:
    """The runs in ``path`` (written by ``--rows``: one JSON object a line), each once. A last
    line cut short (the bench was killed while writing it, or is writing it now) is left out; with
    ``repair`` (the file this bench appends to) it is also dropped from the file, so the runs
    appended after it start on a line of their own."""
    if not path.exists():
        return []
    text = path.read_text()
    if text and not text.endswith("\n"):
        text = text[:text.rfind("\n") + 1]
        if repair:
            path.write_text(text)
    rows: dict[tuple[str, str, int], dict[str, Any]] = {}
    for line in text.splitlines():
        row = json.loads(line)
        row["markouts_bps"] = {float(h): v for h, v in row["markouts_bps"].items()}
        # A run twice in the file (two benches appended to it) is one run: the first kept.
        rows.setdefault((row["cell"], row["policy"], row["seed"]), row)
    return list(rows.values())


def earlier_rows(path: Path, *, exclude: set[str], cells: set[tuple[str, int]],
                 ) -> list[dict[str, Any]]:
    """The runs in ``path`` of the cells and seeds in ``cells`` and of policies not in
    ``exclude``."""
    return [row for row in read_rows(path)
            if row["policy"] not in exclude and (row["cell"], row["seed"]) in cells]


def unstamped(rows: Sequence[dict[str, Any]], path: Path) -> str | None:
    """The warning line for ``rows`` written before rows were stamped (None: there are none):
    they are taken, their code unknown."""
    count = sum(1 for row in rows if "sim" not in row)
    if not count:
        return None
    return (f"warning: {path}: {_runs(count)} carry no simulator fingerprint (written before "
            f"rows had one): taken, their code {UNKNOWN}")


def mixed_simulators(rows: Sequence[dict[str, Any]], path: Path, *, sim: str) -> str | None:
    """The one line refusing to resume ``rows`` into a grid run by simulator ``sim``, when
    some were made by another (None: all by ``sim``, or unstamped)."""
    others = Counter(row["sim"] for row in rows if row.get("sim", sim) != sim)
    if not others:
        return None
    theirs = ", ".join(f"{fingerprint} ({_runs(count)})" for fingerprint, count in
                       sorted(others.items()))
    return (f"{path}: runs of another simulator ({theirs}; this one is {sim}): refusing to "
            "mix them in one grid (--allow-mixed to go on, or start another rows file)")


def commits_read(rows: Sequence[dict[str, Any]], path: Path) -> str:
    """The line saying which commits made the ``rows`` read from ``path``."""
    commits = Counter(str(row.get("commit", UNKNOWN)) for row in rows)
    made = ", ".join(f"{name} ({_runs(count)})" for name, count in sorted(commits.items()))
    return f"{_runs(len(rows))} read from {path}, made by {made or 'none'}"


def _runs(count: int) -> str:
    return "1 run" if count == 1 else f"{count} runs"
