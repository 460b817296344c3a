from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
import structlog

from hydra._logging import configure_logging
from hydra._settings import LogFormat, LoggingSettings, LogLevel

log = structlog.get_logger()


@pytest.fixture(autouse=True)
def reset_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


class TTYStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_on_a_plain_stream() -> None:
    """AUTO on a non-terminal writes one parseable JSON object per event."""
    stream = io.StringIO()
    configure_logging(LoggingSettings(), stream=stream)
    log.info("order_placed", quantity=3, price=Decimal("412.25"))
    (event,) = json_lines(stream)
    assert event["event"] == "order_placed"
    assert event["level"] == "info"
    assert (event["quantity"], event["price"]) == (3, "412.25")


def test_timestamps_are_iso_utc() -> None:
    """Each event carries an ISO 8601 timestamp in UTC."""
    stream = io.StringIO()
    configure_logging(LoggingSettings(format=LogFormat.JSON), stream=stream)
    log.warning("session_down")
    (event,) = json_lines(stream)
    assert isinstance(event["timestamp"], str)
    stamp = dt.datetime.fromisoformat(event["timestamp"])
    assert stamp.utcoffset() == dt.timedelta(0)


def test_level_filter_drops_debug_at_info() -> None:
    """At level info, debug events are dropped and info events kept."""
    stream = io.StringIO()
    configure_logging(LoggingSettings(level=LogLevel.INFO, format=LogFormat.JSON), stream=stream)
    log.debug("quote_seen")
    log.info("order_filled")
    assert [event["event"] for event in json_lines(stream)] == ["order_filled"]


def test_debug_level_keeps_debug() -> None:
    """At level debug, debug events are written."""
    stream = io.StringIO()
    configure_logging(LoggingSettings(level=LogLevel.DEBUG, format=LogFormat.JSON), stream=stream)
    log.debug("quote_seen")
    assert [event["event"] for event in json_lines(stream)] == ["quote_seen"]


def test_contextvars_are_merged() -> None:
    """Context bound with structlog.contextvars appears in every event inside it."""
    stream = io.StringIO()
    configure_logging(LoggingSettings(format=LogFormat.JSON), stream=stream)
    with structlog.contextvars.bound_contextvars(intent_id="i-1"):
        log.info("order_placed")
    log.info("idle")
    first, second = json_lines(stream)
    assert first["intent_id"] == "i-1"
    assert "intent_id" not in second


def test_console_on_a_terminal() -> None:
    """AUTO on a terminal uses the console renderer, not JSON."""
    stream = TTYStream()
    configure_logging(LoggingSettings(), stream=stream)
    log.info("order_placed", quantity=3)
    line = stream.getvalue()
    assert "order_placed" in line
    assert not line.startswith("{")


def test_console_format_forced_on_a_plain_stream() -> None:
    """CONSOLE writes readable lines without colour codes even when not on a terminal."""
    stream = io.StringIO()
    configure_logging(LoggingSettings(format=LogFormat.CONSOLE), stream=stream)
    log.info("order_placed", quantity=3)
    line = stream.getvalue()
    assert "order_placed" in line
    assert "quantity=3" in line
    assert "\x1b[" not in line


def test_json_format_forced_on_a_terminal() -> None:
    """JSON writes JSON even on a terminal."""
    stream = TTYStream()
    configure_logging(LoggingSettings(format=LogFormat.JSON), stream=stream)
    log.info("order_placed")
    assert json_lines(stream)[0]["event"] == "order_placed"


def test_capture_logs_still_works_after_configuring() -> None:
    """Tests can read events with capture_logs once logging is configured."""
    configure_logging(LoggingSettings(format=LogFormat.JSON), stream=io.StringIO())
    with structlog.testing.capture_logs() as captured:
        log.info("risk_denied", field="max_position")
    assert captured == [{"event": "risk_denied", "field": "max_position", "log_level": "info"}]


def test_ib_async_own_error_lines_are_quiet_unless_debugging() -> None:
    """ib_async's stdlib logger is silenced below CRITICAL except at debug level."""
    import logging

    configure_logging(LoggingSettings(level=LogLevel.INFO), stream=io.StringIO())
    assert logging.getLogger("ib_async").getEffectiveLevel() == logging.CRITICAL
    configure_logging(LoggingSettings(level=LogLevel.DEBUG), stream=io.StringIO())
    assert logging.getLogger("ib_async").getEffectiveLevel() == logging.DEBUG
    logging.getLogger("ib_async").setLevel(logging.NOTSET)
