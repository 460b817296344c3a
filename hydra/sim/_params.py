"""Scenario parameters for the simulated exchange: per-contract market model and the link.

Defaults are the estimates in MARKETS.md; every value can be overridden (``attrs.evolve`` or
``MarketParams.oats(adv=800)``). A bad value raises `InvalidValueError` naming the field.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from .._contracts import LEAN_HOGS, OATS, ContractSpec
from .._enums import Side
from .._errors import InvalidValueError
from .._validate import (
    non_negative,
    non_negative_int,
    positive,
    positive_int,
    positive_seconds,
    to_decimal,
)
from ._checks import finite_number, non_negative_number
from ._faults import Fault

SESSION_SECONDS = 6.5 * 3600
"""A regular 6.5-hour day session."""

MarketKey = tuple[str, str | None]
"""A market's identity: the product symbol and the delivery month ("YYYYMM"; None for the
product's single default market)."""


def market_key(contract: ContractSpec) -> MarketKey:
    """The market ``contract`` names: its symbol and delivery month."""
    return contract.symbol, contract.expiry


def find_market(keys: Iterable[MarketKey], symbol: str, expiry: str | None) -> MarketKey | None:
    """The market an order or a quote request for ``symbol`` and ``expiry`` means, or None.

    The exact month first; else, when the product has a single market, that market stands for
    a request without a month, and a default market (no month) for a request with any month,
    as before markets had months. Several months and no exact match: None (unknown/ambiguous).
    """
    same = [key for key in keys if key[0] == symbol]
    if (symbol, expiry) in same:
        return symbol, expiry
    if len(same) == 1 and (expiry is None or same[0][1] is None):
        return same[0]
    return None


@attrs.frozen(kw_only=True)
class SizeBucket:
    """A flow size drawn uniformly from ``low``..``high`` lots with probability ``weight``."""

    low: int = attrs.field(validator=positive_int)
    high: int = attrs.field(validator=positive_int)
    weight: float = attrs.field(validator=non_negative_number)

    @high.validator
    def _not_below_low(self, field: attrs.Attribute[int], value: int) -> None:
        if value < self.low:
            raise InvalidValueError(field.name, value, f"must be at least low={self.low}")

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2


@attrs.frozen(kw_only=True)
class DisplayedSize:
    """Displayed lots at a price level: ``minimum`` plus a geometric draw with the given
    ``mean``, capped at ``maximum``. ``minimum == maximum`` gives a fixed size."""

    minimum: int = attrs.field(validator=positive_int)
    maximum: int = attrs.field(validator=positive_int)
    mean: float = attrs.field(validator=positive_seconds)  # a finite number above zero

    @maximum.validator
    def _check_maximum(self, field: attrs.Attribute[int], value: int) -> None:
        if value < self.minimum:
            raise InvalidValueError(field.name, value, f"must be at least minimum={self.minimum}")

    @mean.validator
    def _check_mean(self, field: attrs.Attribute[float], value: float) -> None:
        if not self.minimum <= value <= self.maximum:
            raise InvalidValueError(
                field.name, value, f"must lie in [{self.minimum}, {self.maximum}]"
            )

    @classmethod
    def fixed(cls, lots: int) -> DisplayedSize:
        return cls(minimum=lots, maximum=lots, mean=lots)


@attrs.frozen(kw_only=True)
class ScriptedFlow:
    """Marketable flow of ``quantity`` lots by an aggressor on ``side`` at time ``at``."""

    at: float = attrs.field(validator=non_negative_number)
    side: Side = attrs.field(validator=attrs.validators.instance_of(Side))
    quantity: int = attrs.field(validator=positive_int)


@attrs.frozen(kw_only=True)
class Gap:
    """The mid jumps by ``change`` (price units, signed) at time ``at``."""

    at: float = attrs.field(validator=non_negative_number)
    change: Decimal = attrs.field(converter=to_decimal)


