"""The Cohere v2 chat request body: messages, parameters, tools, documents, structured output and
thinking, checked before anything is sent (a scripted connector records what would be sent)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from model_classes import model_class
from openai_testkit import ScriptedConnector, wire_response
from pydantic import BaseModel

from core.llms.interfaces import (
    ContextWindowExceededError,
    ImagePart,
    InvalidInputError,
    Message,
    ToolCall,
    UnsupportedOperationError,
)
from core.llms.interfaces.messages import FunctionCall
from core.llms.providers.dialects.cohere_v2.payload import (
    documents_to_wire,
    response_format_to_wire,
    thinking_to_wire,
    tool_choice_to_wire,
    tool_to_wire,
)

CommandA = model_class("cohere/command-a-03-2025")
CommandR = model_class("cohere/command-r-08-2024")
Reasoning = model_class("cohere/command-a-reasoning-08-2025")
Embed = model_class("cohere/embed-v4.0")

ANSWER = {
    "id": "x",
    "finish_reason": "COMPLETE",
    "message": {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
    "usage": {"billed_units": {"input_tokens": 3, "output_tokens": 1}},
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class Person(BaseModel):
    """A person."""

    name: str
    age: int


async def sent(model_cls: Any, messages: Any = "hi", **params: Any) -> dict[str, Any]:
    """The body ``get_answer`` sends."""
    connector = ScriptedConnector([wire_response(ANSWER)])
    model = model_cls(connector)
    await model.get_answer(messages, **params)
    (request,) = connector.requests
    assert request.operation == "chat"
    body: dict[str, Any] = request.payload
    return body


async def test_plain_text_messages() -> None:
    body = await sent(
        CommandA,
        [
            {"role": "system", "content": "be brief"},
            {"role": "developer", "content": "really"},
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "hi"},
            {"role": "user", "content": "bye"},
        ],
        max_tokens=20,
    )
    assert body == {
        "model": "command-a-03-2025",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "system", "content": "really"},
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "hi"},
            {"role": "user", "content": "bye"},
        ],
        "max_tokens": 20,
    }


async def test_tool_round_trip_messages_keep_the_tool_plan() -> None:
    call = ToolCall("get_weather_abc", FunctionCall("get_weather", '{"city": "Oslo"}'))
    body = await sent(
        CommandA,
        [
            Message.user("Weather in Oslo?"),
            {"role": "assistant", "tool_calls": [call.to_dict()], "tool_plan": "I will look it up."},
            Message.tool("get_weather_abc", {"temperature": 3}),
            {"role": "assistant", "content": "It is 3 degrees.", "citations": [{"start": 0, "end": 2}]},
            {
                "role": "tool",
                "tool_call_id": "get_weather_abc",
                "content": [
                    {"type": "document", "document": {"data": {"temp": 3}, "id": "w1"}},
                    {"type": "text", "text": "dry"},
                ],
            },
        ],
        tools=[WEATHER],
    )
    messages = body["messages"]
    assert messages[1] == {
        "role": "assistant",
        "tool_calls": [call.to_dict()],
        "tool_plan": "I will look it up.",
    }
    assert messages[2] == {"role": "tool", "tool_call_id": "get_weather_abc", "content": '{"temperature": 3}'}
    assert messages[3] == {
        "role": "assistant",
        "content": "It is 3 degrees.",
        "citations": [{"start": 0, "end": 2}],
    }
    assert messages[4]["content"] == [
        {"type": "document", "document": {"data": {"temp": 3}, "id": "w1"}},
        {"type": "document", "document": {"data": {"text": "dry"}}},
    ]
    assert body["tools"] == [WEATHER]


async def test_assistant_text_before_tool_calls_is_the_tool_plan() -> None:
    call = ToolCall("c1", FunctionCall("get_weather", "{}"))
    body = await sent(
        CommandA, [Message.user("x"), Message.assistant("Let me check.", [call]), Message.tool("c1", "ok")]
    )
    assert body["messages"][1] == {
        "role": "assistant",
        "tool_calls": [call.to_dict()],
        "tool_plan": "Let me check.",
    }


async def test_images_are_image_url_parts() -> None:
    open_model = model_class("cohere/command-a-vision-07-2025")  # an open name: the template reads images
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 8
    body = await sent(open_model, [Message.user("what is it?", ImagePart(data=png, media_type="image/png"))])
    content = body["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "what is it?"}
    assert content[1]["type"] == "image_url" and content[1]["image_url"]["url"].startswith(
        "data:image/png;base64,"
    )
    with pytest.raises(UnsupportedOperationError):  # command-a-03-2025 reads text only
        await sent(CommandA, [Message.user("what is it?", ImagePart(data=png, media_type="image/png"))])


async def test_sampling_parameters_and_their_other_names() -> None:
    body = await sent(
        CommandA,
        temperature=0.2,
        top_p=0.5,
        top_k=40,
        stop=["END"],
        seed=7,
        frequency_penalty=0.1,
        safety_mode="strict",
        strict_tools=True,
        priority=1,
        citation_options={"mode": "FAST"},
    )
    assert {k: v for k, v in body.items() if k not in ("model", "messages")} == {
        "temperature": 0.2,
        "p": 0.5,
        "k": 40,
        "stop_sequences": ["END"],
        "seed": 7,
        "frequency_penalty": 0.1,
        "safety_mode": "STRICT",
        "strict_tools": True,
        "priority": 1,
        "citation_options": {"mode": "FAST"},
    }


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"p": 1.0}, "p=1.0 must be a number in 0.01..0.99"),
        ({"k": 501}, "k=501 must be 0..500"),
        ({"frequency_penalty": 1.5}, "frequency_penalty=1.5"),
        ({"stop_sequences": ["a"] * 6}, "at most 5"),
        ({"safety_mode": "LOUD"}, "safety_mode='LOUD'"),
        ({"strict_tools": "yes"}, "strict_tools='yes' must be True or False"),
        ({"parallel_tool_calls": True}, "unknown parameter 'parallel_tool_calls'"),
        ({"thinking": True}, "unknown parameter 'thinking'"),  # not a reasoning model
        ({"top_p": 0.5, "p": 0.4}, "pass only one of 'top_p' and 'p'"),
        ({"documents": []}, "documents is empty"),
        ({"documents": "text"}, "documents must be a list"),
        ({"tool_choice": "required"}, "needs tools="),
        ({"tools": [WEATHER], "tool_choice": "other_tool"}, "not one of the tools"),
        ({"tools": [{"type": "web_search"}]}, "function tools only"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}, "needs json_schema"),
        ({"stream": True}, "'stream' is not a parameter"),
    ],
)
async def test_bad_parameters_are_refused_before_sending(params: dict[str, Any], fragment: str) -> None:
    connector = ScriptedConnector([])
    with pytest.raises(InvalidInputError) as info:
        await CommandA(connector).get_answer("hi", **params)
    assert fragment in str(info.value)
    assert connector.requests == []


async def test_tool_choice_is_data_per_model() -> None:
    with pytest.raises(InvalidInputError, match="'tool_choice' is not supported by command-r-08-2024"):
        await sent(CommandR, tools=[WEATHER], tool_choice="required")
    connector = ScriptedConnector([wire_response(ANSWER)])
    await CommandR(connector, drop_unsupported=True).get_answer("hi", tools=[WEATHER], tool_choice="required")
    assert "tool_choice" not in connector.requests[0].payload


async def test_tool_choice_modes() -> None:
    assert (await sent(CommandA, tools=[WEATHER], tool_choice="auto")).get("tool_choice") is None
    assert (await sent(CommandA, tools=[WEATHER], tool_choice="none"))["tool_choice"] == "NONE"
    assert (await sent(CommandA, tools=[WEATHER], tool_choice="required"))["tool_choice"] == "REQUIRED"
    forced = await sent(CommandA, tools=[WEATHER, Person], tool_choice=Person)
    assert forced["tool_choice"] == "REQUIRED"
    assert [t["function"]["name"] for t in forced["tools"]] == ["Person"]
    by_dict = await sent(
        CommandA,
        tools=[WEATHER, Person],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    assert [t["function"]["name"] for t in by_dict["tools"]] == ["get_weather"]


def test_pydantic_tool() -> None:
    tool = tool_to_wire(Person)
    assert tool["type"] == "function"
    fn = tool["function"]
    assert (fn["name"], fn["description"]) == ("Person", "A person.")
    assert fn["parameters"]["properties"].keys() == {"name", "age"}
    assert "strict" not in fn
    with pytest.raises(InvalidInputError, match="parameters"):
        tool_to_wire({"type": "function", "function": {"name": "x"}})


def test_documents() -> None:
    assert documents_to_wire(
        [
            "plain",
            {"title": "T", "snippet": "S", "id": "d1"},
            {"data": {"text": "D"}, "id": "d2"},
            {"data": "x"},
        ]
    ) == [
        "plain",
        {"data": {"title": "T", "snippet": "S"}, "id": "d1"},
        {"data": {"text": "D"}, "id": "d2"},
        {"data": {"data": "x"}},
    ]
    for bad in ([3], [{}], [{"text": "x", "id": 5}]):
        with pytest.raises(InvalidInputError):
            documents_to_wire(bad)


def test_response_formats() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert response_format_to_wire(schema) == {"type": "json_object", "json_schema": schema}
    assert response_format_to_wire({"type": "json_object"}) == {"type": "json_object"}
    assert response_format_to_wire({"type": "text"}) == {"type": "text"}
    openai_shape = {"type": "json_schema", "json_schema": {"name": "a", "schema": schema}}
    assert response_format_to_wire(openai_shape) == {"type": "json_object", "json_schema": schema}
    strict = response_format_to_wire(Person)["json_schema"]
    assert strict["required"] == ["name", "age"] and strict["additionalProperties"] is False


async def test_structured_output_is_parsed() -> None:
    answer = {
        **ANSWER,
        "message": {"role": "assistant", "content": [{"type": "text", "text": '{"name": "Ann", "age": 3}'}]},
    }
    model = CommandA(ScriptedConnector([wire_response(answer), wire_response(answer)]))
    response = await model.get_answer("who?", response_format=Person)
    assert response.parsed == Person(name="Ann", age=3)
    response = await model.get_answer("who?", response_format={"type": "json_object"})
    assert response.parsed == {"name": "Ann", "age": 3}


def test_thinking() -> None:
    assert thinking_to_wire(True) == {"type": "enabled"}
    assert thinking_to_wire(False) == {"type": "disabled"}
    assert thinking_to_wire(2048) == {"type": "enabled", "token_budget": 2048}
    assert thinking_to_wire({"type": "enabled", "token_budget": 5}) == {"type": "enabled", "token_budget": 5}
    for bad in (0, {"type": "on"}, {"budget": 3}, "yes"):
        with pytest.raises(InvalidInputError):
            thinking_to_wire(bad)


async def test_thinking_on_the_reasoning_model() -> None:
    body = await sent(Reasoning, thinking={"type": "enabled", "token_budget": 1000}, max_tokens=2000)
    assert body["thinking"] == {"type": "enabled", "token_budget": 1000}


async def test_per_call_model_and_stream_flag() -> None:
    connector = ScriptedConnector([wire_response(ANSWER)])
    model = CommandA(connector)
    await model.get_answer("hi", model="command-a-03-2025-custom", timeout=5)
    request = connector.requests[0]
    assert request.payload["model"] == request.model == "command-a-03-2025-custom"
    assert request.model_fixed and request.total_timeout == 5
    assert "timeout" not in request.payload


async def test_context_window_and_text_only_models() -> None:
    connector = ScriptedConnector([])
    with pytest.raises(ContextWindowExceededError):
        await CommandR(connector).get_answer("word " * 200_000)
    with pytest.raises(ContextWindowExceededError):  # documents count too
        await CommandR(connector).get_answer("hi", documents=["word " * 200_000])
    with pytest.raises(UnsupportedOperationError, match="embed"):
        await Embed(connector).get_answer("hi")
    assert connector.requests == []


def test_messages_json_is_valid() -> None:
    json.dumps(documents_to_wire(["x"]))
    assert tool_choice_to_wire("auto", None) == (None, None)
