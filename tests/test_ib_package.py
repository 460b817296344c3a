"""hydra.ib lists its public names explicitly."""

from __future__ import annotations

import hydra.ib


def test_public_names_are_listed_and_importable() -> None:
    """Every name in __all__ exists, and no other public name is exported."""
    for name in hydra.ib.__all__:
        assert hasattr(hydra.ib, name)
    public = {n for n in vars(hydra.ib) if not n.startswith("_")}
    assert public - set(hydra.ib.__all__) == set()
