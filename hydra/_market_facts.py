"""The start-up step that takes ADV and daily volatility from the market: before any intent is
accepted, each symbol's daily bars are read through the broker (its front month's, by
``market_facts.roll_days``) and measured (`hydra._core._market_stats`); the configuration Hydra
runs on gets what they say, and the configured ``[adv]`` and volatility stay as the fallback
(bars missing, too few, failing, or slower than ``market_facts.wait``) and as the override
(``[market_facts.override]``). One ``market_facts`` log line per symbol says which was used and
why. A position held within ``roll_days`` of its delivery window (or in it) is warned about:
a ``delivery_window`` note in the journal and a log line (`hydra._front_months`, which decides
the front months and warns again each trading day).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from decimal import Decimal

import attrs
import structlog
import trio

from ._contracts import BUILT_IN_CONTRACTS
from ._core._front_month import front_month
from ._core._market_stats import market_stats
from ._errors import BrokerError, InvalidValueError
from ._front_months import warn_of_delivery
from ._journal_actor import JournalClient
from ._settings import HydraConfig, MarketFactsSettings
from .brokers import MarketView

log = structlog.get_logger()


class Source(enum.StrEnum):
    """Where a symbol's figure came from."""

    BARS = "bars"
    OVERRIDE = "config override"
    FALLBACK = "config fallback"


@attrs.frozen(kw_only=True)
class Figure:
    """One figure Hydra runs on for a symbol (None: neither bars nor config have one)."""

    value: Decimal | None
    source: Source
    problem: str | None = None  # why the bars' figure was not used, for a fallback


def choose(measured: Decimal | None, configured: Decimal | None, *, override: bool,
           problem: str | None) -> Figure:
    """The figure to run on: the configured one when it overrides or the bars have none."""
    if override:
        return Figure(value=configured, source=Source.OVERRIDE)
    if measured is None:
        return Figure(value=configured, source=Source.FALLBACK, problem=problem)
    return Figure(value=measured, source=Source.BARS)


@attrs.frozen(kw_only=True)
class Reading:
    """What one symbol's daily bars gave: the month read, and the measured figures or why
    there are none."""

    month: str | None = None
    sessions: int = 0
    adv: Decimal | None = None
    volatility_bps: Decimal | None = None
    adv_problem: str | None = None
    volatility_problem: str | None = None
    worrying: bool = True  # a fallback is a warning, unless this says it is expected

    @classmethod
    def failed(cls, problem: str, *, month: str | None = None, worrying: bool = True,
               ) -> Reading:
        return cls(month=month, adv_problem=problem, volatility_problem=problem,
                   worrying=worrying)


async def read_market_facts(
    config: HydraConfig, broker: MarketView, journal: JournalClient, *, today: dt.date,
) -> HydraConfig:
    """``config`` with each symbol's ADV and daily volatility from its daily bars where they
    are to be used (the symbols of ``[adv]`` and of the positions held); warns of positions
    near or in their delivery window. The bars get ``market_facts.wait`` seconds in all,
    whatever the broker does."""
    settings = config.market_facts
    held = [p for p in await broker.positions() if p.quantity]
    await warn_of_delivery(held, journal, today=today, roll_days=settings.roll_days)
    symbols = sorted(set(config.adv) | {p.contract.symbol for p in held})
    readings = await _read_all(broker, symbols, settings, today=today)
    adv, volatility = dict(config.adv), dict(config.slippage.volatility_bps)
    for symbol in symbols:
        reading = readings[symbol]
        override = settings.overrides(symbol)
        configured_adv = config.adv.get(symbol)
        adv_figure = choose(reading.adv, None if configured_adv is None else
                            Decimal(configured_adv), override=override,
                            problem=reading.adv_problem)
        volatility_figure = choose(
            reading.volatility_bps, config.slippage.for_symbol(symbol).daily_volatility_bps,
            override=override, problem=reading.volatility_problem)
        if adv_figure.value is not None:
            adv[symbol] = int(adv_figure.value)
        if volatility_figure.value is not None:
            volatility[symbol] = volatility_figure.value
        _log_facts(symbol, reading, adv_figure, volatility_figure)
    slippage = attrs.evolve(config.slippage, volatility_bps=volatility)
    return attrs.evolve(config, adv=adv, slippage=slippage)


def _log_facts(symbol: str, reading: Reading, adv: Figure, volatility: Figure) -> None:
    """Info, or a warning for a fallback the trader should look at (bars too few, a broker
    failing or slow); not for one expected (bars off, a contract this broker does not list,
    a product Hydra knows no months of: `config_warnings` names that one)."""
    fallback = Source.FALLBACK in (adv.source, volatility.source)
    (log.warning if fallback and reading.worrying else log.info)(
        "market_facts", symbol=symbol, month=reading.month, sessions=reading.sessions,
        adv=None if adv.value is None else int(adv.value), adv_source=adv.source.value,
        adv_problem=adv.problem,
        volatility_bps=None if volatility.value is None else str(volatility.value),
        volatility_source=volatility.source.value, volatility_problem=volatility.problem)


async def _read_all(broker: MarketView, symbols: Sequence[str],
                    settings: MarketFactsSettings, *, today: dt.date) -> dict[str, Reading]:
    """Each symbol's reading, all read at once (a symbol not read within ``settings.wait`` is
    a failed one)."""
    if settings.from_bars:
        late = Reading.failed(f"no daily bars within market_facts.wait ({settings.wait} s)")
    else:
        late = Reading.failed("market_facts.from_bars is false", worrying=False)
    found = dict.fromkeys(symbols, late)
    if not settings.from_bars:
        return found
    async def read(symbol: str) -> None:
        found[symbol] = await _read_one(broker, symbol, settings, today=today)

    with trio.move_on_after(settings.wait):  # together: one slow symbol holds up no other
        async with trio.open_nursery() as nursery:
            for symbol in symbols:
                nursery.start_soon(read, symbol)
    return found


async def _read_one(broker: MarketView, symbol: str, settings: MarketFactsSettings, *,
                    today: dt.date) -> Reading:
    spec = BUILT_IN_CONTRACTS.get(symbol)
    if spec is None:
        return Reading.failed("not a contract whose delivery months Hydra knows",
                              worrying=False)
    month = front_month(spec, today=today, roll_days=settings.roll_days)
    try:
        # One more than the sessions measured: today's, when it trades, is not complete.
        bars = await broker.daily_bars(spec.for_month(month), sessions=settings.sessions + 1)
    except InvalidValueError as error:  # the broker does not list it, or sent a bad bar
        unlisted = error.field in ("symbol", "contract")
        return Reading.failed(f"the broker's daily bars failed: {error}", month=month,
                              worrying=not unlisted)
    except BrokerError as error:  # the fallback, said in the log line
        return Reading.failed(f"the broker's daily bars failed: {error}", month=month)
    stats = market_stats(bars, before=today, sessions=settings.sessions,
                         min_sessions=settings.min_sessions)
    return Reading(month=month, sessions=stats.sessions,
                   adv=None if stats.adv is None else Decimal(stats.adv),
                   volatility_bps=stats.volatility_bps, adv_problem=stats.adv_problem,
                   volatility_problem=stats.volatility_problem)
