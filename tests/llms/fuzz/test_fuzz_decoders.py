"""Fuzzing the stream decoders (SSE, NDJSON) with arbitrary bytes, arbitrary chunk splits and
mutated real transcripts: they always return events (never raise), every event is well typed,
and the events do not depend on where the bytes were split."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.llms.interfaces.llm_interfaces import WireEvent
from core.llms.providers.base.ndjson import NDJSONDecoder
from core.llms.providers.base.sse import SSEDecoder

from .support import chat_stream_transcripts, decode, fuzz_settings, mutated_bytes, ran, split

#: bytes biased towards the characters that matter to the two formats.
_framing = st.lists(
    st.sampled_from([b"\n", b"\r", b"\r\n", b"\n\n", b"data:", b"data: ", b"event:", b"id:", b"retry:", b":"])
    | st.binary(max_size=12)
    | st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xc3", b"\x00", b"9" * 40]),
    max_size=30,
).map(b"".join)


def _check(events: list[WireEvent]) -> None:
    for event in events:
        assert isinstance(event.data, str)
        assert event.event is None or isinstance(event.event, str)
        assert event.id is None or isinstance(event.id, str)
        assert event.retry is None or (type(event.retry) is int and event.retry >= 0)


def _both_ways(make: type[SSEDecoder] | type[NDJSONDecoder], raw: bytes, chunks: list[bytes]) -> None:
    whole = decode(make(), [raw])
    pieces = decode(make(), chunks)
    _check(pieces)
    assert pieces == whole


@fuzz_settings(300)
@given(data=st.data(), raw=st.binary(max_size=400) | _framing)
def test_sse_arbitrary_bytes(data: st.DataObject, raw: bytes) -> None:
    ran("sse: arbitrary bytes")
    _both_ways(SSEDecoder, raw, data.draw(split(raw)))


@fuzz_settings(200)
@given(data=st.data(), which=st.integers(0, 100))
def test_sse_mutated_transcripts(data: st.DataObject, which: int) -> None:
    ran("sse: mutated transcripts")
    corpus = chat_stream_transcripts()
    raw = data.draw(mutated_bytes(corpus[which % len(corpus)]))
    _both_ways(SSEDecoder, raw, data.draw(split(raw)))


def test_sse_oversized_retry_field_is_ignored() -> None:
    # int() refuses more than 4300 digits; the decoder must not turn that into a crash.
    events = SSEDecoder().feed(b"retry: " + b"1" * 5000 + b"\ndata: x\n\n")
    assert [(e.data, e.retry) for e in events] == [("x", None)]


@fuzz_settings(300)
@given(data=st.data(), raw=st.binary(max_size=400) | _framing)
def test_ndjson_arbitrary_bytes(data: st.DataObject, raw: bytes) -> None:
    ran("ndjson: arbitrary bytes")
    _both_ways(NDJSONDecoder, raw, data.draw(split(raw)))


@fuzz_settings(200)
@given(data=st.data(), which=st.integers(0, 100))
def test_ndjson_mutated_transcripts(data: st.DataObject, which: int) -> None:
    ran("ndjson: mutated transcripts")
    corpus = chat_stream_transcripts()
    # An SSE body is as good a source of NDJSON-ish lines as any: mostly JSON, some framing.
    raw = data.draw(mutated_bytes(corpus[which % len(corpus)].replace(b"data: ", b"")))
    _both_ways(NDJSONDecoder, raw, data.draw(split(raw)))
