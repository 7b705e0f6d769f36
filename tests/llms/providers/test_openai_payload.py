"""Chat Completions request bodies: messages, parameter rules per model, tools, structured output."""

from __future__ import annotations

import base64
from typing import Annotated, Any, ClassVar, Literal

import pytest
from model_classes import model_class
from openai_testkit import ScriptedConnector
from pydantic import BaseModel, Field

from core.llms.interfaces import (
    AudioPart,
    ContextWindowExceededError,
    FilePart,
    FunctionCall,
    ImagePart,
    InvalidInputError,
    Message,
    ToolCall,
    UnsupportedOperationError,
)
from core.llms.interfaces.metadata import Capabilities, ModelMetadata
from core.llms.providers.dialects.openai_chat import OpenAIChatModel
from core.llms.providers.dialects.openai_chat.payload import build_chat_payload, response_format_to_wire
from core.llms.providers.dialects.openai_chat.schema import strict_json_schema

GPT5 = model_class("openai/gpt-5")
O3 = model_class("openai/o3")
GPT4o = model_class("openai/gpt-4o")
GPT41Mini = model_class("openai/gpt-4.1-mini")
O4Mini = model_class("openai/o4-mini")


def prepare(
    model_cls: type[OpenAIChatModel], messages: Any = "hi", *, streaming: bool = False, **params: Any
) -> Any:

    request, _ = model_cls(ScriptedConnector())._prepare(messages, params, streaming)
    return request


def body(model_cls: type[OpenAIChatModel], messages: Any = "hi", **params: Any) -> dict[str, Any]:
    payload: dict[str, Any] = prepare(model_cls, messages, **params).payload
    return payload


class Weather(BaseModel):
    """Get the weather for a city."""

    city: str
    unit: Literal["c", "f"] = "c"


class Address(BaseModel):
    """A postal address."""

    street: str
    city: str = Field(description="City name")


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


class Person(BaseModel):
    name: str
    nickname: str | None = None
    home: Address = Field(description="where they live")
    past: list[Address] = []
    pet: Annotated[Cat | Dog, Field(discriminator="kind")]


