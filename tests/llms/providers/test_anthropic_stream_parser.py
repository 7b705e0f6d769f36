"""AnthropicStreamParser on hand-made event sequences: every event and delta type, the final
chunk's raw message, in-stream errors (overloaded → retryable), streams cut short, a tool call cut
by max_tokens, structured output streamed as text, and malformed events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai_testkit import ScriptedConnector, accumulate, decode_events, run_parser

from core.llms.interfaces import (
    BadRequestError,
    LLMStreamChunk,
    ResponseParsingError,
    ServiceUnavailableError,
    StreamInterruptedError,
    ToolCallDelta,
    Usage,
    WireEvent,
)
from core.llms.providers.dialects.anthropic_messages import AnthropicStreamParser, assistant_blocks

START = {
    "type": "message_start",
    "message": {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 20,
            "cache_read_input_tokens": 100,
            "cache_creation_input_tokens": 0,
            "output_tokens": 1,
        },
    },
}


def sse(*events: dict[str, Any]) -> bytes:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


def start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def delta(index: int, **d: Any) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": d}


def stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def end(reason: str = "end_turn", output: int = 9, **usage: Any) -> list[dict[str, Any]]:
    return [
        {
            "type": "message_delta",
            "delta": {"stop_reason": reason, "stop_sequence": None},
            "usage": {"output_tokens": output, **usage},
        },
        {"type": "message_stop"},
    ]


def chunks_of(raw: bytes, **kw: Any) -> list[LLMStreamChunk]:
    return run_parser(AnthropicStreamParser("ep", request_id="req_9", **kw), decode_events(raw))


def test_thinking_text_and_tool_use() -> None:
    raw = sse(
        START,
        {"type": "ping"},
        start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        delta(0, type="thinking_delta", thinking="Hmm, "),
        delta(0, type="thinking_delta", thinking="weather."),
        delta(0, type="signature_delta", signature="EqQB"),
        delta(0, type="signature_delta", signature="Cgg="),
        stop(0),
        start(1, {"type": "text", "text": ""}),
        delta(1, type="text_delta", text="Let me check."),
        stop(1),
        start(2, {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}),
        delta(2, type="input_json_delta", partial_json=""),
        delta(2, type="input_json_delta", partial_json='{"city": '),
        delta(2, type="input_json_delta", partial_json='"Paris"}'),
        stop(2),
        start(3, {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}}),
        stop(3),
        *end("tool_use", 40),
    )
    chunks = chunks_of(raw)
    assert chunks[0].reasoning == "Hmm, " and chunks[0].endpoint == "ep" and chunks[0].request_id == "req_9"
    assert chunks[0].model == "claude-sonnet-4-5-20250929"
    assert chunks[3].tool_calls == [ToolCallDelta(0, "toolu_1", "get_weather", "")]
    assert chunks[4].tool_calls == [ToolCallDelta(0, None, None, '{"city": ')]
    r = accumulate(chunks).to_response(model="m", provider="anthropic")
    assert (r.text, r.reasoning, r.finish_reason) == ("Let me check.", "Hmm, weather.", "tool_calls")
    assert [(c.id, c.name, c.arguments) for c in r.tool_calls] == [
        ("toolu_1", "get_weather", '{"city": "Paris"}'),
        ("toolu_2", "get_time", "{}"),
    ]
    assert r.usage == Usage(input_tokens=120, output_tokens=40, cached_input_tokens=100)
    final = chunks[-1]
    assert final.raw["content"] == [
        {"type": "thinking", "thinking": "Hmm, weather.", "signature": "EqQBCgg="},
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}},
    ]
    assert final.raw["stop_reason"] == "tool_use" and final.raw["id"] == "msg_1"
    assert assistant_blocks(final) == final.raw["content"]


def test_citations_server_tools_and_redacted_thinking_are_kept() -> None:
    citation = {"type": "web_search_result_location", "url": "https://x", "title": "X", "cited_text": "c"}
    result = {
        "type": "web_search_tool_result",
        "tool_use_id": "srvtoolu_1",
        "content": [{"type": "web_search_result", "url": "https://x"}],
    }
    raw = sse(
        START,
        start(0, {"type": "redacted_thinking", "data": "EmwKAhgB"}),
        stop(0),
        start(1, {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}),
        delta(1, type="input_json_delta", partial_json='{"query": "x"}'),
        stop(1),
        start(2, result),
        stop(2),
        start(3, {"type": "text", "text": ""}),
        delta(3, type="citations_delta", citation=citation),
        delta(3, type="text_delta", text="It is sunny."),
        stop(3),
        *end(),
    )
    chunks = chunks_of(raw)
    r = accumulate(chunks).to_response(model="m", provider="anthropic")
    assert (r.text, r.tool_calls, r.finish_reason) == ("It is sunny.", [], "stop")
    content = chunks[-1].raw["content"]
    assert content[0] == {"type": "redacted_thinking", "data": "EmwKAhgB"}
    assert content[1]["input"] == {"query": "x"}
    assert content[2] == result
    assert content[3] == {"type": "text", "text": "It is sunny.", "citations": [citation]}


def test_usage_updated_by_message_delta_and_costed() -> None:
    costs: list[tuple[Usage | None, int]] = []

    def cost(usage: Usage | None, one_hour: int) -> float:
        costs.append((usage, one_hour))
        return 0.5

    raw = sse(
        START,
        start(0, {"type": "text", "text": "hi"}),
        stop(0),
        *end(
            output=7,
            input_tokens=25,
            cache_creation_input_tokens=300,
            cache_creation={"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 300},
        ),
    )
    chunks = chunks_of(raw, cost=cost)
    assert chunks[0].text == "hi"  # a text block may start with text
    assert chunks[-1].usage == Usage(
        input_tokens=425, output_tokens=7, cached_input_tokens=100, cache_write_input_tokens=300
    )
    assert chunks[-1].cost == 0.5 and costs == [(chunks[-1].usage, 300)]


def test_refusal_stop() -> None:
    raw = sse(
        START,
        start(0, {"type": "text", "text": ""}),
        delta(0, type="text_delta", text="I won't"),
        stop(0),
        *end("refusal"),
    )
    r = accumulate(chunks_of(raw)).to_response(model="m", provider="anthropic")
    assert (r.finish_reason, r.refusal, r.text) == ("refusal", "I won't", "I won't")


def test_max_tokens_inside_a_tool_call_is_not_a_call() -> None:
    raw = sse(
        START,
        start(0, {"type": "tool_use", "id": "toolu_1", "name": "write", "input": {}}),
        delta(0, type="input_json_delta", partial_json='{"text": "a long'),
        stop(0),
        *end("max_tokens", 50),
    )
    chunks = chunks_of(raw)
    assert chunks[-1].finish_reason == "length"
    assert chunks[-1].raw["content"] == [] and assistant_blocks(chunks[-1]) == []


def test_structured_output_streams_as_text() -> None:
    raw = sse(
        START,
        start(0, {"type": "tool_use", "id": "toolu_1", "name": "Weather", "input": {}}),
        delta(0, type="input_json_delta", partial_json='{"city": "Oslo",'),
        delta(0, type="input_json_delta", partial_json=' "celsius": -3}'),
        stop(0),
        *end("tool_use"),
    )
    r = accumulate(chunks_of(raw, format_tool="Weather")).to_response(model="m", provider="anthropic")
    assert (r.text, r.tool_calls, r.finish_reason) == ('{"city": "Oslo", "celsius": -3}', [], "stop")


def test_overloaded_error_event_is_retryable() -> None:
    raw = sse(START, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    with pytest.raises(ServiceUnavailableError) as info:
        chunks_of(raw)
    err = info.value
    assert (err.status, err.code, err.retryable, err.failover, err.request_id) == (
        529,
        "overloaded_error",
        True,
        True,
        "req_9",
    )
    assert err.usage == Usage(input_tokens=120, output_tokens=1, cached_input_tokens=100)
    bad = sse(START, {"type": "error", "error": {"type": "invalid_request_error", "message": "no"}})
    with pytest.raises(BadRequestError):
        chunks_of(bad)


def test_stream_without_message_stop_is_interrupted() -> None:
    raw = sse(
        START, start(0, {"type": "text", "text": ""}), delta(0, type="text_delta", text="Hel"), *end()[:1]
    )
    with pytest.raises(StreamInterruptedError) as info:
        chunks_of(raw)
    assert info.value.finish_reason == "stop" and info.value.usage is not None


@pytest.mark.parametrize(
    "data",
    [
        "not json",
        "[1]",
        json.dumps({"type": "message_start", "message": "x"}),
        json.dumps(delta(5, type="text_delta", text="x")),
        json.dumps({"type": "content_block_start", "index": "0", "content_block": {"type": "text"}}),
        json.dumps({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": 5}}),
    ],
)
def test_malformed_events(data: str) -> None:
    parser = AnthropicStreamParser("ep")
    parser.feed(WireEvent(json.dumps(START)))
    with pytest.raises(ResponseParsingError):
        parser.feed(WireEvent(data))


def test_unknown_events_and_deltas_are_ignored() -> None:
    raw = sse(
        START,
        {"type": "future_event", "x": 1},
        start(0, {"type": "text", "text": ""}),
        delta(0, type="future_delta", value=1),
        delta(0, type="text_delta", text="ok"),
        stop(0),
        *end(),
    )
    assert accumulate(chunks_of(raw)).text == "ok"


async def test_model_stream_through_a_connector() -> None:
    from model_classes import model_class

    Sonnet45 = model_class("anthropic/claude-sonnet-4-5")
    raw = sse(
        START,
        start(0, {"type": "text", "text": ""}),
        delta(0, type="text_delta", text="Hi!"),
        stop(0),
        *end(),
    )
    connector = ScriptedConnector(sse=raw)
    async with Sonnet45(connector) as model:
        chunks = [c async for c in model.stream_answer("hello")]
    assert [c.text for c in chunks] == ["Hi!", ""]
    assert chunks[-1].cost == pytest.approx((20 * 3.00 + 100 * 0.30 + 9 * 15.00) / 1e6)
    (request,) = connector.requests
    assert request.stream and request.payload["stream"] is True and request.operation == "messages"
