"""Property: whatever a caller passes to the public entry points, the answer is a result or an
:class:`LLMError` subclass, never another exception (``TypeError``, ``AttributeError``,
``AssertionError`` …). Targets: the ``Message`` constructors and content parts,
``normalize_messages``, ``RequestContext``, ``get_answer`` / ``stream_answer`` /
``get_answer_with_vision`` of OpenAI and Ollama models on an in-memory connector (messages, ``ctx``
and every parameter they know, plus unknown ones), and ``create_llm`` keyword values.

Runs derandomised by default; ``CORE_LLMS_FUZZ_EXAMPLES=N`` runs N random examples per target.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from model_classes import model_class

from core.llms import FailureRate, RetryPolicy, Timeouts, create_llm
from core.llms.interfaces import (
    AudioPart,
    FilePart,
    FunctionCall,
    ImagePart,
    LLMError,
    LLMResponse,
    LLMStreamChunk,
    Message,
    RequestContext,
    TextPart,
    ToolCall,
    normalize_messages,
)
from core.llms.interfaces.context import check_context

from .support import EchoConnector, input_settings

GPT41Mini = model_class("openai/gpt-4.1-mini")
O4Mini = model_class("openai/o4-mini")
Llama32 = model_class("ollama/llama3.2")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


class Weird:
    """An object nobody expects."""

    def __repr__(self) -> str:
        return "Weird()"


# -- strategies --------------------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and infinities included
    | st.text(max_size=12)
    | st.binary(max_size=12)
)
_objects = st.sampled_from(
    [
        Weird(),
        object(),
        {1, 2},
        frozenset(),
        (),
        len,
        TextPart("t"),
        ImagePart(url="https://example.com/a.png"),
        ImagePart(data=PNG, media_type="image/png"),
        AudioPart(b"RIFF", "wav"),
        FilePart(file_id="file-1"),
        ToolCall("call_1", FunctionCall("f", "{}")),
        Message.user("hi"),
        RequestContext(),
        Timeouts(),
        bytearray(b"ab"),
        memoryview(b"ab"),
        "https://example.com/cat.png",
        "data:image/png;base64,AAAA",
        PNG,
    ]
)
#: any value, nested in lists, tuples and dicts.
anything: st.SearchStrategy[Any] = st.recursive(
    _scalars | _objects,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=8) | st.integers(0, 3), inner, max_size=4)
    ),
    max_leaves=10,
)

_roles = st.sampled_from(["system", "developer", "user", "assistant", "tool", "bot", ""]) | anything
_part_dicts = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["text", "input_text", "image_url", "input_image", "image", "input_audio", "file"]
        )
    },
    optional={
        "text": anything,
        "image_url": anything | st.fixed_dictionaries({"url": anything}, optional={"detail": anything}),
        "url": anything,
        "data": anything,
        "media_type": anything,
        "detail": anything,
        "input_audio": anything | st.fixed_dictionaries({"data": anything, "format": anything}),
        "file": anything
        | st.fixed_dictionaries(
            {}, optional={"file_id": anything, "file_data": anything, "filename": anything}
        ),
    },
)
_tool_call_dicts = st.fixed_dictionaries(
    {},
    optional={
        "id": anything,
        "type": anything,
        "function": anything | st.fixed_dictionaries({}, optional={"name": anything, "arguments": anything}),
    },
)
_message_dicts = st.fixed_dictionaries(
    {"role": _roles},
    optional={
        "content": anything | st.text() | st.lists(_part_dicts | anything, max_size=3),
        "name": anything,
        "tool_calls": anything | st.lists(_tool_call_dicts, max_size=2),
        "tool_call_id": anything,
        "refusal": anything,
        "extra": anything,
    },
)
messages_input: st.SearchStrategy[Any] = (
    anything
    | _message_dicts
    | st.lists(_message_dicts | _objects | anything, max_size=4)
    | st.builds(Message.user, st.text(max_size=20))
)

_numbers = st.integers(-5, 30) | st.floats(-10, 10) | st.sampled_from([math.nan, math.inf, -math.inf, 2**64])
_tools = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "type": anything | st.just("function"),
            "name": anything | st.just("f"),
            "function": anything
            | st.fixed_dictionaries(
                {},
                optional={
                    "name": anything | st.just("f"),
                    "parameters": anything | st.just({"type": "object"}),
                },
            ),
            "parameters": anything | st.just({"type": "object", "properties": {}}),
            "description": anything,
            "strict": anything,
        },
    )
    | anything,
    max_size=3,
)
#: values per parameter: plausible ones, near misses, and anything at all.
_PARAMS: dict[str, st.SearchStrategy[Any]] = {
    "max_tokens": _numbers,
    "max_completion_tokens": _numbers,
    "temperature": _numbers,
    "top_p": _numbers,
    "presence_penalty": _numbers,
    "frequency_penalty": _numbers,
    "seed": _numbers,
    "n": _numbers,
    "logprobs": st.booleans() | _numbers,
    "top_logprobs": _numbers,
    "stop": st.text(max_size=5) | st.lists(st.text(max_size=3) | anything, max_size=6),
    "logit_bias": st.dictionaries(st.text(max_size=4) | st.integers(), _numbers, max_size=3),
    "user": anything,
    "tools": _tools,
    "tool_choice": st.sampled_from(["auto", "none", "required", "f"])
    | st.fixed_dictionaries({}, optional={"type": anything | st.just("function"), "function": anything}),
    "parallel_tool_calls": anything,
    "response_format": st.sampled_from([{"type": "text"}, {"type": "json_object"}])
    | st.fixed_dictionaries({"type": anything | st.just("json_schema")}, optional={"json_schema": anything}),
    "metadata": anything,
    "store": anything,
    "service_tier": anything,
    "prediction": anything,
    "reasoning_effort": anything | st.sampled_from(["low", "high"]),
    "timeout": _numbers | st.builds(Timeouts, read=st.floats(0.1, 9), total=st.floats(0.1, 99)),
    "read_timeout": _numbers,
    "model": anything | st.just("gpt-4.1"),
    "stream": anything,
    # Ollama's own
    "num_predict": _numbers,
    "num_ctx": _numbers,
    "top_k": _numbers,
    "format": anything,
    "keep_alive": anything,
    "think": anything,
    "options": anything,
    # unknown ones
    "temprature": anything,
    "foo": anything,
}
params_input = st.dictionaries(st.sampled_from(sorted(_PARAMS)), st.none(), max_size=4).flatmap(
    lambda keys: st.fixed_dictionaries({k: _PARAMS[k] for k in keys})
)
ctx_input = st.none() | st.builds(RequestContext) | st.builds(RequestContext.with_timeout, st.floats(1, 60))


# -- helpers -----------------------------------------------------------------------------------


def typed(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``: its result, or the LLMError it raised; anything else escapes."""
    try:
        return fn(*args, **kwargs)
    except LLMError as exc:
        assert isinstance(str(exc), str) and isinstance(repr(exc), str)
        return exc