@attrs.frozen(kw_only=True)
class Halt:
    """A limit-locked or halted stretch: no flow trades and the mid stands still."""

    start: float = attrs.field(validator=non_negative_number)
    end: float = attrs.field(validator=non_negative_number)

    @end.validator
    def _after_start(self, field: attrs.Attribute[float], value: float) -> None:
        if value <= self.start:
            raise InvalidValueError(field.name, value, f"must be after start={self.start}")


def _flows(value: Iterable[ScriptedFlow]) -> tuple[ScriptedFlow, ...]:
    return tuple(value)


def _gaps(value: Iterable[Gap]) -> tuple[Gap, ...]:
    return tuple(value)


def _halts(value: Iterable[Halt]) -> tuple[Halt, ...]:
    return tuple(value)


def _pairs(value: Iterable[tuple[int, float]]) -> tuple[tuple[int, float], ...]:
    return tuple(value)


def _sizes(value: Iterable[SizeBucket]) -> tuple[SizeBucket, ...]:
    return tuple(value)


def _weights(_: Any, field: attrs.Attribute[Any], value: tuple[tuple[int, float], ...]) -> None:
    if not value or any(
        not isinstance(ticks, int) or isinstance(ticks, bool) or ticks < 1 or not weight >= 0
        for ticks, weight in value
    ):
        raise InvalidValueError(field.name, value, "must be (ticks >= 1, weight >= 0) pairs")
    if sum(weight for _, weight in value) <= 0:
        raise InvalidValueError(field.name, value, "weights must not all be zero")


def _buckets(_: Any, field: attrs.Attribute[Any], value: tuple[SizeBucket, ...]) -> None:
    if not value or sum(bucket.weight for bucket in value) <= 0:
        raise InvalidValueError(field.name, value, "must hold buckets with some positive weight")


@attrs.frozen(kw_only=True)
class MarketParams:
    """The market model of one contract.

    The mid is a random walk with ``daily_volatility`` (fraction of the price per
    ``session_seconds``) stepped every ``step_seconds``, plus ``drift_per_session``, ``gaps``
    and ``halts``: volatility 0 gives a scripted path. Marketable flow arrives as a Poisson
    process at ``adv`` / mean flow size / session seconds (half each side; ``adv=0`` turns it
    off, leaving only ``flows``), and pushes the mid ``impact_ticks_per_lot`` its way.
    """

    contract: ContractSpec
    start_mid: Decimal = attrs.field(converter=to_decimal, validator=positive)
    adv: int = attrs.field(validator=non_negative_int)
    daily_volatility: float = attrs.field(validator=non_negative_number)
    spread_ticks: tuple[tuple[int, float], ...] = attrs.field(converter=_pairs, validator=_weights)
    displayed_size: DisplayedSize
    flow_sizes: tuple[SizeBucket, ...] = attrs.field(converter=_sizes, validator=_buckets)
    session_seconds: float = attrs.field(default=SESSION_SECONDS, validator=positive_seconds)
    step_seconds: float = attrs.field(default=1.0, validator=positive_seconds)
    drift_per_session: float = attrs.field(default=0.0, validator=finite_number)
    impact_ticks_per_lot: float = attrs.field(default=0.05, validator=non_negative_number)
    flows: tuple[ScriptedFlow, ...] = attrs.field(default=(), converter=_flows)
    gaps: tuple[Gap, ...] = attrs.field(default=(), converter=_gaps)
    halts: tuple[Halt, ...] = attrs.field(default=(), converter=_halts)

    @drift_per_session.validator
    def _finite_drift(self, field: attrs.Attribute[float], value: float) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidValueError(field.name, value, "must be a finite number")

    @property
    def symbol(self) -> str:
        return self.contract.symbol

    @property
    def key(self) -> MarketKey:
        """The market's identity: symbol and delivery month."""
        return market_key(self.contract)

    @property
    def mean_flow_size(self) -> float:
        total = sum(bucket.weight for bucket in self.flow_sizes)
        return sum(bucket.weight * bucket.mean for bucket in self.flow_sizes) / total

    @property
    def flow_rate(self) -> float:
        """Marketable flow arrivals per second, both sides together."""
        return self.adv / self.mean_flow_size / self.session_seconds

    @classmethod
    def oats(cls, **changes: Any) -> MarketParams:
        """CBOT oats (ZO) with the defaults of MARKETS.md, overridden by ``changes``."""
        defaults: dict[str, Any] = dict(
            contract=OATS,
            start_mid=Decimal("350.00"),
            adv=1500,
            daily_volatility=0.012,
            spread_ticks=((1, 0.60), (2, 0.30), (3, 0.05), (4, 0.05)),
            displayed_size=DisplayedSize(minimum=1, maximum=15, mean=5),
            flow_sizes=(
                SizeBucket(low=1, high=1, weight=0.70),
                SizeBucket(low=2, high=5, weight=0.25),
                SizeBucket(low=6, high=20, weight=0.05),
            ),
        )
        return cls(**(defaults | changes))

    @classmethod
    def hogs(cls, **changes: Any) -> MarketParams:
        """CME lean hogs (HE), front month, with the defaults of MARKETS.md."""
        defaults: dict[str, Any] = dict(
            contract=LEAN_HOGS,
            start_mid=Decimal("85.000"),
            adv=30_000,
            daily_volatility=0.015,
            spread_ticks=((1, 0.70), (2, 0.25), (3, 0.05)),
            displayed_size=DisplayedSize(minimum=2, maximum=40, mean=12),
            flow_sizes=(
                SizeBucket(low=1, high=1, weight=0.60),
                SizeBucket(low=2, high=5, weight=0.30),
                SizeBucket(low=6, high=40, weight=0.10),
            ),
        )
        return cls(**(defaults | changes))


