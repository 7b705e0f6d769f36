"""``EventStreamDecoder`` (``core/llms/providers/base/eventstream.py``): the AWS event-stream bytes
of every recording decode to exactly the frames botocore's own reader finds, however the bytes are
cut; exception and error frames, broken and cut frames."""

from __future__ import annotations

import random
import sys
from typing import Any

import pytest
from test_bedrock_converse_kit import (
    BEDROCK,
    botocore_events,
    event_frame,
    exception_frame,
    frame,
    random_splits,
    replay_events,
)

from core.llms.interfaces import ConfigurationError, ResponseParsingError, StreamInterruptedError
from core.llms.providers.base import eventstream
from core.llms.providers.base.eventstream import EventStreamDecoder

ALL_BIN = sorted(p.name for p in BEDROCK.glob("*.bin"))


def expected(raw: bytes) -> list[tuple[Any, ...]]:
    """botocore's view of each frame, in the decoder's terms."""
    out = []
    for headers, payload in botocore_events(raw):
        kind = headers.get(":message-type")
        name = headers.get(":exception-type" if kind == "exception" else ":event-type")
        out.append((name, payload.decode(), kind))
    return out


def decoded(events: list[Any]) -> list[tuple[Any, ...]]:
    return [(e.event, e.data, e.extra["message_type"]) for e in events]


def test_the_corpus_holds_every_bin_file() -> None:
    assert len(ALL_BIN) == 7  # 4 ConverseStream, 3 InvokeModelWithResponseStream


@pytest.mark.parametrize("name", ALL_BIN)
def test_recordings_decode_as_botocore_reads_them(name: str) -> None:
    raw = (BEDROCK / name).read_bytes()
    want = expected(raw)
    assert want and all(kind == "event" for *_, kind in want)
    assert decoded(replay_events(raw)) == want
    for seed in range(6):
        assert decoded(replay_events(raw, seed)) == want


@pytest.mark.parametrize("name", ["converse-stream-tool-use.bin", "invoke-stream-claude-text.bin"])
def test_one_byte_at_a_time(name: str) -> None:
    raw = (BEDROCK / name).read_bytes()
    decoder = EventStreamDecoder()
    events = [event for i in range(len(raw)) for event in decoder.feed(raw[i : i + 1])]
    assert decoder.close() == []
    assert decoded(events) == expected(raw)


def test_the_converse_events_carry_their_type_and_json() -> None:
    events = replay_events((BEDROCK / "converse-stream-text-nova.bin").read_bytes())
    assert [e.event for e in events[:2]] == ["messageStart", "contentBlockDelta"]
    assert events[-1].event == "metadata"
    assert '"delta":{"text":"The"}' in events[1].data
    assert events[0].extra == {"message_type": "event"}


def test_exception_frame() -> None:
    raw = exception_frame("throttlingException", {"message": "Too many requests"})
    (event,) = replay_events(raw)
    assert event.event == "throttlingException"
    assert event.data == '{"message": "Too many requests"}'
    assert event.extra == {"message_type": "exception"}


def test_error_frame() -> None:
    raw = frame({":message-type": "error", ":error-code": "InternalFailure", ":error-message": "boom"})
    (event,) = replay_events(raw)
    assert (event.event, event.data) == ("InternalFailure", "")
    assert event.extra == {"message_type": "error", "error_message": "boom"}


def test_a_message_type_it_does_not_know_is_passed_on() -> None:
    (event,) = replay_events(frame({":message-type": "future", ":event-type": "x"}, "{}"))
    assert (event.event, event.extra) == ("x", {"message_type": "future"})


def test_invalid_utf8_is_replaced() -> None:
    (event,) = replay_events(frame({":message-type": "event", ":event-type": "x"}, b'{"a": "\xff"}'))
    assert event.data == '{"a": "\ufffd"}'


def test_frames_after_an_exception_still_decode() -> None:
    raw = event_frame("messageStart", {"role": "assistant"}) + exception_frame("validationException", {})
    assert [e.extra["message_type"] for e in replay_events(raw, seed=3)] == ["event", "exception"]


