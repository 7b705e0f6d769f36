"""core-llms-ollama request bodies: messages, images, tool calls, options, format."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from pydantic import BaseModel

from core.llms.interfaces.errors import InvalidInputError, UnsupportedOperationError
from core.llms.interfaces.messages import (
    AudioPart,
    FilePart,
    FunctionCall,
    ImagePart,
    Message,
    TextPart,
    ToolCall,
    normalize_messages,
)

from .ollama_support import ollama_plugin  # noqa: F401  (makes core_llms_ollama importable)

from core_llms_ollama.payload import build_payload, output_format  # isort: skip

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


class Person(BaseModel):
    name: str
    age: int


def build(messages: Any, **params: Any) -> dict[str, Any]:
    return build_payload("llama3.2", normalize_messages(messages), params, stream=False)


def test_plain_text_and_roles() -> None:
    body = build(
        [
            {"role": "developer", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
            {"role": "assistant", "content": "ok"},
        ]
    )
    assert body == {
        "model": "llama3.2",
        "stream": False,
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "a\nb"},
            {"role": "assistant", "content": "ok"},
        ],
    }


def test_options_and_top_level_parameters() -> None:
    body = build(
        "hi", temperature=0.2, top_p=0.9, seed=7, num_predict=100, stop="END", keep_alive="10m", think=True
    )
    assert body["options"] == {
        "temperature": 0.2,
        "top_p": 0.9,
        "seed": 7,
        "num_predict": 100,
        "stop": ["END"],
    }
    assert body["keep_alive"] == "10m" and body["think"] is True
    assert "format" not in body and "tools" not in body


def test_raw_options_merge() -> None:
    body = build("hi", temperature=0.5, options={"num_ctx": 8192, "mirostat": 1})
    assert body["options"] == {"temperature": 0.5, "num_ctx": 8192, "mirostat": 1}
    with pytest.raises(InvalidInputError, match="options must be a mapping"):
        build("hi", options=["num_ctx"])


def test_unknown_parameter() -> None:
    with pytest.raises(InvalidInputError, match="'tool_choice' cannot be sent to Ollama"):
        build("hi", tool_choice="auto")


def test_images_from_bytes_and_data_urls() -> None:
    b64 = base64.b64encode(PNG).decode()
    message = Message.user(
        "what is this?",
        ImagePart(data=PNG, media_type="image/png"),
        ImagePart(url=f"data:image/png;base64,{b64}"),
    )
    [wire] = build([message])["messages"]
    assert wire == {"role": "user", "content": "what is this?", "images": [b64, b64]}


def test_image_urls_are_refused_with_a_hint() -> None:
    with pytest.raises(InvalidInputError) as info:
        build([Message.user(ImagePart(url="https://example.com/cat.png"))])
    assert "messages[0].content[0]" in str(info.value) and "download the image" in str(info.value)
    with pytest.raises(InvalidInputError, match="not base64-encoded"):
        build([Message.user(ImagePart(url="data:image/png,raw"))])


@pytest.mark.parametrize("part", [AudioPart(b"RIFF", "wav"), FilePart(data=b"%PDF")])
def test_audio_and_files_are_unsupported(part: Any) -> None:
    with pytest.raises(UnsupportedOperationError, match=r"only\s+text and images"):
        build([Message.user("x", part)])


def test_images_only_on_user_messages() -> None:
    msg = Message("assistant", (TextPart("x"), ImagePart(data=PNG, media_type="image/png")))
    with pytest.raises(InvalidInputError, match="only user messages may carry images"):
        build([msg])


def test_tool_round_trip_messages() -> None:
    call = ToolCall("call_1", FunctionCall("get_weather", '{"city": "Paris"}'))
    body = build(
        [
            Message.user("weather in Paris?"),
            Message.assistant("", [call]),
            Message.tool("call_1", {"temp": 21}),
            Message.tool("call_unknown", "?"),
        ],
        tools=[TOOL],
    )
    assert body["tools"] == [TOOL]
    assistant, tool, orphan = body["messages"][1:]
    assert assistant == {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}],
    }
    assert tool == {"role": "tool", "content": '{"temp": 21}', "tool_name": "get_weather"}
    assert "tool_name" not in orphan


def test_tool_call_arguments_must_be_json() -> None:
    bad = ToolCall("c", FunctionCall("f", "{not json"))
    with pytest.raises(
        InvalidInputError, match=r"messages\[0\].tool_calls\[0\].function.arguments is not JSON"
    ):
        build([Message.assistant("", [bad])])


@pytest.mark.parametrize(
    "tools",
    [
        "get_weather",
        [{"name": "f"}],
        [{"type": "retrieval", "function": {"name": "f"}}],
        [{"type": "function", "function": {"name": ""}}],
    ],
)
def test_bad_tools(tools: Any) -> None:
    with pytest.raises(InvalidInputError, match="tools"):
        build("hi", tools=tools)


SCHEMA = {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("json", "json"),
        ({"type": "json_object"}, "json"),
        ({"type": "text"}, None),
        ({"type": "json_schema", "json_schema": {"name": "x", "schema": SCHEMA}}, SCHEMA),
        (SCHEMA, SCHEMA),
        (Person, Person.model_json_schema()),
    ],
)
def test_output_format(value: Any, expected: Any) -> None:
    assert output_format(value) == expected
    body = build("hi", response_format=value)
    assert body.get("format") == expected


@pytest.mark.parametrize("value", ["yaml", 3, {"type": "json_schema", "json_schema": {"schema": "x"}}])
def test_bad_output_format(value: Any) -> None:
    with pytest.raises(InvalidInputError):
        output_format(value)
