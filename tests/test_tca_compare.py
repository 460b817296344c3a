"""``bench/tca_compare.py``: two ``--rows`` files of Hydra paired seed by seed, a seed and its
mirror as one draw, only on the runs both hold."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from tca_compare import compare, load


def _row(policy: str, seed: int, cost: float) -> dict[str, Any]:
    return {"cell": "oats-front 1% BUY", "policy": policy, "seed": seed, "is_bps": cost,
            "completion": 1.0, "passive_share": 0.5, "messages": 10, "oracle_bps": None,
            "markouts_bps": {"1.0": None}}


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows) + '{"cut off')
    return path


def test_the_change_is_paired_over_the_seeds_both_files_hold(tmp_path: Path) -> None:
    """Seeds 1, −1 and 2 before (with twap-cross and the oracle), 1, −1, 2 and 3 after: seed 3
    is left out, seed 1 and its mirror are one draw (before 10, after 7: −3), seed 2 one
    more (before 12, after 11: −1); the paired mean is −2, twap-cross at 14 gains 2 on Hydra,
    and the capture of the gap to the oracle (4) goes from 3/10 to 5/10."""
    before = _write(tmp_path / "before.jsonl", [
        _row("hydra", 1, 8.0), _row("hydra", -1, 12.0), _row("hydra", 2, 12.0),
        *(_row("twap-cross", s, 14.0) for s in (1, -1, 2)),
        *(_row("oracle", s, 4.0) for s in (1, -1, 2))])
    after = _write(tmp_path / "after.jsonl", [
        _row("hydra", 1, 6.0), _row("hydra", -1, 8.0), _row("hydra", 2, 11.0),
        _row("hydra", 3, 0.0)])
    (entry,) = compare(load(before), load(after), "hydra")
    assert entry["runs"] == 3
    assert (entry["paired"].n, entry["paired"].mean) == (2, -2.0)
    assert (entry["before"]["is_bps"].mean, entry["after"]["is_bps"].mean) == (11.0, 9.0)
    assert entry["after"]["vs_twap_cross"].mean - entry["before"]["vs_twap_cross"].mean == 2.0
    assert (entry["before"]["capture"], entry["after"]["capture"]) == pytest.approx((0.3, 0.5))


def test_the_after_file_is_measured_against_its_own_twap_cross(tmp_path: Path) -> None:
    """A change of Hydra's schedule changes ``twap-cross`` (that schedule crossed): the after
    file's own twap-cross runs (12 where before's were 14) are what its figures are paired
    with and its capture is counted from; a run written twice to a file counts once."""
    before = _write(tmp_path / "before.jsonl", [
        *(_row("hydra", s, 10.0) for s in (1, -1)),
        *(_row("twap-cross", s, 14.0) for s in (1, -1)),
        *(_row("oracle", s, 4.0) for s in (1, -1))])
    after = _write(tmp_path / "after.jsonl", [
        *(_row("hydra", s, 8.0) for s in (1, -1, 1)),
        *(_row("twap-cross", s, 12.0) for s in (1, -1))])
    (entry,) = compare(load(before), load(after), "hydra")
    assert (entry["before"]["vs_twap_cross"].mean, entry["after"]["vs_twap_cross"].mean) == (
        4.0, 4.0)
    assert (entry["before"]["capture"], entry["after"]["capture"]) == pytest.approx((0.4, 0.5))
    assert entry["after"]["cvar95"] == 8.0 and entry["twap_cvar95"] == 12.0