# -- broken and cut input ------------------------------------------------------------------------------


def _corrupt(raw: bytes, at: int) -> bytes:
    return raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :]


def test_a_bad_prelude_crc_is_found_before_the_frame_arrives() -> None:
    raw = _corrupt(event_frame("messageStart", {"role": "assistant"}), 9)  # in the prelude CRC
    decoder = EventStreamDecoder()
    with pytest.raises(ResponseParsingError, match="ChecksumMismatch"):
        decoder.feed(raw[:12])  # the prelude alone


def test_a_corrupt_length_is_caught_by_the_prelude_crc() -> None:
    raw = _corrupt(event_frame("messageStart", {"role": "assistant"}), 2)  # total length
    with pytest.raises(ResponseParsingError, match="malformed event-stream frame"):
        EventStreamDecoder().feed(raw)


def test_a_bad_message_crc() -> None:
    raw = event_frame("messageStart", {"role": "assistant"})
    with pytest.raises(ResponseParsingError, match="ChecksumMismatch"):
        replay_events(_corrupt(raw, len(raw) - 10), seed=1)  # a payload byte


def test_a_frame_shorter_than_a_frame_can_be() -> None:
    with pytest.raises(ResponseParsingError, match="fewer than a frame has"):
        EventStreamDecoder().feed(b"\x00\x00\x00\x08" + b"\x00" * 12)


def test_a_payload_beyond_botocores_limit() -> None:
    import binascii
    import struct

    prelude = struct.pack("!II", 30 * 1024 * 1024, 0)
    prelude += struct.pack("!I", binascii.crc32(prelude) & 0xFFFFFFFF)
    with pytest.raises(ResponseParsingError, match="InvalidPayloadLength"):
        EventStreamDecoder().feed(prelude)


@pytest.mark.parametrize("cut", [1, 11, 12, 13, -1])
def test_input_ending_inside_a_frame_was_cut(cut: int) -> None:
    raw = event_frame("messageStart", {"role": "assistant"})
    decoder = EventStreamDecoder()
    whole = event_frame("messageStop", {"stopReason": "end_turn"})
    assert len(decoder.feed(whole + raw[:cut])) == 1
    with pytest.raises(StreamInterruptedError, match="in the middle of a frame"):
        decoder.close()
    assert decoder.close() == []  # the rest was dropped


def test_close_after_whole_frames_is_quiet() -> None:
    decoder = EventStreamDecoder()
    decoder.feed(event_frame("messageStart", {"role": "assistant"}))
    assert decoder.close() == []
    assert decoder.close() == []


def test_botocore_only_ever_holds_one_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each frame is handed over whole (or its prelude, then the rest), never the whole chunk:
    a chunk of many frames costs linear time."""
    from botocore.eventstream import EventStreamBuffer

    sizes: list[int] = []
    original = EventStreamBuffer.add_data

    def add_data(self: Any, data: bytes) -> None:
        sizes.append(len(data))
        original(self, data)

    raw = (BEDROCK / "invoke-stream-claude-thinking.bin").read_bytes()
    frames = expected(raw)
    monkeypatch.setattr(EventStreamBuffer, "add_data", add_data)
    largest = max(len(data) for _, data, _ in frames) + 200
    decoder = EventStreamDecoder()
    events = []
    for piece in random_splits(raw, random.Random(5), max_piece=20_000):
        events += decoder.feed(piece)
    assert len(events) == len(frames)
    assert max(sizes) < largest < len(raw) // 10


def test_without_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "botocore.eventstream", None)
    with pytest.raises(ConfigurationError) as info:
        EventStreamDecoder()
    assert "core-llms[bedrock]" in (info.value.hint or "")


def test_importing_the_module_does_not_import_botocore() -> None:
    source = eventstream.__file__
    assert source is not None
    with open(source, encoding="utf-8") as f:
        top = [line for line in f if line.startswith(("import ", "from "))]
    assert not any("botocore" in line or "boto3" in line for line in top)
