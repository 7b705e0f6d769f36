"""The Messages API request body: messages → ``system`` + content blocks, native blocks carried
back, tools, ``tool_choice``, structured output as a forced tool, thinking, cache points,
``max_tokens`` defaults, and everything refused before anything is sent."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from model_classes import model_class
from openai_testkit import ScriptedConnector
from pydantic import BaseModel

from core.llms.interfaces import (
    ContextWindowExceededError,
    FilePart,
    FunctionCall,
    ImagePart,
    InvalidInputError,
    Message,
    TextPart,
    ToolCall,
    UnsupportedOperationError,
)
from core.llms.providers.dialects.anthropic_messages.calls import DEFAULT_MAX_TOKENS, prepare
from core.llms.providers.dialects.anthropic_messages.parameters import merge_parameters

Sonnet45 = model_class("anthropic/claude-sonnet-4-5")
Haiku35 = model_class("anthropic/claude-3-5-haiku")
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class Weather(BaseModel):
    """A weather report."""

    city: str
    celsius: float


def body(messages: Any, model_cls: Any = Sonnet45, stream: bool = False, **params: Any) -> dict[str, Any]:
    model = model_cls(ScriptedConnector())
    return model._prepare(messages, params, stream).body


# -- messages ------------------------------------------------------------------------------------


def test_plain_text_and_system() -> None:
    out = body([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}])
    assert out == {
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": DEFAULT_MAX_TOKENS,
        "messages": [{"role": "user", "content": "hi"}],
        "system": "Be brief.",
    }
    assert body("hi", stream=True)["stream"] is True


def test_several_system_messages_become_system_blocks_in_order() -> None:
    out = body([Message.system("one"), Message.user("q"), Message("developer", "two")])
    assert out["system"] == [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]
    assert out["messages"] == [{"role": "user", "content": "q"}]


def test_user_parts_images_and_documents() -> None:
    message = Message.user(
        "look",
        ImagePart(data=PNG, media_type="image/png"),
        ImagePart(url="https://example.com/cat.jpg"),
        ImagePart(url="data:image/webp;base64," + base64.b64encode(b"RIFF").decode()),
        FilePart(data=b"%PDF-1.4", filename="report.pdf"),
        FilePart(data=b"plain words", media_type="text/plain"),
        FilePart(url="https://example.com/a.pdf"),
        FilePart(file_id="file_011"),
    )
    (turn,) = body([message])["messages"]
    blocks = turn["content"]
    assert blocks[0] == {"type": "text", "text": "look"}
    assert blocks[1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(PNG).decode()},
    }
    assert blocks[2]["source"] == {"type": "url", "url": "https://example.com/cat.jpg"}
    assert blocks[3]["source"]["media_type"] == "image/webp"
    assert blocks[4] == {
        "type": "document",
        "source": {
            "type": "base64",
            "media_type": "application/pdf",
            "data": base64.b64encode(b"%PDF-1.4").decode(),
        },
        "title": "report.pdf",
    }
    assert blocks[5]["source"] == {"type": "text", "media_type": "text/plain", "data": "plain words"}
    assert blocks[6]["source"] == {"type": "url", "url": "https://example.com/a.pdf"}
    assert blocks[7]["source"] == {"type": "file", "file_id": "file_011"}


@pytest.mark.parametrize(
    ("part", "says"),
    [
        (ImagePart(data=b"BM..", media_type="image/bmp"), "not 'image/bmp'"),
        (ImagePart(url="ftp://x/y.png"), "http(s) or a base64 data: URL"),
        (FilePart(data=b"x", media_type="application/msword"), "PDF and plain-text"),
    ],
)
def test_unreadable_parts_are_refused(part: Any, says: str) -> None:
    with pytest.raises(InvalidInputError, match=r"messages\[0\]\.content\[1\]") as info:
        body([Message.user("x", part)])
    assert says in info.value.message


def test_assistant_tool_calls_and_tool_results_merge_into_turns() -> None:
    call = ToolCall("toolu_1", FunctionCall("get_weather", '{"city": "Paris"}'))
    other = ToolCall("toolu_2", FunctionCall("get_weather", '{"city": "Rome"}'))
    out = body(
        [
            Message.user("weather?"),
            Message.assistant("Checking.", [call, other]),
            Message.tool("toolu_1", "22 C"),
            Message.tool("toolu_2", "25 C"),
            Message.user("and tomorrow?"),
        ]
    )
    assert out["messages"] == [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "22 C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "25 C"},
                {"type": "text", "text": "and tomorrow?"},
            ],
        },
    ]


def test_tool_call_arguments_must_be_a_json_object() -> None:
    bad = ToolCall("toolu_1", FunctionCall("f", "[1, 2]"))
    with pytest.raises(InvalidInputError, match="JSON object"):
        body([Message.user("x"), Message.assistant(tool_calls=[bad])])


def test_native_messages_are_sent_as_they_are() -> None:
    thinking = {"type": "thinking", "thinking": "hmm", "signature": "c2ln"}
    use = {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {"city": "Oslo"}}
    native_user = {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "-3 C", "is_error": False}],
    }
    out = body([Message.user("q"), {"role": "assistant", "content": [thinking, use]}, native_user])
    assert out["messages"][1] == {"role": "assistant", "content": [thinking, use]}
    assert out["messages"][2] == native_user
    cached = {
        "role": "user",
        "content": [{"type": "text", "text": "long doc", "cache_control": {"type": "ephemeral"}}],
    }
    assert body([cached])["messages"] == [cached]


def test_native_message_with_unknown_fields_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="native Anthropic message"):
        body([{"role": "assistant", "content": [{"type": "thinking", "thinking": "x"}], "name": "bob"}])


def test_empty_messages_and_audio_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="is empty"):
        body([Message.user("q"), Message.assistant("")])
    with pytest.raises(InvalidInputError, match="no user message"):
        body([Message.system("only a system prompt")])
    with pytest.raises(UnsupportedOperationError, match="audio"):
        body(
            [
                {
                    "role": "user",
                    "content": [{"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}],
                }
            ]
        )


# -- parameters ----------------------------------------------------------------------------------


def test_sampling_stop_metadata_and_service_tier() -> None:
    out = body(
        "hi",
        temperature=0.3,
        top_p=0.9,
        top_k=40,
        stop_sequences=["END"],
        user="u-1",
        service_tier="standard_only",
        max_tokens=100,
    )
    assert out["temperature"] == 0.3 and out["top_p"] == 0.9 and out["top_k"] == 40
    assert out["stop_sequences"] == ["END"] and out["metadata"] == {"user_id": "u-1"}
    assert out["service_tier"] == "standard_only" and out["max_tokens"] == 100
    assert body("hi", stop="X")["stop_sequences"] == ["X"]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"temperature": 1.5}, "temperature"),
        ({"top_k": 0}, "top_k"),
        ({"stop": [""]}, "stop"),
        ({"metadata": {"tenant": "x"}}, "metadata"),
        ({"service_tier": "priority"}, "service_tier"),
        ({"seed": 1}, "unknown parameter 'seed'"),
        ({"max_tokens": 64_001}, "exceeds the maximum output"),
        ({"stop": "a", "stop_sequences": "b"}, "pass only one"),
        ({"cache_system": "2h"}, "cache_system"),
        ({"betas": ["a,b"]}, "betas"),
    ],
)
def test_bad_parameters_are_refused(params: dict[str, Any], error: str) -> None:
    with pytest.raises(InvalidInputError, match=error):
        body("hi", **params)


def test_tools_of_every_shape() -> None:
    server = {"type": "web_search_20250305", "name": "web_search", "max_uses": 2}
    native = {"name": "lookup", "input_schema": {"type": "object", "properties": {}}}
    bare = {"name": "bare", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}
    out = body("hi", tools=[WEATHER, Weather, server, native, bare])
    assert out["tools"][0] == {
        "name": "get_weather",
        "input_schema": WEATHER["function"]["parameters"],  # type: ignore[index]
        "description": "The weather in a city",
    }
    assert out["tools"][1]["name"] == "Weather" and out["tools"][1]["description"] == "A weather report."
    assert out["tools"][1]["input_schema"]["required"] == ["city", "celsius"]
    assert out["tools"][2:] == [server, native, {"name": "bare", "input_schema": bare["parameters"]}]
    with pytest.raises(InvalidInputError, match="input_schema"):
        body("hi", tools=[{"name": "x", "input_schema": {"type": "array"}}])


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", {"type": "auto"}),
        ("required", {"type": "any"}),
        ("any", {"type": "any"}),
        ("none", {"type": "none"}),
        ("get_weather", {"type": "tool", "name": "get_weather"}),
        ({"type": "function", "function": {"name": "get_weather"}}, {"type": "tool", "name": "get_weather"}),
        ({"type": "tool", "name": "get_weather"}, {"type": "tool", "name": "get_weather"}),
    ],
)
def test_tool_choice(choice: Any, wire: dict[str, Any]) -> None:
    assert body("hi", tools=[WEATHER], tool_choice=choice)["tool_choice"] == wire


def test_parallel_tool_calls_false_disables_parallel_use() -> None:
    out = body("hi", tools=[WEATHER], parallel_tool_calls=False)
    assert out["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    out = body("hi", tools=[WEATHER], tool_choice="required", parallel_tool_calls=False)
    assert out["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}


def test_response_format_is_a_forced_tool() -> None:
    out = body("weather?", response_format=Weather)
    assert out["tool_choice"] == {"type": "tool", "name": "Weather"}
    assert out["tools"][-1]["name"] == "Weather"
    assert out["tools"][-1]["input_schema"]["properties"]["celsius"]["type"] == "number"
    schema = {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}}}
    assert body("x", response_format=schema)["tools"][-1]["name"] == "answer"
    assert body("x", response_format={"type": "json_object"})["tools"][-1]["input_schema"] == {
        "type": "object"
    }
    assert "tools" not in body("x", response_format={"type": "text"})
    with_tools = body("x", response_format=Weather, tools=[WEATHER])
    assert with_tools["tool_choice"] == {"type": "any"} and [t["name"] for t in with_tools["tools"]] == [
        "get_weather",
        "Weather",
    ]
    with pytest.raises(InvalidInputError, match="JSON object"):
        body("x", response_format={"type": "array", "items": {"type": "string"}})


def test_thinking_and_its_rules() -> None:
    out = body("think", thinking={"type": "enabled", "budget_tokens": 2048})
    assert out["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert out["max_tokens"] == DEFAULT_MAX_TOKENS + 2048
    assert body("x", reasoning_effort="low")["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body("x", thinking=True)["thinking"]["budget_tokens"] == 4096
    assert body("x", thinking=3000)["thinking"]["budget_tokens"] == 3000
    assert "thinking" not in body("x", reasoning_effort="none")
    assert body("x", thinking={"type": "adaptive"})["thinking"] == {"type": "adaptive"}
    for params, error in (
        ({"thinking": 500}, ">= 1024"),
        ({"thinking": 2048, "max_tokens": 2048}, "above the thinking budget"),
        ({"thinking": 2048, "temperature": 0.5}, "temperature must be 1"),
        ({"thinking": 2048, "top_k": 5}, "top_k"),
        ({"thinking": 2048, "tools": [WEATHER], "tool_choice": "required"}, "cannot force"),
        ({"thinking": 2048, "response_format": Weather}, "cannot be combined with thinking"),
        ({"thinking": 2048, "reasoning_effort": "low"}, "only one"),
        ({"reasoning_effort": "maximal"}, "reasoning_effort"),
    ):
        with pytest.raises(InvalidInputError, match=error):
            body("x", **params)


def test_thinking_on_a_model_without_it() -> None:
    with pytest.raises(UnsupportedOperationError, match="does not think"):
        body("x", Haiku35, thinking=2048)
    assert "thinking" not in body("x", Haiku35, reasoning_effort="none")
    dropping = Haiku35(ScriptedConnector(), drop_unsupported=True)
    assert "thinking" not in dropping._prepare("x", {"thinking": 2048}, False).body


def test_cache_points() -> None:
    out = body(
        [Message.system("rules"), Message.user("q")],
        tools=[WEATHER],
        cache_system=True,
        cache_tools="1h",
        cache_messages=True,
        cache_control=True,
    )
    assert out["system"] == [{"type": "text", "text": "rules", "cache_control": {"type": "ephemeral"}}]
    assert out["tools"][-1]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert out["messages"][-1]["content"] == [
        {"type": "text", "text": "q", "cache_control": {"type": "ephemeral"}}
    ]
    assert out["cache_control"] == {"type": "ephemeral"}
    block = {"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}
    natives = [{"role": "user", "content": [block, block, block, block]}]
    with pytest.raises(InvalidInputError, match="at most 4"):
        body([Message.system("s"), *natives], cache_system=True, cache_messages=True)
    with pytest.raises(InvalidInputError, match="needs a system message"):
        body("q", cache_system=True)


def test_max_tokens_default_fits_the_window_and_the_model() -> None:
    long = "word " * 700_000  # ~875K characters, ~219K tokens: over the 200K window
    with pytest.raises(ContextWindowExceededError):
        body(long)
    almost = "w" * (4 * 195_000)
    assert body(almost)["max_tokens"] < 5_000
    assert body("x", Haiku35)["max_tokens"] == 8_192


def test_betas_and_per_call_model() -> None:
    model = Sonnet45(ScriptedConnector())
    prepared = model._prepare("x", {"betas": ["files-api-2025-04-14", "b2"], "model": "claude-x"}, False)
    assert prepared.headers == {"anthropic-beta": "files-api-2025-04-14,b2"}
    assert prepared.body["model"] == "claude-x" and prepared.model_fixed


def test_bedrock_envelope() -> None:
    model = Sonnet45(ScriptedConnector())
    merged = merge_parameters(model, {"max_tokens": 50, "betas": "interleaved-thinking-2025-05-14"})
    prepared = prepare(model, "hi", merged, stream=True, envelope="bedrock")
    assert prepared.body == {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "hi"}],
        "anthropic_beta": ["interleaved-thinking-2025-05-14"],
    }
    assert prepared.headers is None


def test_defaults_are_checked_when_the_model_is_made() -> None:
    with pytest.raises(InvalidInputError, match="temperature"):
        Sonnet45(ScriptedConnector(), defaults={"temperature": 3})
    model = Sonnet45(ScriptedConnector(), defaults={"max_tokens": 77, "cache_system": True})
    out = model._prepare([Message.system("s"), Message("user", (TextPart("q"),))], {}, False).body
    assert out["max_tokens"] == 77 and out["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert json.dumps(out)  # JSON all the way down


def test_tool_results_come_first_in_a_merged_user_turn() -> None:
    call = ToolCall("toolu_1", FunctionCall("get_weather", "{}"))
    out = body(
        [
            Message.user("q"),
            Message.assistant(tool_calls=[call]),
            Message.user("note"),
            Message.tool("toolu_1", "ok"),
        ]
    )
    assert out["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"},
        {"type": "text", "text": "note"},
    ]


def test_parallel_tool_calls_without_tools_sends_nothing() -> None:
    assert "tool_choice" not in body("hi", parallel_tool_calls=False)
    with pytest.raises(InvalidInputError, match="parallel_tool_calls"):
        body("hi", tools=[WEATHER], parallel_tool_calls="no")
