"""Brackets: orders staged until transmitted, and each parent's children."""

from __future__ import annotations

from hydra.sim._brackets import Brackets


def test_transmit_releases_the_staged_orders_of_one_bracket_in_order() -> None:
    """Staged orders come out once, in arrival order, without those unstaged or of others."""
    brackets = Brackets()
    for key in ("p", "tp", "x"):
        brackets.stage("p", key)
    brackets.stage("q", "q")
    brackets.unstage("p", "x")
    assert brackets.transmit("p") == ["p", "tp"]
    assert brackets.transmit("p") == []
    assert brackets.transmit("q") == ["q"]


def test_children_are_handed_over_once() -> None:
    """A parent's children come out in arrival order, once."""
    brackets = Brackets()
    brackets.adopt("p", "tp")
    brackets.adopt("p", "sl")
    assert brackets.children("p") == ["tp", "sl"]
    assert brackets.children("p") == []
