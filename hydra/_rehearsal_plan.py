"""The rehearsal's calendar: its trading days, the drills placed in them, the market each day.

Pure: `plan_rehearsal` lays out ``weeks`` of the exchange's trading days from a Monday, through
the Monday ``weeks`` weeks later (so the first and last sessions are 7 × ``weeks`` days apart,
as the gate's operation condition asks). The days and their hours are the session calendar's
(`hydra._core._sessions.weekly_calendar` over oats' trading hours, CME's holidays shut): each
day is one session, the grains' day session (08:30–13:20 Chicago, after the 07:45–08:30 break;
IB's liquid hours), and a holiday (Martin Luther King Day, 2026-01-19) has none. The overnight
session is not rehearsed: a paper trader's day is the liquid one. Days are numbered by session,
so a holiday moves the later drills a calendar day on. The drills fall on fixed sessions:

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

from ._contracts import OATS
from ._core._sessions import Session, liquid_windows, weekly_calendar
from ._errors import InvalidValueError
from ._holidays import is_exchange_holiday
from .sim import Disconnect, MarketParams

FIRST_MONDAY = dt.date(2026, 1, 5)
"""Where a rehearsal's calendar starts unless told otherwise (any Monday would do)."""

RECONNECT_DAY, REGIME_DAY, KILL_DAY, BREAKER_DAY = 3, 6, 9, 12
MIN_WEEKS = 3  # the breaker drill's resume: session 13 (three weeks hold 14 at least)
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
    week: int  # the rehearsal's calendar week, from 1
    session: Session  # when it opens and closes (UTC)
    market: MarketParams
    costly: bool
    drop: Disconnect | None = None  # the gateway drop, seconds after the open
    kill_at: float | None = None  # seconds after the open: the inbox's kill line
    resume_at: float | None = None  # seconds after the open: the inbox's resume line
    breakers_low: bool = False  # every breaker's limit at $1

    @property
    def date(self) -> dt.date:
        """The trading day, in the exchange's time zone."""
        return trading_date(self.session)

    def session_hours(self) -> tuple[dt.datetime, dt.datetime]:
        """When this day's session opens and closes (aware, Chicago)."""
        zone = zoneinfo.ZoneInfo(OATS.time_zone)
        return self.session.open.astimezone(zone), self.session.close.astimezone(zone)

    def drills(self) -> list[str]:
        """What this day rehearses, in words (for the progress line)."""
        named = [("gateway drop and reconnect", self.drop is not None),
                 ("kill switch from the inbox", self.kill_at is not None),
                 ("every breaker tripped", self.breakers_low),
                 ("explicit resume", self.resume_at is not None),
                 ("costs change", self.number == REGIME_DAY)]
        return [name for name, happens in named if happens]


def trading_date(session: Session) -> dt.date:
    """The date a day session trades on, in the exchange's time zone."""
    return session.open.astimezone(zoneinfo.ZoneInfo(OATS.time_zone)).date()


def day_sessions(first: dt.date, days: int) -> list[Session]:
    """Oats' day sessions in the ``days`` calendar days from ``first``, as the session
    calendar has them: weekdays, CME's holidays shut."""
    liquid = liquid_windows(OATS.trading_hours)  # not the overnight one
    dates = [first + dt.timedelta(days=n) for n in range(days)]
    calendar = weekly_calendar(liquid, zone=OATS.time_zone, first=first, days=days,
                               holidays=[d for d in dates if is_exchange_holiday(d)])
    return list(calendar.sessions)


def plan_rehearsal(weeks: int, *, first: dt.date = FIRST_MONDAY) -> list[Day]:
    """The days of a rehearsal of ``weeks`` weeks from the Monday ``first``."""
    if isinstance(weeks, bool) or not isinstance(weeks, int) or weeks < MIN_WEEKS:
        raise InvalidValueError("weeks", weeks, f"must be a whole number of at least "
                                f"{MIN_WEEKS} (the drills fall in weeks 1 to 3)")
    if first.weekday() != 0:
        raise InvalidValueError("first", first.isoformat(), "must be a Monday")
    days = []
    for number, session in enumerate(day_sessions(first, 7 * weeks + 1), start=1):
        costly = number >= REGIME_DAY
        days.append(Day(
            number=number, week=(trading_date(session) - first).days // 7 + 1, session=session,
            market=COSTLY if costly else BASELINE, costly=costly,
            drop=Disconnect(at=DROP_AFTER, duration=DROP_SECONDS)
            if number == RECONNECT_DAY else None,
            kill_at=KILL_AFTER if number == KILL_DAY else None,
            resume_at={KILL_DAY: RESUME_AFTER,
                       BREAKER_DAY + 1: BREAKER_RESUME_AFTER}.get(number),
            breakers_low=number == BREAKER_DAY))
    return days
