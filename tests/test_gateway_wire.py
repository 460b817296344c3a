"""The TWS API framing, sans I/O."""

from __future__ import annotations

import struct
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydra.gateway._wire import (
    MAX_FRAME_BYTES,
    FrameDecoder,
    WireError,
    decode_payload,
    encode_field,
    encode_frame,
)

field_texts = st.text(alphabet=st.characters(blacklist_characters="\0", codec="utf-8"))


@given(st.lists(st.lists(field_texts, min_size=1), min_size=1), st.integers(1, 7))
def test_frames_round_trip_whatever_the_chunking(frames: list[list[str]], chunk: int) -> None:
    """Encoded frames decode to the same fields however the bytes are split on arrival."""
    data = b"".join(encode_frame(fields) for fields in frames)
    decoder = FrameDecoder()
    decoded = []
    for start in range(0, len(data), chunk):
        decoder.feed(data[start : start + chunk])
        while (frame := decoder.next_frame()) is not None:
            decoded.append(list(frame))
    decoder.end_of_input()
    assert decoded == frames


def test_magic_is_consumed_before_the_first_frame() -> None:
    """A client stream starts with API\\0, which is checked and dropped."""
    decoder = FrameDecoder(magic=b"API\0")
    decoder.feed(b"AP")
    assert decoder.next_payload() is None
    decoder.feed(b"I\0" + struct.pack(">I", 9) + b"v157..178")
    assert decoder.next_payload() == b"v157..178"


def test_wrong_magic_is_refused_at_once() -> None:
    """An HTTP request (or any other stream) is refused on its first byte that differs."""
    with pytest.raises(WireError, match="does not start with"):
        FrameDecoder(magic=b"API\0").feed(b"GET / HTTP/1.1\r\n")


def test_truncated_frame_is_an_error_at_end_of_input() -> None:
    """A connection that closes inside a frame is a protocol error, not a silent drop."""
    decoder = FrameDecoder()
    decoder.feed(encode_frame(["49", "1"])[:-2])
    assert decoder.next_frame() is None
    with pytest.raises(WireError, match="inside a frame"):
        decoder.end_of_input()


def test_clean_end_of_input_is_fine() -> None:
    """A connection that closes between frames (or before sending anything) is not an error."""
    FrameDecoder(magic=b"API\0").end_of_input()
    decoder = FrameDecoder()
    decoder.feed(encode_frame(["49", "1"]))
    assert decoder.next_frame() == ("49", "1")
    decoder.end_of_input()


def test_oversized_frame_is_refused_from_its_length_prefix() -> None:
    """A frame over the limit is refused before its payload is buffered."""
    decoder = FrameDecoder()
    decoder.feed(struct.pack(">I", MAX_FRAME_BYTES + 1))
    with pytest.raises(WireError, match="over the limit"):
        decoder.next_frame()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [(b"", "empty"), (b"49\x001", "NUL"), (b"\xff\xfe\x00", "UTF-8")],
)
def test_garbage_payloads_are_refused(payload: bytes, reason: str) -> None:
    """Empty frames, frames without the final NUL and non-UTF-8 bytes are protocol errors."""
    with pytest.raises(WireError, match=reason):
        decode_payload(payload)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "1"),
        (False, "0"),
        (-1, "-1"),
        (Decimal("350.250"), "350.25"),
        (Decimal(5000), "5000"),
        (Decimal("5E+3"), "5000"),
        (Decimal("0.025"), "0.025"),
        ("LMT", "LMT"),
    ],
)
def test_fields_are_encoded_as_ib_reads_them(value: object, text: str) -> None:
    """Unset is empty, booleans are 1/0, decimals never use exponent notation."""
    assert encode_field(value) == text  # type: ignore[arg-type]


def test_a_field_with_a_nul_cannot_be_encoded() -> None:
    """A NUL inside a field would split it in two on the other side."""
    with pytest.raises(WireError, match="NUL"):
        encode_field("a\0b")
