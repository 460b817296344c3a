"""One writer per journal: an OS lock on a sidecar file ``<journal>.lock``, held while open.

`fcntl.flock` locks belong to an open file, not to a name: the kernel releases the lock when
the holder closes it or dies (a SIGKILL too), so a crash never leaves a stale lock behind and
nothing has to be cleaned up by hand. The holder writes its pid and start time into the file
so a refused second writer can say who holds the journal. The lock file itself is never
removed (unlinking a lock file races with the next process opening it).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from pathlib import Path

from ._errors import JournalLockedError


def lock_path(journal: str | os.PathLike[str]) -> Path:
    """The sidecar lock file of the journal at ``journal``."""
    return Path(os.fspath(journal) + ".lock")


class JournalLock:
    """An exclusive `flock` on a journal's lock file, taken at once or refused."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    @classmethod
    def acquire(cls, journal: str | os.PathLike[str]) -> JournalLock:
        """Lock ``journal`` for this process, or raise `JournalLockedError` naming the holder."""
        path = lock_path(journal)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, started_at = _read_holder(fd)
            os.close(fd)
            raise JournalLockedError(os.fspath(journal), pid=pid, started_at=started_at) from None
        except BaseException:
            os.close(fd)
            raise
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "started_at": started}).encode(), 0)
        return cls(fd, path)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Empty the lock file and unlock it; a second call does nothing."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the only descriptor releases the flock


def refuse_if_held(journal: str | os.PathLike[str]) -> None:
    """Raise `JournalLockedError` at once when another process holds ``journal`` (a command
    asks before it connects anywhere). Only a check: the lock is taken for good by
    `Journal.open`, which still refuses a process that took it in between."""
    JournalLock.acquire(journal).release()


def _read_holder(fd: int) -> tuple[int | None, str | None]:
    """The holder's pid and start time as it wrote them (None while it is still writing)."""
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        data = {}
    pid, started = data.get("pid"), data.get("started_at")
    return (pid if isinstance(pid, int) else None,
            started if isinstance(started, str) else None)
