import datetime as dt
import zoneinfo

import pytest

from hydra._errors import InvalidValueError
from hydra._schedule import DailySchedule, parse_days, parse_time, parse_zone

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
SCHEDULE = DailySchedule(at=dt.time(8, 35), days=parse_days("days", "Mon-Fri"), zone=CHICAGO)


def test_next_run_is_later_today_or_the_next_weekday() -> None:
    """Before 08:35 it is today; after it, the next weekday; Friday evening means Monday."""
    wednesday = dt.datetime(2026, 11, 25, 7, 0, tzinfo=CHICAGO)
    assert SCHEDULE.next_after(wednesday) == dt.datetime(2026, 11, 25, 8, 35, tzinfo=CHICAGO)
    at_the_time = dt.datetime(2026, 11, 25, 8, 35, tzinfo=CHICAGO)
    assert SCHEDULE.next_after(at_the_time).day == 26
    friday = dt.datetime(2026, 11, 27, 18, 0, tzinfo=CHICAGO)
    assert SCHEDULE.next_after(friday) == dt.datetime(2026, 11, 30, 8, 35, tzinfo=CHICAGO)


def test_other_zones_are_converted() -> None:
    """A UTC 'now' is read in the exchange's zone (CST is UTC-6 in November)."""
    utc = dt.datetime(2026, 11, 25, 14, 0, tzinfo=dt.UTC)  # 08:00 in Chicago
    assert SCHEDULE.next_after(utc).astimezone(dt.UTC).hour == 14
    assert SCHEDULE.next_after(utc).astimezone(dt.UTC).minute == 35


def test_day_ranges_wrap_over_the_week() -> None:
    """Sun-Thu covers Sunday to Thursday; lists and single days work."""
    assert parse_days("days", "Sun-Thu") == {6, 0, 1, 2, 3}
    assert parse_days("days", "Mon,Wed,Fri") == {0, 2, 4}
    assert parse_days("days", "Sat") == {5}


@pytest.mark.parametrize(
    ("parse", "text"),
    [(parse_time, "8:35"), (parse_time, "24:00"), (parse_time, 835), (parse_days, "Monday"),
     (parse_days, ""), (parse_zone, "Mars/Olympus")],
)
def test_bad_schedule_text_names_the_field(parse: object, text: object) -> None:
    """A malformed time, day list or zone is an error naming the field."""
    with pytest.raises(InvalidValueError, match=r"^runner\.schedule:"):
        parse("runner.schedule", text)  # type: ignore[operator]
