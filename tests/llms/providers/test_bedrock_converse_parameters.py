"""The Converse request body, parameters: inference settings, tools and tool choice, structured
output (a forced tool), reasoning per family, guardrails, cache points and the rest; every
refusal is made before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel
from test_bedrock_converse_kit import (
    Claude,
    FakeConnector,
    GptOss,
    Llama,
    Nova,
    Nova2,
    converse_body,
    refused,
    sent,
    text_stream,
    weather_tool,
    wire_response,
)

from core.llms.interfaces import InvalidInputError, UnsupportedOperationError
from core.llms.providers.dialects.bedrock_converse import BedrockConverseModel

# -- parameters ------------------------------------------------------------------------------------------


async def test_inference_config() -> None:
    body = await sent(Claude, "x", max_tokens=300, temperature=0.2, top_p=0.9, stop="END")
    assert body["inferenceConfig"] == {
        "maxTokens": 300,
        "temperature": 0.2,
        "topP": 0.9,
        "stopSequences": ["END"],
    }
    body = await sent(Claude, "x", stop=["a", "b"], max_completion_tokens=10)
    assert body["inferenceConfig"] == {"stopSequences": ["a", "b"], "maxTokens": 10}


@pytest.mark.parametrize(
    ("model", "params", "words"),
    [
        (GptOss, {"temperature": 1.5}, "temperature=1.5 must be a number in 0..1"),
        (Claude, {"top_p": 2}, "top_p=2"),
        (Claude, {"stop": [""]}, "stop must be"),
        (Claude, {"stop": 5}, "stop must be"),
        (Claude, {"frequency_penalty": 1}, "unknown parameter 'frequency_penalty'"),
        (Claude, {"max_tokens": 100_000}, "exceeds the maximum output"),
        (Claude, {"stream": True}, "unknown parameter"),
    ],
)
async def test_parameters_refused(
    model: type[BedrockConverseModel], params: dict[str, Any], words: str
) -> None:
    err = await refused(model, "x", **params)
    assert words in err.message


async def test_transport_options_stay_out_of_the_body() -> None:
    conn = FakeConnector([wire_response(converse_body())])
    await Claude(conn).get_answer("x", timeout=30, read_timeout=5)
    (request,) = conn.requests
    assert (request.total_timeout, request.read_timeout) == (30, 5)
    assert set(request.payload) == {"messages"}


class Lookup(BaseModel):
    """Look a word up."""

    word: str


async def test_tools() -> None:
    bare = {"name": "now", "parameters": {"type": "object", "properties": {}}}
    native = {"toolSpec": {"name": "native", "inputSchema": {"json": {"type": "object"}}}}
    system_tool = {"systemTool": {"name": "nova_grounding"}}
    body = await sent(Claude, "x", tools=[weather_tool(), bare, Lookup, native, system_tool])
    tools = body["toolConfig"]["tools"]
    assert tools[0] == {
        "toolSpec": {
            "name": "weather",
            "description": "The weather in a city.",
            "inputSchema": {
                "json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
            },
        }
    }
    assert tools[1] == {
        "toolSpec": {"name": "now", "inputSchema": {"json": {"type": "object", "properties": {}}}}
    }
    assert tools[2]["toolSpec"]["name"] == "Lookup"
    assert tools[2]["toolSpec"]["description"] == "Look a word up."
    assert tools[2]["toolSpec"]["inputSchema"]["json"]["required"] == ["word"]
    assert tools[3:] == [native, system_tool]
    assert "toolChoice" not in body["toolConfig"]  # the model's default (auto)


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", {"auto": {}}),
        ("required", {"any": {}}),
        ("any", {"any": {}}),
        ("weather", {"tool": {"name": "weather"}}),
        ({"type": "function", "function": {"name": "weather"}}, {"tool": {"name": "weather"}}),
        ({"tool": {"name": "weather"}}, {"tool": {"name": "weather"}}),
        ({"any": {}}, {"any": {}}),
    ],
)
async def test_tool_choice(choice: Any, wire: dict[str, Any]) -> None:
    body = await sent(Claude, "x", tools=[weather_tool()], tool_choice=choice)
    assert body["toolConfig"]["toolChoice"] == wire


async def test_tool_choice_none_sends_no_tools() -> None:
    body = await sent(Claude, "x", tools=[weather_tool()], tool_choice="none")
    assert "toolConfig" not in body


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"tools": [{"type": "web_search"}]}, "Converse takes function tools"),
        ({"tools": "weather"}, "tools must be a list"),
        ({"tools": [{"toolSpec": "x"}]}, "tools[0].toolSpec must be a dict"),
        ({"tools": [weather_tool()], "tool_choice": {"tool": {}}}, "needs a name"),
        ({"tools": [weather_tool()], "tool_choice": {"type": "allowed_tools"}}, "no Converse equivalent"),
    ],
)
async def test_tools_refused(params: dict[str, Any], words: str) -> None:
    err = await refused(Claude, "x", **params)
    assert words in err.message


async def test_tools_on_a_model_without_them() -> None:
    await refused(Llama, "x", UnsupportedOperationError, tools=[weather_tool()])
    await refused(Llama, "x", UnsupportedOperationError, response_format=Lookup)


# -- structured output -----------------------------------------------------------------------------------


def answered_with(name: str, value: dict[str, Any]) -> dict[str, Any]:
    """A body answering through the forced tool ``name``."""
    return converse_body({"toolUse": {"toolUseId": "t9", "name": name, "input": value}}, stop="tool_use")


LOOKUP = answered_with("Lookup", {"word": "w"})


async def test_response_format_is_a_forced_tool() -> None:
    body = await sent(Claude, "x", LOOKUP, response_format=Lookup)
    (tool,) = body["toolConfig"]["tools"]
    assert tool["toolSpec"]["name"] == "Lookup"
    assert tool["toolSpec"]["description"] == "Look a word up."
    assert tool["toolSpec"]["inputSchema"]["json"]["properties"] == {
        "word": {"title": "Word", "type": "string"}
    }
    assert body["toolConfig"]["toolChoice"] == {"tool": {"name": "Lookup"}}


async def test_response_format_with_tools_of_the_call() -> None:
    body = await sent(Claude, "x", LOOKUP, response_format=Lookup, tools=[weather_tool()])
    assert [t["toolSpec"]["name"] for t in body["toolConfig"]["tools"]] == ["weather", "Lookup"]
    assert body["toolConfig"]["toolChoice"] == {"any": {}}
    body = await sent(Claude, "x", LOOKUP, response_format=Lookup, tools=[weather_tool()], tool_choice="none")
    assert body["toolConfig"] == {
        "tools": [body["toolConfig"]["tools"][0]],
        "toolChoice": {"tool": {"name": "Lookup"}},
    }
    assert body["toolConfig"]["tools"][0]["toolSpec"]["name"] == "Lookup"


async def test_other_response_formats() -> None:
    schema = {"title": "City", "type": "object", "properties": {"name": {"type": "string"}}}
    body = await sent(Claude, "x", answered_with("City", {"name": "Oslo"}), response_format=schema)
    assert body["toolConfig"]["tools"][0]["toolSpec"]["name"] == "City"
    assert body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"] == schema
    body = await sent(Claude, "x", answered_with("json_answer", {}), response_format={"type": "json_object"})
    assert body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"] == {"type": "object"}
    body = await sent(Claude, "x", response_format={"type": "text"})
    assert "toolConfig" not in body


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"response_format": {"type": "array", "items": {"type": "string"}}}, "must describe a JSON object"),
        (
            {"response_format": Lookup, "tools": [{"name": "Lookup", "parameters": {"type": "object"}}]},
            "also the name",
        ),
        ({"response_format": Lookup, "reasoning_effort": "low"}, "refuses while thinking"),
    ],
)
async def test_response_format_refused(params: dict[str, Any], words: str) -> None:
    err = await refused(Claude, "x", **params)
    assert words in err.message


# -- reasoning -----------------------------------------------------------------------------------------


async def test_claude_reasoning_effort() -> None:
    body = await sent(Claude, "x", reasoning_effort="high")
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 16384}}
    assert body["inferenceConfig"] == {"maxTokens": 16384 + 4096}
    body = await sent(Claude, "x", reasoning_effort="low", max_tokens=5000)
    assert body["additionalModelRequestFields"]["thinking"]["budget_tokens"] == 2048
    assert body["inferenceConfig"]["maxTokens"] == 5000
    body = await sent(Claude, "x", reasoning_effort="none")
    assert "additionalModelRequestFields" not in body and "inferenceConfig" not in body


async def test_claude_thinking() -> None:
    body = await sent(Claude, "x", thinking={"budget_tokens": 3000}, max_tokens=8000)
    assert body["additionalModelRequestFields"] == {"thinking": {"budget_tokens": 3000, "type": "enabled"}}
    body = await sent(Claude, "x", thinking={"type": "adaptive"})
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "adaptive"}}
    assert "inferenceConfig" not in body
    body = await sent(Claude, "x", thinking=True)
    assert body["additionalModelRequestFields"]["thinking"]["budget_tokens"] == 8192


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"thinking": {"budget_tokens": 2000}, "max_tokens": 2000}, "must exceed the thinking budget"),
        ({"thinking": {"budget_tokens": 100}}, "must be an integer >= 1024"),
        ({"thinking": {"budget_tokens": 64_000}}, "leaves no room"),
        ({"thinking": "lots"}, "thinking must be a dict"),
        ({"thinking": {"budget_tokens": 2000}, "reasoning_effort": "low"}, "pass one of"),
        ({"reasoning_effort": "extreme"}, "reasoning_effort='extreme' must be one of"),
        (
            {"reasoning_effort": "low", "additional_model_request_fields": {"thinking": {"type": "enabled"}}},
            "also sets",
        ),
    ],
)
async def test_claude_reasoning_refused(params: dict[str, Any], words: str) -> None:
    err = await refused(Claude, "x", **params)
    assert words in err.message


async def test_reasoning_of_other_families() -> None:
    body = await sent(Nova2, "x", reasoning_effort="medium")
    assert body["additionalModelRequestFields"] == {
        "reasoningConfig": {"type": "enabled", "maxReasoningEffort": "medium"}
    }
    body = await sent(GptOss, "x", reasoning_effort="high")
    assert body["additionalModelRequestFields"] == {"reasoning_effort": "high"}
    assert "thinking budget" in (await refused(Nova2, "x", thinking={"budget_tokens": 2000})).message
    err = await refused(Llama, "x", reasoning_effort="low")
    assert "additional_model_request_fields" in (err.hint or "")


async def test_reasoning_on_a_model_that_does_not_reason() -> None:
    err = await refused(Nova, "x", reasoning_effort="low")
    assert "does not reason" in err.message
    conn = FakeConnector([wire_response(converse_body())])
    await Nova(conn, drop_unsupported=True).get_answer("x", reasoning_effort="low")
    assert "additionalModelRequestFields" not in conn.requests[0].payload


# -- the other parameters ---------------------------------------------------------------------------------


async def test_additional_fields() -> None:
    body = await sent(
        Claude,
        "x",
        additional_model_request_fields={"top_k": 40},
        additional_model_response_field_paths=["/stop_sequence"],
        reasoning_effort="minimal",
    )
    assert body["additionalModelRequestFields"] == {
        "top_k": 40,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }
    assert body["additionalModelResponseFieldPaths"] == ["/stop_sequence"]


async def test_guardrail() -> None:
    guardrail = {"guardrailIdentifier": "gr1", "guardrailVersion": "DRAFT", "trace": "enabled"}
    body = await sent(Claude, "x", guardrail={**guardrail, "streamProcessingMode": "async"})
    assert body["guardrailConfig"] == guardrail  # the stream-only field is not sent here
    body = await sent(Claude, "x", guardrail={"guardrail_identifier": "gr1", "guardrail_version": "1"})
    assert body["guardrailConfig"] == {"guardrailIdentifier": "gr1", "guardrailVersion": "1"}


@pytest.mark.parametrize(
    ("guardrail", "words"),
    [
        ({"guardrailIdentifier": "gr1"}, "needs guardrailVersion"),
        ({"guardrailIdentifier": "gr1", "guardrailVersion": "1", "trace": "loud"}, "trace must be"),
        ({"guardrailIdentifier": "gr1", "guardrailVersion": "1", "colour": "red"}, "unknown field"),
        ({"guardrailIdentifier": "gr1", "guardrailVersion": 1}, "must be a string"),
        ("gr1", "guardrail must be a dict"),
    ],
)
async def test_guardrail_refused(guardrail: Any, words: str) -> None:
    err = await refused(Claude, "x", guardrail=guardrail)
    assert words in err.message


async def test_prompt_cache() -> None:
    messages = [{"role": "system", "content": "Rules"}, {"role": "user", "content": "Q"}]
    body = await sent(Claude, messages, prompt_cache=True, tools=[weather_tool()])
    point = {"cachePoint": {"type": "default"}}
    assert body["system"] == [{"text": "Rules"}, point]
    assert body["toolConfig"]["tools"][-1] == point
    assert body["messages"][-1]["content"] == [{"text": "Q"}, point]
    body = await sent(Claude, "Q", prompt_cache="1h")
    assert body["messages"][-1]["content"][-1] == {"cachePoint": {"type": "default", "ttl": "1h"}}
    assert "system" not in body and "toolConfig" not in body
    assert "cachePoint" not in str(await sent(Claude, "Q", prompt_cache=False))
    assert "must be True, False" in (await refused(Claude, "Q", prompt_cache="forever")).message


async def test_request_metadata_performance_and_tier() -> None:
    body = await sent(
        Claude,
        "x",
        request_metadata={"team": "search"},
        performance_config="optimized",
        service_tier="flex",
    )
    assert body["requestMetadata"] == {"team": "search"}
    assert body["performanceConfig"] == {"latency": "optimized"}
    assert body["serviceTier"] == {"type": "flex"}
    body = await sent(
        Claude, "x", performance_config={"latency": "standard"}, service_tier={"type": "priority"}
    )
    assert (body["performanceConfig"], body["serviceTier"]) == ({"latency": "standard"}, {"type": "priority"})


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"request_metadata": {"n": 1}}, "dict of strings"),
        ({"performance_config": "fast"}, "performance_config='fast'"),
        ({"service_tier": {"type": "gold"}}, "service_tier='gold'"),
        ({"additional_model_request_fields": ["x"]}, "must be a dict"),
        ({"additional_model_response_field_paths": "/x"}, "list of non-empty strings"),
    ],
)
async def test_other_parameters_refused(params: dict[str, Any], words: str) -> None:
    err = await refused(Claude, "x", **params)
    assert words in err.message


async def test_defaults_are_checked_when_the_model_is_made() -> None:
    with pytest.raises(InvalidInputError):
        Claude(FakeConnector(), defaults={"colour": "red"})
    conn = FakeConnector([wire_response(converse_body())])
    await Claude(conn, defaults={"temperature": 0.1, "max_tokens": 50}).get_answer("x", temperature=None)
    assert conn.requests[0].payload["inferenceConfig"] == {"maxTokens": 50}


async def test_the_stream_sends_the_same_body() -> None:
    messages = [{"role": "user", "content": "Hi"}]
    params = {
        "guardrail": {"guardrailIdentifier": "g", "guardrailVersion": "1", "streamProcessingMode": "async"}
    }
    conn = FakeConnector(stream_bytes=text_stream("ok"))
    async for _ in Claude(conn).stream_answer(messages, max_tokens=20, **params):
        pass
    (request,) = conn.requests
    assert (request.operation, request.stream) == ("converse_stream", True)
    body = await sent(Claude, messages, max_tokens=20, **params)
    assert request.payload == {
        **body,
        "guardrailConfig": {**body["guardrailConfig"], "streamProcessingMode": "async"},
    }