def assert_strict(node: Any, path: str = "#") -> None:
    """Every object in ``node`` is closed and requires all of its properties; no defaults,
    no ``$ref`` with siblings, no ``oneOf``."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            assert_strict(item, f"{path}/{i}")
        return
    if not isinstance(node, dict):
        return
    assert "default" not in node, path
    assert "oneOf" not in node, path
    assert not ("$ref" in node and len(node) > 1), path
    if node.get("type") == "object":
        assert node["additionalProperties"] is False, path
        assert node["required"] == list(node["properties"]), path
    for key, value in node.items():
        if key in ("properties", "$defs"):
            for name, sub in value.items():
                assert_strict(sub, f"{path}/{key}/{name}")
        else:
            assert_strict(value, f"{path}/{key}")


# -- messages -------------------------------------------------------------------------------------


def test_roles_map_to_the_wire() -> None:
    call = ToolCall("call_1", FunctionCall("get_weather", '{"city":"Paris"}'))
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "developer", "content": "dev note"},
        {"role": "user", "content": "weather?", "name": "ann"},
        Message.assistant(tool_calls=[call]),
        Message.tool("call_1", {"temp": 21}),
        Message.assistant("It is 21."),
    ]
    assert body(GPT41Mini, messages)["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "developer", "content": "dev note"},
        {"role": "user", "content": "weather?", "name": "ann"},
        {"role": "assistant", "content": None, "tool_calls": [call.to_dict()]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
        {"role": "assistant", "content": "It is 21."},
    ]


def test_model_field_and_basic_shape() -> None:
    payload = body(GPT41Mini, "hello")
    assert payload == {
        "model": "gpt-4.1-mini",
        "messages": [{"role": "user", "content": "hello"}],
    }


@pytest.mark.parametrize(("model_cls", "role"), [(O4Mini, "developer"), (O3, "developer"), (GPT5, "system")])
def test_system_role_per_family(model_cls: type[OpenAIChatModel], role: str) -> None:
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    assert body(model_cls, messages)["messages"][0] == {"role": role, "content": "s"}


def test_user_content_parts() -> None:
    png = b"\x89PNG\r\n\x1a\nDATA"
    message = Message.user(
        "describe",
        ImagePart(url="https://example.test/cat.jpg", detail="high"),
        ImagePart(data=png, media_type="image/png"),
        FilePart(data=b"%PDF-1.7", filename="report.pdf"),
        FilePart(file_id="file-123"),
    )
    parts = body(GPT4o, [message])["messages"][0]["content"]
    assert parts == [
        {"type": "text", "text": "describe"},
        {"type": "image_url", "image_url": {"url": "https://example.test/cat.jpg", "detail": "high"}},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64," + base64.b64encode(png).decode()},
        },
        {
            "type": "file",
            "file": {"filename": "report.pdf", "file_data": "data:application/pdf;base64,JVBERi0xLjc="},
        },
        {"type": "file", "file": {"file_id": "file-123"}},
    ]


def test_audio_input_for_a_model_that_accepts_audio() -> None:
    class AudioModel(OpenAIChatModel):
        metadata: ClassVar[ModelMetadata] = GPT4o.metadata.replace(
            **{
                "name": "gpt-4o-audio-preview",
                "input_media": frozenset({"text", "audio"}),
                "capabilities": Capabilities(audio_in=True),
            }
        )

    message = Message.user("transcribe", AudioPart(b"RIFFxxxx", "wav"))
    parts = body(AudioModel, [message])["messages"][0]["content"]
    assert parts[1] == {"type": "input_audio", "input_audio": {"data": "UklGRnh4eHg=", "format": "wav"}}
    with pytest.raises(UnsupportedOperationError, match="does not accept audio input"):
        body(GPT41Mini, [message])


def test_bad_message_shapes() -> None:
    with pytest.raises(
        InvalidInputError,
        match=r"messages\[0\].content\[0\]: system messages carry text only, not image parts",
    ):
        body(GPT4o, [Message("system", (ImagePart(url="https://x/a.png"),))])
    with pytest.raises(InvalidInputError, match="cannot fetch a file by URL"):
        body(GPT4o, [Message.user(FilePart(url="https://x/a.pdf"))])
    with pytest.raises(InvalidInputError, match="no tool_call_id"):
        body(GPT4o, [Message("tool", ())])


# -- parameter rules ------------------------------------------------------------------------------


def test_non_reasoning_parameters_pass_through() -> None:
    payload = body(GPT41Mini, max_tokens=100, temperature=0.3, top_p=0.9, stop=["\n"], seed=7, user="u1")
    assert {k: payload[k] for k in ("max_tokens", "temperature", "top_p", "stop", "seed", "user")} == {
        "max_tokens": 100,
        "temperature": 0.3,
        "top_p": 0.9,
        "stop": ["\n"],
        "seed": 7,
        "user": "u1",
    }
    # the newer spelling is accepted and sent under the model's parameter name
    assert body(GPT41Mini, max_completion_tokens=50)["max_tokens"] == 50


@pytest.mark.parametrize("model_cls", [O4Mini, O3, GPT5])
def test_reasoning_models_rename_max_tokens(model_cls: type[OpenAIChatModel]) -> None:
    payload = body(model_cls, max_tokens=1000, reasoning_effort="low")
    assert payload["max_completion_tokens"] == 1000
    assert "max_tokens" not in payload
    assert payload["reasoning_effort"] == "low"


@pytest.mark.parametrize("param", ["temperature", "top_p", "presence_penalty", "logprobs", "stop"])
def test_reasoning_models_reject_sampling_parameters(param: str) -> None:
    value = 0.5 if param != "logprobs" else True
    with pytest.raises(InvalidInputError) as info:
        body(O4Mini, **{param: value})
    assert f"'{param}'" in info.value.message and "o4-mini" in info.value.message
    assert info.value.hint is not None and "drop_unsupported=True" in info.value.hint


def test_drop_unsupported_drops_temperature() -> None:
    model = O4Mini(ScriptedConnector(), drop_unsupported=True, defaults={"temperature": 0.2})
    request, _ = model._prepare("hi", {"max_tokens": 10}, False)
    assert "temperature" not in request.payload
    assert request.payload["max_completion_tokens"] == 10


def test_reasoning_only_parameters_unknown_elsewhere() -> None:
    with pytest.raises(InvalidInputError, match="unknown parameter 'reasoning_effort'") as info:
        body(GPT41Mini, reasoning_effort="high")
    assert info.value.hint is not None and "temperature" in info.value.hint
    assert body(GPT5, verbosity="low")["verbosity"] == "low"
    with pytest.raises(InvalidInputError, match="unknown parameter 'verbosity'"):
        body(O3, verbosity="low")


def test_temperature_range_checked() -> None:
    with pytest.raises(InvalidInputError, match=r"outside 0\.0\.\.2\.0"):
        body(GPT4o, temperature=2.5)


def test_n_and_stream_parameters() -> None:
    assert "n" not in body(GPT41Mini, n=1)
    with pytest.raises(InvalidInputError, match="n=3 is not supported"):
        body(GPT41Mini, n=3)
    with pytest.raises(InvalidInputError) as info:
        body(GPT41Mini, stream=True)
    assert info.value.hint == "call stream_answer() to stream an answer"


def test_streams_always_ask_for_usage() -> None:
    request = prepare(GPT41Mini, streaming=True)
    assert request.stream is True
    assert request.payload["stream"] is True
    assert request.payload["stream_options"] == {"include_usage": True}
    assert "stream" not in prepare(GPT41Mini).payload


def test_transport_options_are_not_in_the_body() -> None:
    request = prepare(GPT41Mini, timeout=12.5, read_timeout=3.0)
    assert (request.operation, request.total_timeout, request.read_timeout) == ("chat", 12.5, 3.0)
    assert "timeout" not in request.payload and "read_timeout" not in request.payload


def test_request_names_the_catalogue_model_unless_the_call_fixes_one() -> None:
    request = prepare(GPT41Mini)
    assert (request.model, request.model_fixed) == ("gpt-4.1-mini", False)
    pinned = prepare(GPT41Mini, model="ft:gpt-4.1-mini:org::x", timeout=5.0)
    assert (pinned.model, pinned.model_fixed) == ("ft:gpt-4.1-mini:org::x", True)
    assert pinned.total_timeout == 5.0 and "timeout" not in pinned.payload


@pytest.mark.parametrize("streaming", [False, True])
def test_per_call_model_is_the_body_model(streaming: bool) -> None:
    request = prepare(GPT41Mini, streaming=streaming, model="ft:gpt-4.1-mini:org::x")
    assert request.payload["model"] == "ft:gpt-4.1-mini:org::x"


@pytest.mark.parametrize("bad", ["", "   ", 7, ["gpt-4o"]])
def test_per_call_model_must_be_a_model_id(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="model= must be a non-empty model id string"):
        prepare(GPT41Mini, model=bad)


def test_prompt_too_big_for_the_window_is_refused_before_sending() -> None:
    with pytest.raises(ContextWindowExceededError) as info:
        prepare(GPT4o, "x" * 600_000)
    assert info.value.hint is not None and "128,000 tokens" in info.value.hint
    with pytest.raises(InvalidInputError, match="maximum output of gpt-4o"):
        prepare(GPT4o, max_tokens=20_000)


# -- tools ----------------------------------------------------------------------------------------


def test_tools_from_dicts_and_pydantic_models() -> None:
    raw = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    bare = {"name": "ping", "description": "ping it", "parameters": {"type": "object", "properties": {}}}
    payload = body(GPT41Mini, tools=[raw, bare, Weather], tool_choice="Weather", parallel_tool_calls=False)
    tools = payload["tools"]
    assert tools[0] == raw
    assert tools[1] == {"type": "function", "function": bare}
    fn = tools[2]["function"]
    assert fn["name"] == "Weather"
    assert fn["description"] == "Get the weather for a city."
    assert fn["strict"] is True
    assert fn["parameters"]["required"] == ["city", "unit"]
    assert fn["parameters"]["additionalProperties"] is False
    assert "default" not in fn["parameters"]["properties"]["unit"]
    assert payload["tool_choice"] == {"type": "function", "function": {"name": "Weather"}}
    assert payload["parallel_tool_calls"] is False


@pytest.mark.parametrize("choice", ["auto", "none", "required"])
def test_tool_choice_modes(choice: str) -> None:
    assert body(GPT41Mini, tools=[Weather], tool_choice=choice)["tool_choice"] == choice


def test_tool_choice_pydantic_class_and_dict() -> None:
    assert (
        body(GPT41Mini, tools=[Weather], tool_choice=Weather)["tool_choice"]["function"]["name"] == "Weather"
    )
    forced = {"type": "function", "function": {"name": "x"}}
    assert body(GPT41Mini, tools=[Weather], tool_choice=forced)["tool_choice"] == forced


def test_bad_tools() -> None:
    with pytest.raises(InvalidInputError, match=r"tools\[0\] must be"):
        body(GPT41Mini, tools=[42])
    with pytest.raises(InvalidInputError, match="tools must be a list"):
        body(GPT41Mini, tools="Weather")
    with pytest.raises(InvalidInputError, match="tool_choice must be"):
        body(GPT41Mini, tools=[Weather], tool_choice=3)


def test_tools_refused_on_a_model_without_tools() -> None:
    class NoTools(OpenAIChatModel):
        metadata: ClassVar[ModelMetadata] = GPT41Mini.metadata.replace(
            **{"name": "plain", "capabilities": Capabilities()}
        )

    with pytest.raises(UnsupportedOperationError, match="plain does not support tools"):
        body(NoTools, tools=[Weather])
    with pytest.raises(UnsupportedOperationError, match="does not support response_format"):
        body(NoTools, response_format=Weather)
    assert body(NoTools, response_format={"type": "text"})["response_format"] == {"type": "text"}


# -- structured output ----------------------------------------------------------------------------


def test_response_format_from_a_nested_pydantic_model_is_strict() -> None:
    fmt = body(GPT4o, response_format=Person)["response_format"]
    assert fmt["type"] == "json_schema"
    spec = fmt["json_schema"]
    assert (spec["name"], spec["strict"]) == ("Person", True)
    schema = spec["schema"]
    assert_strict(schema)
    assert schema["required"] == ["name", "nickname", "home", "past", "pet"]
    # the $ref carrying a description was inlined (strict mode forbids $ref siblings)
    assert schema["properties"]["home"]["description"] == "where they live"
    assert schema["properties"]["home"]["properties"]["city"] == {
        "description": "City name",
        "title": "City",
        "type": "string",
    }
    assert schema["properties"]["past"]["items"] == {"$ref": "#/$defs/Address"}
    assert schema["properties"]["pet"]["anyOf"] == [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}]
    assert schema["$defs"]["Address"]["additionalProperties"] is False


def test_strict_schema_handles_recursion_and_rejects_free_form_maps() -> None:
    class Node(BaseModel):
        value: int
        children: list[Node] = []
        parent: Node | None = Field(None, description="up")

    Node.model_rebuild()
    schema = strict_json_schema(Node.model_json_schema())
    assert_strict(schema)

    class Bag(BaseModel):
        items: dict[str, int]

    with pytest.raises(InvalidInputError, match="additionalProperties"):
        strict_json_schema(Bag.model_json_schema())


def test_strict_schema_merges_single_allof_and_leaves_input_untouched() -> None:
    original: dict[str, Any] = {
        "type": "object",
        "properties": {"a": {"allOf": [{"type": "string"}], "description": "d", "default": "x"}},
    }
    converted = strict_json_schema(original)
    assert converted["properties"]["a"] == {"type": "string", "description": "d"}
    assert original["properties"]["a"]["default"] == "x"


def test_response_format_dicts() -> None:
    full = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}, "strict": True}}
    assert response_format_to_wire(full) == full
    assert response_format_to_wire({"type": "json_object"}) == {"type": "json_object"}
    bare = {"title": "Answer Form", "type": "object", "properties": {"a": {"type": "string"}}}
    assert response_format_to_wire(bare) == {
        "type": "json_schema",
        "json_schema": {"name": "Answer_Form", "schema": bare, "strict": False},
    }
    with pytest.raises(InvalidInputError, match="response_format must be"):
        response_format_to_wire("json")


def test_build_chat_payload_directly() -> None:
    payload = build_chat_payload(
        "my-deployment", [Message.system("s"), Message.user("u")], {"temperature": 0}, stream=False
    )
    assert payload == {
        "model": "my-deployment",
        "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
        "temperature": 0,
    }
