"""A non-streamed Converse response → ``LLMResponse``: text, tool calls, reasoning, stop reasons,
usage and cost, guardrails, structured output, malformed bodies; and ``converse_message``."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from pydantic import BaseModel
from test_bedrock_converse_kit import Claude, FakeConnector, Nova, converse_body, wire_response

from core.llms.interfaces import InvalidInputError, LLMResponse, ResponseParsingError, Usage
from core.llms.providers.dialects.bedrock_converse import converse_message
from core.llms.providers.dialects.bedrock_converse.parsing import (
    map_stop_reason,
    parse_converse,
    usage_from_converse,
)


def parse(data: Any, **kw: Any) -> LLMResponse:
    return parse_converse(data, provider="bedrock", model="m", **kw)


@pytest.mark.parametrize(
    ("reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
        ("malformed_model_output", "error"),
        ("malformed_tool_use", "error"),
        (None, None),
    ],
)
def test_stop_reasons(reason: str | None, finish: str | None) -> None:
    assert map_stop_reason(reason) == finish


def test_an_unknown_stop_reason_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="core.llms.bedrock"):
        assert map_stop_reason("brand_new_reason") == "stop"
        assert map_stop_reason("brand_new_reason") == "stop"
        assert map_stop_reason(42) == "stop"
    assert caplog.text.count("brand_new_reason") == 1


def test_usage_counts_the_cache_as_input() -> None:
    usage = usage_from_converse(
        {
            "inputTokens": 9,
            "outputTokens": 117,
            "totalTokens": 6208,
            "cacheReadInputTokens": 6082,
            "cacheWriteInputTokens": 0,
        }
    )
    assert usage == Usage(input_tokens=6091, output_tokens=117, cached_input_tokens=6082)
    written = usage_from_converse({"inputTokens": 4, "outputTokens": 1, "cacheWriteInputTokens": 1000})
    assert written == Usage(input_tokens=1004, output_tokens=1, cache_write_input_tokens=1000)
    assert usage_from_converse({"inputTokens": "7", "outputTokens": -1}) == Usage(0, 0)
    assert usage_from_converse(None) is None


def test_text_answer() -> None:
    data = converse_body({"text": "Hello "}, {"text": "there"}, usage={"inputTokens": 7, "outputTokens": 30})
    response = parse(data, cost=lambda u: 0.5)
    assert (response.text, response.finish_reason, response.model) == ("Hello there", "stop", "m")
    assert response.usage == Usage(7, 30)
    assert response.cost == 0.5
    assert response.tool_calls == [] and response.reasoning is None and response.content_filter is None
    assert response.raw is data


def test_tool_calls_and_reasoning() -> None:
    data = converse_body(
        {"reasoningContent": {"reasoningText": {"text": "Need weather.", "signature": "sig"}}},
        {"reasoningContent": {"redactedContent": "cmVkYWN0ZWQ="}},
        {"text": "Let me check."},
        {"toolUse": {"toolUseId": "t1", "name": "weather", "input": {"city": "Paris", "unit": "°C"}}},
        {"toolUse": {"toolUseId": "t2", "name": "time", "input": {}}},
        stop="tool_use",
    )
    response = parse(data)
    assert response.finish_reason == "tool_calls"
    assert response.reasoning == "Need weather."
    assert response.text == "Let me check."
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("t1", "weather", '{"city":"Paris","unit":"°C"}'),
        ("t2", "time", "{}"),
    ]
    assert response.tool_calls[0].parse_arguments() == {"city": "Paris", "unit": "°C"}


def test_server_tools_are_not_calls_for_the_caller() -> None:
    data = converse_body(
        {
            "toolUse": {
                "toolUseId": "s1",
                "name": "nova_code_interpreter",
                "type": "server_tool_use",
                "input": {"snippet": "1+1"},
            }
        },
        {"toolResult": {"toolUseId": "s1", "content": [{"json": {"stdOut": "2"}}], "status": "success"}},
        {"text": "It is 2."},
    )
    response = parse(data)
    assert response.text == "It is 2." and response.tool_calls == []


def test_citations_content_is_text() -> None:
    data = converse_body(
        {"citationsContent": {"content": [{"text": "Paris"}], "citations": [{"title": "doc"}]}},
        {"text": " is the capital."},
    )
    assert parse(data).text == "Paris is the capital."


@pytest.mark.parametrize("reason", ["guardrail_intervened", "content_filtered"])
def test_a_guardrail_intervention_is_a_finish_reason(reason: str) -> None:
    trace = {"guardrail": {"inputAssessment": {"gr1": {"contentPolicy": {"filters": [{"type": "HATE"}]}}}}}
    data = converse_body({"text": "Sorry, the model cannot answer this."}, stop=reason, trace=trace)
    response = parse(data, response_format={"type": "json_object"})
    assert response.finish_reason == "content_filter"
    assert response.content_filter == {"stop_reason": reason, "guardrail": trace["guardrail"]}
    assert response.parsed is None  # no crash: the answer is the guardrail's message


def test_a_guardrail_trace_without_intervention_is_kept() -> None:
    trace = {"guardrail": {"outputAssessments": {}}}
    response = parse(converse_body({"text": "ok"}, trace=trace))
    assert response.finish_reason == "stop" and response.content_filter == {"guardrail": trace["guardrail"]}


class City(BaseModel):
    name: str
    population: int


def test_structured_output_through_the_forced_tool() -> None:
    data = converse_body(
        {"toolUse": {"toolUseId": "t1", "name": "City", "input": {"name": "Oslo", "population": 700000}}},
        stop="tool_use",
    )
    response = parse(data, response_format=City, structured_tool="City")
    assert response.parsed == City(name="Oslo", population=700000)
    assert json.loads(response.text) == {"name": "Oslo", "population": 700000}
    assert response.finish_reason == "stop" and response.tool_calls == []


def test_structured_output_when_the_model_calls_a_tool_first() -> None:
    data = converse_body({"toolUse": {"toolUseId": "t1", "name": "lookup", "input": {}}}, stop="tool_use")
    response = parse(data, response_format=City, structured_tool="City")
    assert response.parsed is None and response.finish_reason == "tool_calls"
    assert [c.name for c in response.tool_calls] == ["lookup"]


def test_structured_output_that_does_not_fit() -> None:
    data = converse_body({"toolUse": {"toolUseId": "t1", "name": "City", "input": {"name": "Oslo"}}})
    with pytest.raises(ResponseParsingError, match="does not match City"):
        parse(data, response_format=City, structured_tool="City")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({}, "no output.message.content"),
        ({"output": {"message": {"content": "text"}}}, "no output.message.content"),
        (["not", "an", "object"], "no output.message.content"),
        (converse_body("block"), "is not an object"),  # type: ignore[arg-type]
        (converse_body({"text": 5}), "content[0].text is a JSON number"),
        (converse_body({"toolUse": {"input": {}}}), "toolUse has no name"),
        (converse_body({"reasoningContent": {"reasoningText": {"text": ["x"]}}}), "is a JSON array"),
    ],
)
def test_malformed_bodies(data: Any, words: str) -> None:
    with pytest.raises(ResponseParsingError, match=re.escape(words)):
        parse(data)


def test_unknown_blocks_are_skipped() -> None:
    data = converse_body({"image": {"format": "png"}}, {"somethingNew": {}}, {"text": "ok"})
    assert parse(data).text == "ok"


# -- through the model -----------------------------------------------------------------------------------


async def test_the_model_stamps_the_response() -> None:
    body = converse_body({"text": "Hi"}, usage={"inputTokens": 1_000_000, "outputTokens": 1_000_000})
    conn = FakeConnector([wire_response(body, request_id="req-9")])
    response = await Claude(conn).get_answer("Hello")
    assert (response.endpoint, response.request_id, response.latency, response.ttfb) == (
        "https://bedrock.test",
        "req-9",
        0.25,
        0.1,
    )
    assert (response.provider, response.model) == ("bedrock", "claude-sonnet-4")
    assert response.cost == pytest.approx(18.0)


async def test_a_parse_error_says_where_it_came_from() -> None:
    conn = FakeConnector([wire_response({"unexpected": True})])
    with pytest.raises(ResponseParsingError) as info:
        await Nova(conn).get_answer("Hello")
    err = info.value
    assert (err.endpoint, err.status, err.request_id, err.provider, err.model) == (
        "https://bedrock.test",
        200,
        "req-1",
        "bedrock",
        "nova-micro",
    )


async def test_structured_output_through_the_model() -> None:
    body = converse_body(
        {"toolUse": {"toolUseId": "t1", "name": "City", "input": {"name": "Oslo", "population": 1}}},
        stop="tool_use",
    )
    conn = FakeConnector([wire_response(body)])
    response = await Claude(conn).get_answer("Oslo?", response_format=City)
    assert response.parsed == City(name="Oslo", population=1)


# -- the next turn ---------------------------------------------------------------------------------------


async def test_converse_message_sends_the_reasoning_back() -> None:
    blocks = [
        {"reasoningContent": {"reasoningText": {"text": "Think.", "signature": "sig=="}}},
        {"toolUse": {"toolUseId": "t1", "name": "weather", "input": {"city": "Paris"}}},
    ]
    conn = FakeConnector(
        [wire_response(converse_body(*blocks, stop="tool_use")), wire_response(converse_body())]
    )
    model = Claude(conn)
    tools = [{"name": "weather", "parameters": {"type": "object", "properties": {}}}]
    first = await model.get_answer("Weather in Paris?", tools=tools, reasoning_effort="low")
    follow_up = converse_message(first)
    assert follow_up == {"role": "assistant", "content": blocks}
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        follow_up,
        {"role": "tool", "tool_call_id": "t1", "content": "18C"},
    ]
    await model.get_answer(messages, tools=tools, reasoning_effort="low")
    sent = conn.requests[1].payload["messages"]
    assert sent[1] == {"role": "assistant", "content": blocks}
    assert sent[2] == {
        "role": "user",
        "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "18C"}]}}],
    }


def test_converse_message_needs_a_converse_answer() -> None:
    with pytest.raises(InvalidInputError, match="no Converse message"):
        converse_message(LLMResponse(text="x", model="m", provider="p"))
    assert converse_message(converse_body({"text": "a"}, {"junk": 1, "more": 2})) == {
        "role": "assistant",
        "content": [{"text": "a"}],
    }