def _markets(_: Any, field: attrs.Attribute[Any], value: tuple[MarketParams, ...]) -> None:
    keys = [market.key for market in value]
    if not value or len(set(keys)) != len(keys):
        names = [f"{symbol} {expiry}" if expiry else symbol for symbol, expiry in keys]
        raise InvalidValueError(field.name, names, "must name each contract (and month) once")


def _aware(_: Any, field: attrs.Attribute[Any], value: dt.datetime) -> None:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise InvalidValueError(field.name, value, "must be a timezone-aware datetime")


def _as_markets(value: Iterable[MarketParams]) -> tuple[MarketParams, ...]:
    return tuple(value)


def _faults(value: Iterable[Fault]) -> tuple[Fault, ...]:
    return tuple(value)


def _default_markets() -> tuple[MarketParams, ...]:
    return (MarketParams.oats(), MarketParams.hogs())


@attrs.frozen(kw_only=True)
class SimParams:
    """One simulated exchange: its markets, the account, the link's latencies and faults.

    Fill timestamps are ``session_start`` plus the virtual seconds since the exchange opened.
    """

    markets: tuple[MarketParams, ...] = attrs.field(
        factory=_default_markets, converter=_as_markets, validator=_markets
    )
    session_start: dt.datetime = attrs.field(
        default=dt.datetime(2025, 3, 3, 14, 30, tzinfo=dt.UTC), validator=_aware
    )
    starting_cash: Decimal = attrs.field(
        default=Decimal(100_000), converter=to_decimal, validator=positive
    )
    commission_per_contract: Decimal = attrs.field(
        default=Decimal("2.50"), converter=to_decimal, validator=non_negative
    )
    ack_latency: float = attrs.field(default=0.030, validator=non_negative_number)
    fill_latency: float = attrs.field(default=0.020, validator=non_negative_number)
    faults: tuple[Fault, ...] = attrs.field(default=(), converter=_faults)

    def market(self, symbol: str | ContractSpec) -> MarketParams:
        """The market parameters of ``symbol`` (its first market), or of one contract and
        month."""
        if isinstance(symbol, ContractSpec):
            key = find_market((m.key for m in self.markets), symbol.symbol, symbol.expiry)
            for market in self.markets:
                if market.key == key:
                    return market
            raise InvalidValueError("contract", symbol, "is not traded here")
        for market in self.markets:
            if market.symbol == symbol:
                return market
        known = ", ".join(m.symbol for m in self.markets)
        raise InvalidValueError("symbol", symbol, f"is not traded here (known: {known})")
