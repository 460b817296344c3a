"""OcaGroups: the first fill of a member cancels the others (IB ocaType 1)."""

from __future__ import annotations

from hydra.sim._oca import OcaGroups


def test_first_fill_names_the_other_members_once() -> None:
    """The first fill in a group returns the other members; later fills return none."""
    groups = OcaGroups()
    for key in ("a", "b", "c"):
        groups.join("g", key)
    groups.join("h", "d")
    assert groups.first_fill("g", "b") == ["a", "c"]
    assert groups.first_fill("g", "b") == [] and groups.has_filled("g")
    assert not groups.has_filled("h")