def check_message(message: Message) -> None:
    assert isinstance(message.role, str) and isinstance(message.content, tuple)
    for part in message.content:
        assert type(part) in (TextPart, ImagePart, AudioPart, FilePart)
    assert isinstance(message.tool_calls, tuple)
    assert all(isinstance(call, ToolCall) for call in message.tool_calls)
    assert isinstance(message.text, str)


async def call_model(model: Any, messages: Any, ctx: Any, params: dict[str, Any]) -> None:
    with contextlib.suppress(LLMError):
        response = await model.get_answer(messages, ctx, **params)
        assert isinstance(response, LLMResponse) and isinstance(response.text, str)
    with contextlib.suppress(LLMError):
        async for chunk in model.stream_answer(messages, ctx, **params):
            assert isinstance(chunk, LLMStreamChunk)


# -- the properties ----------------------------------------------------------------------------


@input_settings(400)
@given(role=_roles, content=anything, name=anything, tool_calls=anything, tool_call_id=anything)
def test_message_constructor(role: Any, content: Any, name: Any, tool_calls: Any, tool_call_id: Any) -> None:
    result = typed(Message, role, content, name, tool_calls, tool_call_id)
    if isinstance(result, Message):
        check_message(result)


#: the shortcuts and how many arguments each takes.
_SHORTCUTS = {"user": (0, 3), "system": (1, 1), "assistant": (0, 2), "tool": (2, 2)}


@input_settings(300)
@given(which=st.sampled_from(sorted(_SHORTCUTS)), args=st.lists(anything, max_size=3))
def test_message_shortcuts(which: str, args: list[Any]) -> None:
    low, high = _SHORTCUTS[which]
    args = (args + ["x"] * low)[: max(low, min(high, len(args)))]
    result = typed(getattr(Message, which), *args)
    if isinstance(result, Message):
        check_message(result)


