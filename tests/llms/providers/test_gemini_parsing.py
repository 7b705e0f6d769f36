"""Reading Gemini answers: ``GenerateContentResponse`` parsing (text, thoughts, function calls with
stable ids, finish reasons, safety, blocked prompts, usage and cost, structured output), the stream
parser (deltas, streamed ``partialArgs``, in-stream errors, blocked prompts, cut streams) and the
error mapping (statuses, RetryInfo, secrets masked)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from model_classes import model_class
from openai_testkit import accumulate, decode_events, run_parser
from pydantic import BaseModel

from core.llms.interfaces import (
    AuthenticationError,
    ContentFilterError,
    ContextWindowExceededError,
    InvalidInputError,
    LLMStreamChunk,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseParsingError,
    ServiceUnavailableError,
    StreamInterruptedError,
    Usage,
)
from core.llms.providers.dialects.gemini import GeminiStreamParser, model_content
from core.llms.providers.dialects.gemini.errors import error_from_body, retry_delay
from core.llms.providers.dialects.gemini.parsing import (
    call_id,
    map_finish_reason,
    parse_generate_content,
    usage_from_wire,
)

Flash = model_class("gemini/gemini-2.5-flash")


class City(BaseModel):
    name: str


def answer(parts: list[dict[str, Any]], finish: str | None = "STOP", **extra: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    candidate.update(extra.pop("candidate", {}))
    return {
        "candidates": [candidate],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp-1",
        **extra,
    }


def parse(data: Any, **kw: Any) -> Any:
    return parse_generate_content(data, provider="gemini", model="gemini-2.5-flash", **kw)


def test_text_thoughts_and_usage() -> None:
    data = answer([{"text": "Let me think", "thought": True}, {"text": "Hello"}, {"text": " world"}])
    data["usageMetadata"] = {
        "promptTokenCount": 100,
        "cachedContentTokenCount": 60,
        "candidatesTokenCount": 5,
        "thoughtsTokenCount": 20,
        "totalTokenCount": 125,
    }
    response = parse(data, cost=Flash(None).cost)
    assert (response.text, response.reasoning, response.finish_reason) == (
        "Hello world",
        "Let me think",
        "stop",
    )
    assert response.usage == Usage(
        input_tokens=100, output_tokens=25, cached_input_tokens=60, reasoning_tokens=20
    )
    # thoughts are billed as output; cached tokens at the cached price
    assert response.cost == pytest.approx((40 * 0.30 + 60 * 0.03 + 25 * 2.50) / 1e6)
    assert (response.model, response.raw) == ("gemini-2.5-flash", data)


def test_function_calls_get_stable_ids_and_finish_as_tool_calls() -> None:
    data = answer(
        [{"functionCall": {"name": "f", "args": {"x": 1}}}, {"functionCall": {"name": "g", "id": "given"}}]
    )
    first, second = parse(data).tool_calls
    assert (first.name, first.arguments) == ("f", '{"x":1}')
    assert first.id == call_id("resp-1", 0, "f", '{"x":1}') == parse(data).tool_calls[0].id
    assert (second.id, second.arguments) == ("given", "{}")
    assert parse(data).finish_reason == "tool_calls"
    content = model_content(parse(data))
    assert content["parts"][0]["functionCall"]["id"] == first.id
    assert content["parts"][1]["functionCall"]["id"] == "given"


@pytest.mark.parametrize(
    ("reason", "mapped"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        ("OTHER", "stop"),
        ("SOMETHING_NEW", "stop"),
        (None, None),
    ],
)
def test_finish_reasons(reason: str | None, mapped: str | None) -> None:
    assert map_finish_reason(reason) == mapped


def test_a_safety_stop_keeps_the_ratings() -> None:
    ratings = [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True}]
    data = answer([], finish="SAFETY", candidate={"safetyRatings": ratings})
    response = parse(data)
    assert (response.text, response.finish_reason) == ("", "content_filter")
    assert response.content_filter == {"safetyRatings": ratings, "finishReason": "SAFETY"}


def test_a_blocked_prompt_is_a_content_filter_error() -> None:
    data = {
        "promptFeedback": {
            "blockReason": "SAFETY",
            "safetyRatings": [
                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
                {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
            ],
        },
        "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5},
    }
    with pytest.raises(ContentFilterError) as info:
        parse(data)
    assert info.value.code == "SAFETY"
    assert set(info.value.categories) == {"HARM_CATEGORY_DANGEROUS_CONTENT"}
    with pytest.raises(ContentFilterError) as other:
        parse({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}})
    assert set(other.value.categories) == {"PROHIBITED_CONTENT"}


def test_structured_output_is_parsed() -> None:
    assert parse(answer([{"text": '{"name": "Paris"}'}]), response_format=City).parsed == City(name="Paris")
    assert parse(answer([{"text": '{"a": 1}'}]), response_format={"type": "object"}).parsed == {"a": 1}
    with pytest.raises(ResponseParsingError):
        parse(answer([{"text": "not json"}]), response_format=City)


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"candidates": []},
        {"candidates": [{"content": {"parts": "x"}}]},
        {"candidates": [{"content": {"parts": [{"text": 3}]}}]},
        {"candidates": [{"content": {"parts": [{"functionCall": {"args": {}}}]}}]},
        {"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": [1]}}]}}]},
    ],
)
def test_malformed_answers_are_parsing_errors(data: Any) -> None:
    with pytest.raises(ResponseParsingError):
        parse(data)


def test_model_content_needs_a_gemini_answer() -> None:
    with pytest.raises(InvalidInputError):
        model_content(LLMStreamChunk(text="x"))


def test_usage_reads_bad_counts_as_zero() -> None:
    assert (
        usage_from_wire({"promptTokenCount": "3", "candidatesTokenCount": -1, "thoughtsTokenCount": True})
        == Usage()
    )
    assert usage_from_wire(None) is None


# -- the stream parser ------------------------------------------------------------------------------


def sse(*events: dict[str, Any] | str) -> bytes:
    return "".join(f"data: {e if isinstance(e, str) else json.dumps(e)}\r\n\r\n" for e in events).encode()


def stream(*events: dict[str, Any] | str) -> list[LLMStreamChunk]:
    return run_parser(
        GeminiStreamParser("s", cost=Flash(None).cost, request_id="rid"), decode_events(sse(*events))
    )


def event(parts: list[dict[str, Any]], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    data = answer(parts, finish=finish, **extra)
    return data


def test_stream_deltas_and_final_chunk() -> None:
    chunks = stream(
        event([{"text": "hmm", "thought": True}]),
        event([{"text": "Hel"}]),
        event([{"text": "lo"}], finish="STOP"),
    )
    assert [(c.text, c.reasoning) for c in chunks[:3]] == [("", "hmm"), ("Hel", None), ("lo", None)]
    assert (chunks[0].endpoint, chunks[0].request_id, chunks[0].model) == ("s", "rid", "gemini-2.5-flash")
    final = chunks[-1]
    assert final.finish_reason == "stop" and final.usage == Usage(10, 5)
    assert final.cost == pytest.approx((10 * 0.30 + 5 * 2.50) / 1e6)
    assert final.raw["candidates"][0]["content"]["parts"] == [
        {"text": "hmm", "thought": True},
        {"text": "Hello"},
    ]


def test_streamed_function_call_arguments() -> None:
    """Vertex AI's streamFunctionCallArguments: partialArgs with JSON paths, strings continued."""
    chunks = stream(
        event([{"functionCall": {"name": "book", "willContinue": True}, "thoughtSignature": "sig"}]),
        event(
            [
                {
                    "functionCall": {
                        "partialArgs": [{"jsonPath": "$.city", "stringValue": "San ", "willContinue": True}],
                        "willContinue": True,
                    }
                }
            ]
        ),
        event(
            [
                {
                    "functionCall": {
                        "partialArgs": [{"jsonPath": "$.city", "stringValue": "Francisco"}],
                        "willContinue": True,
                    }
                }
            ]
        ),
        event(
            [
                {
                    "functionCall": {
                        "partialArgs": [
                            {"jsonPath": "$.guests[0].age", "numberValue": 30},
                            {"jsonPath": "$.vip", "boolValue": True},
                            {"jsonPath": "$.note", "nullValue": "NULL_VALUE"},
                        ],
                        "willContinue": True,
                    }
                }
            ]
        ),
        event([{"functionCall": {}}], finish="STOP"),
    )
    acc = accumulate(chunks)
    (call,) = acc.tool_calls
    args = {"city": "San Francisco", "guests": [{"age": 30}], "vip": True, "note": None}
    assert call.name == "book" and json.loads(call.arguments) == args
    assert chunks[0].tool_calls is not None and chunks[0].tool_calls[0].name == "book"
    assert acc.finish_reason == "tool_calls"
    part = acc.raw["candidates"][0]["content"]["parts"][0]
    assert part == {"functionCall": {"name": "book", "args": args}, "thoughtSignature": "sig"}
    assert (
        model_content(acc.to_response(model="m", provider="p"))["parts"][0]["functionCall"]["id"] == call.id
    )


