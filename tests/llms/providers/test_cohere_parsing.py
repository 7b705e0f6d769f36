"""Reading Cohere v2 answers: whole bodies, stream events, finish reasons, usage and the error
bodies (HTTP errors, failed generations, errors inside 2xx bodies and streams)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from model_classes import model_class
from multidict import CIMultiDict
from openai_testkit import (
    ReplayServer,
    ScriptedConnector,
    accumulate,
    decode_events,
    run_parser,
    wire_response,
)

from core.llms.interfaces import (
    AuthenticationError,
    BadRequestError,
    ContentFilterError,
    ContextWindowExceededError,
    NotFoundError,
    RateLimitError,
    RequestTimeoutError,
    ResponseParsingError,
    ServiceUnavailableError,
    StreamInterruptedError,
    Usage,
)
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.cohere import CohereAdapter
from core.llms.providers.dialects.cohere_v2 import CohereStreamParser, citations_of
from core.llms.providers.dialects.cohere_v2.parsing import map_finish_reason, parse_chat_body, usage_from_wire

CommandA = model_class("cohere/command-a-03-2025")
ADAPTER = CohereAdapter()


def body(
    content: list[dict[str, Any]] | None = None, finish: str = "COMPLETE", **message: Any
) -> dict[str, Any]:
    return {
        "id": "r1",
        "finish_reason": finish,
        "message": {"role": "assistant", "content": content if content is not None else [], **message},
        "usage": {
            "billed_units": {"input_tokens": 5, "output_tokens": 2},
            "tokens": {"input_tokens": 70, "output_tokens": 2},
        },
    }


def parse(data: Any, **kw: Any) -> Any:
    return parse_chat_body(data, provider="cohere", model="m", **kw)


def event(kind: str, **fields: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **fields})}\n\n"


def stream(*events: str) -> list[Any]:
    return run_parser(CohereStreamParser("ep", cost=lambda u: 1.0), decode_events("".join(events).encode()))


# -- whole answers ----------------------------------------------------------------------------------


def test_text_thinking_and_plan() -> None:
    data = body(
        [
            {"type": "thinking", "thinking": "hmm"},
            {"type": "text", "text": "Hi"},
            {"type": "text", "text": "!"},
        ]
    )
    response = parse(data, cost=lambda u: 2.0)
    assert (response.text, response.reasoning, response.finish_reason) == ("Hi!", "hmm", "stop")
    assert response.usage == Usage(input_tokens=5, output_tokens=2)  # billed, not the 70 tokens seen
    assert response.cost == 2.0 and response.raw is data
    calls = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}]
    tools = parse(body(finish="TOOL_CALL", tool_plan="I will call f.", tool_calls=calls))
    assert tools.reasoning == "I will call f." and tools.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments) for c in tools.tool_calls] == [("c1", "f", '{"a": 1}')]
    both = parse(
        body([{"type": "thinking", "thinking": "t"}], finish="TOOL_CALL", tool_plan="p", tool_calls=calls)
    )
    assert both.reasoning == "t\n\np"


@pytest.mark.parametrize(
    ("reason", "mapped"),
    [
        ("COMPLETE", "stop"),
        ("STOP_SEQUENCE", "stop"),
        ("MAX_TOKENS", "length"),
        ("TOOL_CALL", "tool_calls"),
        (None, None),
    ],
)
def test_finish_reasons(reason: str | None, mapped: str | None) -> None:
    assert map_finish_reason(reason) == mapped


def test_unknown_finish_reason_is_stop_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="core.llms.cohere"):
        assert map_finish_reason("NEW_REASON_X") == "stop"
        assert map_finish_reason("NEW_REASON_X") == "stop"
    assert caplog.text.count("NEW_REASON_X") == 1


def test_failed_generations_raise() -> None:
    with pytest.raises(ServiceUnavailableError, match="finish_reason ERROR"):
        parse(body(finish="ERROR"))
    with pytest.raises(RequestTimeoutError):
        parse(body(finish="TIMEOUT"))


def test_usage() -> None:
    assert usage_from_wire({"billed_units": {"input_tokens": 3.0, "output_tokens": 4}}) == Usage(3, 4)
    assert usage_from_wire({"tokens": {"input_tokens": 9, "output_tokens": 1}}) == Usage(9, 1)
    assert usage_from_wire({"billed_units": {"search_units": 1}, "tokens": {"input_tokens": 2}}) == Usage(
        2, 0
    )
    assert usage_from_wire({"billed_units": {"input_tokens": -1, "output_tokens": "x"}}) == Usage(0, 0)
    assert usage_from_wire(None) is None and usage_from_wire({}) is None


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"finish_reason": "COMPLETE"},
        body([{"type": "text", "text": 5}]),
        {"id": "x", "finish_reason": "COMPLETE", "message": {"content": 7}},
        body(finish="TOOL_CALL", tool_calls=[{"id": "x", "function": {}}]),
        body(finish="TOOL_CALL", tool_calls={"id": "x"}),
    ],
)
def test_malformed_bodies(data: Any) -> None:
    with pytest.raises(ResponseParsingError):
        parse(data)


def test_citations_helper() -> None:
    assert citations_of(None) == [] and citations_of({"message": {"citations": "x"}}) == []
    assert citations_of(body(citations=[{"text": "a"}, 3])) == [{"text": "a"}]


async def test_parse_errors_carry_where_and_mask_the_key() -> None:
    connector = ScriptedConnector([wire_response(body([{"type": "text", "text": 5}]), request_id="rid")])
    model = CommandA(connector)
    with pytest.raises(ResponseParsingError) as info:
        await model.get_answer("hi")
    assert (info.value.request_id, info.value.provider, info.value.model) == (
        "rid",
        "cohere",
        "command-a-03-2025",
    )


# -- HTTP errors ------------------------------------------------------------------------------------


def http_error(status: int, payload: Any, headers: dict[str, str] | None = None) -> Any:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return ADAPTER.map_error(
        status, CIMultiDict(headers or {"x-debug-trace-id": "trace-1"}), raw, "https://api.cohere.com"
    )


@pytest.mark.parametrize(
    ("status", "message", "cls"),
    [
        (400, "invalid request: valid input_type must be provided with the provided model", BadRequestError),
        (
            400,
            "too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292.",
            ContextWindowExceededError,
        ),
        (400, "too many tokens: max tokens must be less than or equal to 4096", BadRequestError),
        (401, "invalid api token", AuthenticationError),
        (498, "invalid api token", AuthenticationError),
        (498, "blocked output: please adjust your prompt and try again", ContentFilterError),
        (404, "model 'x' not found", NotFoundError),
        (422, "unprocessable", BadRequestError),
        (499, "request cancelled", ServiceUnavailableError),
        (500, "internal server error", ServiceUnavailableError),
        (503, "overloaded", ServiceUnavailableError),
    ],
)
def test_http_errors(status: int, message: str, cls: type) -> None:
    error = http_error(status, {"id": "e1", "message": message})
    assert type(error) is cls
    assert (error.status, error.request_id, error.message) == (status, "trace-1", message)
    assert error.body == {"id": "e1", "message": message}


def test_rate_limits() -> None:
    limited = http_error(429, {"message": "trial key limit"}, {"retry-after": "7"})
    assert isinstance(limited, RateLimitError) and limited.retry_after == 7 and limited.retryable
    billing = http_error(402, {"message": "Please add a payment method"})
    assert isinstance(billing, RateLimitError) and billing.retry_after == math.inf
    assert "billing limit" in (billing.hint or "")


def test_odd_error_bodies() -> None:
    page = http_error(502, b"<html>bad gateway</html>")
    assert isinstance(page, ServiceUnavailableError) and "bad gateway" in page.message
    empty = http_error(400, b"")
    assert empty.message == "HTTP 400 with an empty body"
    long = http_error(400, {"message": "word " * 500})
    assert len(long.message) <= 510


def test_errors_inside_2xx_bodies() -> None:
    headers = CIMultiDict({"x-debug-trace-id": "t"})
    failed = ADAPTER.error_in_body(body(finish="ERROR", error="boom"), headers, "ep")
    assert isinstance(failed, ServiceUnavailableError) and failed.request_id == "t"
    assert isinstance(ADAPTER.error_in_body({"message": "oops"}, headers, "ep"), ServiceUnavailableError)
    limited = ADAPTER.error_in_body({"error": {"message": "slow down", "code": 429}}, headers, "ep")
    assert isinstance(limited, RateLimitError)
    assert ADAPTER.error_in_body(body([{"type": "text", "text": "fine"}]), headers, "ep") is None
    assert ADAPTER.error_in_body({"id": "e", "embeddings": {"float": []}}, headers, "ep") is None
    assert ADAPTER.error_in_body({"id": "r", "results": []}, headers, "ep") is None


# -- streams ----------------------------------------------------------------------------------------

START = event("message-start", id="s1", delta={"message": {"role": "assistant"}})
END = event(
    "message-end",
    delta={"finish_reason": "COMPLETE", "usage": {"billed_units": {"input_tokens": 1, "output_tokens": 2}}},
)


def text(piece: str, index: int = 0) -> str:
    return event("content-delta", index=index, delta={"message": {"content": {"text": piece}}})


def test_stream_citations_and_unknown_events() -> None:
    citation = {"start": 0, "end": 2, "text": "Hi", "sources": [{"type": "document", "id": "doc:0"}]}
    chunks = stream(
        START,
        event("content-start", index=0, delta={"message": {"content": {"type": "text", "text": ""}}}),
        text("Hi"),
        event("citation-start", index=0, delta={"message": {"citations": citation}}),
        event("citation-end", index=0),
        event("debug", prompt="secret prompt"),
        event("some-new-event", delta={}),
        event("content-end", index=0),
        END,
        "data: [DONE]\n\n",
    )
    acc = accumulate(chunks)
    assert (acc.text, acc.finish_reason, acc.usage, acc.cost) == ("Hi", "stop", Usage(1, 2), 1.0)
    assert citations_of(acc.raw) == [citation]
    assert chunks[0].endpoint == "ep"


def test_stream_plan_after_thinking_is_set_apart() -> None:
    think = event("content-delta", index=0, delta={"message": {"content": {"thinking": "t"}}})
    plan = event("tool-plan-delta", delta={"message": {"tool_plan": "p"}})
    acc = accumulate(stream(START, think, plan, END))
    assert acc.to_response(model="m", provider="cohere").reasoning == "t\n\np"


def test_stream_without_message_end_is_interrupted() -> None:
    with pytest.raises(StreamInterruptedError, match="message-end"):
        stream(START, text("Hi"))
    with pytest.raises(StreamInterruptedError, match=r"\[DONE\]"):
        stream(START, text("Hi"), "data: [DONE]\n\n")


def test_stream_errors() -> None:
    with pytest.raises(ServiceUnavailableError, match="overloaded") as info:
        stream(
            START,
            text("Hi"),
            event(
                "message-end",
                delta={
                    "finish_reason": "ERROR",
                    "error": "overloaded",
                    "usage": {"billed_units": {"input_tokens": 4}},
                },
            ),
        )
    assert info.value.usage == Usage(4, 0)
    with pytest.raises(RateLimitError):
        stream(START, 'event: error\ndata: {"message": "too many", "status_code": 429}\n\n')
    with pytest.raises(ResponseParsingError, match="not valid JSON"):
        stream(START, "data: {broken\n\n")
    with pytest.raises(ResponseParsingError, match="not an object"):
        stream(START, "data: [1, 2]\n\n")
    with pytest.raises(ResponseParsingError, match=r"content\.text is not a string"):
        stream(START, event("content-delta", index=0, delta={"message": {"content": {"text": 3}}}))


async def test_stream_error_after_chunks_keeps_partial_text() -> None:
    sse = (
        START
        + text("Hel")
        + text("lo")
        + event("message-end", delta={"finish_reason": "ERROR", "error": "boom"})
    ).encode()
    received = ""
    async with ReplayServer(sse, headers={"Content-Type": "text/event-stream"}) as server:
        connector = FailoverConnector.from_endpoints(
            ADAPTER, EndpointConfig(endpoint=server.url, api_key="k")
        )
        async with CommandA(connector) as model:
            with pytest.raises(StreamInterruptedError) as info:
                async for chunk in model.stream_answer("hi"):
                    received += chunk.text
    assert received == "Hello" == info.value.partial_text
    assert isinstance(info.value.cause, ServiceUnavailableError)
    assert (info.value.provider, info.value.model) == ("cohere", "command-a-03-2025")
