"""Bad input gets a typed error naming what was wrong, never a bare Python error: messages and
their parts, the call context, per-call timeouts, images, and the Chat Completions parameters."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
from model_classes import model_class

from core.llms import Timeouts, create_llm
from core.llms.interfaces import (
    FunctionCall,
    ImagePart,
    InvalidInputError,
    LLMError,
    Message,
    RequestContext,
    ResponseParsingError,
    TextPart,
    ToolCall,
    normalize_messages,
)
from core.llms.interfaces.context import check_context
from core.llms.simulator import Simulator

from .support import EchoConnector, last_request

GPT41Mini = model_class("openai/gpt-4.1-mini")
Llama32 = model_class("ollama/llama3.2")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def answer(model: Any, messages: Any = "hi", ctx: Any = None, **params: Any) -> Any:
    return asyncio.run(model.get_answer(messages, ctx, **params))


def stream(model: Any, messages: Any = "hi", ctx: Any = None, **params: Any) -> str:
    async def go() -> str:
        return "".join([chunk.text async for chunk in model.stream_answer(messages, ctx, **params)])

    return asyncio.run(go())


# -- messages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Message.user(123), r"Message.content\[0\] must be a string or a content part .*not int"),
        (lambda: Message.user("ok", None), r"Message.content\[1\] must be .* not NoneType"),
        (lambda: Message.system(7), "TextPart.text must be a string, not int"),
        (lambda: Message.assistant(b"x"), "TextPart.text must be a string, not bytes"),
        (
            lambda: Message.assistant("x", tool_calls=5),
            "Message.tool_calls must be a list of ToolCall, not int",
        ),
        (
            lambda: Message.assistant("x", tool_calls=[{"id": "1"}]),
            r"Message.tool_calls\[0\] must be a ToolCall",
        ),
        (
            lambda: Message.tool("call_1", object()),
            r"Message.tool\(\) content must be a string or a JSON value",
        ),
        (lambda: Message.tool(5, "ok"), "Message.tool_call_id must be a string or None, not int"),
        (lambda: Message("bot", "hi"), r"Message.role must be one of \[.*\], not 'bot'"),
        (lambda: Message(None, "hi"), "Message.role must be one of .* not NoneType"),  # type: ignore[arg-type]
        (lambda: Message("user", [42]), r"Message.content\[0\] must be a string or a content part"),
        (
            lambda: Message("user", 42),
            "Message.content must be a string, a content part or a list of them, not int",
        ),
        (lambda: Message("user", b"hi"), "Message.content must be .* not bytes"),
        (lambda: Message("user", {"type": "text"}), "Message.content must be .* not dict"),
        (lambda: Message("user", "hi", name=3), "Message.name must be a string or None, not int"),
        (lambda: TextPart(None), "TextPart.text must be a string, not NoneType"),  # type: ignore[arg-type]
        (lambda: ImagePart(url=5), "ImagePart.url must be a non-empty string, not int"),  # type: ignore[arg-type]
        (lambda: ImagePart(url="https://x/y.png", detail="ultra"), "ImagePart.detail must be 'auto', 'low'"),
        (lambda: ImagePart(data="png", media_type="image/png"), "ImagePart.data must be bytes, not str"),
        (lambda: ToolCall("1", {"name": "f"}), "ToolCall.function must be a FunctionCall, not dict"),  # type: ignore[arg-type]
        (lambda: FunctionCall("f", {"x": 1}), "FunctionCall.arguments must be a JSON string, not dict"),  # type: ignore[arg-type]
    ],
)
def test_bad_message_objects_raise_invalid_input(make: Any, match: str) -> None:
    """The bug: Message.user(123) and Message("user", "hello") were made, then failed later with a
    bare AssertionError (or iterated the characters of the string)."""
    with pytest.raises(InvalidInputError, match=match):
        make()


def test_message_content_given_loosely_is_stored_as_parts() -> None:
    assert Message("user", "hello").content == (TextPart("hello"),)
    assert Message("user", TextPart("a")).content == (TextPart("a"),)
    assert Message("user", ["a", ImagePart(url="https://x/y.png")]).content == (
        TextPart("a"),
        ImagePart(url="https://x/y.png"),
    )
    call = ToolCall("c1", FunctionCall("f", "{}"))
    assert Message("assistant", (), tool_calls=[call]).tool_calls == (call,)
    assert ImagePart(data=bytearray(PNG), media_type="image/png").data == PNG
    assert Message.user("hi") == Message("user", (TextPart("hi"),))


@pytest.mark.parametrize(
    ("messages", "match"),
    [
        (b"\xff", "messages must be a string, a Message, a dict or a list of them, not bytes"),
        (bytearray(b"hi"), "not bytearray"),
        (42, "not int"),
        ([], "messages is empty"),
        ([b"hi"], r"messages\[0\] must be a Message, a dict, a \(role, content\) pair or a string, not byt"),
        (
            {"role": "user", "content": b"hi"},
            r"messages\[0\].content must be a string or a list of parts, not bytes",
        ),
        ({"role": "assistant", "tool_calls": 5}, r"messages\[0\].tool_calls must be a list, not int"),
        (
            {"role": "assistant", "tool_calls": [{"id": "1", "function": ["f"]}]},
            r"tool_calls\[0\].function must be a dict",
        ),
        (
            {
                "role": "assistant",
                "tool_calls": [{"id": "1", "function": {"name": "f", "arguments": {1, 2}}}],
            },
            r"tool_calls\[0\].function.arguments must be a JSON string or JSON data, not set",
        ),
        (
            {"role": "user", "content": [{"type": "input_audio", "input_audio": [1]}]},
            "input_audio must be a dict",
        ),
        (
            {"role": "user", "content": [{"type": "file", "file": "x"}]},
            r"content\[0\].file must be a dict, not str",
        ),
        (
            {"role": "user", "content": [{"type": "file", "file": {"file_id": 5}}]},
            "FilePart.file_id must be a string",
        ),
        (
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": {"url": "https://x", "detail": "max"}}],
            },
            r"messages\[0\].content\[0\]: ImagePart.detail must be",
        ),
        ({"role": "user", "content": "hi", "name": ["x"]}, r"messages\[0\].name must be a string, not list"),
        (
            {"role": "tool", "content": "hi", "tool_call_id": 5},
            r"messages\[0\].tool_call_id must be a string, not int",
        ),
    ],
)
def test_bad_message_input_names_the_problem(messages: Any, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        normalize_messages(messages)
    with pytest.raises(InvalidInputError, match=match):
        answer(GPT41Mini(EchoConnector()), messages)


# -- the call context --------------------------------------------------------------------------


def test_check_context() -> None:
    ctx = RequestContext()
    assert check_context(ctx) is ctx and check_context(None) is None
    with pytest.raises(InvalidInputError, match="ctx must be a RequestContext or None, not dict") as info:
        check_context({"deadline": 5.0})
    assert info.value.hint is not None and "RequestContext(**fields)" in info.value.hint
    with pytest.raises(InvalidInputError, match="not str"):
        check_context("req-1")


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"deadline": "5"}, "RequestContext.deadline must be a finite time.monotonic"),
        ({"deadline": math.nan}, "deadline must be a finite"),
        ({"deadline": True}, "deadline must be a finite"),
        ({"idempotency_key": "a\r\nX-Injected: 1"}, "idempotency_key must be a printable string"),
        ({"idempotency_key": 5}, "idempotency_key must be a printable string"),
        ({"labels": {"a": 1}}, "labels must be a dict of strings"),
        ({"labels": ["a"]}, "labels must be a dict of strings"),
        ({"budget_usd": -1}, "budget_usd must be a number >= 0"),
        ({"tenant": 5}, "tenant must be a string or None"),
        ({"request_id": None}, "request_id must be a string"),
    ],
)
def test_bad_context_fields(fields: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        RequestContext(**fields)


def test_context_helpers_refuse_bad_input() -> None:
    with pytest.raises(InvalidInputError, match=r"with_timeout\.seconds must be a finite number"):
        RequestContext.with_timeout("5")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"RequestContext has no field\(s\) \['deadlin'\]"):
        RequestContext().evolve(deadlin=5)
    with pytest.raises(InvalidInputError, match=r"no field\(s\) \['nope'\]"):
        RequestContext.with_timeout(5, nope=1)
    assert RequestContext.with_timeout(5, tenant="t").tenant == "t"


def test_a_dict_as_ctx_of_a_stream_and_an_observed_or_vision_call() -> None:
    """The bug: ctx={...} failed with AttributeError deep in the transport."""
    with pytest.raises(InvalidInputError, match="ctx must be a RequestContext") as info:
        stream(GPT41Mini(EchoConnector()), ctx={"deadline": 5})
    assert (info.value.provider, info.value.model) == ("openai", "gpt-4.1-mini")
    with pytest.raises(InvalidInputError, match="ctx must be a RequestContext"):
        answer(Llama32(EchoConnector(ollama=True)), ctx={"deadline": 5})  # (through _observe_call)
    with pytest.raises(InvalidInputError, match="ctx must be a RequestContext"):
        asyncio.run(GPT41Mini(EchoConnector()).get_answer_with_vision("what?", [PNG], {"deadline": 5}))


async def test_a_dict_as_ctx_of_get_answer() -> None:
    async with Simulator() as sim:
        llm = create_llm("openai/gpt-4.1-mini", endpoint=f"{sim.url}/v1", api_key="k")
        async with llm:
            with pytest.raises(InvalidInputError, match="ctx must be a RequestContext"):
                await llm.get_answer("hi", {"deadline": 5})  # type: ignore[arg-type]


# -- per-call timeouts -------------------------------------------------------------------------


@pytest.mark.parametrize("model_cls", [GPT41Mini, Llama32])
@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"timeout": "5"}, r"timeout=<str> must be a positive number of seconds or a Timeouts"),
        ({"timeout": -1}, r"timeout=-1 must be a positive number of seconds"),
        ({"timeout": 0}, r"timeout=0 must be"),
        ({"timeout": math.inf}, r"timeout=inf must be"),
        ({"timeout": math.nan}, r"timeout=nan must be"),
        ({"timeout": True}, r"timeout=True must be"),
        ({"read_timeout": "5"}, r"read_timeout=<str> must be a positive number of seconds"),
        ({"read_timeout": -0.5}, r"read_timeout=-0.5 must be"),
        ({"timeout": {"total": 5}}, r"timeout=<dict> must be"),
    ],
)
def test_bad_timeouts_are_invalid_input(model_cls: Any, params: dict[str, Any], match: str) -> None:
    """The bug: timeout="5" raised TypeError, timeout=-1 RequestTimeoutError."""
    with pytest.raises(InvalidInputError, match=match):
        answer(model_cls(EchoConnector()), **params)
    with pytest.raises(InvalidInputError, match=match):
        stream(model_cls(EchoConnector()), **params)


@pytest.mark.parametrize("model_cls", [GPT41Mini, Llama32])
def test_a_timeouts_object_per_call(model_cls: Any) -> None:
    """total bounds the call, read the silences (read_timeout= given too wins)."""
    ollama = model_cls is Llama32
    connector = EchoConnector(ollama=ollama)
    model = model_cls(connector)
    answer(model, timeout=Timeouts(connect=1, read=7, total=20))
    request = last_request(connector)
    assert (request.total_timeout, request.read_timeout) == (20, 7)
    stream(model, timeout=Timeouts(read=3, total=9), read_timeout=2)
    request = last_request(connector)
    assert (request.total_timeout, request.read_timeout) == (9, 2)
    answer(model, read_timeout=4, timeout=Timeouts(read=3, total=9))
    assert (last_request(connector).total_timeout, last_request(connector).read_timeout) == (9, 4)
    answer(model, timeout=12.5, read_timeout=3)
    assert (last_request(connector).total_timeout, last_request(connector).read_timeout) == (12.5, 3)
    assert "timeout" not in last_request(connector).payload
    defaults = model_cls(EchoConnector(ollama=ollama), defaults={"timeout": Timeouts(read=5, total=50)})
    answer(defaults)
    assert (
        last_request(defaults.connector).total_timeout,
        last_request(defaults.connector).read_timeout,
    ) == (50, 5)


# -- images --------------------------------------------------------------------------------------


def test_one_image_given_alone() -> None:
    """The bug: images="https://…" was iterated character by character."""
    for image in ("https://example.com/cat.png", PNG, ImagePart(url="data:image/png;base64,AAAA")):
        connector = EchoConnector()
        asyncio.run(GPT41Mini(connector).get_answer_with_vision("what is it?", image))
        content = last_request(connector).payload["messages"][0]["content"]
        assert [part["type"] for part in content] == ["text", "image_url"]


@pytest.mark.parametrize(
    ("prompt", "images", "match"),
    [
        ("what?", 42, "images must be a list of images .* or one image, not int"),
        ("what?", {"url": "https://x"}, "images must be a list .* not dict"),
        ("what?", ["cat.png"], r"images\[0\] must be bytes, an http\(s\)/data: URL or an ImagePart, not str"),
        ("what?", [PNG, 3], r"images\[1\] must be bytes"),
        ("what?", [b"GIF8"], "image bytes .* are not PNG, JPEG, GIF or WebP"),
        (None, [PNG], "prompt must be a string, not NoneType"),
    ],
)
def test_bad_images(prompt: Any, images: Any, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match) as info:
        asyncio.run(GPT41Mini(EchoConnector()).get_answer_with_vision(prompt, images))
    assert info.value.model == "gpt-4.1-mini"


# -- Chat Completions parameters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"top_p": 5}, r"top_p=5 must be a number in 0..1"),
        ({"top_p": -0.1}, r"top_p=-0.1 must be a number in 0..1"),
        ({"top_p": "high"}, r"top_p='high' must be a number"),
        ({"top_p": math.nan}, r"top_p=nan must be a number"),
        ({"presence_penalty": 9}, r"presence_penalty=9 must be a number in -2..2"),
        ({"frequency_penalty": -2.5}, r"frequency_penalty=-2.5 must be a number in -2..2"),
        ({"seed": "42"}, r"seed='42' must be an integer"),
        ({"seed": 4.2}, r"seed=4.2 must be an integer"),
        ({"logprobs": 1}, r"logprobs=1 must be True or False"),
        ({"top_logprobs": 21}, r"top_logprobs=21 must be in 0..20"),
        ({"top_logprobs": True}, r"top_logprobs=True must be an integer"),
        (
            {"stop": ["a", "b", "c", "d", "e"]},
            "stop must be a string or a list of at most 4 strings, not a list of 5",
        ),
        ({"stop": 5}, "stop must be a string or a list of at most 4 strings, not int"),
        ({"stop": [1]}, "stop must be a string or a list"),
        ({"n": 2}, "n=2 is not supported"),
        ({"n": True}, "n=True is not supported"),
        ({"n": 1.0}, "n=1.0 is not supported"),
        ({"logit_bias": {"x": 1}}, "logit_bias keys must be token ids"),
        ({"logit_bias": {"50256": 101}}, r"logit_bias\[50256\]=101 must be a number in -100..100"),
        ({"metadata": {"a": 1}}, "metadata must be a dict of strings"),
        ({"user": 5}, "user must be a string, not int"),
        ({"parallel_tool_calls": "no"}, "parallel_tool_calls='no' must be True or False"),
        ({"tools": [{"name": "f"}]}, r"tools\[0\] \(f\): parameters missing"),
        (
            {"tools": [{"name": "f", "parameters": []}]},
            r"parameters not a JSON-schema object \(a list of 0\)",
        ),
        ({"tools": [{"name": "f", "parameters": {"type": "string"}}]}, "parameters not a JSON-schema object"),
        (
            {"tools": [{"name": "", "parameters": {"type": "object"}}]},
            r"tools\[0\].name must be a non-empty string",
        ),
        (
            {"tools": [{"type": "function", "function": {"name": "f"}}]},
            r"tools\[0\].function \(f\): parameters",
        ),
        ({"tools": [{"type": "function", "function": "f"}]}, r"tools\[0\].function must be a dict"),
        ({"tools": [{"type": 5}]}, r"tools\[0\].type must be a string"),
        (
            {"tools": [{"name": "f", "parameters": {"type": "object"}, "description": 5}]},
            r"tools\[0\].description must be a string",
        ),
        ({"tool_choice": {"type": ["function"]}}, "a tool_choice dict needs a 'type'"),
        ({"tool_choice": {"type": "function"}}, "tool_choice of type 'function' needs function.name"),
        (
            {"response_format": {"type": "json_schema", "json_schema": 5}},
            "needs json_schema: {'name', 'schema'}",
        ),
    ],
)
def test_chat_completions_parameters_are_checked(params: dict[str, Any], match: str) -> None:
    """The bug: top_p=5, presence_penalty=9 and tools=[{"name": "f"}] were sent as they were."""
    model = GPT41Mini(EchoConnector())
    with pytest.raises(InvalidInputError, match=match):
        answer(model, **params)
    with pytest.raises(InvalidInputError, match=match):
        stream(model, **params)


def test_good_chat_completions_parameters_are_sent_as_given() -> None:
    connector = EchoConnector()
    params: dict[str, Any] = {
        "top_p": 1,
        "presence_penalty": -2,
        "frequency_penalty": 1.5,
        "seed": 7,
        "logprobs": True,
        "top_logprobs": 20,
        "stop": ["\n\n", "END"],
        "logit_bias": {"50256": -100, 11: 5},
        "metadata": {"team": "a"},
        "user": "u-1",
        "n": 1,
    }
    answer(GPT41Mini(connector), **params)
    payload = last_request(connector).payload
    assert {k: payload[k] for k in params if k != "n"} == {k: v for k, v in params.items() if k != "n"}
    tool = {"name": "ping", "parameters": {"type": "object", "properties": {}}, "strict": False}
    answer(GPT41Mini(connector), tools=[tool], tool_choice="ping", stop="END")
    assert last_request(connector).payload["tools"] == [{"type": "function", "function": tool}]
    answer(GPT41Mini(connector), tools=[{"type": "custom", "custom": {"name": "grammar"}}])
    with pytest.raises(ResponseParsingError):  # (the echoed answer is not JSON)
        answer(GPT41Mini(connector), response_format={"type": ["json_object"]})  # a bare JSON schema
    assert last_request(connector).payload["response_format"]["type"] == "json_schema"


def test_every_error_here_is_an_llm_error() -> None:
    assert issubclass(InvalidInputError, LLMError) and issubclass(InvalidInputError, ValueError)
