"""The TWS API handshake, sans I/O: the client's version range in, the server's hello out.

The client sends ``API\\0`` and one frame ``v<min>..<max>[ options]`` (bare text, no NUL); the
server answers one frame of two fields, the version it chose and its connection time. The
gateway speaks exactly one version, `SERVER_VERSION`, and emits the fields ib_async reads at
that version.
"""

from __future__ import annotations

import datetime as dt
import re

import attrs

from ._wire import WireError, encode_frame, ib_datetime

API_MAGIC = b"API\0"
"""The bytes a TWS API client sends before its first frame."""

SERVER_VERSION = 157
"""The one server version the gateway speaks (ib_async 2.1.0 asks for 157..178)."""

_RANGE = re.compile(r"^v(\d{1,4})(?:\.\.(\d{1,4}))?(?: (.*))?$")


@attrs.frozen(kw_only=True)
class VersionRange:
    """The client versions a client can speak, and its connect options (e.g. ``+PACEAPI``)."""

    low: int
    high: int
    options: str = ""


def parse_version_range(payload: bytes) -> VersionRange:
    """The client's first frame's payload, ``b"v157..178"`` (ib_async sends no NUL after it;
    one is allowed); anything else is a `WireError`."""
    try:
        text = payload.decode("ascii").removesuffix("\0")
    except UnicodeDecodeError:
        text = ""
    match = _RANGE.match(text)
    if match is None:
        raise WireError(f"expected a version range like b'v157..178', got {payload[:40]!r}")
    low = int(match[1])
    high = int(match[2]) if match[2] else low
    if high < low:
        raise WireError(f"version range {text!r} is empty")
    return VersionRange(low=low, high=high, options=match[3] or "")


def negotiate(client: VersionRange) -> int:
    """The server version for ``client``: `SERVER_VERSION` when the client speaks it."""
    if not client.low <= SERVER_VERSION <= client.high:
        raise WireError(
            f"client speaks versions {client.low}..{client.high}; "
            f"this gateway speaks only {SERVER_VERSION}"
        )
    return SERVER_VERSION


def server_hello(version: int, when: dt.datetime) -> bytes:
    """The server's answer to the version range: its version and connection time."""
    return encode_frame((version, ib_datetime(when)))
