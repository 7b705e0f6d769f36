"""The ``generateContent`` request body: contents and parts, system instruction, tool round trips
(names from the calls, pass-through contents with thought signatures), generationConfig,
structured output, thinking, tools and tool choice, safety settings; refused input."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from model_classes import model_class
from pydantic import BaseModel

from core.llms.interfaces import (
    AudioPart,
    FilePart,
    ImagePart,
    InvalidInputError,
    Message,
    UnsupportedOperationError,
)
from core.llms.interfaces.llm_interfaces import WireRequest
from core.llms.providers.dialects.gemini.payload import (
    contents_to_wire,
    generation_config,
    thinking_config,
    tool_config_to_wire,
    tools_to_wire,
)

Flash = model_class("gemini/gemini-2.5-flash")
Flash20 = model_class("gemini/gemini-2.0-flash")
Gemini3 = model_class("gemini/gemini-3-pro-preview")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


class Weather(BaseModel):
    """Current weather in a city."""

    city: str
    celsius: bool = True


class NoConnector:
    endpoints = ["none"]

    async def aclose(self) -> None:
        pass


def request(model_cls: Any, messages: Any, **params: Any) -> WireRequest:
    req, _ = model_cls(NoConnector())._prepare(messages, params, stream=False)
    return req  # type: ignore[no-any-return]


def test_system_and_user_messages() -> None:
    body = request(
        Flash, [{"role": "system", "content": "be terse"}, {"role": "user", "content": "hi"}]
    ).payload
    assert body == {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "systemInstruction": {"parts": [{"text": "be terse"}]},
    }
    assert "model" not in body  # the model is in the URL


def test_the_request_names_the_operation_and_model() -> None:
    model = Flash(NoConnector())
    plain, _ = model._prepare("hi", {}, stream=False)
    streamed, _ = model._prepare("hi", {"model": "gemini-2.5-flash-preview-09-2025"}, stream=True)
    assert (plain.operation, plain.model, plain.model_fixed) == ("generate", "gemini-2.5-flash", False)
    assert (streamed.operation, streamed.model, streamed.model_fixed, streamed.stream) == (
        "stream_generate",
        "gemini-2.5-flash-preview-09-2025",
        True,
        True,
    )


def test_media_parts() -> None:
    message = Message.user(
        "look",
        ImagePart(data=PNG, media_type="image/png"),
        ImagePart(url="gs://bucket/cat.jpg"),
        ImagePart(url="data:image/png;base64," + base64.b64encode(PNG).decode()),
        AudioPart(PNG, "wav"),
        FilePart(data=b"%PDF-1.4", media_type="application/pdf"),
        FilePart(url="https://generativelanguage.googleapis.com/v1beta/files/abc", media_type="video/mp4"),
        FilePart(file_id="files/xyz", media_type="application/pdf"),
    )
    (content,) = request(Flash, [message]).payload["contents"]
    encoded = base64.b64encode(PNG).decode()
    assert content["parts"] == [
        {"text": "look"},
        {"inlineData": {"mimeType": "image/png", "data": encoded}},
        {"fileData": {"mimeType": "image/jpeg", "fileUri": "gs://bucket/cat.jpg"}},
        {"inlineData": {"mimeType": "image/png", "data": encoded}},
        {"inlineData": {"mimeType": "audio/wav", "data": encoded}},
        {"inlineData": {"mimeType": "application/pdf", "data": base64.b64encode(b"%PDF-1.4").decode()}},
        {
            "fileData": {
                "mimeType": "video/mp4",
                "fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc",
            }
        },
        {"fileData": {"mimeType": "application/pdf", "fileUri": "files/xyz"}},
    ]


def test_tool_round_trip_takes_the_function_name_from_the_call() -> None:
    messages = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": "checking",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {"id": "c2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 21}'},
        {"role": "tool", "tool_call_id": "c2", "content": "noon"},
    ]
    contents = request(Flash, messages).payload["contents"]
    assert contents[1] == {
        "role": "model",
        "parts": [
            {"text": "checking"},
            {"functionCall": {"id": "c1", "name": "get_weather", "args": {"city": "Paris"}}},
            {"functionCall": {"id": "c2", "name": "get_time", "args": {}}},
        ],
    }
    assert contents[2] == {  # consecutive tool messages: one user turn
        "role": "user",
        "parts": [
            {"functionResponse": {"id": "c1", "name": "get_weather", "response": {"temp": 21}}},
            {"functionResponse": {"id": "c2", "name": "get_time", "response": {"result": "noon"}}},
        ],
    }
    assert len(contents) == 3


def test_a_tool_message_for_an_unknown_call_needs_a_name() -> None:
    with pytest.raises(InvalidInputError, match="Gemini needs the function's name"):
        request(
            Flash, [{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "zz", "content": "1"}]
        )
    named = Message("tool", "1", name="lookup", tool_call_id="zz")
    contents = request(Flash, [Message.user("x"), named]).payload["contents"]
    assert contents[1]["parts"][0]["functionResponse"]["name"] == "lookup"


def test_gemini_contents_pass_through_with_their_signatures() -> None:
    model_turn = {
        "role": "model",
        "parts": [
            {"text": "thinking...", "thought": True},
            {"functionCall": {"name": "get_weather", "args": {}, "id": "call_1"}, "thoughtSignature": "c2ln"},
        ],
    }
    messages = [{"role": "user", "content": "weather?"}, model_turn, Message.tool("call_1", "sunny")]
    contents = request(Gemini3, messages).payload["contents"]
    assert contents[1] == model_turn
    assert contents[2]["parts"][0]["functionResponse"]["name"] == "get_weather"


def test_a_bad_pass_through_content_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"messages\[1\] is a Gemini content"):
        request(Flash, [{"role": "user", "content": "x"}, {"role": "assistant", "parts": []}])


def test_generation_config() -> None:
    body = request(
        Flash,
        "hi",
        max_tokens=100,
        temperature=0.2,
        top_p=0.9,
        top_k=40,
        stop=["END"],
        seed=7,
        presence_penalty=0.5,
        frequency_penalty=-0.5,
        generation_config={"responseModalities": ["TEXT"]},
    ).payload
    assert body["generationConfig"] == {
        "maxOutputTokens": 100,
        "temperature": 0.2,
        "topP": 0.9,
        "topK": 40,
        "stopSequences": ["END"],
        "seed": 7,
        "presencePenalty": 0.5,
        "frequencyPenalty": -0.5,
        "responseModalities": ["TEXT"],
    }


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n": 2}, "candidateCount"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_k": 0}, "top_k"),
        ({"stop": ["a"] * 6}, "stop"),
        ({"temperature": 3}, "temperature"),
        ({"max_tokens": 70_000}, "max_tokens"),
        ({"logit_bias": {}}, "unknown parameter"),
        ({"safety_settings": "none"}, "safety_settings"),
        ({"cached_content": ""}, "cached_content"),
        ({"labels": {"a": 1}}, "labels"),
    ],
)
def test_bad_parameters_are_refused_before_sending(params: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        request(Flash, "hi", **params)


def test_aliases() -> None:
    body = request(Flash, "hi", max_output_tokens=5, stop_sequences="x", candidate_count=1).payload
    assert body["generationConfig"] == {"maxOutputTokens": 5, "stopSequences": ["x"]}


def test_structured_output() -> None:
    model = Flash(NoConnector())
    req, fmt = model._prepare("hi", {"response_format": Weather}, stream=False)
    assert req.payload["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseJsonSchema": Weather.model_json_schema(),
    }
    assert fmt is Weather
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    openai_shape = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    for given in (schema, openai_shape):
        assert generation_config({"response_format": given}, levels=False) == {
            "responseMimeType": "application/json",
            "responseJsonSchema": schema,
        }
    assert generation_config({"response_format": {"type": "json_object"}}, levels=False) == {
        "responseMimeType": "application/json"
    }
    assert generation_config({"response_format": {"type": "text"}}, levels=False) == {}
    native = {"responseMimeType": "text/x.enum", "responseSchema": {"type": "STRING", "enum": ["a", "b"]}}
    req, fmt = model._prepare("hi", {"response_format": native}, stream=False)
    assert req.payload["generationConfig"] == native and fmt is None  # an enum answer is not decoded


def test_thinking_budget_and_levels() -> None:
    assert thinking_config({"reasoning_effort": "low"}, levels=False) == {"thinkingBudget": 1024}
    assert thinking_config({"reasoning_effort": "none"}, levels=False) == {"thinkingBudget": 0}
    assert thinking_config({"reasoning_effort": "high"}, levels=True) == {"thinkingLevel": "HIGH"}
    assert thinking_config({"thinking_budget": -1, "include_thoughts": True}, levels=False) == {
        "thinkingBudget": -1,
        "includeThoughts": True,
    }
    with pytest.raises(InvalidInputError, match="cannot turn thinking off"):
        thinking_config({"reasoning_effort": "none"}, levels=True)
    with pytest.raises(InvalidInputError, match="not both"):
        thinking_config({"reasoning_effort": "low", "thinking_budget": 5}, levels=False)
    # by model: Gemini 2.5 takes a budget, Gemini 3 a level; Gemini 2.0 does not think
    assert request(Flash, "hi", reasoning_effort="medium").payload["generationConfig"] == {
        "thinkingConfig": {"thinkingBudget": 8192}
    }
    assert request(Gemini3, "hi", reasoning_effort="low", include_thoughts=True).payload[
        "generationConfig"
    ] == {"thinkingConfig": {"thinkingLevel": "LOW", "includeThoughts": True}}
    with pytest.raises(InvalidInputError, match="unknown parameter 'reasoning_effort'"):
        request(Flash20, "hi", reasoning_effort="low")


def test_tools_of_every_shape() -> None:
    tools = tools_to_wire(
        [
            {
                "type": "function",
                "function": {"name": "a", "description": "A", "parameters": {"type": "object"}},
            },
            {"name": "b", "parameters": {"type": "object", "properties": {}}},
            {"name": "c", "parametersJsonSchema": {"type": "object"}},
            Weather,
            {"googleSearch": {}},
            {"codeExecution": {}},
        ]
    )
    assert tools == [
        {
            "functionDeclarations": [
                {"name": "a", "description": "A", "parametersJsonSchema": {"type": "object"}},
                {"name": "b", "parametersJsonSchema": {"type": "object", "properties": {}}},
                {"name": "c", "parametersJsonSchema": {"type": "object"}},
                {
                    "name": "Weather",
                    "parametersJsonSchema": Weather.model_json_schema(),
                    "description": "Current weather in a city.",
                },
            ]
        },
        {"googleSearch": {}},
        {"codeExecution": {}},
    ]
    with pytest.raises(InvalidInputError, match=r"tools\[0\]"):
        tools_to_wire([{"type": "web_search"}])
    with pytest.raises(InvalidInputError, match="JSON-schema object"):
        tools_to_wire([{"name": "x", "parameters": {"type": "array"}}])


def test_tool_choice() -> None:
    assert tool_config_to_wire("auto") == {"functionCallingConfig": {"mode": "AUTO"}}
    assert tool_config_to_wire("none") == {"functionCallingConfig": {"mode": "NONE"}}
    assert tool_config_to_wire("required") == {"functionCallingConfig": {"mode": "ANY"}}
    forced = {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}
    assert tool_config_to_wire("get_weather") == forced
    assert tool_config_to_wire({"type": "function", "function": {"name": "get_weather"}}) == forced
    assert tool_config_to_wire(Weather) == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["Weather"]}
    }
    native = {"mode": "VALIDATED"}
    assert tool_config_to_wire(native) == {"functionCallingConfig": native}
    with pytest.raises(InvalidInputError):
        tool_config_to_wire(3)


def test_request_fields() -> None:
    safety = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]
    body = request(
        Flash,
        "hi",
        tools=[Weather],
        tool_choice="auto",
        safety_settings=safety,
        cached_content="cachedContents/abc",
        labels={"team": "a"},
    ).payload
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}
    assert body["safetySettings"] == safety
    assert (body["cachedContent"], body["labels"]) == ("cachedContents/abc", {"team": "a"})


def test_messages_that_cannot_be_sent() -> None:
    with pytest.raises(InvalidInputError, match="no user turn"):
        contents_to_wire([Message.system("only a system prompt")])
    with pytest.raises(InvalidInputError, match="text only"):
        request(Flash, [Message("system", [ImagePart(data=PNG, media_type="image/png")])])
    with pytest.raises(InvalidInputError, match="not JSON"):
        request(
            Flash,
            [
                {"role": "user", "content": "x"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}
                    ],
                },
            ],
        )


def test_capabilities_are_checked() -> None:
    class NoTools(Flash):  # type: ignore[misc, valid-type]
        metadata = Flash.metadata.replace(capabilities=Flash.metadata.capabilities.replace(tools=False))

    with pytest.raises(UnsupportedOperationError, match="tools"):
        request(NoTools, "hi", tools=[Weather])


def test_the_body_is_json() -> None:
    body = request(
        Flash, [Message.user("x", ImagePart(data=PNG, media_type="image/png"))], tools=[Weather]
    ).payload
    assert json.loads(json.dumps(body)) == body
