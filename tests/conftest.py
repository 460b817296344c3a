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
