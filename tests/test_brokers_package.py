"""hydra.brokers lists its public names explicitly."""

from __future__ import annotations

import hydra.brokers


def test_public_names_are_listed_and_importable() -> None:
    """Every name in __all__ exists, and no other public name is exported."""
    for name in hydra.brokers.__all__:
        assert hasattr(hydra.brokers, name)
    public = {n for n in vars(hydra.brokers) if not n.startswith("_")}
    assert public - set(hydra.brokers.__all__) == set()
