"""The validated settings Hydra runs on. `hydra._config` loads them from TOML; code and tests
may also build them directly. Every field has the default documented in examples/hydra.toml.
"""

from __future__ import annotations

import enum
import math
import types
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from ._contracts import ROLL_DAYS
from ._enums import TradingState
from ._errors import InvalidValueError
from ._healing_settings import HealingSettings
from ._schedule import DailySchedule, parse_days, parse_time, parse_zone
from ._validate import (
    fraction,
    non_empty_str,
    non_negative,
    non_negative_int,
    positive,
    positive_int,
    positive_seconds,
    to_decimal,
)


class DistanceUnit(enum.Enum):
    BPS = "bps"  # basis points of a reference price
    TICKS = "ticks"  # whole ticks of the contract
    ABSOLUTE = "absolute"  # price units (cents for oats and hogs)


@attrs.frozen(kw_only=True)
class Distance:
    """A price distance in bps, ticks or absolute price units (e.g. a guard or an offset)."""

    unit: DistanceUnit = attrs.field(validator=attrs.validators.instance_of(DistanceUnit))
    value: Decimal = attrs.field(converter=to_decimal, validator=non_negative)

    @classmethod
    def bps(cls, value: Decimal | int | str) -> Distance:
        return cls(unit=DistanceUnit.BPS, value=value)

    @classmethod
    def ticks(cls, value: Decimal | int | str) -> Distance:
        return cls(unit=DistanceUnit.TICKS, value=value)

    @classmethod
    def absolute(cls, value: Decimal | int | str) -> Distance:
        return cls(unit=DistanceUnit.ABSOLUTE, value=value)

    def in_price(self, *, reference: Decimal, tick_size: Decimal) -> Decimal:
        """This distance in price units, around ``reference`` for a contract of ``tick_size``."""
        if self.unit is DistanceUnit.BPS:
            return reference * self.value / 10_000
        if self.unit is DistanceUnit.TICKS:
            return tick_size * self.value
        return self.value


