"""The simulator's own ``application/vnd.amazon.eventstream`` encoder, checked with botocore's
decoder (which validates the prelude and message CRC32s) and against the recorded streams."""

from __future__ import annotations

import json
import struct
import zlib

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from test_simulator_bedrock_support import WIRE, decode_frames

from core.llms.simulator.eventstream_encoder import (
    broken_event_message,
    encode_message,
    event_message,
    exception_message,
    padding,
)


def test_a_frame_decodes_with_botocore_and_its_crcs_hold() -> None:
    frame = encode_message(
        [(":event-type", "messageStart"), (":message-type", "event")], b'{"role":"assistant"}'
    )
    total, headers_len, prelude_crc = struct.unpack(">III", frame[:12])
    assert total == len(frame)
    assert prelude_crc == zlib.crc32(frame[:8])
    assert struct.unpack(">I", frame[-4:])[0] == zlib.crc32(frame[:-4])
    (message,), left = decode_frames(frame)
    assert left == 0
    assert message.prelude.headers_length == headers_len
    assert message.headers == {":event-type": "messageStart", ":message-type": "event"}
    assert message.payload == b'{"role":"assistant"}'


@pytest.mark.parametrize("where", [5, 14, -10, -2])
def test_a_corrupted_byte_fails_the_crc(where: int) -> None:
    frame = bytearray(event_message("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "hi"}}))
    frame[where] ^= 0x40
    buffer = EventStreamBuffer()
    buffer.add_data(bytes(frame))
    with pytest.raises(ChecksumMismatch):
        list(buffer)


def test_event_headers_payload_and_padding() -> None:
    (message,), _ = decode_frames(event_message("contentBlockStop", {"contentBlockIndex": 1}))
    assert list(message.headers.items()) == [
        (":event-type", "contentBlockStop"),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ]
    payload = json.loads(message.payload)
    assert list(payload) == ["contentBlockIndex", "p"]  # keys sorted, as Bedrock sends them
    assert payload["contentBlockIndex"] == 1
    assert payload["p"] == padding(b'contentBlockStop{"contentBlockIndex":1}')
    assert payload["p"].isalnum() and 1 <= len(payload["p"]) <= 62
    (bare,), _ = decode_frames(event_message("messageStart", {"role": "assistant"}, pad=False))
    assert json.loads(bare.payload) == {"role": "assistant"}


def test_exception_frame() -> None:
    (message,), _ = decode_frames(exception_message("throttlingException", {"message": "slow down"}))
    assert message.headers == {
        ":exception-type": "throttlingException",
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    assert json.loads(message.payload) == {"message": "slow down"}


def test_broken_frame_has_good_crcs_and_bad_json() -> None:
    (message,), _ = decode_frames(broken_event_message("contentBlockDelta", '{"delta":{"text":"cut'))
    with pytest.raises(ValueError):
        json.loads(message.payload)


def test_unicode_and_large_payloads() -> None:
    text = "é✓" * 40_000
    (message,), _ = decode_frames(event_message("contentBlockDelta", {"delta": {"text": text}}))
    assert json.loads(message.payload)["delta"]["text"] == text


def test_header_limits() -> None:
    with pytest.raises(ValueError):
        encode_message([("x" * 256, "v")], b"")
    with pytest.raises(ValueError):
        encode_message([("", "v")], b"")


@pytest.mark.parametrize("name", sorted(p.name for p in WIRE.glob("*.bin")))
def test_the_recorded_streams_reencode_byte_for_byte(name: str) -> None:
    raw = (WIRE / name).read_bytes()
    frames, left = decode_frames(raw)
    assert left == 0 and frames
    assert b"".join(encode_message(list(f.headers.items()), f.payload) for f in frames) == raw
