"""The Responses API dialect without a server: request bodies built from messages and parameters,
what is refused before sending, the parse of response bodies, and :func:`response_items`."""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest
from model_classes import model_class
from openai_testkit import ScriptedConnector, sse_of, wire_response
from pydantic import BaseModel

from core.llms.interfaces import (
    AudioPart,
    ContextWindowExceededError,
    FilePart,
    FunctionCall,
    ImagePart,
    InvalidInputError,
    LLMStreamChunk,
    Message,
    RateLimitError,
    ResponseParsingError,
    ServiceUnavailableError,
    ToolCall,
    UnsupportedOperationError,
    Usage,
)
from core.llms.providers.dialects.openai_responses import response_items
from core.llms.providers.dialects.openai_responses.parsing import parse_responses_body

GPT41Mini = model_class("openai/gpt-4.1-mini")
GPT5Mini = model_class("openai/gpt-5-mini")
O4Mini = model_class("openai/o4-mini")
O3Mini = model_class("openai/o3-mini")

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 8
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


class Weather(BaseModel):
    """Weather in a city."""

    city: str
    unit: Literal["c", "f"]


def body(
    output: list[dict[str, Any]] | None = None,
    *,
    status: str = "completed",
    usage: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ``response`` object."""
    if output is None:
        output = [message("Hello!")]
    return {
        "id": "resp_1",
        "object": "response",
        "status": status,
        "model": "gpt-4.1-mini-2025-04-14",
        "output": output,
        "usage": usage
        or {
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 4},
            "output_tokens": 6,
            "output_tokens_details": {"reasoning_tokens": 2},
            "total_tokens": 16,
        },
        **extra,
    }


def message(text: str | None = None, refusal: str | None = None) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if text is not None:
        content.append({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
    if refusal is not None:
        content.append({"type": "refusal", "refusal": refusal})
    return {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed", "content": content}


def call(
    name: str = "get_weather", arguments: str = '{"city":"Paris"}', call_id: str = "call_1"
) -> dict[str, Any]:
    return {
        "id": "fc_1",
        "type": "function_call",
        "status": "completed",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def reasoning(*summary: str, encrypted: str | None = "gAAAA-opaque") -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": "rs_1",
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": s} for s in summary],
    }
    if encrypted is not None:
        item["encrypted_content"] = encrypted
    return item


async def sent(model_cls: Any, messages: Any = "hi", **params: Any) -> dict[str, Any]:
    """The body a non-streamed call sends (answered with a text that is also a Weather)."""
    connector = ScriptedConnector([wire_response(body([message('{"city":"Paris","unit":"c"}')]))])
    async with model_cls(connector) as model:
        await model.get_answer(messages, api="responses", **params)
    (request,) = connector.requests
    assert request.operation == "responses"
    payload: dict[str, Any] = request.payload
    return payload


async def refused(
    model_cls: Any, messages: Any = "hi", error: type[Exception] = InvalidInputError, **params: Any
) -> str:
    """The message of the error a call raises before anything is sent (both ways of calling)."""
    connector = ScriptedConnector([wire_response(body())], sse=sse_of(done=False))
    async with model_cls(connector) as model:
        with pytest.raises(error) as info:
            await model.get_answer(messages, api="responses", **params)
        with pytest.raises(error):
            async for _ in model.stream_answer(messages, api="responses", **params):
                pass
    assert connector.requests == []
    return str(info.value)


# -- messages → input ------------------------------------------------------------------------------


async def test_plain_text_messages() -> None:
    payload = await sent(
        GPT41Mini,
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "developer", "content": "Answer in French."},
            {"role": "user", "content": "again"},
        ],
    )
    assert payload == {
        "model": "gpt-4.1-mini",
        "input": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "developer", "content": "Answer in French."},
            {"role": "user", "content": "again"},
        ],
        "instructions": "Be brief.",
    }


async def test_a_string_and_typed_messages_give_the_same_body() -> None:
    typed = await sent(GPT41Mini, [Message.system("Be brief."), Message.user("hi")])
    plain = await sent(
        GPT41Mini, [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    )
    assert typed == plain
    assert (await sent(GPT41Mini, "hi"))["input"] == [{"role": "user", "content": "hi"}]


async def test_instructions_parameter_keeps_system_messages_as_items() -> None:
    payload = await sent(GPT41Mini, [Message.system("S"), Message.user("u")], instructions="I")
    assert payload["instructions"] == "I"
    assert payload["input"] == [{"role": "system", "content": "S"}, {"role": "user", "content": "u"}]


async def test_user_parts() -> None:
    payload = await sent(
        GPT41Mini,
        [
            Message.user(
                "look",
                ImagePart(url="https://example.com/a.png", detail="low"),
                ImagePart(data=PNG, media_type="image/png"),
                FilePart(data=b"%PDF-1", filename="a.pdf"),
                FilePart(file_id="file_1"),
                FilePart(url="https://example.com/b.pdf"),
            )
        ],
    )
    (item,) = payload["input"]
    assert item["role"] == "user"
    assert item["content"] == [
        {"type": "input_text", "text": "look"},
        {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "low"},
        {
            "type": "input_image",
            "image_url": "data:image/png;base64,iVBORw0KGgoAAAAAAAAAAA==",
            "detail": "auto",
        },
        {"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0x"},
        {"type": "input_file", "file_id": "file_1"},
        {"type": "input_file", "file_url": "https://example.com/b.pdf"},
    ]


async def test_audio_and_names_are_refused() -> None:
    audio = Message.user("listen", AudioPart(b"RIFF....", "wav"))
    AudioModel = model_class("openai/gpt-4o-audio-preview")
    assert "takes no audio input" in await refused(AudioModel, [audio])
    assert "no message names" in await refused(GPT41Mini, [{"role": "user", "content": "hi", "name": "bob"}])
    assert "does not accept image input" in await refused(
        O3Mini, [Message.user("x", ImagePart(url="https://e.com/a.png"))], error=UnsupportedOperationError
    )


async def test_tool_calls_and_results_become_function_call_items() -> None:
    tool_call = ToolCall("call_1", FunctionCall("get_weather", '{"city":"Paris"}'))
    payload = await sent(
        GPT41Mini,
        [
            Message.user("weather?"),
            Message.assistant("Let me see.", [tool_call]),
            Message.tool("call_1", "22 C"),
        ],
        tools=[WEATHER_TOOL],
    )
    assert payload["input"] == [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "Let me see."},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city":"Paris"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "22 C"},
    ]


async def test_responses_items_among_the_messages_are_sent_as_they_are() -> None:
    items = [
        reasoning("thought"),
        call(),
        {"type": "function_call_output", "call_id": "call_1", "output": "22"},
    ]
    payload = await sent(
        GPT5Mini, [Message.system("S"), {"role": "user", "content": "w?"}, *items], store=False
    )
    assert payload["instructions"] == "S"
    assert payload["input"] == [{"role": "user", "content": "w?"}, *items]
    assert payload["include"] == ["reasoning.encrypted_content"]
    assert "must be a Responses API item type" in await refused(GPT5Mini, [{"type": 3}])


# -- parameters --------------------------------------------------------------------------------------


async def test_tools_are_flat_and_not_strict_unless_asked() -> None:
    flat = {
        "type": "function",
        "name": "f",
        "parameters": {"type": "object", "properties": {}},
        "strict": True,
    }
    bare = {"name": "g", "parameters": {"type": "object", "properties": {}}}
    payload = await sent(GPT41Mini, tools=[WEATHER_TOOL, flat, bare, Weather, {"type": "web_search"}])
    tools = payload["tools"]
    assert tools[0] == {
        "type": "function",
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        "strict": False,
    }
    assert tools[1] == flat
    assert tools[2] == {"type": "function", "name": "g", "parameters": bare["parameters"], "strict": False}
    assert (tools[3]["name"], tools[3]["strict"], tools[3]["description"]) == (
        "Weather",
        True,
        "Weather in a city.",
    )
    assert tools[3]["parameters"]["required"] == ["city", "unit"]
    assert tools[4] == {"type": "web_search"}
    assert "parameters missing" in await refused(GPT41Mini, tools=[{"type": "function", "name": "f"}])


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("required", "required"),
        ("get_weather", {"type": "function", "name": "get_weather"}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "function", "name": "get_weather"},
        ),
        ({"type": "function", "name": "get_weather"}, {"type": "function", "name": "get_weather"}),
        (
            {"type": "allowed_tools", "mode": "auto", "tools": []},
            {"type": "allowed_tools", "mode": "auto", "tools": []},
        ),
    ],
)
async def test_tool_choice(choice: Any, wire: Any) -> None:
    assert (await sent(GPT41Mini, tools=[WEATHER_TOOL], tool_choice=choice))["tool_choice"] == wire


async def test_structured_output_formats() -> None:
    model_format = (await sent(GPT41Mini, response_format=Weather))["text"]["format"]
    assert (model_format["type"], model_format["name"], model_format["strict"]) == (
        "json_schema",
        "Weather",
        True,
    )
    assert model_format["schema"]["additionalProperties"] is False
    chat_dict = {
        "type": "json_schema",
        "json_schema": {"name": "w", "schema": {"type": "object"}, "strict": True},
    }
    assert (await sent(GPT41Mini, response_format=chat_dict))["text"]["format"] == {
        "type": "json_schema",
        "name": "w",
        "schema": {"type": "object"},
        "strict": True,
    }
    bare = {"title": "Thing", "type": "object"}
    assert (await sent(GPT41Mini, response_format=bare))["text"]["format"] == {
        "type": "json_schema",
        "name": "Thing",
        "schema": bare,
        "strict": False,
    }
    flat = {"type": "json_schema", "name": "x", "schema": {"type": "object"}}
    assert (await sent(GPT41Mini, response_format=flat))["text"]["format"] == flat
    assert (await sent(GPT41Mini, response_format={"type": "json_object"}))["text"] == {
        "format": {"type": "json_object"}
    }


@pytest.mark.parametrize("name", ["max_tokens", "max_completion_tokens", "max_output_tokens"])
async def test_max_output_tokens(name: str) -> None:
    for model_cls in (GPT41Mini, GPT5Mini):
        payload = await sent(model_cls, **{name: 50})
        assert payload["max_output_tokens"] == 50
        assert not {"max_tokens", "max_completion_tokens"} & set(payload)
    assert "only one of" in await refused(GPT41Mini, max_tokens=5, max_output_tokens=5)
    assert "exceeds the maximum output" in await refused(GPT41Mini, max_output_tokens=10**6)


async def test_reasoning_and_text_options() -> None:
    payload = await sent(GPT5Mini, reasoning_effort="low", reasoning_summary="auto", verbosity="low")
    assert payload["reasoning"] == {"effort": "low", "summary": "auto"}
    assert payload["text"] == {"verbosity": "low"}
    assert "include" not in payload  # stored responses keep their reasoning themselves
    assert (await sent(O4Mini, reasoning_effort="high"))["reasoning"] == {"effort": "high"}


async def test_store_false_on_a_reasoning_model_asks_for_encrypted_reasoning() -> None:
    payload = await sent(GPT5Mini, store=False, include=["message.output_text.logprobs"])
    assert payload["store"] is False
    assert payload["include"] == ["message.output_text.logprobs", "reasoning.encrypted_content"]
    again = await sent(GPT5Mini, store=False, include=["reasoning.encrypted_content"])
    assert again["include"] == ["reasoning.encrypted_content"]
    assert "include" not in await sent(GPT41Mini, store=False)  # no reasoning to carry


async def test_other_parameters_are_copied() -> None:
    payload = await sent(
        GPT41Mini,
        temperature=0.3,
        top_p=0.9,
        parallel_tool_calls=False,
        tools=[WEATHER_TOOL],
        previous_response_id="resp_0",
        truncation="auto",
        metadata={"k": "v"},
        user="u1",
        service_tier="flex",
        max_tool_calls=3,
    )
    for key, value in {
        "temperature": 0.3,
        "top_p": 0.9,
        "parallel_tool_calls": False,
        "previous_response_id": "resp_0",
        "truncation": "auto",
        "metadata": {"k": "v"},
        "user": "u1",
        "service_tier": "flex",
        "max_tool_calls": 3,
    }.items():
        assert payload[key] == value


async def test_per_call_model_and_timeouts() -> None:
    connector = ScriptedConnector([wire_response(body())])
    async with GPT41Mini(connector) as model:
        await model.get_answer("hi", api="responses", model="ft:gpt-4.1-mini:me", timeout=30, read_timeout=5)
    (request,) = connector.requests
    assert (request.model, request.model_fixed) == ("ft:gpt-4.1-mini:me", True)
    assert (request.total_timeout, request.read_timeout) == (30, 5)
    assert request.payload["model"] == "ft:gpt-4.1-mini:me"
    assert not {"timeout", "read_timeout"} & set(request.payload)


@pytest.mark.parametrize(
    ("model_cls", "params", "says"),
    [
        (GPT5Mini, {"temperature": 0.2}, "'temperature' is not supported by gpt-5-mini"),
        (GPT5Mini, {"top_p": 0.5}, "'top_p' is not supported by gpt-5-mini"),
        (GPT41Mini, {"reasoning_effort": "low"}, "unknown parameter 'reasoning_effort'"),
        (GPT41Mini, {"reasoning_summary": "auto"}, "it does not reason"),
        (GPT5Mini, {"reasoning_summary": "verbose"}, "reasoning_summary='verbose' must be one of"),
        (GPT41Mini, {"stop": ["x"]}, "'stop' has no equivalent in the Responses API"),
        (GPT41Mini, {"seed": 1}, "'seed' has no equivalent"),
        (GPT41Mini, {"n": 2}, "n=2 is not supported"),
        (GPT41Mini, {"stream": True}, "'stream' is not a parameter here"),
        (GPT41Mini, {"truncation": "sometimes"}, "truncation='sometimes' must be one of"),
        (GPT41Mini, {"include": "reasoning.encrypted_content"}, "include must be a list of strings"),
        (GPT41Mini, {"previous_response_id": ""}, "previous_response_id must be a non-empty string"),
        (GPT41Mini, {"top_p": 3}, "top_p=3 must be a number in 0..1"),
        (GPT41Mini, {"model": "  "}, "model= must be a non-empty model id string"),
        (GPT41Mini, {"api": "bogus"}, "api= must be 'chat' or 'responses', not 'bogus'"),
        (GPT41Mini, {"tool_choice": {"type": "function"}}, "tool_choice of type 'function' needs"),
        (GPT41Mini, {"response_format": {"type": "json_schema", "name": "x"}}, "needs a name and a schema"),
    ],
)
async def test_refused_before_sending(model_cls: Any, params: dict[str, Any], says: str) -> None:
    params = dict(params)
    connector = ScriptedConnector([wire_response(body())], sse=sse_of(done=False))
    async with model_cls(connector) as model:
        kwargs = params if "api" in params else {"api": "responses", **params}
        with pytest.raises(InvalidInputError) as info:
            await model.get_answer("hi", **kwargs)
        assert says in str(info.value)
        with pytest.raises(InvalidInputError):
            async for _ in model.stream_answer("hi", **kwargs):
                pass
    assert connector.requests == []
    assert (info.value.provider, info.value.model) == ("openai", model_cls.metadata.name)


async def test_unsupported_reasoning_summary_is_dropped_when_asked() -> None:
    connector = ScriptedConnector([wire_response(body())])
    async with GPT41Mini(connector, drop_unsupported=True) as model:
        await model.get_answer("hi", api="responses", reasoning_summary="auto")
    assert "reasoning" not in connector.requests[0].payload


async def test_a_prompt_too_long_for_the_context_window() -> None:
    await refused(GPT41Mini, "x " * 3_000_000, error=ContextWindowExceededError)


async def test_api_from_defaults_and_back_to_chat() -> None:
    connector = ScriptedConnector([wire_response(body())])
    async with GPT41Mini(connector, defaults={"api": "responses"}) as model:
        response = await model.get_answer("hi")
    assert connector.requests[0].operation == "responses"
    assert response.text == "Hello!"


# -- response bodies ---------------------------------------------------------------------------------


def parse(data: Any, response_format: Any = None) -> Any:
    return parse_responses_body(
        data, provider="openai", model="gpt-4.1-mini", cost=lambda u: 1.0, response_format=response_format
    )


def test_parse_text_usage_and_reasoning() -> None:
    response = parse(body([reasoning("first", "second"), message("Hello"), message(" world")]))
    assert (response.text, response.finish_reason, response.model) == (
        "Hello world",
        "stop",
        "gpt-4.1-mini-2025-04-14",
    )
    assert response.usage == Usage(
        input_tokens=10, output_tokens=6, cached_input_tokens=4, reasoning_tokens=2
    )
    assert response.reasoning == "first\n\nsecond"
    assert response.cost == 1.0 and response.refusal is None and response.raw["id"] == "resp_1"


def test_parse_function_calls_and_refusal() -> None:
    response = parse(body([reasoning(), call(), call("f", "{}", "call_2")]))
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_1", "get_weather", '{"city":"Paris"}'),
        ("call_2", "f", "{}"),
    ]
    assert response.finish_reason == "tool_calls" and response.reasoning is None
    refusal = parse(body([message(refusal="I can't.")]))
    assert (refusal.text, refusal.refusal, refusal.finish_reason) == ("", "I can't.", "refusal")


@pytest.mark.parametrize(
    ("reason", "finish"), [("max_output_tokens", "length"), ("content_filter", "content_filter")]
)
def test_parse_incomplete(reason: str, finish: str) -> None:
    response = parse(body(status="incomplete", incomplete_details={"reason": reason}))
    assert response.finish_reason == finish


@pytest.mark.parametrize(
    ("error", "cls", "status"),
    [
        ({"code": "rate_limit_exceeded", "message": "slow down"}, RateLimitError, 429),
        ({"code": "server_error", "message": "oops"}, ServiceUnavailableError, 500),
        ({"code": "insufficient_quota", "message": "pay"}, RateLimitError, 429),
    ],
)
def test_parse_failed_is_a_typed_error(error: dict[str, Any], cls: type[Exception], status: int) -> None:
    with pytest.raises(cls) as info:
        parse(body([], status="failed", error=error))
    assert type(info.value) is cls
    assert info.value.status == status and info.value.code == error["code"]  # type: ignore[attr-defined]


def test_parse_structured_output() -> None:
    response = parse(body([message('{"city":"Paris","unit":"c"}')]), response_format=Weather)
    assert response.parsed == Weather(city="Paris", unit="c")
    refused_answer = parse(body([message(refusal="no")]), response_format=Weather)
    assert refused_answer.parsed is None
    with pytest.raises(ResponseParsingError, match="does not match Weather"):
        parse(body([message('{"city":"Paris"}')]), response_format=Weather)


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"status": "completed"},
        {"output": [3]},
        {"output": [{"type": "function_call", "arguments": "{}"}]},
        {"output": [{"type": "message", "content": [{"type": "output_text", "text": 5}]}]},
        {"status": "in_progress", "output": []},
    ],
)
def test_parse_malformed(data: Any) -> None:
    with pytest.raises(ResponseParsingError):
        parse(data)


async def test_non_streamed_answer_through_the_model() -> None:
    connector = ScriptedConnector([wire_response(body([reasoning("why"), message("Hi")]))])
    async with GPT5Mini(connector) as model:
        response = await model.get_answer("hi", api="responses")
    assert (response.text, response.reasoning, response.request_id, response.endpoint) == (
        "Hi",
        "why",
        "req-1",
        "fake",
    )
    assert (response.latency, response.ttfb) == (0.25, 0.1)
    assert response.cost == pytest.approx((6 * 0.25 + 4 * 0.025 + 6 * 2.00) / 1e6)


# -- response_items ----------------------------------------------------------------------------------


def test_response_items_keep_reasoning_and_calls_with_request_fields_only() -> None:
    image = {
        "id": "ig_1",
        "type": "image_generation_call",
        "status": "completed",
        "result": "b64",
        "size": "1024x1024",
    }
    output = [
        reasoning("s", encrypted="gAAAA-x") | {"status": None},
        call(),
        image,
        {"type": "web_search_call", "id": "ws"},
    ]
    items = response_items(parse(body(output)))
    assert items[0] == {
        "id": "rs_1",
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "s"}],
        "encrypted_content": "gAAAA-x",
    }
    assert items[1] == call()
    assert items[2] == {"id": "ig_1", "type": "image_generation_call", "status": "completed", "result": "b64"}
    assert items[3] == {"type": "web_search_call", "id": "ws"}
    assert response_items(body(output)) == items  # the response object itself
    assert response_items(LLMStreamChunk(raw=body(output))) == items  # a stream's final chunk


def test_response_items_of_something_else() -> None:
    with pytest.raises(InvalidInputError, match="no Responses API output items"):
        response_items(LLMStreamChunk(text="x"))
    with pytest.raises(InvalidInputError):
        response_items({"choices": []})


def test_items_json_round_trip() -> None:
    items = response_items(body([reasoning("s"), message("Hi"), call()]))
    assert json.loads(json.dumps(items)) == items
