"""Version negotiation and the server's hello."""

from __future__ import annotations

import datetime as dt

import pytest

from hydra.gateway._handshake import (
    SERVER_VERSION,
    VersionRange,
    negotiate,
    parse_version_range,
    server_hello,
)
from hydra.gateway._wire import FrameDecoder, WireError


def test_ib_async_version_range_is_parsed() -> None:
    """ib_async 2.1 sends v157..178 with no NUL after it."""
    assert parse_version_range(b"v157..178") == VersionRange(low=157, high=178)


def test_connect_options_are_kept() -> None:
    """Options after the range (+PACEAPI) are kept apart from the versions."""
    parsed = parse_version_range(b"v100..200 +PACEAPI\0")
    assert parsed == VersionRange(low=100, high=200, options="+PACEAPI")


@pytest.mark.parametrize("payload", [b"", b"hello", b"v178..157", b"\xff\xfe", b"v..1"])
def test_malformed_ranges_are_refused(payload: bytes) -> None:
    """Anything but v<min>..<max> is a protocol error."""
    with pytest.raises(WireError):
        parse_version_range(payload)


def test_negotiation_picks_the_one_version_spoken() -> None:
    """The gateway answers with its version when the client speaks it, else refuses."""
    assert negotiate(VersionRange(low=157, high=178)) == SERVER_VERSION == 157
    with pytest.raises(WireError, match="speaks only 157"):
        negotiate(VersionRange(low=158, high=178))


def test_hello_is_version_and_connection_time() -> None:
    """The hello is one frame of two fields, as ib_async ends its handshake on."""
    decoder = FrameDecoder()
    decoder.feed(server_hello(157, dt.datetime(2025, 3, 3, 14, 30, tzinfo=dt.UTC)))
    assert decoder.next_frame() == ("157", "20250303 14:30:00 UTC")
