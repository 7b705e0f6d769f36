"""core-llms-ollama answer parsing and adapter rules, without a server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.llms.interfaces.endpoint import EndpointConfig, Secret
from core.llms.interfaces.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    ResponseParsingError,
    ServiceUnavailableError,
    StreamInterruptedError,
    UnsupportedOperationError,
)
from core.llms.interfaces.llm_interfaces import WireEvent
from core.llms.interfaces.types import LLMStreamChunk, StreamAccumulator, Usage
from core.llms.providers.base.ndjson import NDJSONDecoder

from .ollama_support import delta_line, done_line, ollama_plugin  # noqa: F401

from core_llms_ollama.adapter import OllamaAdapter  # isort: skip
from core_llms_ollama.parsing import OllamaStreamParser, finish_reason, parse_message  # isort: skip

ENDPOINT = "http://127.0.0.1:11434"


def no_cost(usage: Usage | None) -> float | None:
    return None


def parser() -> OllamaStreamParser:
    return OllamaStreamParser(ENDPOINT, "llama3.2", no_cost)


def run(lines: list[dict[str, Any]], pieces: list[int] | None = None) -> list[LLMStreamChunk]:
    """Feed ``lines`` as NDJSON bytes cut at the given piece sizes through decoder and parser."""
    data = b"".join(json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in lines)
    decoder, p = NDJSONDecoder(), parser()
    chunks: list[LLMStreamChunk] = []
    start = 0
    for size in pieces or [len(data)]:
        for event in decoder.feed(data[start : start + size]):
            chunks.extend(p.feed(event))
        start += size
    for event in decoder.feed(data[start:]):
        chunks.extend(p.feed(event))
    for event in decoder.close():
        chunks.extend(p.feed(event))
    chunks.extend(p.close())
    return chunks


STREAM = [
    delta_line("Hé"),
    delta_line("llo, "),
    delta_line(""),
    delta_line("wörld ✓"),
    done_line("stop", 26, 4),
]


def test_stream_text_usage_and_first_chunk_fields() -> None:
    chunks = run(STREAM)
    assert "".join(c.text for c in chunks) == "Héllo, wörld ✓"
    assert len(chunks) == 4  # the empty delta makes no chunk
    assert chunks[0].endpoint == ENDPOINT and chunks[0].model == "llama3.2"
    assert chunks[1].endpoint is None
    last = chunks[-1]
    assert last.finish_reason == "stop" and last.usage == Usage(26, 4)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=9), max_size=40))
def test_stream_split_anywhere(pieces: list[int]) -> None:
    acc = StreamAccumulator()
    for chunk in run(STREAM, pieces):
        acc.add(chunk)
    assert acc.text == "Héllo, wörld ✓" and acc.finish_reason == "stop" and acc.usage == Usage(26, 4)


def test_stream_tool_calls_arrive_whole() -> None:
    lines = [
        delta_line("", tool_calls=[{"function": {"name": "a", "arguments": {"x": 1}}}]),
        delta_line("", tool_calls=[{"id": "call_given", "function": {"name": "b", "arguments": {}}}]),
        done_line("stop"),
    ]
    acc = StreamAccumulator()
    for chunk in run(lines):
        acc.add(chunk)
    first, second = acc.tool_calls
    assert (first.name, json.loads(first.arguments)) == ("a", {"x": 1})
    assert first.id.startswith("call_") and len(first.id) > 10
    assert (second.id, second.name, second.arguments) == ("call_given", "b", "{}")
    assert acc.finish_reason == "tool_calls"


def test_stream_thinking_is_reasoning() -> None:
    chunks = run([delta_line("", thinking="hmm"), delta_line("42"), done_line()])
    assert chunks[0].reasoning == "hmm" and chunks[1].text == "42"


def test_length_finish_reason() -> None:
    assert run([delta_line("cut"), done_line("length")])[-1].finish_reason == "length"


def test_stream_without_done_line_is_interrupted() -> None:
    p = parser()
    assert p.feed(WireEvent(json.dumps(delta_line("partial"))))[0].text == "partial"
    with pytest.raises(StreamInterruptedError, match="without its final 'done' line"):
        p.close()


def test_in_stream_error_line() -> None:
    p = parser()
    with pytest.raises(ServiceUnavailableError, match="runner crashed"):
        p.feed(WireEvent('{"error": "runner crashed"}'))


@pytest.mark.parametrize("line", ["not json", "[1, 2]", '"text"'])
def test_unreadable_lines(line: str) -> None:
    with pytest.raises(ResponseParsingError):
        parser().feed(WireEvent(line))


def test_data_after_done_line() -> None:
    p = parser()
    p.feed(WireEvent(json.dumps(done_line())))
    with pytest.raises(ResponseParsingError, match="after its final"):
        p.feed(WireEvent(json.dumps(delta_line("more"))))


def test_tool_call_without_name() -> None:
    with pytest.raises(ResponseParsingError, match="no function name"):
        parser().feed(WireEvent(json.dumps(delta_line("", tool_calls=[{"function": {"arguments": {}}}]))))


def test_parse_whole_message() -> None:
    data = {
        "message": {"role": "assistant", "content": "hi", "thinking": "t", "tool_calls": []},
        "done": True,
    }
    assert parse_message(data, ENDPOINT) == ("hi", [], "t")
    with pytest.raises(ResponseParsingError, match="no 'message'"):
        parse_message({"done": True}, ENDPOINT)
    with pytest.raises(ResponseParsingError, match="expected a JSON object"):
        parse_message([1], ENDPOINT)
    with pytest.raises(ServiceUnavailableError, match="boom"):
        parse_message({"error": "boom"}, ENDPOINT)


@pytest.mark.parametrize(
    ("reason", "tools", "expected"),
    [
        ("stop", False, "stop"),
        ("stop", True, "tool_calls"),
        (None, False, "stop"),
        ("length", True, "length"),
        ("load", False, "stop"),
        ("something-new", False, None),
    ],
)
def test_finish_reason(reason: Any, tools: bool, expected: Any) -> None:
    assert finish_reason(reason, tools) == expected


# -- adapter -------------------------------------------------------------------------------------


def endpoint(url: str = ENDPOINT, **kw: Any) -> EndpointConfig:
    return EndpointConfig(endpoint=url, **kw)


def test_url() -> None:
    adapter = OllamaAdapter()
    assert adapter.url(endpoint(), "chat", "llama3.2") == f"{ENDPOINT}/api/chat"
    assert adapter.url(endpoint(ENDPOINT + "/api/"), "chat", "llama3.2") == f"{ENDPOINT}/api/chat"
    # a query string on the endpoint (a proxy's routing key) stays last
    assert adapter.url(endpoint(ENDPOINT + "/api?team=a"), "chat", "x") == f"{ENDPOINT}/api/chat?team=a"
    with pytest.raises(UnsupportedOperationError, match="'images'"):
        adapter.url(endpoint(), "images", "llama3.2")


async def test_auth_headers() -> None:
    adapter = OllamaAdapter()
    assert await adapter.auth_headers(endpoint()) == {}
    assert await adapter.auth_headers(endpoint(api_key=Secret("k1"))) == {"Authorization": "Bearer k1"}

    async def token() -> str:
        return "t1"

    assert await adapter.auth_headers(endpoint(token_provider=token)) == {"Authorization": "Bearer t1"}


def test_decoder_is_ndjson() -> None:
    assert isinstance(OllamaAdapter().decoder("chat"), NDJSONDecoder)


def test_unknown_model_404_hints_ollama_pull() -> None:
    body = b'{"error":"model \\"llama3.3\\" not found, try pulling it first"}'
    error = OllamaAdapter().map_error(404, {}, body, ENDPOINT)
    assert isinstance(error, NotFoundError) and error.status == 404
    assert error.hint == "the model is not on this server: run 'ollama pull llama3.3' there"
    assert "not found" in error.message and error.body == {
        "error": 'model "llama3.3" not found, try pulling it first'
    }


def test_404_without_model_is_a_wrong_url() -> None:
    error = OllamaAdapter().map_error(404, {}, b"404 page not found", ENDPOINT)
    assert isinstance(error, NotFoundError) and "base URL" in (error.hint or "")


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (429, RateLimitError),
        (500, ServiceUnavailableError),
    ],
)
def test_status_mapping(status: int, cls: type[Exception]) -> None:
    error = OllamaAdapter().map_error(status, {"retry-after": "2"}, b'{"error": "nope"}', ENDPOINT)
    assert type(error) is cls and error.message == "nope"
    if status in (429, 500):
        assert error.retry_after == 2.0  # type: ignore[attr-defined]


def test_empty_error_body() -> None:
    assert OllamaAdapter().map_error(502, {}, b"", ENDPOINT).message == "HTTP 502 with an empty body"
