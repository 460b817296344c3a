"""Fuzzing the simulated gateway over real sockets: garbage never stops it serving.

A small, fast version of ``bench/fuzz.py`` (a): the gateway runs in a thread on the real clock;
each input is sent on its own connection, the client ends its side and reads until the gateway
closes; then a fresh plain-socket client must still get managedAccounts and nextValidId, and
the gateway must not have logged a non-protocol failure (``gateway_connection_failed``).
"""

from __future__ import annotations

import itertools
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import hypothesis.strategies as st
import pytest
import structlog
import trio
from hypothesis import HealthCheck, given, settings

from hydra.gateway import MAX_FRAME_BYTES, serve_gateway
from hydra.sim import open_sim_exchange

TIMEOUT = 5.0
FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


class _Served:
    """``serve_gateway`` on the default simulated exchange in a thread of its own."""

    def __init__(self) -> None:
        self.port = 0
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._token: trio.lowlevel.TrioToken | None = None
        self._scope: trio.CancelScope | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        try:
            trio.run(self._serve)
        except BaseException as e:
            self.error = e

    async def _serve(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        async with open_sim_exchange(seed=3) as exchange, trio.open_nursery() as nursery:
            self._scope = nursery.cancel_scope
            self.port = (await nursery.start(serve_gateway, exchange)).port
            self._ready.set()

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(10), self.error

    def stop(self) -> None:
        assert self._token is not None and self._scope is not None
        trio.from_thread.run_sync(self._scope.cancel, trio_token=self._token)
        self._thread.join(10)


@pytest.fixture(scope="module")
def gateway() -> Iterator[_Served]:
    served = _Served()
    served.start()
    yield served
    served.stop()
    assert served.error is None


def _frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def _fields(fields: list[str]) -> bytes:
    return _frame(b"".join(f.encode("utf-8", "surrogatepass") + b"\0" for f in fields))


HELLO = b"API\0" + _frame(b"v157..178")
_ids = itertools.count(2000)


def _start_api() -> bytes:
    return _fields(["71", "2", str(next(_ids)), ""])


def _send_and_drain(port: int, data: bytes) -> None:
    """Send ``data``, end our side and read until the gateway closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            return  # the gateway already refused it and closed
        deadline = time.monotonic() + TIMEOUT
        try:
            while sock.recv(65536):
                assert time.monotonic() < deadline, "the gateway did not close the connection"
        except ConnectionResetError:
            pass


def _message_ids(sock: socket.socket, want: set[str]) -> set[str]:
    seen: set[str] = set()
    buffer = b""
    while not want <= seen and (data := sock.recv(65536)):
        buffer += data
        while len(buffer) >= 4 and len(buffer) >= 4 + struct.unpack_from(">I", buffer)[0]:
            (length,) = struct.unpack_from(">I", buffer)
            seen.add(buffer[4:4 + length].split(b"\0", 1)[0].decode(errors="replace"))
            buffer = buffer[4 + length:]
    return seen


def _assert_serving(served: _Served, logs: list[dict[str, Any]]) -> None:
    assert served.error is None
    assert not [e for e in logs if e.get("event") == "gateway_connection_failed"]
    with socket.create_connection(("127.0.0.1", served.port), timeout=TIMEOUT) as sock:
        sock.sendall(HELLO)
        assert "157" in _message_ids(sock, {"157"})
        sock.sendall(_start_api())
        assert {"15", "9"} <= _message_ids(sock, {"15", "9"})


field_text = st.one_of(
    st.sampled_from(["", "0", "1", "-1", "ZO", "FUT", "CBOT", "BUY", "LMT", "350.25", "NaN",
                     "1e309", "9" * 30, "\ud800"]),
    st.text(max_size=8), st.integers().map(str),
)
CONTRACT = ["0", "ZO", "FUT", "", "", "", "", "CBOT", "", "USD", "", ""]
TEMPLATES = [
    ["9", "8", "1", *CONTRACT],
    ["1", "11", "2", *CONTRACT, "0", "", "0", "0", ""],
    ["3", "1", *CONTRACT, "", "", "BUY", "1", "LMT", "350.25", "", "DAY", "", "", "O", "0",
     "ref", "1", "0"],
    ["4", "1", "1"], ["7", "3", "1", "0", "", "", "", "", "", ""], ["61", "1"],
    ["62", "1", "3", "All", "x"],
]


@st.composite
def _mutated(draw: st.DrawFn) -> list[str]:
    request = list(draw(st.sampled_from(TEMPLATES)))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(1, len(request)))
        op = draw(st.sampled_from(["replace", "delete", "insert", "truncate"]))
        if op == "insert" or at == len(request):
            request.insert(at, draw(field_text))
        elif op == "replace":
            request[at] = draw(field_text)
        elif op == "delete":
            del request[at]
        else:
            del request[at:]
    return request


@FUZZ
@given(data=st.one_of(
    st.binary(max_size=200),
    st.binary(max_size=200).map(lambda b: b"API\0" + b),
    st.tuples(st.integers(0, 2**32 - 1) | st.integers(MAX_FRAME_BYTES - 1, MAX_FRAME_BYTES + 1),
              st.binary(max_size=64)).map(lambda t: b"API\0" + struct.pack(">I", t[0]) + t[1]),
))
def test_random_bytes_and_bad_lengths_never_stop_the_gateway(gateway: _Served, data: bytes
                                                             ) -> None:
    """Random bytes and truncated or oversized length prefixes close only their connection."""
    with structlog.testing.capture_logs() as logs:
        _send_and_drain(gateway.port, data)
    _assert_serving(gateway, logs)


@FUZZ
@given(version=st.just(b"v157..178") | st.binary(max_size=16),
       frames=st.lists(st.lists(field_text, max_size=30), min_size=1, max_size=3),
       tail=st.binary(max_size=100))
def test_garbage_after_the_handshake_never_stops_the_gateway(
    gateway: _Served, version: bytes, frames: list[list[str]], tail: bytes
) -> None:
    """Garbage frames after a (possibly bad) version range, or bytes after startApi, are refused."""
    first = b"API\0" + _frame(version) + b"".join(_fields(f) for f in frames)
    with structlog.testing.capture_logs() as logs:
        _send_and_drain(gateway.port, first)
        _send_and_drain(gateway.port, HELLO + _start_api() + tail)
    _assert_serving(gateway, logs)


@FUZZ
@given(requests=st.lists(_mutated() | st.lists(field_text, max_size=40), min_size=1, max_size=4))
def test_malformed_requests_never_fail_a_connection(gateway: _Served,
                                                    requests: list[list[str]]) -> None:
    """Requests with wrong field counts or garbage values are answered or refused, never a bug."""
    data = HELLO + _start_api() + b"".join(_fields(r) for r in requests if r)
    with structlog.testing.capture_logs() as logs:
        _send_and_drain(gateway.port, data)
    _assert_serving(gateway, logs)