def _positive_number(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValueError(field.name, value, "must be a number")
    if not math.isfinite(value) or value <= 0:
        raise InvalidValueError(field.name, value, "must be finite and above zero")


def _age_limit(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValueError(field.name, value, "must be a number of seconds (inf: off)")
    if not value > 0:  # NaN too
        raise InvalidValueError(field.name, value, "must be seconds above zero (inf: off)")


def _port(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise InvalidValueError(field.name, value, "must be a TCP port from 1 to 65535")


class Urgency(enum.Enum):
    """How hard the patience ladder chases: from which stage it takes the far touch when the
    crowd's spread is one tick with size there. Whatever the urgency, a wider spread is taken
    only in the last stage of an intent's last order (its deadline)."""

    LOW = "low"  # never before the deadline: rests, steps and improves, and catches up at the end
    NORMAL = "normal"  # from the step on (stage 1)
    HIGH = "high"  # from the start (stage 0)


class OutsideHours(enum.Enum):
    """What becomes of an intent that arrives while its contract's market is closed (a break,
    a weekend, a holiday), by the hours the broker gives."""

    WAIT = "wait"  # held until the next open (within the intent's deadline), then worked
    REFUSE = "refuse"  # refused at once, in one line naming the next open


class WorkingHours(enum.Enum):
    """Which of the broker's hours an intent is worked in (and held, refused or fitted by,
    with ``outside_hours``): IB's liquid hours, where a thin market trades in size (the grains'
    day session, 08:30-13:20 Chicago), or all its trading hours (the night session too)."""

    LIQUID = "liquid"  # the liquid hours (the trading hours when the broker gives none)
    TRADING = "trading"  # every hour the exchange trades


def _share(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidValueError(field.name, value, "must be a number from 0 to 1")


def _seconds_or_never(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidValueError(field.name, value, "must be a number of seconds above zero "
                                "(inf: never)")


def _share_above_zero(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 < value <= 1:
        raise InvalidValueError(field.name, value, "must be above 0 and at most 1")


@attrs.frozen(kw_only=True)
class ExecutionSettings:
    """How one intent is worked: the patience ladder, TWAP and the slippage guard."""

    patience: float = attrs.field(default=60.0, validator=positive_seconds)
    price_step_pct: Decimal = attrs.field(default=Decimal("0.1"), converter=to_decimal,
                                          validator=positive)
    slippage_guard: Distance = Distance.bps(50)
    limit_offset: Distance = Distance.bps(0)  # away from mid, to the passive side
    leave_working: bool = False  # at the end of the ladder: leave the rest working, not cancel
    twap_threshold: Decimal = attrs.field(default=Decimal("0.01"), converter=to_decimal,
                                          validator=positive)  # participation of ADV
    twap_slices: int = attrs.field(default=10, validator=positive_int)
    twap_horizon: float = attrs.field(default=3600.0, validator=positive_seconds)
    twap_jitter: float = attrs.field(default=0.2, validator=fraction)
    urgency: Urgency = attrs.field(default=Urgency.NORMAL,
                                   validator=attrs.validators.instance_of(Urgency))
    outside_hours: OutsideHours = attrs.field(
        default=OutsideHours.WAIT, validator=attrs.validators.instance_of(OutsideHours))
    hours: WorkingHours = attrs.field(
        default=WorkingHours.LIQUID, validator=attrs.validators.instance_of(WorkingHours))
    # True: a TWAP whose horizon runs past the close carries its remaining slices into the
    # next sessions; False: its horizon is cut at the close (the last slice catches up there).
    twap_carry: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    # The share of the deadline (``twap_horizon`` after arrival) that the ladder of an intent
    # below ``twap_threshold`` spans, when ``patience`` makes it shorter (0: patience alone).
    # A TWAP slice's ladder spans the slice's interval instead.
    deadline_share: float = attrs.field(default=0.0, validator=_share)
    # The share of the slippage guard the crowd's mid may move against the order from the
    # arrival mid before the ladder goes to its last stage at once (1: at the guard).
    chase_at: Decimal = attrs.field(default=Decimal("0.75"), converter=to_decimal,
                                    validator=_share_above_zero)
    # How many slices ahead of a TWAP's schedule its lots may rest once the schedule is met:
    # a slice filled before its interval ends rests the next ``twap_ahead`` slices' lots at
    # stage 0's price, never taking, until the next slice starts (0: idle until then).
    twap_ahead: int = attrs.field(default=0, validator=non_negative_int)
    # From which stage-0 wait (`hydra._core._ladder.ladder_wait`, seconds) stage 0 joins
    # the crowd's near touch in a spread of two ticks or more instead of improving it by a
    # tick: with that long to rest, the crowd's own flow reaches an order at the touch
    # (infinity: stage 0 always improves a wide spread).
    join_wait: float = attrs.field(default=math.inf, validator=_seconds_or_never)
    stretch_rest: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))


def _latched_state(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    if value not in (TradingState.REDUCING, TradingState.HALTED):
        raise InvalidValueError(field.name, value, "must be REDUCING or HALTED")


def _breaker_state() -> Any:
    return attrs.field(default=TradingState.HALTED, validator=_latched_state)


@attrs.frozen(kw_only=True)
class BreakerSettings:
    """The trading state each circuit breaker latches when it trips: REDUCING (only orders
    that reduce a position) or HALTED (only cancels, and flattening by ``close_position``)."""

    daily_loss: TradingState = _breaker_state()
    drawdown: TradingState = _breaker_state()
    position_value: TradingState = attrs.field(default=TradingState.REDUCING,
                                               validator=_latched_state)
    single_trade_loss: TradingState = _breaker_state()


@attrs.frozen(kw_only=True)
class RiskLimits:
    """Pre-trade limits and circuit breakers; money in account currency (USD)."""

    max_order_quantity: int = attrs.field(default=50, validator=positive_int)
    max_order_notional: Decimal = attrs.field(default=Decimal(2_000_000), converter=to_decimal,
                                              validator=positive)
    max_position: int = attrs.field(default=100, validator=positive_int)  # contracts per symbol
    price_collar: Distance = Distance.bps(200)  # around the reference price
    max_open_orders: int = attrs.field(default=20, validator=positive_int)
    max_orders_per_minute: int = attrs.field(default=60, validator=positive_int)
    daily_loss_limit: Decimal = attrs.field(default=Decimal(10_000), converter=to_decimal,
                                            validator=positive)
    max_drawdown: Decimal = attrs.field(default=Decimal(20_000), converter=to_decimal,
                                        validator=positive)
    max_position_value: Decimal = attrs.field(default=Decimal(5_000_000), converter=to_decimal,
                                              validator=positive)
    max_single_trade_loss: Decimal = attrs.field(default=Decimal(5_000), converter=to_decimal,
                                                 validator=positive)
    messages_per_second: int = attrs.field(default=45)  # IB disconnects a client above 50
    breakers: BreakerSettings = BreakerSettings()
    # Seconds since the broker last saw a quote change after which nothing is priced from it;
    # math.inf turns the age check off (crossed, one-sided, zero and NaN quotes stay unusable).
    max_quote_age: float = attrs.field(default=30.0, validator=_age_limit)

    @messages_per_second.validator
    def _below_ib_limit(self, field: attrs.Attribute[Any], value: Any) -> None:
        positive_int(self, field, value)
        if value >= 50:
            raise InvalidValueError(field.name, value, "must be below IB's limit of 50")


@attrs.frozen(kw_only=True)
class BackoffSettings:
    """Reconnect schedule: initial, doubling, capped, jittered, at most ``max_tries``."""

    initial: float = attrs.field(default=1.0, validator=_positive_number)
    cap: float = attrs.field(default=30.0, validator=_positive_number)
    jitter: float = attrs.field(default=0.1, validator=fraction)
    max_tries: int = attrs.field(default=10, validator=positive_int)


PAPER_PORTS = (4002, 7497)  # IB Gateway, TWS
LIVE_PORTS = (4001, 7496)


@attrs.frozen(kw_only=True)
class BrokerSettings:
    """Where IB Gateway or TWS listens, and which client ids Hydra uses."""

    host: str = attrs.field(default="127.0.0.1", validator=non_empty_str)
    port: int = attrs.field(default=4002, validator=_port)
    client_id: int = attrs.field(default=1, validator=positive_int)  # trading
    diagnostic_client_id: int = attrs.field(default=2, validator=positive_int)
    cli_client_id: int = attrs.field(default=3, validator=positive_int)
    account: str | None = None
    backoff: BackoffSettings = BackoffSettings()


def _strategy_hook(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    module, _, function = value.partition(":") if isinstance(value, str) else ("", "", "")
    if not module.strip() or not function.strip():
        raise InvalidValueError(field.name, value, "must be a hook as module:function")


def _checked(parse: Any) -> Any:
    def validate(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
        parse(field.name, value)

    return validate


@attrs.frozen(kw_only=True)
class RunnerSettings:
    """The paper (or live) runner: when the strategy hook runs, and where ad-hoc intents land."""

    strategy: str | None = attrs.field(default=None, validator=_strategy_hook)  # module:function
    schedule: str = attrs.field(default="08:35", validator=_checked(parse_time))  # exchange time
    days: str = attrs.field(default="Mon-Fri", validator=_checked(parse_days))
    time_zone: str = attrs.field(default="America/Chicago", validator=_checked(parse_zone))
    inbox: str = attrs.field(default="hydra-inbox.jsonl", validator=non_empty_str)  # JSON lines
    # How long an inbox intent without its own "deadline" may wait for a broker session that
    # is down, from when it is read.
    inbox_deadline: float = attrs.field(default=300.0, validator=positive_seconds)
    # How long one call of the strategy hook may take; a call still running after it is a
    # hook_error (a thread cannot be killed: it is left to finish, and the next call waits).
    hook_timeout: float = attrs.field(default=30.0, validator=positive_seconds)
    # Hook failures in a row (raise, time-out, bad answer) that halt trading until a resume.
    max_hook_failures: int = attrs.field(default=3, validator=positive_int)

    def daily_schedule(self) -> DailySchedule:
        return DailySchedule(at=parse_time("schedule", self.schedule),
                             days=parse_days("days", self.days),
                             zone=parse_zone("time_zone", self.time_zone))


@attrs.frozen(kw_only=True)
class ShutdownSettings:
    """What closing Hydra does with work in progress."""

    drain_timeout: float = attrs.field(default=30.0, validator=positive_seconds)
    leave_working: bool = False  # after the drain: leave working orders at the broker
    # The finalizer's bound: how long the last cancels may take to be confirmed before the
    # orders still working are journaled as unmanaged.
    finalize_timeout: float = attrs.field(default=10.0, validator=positive_seconds)


@attrs.frozen(kw_only=True)
class RestartSettings:
    """What a restart does with the intents a stopped run left unfinished."""

    # True: carry on with each (remaining quantity, arrival mid, strategy and policy, a TWAP's
    # remaining slices over its remaining horizon, a roll's open leg); False: report each.
    resume: bool = True


@attrs.frozen(kw_only=True)
class JournalSettings:
    path: str = attrs.field(default="hydra-journal.sqlite", validator=non_empty_str)
    audit_path: str | None = None  # JSONL mirror; None: next to the journal, ".audit.jsonl"


class LogFormat(enum.Enum):
    AUTO = "auto"  # console renderer on a terminal, JSON otherwise
    CONSOLE = "console"
    JSON = "json"


class LogLevel(enum.Enum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@attrs.frozen(kw_only=True)
class LoggingSettings:
    level: LogLevel = LogLevel.INFO
    format: LogFormat = LogFormat.AUTO


def _decimals(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return types.MappingProxyType({key: to_decimal(item) for key, item in value.items()})


def _non_negative_each(_: Any, field: attrs.Attribute[Any], value: Mapping[str, Any]) -> None:
    for key, item in value.items():
        if not isinstance(item, Decimal) or not item.is_finite() or item < 0:
            raise InvalidValueError(f"{field.name}.{key}", item, "must be a number, 0 or more")


@attrs.frozen(kw_only=True)
class SlippageSettings:
    """Pre-trade slippage model coefficients and the reconciler's calibration thresholds."""

    impact_coefficient: Decimal = attrs.field(default=Decimal("0.5"), converter=to_decimal,
                                              validator=non_negative)
    daily_volatility_bps: Decimal = attrs.field(default=Decimal(120), converter=to_decimal,
                                                validator=non_negative)
    # Per symbol, over daily_volatility_bps; at start Hydra puts here what the daily bars
    # measured (`hydra._market_facts`).
    volatility_bps: Mapping[str, Decimal] = attrs.field(factory=dict, converter=_decimals,
                                                        validator=_non_negative_each)
    max_bias_bps: Decimal = attrs.field(default=Decimal(2), converter=to_decimal,
                                        validator=non_negative)
    min_correlation: float = attrs.field(default=0.3)
    min_fills: int = attrs.field(default=30, validator=positive_int)  # calibrated; drift windows
    healing: HealingSettings = HealingSettings()

    @min_correlation.validator
    def _correlation(self, field: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not -1 <= value <= 1:
            raise InvalidValueError(field.name, value, "must be a number from -1 to 1")

    def for_symbol(self, symbol: str) -> SlippageSettings:
        """These settings with ``symbol``'s daily volatility as ``daily_volatility_bps``."""
        volatility = self.volatility_bps.get(symbol, self.daily_volatility_bps)
        return attrs.evolve(self, daily_volatility_bps=volatility, volatility_bps={})


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(value))


def _non_negative_days(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidValueError(field.name, value, "must be a whole number of days, 0 or more")


MAX_SESSIONS = 250
"""About a year of sessions: the most daily bars the market facts read."""


def _sessions(_: Any, field: attrs.Attribute[Any], value: Any) -> None:
    positive_int(_, field, value)
    if value > MAX_SESSIONS:
        raise InvalidValueError(field.name, value, f"must be at most {MAX_SESSIONS}")


def _flags(_: Any, field: attrs.Attribute[Any], value: Mapping[str, Any]) -> None:
    for key, item in value.items():
        if not isinstance(item, bool):
            raise InvalidValueError(f"{field.name}.{key}", item, "must be true or false")


@attrs.frozen(kw_only=True)
class MarketFactsSettings:
    """Where ADV and daily volatility come from at start, and which month is the front.

    With ``from_bars``, Hydra reads each symbol's daily bars through the broker and measures
    both over the latest ``sessions`` complete sessions; a symbol with fewer than
    ``min_sessions`` of them, whose bars fail or take longer than ``wait`` seconds (all
    symbols together), falls back to the configured ``[adv]`` and volatility; a symbol in
    ``override`` uses them whatever its bars say."""

    from_bars: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    sessions: int = attrs.field(default=20, validator=_sessions)
    min_sessions: int = attrs.field(default=10)  # volatility needs 3 at least, whatever this says
    wait: float = attrs.field(default=20.0, validator=positive_seconds)
    # The front month is the nearest listed one more than this many days before its first
    # notice day (its last trading day, when cash-settled); a position held within as many
    # days of its own is warned about at start.
    roll_days: int = attrs.field(default=ROLL_DAYS, validator=_non_negative_days)
    override: Mapping[str, bool] = attrs.field(factory=dict, converter=_frozen_mapping,
                                               validator=_flags)

    @min_sessions.validator
    def _at_most_sessions(self, field: attrs.Attribute[Any], value: Any) -> None:
        _sessions(self, field, value)
        if value > self.sessions:
            raise InvalidValueError(field.name, value,
                                    f"must be at most sessions ({self.sessions})")

    def overrides(self, symbol: str) -> bool:
        """True when the configured ADV and volatility of ``symbol`` win over its bars."""
        return self.override.get(symbol, False)


_CLIENT_IDS = ("client_id", "diagnostic_client_id", "cli_client_id")


def _distinct_client_ids(_: Any, field: attrs.Attribute[Any], value: BrokerSettings) -> None:
    """IB takes one connection per client id: ``hydra status`` on the trading id would cut
    ``hydra run`` off."""
    for index, name in enumerate(_CLIENT_IDS):
        for other in _CLIENT_IDS[index + 1:]:
            if getattr(value, name) == getattr(value, other):
                raise InvalidValueError(
                    f"{field.name}.{name}", getattr(value, name),
                    f"is the same as {field.name}.{other}: IB takes one connection per client "
                    f"id (give {', '.join(_CLIENT_IDS[:-1])} and {_CLIENT_IDS[-1]} each their own)")


DEFAULT_ADV: Mapping[str, int] = types.MappingProxyType({"ZO": 1500, "HE": 30000})


def _over_default_adv(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """``value`` over `DEFAULT_ADV`: a configuration's ADV table always holds the built-in
    contracts' figures unless it gives its own, whether it comes from a file (whose ``[adv]``
    is merged over them) or is built in code, so the two agree and a written file reads back
    equal."""
    return types.MappingProxyType({**DEFAULT_ADV, **value})


@attrs.frozen(kw_only=True)
class HydraConfig:
    """Everything Hydra is configured by. Strategies override execution settings by name."""

    execution: ExecutionSettings = ExecutionSettings()
    strategies: Mapping[str, ExecutionSettings] = attrs.field(
        factory=dict, converter=_frozen_mapping
    )
    risk: RiskLimits = RiskLimits()
    broker: BrokerSettings = attrs.field(default=BrokerSettings(),
                                         validator=_distinct_client_ids)
    journal: JournalSettings = JournalSettings()
    shutdown: ShutdownSettings = ShutdownSettings()
    restart: RestartSettings = RestartSettings()
    runner: RunnerSettings = RunnerSettings()
    logging: LoggingSettings = LoggingSettings()
    slippage: SlippageSettings = SlippageSettings()
    adv: Mapping[str, int] = attrs.field(default=DEFAULT_ADV, converter=_over_default_adv)
    market_facts: MarketFactsSettings = MarketFactsSettings()

    def execution_for(self, strategy: str) -> ExecutionSettings:
        """The execution settings of ``strategy``: its override, else the defaults."""
        return self.strategies.get(strategy, self.execution)
