"""hydra.sim lists its public names explicitly."""

from __future__ import annotations

import hydra.sim


def test_public_names_are_listed_and_importable() -> None:
    """Every name in __all__ exists, and no other public name is exported."""
    assert sorted(hydra.sim.__all__) == sorted(set(hydra.sim.__all__))
    for name in hydra.sim.__all__:
        assert hasattr(hydra.sim, name)
    public = {n for n in vars(hydra.sim) if not n.startswith("_")}
    assert public - set(hydra.sim.__all__) == set()