def test_several_whole_calls_in_one_event() -> None:
    acc = accumulate(
        stream(
            event(
                [{"functionCall": {"name": "a", "args": {"q": 1}}}, {"functionCall": {"name": "b"}}],
                finish="STOP",
            )
        )
    )
    assert [(c.name, c.arguments) for c in acc.tool_calls] == [("a", '{"q":1}'), ("b", "{}")]


def test_a_stream_without_its_finish_reason_was_cut() -> None:
    with pytest.raises(StreamInterruptedError):
        stream(event([{"text": "Hel"}]))
    with pytest.raises(StreamInterruptedError):
        stream()


def test_an_error_event_mid_stream_keeps_the_usage() -> None:
    error = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
    with pytest.raises(ServiceUnavailableError) as info:
        stream(event([{"text": "Hel"}]), error)
    assert info.value.usage == Usage(10, 5) and info.value.endpoint == "s"


def test_a_blocked_prompt_in_a_stream() -> None:
    with pytest.raises(ContentFilterError):
        stream({"promptFeedback": {"blockReason": "OTHER"}, "usageMetadata": {"promptTokenCount": 3}})


def test_a_safety_stop_in_a_stream() -> None:
    ratings = [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True}]
    chunks = stream(
        event([{"text": "Sure"}]), event([], finish="SAFETY", candidate={"safetyRatings": ratings})
    )
    assert chunks[-1].finish_reason == "content_filter"
    assert chunks[-1].content_filter == {"safetyRatings": ratings, "finishReason": "SAFETY"}


