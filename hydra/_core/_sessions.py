"""A contract's session calendar: when it trades, in the exchange's time zone.

IB describes a contract's hours in its contract details (``tradingHours`` and ``liquidHours``,
with ``timeZoneId``) as ``;``-separated days, each ``YYYYMMDD:HHMM-YYYYMMDD:HHMM`` (a session,
dated at both ends, so an overnight one names the next day) or ``YYYYMMDD:CLOSED`` (a holiday);
TWS before 970 sent ``YYYYMMDD:HHMM-HHMM`` (the close on the same day, or the next when it is
not after the open), several ranges of one day separated by commas. `parse_hours` reads both.

IB names the zone in its own words: ``US/Central`` for CME and CBOT futures, ``US/Eastern``
for New York (``timeZoneId``; IB's contract details of ZO, HE, ZC…). Those are the tz
database's old "backward" links, which some systems no longer install (Debian's and
Ubuntu's ``tzdata-legacy``), so `parse_hours` reads them as the zones they link to
(`IB_ZONE_IDS`), and the simulated gateway sends them as IB does (`ib_zone_id`).

The text covers a few days only: `SessionCalendar.known_until` says how far, and past it the
calendar knows no open. Times are aware datetimes; a close is exclusive (at 13:20 a session
that closes at 13:20 is over). Pure: no I/O, no clock.

ib_async has a parser too (``ContractDetails.tradingSessions``), but it lives on the far side
of the IB adapter and answers a malformed day with a bare ``strptime`` error; the simulator
and the core need the calendar without ib_async, and a bad day must name the field.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Mapping

import attrs

from .._contracts import TradingSession
from .._errors import InvalidValueError
from .._schedule import DAY_NAMES, parse_zone

_DAY = re.compile(r"^(\d{8}):(.*)$")
_NEW_RANGE = re.compile(r"^(\d{4})-(\d{8}):(\d{4})$")
_OLD_RANGE = re.compile(r"^(\d{4})-(\d{4})$")
_FORMAT = "is not YYYYMMDD:HHMM-YYYYMMDD:HHMM or YYYYMMDD:CLOSED"

IB_ZONE_IDS = {
    "US/Central": "America/Chicago",
    "US/Eastern": "America/New_York",
    "US/Mountain": "America/Denver",
    "US/Pacific": "America/Los_Angeles",
}
"""IB's ``timeZoneId`` for US exchanges, and the tz database zone each one names."""


def ib_zone_id(zone: str) -> str:
    """The ``timeZoneId`` IB sends for the tz database ``zone`` (itself when IB has no other
    name for it): ``America/Chicago`` is ``US/Central``."""
    return next((ib for ib, tz in IB_ZONE_IDS.items() if tz == zone), zone)



@attrs.frozen(kw_only=True)
class Session:
    """One trading window: open (inclusive) to close (exclusive), aware datetimes (UTC)."""

    open: dt.datetime
    close: dt.datetime

    @property
    def seconds(self) -> float:
        return (self.close - self.open).total_seconds()


