"""ChatStreamParser on hand-built events, and stream_answer on a scripted connector."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from model_classes import model_class
from openai_testkit import (
    ScriptedConnector,
    accumulate,
    decode_events,
    delta_chunk,
    run_parser,
    sse_of,
    usage_chunk,
)

from core.llms.interfaces import (
    APIConnectionError,
    BadRequestError,
    ContextWindowExceededError,
    LLMError,
    LLMStreamChunk,
    RateLimitError,
    ResponseParsingError,
    ServiceUnavailableError,
    StreamInterruptedError,
    ToolCallDelta,
    Usage,
    WireEvent,
)
from core.llms.providers.dialects.openai_chat.streaming import ChatStreamParser

GPT41Mini = model_class("openai/gpt-4.1-mini")


def parse(raw: bytes) -> list[LLMStreamChunk]:
    return run_parser(ChatStreamParser("https://e/v1"), decode_events(raw))


def test_text_stream_first_and_final_chunks() -> None:
    raw = sse_of(
        delta_chunk({"role": "assistant", "content": ""}),
        delta_chunk({"content": "Hel"}),
        delta_chunk({"content": "lo"}),
        delta_chunk({}, finish_reason="stop"),
        usage_chunk(prompt=1_000_000, completion=1_000_000, cached=500_000, reasoning=7),
    )
    parser = ChatStreamParser("https://e/v1", cost=GPT41Mini(ScriptedConnector()).cost, request_id="req-7")
    chunks = run_parser(parser, decode_events(raw))
    assert [c.text for c in chunks] == ["Hel", "lo", ""]
    first, final = chunks[0], chunks[-1]
    assert (first.endpoint, first.request_id, first.model) == (
        "https://e/v1",
        "req-7",
        "gpt-4.1-mini-2025-04-14",
    )
    assert chunks[1].endpoint is None
    assert final.finish_reason == "stop"
    assert final.usage == Usage(1_000_000, 1_000_000, 500_000, 7)
    assert final.cost == pytest.approx(0.5 * 0.40 + 0.5 * 0.10 + 1.60)
    assert all(c.finish_reason is None and c.usage is None for c in chunks[:-1])


def test_final_chunk_carries_start_fields_when_nothing_else_came() -> None:
    (final,) = parse(sse_of(delta_chunk({"role": "assistant", "content": ""}, finish_reason="stop")))
    assert (final.finish_reason, final.endpoint, final.usage, final.cost) == (
        "stop",
        "https://e/v1",
        None,
        None,
    )


def test_tool_call_deltas() -> None:
    raw = sse_of(
        delta_chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "f", "arguments": ""},
                    }
                ]
            }
        ),
        delta_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]}),
        delta_chunk({"tool_calls": [{"index": 0, "function": {"arguments": " 1}"}}]}),
        delta_chunk({}, finish_reason="function_call"),
    )
    chunks = parse(raw)
    assert chunks[0].tool_calls == [ToolCallDelta(0, "call_1", "f", "")]
    assert chunks[1].tool_calls == [ToolCallDelta(0, None, None, '{"a":')]
    acc = accumulate(chunks)
    assert [(c.id, c.name, c.arguments) for c in acc.tool_calls] == [("call_1", "f", '{"a": 1}')]
    assert acc.finish_reason == "tool_calls"


def test_refusal_and_reasoning_deltas() -> None:
    raw = sse_of(
        delta_chunk({"reasoning_content": "thinking"}),
        delta_chunk({"refusal": "I can't"}),
        delta_chunk({"refusal": " help."}),
        delta_chunk({}, finish_reason="stop"),
    )
    chunks = parse(raw)
    assert chunks[0].reasoning == "thinking"
    assert [c.refusal for c in chunks[1:3]] == ["I can't", " help."]
    assert chunks[-1].finish_reason == "refusal"


def test_azure_content_filter_annotations() -> None:
    prompt_filter = [{"prompt_index": 0, "content_filter_results": {"hate": {"filtered": False}}}]
    completion_filter = {"violence": {"filtered": False, "severity": "safe"}}
    raw = sse_of(
        {"choices": [], "created": 0, "id": "", "model": "", "prompt_filter_results": prompt_filter},
        delta_chunk({"content": "", "role": "assistant"}, content_filter_results={}),
        delta_chunk({"content": "Hi"}, content_filter_results=completion_filter),
        delta_chunk({}, finish_reason="content_filter", content_filter_results={}),
    )
    chunks = parse(raw)
    assert chunks[0].content_filter == {"prompt_filter_results": prompt_filter}
    assert chunks[0].model is None  # Azure's first chunk names no model
    assert chunks[1].text == "Hi"
    assert chunks[1].content_filter == {
        "content_filter_results": completion_filter,
        "prompt_filter_results": prompt_filter,
    }
    assert chunks[1].model is None and chunks[-1].model == "gpt-4.1-mini-2025-04-14"
    assert chunks[-1].finish_reason == "content_filter"
    assert accumulate(chunks).content_filter == chunks[1].content_filter


@pytest.mark.parametrize(
    ("error", "expected", "status"),
    [
        ({"message": "Rate limit", "type": "requests", "code": "rate_limit_exceeded"}, RateLimitError, 429),
        (
            {"message": "quota", "type": "insufficient_quota", "code": "insufficient_quota"},
            RateLimitError,
            429,
        ),
        ({"message": "The server had an error", "type": "server_error"}, ServiceUnavailableError, 500),
        ({"message": "too long", "code": "context_length_exceeded"}, ContextWindowExceededError, 400),
        ({"message": "bad tool", "type": "invalid_request_error", "status_code": 400}, BadRequestError, 400),
        ({"message": "?"}, ServiceUnavailableError, 500),
    ],
)
def test_error_inside_a_200_stream(error: dict[str, Any], expected: type[LLMError], status: int) -> None:
    parser = ChatStreamParser("https://e/v1", request_id="r1")
    assert parser.feed(WireEvent(data='{"choices":[{"index":0,"delta":{"content":"a"}}]}'))
    with pytest.raises(expected) as info:
        parser.feed(WireEvent(data=json.dumps({"error": error})))
    assert type(info.value) is expected
    assert (info.value.status, info.value.endpoint, info.value.request_id) == (status, "https://e/v1", "r1")


def test_named_error_event() -> None:
    parser = ChatStreamParser("https://e/v1")
    with pytest.raises(BadRequestError, match="Tool call failed"):
        parser.feed(
            WireEvent(
                data='{"error":{"message":"Tool call failed","type":"invalid_request_error",'
                '"code":"tool_use_failed","status_code":400}}',
                event="error",
            )
        )


@pytest.mark.parametrize("data", ["{not json", "[1, 2]", '"text"'])
def test_malformed_events(data: str) -> None:
    with pytest.raises(ResponseParsingError) as info:
        ChatStreamParser("https://e/v1").feed(WireEvent(data=data))
    assert info.value.endpoint == "https://e/v1"


def test_stream_without_done_or_usage_is_interrupted() -> None:
    # a finish reason but no usage (asked for by default) and no [DONE]: cut before the usage chunk
    raw = sse_of(delta_chunk({"content": "half"}), delta_chunk({}, finish_reason="stop"), done=False)
    parser = ChatStreamParser("https://e/v1")
    for event in decode_events(raw):
        parser.feed(event)
    with pytest.raises(StreamInterruptedError, match=r"\[DONE\] marker \(and usage\)") as info:
        parser.close()
    assert info.value.endpoint == "https://e/v1"


@pytest.mark.parametrize("expect_usage", [True, False])
def test_stream_without_a_finish_reason_is_interrupted(expect_usage: bool) -> None:
    raw = sse_of(delta_chunk({"content": "half"}), usage_chunk(3, 1), done=False)
    parser = ChatStreamParser("https://e/v1", request_id="req-9", expect_usage=expect_usage)
    chunks = [c for event in decode_events(raw) for c in parser.feed(event)]
    assert [c.text for c in chunks] == ["half"]
    with pytest.raises(StreamInterruptedError) as info:
        parser.close()
    assert info.value.message == "the stream ended before its [DONE] marker"
    assert (info.value.endpoint, info.value.request_id) == ("https://e/v1", "req-9")


def test_stream_ending_after_finish_and_usage_without_done_is_complete() -> None:
    # Groq and other OpenAI-compatible hosts close after the usage chunk without [DONE]
    raw = sse_of(
        delta_chunk({"content": "whole"}),
        delta_chunk({}, finish_reason="length"),
        usage_chunk(1_000_000, 1_000_000),
        done=False,
    )
    parser = ChatStreamParser("https://e/v1", cost=GPT41Mini(ScriptedConnector()).cost)
    chunks = run_parser(parser, decode_events(raw))
    assert [c.text for c in chunks] == ["whole", ""]
    final = chunks[-1]
    assert (final.finish_reason, final.usage) == ("length", Usage(1_000_000, 1_000_000))
    assert final.cost == pytest.approx(0.40 + 1.60)
    assert parser.close() == []  # closed once: nothing more
    assert parser.feed(WireEvent(data="[DONE]")) == []


def test_stream_without_done_is_complete_when_usage_was_not_asked_for() -> None:
    raw = sse_of(delta_chunk({"content": "ok"}), delta_chunk({}, finish_reason="stop"), done=False)
    chunks = run_parser(ChatStreamParser("https://e/v1", expect_usage=False), decode_events(raw))
    assert [c.text for c in chunks] == ["ok", ""]
    assert (chunks[-1].finish_reason, chunks[-1].usage, chunks[-1].cost) == ("stop", None, None)


async def test_a_model_that_does_not_ask_for_usage_accepts_a_stream_without_done() -> None:
    no_usage = type("OpenAIChatModel", (GPT41Mini,), {"stream_usage": False})
    raw = sse_of(delta_chunk({"content": "Hi"}), delta_chunk({}, finish_reason="stop"), done=False)
    connector = ScriptedConnector(sse=raw)
    chunks = [c async for c in no_usage(connector).stream_answer("hello")]
    assert accumulate(chunks).text == "Hi" and chunks[-1].finish_reason == "stop"
    (request,) = connector.requests
    assert request.payload["stream"] is True and "stream_options" not in request.payload
    # the same stream is cut short for a model that asked for usage
    with pytest.raises(StreamInterruptedError):
        async for _ in GPT41Mini(ScriptedConnector(sse=raw)).stream_answer("hello"):
            pass


def test_typed_content_parts_in_deltas() -> None:
    # Mistral's magistral stream: thinking parts, then text parts (or plain strings)
    raw = sse_of(
        delta_chunk({"role": "assistant", "content": ""}),
        delta_chunk({"content": [{"type": "thinking", "thinking": [{"type": "text", "text": "Let me"}]}]}),
        delta_chunk({"content": [{"type": "thinking", "thinking": [{"type": "text", "text": " think."}]}]}),
        delta_chunk({"content": [{"type": "text", "text": "Answer"}]}),
        delta_chunk({"content": ": 42"}),
        delta_chunk({}, finish_reason="stop"),
        usage_chunk(4, 6),
    )
    chunks = parse(raw)
    assert [(c.text, c.reasoning) for c in chunks[:-1]] == [
        ("", "Let me"),
        ("", " think."),
        ("Answer", None),
        (": 42", None),
    ]
    acc = accumulate(chunks)
    response = acc.to_response(model="magistral", provider="mistral")
    assert (response.text, response.reasoning) == ("Answer: 42", "Let me think.")
    assert (acc.finish_reason, acc.usage) == ("stop", Usage(4, 6))


def test_malformed_typed_content_parts_in_a_delta() -> None:
    with pytest.raises(ResponseParsingError) as info:
        parse(sse_of(delta_chunk({"content": ["not a part"]})))
    assert info.value.endpoint == "https://e/v1"


def test_events_after_done_are_ignored() -> None:
    parser = ChatStreamParser()
    assert parser.feed(WireEvent(data="[DONE]"))
    assert parser.feed(WireEvent(data='{"choices":[{"index":0,"delta":{"content":"late"}}]}')) == []
    assert parser.close() == []


def test_other_choices_are_ignored_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    raw = sse_of(
        delta_chunk({"content": "zero"}),
        delta_chunk({"content": "one"}, index=1),
        delta_chunk({"content": "two"}, index=2),
        delta_chunk({}, finish_reason="stop"),
    )
    with caplog.at_level(logging.WARNING, logger="core.llms.openai"):
        chunks = parse(raw)
    assert accumulate(chunks).text == "zero"
    assert caplog.text.count("only choice 0 is read") == 1


# -- stream_answer on a scripted connector ---------------------------------------------------------


async def test_stream_answer_yields_text_then_the_final_chunk() -> None:
    raw = sse_of(delta_chunk({"content": "Hi"}), delta_chunk({}, finish_reason="stop"), usage_chunk(20, 2))
    connector = ScriptedConnector(sse=raw)
    chunks = [c async for c in GPT41Mini(connector).stream_answer("hello", max_tokens=5)]
    assert [c.text for c in chunks] == ["Hi", ""]
    assert chunks[0].endpoint == "https://scripted.test/v1"
    assert chunks[-1].usage == Usage(20, 2)
    assert chunks[-1].cost == pytest.approx((20 * 0.40 + 2 * 1.60) / 1e6)
    (request,) = connector.requests
    assert request.stream and request.payload["stream_options"] == {"include_usage": True}


async def test_stream_interrupted_after_data_keeps_partial_text_and_tool_calls() -> None:
    raw = sse_of(
        delta_chunk({"content": "Let me check"}),
        delta_chunk(
            {"tool_calls": [{"index": 0, "id": "call_9", "function": {"name": "f", "arguments": '{"q"'}}]}
        ),
        done=False,
    )
    cause = APIConnectionError("reset")
    model = GPT41Mini(ScriptedConnector(sse=raw, stream_error=cause))
    with pytest.raises(StreamInterruptedError) as info:
        async for _ in model.stream_answer("hi"):
            pass
    err = info.value
    assert err.partial_text == "Let me check"
    assert [(c.id, c.name, c.arguments) for c in err.partial_tool_calls] == [("call_9", "f", '{"q"')]
    assert (err.model, err.provider, err.cause) == ("gpt-4.1-mini", "openai", cause)