@input_settings(300)
@given(
    cls=st.sampled_from([TextPart, ImagePart, AudioPart, FilePart, FunctionCall, ToolCall]),
    args=st.lists(anything, max_size=2),
    kwargs=st.dictionaries(
        st.sampled_from(["url", "data", "media_type", "detail", "file_id", "filename", "format", "type"]),
        anything,
        max_size=3,
    ),
)
def test_part_constructors(cls: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    try:
        typed(cls, *args, **kwargs)
    except TypeError as exc:  # a wrong number or name of arguments is a programming error
        assert "argument" in str(exc)


@input_settings(500)
@given(messages=messages_input)
def test_normalize_messages(messages: Any) -> None:
    result = typed(normalize_messages, messages)
    if not isinstance(result, LLMError):
        assert result and all(isinstance(m, Message) for m in result)
        for message in result:
            check_message(message)


@input_settings(300)
@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "request_id",
                "tenant",
                "user",
                "labels",
                "deadline",
                "idempotency_key",
                "budget_usd",
                "trace_parent",
            ]
        ),
        anything,
        max_size=3,
    ),
    ctx=anything,
)
def test_request_context(fields: dict[str, Any], ctx: Any) -> None:
    made = typed(RequestContext, **fields)
    if isinstance(made, RequestContext):
        assert made.remaining() is None or isinstance(made.remaining(), float)
    typed(check_context, ctx)
    typed(RequestContext.with_timeout, ctx)


@input_settings(400)
@given(
    model=st.sampled_from([GPT41Mini, O4Mini, Llama32]),
    messages=messages_input,
    params=params_input,
    ctx=ctx_input,
)
def test_get_answer_and_stream_answer(model: Any, messages: Any, params: dict[str, Any], ctx: Any) -> None:
    connector = EchoConnector(ollama=model is Llama32)
    asyncio.run(call_model(model(connector), messages, ctx, params))


@input_settings(150)
@given(model=st.sampled_from([GPT41Mini, Llama32]), ctx=anything, params=params_input)
def test_bad_ctx_on_streams(model: Any, ctx: Any, params: dict[str, Any]) -> None:
    """``ctx`` of any type on the paths that check it today (streams; observed calls, which
    every Ollama call is). ``get_answer`` of the Chat Completions models: see test_bad_input."""

    async def go() -> None:
        llm = model(EchoConnector(ollama=model is Llama32))
        with contextlib.suppress(LLMError):
            async for _ in llm.stream_answer("hi", ctx, **params):
                pass
        if model is Llama32:
            with contextlib.suppress(LLMError):
                await llm.get_answer("hi", ctx, **params)

    asyncio.run(go())


@input_settings(200)
@given(
    prompt=anything | st.text(max_size=10),
    images=anything | st.lists(_objects | anything, max_size=3),
    ctx=ctx_input,
)
def test_get_answer_with_vision(prompt: Any, images: Any, ctx: Any) -> None:
    async def go() -> None:
        with contextlib.suppress(LLMError):
            await GPT41Mini(EchoConnector()).get_answer_with_vision(prompt, images, ctx)

    asyncio.run(go())


_CREATE_KWARGS: dict[str, st.SearchStrategy[Any]] = {
    "api_key": anything,
    "endpoint": anything | st.sampled_from(["https://x.example/v1", "ftp://x", "http://u:p@h/v1?k=s", ""]),
    "backups": anything
    | st.lists(st.dictionaries(st.sampled_from(["endpoint", "name", "api_key"]), anything)),
    "retry": anything
    | st.builds(RetryPolicy)
    | st.dictionaries(st.sampled_from(["max_retries", "jitter", "rate_limit", "backoff_max"]), anything),
    "timeouts": anything | st.dictionaries(st.sampled_from(["connect", "read", "total"]), anything),
    "defaults": anything | st.dictionaries(st.sampled_from(sorted(_PARAMS)), anything, max_size=2),
    "drop_unsupported": anything,
    "failure_threshold": anything,
    "cooldown": anything,
    "failure_rate": anything
    | st.builds(FailureRate)
    | st.dictionaries(st.sampled_from(["rate", "calls", "seconds", "x"]), anything),
    "headers": anything,
    "name": anything,
    "model_id": anything,
    "proxy": anything,
    "verify_tls": anything,
    "organization": anything,
    "deployment_name": anything,
    "nonsense": anything,
}


@input_settings(400)
@given(
    model=st.sampled_from(["openai/gpt-4.1-mini", "azure/gpt-4o", "gpt-4o", "nope/x"]) | anything,
    kwargs=st.dictionaries(st.sampled_from(sorted(_CREATE_KWARGS)), st.none(), max_size=3).flatmap(
        lambda keys: st.fixed_dictionaries({k: _CREATE_KWARGS[k] for k in keys})
    ),
)
def test_create_llm(model: Any, kwargs: dict[str, Any]) -> None:
    kwargs.setdefault("api_key", "sk-test")
    kwargs.setdefault("endpoint", "https://input-props.example/v1")
    if isinstance(model, str) and model.startswith("azure"):
        kwargs.setdefault("api_version", "2024-10-21")
    result = typed(create_llm, model, **kwargs)
    if not isinstance(result, LLMError):
        assert hasattr(result, "get_answer")
