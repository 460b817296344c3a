"""A roll stopped between its legs: what its open leg is to trade when a restart finishes it.

Before anything of a roll is sent, one ``roll_started`` note per close names the close, the
open that follows it and the month the open trades in (`Engine.roll`: one close, and the open
buys or sells what it filled; a hook's target, `hydra._runner`: each close of a month other
than the front one, and the open toward the target in the front month, which trades its own
quantity less what the closes left open on its side, as the runner cuts it). A restart reads
those notes into a `RollLeft` and opens `RollLeft.to_open` once the closes are over.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._contracts import ContractSpec
from ._enums import Policy, Side
from ._errors import InvalidValueError
from ._ids import IntentId


def _named(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value:
        raise InvalidValueError(attribute.name, value, "must not be empty")


def _lots(_: object, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None and value < 1:
        raise InvalidValueError(attribute.name, value, "must be a whole number of lots")


@attrs.frozen(kw_only=True)
class RollStarted:
    """A ``roll_started`` note: one close of a roll, the open after it and the months.
    `Engine.roll`'s names no ``hook``, and its open buys or sells what the close filled; a
    hook's names its close's side and quantity, and the open's own side, quantity and
    policy."""

    close_intent_id: IntentId = attrs.field(validator=_named)
    open_intent_id: IntentId = attrs.field(validator=_named)
    symbol: str | None = None
    from_expiry: str = attrs.field(validator=_named)
    to_expiry: str = attrs.field(validator=_named)
    hook: str | None = None
    close_side: Side | None = None
    close_quantity: int | None = attrs.field(default=None, validator=_lots)
    side: Side | None = None
    quantity: int | None = attrs.field(default=None, validator=_lots)
    policy: Policy | None = None

    def __attrs_post_init__(self) -> None:
        if self.hook is not None and self.close_side is None:
            raise InvalidValueError("close_side", None, "is missing (a hook's roll names it)")
        if self.hook is not None and self.close_quantity is None:
            raise InvalidValueError("close_quantity", None, "is missing (a hook's roll names it)")

    @property
    def close_signed_quantity(self) -> int:
        """What a hook's close was to buy (+) or sell (−), as the note gives it."""
        assert self.close_side is not None and self.close_quantity is not None
        return self.close_side.sign * self.close_quantity


@attrs.frozen(kw_only=True)
class RollClose:
    """One close of a roll, as the journal has it."""

    intent_id: IntentId
    signed_quantity: int  # what it was to buy (+) or sell (−)
    filled: int  # journaled so far (0: it was never journaled)


@attrs.frozen(kw_only=True)
class RollLeft:
    """A roll whose open leg never started: open ``side`` in ``target`` for what the closes
    (resumed or finished) let it (see `to_open`)."""

    closes: tuple[RollClose, ...]
    open_intent_id: IntentId
    target: ContractSpec
    side: Side
    strategy: str
    quantity: int | None = None  # the open's own (a hook's target); None: what the closes fill
    hook: str | None = None  # the strategy hook whose target asked for it
    policy: Policy | None = Policy.PATIENCE  # the open's (a target's: as its intent had it)

    @property
    def closed(self) -> int:
        """What the closes have filled so far, by the journal."""
        return sum(close.filled for close in self.closes)

    def left_open(self, filled: Mapping[IntentId, int]) -> int:
        """What the closes left unfilled, with what each filled in the end (as `to_open`)."""
        return sum(abs(close.signed_quantity) - filled.get(close.intent_id, close.filled)
                   for close in self.closes)

    def to_open(self, filled: Mapping[IntentId, int]) -> int:
        """What to open once the closes are over, with what each filled in the end
        (``filled``, by close; a close it does not name: what the journal had)."""
        fills = {close.intent_id: filled.get(close.intent_id, close.filled)
                 for close in self.closes}
        if self.quantity is None:
            return sum(fills.values())
        # What the closes left open, signed: a long not sold (+) is not to be bought again.
        still = -sum((1 if close.signed_quantity > 0 else -1)
                     * (abs(close.signed_quantity) - fills[close.intent_id])
                     for close in self.closes)
        if still * self.side.sign <= 0:
            return self.quantity
        return max(0, self.quantity - abs(still))