@attrs.frozen(kw_only=True)
class SessionCalendar:
    """The sessions of one contract between ``known_from`` and ``known_until`` (UTC), sorted
    and apart (touching windows are one session); ``zone`` is the exchange's, for display."""

    zone: zoneinfo.ZoneInfo
    sessions: tuple[Session, ...]
    known_from: dt.datetime
    known_until: dt.datetime

    def covers(self, t: dt.datetime) -> bool:
        """True when ``t`` falls in the days the calendar describes."""
        return self.known_from <= t < self.known_until

    def session_at(self, t: dt.datetime) -> Session | None:
        """The session ``t`` is inside, or None (a break, a weekend, a holiday)."""
        index = bisect.bisect_right([s.open for s in self.sessions], t) - 1
        if index >= 0 and t < self.sessions[index].close:
            return self.sessions[index]
        return None

    def is_open(self, t: dt.datetime) -> bool:
        return self.session_at(t) is not None

    def close_of(self, t: dt.datetime) -> dt.datetime | None:
        """When the session ``t`` is inside closes (None: closed at ``t``)."""
        session = self.session_at(t)
        return None if session is None else session.close

    def next_open(self, t: dt.datetime) -> dt.datetime | None:
        """``t`` when open then, else the next open after it (None: none known)."""
        if self.is_open(t):
            return t
        later = [s.open for s in self.sessions if s.open > t]
        return later[0] if later else None

    def open_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """Seconds inside sessions between ``start`` and ``end``."""
        total = 0.0
        for s in self.sessions:
            low, high = max(s.open, start), min(s.close, end)
            if high > low:
                total += (high - low).total_seconds()
        return total

    def ending_early(self, seconds: float) -> SessionCalendar:
        """This calendar with every close ``seconds`` earlier (a shorter session dropped)."""
        early = dt.timedelta(seconds=seconds)
        kept = tuple(Session(open=s.open, close=s.close - early)
                     for s in self.sessions if s.close - early > s.open)
        return attrs.evolve(self, sessions=kept)

    def after_open_seconds(self, start: dt.datetime, seconds: float) -> dt.datetime | None:
        """The instant when ``seconds`` of session time have passed since ``start`` (breaks
        skipped; at 0, the next open); None when the known sessions hold fewer."""
        left = seconds
        for s in self.sessions:
            if s.close <= start:
                continue
            low = max(s.open, start)
            span = (s.close - low).total_seconds()
            if left < span:
                return low + dt.timedelta(seconds=left)
            left -= span
        return None


def held_until(calendar: SessionCalendar | None, now: dt.datetime, *,
               min_left: float) -> dt.datetime | None:
    """None when an intent arriving at ``now`` may be worked at once: inside a session with at
    least ``min_left`` seconds before its close (or without a calendar, or past the days it
    describes: then the hours are unknown and nothing is held). Else when to look again: the
    open of the next session with ``min_left`` seconds in it, or the end of what the calendar
    knows. Before the calendar's first day is between sessions: IB lists hours from the
    current trading day, so in the evening the liquid hours may begin tomorrow (holding is
    the side that sends nothing)."""
    if calendar is None or now >= calendar.known_until:
        return None
    for s in calendar.sessions:
        begins = max(s.open, now)
        if (s.close - begins).total_seconds() >= min_left:
            return None if begins == now else begins
    return calendar.known_until


def parse_hours(text: str, *, zone: str, field: str = "trading_hours") -> SessionCalendar:
    """IB's hours ``text`` in the time zone ``zone`` (``timeZoneId``) as a calendar; a day
    that is not in IB's format is an `InvalidValueError` naming ``field`` and the day."""
    tz = parse_zone("timeZoneId", IB_ZONE_IDS.get(zone, zone) if isinstance(zone, str) else zone)
    if not isinstance(text, str) or not text.strip():
        raise InvalidValueError(field, text, "must list days as YYYYMMDD:HHMM-YYYYMMDD:HHMM")
    days: list[dt.date] = []
    windows: list[Session] = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        day, found = _parse_day(part, tz, field)
        days.append(day)
        windows.extend(found)
    if not days:  # separators only
        raise InvalidValueError(field, text, "must list days as YYYYMMDD:HHMM-YYYYMMDD:HHMM")
    return _calendar(tz, windows, first=min(days), last=max(days))


def _parse_day(part: str, tz: zoneinfo.ZoneInfo, field: str) -> tuple[dt.date, list[Session]]:
    match = _DAY.match(part)
    day = _date(match[1], part, field) if match else None
    if match is None or day is None:
        raise InvalidValueError(field, part, _FORMAT)
    if match[2] == "CLOSED":
        return day, []
    return day, [_parse_range(day, piece, tz, field, part) for piece in match[2].split(",")]


def _parse_range(day: dt.date, piece: str, tz: zoneinfo.ZoneInfo, field: str,
                 part: str) -> Session:
    new, old = _NEW_RANGE.match(piece), _OLD_RANGE.match(piece)
    if new is not None:
        opens, closes = _at(day, new[1]), _at(_date(new[2], part, field), new[3])
    elif old is not None:
        opens, closes = _at(day, old[1]), _at(day, old[2])
        if closes is not None and opens is not None and closes <= opens:
            closes += dt.timedelta(days=1)  # the old format's overnight session
    else:
        opens = closes = None
    if opens is None or closes is None:
        raise InvalidValueError(field, part, _FORMAT)
    if closes <= opens:
        raise InvalidValueError(field, part, "closes before it opens")
    return Session(open=opens.replace(tzinfo=tz), close=closes.replace(tzinfo=tz))


