"""Whether a broker's quote can be priced from: crossed, one-sided, zero, NaN and stale quotes
are unusable, and nothing is priced from them.

A `Quote` cannot hold a crossed, zero or NaN price (it validates them away), so a broker that
receives one raises `QuoteUnusableError` from ``quote_nowait`` with the reason
`side_problem` gives; `quote_problem` then judges the quote a broker did hand over, adding the
age check (``Quote.time`` is the Trio time the broker last saw the quote change).
"""

from __future__ import annotations

import math
from decimal import Decimal

from .._quotes import Quote

IB_NO_PRICE = -1.0
"""The price IB sends for a side of the book that has no order (a one-sided market)."""

Price = float | Decimal | None


def _side(value: Price) -> str | None:
    if value is None or value == IB_NO_PRICE:
        return "one-sided"
    if (value.is_nan() if isinstance(value, Decimal) else math.isnan(value)):
        return "nan"
    if not (value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)):
        return "nan"
    if value <= 0:
        return "zero"
    return None


def side_problem(bid: Price, ask: Price) -> str | None:
    """Why a bid and an ask as a broker sent them cannot make a quote, or None when they can:
    "one-sided" (a side missing, or IB's -1), "nan" (not a number), "zero" (zero or
    negative) or "crossed" (ask below bid)."""
    for problem in ("one-sided", "nan", "zero"):
        if problem in (_side(bid), _side(ask)):
            return problem
    assert bid is not None and ask is not None
    return "crossed" if ask < bid else None


def quote_problem(quote: Quote | None, *, now: float, max_age: float) -> str | None:
    """Why ``quote`` must not be priced from at Trio time ``now``, or None when it may be:
    "no quote", a `side_problem`, "stale 61.0 s" when older than ``max_age`` seconds
    (``math.inf``: never stale), or "stamped 2.0 s ahead" for a time past ``now``."""
    if quote is None:
        return "no quote"
    problem = side_problem(quote.bid, quote.ask)
    if problem is not None:
        return problem
    age = now - quote.time
    if math.isnan(age):
        return "stale (no time)"
    if age > max_age:
        return f"stale {age:.1f} s"
    if age < 0:
        return f"stamped {-age:.1f} s ahead"
    return None
