"""The rehearsal's first day of its real (random) market through the simulated gateway
journals the fills recorded in ``tests/golden/rehearsal_gateway_fills.txt``: time, execution
id, side, quantity and price, one a line. The simulator's speed-ups must leave them as they
were (a background TCA grid computes baselines on it); run this file as a script
(``python -m tests.test_rehearsal_golden``) to record them anew after a deliberate change."""

from __future__ import annotations

import tempfile
from pathlib import Path

import trio
import trio.testing

from hydra._journal_records import read_journal
from hydra._rehearsal import Rehearsal, rehearse
from hydra._rehearsal_broker import BrokerKind
from hydra._rehearsal_plan import plan_rehearsal
from hydra._settings import HydraConfig

GOLDEN = Path(__file__).parent / "golden" / "rehearsal_gateway_fills.txt"


def _fills(journal: Path) -> list[str]:
    """Day 1 of the four-week plan (seed 1) through the gateway: its fills, one line each."""
    rehearsal = Rehearsal(config=HydraConfig(), journal=journal, broker=BrokerKind.GATEWAY,
                          progress=lambda _: None)  # fmt: skip
    day = plan_rehearsal(4)[0]
    trio.run(rehearse, rehearsal, [day], clock=trio.testing.MockClock(autojump_threshold=0))
    fields = ("execution_id", "side", "quantity", "price")
    return [
        " ".join((r.recorded_at.isoformat(), *(str(r.payload["fill"][f]) for f in fields)))
        for r in read_journal(journal)
        if r.kind.value == "fill"
    ]


def test_a_gateway_day_journals_the_recorded_fills(tmp_path: Path) -> None:
    """Day 1 through the gateway journals the recorded fills, at their instants and prices."""
    fills = _fills(tmp_path / "r.sqlite")
    assert len(fills) > 30
    assert fills == GOLDEN.read_text().splitlines()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        GOLDEN.write_text("\n".join(_fills(Path(folder) / "r.sqlite")) + "\n")
