"""NDJSONDecoder: one event per non-blank line, for any split of the input."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from core.llms.providers.base.ndjson import NDJSONDecoder


def decode(pieces: list[bytes]) -> list[str]:
    decoder = NDJSONDecoder()
    out = []
    for piece in pieces:
        out.extend(e.data for e in decoder.feed(piece))
    out.extend(e.data for e in decoder.close())
    return out


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(data[last:p])
        last = p
    pieces.append(data[last:])
    return pieces


_objects = st.lists(
    st.dictionaries(
        st.text(max_size=5),
        st.one_of(st.text(max_size=10), st.integers(), st.booleans(), st.none()),
        max_size=4,
    ),
    max_size=15,
)


@settings(max_examples=200, deadline=None)
@given(
    objs=_objects,
    ending=st.sampled_from(["\n", "\r\n"]),
    blank_every=st.integers(min_value=0, max_value=3),
    cuts=st.lists(st.integers(min_value=0, max_value=5_000), max_size=25),
)
def test_any_split_gives_one_event_per_line(
    objs: list[dict[str, object]], ending: str, blank_every: int, cuts: list[int]
) -> None:
    lines = []
    for i, obj in enumerate(objs):
        lines.append(json.dumps(obj, ensure_ascii=False))
        if blank_every and i % blank_every == 0:
            lines.append("  ")  # blank lines are skipped
    raw = "".join(line + ending for line in lines).encode()
    events = decode(split_at(raw, cuts))
    assert [json.loads(e) for e in events] == objs


def test_utf8_split_inside_a_character() -> None:
    raw = '{"t":"héllo 🙂"}\n'.encode()
    for i in range(len(raw) + 1):
        assert decode([raw[:i], raw[i:]]) == ['{"t":"héllo 🙂"}']


def test_final_line_without_newline_is_returned_by_close() -> None:
    decoder = NDJSONDecoder()
    assert [e.data for e in decoder.feed(b'{"a":1}\n{"b":')] == ['{"a":1}']
    assert decoder.feed(b"2}") == []
    assert [e.data for e in decoder.close()] == ['{"b":2}']
    assert decoder.close() == []


def test_bom_crlf_and_blank_lines() -> None:
    assert decode([b"\xef\xbb", b'\xbf{"a":1}\r\n\r\n\n{"b":2}\r\n']) == ['{"a":1}', '{"b":2}']


def test_events_carry_no_sse_fields() -> None:
    (event,) = NDJSONDecoder().feed(b'{"done":true}\n')
    assert (event.event, event.id, event.retry) == (None, None, None)
