"""Chat Completions responses → LLMResponse: text, tool calls, finish reasons, usage and cost,
refusals, structured output, content-filter annotations; and get_answer end to end on a scripted
connector."""

from __future__ import annotations

import json
from typing import Any

import pytest
from model_classes import model_class
from openai_testkit import ScriptedConnector, completion, wire_response
from pydantic import BaseModel

from core.llms.interfaces import (
    BadRequestError,
    ResponseParsingError,
    Usage,
)
from core.llms.providers.dialects.openai_chat.parsing import (
    content_and_thinking,
    map_finish_reason,
    parse_chat_completion,
    parse_structured,
    usage_from_wire,
)

GPT4o = model_class("openai/gpt-4o")
GPT41Mini = model_class("openai/gpt-4.1-mini")
O4Mini = model_class("openai/o4-mini")


class City(BaseModel):
    name: str
    population: int


def parse(data: Any, **kw: Any) -> Any:
    return parse_chat_completion(data, provider="openai", model="gpt-4o", **kw)


@pytest.mark.parametrize(
    ("wire", "normal"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("tool_calls", "tool_calls"),
        ("function_call", "tool_calls"),
        ("content_filter", "content_filter"),
        (None, None),
    ],
)
def test_finish_reasons(wire: str | None, normal: str | None) -> None:
    assert map_finish_reason(wire) == normal


def test_unknown_finish_reason_is_logged_once_and_reported_as_stop(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="core.llms.openai"):
        assert map_finish_reason("weird_new_reason") == "stop"
        assert map_finish_reason("weird_new_reason") == "stop"
    assert caplog.text.count("weird_new_reason") == 1


def test_usage_with_cached_and_reasoning_tokens() -> None:
    usage = usage_from_wire(
        {
            "prompt_tokens": 1200,
            "completion_tokens": 300,
            "total_tokens": 1500,
            "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 256},
        }
    )
    assert usage == Usage(
        input_tokens=1200, output_tokens=300, cached_input_tokens=1024, reasoning_tokens=256
    )
    assert usage_from_wire(None) is None
    assert usage_from_wire({"prompt_tokens": 3, "completion_tokens": 1}) == Usage(3, 1)


def test_text_answer() -> None:
    response = parse(completion("Paris."))
    assert (response.text, response.finish_reason, response.model, response.provider) == (
        "Paris.",
        "stop",
        "gpt-4.1-mini-2025-04-14",
        "openai",
    )
    assert response.tool_calls == [] and response.refusal is None and response.content_filter is None
    assert response.usage == Usage(10, 5)


def test_tool_calls_keep_the_exact_argument_string() -> None:
    args = '{"city": "Paris",  "unit":"c"}'
    data = completion(
        None,
        finish_reason="tool_calls",
        tool_calls=[
            {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": args}},
            {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
        ],
    )
    response = parse(data)
    assert response.text == "" and response.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_a", "get_weather", args),
        ("call_b", "get_time", "{}"),
    ]


def test_legacy_function_call() -> None:
    data = completion(None, finish_reason="function_call")
    data["choices"][0]["message"]["function_call"] = {"name": "f", "arguments": "{}"}
    response = parse(data)
    assert response.finish_reason == "tool_calls"
    assert [(c.name, c.arguments) for c in response.tool_calls] == [("f", "{}")]


def test_refusal_is_surfaced() -> None:
    response = parse(completion(None, refusal="I can't help with that."), response_format=City)
    assert response.refusal == "I can't help with that."
    assert response.finish_reason == "refusal"
    assert response.parsed is None


def test_structured_output_pydantic_and_dict() -> None:
    text = json.dumps({"name": "Oslo", "population": 709000})
    assert parse(completion(text), response_format=City).parsed == City(name="Oslo", population=709000)
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    assert parse(completion(text), response_format=schema).parsed == {"name": "Oslo", "population": 709000}
    assert parse(completion(text), response_format={"type": "json_object"}).parsed["name"] == "Oslo"
    assert parse(completion(text), response_format={"type": "text"}).parsed is None
    assert parse(completion(text)).parsed is None


def test_structured_output_that_does_not_parse() -> None:
    with pytest.raises(ResponseParsingError, match="does not match City") as info:
        parse(completion('{"name": "Oslo"'), response_format=City)
    assert info.value.hint is not None and "max_tokens" in info.value.hint
    with pytest.raises(ResponseParsingError, match="not valid JSON"):
        parse_structured("{oops", {"type": "json_object"})


def test_content_filter_annotations_are_kept() -> None:
    data = completion("ok")
    data["prompt_filter_results"] = [
        {"prompt_index": 0, "content_filter_results": {"hate": {"filtered": False}}}
    ]
    data["choices"][0]["content_filter_results"] = {"violence": {"filtered": False, "severity": "safe"}}
    cf = parse(data).content_filter
    assert cf == {
        "prompt_filter_results": data["prompt_filter_results"],
        "content_filter_results": {"violence": {"filtered": False, "severity": "safe"}},
    }
    filtered = completion("partial", finish_reason="content_filter")
    assert parse(filtered).finish_reason == "content_filter"


def test_typed_content_parts_give_text_and_reasoning() -> None:
    # Mistral's magistral models: content is a list of typed parts
    parts = [
        {"type": "thinking", "thinking": [{"type": "text", "text": "The user greets. "}]},
        {"type": "thinking", "thinking": [{"type": "text", "text": "Answer briefly."}]},
        {"type": "text", "text": "Hello"},
        {"type": "text", "text": " there!"},
    ]
    response = parse(completion(parts))
    assert response.text == "Hello there!"
    assert response.reasoning == "The user greets. Answer briefly."
    assert response.finish_reason == "stop"
    # only thinking: no text; a reasoning_content field still wins over thinking parts
    only = parse(completion([{"type": "thinking", "thinking": [{"type": "text", "text": "hm"}]}]))
    assert (only.text, only.reasoning) == ("", "hm")
    both = completion(parts)
    both["choices"][0]["message"]["reasoning_content"] = "from the field"
    assert parse(both).reasoning == "from the field"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", ("plain", None)),
        (None, (None, None)),
        ([], (None, None)),
        ([{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "x"}}], ("a", None)),
        ([{"type": "thinking", "thinking": "flat string"}], (None, "flat string")),
        (
            [{"type": "thinking", "thinking": [{"type": "text", "text": "t"}, {"type": "other"}]}],
            (None, "t"),
        ),
    ],
)
def test_content_and_thinking(value: Any, expected: tuple[str | None, str | None]) -> None:
    assert content_and_thinking(value, "content") == expected


