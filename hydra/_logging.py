"""structlog setup: a console renderer on a terminal, JSON lines otherwise.

Modules log through ``log = structlog.get_logger()`` at module scope and never bind there;
per-actor context comes from `structlog.contextvars`, merged first into every event.
"""

from __future__ import annotations

import enum
import json
import logging
import sys
from decimal import Decimal
from typing import Any, TextIO

import structlog

from ._settings import LogFormat, LoggingSettings, LogLevel


def configure_logging(settings: LoggingSettings, *, stream: TextIO | None = None) -> None:
    """Send Hydra's logs to ``stream`` (default: standard error) as ``settings`` say:
    events below ``settings.level`` are dropped, each has an ISO UTC timestamp."""
    stream = sys.stderr if stream is None else stream
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            *_renderer(settings.format, stream),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_level_number(settings.level)),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        # Not cached: module-level loggers must follow a later configure_logging (tests do).
        cache_logger_on_first_use=False,
    )
    # ib_async logs every IB error message itself (as ERROR, with whole Trade objects); Hydra
    # turns each into an event and a journal note, so ib_async's own lines only repeat them.
    quiet = settings.level is not LogLevel.DEBUG
    logging.getLogger("ib_async").setLevel(logging.CRITICAL if quiet else logging.DEBUG)


def _level_number(level: LogLevel) -> int:
    return logging.getLevelNamesMapping()[level.value.upper()]


def _renderer(log_format: LogFormat, stream: TextIO) -> list[structlog.typing.Processor]:
    is_tty = _is_tty(stream)
    if log_format is LogFormat.CONSOLE or (log_format is LogFormat.AUTO and is_tty):
        return [structlog.dev.ConsoleRenderer(colors=is_tty)]
    return [
        structlog.processors.dict_tracebacks,
        structlog.processors.JSONRenderer(serializer=json.dumps, default=_json_default),
    ]


def _is_tty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _json_default(value: Any) -> Any:
    """Decimals as exact strings, enums as their values, anything else as its repr."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return repr(value)
