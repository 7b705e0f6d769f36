"""``ConverseStreamParser``: the chunks of text, tool-call, reasoning, structured and server-tool
streams; exception frames; streams that end early; malformed events; and ``stream_answer``."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from test_bedrock_converse_kit import (
    Claude,
    FakeConnector,
    Nova,
    accumulate,
    exception_frame,
    replay,
    replay_events,
    stream_of,
    text_stream,
)

from core.llms.interfaces import (
    BadRequestError,
    InvalidInputError,
    LLMStreamChunk,
    RateLimitError,
    ResponseParsingError,
    ServiceUnavailableError,
    StreamInterruptedError,
    ToolCallDelta,
    Usage,
    WireEvent,
)
from core.llms.providers.dialects.bedrock_converse import ConverseStreamParser, converse_message

START = ("messageStart", {"role": "assistant"})
METADATA = (
    "metadata",
    {"usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15}, "metrics": {"latencyMs": 9}},
)


def stop(reason: str = "end_turn") -> tuple[str, dict[str, Any]]:
    return ("messageStop", {"stopReason": reason})


def delta(index: int, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return ("contentBlockDelta", {"contentBlockIndex": index, "delta": body})


def start(index: int, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return ("contentBlockStart", {"contentBlockIndex": index, "start": body})


def block_stop(index: int) -> tuple[str, dict[str, Any]]:
    return ("contentBlockStop", {"contentBlockIndex": index})


def test_text_stream() -> None:
    chunks = replay(text_stream("Hel", "", "lo"), cost=lambda u: 0.01, model="nova", request_id="rq")
    assert [c.text for c in chunks] == ["Hel", "lo", ""]
    first, last = chunks[0], chunks[-1]
    assert (first.endpoint, first.request_id, first.model) == ("replay", "rq", "nova")
    assert chunks[1].endpoint is None
    assert (last.finish_reason, last.usage, last.cost) == ("stop", Usage(10, 5), 0.01)
    assert last.raw == {
        "output": {"message": {"role": "assistant", "content": [{"text": "Hello"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        "metrics": {"latencyMs": 12},
    }


def test_metadata_before_message_stop_still_completes() -> None:
    raw = stream_of(START, delta(0, {"text": "x"}), METADATA, stop("max_tokens"))
    chunks = replay(raw)
    assert chunks[-1].finish_reason == "length" and chunks[-1].usage == Usage(10, 5)


def test_parallel_tool_calls() -> None:
    raw = stream_of(
        START,
        delta(0, {"text": "Checking both."}),
        block_stop(0),
        start(1, {"toolUse": {"toolUseId": "t1", "name": "weather"}}),
        delta(1, {"toolUse": {"input": '{"city":'}}),
        start(2, {"toolUse": {"toolUseId": "t2", "name": "weather"}}),
        delta(2, {"toolUse": {"input": '{"city":"Rome"}'}}),
        delta(1, {"toolUse": {"input": '"Paris"}'}}),
        delta(1, {"toolUse": {"input": ""}}),
        block_stop(1),
        block_stop(2),
        stop("tool_use"),
        METADATA,
    )
    chunks = replay(raw, seed=4)
    calls = [d for c in chunks for d in c.tool_calls or ()]
    assert calls == [
        ToolCallDelta(0, "t1", "weather", ""),
        ToolCallDelta(0, None, None, '{"city":'),
        ToolCallDelta(1, "t2", "weather", ""),
        ToolCallDelta(1, None, None, '{"city":"Rome"}'),
        ToolCallDelta(0, None, None, '"Paris"}'),
    ]
    acc = accumulate(chunks)
    assert [(c.id, c.name, c.arguments) for c in acc.tool_calls] == [
        ("t1", "weather", '{"city":"Paris"}'),
        ("t2", "weather", '{"city":"Rome"}'),
    ]
    assert acc.finish_reason == "tool_calls" and acc.text == "Checking both."
    content = chunks[-1].raw["output"]["message"]["content"]
    assert content[1] == {"toolUse": {"toolUseId": "t1", "name": "weather", "input": {"city": "Paris"}}}


def test_reasoning_with_signature_and_redacted_content() -> None:
    secret = base64.b64encode(b"opaque").decode()
    raw = stream_of(
        START,
        delta(0, {"reasoningContent": {"text": "Let me "}}),
        delta(0, {"reasoningContent": {"text": ""}}),
        delta(0, {"reasoningContent": {"text": "think."}}),
        delta(0, {"reasoningContent": {"signature": "sig"}}),
        block_stop(0),
        delta(1, {"reasoningContent": {"redactedContent": secret}}),
        block_stop(1),
        delta(2, {"text": "Answer."}),
        stop(),
        METADATA,
    )
    chunks = replay(raw)
    assert [c.reasoning for c in chunks if c.reasoning] == ["Let me ", "think."]
    acc = accumulate(chunks)
    response = acc.to_response(model="m", provider="bedrock")
    assert (response.text, response.reasoning) == ("Answer.", "Let me think.")
    assert converse_message(response)["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "Let me think.", "signature": "sig"}}},
        {"reasoningContent": {"redactedContent": secret}},
        {"text": "Answer."},
    ]


def test_structured_output_streams_as_text() -> None:
    raw = stream_of(
        START,
        start(0, {"toolUse": {"toolUseId": "t1", "name": "City"}}),
        delta(0, {"toolUse": {"input": '{"name":'}}),
        delta(0, {"toolUse": {"input": '"Oslo"}'}}),
        stop("tool_use"),
        METADATA,
    )
    acc = accumulate(replay(raw, structured_tool="City"))
    assert (acc.text, acc.finish_reason, acc.tool_calls) == ('{"name":"Oslo"}', "stop", [])


def test_server_tools_are_not_calls() -> None:
    raw = stream_of(
        START,
        start(
            0, {"toolUse": {"toolUseId": "s1", "name": "nova_code_interpreter", "type": "server_tool_use"}}
        ),
        delta(0, {"toolUse": {"input": '{"snippet":"1+1"}'}}),
        start(1, {"toolResult": {"toolUseId": "s1", "status": "success"}}),
        delta(1, {"toolResult": [{"json": {"stdOut": "2"}}]}),
        delta(2, {"text": "2"}),
        stop(),
        METADATA,
    )
    chunks = replay(raw)
    acc = accumulate(chunks)
    assert (acc.text, acc.tool_calls) == ("2", [])
    content = chunks[-1].raw["output"]["message"]["content"]
    assert content[1] == {
        "toolResult": {"toolUseId": "s1", "status": "success", "content": [{"json": {"stdOut": "2"}}]}
    }


def test_citations_are_kept_on_raw() -> None:
    raw = stream_of(
        START, delta(0, {"text": "Paris"}), delta(0, {"citation": {"title": "doc"}}), stop(), METADATA
    )
    chunks = replay(raw)
    assert chunks[-1].raw["output"]["message"]["content"] == [
        {"citationsContent": {"content": [{"text": "Paris"}], "citations": [{"title": "doc"}]}}
    ]


def test_a_guardrail_intervention() -> None:
    trace = {"guardrail": {"outputAssessments": {"gr": [{"contentPolicy": {"filters": []}}]}}}
    raw = stream_of(
        START,
        delta(0, {"text": "Blocked."}),
        stop("guardrail_intervened"),
        ("metadata", {**METADATA[1], "trace": trace}),
    )
    last = replay(raw)[-1]
    assert last.finish_reason == "content_filter"
    assert last.content_filter == {"stop_reason": "guardrail_intervened", "guardrail": trace["guardrail"]}
    assert last.raw["trace"] == trace


def test_cached_usage_and_cost() -> None:
    usage = {"inputTokens": 10, "outputTokens": 5, "cacheReadInputTokens": 1000, "cacheWriteInputTokens": 20}
    raw = stream_of(START, delta(0, {"text": "x"}), stop(), ("metadata", {"usage": usage, "metrics": {}}))
    assert replay(raw)[-1].usage == Usage(1030, 5, cached_input_tokens=1000, cache_write_input_tokens=20)


def test_events_it_does_not_know_and_events_after_the_end_are_ignored() -> None:
    raw = stream_of(
        START, ("somethingNew", {"x": 1}), delta(0, {"text": "a"}), stop(), METADATA, ("metadata", {})
    )
    chunks = replay(raw)
    assert [c.text for c in chunks] == ["a", ""]


# -- errors --------------------------------------------------------------------------------------------


def test_an_exception_frame_mid_stream() -> None:
    events = replay_events(stream_of(START, delta(0, {"text": "par"}), stop("max_tokens")))
    events += replay_events(exception_frame("modelStreamErrorException", {"message": "boom"}))
    parser = ConverseStreamParser("ep", request_id="rq")
    out: list[LLMStreamChunk] = []
    with pytest.raises(ServiceUnavailableError) as info:
        for event in events:
            out += parser.feed(event)
    err = info.value
    assert [c.text for c in out] == ["par"]
    assert (err.code, err.endpoint, err.request_id, err.finish_reason) == (
        "ModelStreamErrorException",
        "ep",
        "rq",
        "length",
    )


def test_an_exception_before_any_chunk() -> None:
    parser = ConverseStreamParser("ep")
    (event,) = replay_events(exception_frame("throttlingException", {"message": "slow down"}))
    with pytest.raises(RateLimitError) as info:
        parser.feed(event)
    assert info.value.usage is None


@pytest.mark.parametrize(
    ("events", "missing"),
    [
        ([START, delta(0, {"text": "a"})], "messageStop and metadata"),
        ([START, delta(0, {"text": "a"}), stop()], "metadata"),
        ([START, METADATA], "messageStop"),
        ([], "messageStop and metadata"),
    ],
)
def test_a_stream_that_ends_early_was_cut(events: list[tuple[str, dict[str, Any]]], missing: str) -> None:
    with pytest.raises(StreamInterruptedError, match=f"before its {missing} event"):
        replay(stream_of(*events))


@pytest.mark.parametrize(
    ("event", "words"),
    [
        (WireEvent("not json", "contentBlockDelta", extra={"message_type": "event"}), "not valid JSON"),
        (WireEvent("[1]", "contentBlockDelta", extra={"message_type": "event"}), "JSON list"),
        (WireEvent('{"contentBlockIndex": -1, "delta": {}}', "contentBlockDelta"), "contentBlockIndex"),
        (WireEvent('{"delta": "x"}', "contentBlockDelta"), "delta is not an object"),
        (WireEvent('{"delta": {"text": 1}}', "contentBlockDelta"), "delta.text is not a string"),
        (
            WireEvent('{"delta": {"toolUse": {"input": "{}"}}}', "contentBlockDelta"),
            "did not start as a tool",
        ),
        (WireEvent('{"delta": {"toolUse": {"input": 1}}}', "contentBlockDelta"), "toolUse.input"),
        (
            WireEvent('{"delta": {"reasoningContent": {"text": 1}}}', "contentBlockDelta"),
            "reasoningContent.text",
        ),
        (
            WireEvent('{"delta": {"reasoningContent": {"redactedContent": "!"}}}', "contentBlockDelta"),
            "base64",
        ),
        (WireEvent('{"start": {"toolUse": {}}}', "contentBlockStart"), "has no name"),
        (WireEvent('{"start": []}', "contentBlockStart"), "start is not an object"),
    ],
)
def test_malformed_events(event: WireEvent, words: str) -> None:
    parser = ConverseStreamParser("ep", request_id="rq")
    with pytest.raises(ResponseParsingError, match=words) as info:
        parser.feed(event)
    assert (info.value.endpoint, info.value.request_id) == ("ep", "rq")


# -- through the model ------------------------------------------------------------------------------------


async def test_stream_answer() -> None:
    conn = FakeConnector(stream_bytes=text_stream("The answer", " is 4.", usage=(1_000_000, 1_000_000)))
    chunks = [c async for c in Claude(conn).stream_answer("2+2?")]
    acc = accumulate(chunks)
    assert (acc.text, acc.finish_reason, acc.endpoint, acc.request_id, acc.model) == (
        "The answer is 4.",
        "stop",
        "https://bedrock-runtime.us-east-1.amazonaws.com",
        "req-stream",
        "claude-sonnet-4",
    )
    assert acc.cost == pytest.approx(18.0)


async def test_an_error_after_the_first_chunk_interrupts_the_stream() -> None:
    raw = stream_of(START, delta(0, {"text": "partial"})) + exception_frame(
        "internalServerException", {"message": "x"}
    )
    conn = FakeConnector(stream_bytes=raw)
    seen = []
    with pytest.raises(StreamInterruptedError) as info:
        async for chunk in Nova(conn).stream_answer("hi"):
            seen.append(chunk.text)
    err = info.value
    assert seen == ["partial"] and err.partial_text == "partial"
    assert isinstance(err.cause, ServiceUnavailableError)
    assert (err.provider, err.model) == ("bedrock", "nova-micro")


async def test_an_exception_before_the_first_chunk_is_the_typed_error() -> None:
    conn = FakeConnector(stream_bytes=exception_frame("validationException", {"message": "bad input"}))
    with pytest.raises(BadRequestError, match="bad input") as info:
        async for _ in Nova(conn).stream_answer("hi"):
            pass
    assert info.value.model == "nova-micro"


async def test_bytes_cut_mid_frame() -> None:
    raw = text_stream("all of it")
    conn = FakeConnector(stream_bytes=raw[:-7])
    with pytest.raises(StreamInterruptedError, match="in the middle of a frame"):
        async for _ in Nova(conn).stream_answer("hi"):
            pass


async def test_refusals_happen_before_the_stream_opens() -> None:
    conn = FakeConnector(stream_bytes=text_stream("x"))
    with pytest.raises(InvalidInputError, match="unknown parameter"):
        async for _ in Nova(conn).stream_answer("hi", colour="red"):
            pass
    assert conn.requests == []
