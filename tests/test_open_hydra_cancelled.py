"""``open_hydra`` entered under a cancellation (a stop signal in the instant Hydra starts, as
``hydra rehearse`` and ``hydra run`` cancel on one): it closes, its journal closed out. In a
real process, because a start that never ends cannot be failed from inside Trio."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hydra._journal_records import read_journal

CHILD = """
import sys, trio, trio.testing
from pathlib import Path
from hydra.sim import open_sim_exchange
from tests.simulated import open_engine, quiet_oats

class CancelAtSpawn(trio.abc.Instrument):
    # Cancels the scope as the k-th actor that outlives the rest is spawned: inside its start
    def __init__(self, scope, k):
        self.scope, self.k, self.seen = scope, k, 0
    def task_spawned(self, task):
        if task.name.endswith("_outliving"):
            self.seen += 1
            if self.seen == self.k:
                self.scope.cancel()

async def main(k):
    async with open_sim_exchange(quiet_oats(), seed=1) as exchange:
        with trio.CancelScope() as scope:
            trio.lowlevel.add_instrument(CancelAtSpawn(scope, k))
            async with open_engine(exchange, Path(sys.argv[1])):
                await trio.sleep_forever()
    print("closed")

trio.run(main, int(sys.argv[2]), clock=trio.testing.MockClock(autojump_threshold=0))
"""


@pytest.mark.parametrize("k", [1, 2, 3, 4], ids=["journal", "publisher", "risk", "events"])
def test_hydra_cancelled_as_it_starts_closes_with_its_journal_closed_out(
    tmp_path: Path, k: int,
) -> None:
    """Cancelled as it starts one of the actors that outlive the rest (shielded: the journal,
    then the publisher, the risk actor, the broker's events), Hydra used to wait for ever:
    started under a pending cancellation, Trio never moved the actor into its nursery, and
    the start waited for it to end, which it does only once Hydra closes."""
    journal = tmp_path / "j.sqlite"
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, str(journal), str(k)],
                              cwd=Path(__file__).resolve().parent.parent,
                              capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("open_hydra, cancelled as it started, never returned")
    assert (done.returncode, done.stdout.splitlines()[-1:]) == (0, ["closed"]), done.stderr
    notes = [r.payload["what"] for r in read_journal(journal) if r.kind.value == "note"]
    assert notes[0] == "engine_started" and notes[-1] == "engine_stopped"
    assert "unrecoverable_error" not in notes
