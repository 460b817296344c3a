"""The rehearsal's calendar: its trading days, the drills placed in them, the market each day.

Pure: `plan_rehearsal` lays out ``weeks`` of the exchange's trading days (Mon–Fri) from a
Monday, through the Monday ``weeks`` weeks later (so the first and last sessions are 7 ×
``weeks`` days apart, as the gate's operation condition asks). Each day has one session, the
CBOT grain day session (08:30–13:20 Chicago) — a stand-in until the exchange's own session
hours are modelled; only `session_hours` knows them. The drills fall on fixed days:

- day 3 (week 1, Wed): the gateway drops for ``DROP_SECONDS`` an hour after the open
  (`hydra.sim.Disconnect`), and Hydra reconnects;
- day 6 (week 2, Mon) on: the market's costs change (`COSTLY`), and the healer must find it
  in the fills;
- day 9 (week 2, Thu): the kill switch from the inbox two hours after the open, an explicit
  resume an hour later;
- day 12 (week 3, Tue): a session with every circuit breaker's limit at $1, so the first fill
  trips all four; day 13 opens latched and resumes them explicitly.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import attrs

from ._errors import InvalidValueError
from ._schedule import EXCHANGE_ZONE
from .sim import Disconnect, MarketParams

SESSION_OPEN, SESSION_CLOSE = dt.time(8, 30), dt.time(13, 20)
"""The CBOT grain day session, Chicago time."""

FIRST_MONDAY = dt.date(2026, 1, 5)
"""Where a rehearsal's calendar starts unless told otherwise (any Monday would do)."""

RECONNECT_DAY, REGIME_DAY, KILL_DAY, BREAKER_DAY = 3, 6, 9, 12
MIN_WEEKS = 3  # the breaker drill's resume falls on day 13, in week 3
DROP_AFTER, DROP_SECONDS = 3600.0, 20.0
KILL_AFTER, RESUME_AFTER = 7200.0, 10800.0
BREAKER_RESUME_AFTER = 60.0  # the day after the breaker drill: resumed a minute after the open

BASELINE = MarketParams.oats()
COSTLY = MarketParams.oats(adv=100, daily_volatility=0.036,
                           spread_ticks=((2, 0.5), (3, 0.3), (4, 0.2)))
"""The market from `REGIME_DAY` on: wider spreads, which the model sees; a fifteenth of the
flow and three times the volatility, which it does not (patient orders fill passively less
often, and what they wait through moves more)."""


@attrs.frozen(kw_only=True)
class Day:
    """One trading day of the rehearsal: its session and what happens in it."""

    number: int  # from 1
    date: dt.date
    market: MarketParams
    costly: bool
    drop: Disconnect | None = None  # the gateway drop, seconds after the open
    kill_at: float | None = None  # seconds after the open: the inbox's kill line
    resume_at: float | None = None  # seconds after the open: the inbox's resume line
    breakers_low: bool = False  # every breaker's limit at $1

    @property
    def week(self) -> int:
        return (self.number - 1) // 5 + 1

    def session_hours(self) -> tuple[dt.datetime, dt.datetime]:
        """When this day's session opens and closes (aware, Chicago)."""
        zone = zoneinfo.ZoneInfo(EXCHANGE_ZONE)
        return (dt.datetime.combine(self.date, SESSION_OPEN, tzinfo=zone),
                dt.datetime.combine(self.date, SESSION_CLOSE, tzinfo=zone))

    def drills(self) -> list[str]:
        """What this day rehearses, in words (for the progress line)."""
        named = [("gateway drop and reconnect", self.drop is not None),
                 ("kill switch from the inbox", self.kill_at is not None),
                 ("every breaker tripped", self.breakers_low),
                 ("explicit resume", self.resume_at is not None),
                 ("costs change", self.number == REGIME_DAY)]
        return [name for name, happens in named if happens]


def _trading_days(first: dt.date, weeks: int) -> list[dt.date]:
    days = (first + dt.timedelta(days=n) for n in range(7 * weeks + 1))
    return [day for day in days if day.weekday() < 5]


def plan_rehearsal(weeks: int, *, first: dt.date = FIRST_MONDAY) -> list[Day]:
    """The days of a rehearsal of ``weeks`` weeks from the Monday ``first``."""
    if isinstance(weeks, bool) or not isinstance(weeks, int) or weeks < MIN_WEEKS:
        raise InvalidValueError("weeks", weeks, f"must be a whole number of at least "
                                f"{MIN_WEEKS} (the drills fall in weeks 1 to 3)")
    if first.weekday() != 0:
        raise InvalidValueError("first", first.isoformat(), "must be a Monday")
    days = []
    for number, date in enumerate(_trading_days(first, weeks), start=1):
        costly = number >= REGIME_DAY
        days.append(Day(
            number=number, date=date, market=COSTLY if costly else BASELINE, costly=costly,
            drop=Disconnect(at=DROP_AFTER, duration=DROP_SECONDS)
            if number == RECONNECT_DAY else None,
            kill_at=KILL_AFTER if number == KILL_DAY else None,
            resume_at={KILL_DAY: RESUME_AFTER,
                       BREAKER_DAY + 1: BREAKER_RESUME_AFTER}.get(number),
            breakers_low=number == BREAKER_DAY))
    return days
