"""A tiny filesystem for one test, to fill up: a real full disk, not a simulated error.

A tmpfs of a few hundred KiB, mounted under the test's tmp directory (root on Linux; the test
is skipped where it cannot be mounted). `fill` writes a ballast file until the disk refuses
(ENOSPC), `free` deletes it.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


class TinyDisk:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._ballast = root / "ballast"

    def fill(self) -> None:
        """Write the ballast until no block is left."""
        fd = os.open(self._ballast, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for size in (1 << 16, 1 << 12, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * size)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
        finally:
            os.close(fd)

    def free(self) -> None:
        self._ballast.unlink(missing_ok=True)


@contextmanager
def mounted_tiny_disk(tmp_path: Path, *, size: str = "512k") -> Iterator[TinyDisk]:
    """A tmpfs of ``size`` at ``tmp_path / "disk"``, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"no tiny filesystem here (mount needs root): {result.stderr.strip()}")
    try:
        yield TinyDisk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
