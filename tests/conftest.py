import os
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import settings

# CI machines are small and shared: no per-example deadline, a few more examples there.
settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, max_examples=200)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Commands configure structlog (to a stream pytest closes afterwards): undo it after each
    test, so no test logs into another's closed capture."""
    yield
    structlog.reset_defaults()


@pytest.fixture
def flushed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files this process flushes to the disk with ``os.fsync`` from now on,
    in order (each is flushed as well). SQLite's own flushes are its C library's, not here."""
    names: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        names.append(os.path.basename(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return names
