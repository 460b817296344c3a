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
    non_empty_str,
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


def _probability(_: Any, field: attrs.Attribute[Any], value: float) -> None:
    non_negative_number(_, field, value)
    if value > 1:
        raise InvalidValueError(field.name, value, "must be a probability in [0, 1]")


def _optional_levels(_: Any, field: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None:
        positive_int(_, field, value)


def _buckets(_: Any, field: attrs.Attribute[Any], value: tuple[SizeBucket, ...]) -> None:
    if not value or sum(bucket.weight for bucket in value) <= 0:
        raise InvalidValueError(field.name, value, "must hold buckets with some positive weight")


@attrs.frozen(kw_only=True)
class MarketParams:
    """The market model of one contract.

    The latent mid is a random walk with ``daily_volatility`` (fraction of the price per
    ``session_seconds``) stepped every ``step_seconds``, plus ``drift_per_session``, ``gaps``
    and ``halts``: volatility 0 gives a scripted path. Marketable flow arrives as a Poisson
    process at ``adv`` / mean flow size / session seconds (``adv=0`` turns it off, leaving only
    ``flows``); its side repeats the previous one with ``flow_sign_persistence``, and it pushes
    the latent mid ``impact_ticks_per_lot`` its way, ``depletion_ticks`` more when it empties
    the best queue. Our own marketable lots push it ``own_impact_ticks_per_lot``, and
    ``own_depletion_ticks`` more when they empty the best queue.

    The crowd quotes around the latent mid. Its spread aims at a target drawn from
    ``spread_ticks`` every ``spread_regime_seconds`` on average; a gap wider than the target
    (after a sweep or a cancel) is closed one level at a time at ``refill_rate``, on the side
    that brings the quote nearer the latent mid, and the same events rebuild missing depth
    levels (``depth_levels`` on each side). Queue events (``queue_events_per_second`` per side)
    add or cancel one crowd lot at a level, mean-reverting each level to the displayed size;
    a cancel at our price is ahead of us in proportion to the lots ahead. When one of our
    orders alone improves the crowd's touch, a queue event on its side joins it (behind) with
    ``join_improver_probability`` or steps one tick ahead of it with
    ``step_ahead_probability``. The market runs ``burn_in_seconds`` before the exchange opens
    (then shifted by whole ticks so the mid is within half a tick of ``start_mid``).

    Each component draws from its own random stream (mid walk, flow times, flow sides, flow
    sizes, spreads and refills, depth, crowd), seeded from the run seed, so a seed fixes the
    market until our own orders change it. The old model (instant requotes, depth drawn when
    first looked at, no crowd, no burn-in) is ``refill_rate=0``, ``depth_levels=None``,
    ``queue_events_per_second=0``, ``burn_in_seconds=0`` (`MarketParams.legacy` gives all of them).
    Defaults are the estimates of MARKETS.md ("Simulator defaults") and TCA.md ("What the
    simulator must model"); the scenario files (examples/scenarios, bench/scenarios) override
    them per market.
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
    """Permanent move of the latent mid per lot of the crowd's marketable flow, in ticks
    (default 0.05: a 20-lot sweep moves it a tick)."""
    flows: tuple[ScriptedFlow, ...] = attrs.field(default=(), converter=_flows)
    gaps: tuple[Gap, ...] = attrs.field(default=(), converter=_gaps)
    halts: tuple[Halt, ...] = attrs.field(default=(), converter=_halts)
    own_impact_ticks_per_lot: float = attrs.field(default=0.05, validator=non_negative_number)
    """Permanent move of the latent mid per lot our own marketable orders take, in ticks
    (default 0.05, as the crowd's flow: TCA.md item 3). 0: our trades leave the mid alone."""
    own_depletion_ticks: float = attrs.field(default=0.5, validator=non_negative_number)
    """Extra move of the latent mid, in ticks, our way, when our own marketable order empties
    the best queue it takes from (default 0.5, as the crowd's ``depletion_ticks``: a taker
    that clears the touch moves the price whoever it is). 0: only ``own_impact_ticks_per_lot``,
    the model before 2026-12-04, which let a policy clear the touch more cheaply than the
    crowd can."""
    flow_sign_persistence: float = attrs.field(default=0.5, validator=_probability)
    """Probability that a random flow has the side of the one before (otherwise either side
    with equal chance): sign autocorrelation, 0..1 (default 0.5; 0: independent sides)."""
    depletion_ticks: float = attrs.field(default=0.5, validator=non_negative_number)
    """Extra move of the latent mid, in ticks, the aggressor's way, when a flow empties the
    best queue (default 0.5 tick; Huang, Lehalle & Rosenbaum 2015)."""
    spread_regime_seconds: float = attrs.field(default=60.0, validator=positive_seconds)
    """Mean seconds between draws of the crowd's target spread from ``spread_ticks``
    (exponential; default 60 s). A wider target makes the crowd step back at once."""
    refill_rate: float = attrs.field(default=0.5, validator=non_negative_number)
    """Refill events per second (Poisson; default 0.5, a level every 2 s on average): each
    closes one tick of a gap wider than the target spread, or else rebuilds one missing depth
    level. 0: the old model, where a spread wider than the widest of ``spread_ticks`` (or a
    latent mid outside the quote) is requoted at once."""
    depth_levels: int | None = attrs.field(default=5, validator=_optional_levels)
    """Crowd levels shown on each side, the touch included, one tick apart (default 5).
    None: unlimited, each level's size drawn the first time anyone looks (the old model)."""
    queue_events_per_second: float = attrs.field(default=0.2, validator=non_negative_number)
    """Crowd queue events per second on each side (Poisson; default 0.2): each adds or cancels
    one lot at one of the levels, cancels the likelier the fuller the level (size / (size +
    displayed mean)). 0: queues change only by flow."""
    join_improver_probability: float = attrs.field(default=0.2, validator=_probability)
    """Chance that a queue event on the side of our order alone inside the crowd's spread
    joins its price, behind it (default 0.2)."""
    step_ahead_probability: float = attrs.field(default=0.3, validator=_probability)
    """Chance that such a queue event steps one tick ahead of our improving order, when the
    spread leaves room (default 0.3)."""
    burn_in_seconds: float = attrs.field(default=900.0, validator=non_negative_number)
    """Seconds the market runs before the exchange opens, so the first intent meets a book
    in steady state, not a freshly drawn one (default 900 s; 0: a fresh book)."""
    mirrored: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    """True: the seed's market reflected about ``start_mid`` (every random step of the latent
    mid, every random flow's side and every crowd event's side reversed, and so the drift, the
    gaps and the scripted flows' sides), so a sell meets on it what a buy meets on the seed's
    own market, price for price reflected: a benchmark pairs the two sides with it. Exact with
    explicit depth; with ``depth_levels=None`` sizes are drawn when first looked at, in
    whichever order, so the reflection holds only in distribution."""
    market_protection_ticks: int = attrs.field(default=20, validator=positive_int)
    """How far past the far touch, in ticks, a market (MKT) order or a triggered stop (STP)
    of a client other than Hydra may walk the book (as Globex protection points); what is
    left rests in the book as a limit at that price, as on Globex (an IOC's rest is cancelled)
    (default 20)."""

    @mirrored.validator
    def _mirror_on_a_tick(self, field: attrs.Attribute[bool], value: bool) -> None:
        if value and not self.contract.is_on_tick(self.start_mid):
            raise InvalidValueError(
                "start_mid", self.start_mid, "must be a whole number of ticks to mirror about"
            )

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

    def legacy(self) -> MarketParams:
        """These parameters with the old model's book: instant requotes, depth drawn when
        looked at, no crowd queue events, no burn-in, flow sides independent, no depletion
        move and no impact of our own trades (quiet test markets use it)."""
        return attrs.evolve(
            self,
            refill_rate=0.0,
            depth_levels=None,
            queue_events_per_second=0.0,
            burn_in_seconds=0.0,
            flow_sign_persistence=0.0,
            depletion_ticks=0.0,
            own_impact_ticks_per_lot=0.0,
            own_depletion_ticks=0.0,
        )

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
            refill_rate=3.0,  # twenty times oats' flow: gaps must close faster to hold the table
            queue_events_per_second=1.0,
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
    # True: each contract keeps its trading hours (and CME's holidays), as `SimBroker`'s
    # ``trading_hours`` tells Hydra; False: every contract trades around the clock.
    sessions: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    execution_prefix: str = attrs.field(default="sim", validator=non_empty_str)
    """Execution ids are ``{execution_prefix}.{n:08d}``: exchanges opened one after another
    (a rehearsal's trading days) each take their own, so no two executions share an id."""

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
