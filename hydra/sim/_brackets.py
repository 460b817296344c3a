"""Brackets: orders staged with ``transmit=False``, and each parent's children. Pure and
synchronous.

IB transmits a bracket when its last order arrives with ``transmit=True``. Here an order's
bracket is its ``parent_id`` (its own id when it has no parent): orders placed with
``transmit=False`` are staged per bracket, and the next order of that bracket that arrives
with ``transmit=True`` releases them all, in the order they arrived, before itself.
"""

from __future__ import annotations


class Brackets:
    """Staged orders per bracket and children per parent, in arrival order."""

    def __init__(self) -> None:
        self._staged: dict[str, list[str]] = {}
        self._children: dict[str, list[str]] = {}

    def stage(self, bracket: str, key: str) -> None:
        self._staged.setdefault(bracket, []).append(key)

    def unstage(self, bracket: str, key: str) -> None:
        """``key`` left its bracket before being transmitted (it was cancelled)."""
        staged = self._staged.get(bracket, [])
        if key in staged:
            staged.remove(key)

    def transmit(self, bracket: str) -> list[str]:
        """The orders staged in ``bracket``, now released."""
        return self._staged.pop(bracket, [])

    def adopt(self, parent: str, child: str) -> None:
        self._children.setdefault(parent, []).append(child)

    def children(self, parent: str) -> list[str]:
        """``parent``'s children, handed over once: the parent has filled or died."""
        return self._children.pop(parent, [])
