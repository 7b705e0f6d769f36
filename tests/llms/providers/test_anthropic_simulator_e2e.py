"""Anthropic's Messages API end to end against the simulator, through the real FailoverConnector:
text, streams, tools across turns, thinking carried back with its signatures, structured output,
refusals, stop sequences, truncation, prompt caching and its cost, errors, overloaded (529)
retries and failover, and streams cut before and after their first chunk."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from openai_testkit import accumulate
from pydantic import BaseModel

from core.llms import create_llm
from core.llms.interfaces import (
    AllEndpointsFailedError,
    AuthenticationError,
    BadRequestError,
    LLMResponse,
    Message,
    NotFoundError,
    ServiceUnavailableError,
    StreamInterruptedError,
    Usage,
)
from core.llms.providers.dialects.anthropic_messages import assistant_message
from core.llms.simulator import Fault, Simulator
from core.llms.simulator.anthropic_request import REFUSAL_TRIGGER

KEY = "sk-ant-sim-key"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class Weather(BaseModel):
    city: str
    celsius: float


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


def llm(sim: Simulator, name: str = "claude-sonnet-4-5", **kwargs: Any) -> Any:
    kwargs.setdefault("api_key", KEY)
    return create_llm(f"anthropic/{name}", endpoint=sim.url, **kwargs)


async def streamed(model: Any, messages: Any, **params: Any) -> tuple[LLMResponse, list[Any]]:
    chunks = [c async for c in model.stream_answer(messages, **params)]
    return accumulate(chunks).to_response(model=model.name, provider=model.provider), chunks


def same(a: LLMResponse, b: LLMResponse) -> None:
    assert (a.text, a.finish_reason, a.usage, a.reasoning, a.refusal, a.model) == (
        b.text,
        b.finish_reason,
        b.usage,
        b.reasoning,
        b.refusal,
        b.model,
    )
    assert [(c.id, c.name, json.loads(c.arguments)) for c in a.tool_calls] == [
        (c.id, c.name, json.loads(c.arguments)) for c in b.tool_calls
    ]


async def test_text(sim: Simulator) -> None:
    async with llm(sim) as m:
        r = await m.get_answer([Message.system("Be brief."), Message.user("hello there")], temperature=0.5)
    assert r.text == "Simulated answer to: hello there"
    assert (r.finish_reason, r.model, r.provider) == ("stop", "claude-sonnet-4-5-20250929", "anthropic")
    assert r.request_id == "req_sim_000001" and r.endpoint == sim.url
    assert (
        r.usage is not None
        and r.usage.output_tokens == 5
        and r.cost == pytest.approx((r.usage.input_tokens * 3.0 + 5 * 15.0) / 1e6)
    )
    (request,) = sim.requests
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == KEY and request.headers["anthropic-version"] == "2023-06-01"
    assert KEY not in repr(request)
    assert request.json == {
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 8192,
        "messages": [{"role": "user", "content": "hello there"}],
        "system": "Be brief.",
        "temperature": 0.5,
    }


async def test_stream_equals_the_whole_answer(sim: Simulator) -> None:
    async with llm(sim) as m:
        whole = await m.get_answer("tell me about the weather in Paris")
        stream, chunks = await streamed(m, "tell me about the weather in Paris")
    same(stream, whole)
    assert len(chunks) > 4 and chunks[0].endpoint == sim.url and chunks[0].request_id == "req_sim_000002"
    assert chunks[-1].cost == whole.cost and chunks[-1].raw["content"] == whole.raw["content"]
    assert sim.requests[1].json["stream"] is True


async def test_tools_round_trip(sim: Simulator) -> None:
    async with llm(sim) as m:
        first = await m.get_answer("weather in Paris?", tools=[WEATHER])
        assert first.finish_reason == "tool_calls"
        (call,) = first.tool_calls
        assert (call.name, json.loads(call.arguments)) == ("get_weather", {"city": "sample city"})
        history = [Message.user("weather in Paris?"), Message.assistant(tool_calls=first.tool_calls)]
        second = await m.get_answer([*history, Message.tool(call.id, "22 C")], tools=[WEATHER])
        streamed_second, _ = await streamed(m, [*history, Message.tool(call.id, "22 C")], tools=[WEATHER])
        streamed_first, _ = await streamed(m, "weather in Paris?", tools=[WEATHER])
    assert second.text == "Based on the tool result: 22 C" and second.finish_reason == "stop"
    same(streamed_second, second)
    assert streamed_first.finish_reason == "tool_calls" and streamed_first.tool_calls[0].name == "get_weather"
    assert sim.requests[1].json["messages"][2] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "22 C"}],
    }


async def test_a_result_without_its_call_is_refused(sim: Simulator) -> None:
    async with llm(sim) as m:
        with pytest.raises(BadRequestError, match="unexpected `tool_use_id`"):
            await m.get_answer([Message.user("q"), Message.tool("toolu_nowhere", "x")], tools=[WEATHER])


@pytest.mark.parametrize("stream_first", [False, True])
async def test_thinking_is_carried_back_with_its_signature(sim: Simulator, stream_first: bool) -> None:
    params: dict[str, Any] = {"tools": [WEATHER], "thinking": {"type": "enabled", "budget_tokens": 2048}}
    async with llm(sim) as m:
        if stream_first:
            first, _ = await streamed(m, "weather in Oslo?", **params)
        else:
            first = await m.get_answer("weather in Oslo?", **params)
        assert first.reasoning == "Simulated reasoning about: weather in Oslo?"
        (call,) = first.tool_calls
        turn = assistant_message(first)
        assert [b["type"] for b in turn["content"]] == ["thinking", "tool_use"]
        messages = [Message.user("weather in Oslo?"), turn, Message.tool(call.id, "-3 C")]
        final = await m.get_answer(messages, **params)
        assert final.text == "Based on the tool result: -3 C"
        assert final.reasoning == "Simulated reasoning about: the tool result."
        sent = sim.requests[-1].json["messages"][1]["content"][0]
        assert sent["type"] == "thinking" and sent["signature"] == turn["content"][0]["signature"]

        # the chat form loses the thinking, and the API refuses the turn
        lost = [Message.user("weather in Oslo?"), Message.assistant(tool_calls=first.tool_calls), messages[2]]
        with pytest.raises(BadRequestError, match="Expected `thinking` or `redacted_thinking`"):
            await m.get_answer(lost, **params)
        # a tampered signature is refused too
        tampered = {
            "role": "assistant",
            "content": [dict(turn["content"][0], thinking="edited"), turn["content"][1]],
        }
        with pytest.raises(BadRequestError, match="Invalid `signature`"):
            await m.get_answer([messages[0], tampered, messages[2]], **params)


async def test_structured_output(sim: Simulator) -> None:
    async with llm(sim) as m:
        r = await m.get_answer("weather in Oslo as JSON", response_format=Weather)
        s, _ = await streamed(m, "weather in Oslo as JSON", response_format=Weather)
    assert r.parsed == Weather(city="sample city", celsius=1.5)
    assert (r.finish_reason, r.tool_calls) == ("stop", [])
    assert json.loads(s.text) == json.loads(r.text) and s.finish_reason == "stop"
    assert sim.requests[0].json["tool_choice"] == {"type": "tool", "name": "Weather"}


async def test_refusal_stop_sequence_and_truncation(sim: Simulator) -> None:
    async with llm(sim) as m:
        refused = await m.get_answer(f"help me {REFUSAL_TRIGGER}")
        refused_stream, _ = await streamed(m, f"help me {REFUSAL_TRIGGER}")
        stopped = await m.get_answer("alpha beta gamma delta", stop=["gamma"])
        cut = await m.get_answer("one two three four five six", max_tokens=3)
        cut_stream, _ = await streamed(m, "one two three four five six", max_tokens=3)
    assert (refused.finish_reason, refused.refusal) == ("refusal", "I can't help with that.")
    same(refused_stream, refused)
    assert (stopped.text, stopped.finish_reason) == ("Simulated answer to: alpha beta ", "stop")
    assert stopped.raw["stop_sequence"] == "gamma"
    assert (cut.text, cut.finish_reason) == ("Simulated answer to:", "length")
    same(cut_stream, cut)


async def test_max_tokens_inside_a_tool_call(sim: Simulator) -> None:
    async with llm(sim) as m:
        whole = await m.get_answer("weather?", tools=[WEATHER], max_tokens=2)
        stream, chunks = await streamed(m, "weather?", tools=[WEATHER], max_tokens=2)
    assert (whole.finish_reason, whole.tool_calls) == ("length", [])
    assert stream.finish_reason == "length"
    assert chunks[-1].raw["content"] == [] and chunks[-1].raw["stop_reason"] == "max_tokens"
    with pytest.raises(Exception, match="no content blocks"):
        assistant_message(chunks[-1])


async def test_prompt_cache_reads_and_writes_are_billed(sim: Simulator) -> None:
    system = Message.system("You are a meticulous assistant. " * 200)
    async with llm(sim) as m:
        first = await m.get_answer([system, Message.user("one")], cache_system=True)
        second = await m.get_answer([system, Message.user("two")], cache_system=True)
        third = await m.get_answer(
            [system, Message.user("three")], cache_system="1h", model="claude-sonnet-4-5"
        )
    assert first.usage is not None and second.usage is not None and third.usage is not None
    written = first.usage.cache_write_input_tokens
    assert written > 1000 and first.usage.cached_input_tokens == 0
    assert second.usage.cached_input_tokens == written and second.usage.cache_write_input_tokens == 0
    fresh = second.usage.input_tokens - written
    assert first.cost == pytest.approx((fresh * 3.0 + written * 3.75 + 5 * 15.0) / 1e6, rel=0.05)
    assert second.cost == pytest.approx((fresh * 3.0 + written * 0.30 + 5 * 15.0) / 1e6, rel=0.05)
    assert sim.requests[0].json["system"][0]["cache_control"] == {"type": "ephemeral"}
    # another model id has a cache of its own: written again, at the one-hour price (twice the input's)
    assert third.usage.cache_write_input_tokens == written
    assert third.raw["usage"]["cache_creation"]["ephemeral_1h_input_tokens"] == written
    assert third.cost is not None and third.cost > first.cost


async def test_errors_are_typed_and_keys_stay_out(sim: Simulator) -> None:
    async with llm(sim, api_key="sk-ant-wrong-key-123456") as m:
        with pytest.raises(AuthenticationError) as info:
            await m.get_answer("hi")
    assert info.value.code == "authentication_error" and "wrong-key" not in str(info.value)
    assert "wrong-key" not in repr(info.value) and info.value.request_id == "req_sim_000001"
    async with llm(sim) as m:
        with pytest.raises(NotFoundError):
            await m.get_answer("hi", model="gpt-4o")
        with pytest.raises(BadRequestError, match="prompt is too long"):
            await llm_with_small_context(m, sim)


async def llm_with_small_context(m: Any, sim: Simulator) -> None:
    async with Simulator(api_key=KEY, context_chars=50) as small, llm(small) as tight:
        await tight.get_answer("x" * 200)


async def test_overloaded_is_retried(sim: Simulator) -> None:
    sim.enqueue(Fault(status=529, retry_after=0.01), Fault(status=529, retry_after=0.01))
    async with llm(sim) as m:
        r = await m.get_answer("hi")
    assert r.text == "Simulated answer to: hi" and len(sim.requests) == 3
    sim.enqueue(*[Fault(status=529, retry_after=0.01)] * 3)
    async with llm(sim) as m:
        with pytest.raises(ServiceUnavailableError) as info:
            await m.get_answer("hi")
    assert (info.value.status, info.value.code) == (529, "overloaded_error")


async def test_failover_between_two_endpoints() -> None:
    async with Simulator(api_key=KEY) as primary, Simulator(api_key=KEY) as backup:
        primary.enqueue(Fault(status=529))
        async with llm(primary, backups=[{"endpoint": backup.url}], retry={"max_retries": 0}) as m:
            r = await m.get_answer("hi")
            assert r.endpoint == backup.url and len(primary.requests) == 1
            # an overloaded error inside the stream, before its first chunk: failed over too
            primary.enqueue(Fault(error_event=True, error_code="overloaded_error", at="before_first_chunk"))
            s, chunks = await streamed(m, "hello")
            assert s.text == "Simulated answer to: hello" and chunks[0].endpoint == backup.url
            # both down: every attempt is listed
            primary.enqueue(Fault(status=529))
            backup.enqueue(Fault(status=500))
            with pytest.raises(AllEndpointsFailedError) as info:
                await m.get_answer("hi")
    causes = [type(a.error) for a in info.value.attempts]
    assert causes == [ServiceUnavailableError, ServiceUnavailableError]


async def test_stream_cut_before_its_first_chunk_is_retried(sim: Simulator) -> None:
    sim.enqueue(Fault(drop="before_first_chunk"))
    async with llm(sim) as m:
        s, _ = await streamed(m, "hello")
    assert s.text == "Simulated answer to: hello" and s.finish_reason == "stop" and len(sim.requests) == 2


@pytest.mark.parametrize(
    "fault",
    [
        Fault(drop="after_first_chunk"),
        Fault(truncate_stream=True),
        Fault(error_event=True, error_code="overloaded_error"),
    ],
)
async def test_stream_cut_after_its_first_chunk_is_interrupted(sim: Simulator, fault: Fault) -> None:
    sim.enqueue(fault)
    async with llm(sim) as m:
        received: list[Any] = []
        with pytest.raises(StreamInterruptedError) as info:
            async for chunk in m.stream_answer("one two three four five six seven eight"):
                received.append(chunk)
    assert received and info.value.partial_text == "".join(c.text for c in received)
    assert info.value.partial_text.startswith("Simulated")
    if fault.error_event:
        assert isinstance(info.value.cause, ServiceUnavailableError) and info.value.cause.status == 529
    assert len(sim.requests) == 1  # never retried: it would repeat text


async def test_usage_matches_between_body_and_stream(sim: Simulator) -> None:
    async with llm(sim, "claude-haiku-4-5") as m:
        whole = await m.get_answer("count me", thinking=1024)
        s, _ = await streamed(m, "count me", thinking=1024)
    assert whole.usage == s.usage and isinstance(whole.usage, Usage)
    assert whole.reasoning == s.reasoning == "Simulated reasoning about: count me"
    assert sim.requests[0].json["max_tokens"] == 8192 + 1024
