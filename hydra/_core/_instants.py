"""Instants a number of seconds ahead, capped at the last one a datetime holds.

A trader's "for ever" is a large number of seconds (``patience = 1e12``, ``[runner]
inbox_deadline = 1e12``); `datetime + timedelta` raises OverflowError past year 9999, and
an actor that raised it died with its work half-done.
"""

from __future__ import annotations

import datetime as dt

LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)


def later(wall: dt.datetime, seconds: float) -> dt.datetime:
    """``seconds`` after ``wall`` (zoned), or `LATEST` when that is past it."""
    if seconds >= (LATEST - wall.astimezone(dt.UTC)).total_seconds():
        return LATEST
    return wall + dt.timedelta(seconds=seconds)
