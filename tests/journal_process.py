"""A journal writer in a process of its own, for tests of what happens across processes.

``python -m tests.journal_process PATH NOTES`` opens the journal at PATH for writing, records
NOTES notes, prints ``ready`` and then holds the journal open until its stdin closes (or it is
killed, which is the point of most tests using it).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hydra._journal import Journal


class JournalProcess:
    """A child process holding a journal open for writing after writing ``notes`` notes."""

    def __init__(self, path: Path, *, notes: int = 0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.journal_process", str(path), str(notes)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=Path(__file__).parent.parent,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line != "ready\n":
            self.process.kill()
            _, err = self.process.communicate(timeout=30)
            raise AssertionError(f"the journal process did not start: {line!r} {err}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no close, no checkpoint, no cleanup of any kind."""
        self.process.kill()
        self.process.communicate(timeout=30)

    def close(self) -> int:
        """Let the process close the journal and exit; its exit status."""
        self.process.communicate(timeout=30)
        return self.process.returncode

    def __enter__(self) -> JournalProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.kill()


def main(path: str, notes: int) -> None:
    journal = Journal.open(path)
    for number in range(notes):
        journal.record_note("reconnected", number=number)
    print("ready", flush=True)
    sys.stdin.read()
    journal.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
