"""``completion`` / ``acompletion`` through the simulator: answers, streams, keywords as LiteLLM
takes them, retries, fallbacks, ``mock_response``, and the blocking form."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

import core.llms as core
from core.llms import compat
from core.llms.simulator import Fault, Simulator

from .support import openai_at, user

MODEL = "openai/gpt-4o-mini"


async def test_acompletion_answers_with_usage_and_cost(sim: Simulator) -> None:
    resp = await compat.acompletion(
        MODEL, user("hello"), temperature=0.2, max_tokens=50, seed=1, **openai_at(sim)
    )
    assert resp.choices[0].message.content == "Simulated answer to: hello"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens > 0
    assert compat.completion_cost(resp) == pytest.approx(resp._hidden_params["response_cost"])
    assert compat.completion_cost(resp) > 0
    body = sim.requests[-1].json
    assert body["temperature"] == 0.2 and body["max_tokens"] == 50 and body["seed"] == 1


async def test_litellm_keyword_spellings(sim: Simulator) -> None:
    await compat.acompletion(
        MODEL,
        user(),
        max_completion_tokens=20,
        stop="END",
        user="u-1",
        extra_headers={"x-trace": "t1"},
        **openai_at(sim),
    )
    request = sim.requests[-1]
    assert (
        request.json["max_tokens"] == 20 and request.json["stop"] == ["END"] and request.json["user"] == "u-1"
    )
    assert request.headers["x-trace"] == "t1"
    # the legacy function-calling keywords become tools
    resp = await compat.acompletion(
        MODEL,
        user("weather?"),
        functions=[
            {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            }
        ],
        function_call={"name": "get_weather"},
        **openai_at(sim),
    )
    assert resp.choices[0].message.tool_calls[0].function.name == "get_weather"
    assert sim.requests[-1].json["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


async def test_tools_and_a_second_turn(sim: Simulator) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]
    messages: list[Any] = user("What is the weather in Paris?")
    resp = await compat.acompletion(MODEL, messages, tools=tools, tool_choice="auto", **openai_at(sim))
    message = resp.choices[0].message
    assert resp.choices[0].finish_reason == "tool_calls" and message.content is None
    call = message.tool_calls[0]
    messages.append(message)  # (LiteLLM programs append the message object itself)
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny"})
    final = await compat.acompletion(MODEL, messages, tools=tools, **openai_at(sim))
    assert "sunny" in final.choices[0].message.content


async def test_response_format_dict_and_pydantic(sim: Simulator) -> None:
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        population: int

    resp = await compat.acompletion(MODEL, user("a city"), response_format=City, **openai_at(sim))
    City.model_validate_json(resp.choices[0].message.content)
    assert isinstance(resp._hidden_params["llm_response"].parsed, City)
    resp = await compat.acompletion(
        MODEL, user("json"), response_format={"type": "json_object"}, **openai_at(sim)
    )
    assert isinstance(json.loads(resp.choices[0].message.content), dict)
    sim.enqueue(Fault(body={"id": "x", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": "not json"}}]},
                      status=200))  # fmt: skip
    with pytest.raises(compat.JSONSchemaValidationError) as caught:
        await compat.acompletion(MODEL, user("a city"), response_format=City, **openai_at(sim))
    assert isinstance(caught.value, core.ResponseParsingError)


async def test_stream_async_with_usage(sim: Simulator) -> None:
    stream = await compat.acompletion(
        MODEL, user("tell me"), stream=True, stream_options={"include_usage": True}, **openai_at(sim)
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "Simulated answer to: tell me"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks].count("stop") == 1
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])
    built = compat.stream_chunk_builder(chunks, messages=user("tell me"))
    assert built.choices[0].message.content == text and built.usage == chunks[-1].usage
    assert compat.completion_cost(built) > 0


async def test_stream_without_usage_chunk_still_builds_usage(sim: Simulator) -> None:
    stream = await compat.acompletion(MODEL, user("x y"), stream=True, **openai_at(sim))
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].usage is None
    assert compat.stream_chunk_builder(chunks).usage.completion_tokens > 0  # (kept in _hidden_params)


async def test_stream_errors_arrive_at_the_await(sim: Simulator) -> None:
    sim.enqueue(Fault(status=429))
    with pytest.raises(compat.RateLimitError):
        await compat.acompletion(MODEL, user(), stream=True, num_retries=0, **openai_at(sim))
    sim.enqueue(Fault(drop="after_first_chunk"))
    stream = await compat.acompletion(MODEL, user("a b c d"), stream=True, num_retries=0, **openai_at(sim))
    with pytest.raises(compat.APIConnectionError) as caught:
        async for _ in stream:
            pass
    assert isinstance(caught.value, core.StreamInterruptedError)


async def test_stream_closed_early(sim: Simulator) -> None:
    stream = await compat.acompletion(MODEL, user("one two three four"), stream=True, **openai_at(sim))
    async for _ in stream:
        break
    await stream.aclose()
    resp = await compat.acompletion(MODEL, user(), **openai_at(sim))  # (the connection is reusable)
    assert resp.choices[0].message.content


async def test_n_choices_by_concurrent_calls(sim: Simulator) -> None:
    resp = await compat.acompletion(MODEL, user("n"), n=3, **openai_at(sim))
    assert [c.index for c in resp.choices] == [0, 1, 2]
    assert sim.request_count == 3
    single = await compat.acompletion(MODEL, user("n"), **openai_at(sim))
    assert resp.usage.total_tokens == 3 * single.usage.total_tokens
    with pytest.raises(compat.UnsupportedParamsError):
        await compat.acompletion(MODEL, user(), n=2, stream=True, **openai_at(sim))


async def test_num_retries_and_fallbacks(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503, retry_after=0.01), Fault(status=503, retry_after=0.01))
    resp = await compat.acompletion(MODEL, user(), num_retries=2, **openai_at(sim))
    assert resp.choices[0].message.content and sim.request_count == 3
    sim.enqueue(Fault(status=503, retry_after=0.01), Fault(status=503, retry_after=0.01))
    with pytest.raises(compat.ServiceUnavailableError):
        await compat.acompletion(MODEL, user(), num_retries=1, **openai_at(sim))
    # fallbacks: the primary is down, the fallback (same provider: same endpoint keywords) serves
    sim.reset()
    sim.set_default_fault(None)
    sim.enqueue(Fault(status=503))
    resp = await compat.acompletion(
        MODEL, user(), num_retries=0, fallbacks=["openai/gpt-4o"], **openai_at(sim)
    )
    assert resp._hidden_params["model"] == "openai/gpt-4o"
    assert [r.json["model"] for r in sim.requests[-2:]] == ["gpt-4o-mini", "gpt-4o"]


async def test_fallbacks_to_another_provider_get_their_own_settings(sim: Simulator) -> None:
    down = Simulator()
    async with down:
        down.set_default_fault(Fault(status=503))
        resp = await compat.acompletion(
            MODEL,
            user(),
            api_base=f"{down.url}/v1",
            api_key="sk-primary",
            num_retries=0,
            fallbacks=[{"model": "anthropic/claude-haiku-4-5", "api_base": sim.url, "api_key": "sk-ant"}],
        )
    assert resp.choices[0].message.content and resp._hidden_params["custom_llm_provider"] == "anthropic"
    assert sim.requests[-1].path == "/v1/messages"
    assert sim.requests[-1].headers["x-api-key"] == "sk-ant"  # (never the primary's key)
    with pytest.raises(compat.UnsupportedParamsError):
        await compat.acompletion(
            MODEL, user(), fallbacks=[{"model": "openai/gpt-4o", "temperature": 1}], **openai_at(sim)
        )


async def test_all_fallbacks_failing_raises_the_last_kind(sim: Simulator) -> None:
    sim.set_default_fault(Fault(status=429))
    with pytest.raises(compat.RateLimitError) as caught:
        await compat.acompletion(MODEL, user(), num_retries=0, fallbacks=["openai/gpt-4o"], **openai_at(sim))
    assert isinstance(caught.value, core.AllEndpointsFailedError) and len(caught.value.attempts) == 2


async def test_unsupported_params_and_drop_params(sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(compat.UnsupportedParamsError) as caught:
        await compat.acompletion(MODEL, user(), top_k=3, **openai_at(sim))
    assert isinstance(caught.value, core.InvalidInputError) and "top_k" in str(caught.value)
    with caplog.at_level(logging.WARNING, "core.llms.compat"):
        resp = await compat.acompletion(MODEL, user(), top_k=3, drop_params=True, **openai_at(sim))
    assert resp.choices[0].message.content and "top_k" not in sim.requests[-1].json
    assert "top_k" in caplog.text
    # a parameter the model's rules refuse (o3 takes no temperature): dropped by the model itself
    await compat.acompletion("openai/o3-mini", user(), temperature=0.5, drop_params=True, **openai_at(sim))
    assert "temperature" not in sim.requests[-1].json
    compat.drop_params = True  # (the module setting, as litellm.drop_params)
    try:
        await compat.acompletion(MODEL, user(), top_k=3, **openai_at(sim))
    finally:
        compat.drop_params = False
    # LiteLLM features this layer lacks are refused even with drop_params
    with pytest.raises(compat.UnsupportedParamsError, match="caching"):
        await compat.acompletion(MODEL, user(), caching=True, drop_params=True, **openai_at(sim))


async def test_metadata_becomes_labels_not_wire_fields(sim: Simulator) -> None:
    seen: list[Any] = []
    from core.llms.compat import calls

    original = calls.plan

    def spy(*args: Any, **kwargs: Any) -> Any:
        plan = original(*args, **kwargs)
        seen.append(plan.ctx)
        return plan

    calls.plan = spy  # type: ignore[assignment]
    try:
        await compat.acompletion(
            MODEL, user(), metadata={"run": "r1", "n": 2}, tags=["a", "b"], **openai_at(sim)
        )
    finally:
        calls.plan = original  # type: ignore[assignment]
    assert seen[0].labels == {"run": "r1", "n": "2", "tags": "a,b"}
    assert "metadata" not in sim.requests[-1].json


async def test_callbacks_are_refused_loudly(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compat, "success_callback", ["langfuse"])
    with pytest.raises(compat.BadRequestError, match="success_callback"):
        await compat.acompletion(MODEL, user(), **openai_at(sim))


async def test_module_defaults(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compat, "api_base", f"{sim.url}/v1")
    monkeypatch.setattr(compat, "api_key", "sk-module")
    monkeypatch.setattr(compat, "num_retries", 0)
    sim.enqueue(Fault(status=503))
    with pytest.raises(compat.ServiceUnavailableError):
        await compat.acompletion(MODEL, user())
    assert sim.request_count == 1


async def test_anthropic_and_azure(sim: Simulator) -> None:
    resp = await compat.acompletion(
        "anthropic/claude-haiku-4-5", user("hi"), api_base=sim.url, api_key="k", max_tokens=100
    )
    assert resp.choices[0].message.content == "Simulated answer to: hi"
    resp = await compat.acompletion(
        "azure/my-deployment", user("hi"), api_base=sim.url, api_key="k", api_version="2024-10-21"
    )
    assert resp.choices[0].message.content == "Simulated answer to: hi"
    assert sim.requests[-1].path == "/openai/deployments/my-deployment/chat/completions"
    assert sim.requests[-1].query["api-version"] == "2024-10-21"


async def test_bare_names_and_custom_llm_provider(sim: Simulator) -> None:
    resp = await compat.acompletion("gpt-4o-mini", user(), **openai_at(sim))
    assert resp._hidden_params["model"] == "openai/gpt-4o-mini"
    resp = await compat.acompletion("my-model", user(), custom_llm_provider="openai", **openai_at(sim))
    assert sim.requests[-1].json["model"] == "my-model"
    resp = await compat.acompletion("hosted_vllm/some/model", user(), api_base=f"{sim.url}/v1", api_key="k")
    assert resp._hidden_params["model"] == "vllm/some/model"


async def test_mock_response(sim: Simulator) -> None:
    resp = await compat.acompletion("gpt-4o-mini", user(), mock_response="canned")
    assert resp.choices[0].message.content == "canned"
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens) == (10, 20)
    assert compat.completion_cost(resp) > 0
    assert sim.request_count == 0
    stream = await compat.acompletion("gpt-4o-mini", user(), mock_response="abcdefghij", stream=True)
    pieces = [c.choices[0].delta.content async for c in stream]
    assert pieces == ["abcd", "efgh", "ij"]
    blocking = compat.completion("any-model-name", user(), mock_response="sync", n=2, stream=False)
    assert [c.message.content for c in blocking.choices] == ["sync", "sync"]
    assert (
        "".join(
            c.choices[0].delta.content or ""
            for c in compat.completion("m", user(), mock_response="xyz", stream=True)
        )
        == "xyz"
    )
    with pytest.raises(compat.RateLimitError):
        await compat.acompletion("gpt-4o-mini", user(), mock_response="litellm.RateLimitError")
    with pytest.raises(compat.MockException) as caught:
        await compat.acompletion("gpt-4o-mini", user(), mock_response=ValueError("boom"))
    assert caught.value.status_code == 500
    with pytest.raises(compat.ContextWindowExceededError):
        await compat.acompletion(
            "gpt-4o-mini", user(), mock_response=core.ContextWindowExceededError("too long")
        )
    tool = compat.completion(
        "gpt-4o-mini",
        user(),
        mock_response="",
        mock_tool_calls=[{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
    )
    assert tool.choices[0].message.tool_calls[0].function.name == "f"
    assert (
        compat.mock_completion("gpt-4o-mini", user()).choices[0].message.content == "This is a mock request"
    )


async def test_blocking_completion_and_stream(sim: Simulator) -> None:
    resp = await asyncio.to_thread(compat.completion, MODEL, user("sync"), **openai_at(sim))
    assert resp.choices[0].message.content == "Simulated answer to: sync"

    def stream() -> list[Any]:
        return list(
            compat.completion(
                MODEL, user("s t"), stream=True, stream_options={"include_usage": True}, **openai_at(sim)
            )
        )

    chunks = await asyncio.to_thread(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Simulated answer to: s t"
    assert chunks[-1].usage.total_tokens > 0

    def failing() -> None:
        compat.completion(MODEL, user(), num_retries=0, **openai_at(sim))

    sim.enqueue(Fault(status=429))
    with pytest.raises(compat.RateLimitError):
        await asyncio.to_thread(failing)
    with pytest.raises(core.InvalidInputError, match="plain for"):
        compat.completion("m", user(), mock_response="x", stream=True).__aiter__()


async def test_content_parts_pass_and_cache_control_is_refused(sim: Simulator) -> None:
    parts = [
        {"type": "text", "text": "what is in it?"},
        {"type": "image_url", "image_url": {"url": "https://images.example/cat.png"}},
    ]
    resp = await compat.acompletion(MODEL, [{"role": "user", "content": parts}], **openai_at(sim))
    assert resp.choices[0].message.content
    assert (
        sim.requests[-1].json["messages"][0]["content"][1]["image_url"]["url"]
        == "https://images.example/cat.png"
    )
    marked = [
        {"role": "user", "content": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}]}
    ]
    with pytest.raises(compat.UnsupportedParamsError, match="cache_control"):
        await compat.acompletion("anthropic/claude-haiku-4-5", marked, api_base=sim.url, api_key="k")
    assert sim.request_count == 1
