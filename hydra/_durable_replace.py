"""A small file replaced whole, so that a crash at any point leaves the old text or the new.

The text goes to a file beside it (the path with ``.new`` added), which is flushed to the disk,
renamed over the path, and the rename flushed with the folder that holds it. A process killed
between two steps leaves the old file (and perhaps a ``.new`` the next replace writes over);
without the flushes, a machine that lost power soon after could leave the path empty, or
naming the old text after a later read had gone by the new.
"""

from __future__ import annotations

import os
from pathlib import Path


def replace_durably(path: Path, text: str, *, flush: bool = True) -> None:
    """Make ``text`` the content of ``path``, in one step as a crash sees it. ``flush=False``
    leaves out both flushes: a killed process still leaves the old text or the new, but a
    machine that loses power may lose the new (for files a rehearsal writes, which hold no
    real order, on disks where each flush costs milliseconds)."""
    temporary = path.with_name(path.name + ".new")
    with temporary.open("w") as file:
        file.write(text)
        if flush:
            file.flush()
            os.fsync(file.fileno())
    temporary.replace(path)
    if not flush:
        return
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
