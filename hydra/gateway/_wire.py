"""The TWS API framing, sans I/O: bytes in, tuples of text fields out; fields in, bytes out.

A frame is a 4-byte big-endian length and a payload of fields, each text ended by a NUL byte.
A client's very first bytes are the magic ``API\\0`` before its first frame. Nothing here does
I/O or keeps time: the server feeds what it received and writes what it is given.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import struct
from collections.abc import Iterable
from decimal import Decimal

from .._errors import HydraError

MAX_FRAME_BYTES = 65_536
"""The largest client frame accepted. A placeOrder, the longest request, is under 2 KiB; IB's
own ceiling (16 MiB) would let one bad client make the gateway buffer that much."""

_LENGTH = struct.Struct(">I")

class Joined(str):
    """Several fields' text already joined by NULs (no NUL at either end), sent as it is."""

    __slots__ = ()


FieldValue = str | int | Decimal | float | bool | None
"""What `encode_field` turns into one field's text (a `Joined` into several)."""


class WireError(HydraError, ValueError):
    """A client broke the protocol (garbage, truncated or oversized frame, malformed message);
    ``reason`` says how. The connection that sent it is closed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def encode_field(value: FieldValue) -> str:
    """One field's text: None is empty (unset), booleans are ``1``/``0``, decimals are plain
    (never exponent notation), enums are their values."""
    if type(value) is str and "\0" not in value:  # the common case first
        return value
    if type(value) is Joined:
        return value
    if type(value) is Decimal:
        return decimal_text(value)
    if type(value) is int:
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, enum.Enum):
        return encode_field(value.value)
    text = str(value)
    if "\0" in text:
        raise WireError(f"field {text!r} contains a NUL byte")
    return text


@functools.lru_cache(maxsize=4096)  # prices repeat: a bar's four, a book's levels
def decimal_text(value: Decimal) -> str:
    """A decimal as the wire writes it: plain, never exponent notation."""
    return format(value.normalize(), "f")


def encode_frame(fields: Iterable[FieldValue]) -> bytes:
    """One framed message: length prefix, then each field's text and a NUL."""
    texts = list(map(encode_field, fields))  # one join, one encode: a year of bars is a
    payload = ("\0".join(texts) + "\0").encode() if texts else b""  # million fields
    return _LENGTH.pack(len(payload)) + payload


def decode_payload(payload: bytes) -> tuple[str, ...]:
    """The fields of one frame's payload; anything but NUL-ended UTF-8 text is a `WireError`."""
    if not payload:
        raise WireError("empty frame")
    if not payload.endswith(b"\0"):
        raise WireError("frame does not end with a NUL field separator")
    try:
        text = payload.decode()
    except UnicodeDecodeError as e:
        raise WireError(f"frame is not UTF-8 text: {e.reason} at byte {e.start}") from e
    return tuple(text[:-1].split("\0"))


class FrameDecoder:
    """Collects bytes and yields complete frames' fields.

    With ``magic``, the stream must start with those bytes (a client's ``API\\0``). A frame
    longer than ``max_frame`` is refused as soon as its length prefix arrives.
    """

    def __init__(self, *, magic: bytes = b"", max_frame: int = MAX_FRAME_BYTES) -> None:
        self._magic = magic
        self._max_frame = max_frame
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        """Add received bytes; a stream that does not start with the magic is a `WireError`."""
        self._buffer += data
        if self._magic:
            seen = bytes(self._buffer[: len(self._magic)])
            if not self._magic.startswith(seen):
                raise WireError(f"stream does not start with {self._magic!r}: got {seen!r}")
            if len(seen) == len(self._magic):
                del self._buffer[: len(self._magic)]
                self._magic = b""

    def next_frame(self) -> tuple[str, ...] | None:
        """The next complete frame's fields, or None until more bytes arrive."""
        payload = self.next_payload()
        return None if payload is None else decode_payload(payload)

    def next_payload(self) -> bytes | None:
        """The next complete frame's raw payload, or None until more bytes arrive."""
        if self._magic or len(self._buffer) < _LENGTH.size:
            return None
        (length,) = _LENGTH.unpack_from(self._buffer)
        if length > self._max_frame:
            raise WireError(f"frame of {length} bytes is over the limit of {self._max_frame}")
        end = _LENGTH.size + length
        if len(self._buffer) < end:
            return None
        payload = bytes(self._buffer[_LENGTH.size : end])
        del self._buffer[:end]
        return payload

    def end_of_input(self) -> None:
        """The peer closed its side: a partial frame left over is a `WireError`."""
        if self._buffer:
            raise WireError(f"connection closed inside a frame ({len(self._buffer)} bytes left)")


def ib_datetime(when: dt.datetime) -> str:
    """IB's date-time text with its zone, ``20250303 14:30:00 UTC`` (what ib_async parses)."""
    zone = when.tzname() or "UTC"
    return f"{when:%Y%m%d %H:%M:%S} {zone}"