@pytest.mark.parametrize(
    "data",
    ["not json", "[1, 2]", '{"candidates": "x"}', '{"candidates": [{"content": {"parts": [{"text": 1}]}}]}'],
)
def test_malformed_events(data: str) -> None:
    with pytest.raises(ResponseParsingError):
        stream(data)


# -- errors -----------------------------------------------------------------------------------------


def google(code: int, status: str, message: str = "m", details: list[Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details is not None:
        error["details"] = details
    return {"error": error}


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, google(401, "UNAUTHENTICATED"), AuthenticationError),
        (403, google(403, "PERMISSION_DENIED"), PermissionDeniedError),
        (404, google(404, "NOT_FOUND"), NotFoundError),
        (429, google(429, "RESOURCE_EXHAUSTED"), RateLimitError),
        (500, google(500, "INTERNAL"), ServiceUnavailableError),
        (503, google(503, "UNAVAILABLE"), ServiceUnavailableError),
        (
            400,
            google(
                400,
                "INVALID_ARGUMENT",
                "The input token count (2000000) exceeds the maximum number of tokens allowed (1048576).",
            ),
            ContextWindowExceededError,
        ),
        (None, [google(429, "RESOURCE_EXHAUSTED")], RateLimitError),  # the JSON array of a non-SSE stream
        (None, google(0, "UNAVAILABLE"), ServiceUnavailableError),  # status from the name
    ],
)
def test_error_classes(status: int | None, body: Any, cls: type) -> None:
    error = error_from_body(status, body)
    assert type(error) is cls


def test_retry_info_and_retry_after() -> None:
    details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}]
    error = error_from_body(
        429, google(429, "RESOURCE_EXHAUSTED", details=details), headers={"retry-after": "99"}
    )
    assert isinstance(error, RateLimitError) and error.retry_after == 7.0
    assert (
        error_from_body(429, google(429, "RESOURCE_EXHAUSTED"), headers={"retry-after": "3"}).retry_after
        == 3.0
    )  # type: ignore[attr-defined]
    assert (
        retry_delay(
            [
                {
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": {"seconds": "2", "nanos": 500000000},
                }
            ]
        )
        == 2.5
    )
    assert retry_delay([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "soon"}]) is None
    assert error_from_body(503, google(503, "UNAVAILABLE", details=details)).retry_after == 7.0  # type: ignore[attr-defined]


def test_keys_and_tokens_in_messages_are_masked() -> None:
    key = "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"
    token = "ya29.a0AfB_byC1234567890abcdefghijklmnop"
    error = error_from_body(400, google(400, "INVALID_ARGUMENT", f"bad key {key} and token {token}"))
    assert key not in str(error) and token not in str(error) and "AIza" not in error.message
    assert "***" in error.message


def test_non_json_error_bodies() -> None:
    error = error_from_body(502, "<html>Bad Gateway</html>")
    assert isinstance(error, ServiceUnavailableError) and "Bad Gateway" in error.message
    assert error_from_body(500, None).message == "HTTP 500 with an empty body"
