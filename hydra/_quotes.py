"""A top-of-book quote."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from ._enums import Side
from ._errors import InvalidValueError
from ._validate import non_negative_int, positive, to_decimal


@attrs.frozen(kw_only=True)
class Quote:
    """Best bid and ask with their displayed sizes. ``time`` is the Trio time
    (`trio.current_time`) the broker last saw the quote change: the simulator's live book is
    current now, IB's ticker as of its last update; a quote's age is measured against it."""

    bid: Decimal = attrs.field(converter=to_decimal, validator=positive)
    ask: Decimal = attrs.field(converter=to_decimal, validator=positive)
    bid_size: int = attrs.field(default=0, validator=non_negative_int)
    ask_size: int = attrs.field(default=0, validator=non_negative_int)
    time: float = 0.0

    @ask.validator
    def _not_crossed(self, field: attrs.Attribute[Any], value: Decimal) -> None:
        if value < self.bid:
            raise InvalidValueError(field.name, value, f"is below the bid {self.bid}")

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2

    @property
    def spread(self) -> Decimal:
        return self.ask - self.bid

    def far_touch(self, side: Side) -> Decimal:
        """The price that takes liquidity now: the ask for a buy, the bid for a sell."""
        return self.ask if side is Side.BUY else self.bid

    def near_touch(self, side: Side) -> Decimal:
        """The price that joins the queue: the bid for a buy, the ask for a sell."""
        return self.bid if side is Side.BUY else self.ask
