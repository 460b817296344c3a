"""What Hydra reports about one intent and each order it sent for it."""

from __future__ import annotations

from decimal import Decimal

import attrs

from ._core._slippage import shortfall_bps
from ._enums import OrderStatus, OrderType, Side
from ._ids import ClientOrderId, IntentId
from ._orders import Fill


def price_text(price: Decimal) -> str:
    """A price with two to four decimals: 350.25, 350.50, 350.3333 (an average)."""
    text = f"{price:.4f}"
    return text[:-2] + text[-2:].rstrip("0") if "." in text else text


@attrs.frozen(kw_only=True)
class ChildOrderReport:
    """One order sent for an intent: the limit prices it was worked at, its status and fills."""

    client_order_id: ClientOrderId
    order_type: OrderType
    quantity: int
    prices: tuple[Decimal, ...]  # every limit price it had, in order
    stop_price: Decimal | None = None
    status: OrderStatus
    fills: tuple[Fill, ...] = ()
    # Why it ended unfilled or short: blocked (the denials), rejected ("code: text"), the
    # slippage guard reached at a price, the ladder ended at a price, or stopped (cancel, kill).
    reason: str | None = None
    denied_by: tuple[str, ...] = ()  # the risk checks that blocked it (their field names)
    quote_waits: int = 0  # stages at which no usable quote existed (nothing was priced)
    quote_problem: str | None = None  # why the last of those quotes was unusable

    @property
    def limit_price(self) -> Decimal | None:
        return self.prices[-1] if self.prices else None

    @property
    def filled(self) -> int:
        return sum(fill.quantity for fill in self.fills)


@attrs.frozen(kw_only=True)
class ExecutionReport:
    """How an intent was executed, against the mid when it arrived."""

    intent_id: IntentId
    symbol: str
    side: Side
    quantity: int
    arrival_mid: Decimal
    predicted_bps: Decimal | None
    children: tuple[ChildOrderReport, ...]
    dry_run: bool = False
    # Why it ended where no order of it says so: the cancel or kill that stopped its worker
    # ("stopped: <why>"), or what kept an intent held for the open from being worked.
    ended_by: str | None = None

    @property
    def fills(self) -> tuple[Fill, ...]:
        """Fills on the intent's side (a bracket's exits, on the other side, are not counted)."""
        return tuple(
            fill for child in self.children for fill in child.fills if fill.side is self.side
        )

    @property
    def filled(self) -> int:
        return sum(fill.quantity for fill in self.fills)

    @property
    def completion(self) -> Decimal:
        """Filled as a fraction of the ordered quantity."""
        return Decimal(self.filled) / self.quantity

    @property
    def average_price(self) -> Decimal | None:
        """The average fill price; None when unfilled, or when a fill's price is not a positive
        number (a broker anomaly: the journal has it, the risk book halted on it)."""
        if not self.filled or not all(f.price.is_finite() and f.price > 0 for f in self.fills):
            return None
        return sum((fill.price * fill.quantity for fill in self.fills), Decimal(0)) / self.filled

    @property
    def shortfall_bps(self) -> Decimal | None:
        """Cost against the arrival mid in bps (positive: worse than mid); None if unfilled or
        unknown (see `average_price`)."""
        price = self.average_price
        if price is None:
            return None
        return shortfall_bps(self.side, average_price=price, arrival_mid=self.arrival_mid)

    @property
    def quote_waits(self) -> int:
        """Stages, over all children, at which no usable quote existed, so nothing was priced
        (the order rested where it was, or was not yet placed)."""
        return sum(child.quote_waits for child in self.children)

    @property
    def quote_problem(self) -> str | None:
        """Why the last unusable quote any child met was unusable (None if none was)."""
        problems = [child.quote_problem for child in self.children if child.quote_problem]
        return problems[-1] if problems else None

    @property
    def _blocks(self) -> list[ChildOrderReport]:
        """Children refused by risk, less TWAP slices deferred only because the link was down
        (their quantity went to a later slice); all of them when nothing else was sent."""
        refused = [c for c in self.children if c.status is OrderStatus.BLOCKED]
        if len(refused) == len(self.children):
            return refused
        return [c for c in refused if set(c.denied_by) != {"session"}]

    @property
    def blocked(self) -> bool:
        """Risk refused this intent (or part of it)."""
        return bool(self._blocks)

    @property
    def block_reason(self) -> str | None:
        return "; ".join(c.reason for c in self._blocks if c.reason) or None

    def log_fields(self) -> dict[str, str | None]:
        """How the intent ended, as an ``intent_finished`` log line shows it: side, symbol,
        filled of quantity, average price, shortfall and prediction to two decimals (bps),
        and why it ended short (None when it filled)."""
        price, shortfall = self.average_price, self.shortfall_bps
        return {
            "side": self.side.value, "symbol": self.symbol,
            "filled": f"{self.filled}/{self.quantity}",
            "average_price": None if price is None else price_text(price),
            "shortfall_bps": None if shortfall is None else f"{shortfall:.2f}",
            "predicted_bps": None if self.predicted_bps is None else f"{self.predicted_bps:.2f}",
            "reason": self.end_reason,
        }

    @property
    def end_reason(self) -> str | None:
        """Why the intent ended short of its quantity (None when it filled): the risk block,
        else what ended it (`ended_by`: a cancel or kill, between two orders too, where no
        order says so; or why it was never worked), else the reason of its last order that
        gives one (a rejection with its code and text, the slippage guard reached at a price,
        the ladder's end)."""
        if self.filled >= self.quantity:
            return None
        reasons = [c.reason for c in self.children if c.reason]
        return self.block_reason or self.ended_by or (reasons[-1] if reasons else None)
