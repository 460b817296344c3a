"""Faults the simulated exchange can inject at a virtual time (seconds after it opened)."""

from __future__ import annotations

import attrs

from .._errors import InvalidValueError
from .._validate import non_negative_int, positive_seconds
from ._checks import non_negative_number


def _optional_symbol(_: object, field: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise InvalidValueError(field.name, value, "must be a symbol or None")


@attrs.frozen(kw_only=True)
class Disconnect:
    """The link goes down for ``duration`` seconds: orders keep resting and may fill, events
    due meanwhile are dropped, and `ConnectionRestored` is sent when it comes back."""

    at: float = attrs.field(validator=non_negative_number)
    duration: float = attrs.field(validator=positive_seconds)


@attrs.frozen(kw_only=True)
class RejectNextOrder:
    """The first order placed at or after ``at`` is rejected with ``code``."""

    at: float = attrs.field(validator=non_negative_number)
    code: int = attrs.field(default=201, validator=non_negative_int)
    reason: str = "rejected by the exchange (simulated fault)"


@attrs.frozen(kw_only=True)
class DuplicateExecution:
    """The first execution report due at or after ``at`` is delivered twice (same id)."""

    at: float = attrs.field(validator=non_negative_number)


@attrs.frozen(kw_only=True)
class DelayExecution:
    """The first execution report (the `FillReported` only) due at or after ``at`` arrives
    ``delay`` seconds late, after the order's status has already moved."""

    at: float = attrs.field(validator=non_negative_number)
    delay: float = attrs.field(validator=positive_seconds)


@attrs.frozen(kw_only=True)
class StaleQuotes:
    """Quotes for ``symbol`` (all symbols when None) stop updating for ``duration`` seconds."""

    at: float = attrs.field(validator=non_negative_number)
    duration: float = attrs.field(validator=positive_seconds)
    symbol: str | None = attrs.field(default=None, validator=_optional_symbol)


BAD_QUOTE_PROBLEMS = ("crossed", "one-sided", "zero", "nan")
"""What a `BadQuotes` fault makes the quote: the reasons `hydra._core._quote_check` names."""


def _bad_quote_problem(_: object, field: attrs.Attribute[str], value: str) -> None:
    if value not in BAD_QUOTE_PROBLEMS:
        choices = ", ".join(BAD_QUOTE_PROBLEMS)
        raise InvalidValueError(field.name, value, f"must be one of {choices}")


@attrs.frozen(kw_only=True)
class BadQuotes:
    """For ``duration`` seconds the quote of ``symbol`` (all symbols when None) is one a broker
    cannot use — ``problem`` crossed, one-sided, zero or nan — so `SimBroker.quote_nowait` raises
    `QuoteUnusableError`, as the IB adapter does for such a ticker. Orders still rest and fill
    at the exchange's real prices."""

    at: float = attrs.field(validator=non_negative_number)
    duration: float = attrs.field(validator=positive_seconds)
    problem: str = attrs.field(default="crossed", validator=_bad_quote_problem)
    symbol: str | None = attrs.field(default=None, validator=_optional_symbol)


Fault = (
    Disconnect | RejectNextOrder | DuplicateExecution | DelayExecution | StaleQuotes | BadQuotes
)
"""Any injectable fault."""
