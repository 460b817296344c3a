"""``hydra run --sim`` on a pseudo-terminal, for the tests of what it shows a trader."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path


def hydra_run_on_a_pty(config: Path, journal: Path, *, lines: int = 24, columns: int = 80,
                       cwd: Path | None = None) -> tuple[subprocess.Popen[bytes], int]:
    """``hydra run --sim --sim-hours none`` with ``config`` and ``journal``, its standard
    streams on a new pseudo-terminal of ``lines`` × ``columns`` (COLUMNS and LINES taken out of
    its environment, so the terminal's size is what it reads); the process and the leader's
    file descriptor (the caller reads it, and closes it). It runs in ``cwd`` (a hook's module
    there is importable), by default this one."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        [sys.executable, "-m", "hydra", "run", "--sim", "--sim-hours", "none",
         "--config", str(config), "--journal", str(journal)],
        stdin=follower, stdout=follower, stderr=follower, env=environ, cwd=cwd)
    os.close(follower)
    return process, leader


def read_all(fd: int, chunks: list[bytes]) -> None:
    """Everything a pseudo-terminal's other end writes, until it closes."""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return
        if not data:
            return
        chunks.append(data)