@pytest.mark.parametrize(
    "value",
    [["not a part"], [{"type": "text", "text": 5}], 42],
)
def test_content_and_thinking_refuses_malformed_parts(value: Any) -> None:
    with pytest.raises(ResponseParsingError):
        content_and_thinking(value, "choices[0].message.content")
    with pytest.raises(ResponseParsingError):
        parse(completion(value))


@pytest.mark.parametrize(
    "data",
    [None, [], {"choices": []}, {"choices": [{"index": 0}]}, {"choices": [{"message": {"content": 5}}]}],
)
def test_malformed_bodies(data: Any) -> None:
    with pytest.raises(ResponseParsingError):
        parse(data)


# -- get_answer on a scripted connector -----------------------------------------------------------


async def test_get_answer_fills_endpoint_timings_and_cost() -> None:
    usage = {
        "prompt_tokens": 2_000_000,
        "completion_tokens": 1_000_000,
        "prompt_tokens_details": {"cached_tokens": 1_000_000},
    }
    connector = ScriptedConnector([wire_response(completion("hi", usage=usage), endpoint="https://e/v1")])
    model = GPT41Mini(connector)
    response = await model.get_answer("hello")
    assert (response.endpoint, response.request_id, response.latency, response.ttfb) == (
        "https://e/v1",
        "req-1",
        0.25,
        0.1,
    )
    # gpt-4.1-mini: 1M fresh input at $0.40, 1M cached at $0.10, 1M output at $1.60
    assert response.cost == pytest.approx(0.40 + 0.10 + 1.60)
    (request,) = connector.requests
    assert (request.operation, request.stream) == ("chat", False)
    assert request.payload["model"] == "gpt-4.1-mini"


async def test_get_answer_parses_structured_output() -> None:
    text = json.dumps({"name": "Oslo", "population": 1})
    model = GPT4o(ScriptedConnector([wire_response(completion(text))]))
    response = await model.get_answer("city?", response_format=City)
    assert response.parsed == City(name="Oslo", population=1)


async def test_get_answer_parse_errors_name_the_endpoint_and_model() -> None:
    model = O4Mini(ScriptedConnector([wire_response({"choices": []}, endpoint="https://e/v1")]))
    with pytest.raises(ResponseParsingError) as info:
        await model.get_answer("hi")
    assert (info.value.endpoint, info.value.model, info.value.provider) == (
        "https://e/v1",
        "o4-mini",
        "openai",
    )


async def test_connector_errors_get_model_and_provider() -> None:
    model = GPT4o(ScriptedConnector([BadRequestError("nope", status=400)]))
    with pytest.raises(BadRequestError) as info:
        await model.get_answer("hi")
    assert (info.value.model, info.value.provider) == ("gpt-4o", "openai")
