"""SSEDecoder: WHATWG event-stream rules, identical results for any split of the input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wire_corpus import WIRE

from core.llms.interfaces.llm_interfaces import WireEvent
from core.llms.providers.base.sse import SSEDecoder

PARALLEL_TOOLS = WIRE / "openai" / "chat-stream-parallel-tool-calls.sse"
ALL_SSE = sorted(WIRE.glob("*/*.sse"))

Event = tuple[str | None, str, str | None, int | None]


def as_tuples(events: list[WireEvent]) -> list[Event]:
    return [(e.event, e.data, e.id, e.retry) for e in events]


def decode(pieces: list[bytes]) -> list[Event]:
    decoder = SSEDecoder()
    out: list[WireEvent] = []
    for piece in pieces:
        out.extend(decoder.feed(piece))
    out.extend(decoder.close())
    return as_tuples(out)


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(data[last:p])
        last = p
    pieces.append(data[last:])
    return pieces


def reference(data: bytes) -> list[Event]:
    """A deliberately naive line-by-line reading of the WHATWG rules (whole input at once),
    dispatching an unterminated final event like SSEDecoder.close() does."""
    text = data.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    events: list[Event] = []
    data_lines: list[str] = []
    event: str | None = None
    last_id: str | None = None
    retry: int | None = None

    def dispatch() -> None:
        nonlocal data_lines, event, retry
        if data_lines:
            events.append((event, "\n".join(data_lines), last_id, retry))
        data_lines, event, retry = [], None, None

    for line in re.split(r"\r\n|\r|\n", text):
        if line == "":
            dispatch()
        elif line.startswith(":"):
            continue
        else:
            name, colon, value = line.partition(":")
            if colon and value.startswith(" "):
                value = value[1:]
            if name == "data":
                data_lines.append(value)
            elif name == "event":
                event = value or None
            elif name == "id" and "\0" not in value:
                last_id = value
            elif name == "retry" and re.fullmatch(r"[0-9]+", value):
                retry = int(value)
    dispatch()
    return events


# -- real transcripts --------------------------------------------------------------------------


def test_parallel_tool_calls_transcript_decodes_every_event() -> None:
    raw = PARALLEL_TOOLS.read_bytes()
    events = decode([raw])
    assert len(events) == raw.count(b"\ndata: ") + 1 == 26
    assert events[-1] == (None, "[DONE]", None, None)
    chunks = [json.loads(data) for _, data, _, _ in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[1]["choices"][0]["delta"]["tool_calls"][0]["id"] == "call_JMW1whyEaYG438VE1OIflxA2"


@pytest.mark.parametrize("path", ALL_SSE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_recorded_transcript_matches_the_reference(path: Path) -> None:
    raw = path.read_bytes()
    events = decode([raw])
    assert events == reference(raw)
    assert events, "a recorded stream has events"
    # byte-at-a-time gives the same events (the worst possible split)
    assert decode([raw[i : i + 1] for i in range(len(raw))]) == events


def test_anthropic_event_names_are_kept() -> None:
    raw = (WIRE / "anthropic" / "messages-stream-tool-use-input-json-delta.sse").read_bytes()
    names = [e for e, _, _, _ in decode([raw])]
    assert names[0] == "message_start"
    assert names[-1] == "message_stop"
    assert "content_block_delta" in names


def test_gemini_crlf_transcript() -> None:
    raw = (WIRE / "gemini" / "gemini-stream-text.sse").read_bytes()
    assert b"\r\n\r\n" in raw
    events = decode([raw])
    assert len(events) == 3
    assert all("candidates" in json.loads(d) for _, d, _, _ in events)


@settings(max_examples=150, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40))
def test_transcript_arbitrary_splits_give_identical_events(cuts: list[int]) -> None:
    raw = PARALLEL_TOOLS.read_bytes()
    assert decode(split_at(raw, cuts)) == decode([raw])


@settings(max_examples=100, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40))
def test_transcript_with_crlf_and_cr_line_endings_splits(cuts: list[int]) -> None:
    raw = PARALLEL_TOOLS.read_bytes()
    expected = decode([raw])
    for variant in (raw.replace(b"\n", b"\r\n"), raw.replace(b"\n", b"\r")):
        assert decode(split_at(variant, cuts)) == expected


# -- synthetic streams -------------------------------------------------------------------------

_value = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12
)
_line = st.one_of(
    _value.map(lambda v: f"data: {v}"),
    _value.map(lambda v: f"data:{v}"),
    st.just("data"),
    st.sampled_from(["event: message_start", "event: ping", "event:", "event:delta"]),
    _value.map(lambda v: f"id: {v}"),
    st.sampled_from(["retry: 3000", "retry: 12x", "retry:0"]),
    _value.map(lambda v: f": {v}"),
    st.just(":"),
    _value.map(lambda v: f"unknown: {v}"),
    st.just(""),
)
_stream = st.lists(st.tuples(_line, st.sampled_from(["\n", "\r\n", "\r"])), max_size=25).map(
    lambda lines: "".join(line + end for line, end in lines).encode("utf-8")
)


@settings(max_examples=300, deadline=None)
@given(raw=_stream, cuts=st.lists(st.integers(min_value=0, max_value=2_000), max_size=20), bom=st.booleans())
def test_synthetic_streams_match_reference_for_any_split(raw: bytes, cuts: list[int], bom: bool) -> None:
    if bom:
        raw = b"\xef\xbb\xbf" + raw
    assert decode(split_at(raw, cuts)) == reference(raw)


# -- individual rules --------------------------------------------------------------------------


def test_utf8_character_split_across_chunks() -> None:
    raw = "data: héllo 🙂 世界\n\n".encode()
    expected = [(None, "héllo 🙂 世界", None, None)]
    for i in range(len(raw) + 1):
        assert decode([raw[:i], raw[i:]]) == expected, i


def test_crlf_split_between_cr_and_lf_is_one_line_ending() -> None:
    assert decode([b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n"]) == [
        (None, "a", None, None),
        (None, "b", None, None),
    ]


def test_lone_cr_line_endings() -> None:
    assert decode([b"event: e\rdata: x\r\r"]) == [("e", "x", None, None)]


def test_comments_and_keepalives_are_ignored() -> None:
    raw = b": keep-alive\n\n: ping\ndata: x\n: in the middle\ndata: y\n\n:\n\n"
    assert decode([raw]) == [(None, "x\ny", None, None)]


def test_multi_line_data_joined_with_newline() -> None:
    assert decode([b"data: a\ndata:\ndata: c\n\n"]) == [(None, "a\n\nc", None, None)]


def test_event_id_retry_fields() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"event: delta\nid: 7\nretry: 1500\ndata: {}\n\ndata: next\n\n")
    assert [(e.event, e.data, e.id, e.retry) for e in events] == [
        ("delta", "{}", "7", 1500),
        (None, "next", "7", None),  # the last event id persists; retry does not
    ]


def test_invalid_retry_and_nul_id_are_ignored() -> None:
    assert decode([b"id: 1\ndata: a\n\nid: x\x00y\nretry: 5s\ndata: b\n\n"]) == [
        (None, "a", "1", None),
        (None, "b", "1", None),
    ]


def test_leading_bom_is_dropped_even_when_split() -> None:
    raw = b"\xef\xbb\xbfdata: x\n\n"
    for i in range(4):
        assert decode([raw[:i], raw[i:]]) == [(None, "x", None, None)]
    # only at the very start: a later BOM belongs to the field name, which is then unknown
    assert decode([b"data: a\n\n\xef\xbb\xbfdata: b\n\n"]) == [(None, "a", None, None)]


def test_field_without_colon_and_only_one_space_stripped() -> None:
    assert decode([b"data\n\n"]) == [(None, "", None, None)]
    assert decode([b"data:  two spaces\n\n"]) == [(None, " two spaces", None, None)]
    assert decode([b"data:no-space\n\n"]) == [(None, "no-space", None, None)]


def test_event_without_data_is_not_dispatched() -> None:
    assert decode([b"event: ping\n\nid: 3\n\nretry: 10\n\n"]) == []


def test_close_dispatches_unterminated_final_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: tail") == [WireEvent(data="a")]
    assert [e.data for e in decoder.close()] == ["tail"]
    assert decoder.close() == []


def test_close_with_single_trailing_newline() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: [DONE]\n") == []
    assert [e.data for e in decoder.close()] == ["[DONE]"]


def test_empty_chunks_and_blank_lines_produce_nothing() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"") == []
    assert decoder.feed(b"\n\n\n\n") == []
    assert decoder.close() == []


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert decode([b"data: a\xffb\n\n"]) == [(None, "a\ufffdb", None, None)]


def test_many_events_in_one_chunk_and_one_event_over_many_chunks() -> None:
    many = b"".join(b"data: %d\n\n" % i for i in range(500))
    assert [d for _, d, _, _ in decode([many])] == [str(i) for i in range(500)]
    big = b"data: " + b"x" * 200_000 + b"\n\n"
    assert decode([big[i : i + 997] for i in range(0, len(big), 997)]) == [(None, "x" * 200_000, None, None)]
