"""hydra.dashboard lists its public names explicitly."""

from __future__ import annotations

import hydra.dashboard


def test_public_names_are_listed_and_importable() -> None:
    """Every name in __all__ exists, and no other public name is exported."""
    assert sorted(hydra.dashboard.__all__) == sorted(set(hydra.dashboard.__all__))
    for name in hydra.dashboard.__all__:
        assert hasattr(hydra.dashboard, name)
    public = {n for n in vars(hydra.dashboard) if not n.startswith("_")}
    assert public - set(hydra.dashboard.__all__) == set()