def _date(text: str | None, part: str, field: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise InvalidValueError(field, part, "names a date that does not exist") from None


def _at(day: dt.date | None, hhmm: str) -> dt.datetime | None:
    hour, minute = int(hhmm[:2]), int(hhmm[2:])
    if day is None or hour > 24 or minute > 59 or (hour == 24 and minute):
        return None
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=hour, minutes=minute)


def _calendar(tz: zoneinfo.ZoneInfo, windows: Iterable[Session], *, first: dt.date,
              last: dt.date) -> SessionCalendar:
    merged: list[Session] = []
    # Kept in UTC: arithmetic between datetimes of one zone is wall-clock arithmetic, an hour
    # off across a change of daylight saving time.
    windows = (Session(open=w.open.astimezone(dt.UTC), close=w.close.astimezone(dt.UTC))
               for w in windows)
    for s in sorted(windows, key=lambda w: w.open):
        if merged and s.open <= merged[-1].close:  # touching or overlapping: one session
            merged[-1] = Session(open=merged[-1].open, close=max(merged[-1].close, s.close))
        else:
            merged.append(s)
    start = dt.datetime.combine(first, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    end = max([end, *(s.close for s in merged)])
    return SessionCalendar(zone=tz, sessions=tuple(merged), known_from=start, known_until=end)


def weekly_calendar(
    windows: Iterable[TradingSession], *, zone: str, first: dt.date, days: int,
    holidays: Iterable[dt.date] = (), early_closes: Mapping[dt.date, dt.time] | None = None,
    no_overnight: Iterable[dt.date] = (),
) -> SessionCalendar:
    """The calendar of recurring ``windows`` for ``days`` days from ``first``, each window
    opening on its ``days`` (an overnight ``Sun-Fri`` window opens Sunday to Thursday). A
    holiday closes the trading day it names: every session that closes on that date. On a
    day of ``early_closes`` every session closing that day ends by the time it gives (one
    that would end before it opens is dropped); on a day of ``no_overnight`` the overnight
    session that would close that day does not open."""
    tz = parse_zone("time_zone", zone)
    closed, early, shut = set(holidays), early_closes or {}, set(no_overnight)
    found: list[Session] = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        for w in windows:
            overnight = w.close <= w.open
            close_day = day + dt.timedelta(days=1) if overnight else day
            if (not opens_on(w, day.weekday()) or close_day in closed
                    or (overnight and close_day in shut)):
                continue
            opens = dt.datetime.combine(day, w.open, tzinfo=tz)
            closes = dt.datetime.combine(close_day, min(w.close, early.get(close_day, w.close)),
                                         tzinfo=tz)
            if closes > opens:
                found.append(Session(open=opens, close=closes))
    return _calendar(tz, found, first=first, last=first + dt.timedelta(days=days - 1))


def liquid_windows(windows: Iterable[TradingSession]) -> tuple[TradingSession, ...]:
    """The windows of ``windows`` that make IB's liquid hours: the day sessions (closing after
    they open, the same day), not an overnight one; all of them when every one is overnight
    (a market with no day session has only those hours)."""
    windows = tuple(windows)
    return tuple(w for w in windows if w.close > w.open) or windows


def opens_on(window: TradingSession, weekday: int) -> bool:
    """Whether ``window`` opens on ``weekday`` (0 Monday). Its ``days`` run from its first
    opening to its last close: an overnight ``Sun-Fri`` window opens Sunday to Thursday."""
    first, _, last = window.days.partition("-")
    start, end = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
    span = (end - start) % 7
    if window.close <= window.open and span:
        span -= 1  # "Sun-Fri" overnight: the last day is the last close, not an opening
    return (weekday - start) % 7 <= span
