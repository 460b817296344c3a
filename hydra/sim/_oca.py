"""One-cancels-all groups, as IB's ocaType 1 ("cancel all remaining orders with block").
Pure and synchronous.

The FIRST fill of any member, partial or full, cancels every other member (IB does so with
ocaType 1); "with block" is overfill protection: a member that matched in the same market
event after its sibling filled gets no fill. A group that has filled takes no new members.
"""

from __future__ import annotations


class OcaGroups:
    """The members of each OCA group and which groups have already filled."""

    def __init__(self) -> None:
        self._members: dict[str, list[str]] = {}
        self._filled: set[str] = set()

    def join(self, group: str, key: str) -> None:
        self._members.setdefault(group, []).append(key)

    def has_filled(self, group: str) -> bool:
        return group in self._filled

    def first_fill(self, group: str, key: str) -> list[str]:
        """``key`` of ``group`` filled: the other members to cancel (none after the first fill)."""
        if group in self._filled:
            return []
        self._filled.add(group)
        return [member for member in self._members.get(group, ()) if member != key]
