"""The Responses API end to end against the simulator, through the real FailoverConnector:
text, streams, tools across turns, encrypted reasoning across turns, structured output,
refusals, truncation, in-stream errors, cut streams, failover, and what is refused before sending.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, Literal

import aiohttp
import pytest
from openai_testkit import accumulate
from pydantic import BaseModel

from core.llms import create_llm
from core.llms.interfaces import (
    BadRequestError,
    InvalidInputError,
    LLMResponse,
    Message,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
    StreamInterruptedError,
    Usage,
)
from core.llms.providers.dialects.openai_responses import response_items
from core.llms.simulator import Fault, Simulator
from core.llms.simulator.responses_request import REFUSAL_TRIGGER
from core.llms.simulator.responses_wire import REFUSAL_TEXT

KEY = "sk-sim-key"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
LONG = "please tell me everything you know about " + " ".join(f"topic{i}" for i in range(30))


class Weather(BaseModel):
    city: str
    unit: Literal["c", "f"]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


def llm(sim: Simulator, name: str = "gpt-4.1-mini", **kwargs: Any) -> Any:
    return create_llm(f"openai/{name}", api_key=KEY, endpoint=f"{sim.url}/v1", **kwargs)


async def streamed(model: Any, messages: Any, **params: Any) -> tuple[LLMResponse, list[Any]]:
    chunks = [c async for c in model.stream_answer(messages, api="responses", **params)]
    return accumulate(chunks).to_response(model=model.name, provider=model.provider), chunks


def same_answer(a: LLMResponse, b: LLMResponse) -> None:
    assert (a.text, a.finish_reason, a.usage, a.refusal, a.reasoning, a.model) == (
        b.text,
        b.finish_reason,
        b.usage,
        b.refusal,
        b.reasoning,
        b.model,
    )
    assert [(c.name, c.arguments) for c in a.tool_calls] == [(c.name, c.arguments) for c in b.tool_calls]


async def test_text(sim: Simulator) -> None:
    async with llm(sim, "gpt-5-mini") as m:
        r = await m.get_answer("hi", api="responses")
    assert r.text == "Simulated answer to: hi"
    assert (r.finish_reason, r.model, r.provider) == ("stop", "gpt-5-mini", "openai")
    assert r.usage is not None and r.usage.reasoning_tokens == 16 and r.cost is not None
    assert r.request_id == "req_sim_000001" and r.endpoint == f"{sim.url}/v1"
    (request,) = sim.requests
    assert (request.path, request.json["model"], request.json["input"]) == (
        "/v1/responses",
        "gpt-5-mini",
        [{"role": "user", "content": "hi"}],
    )
    assert r.raw["output"][0]["type"] == "reasoning"  # a reasoning model thinks in an item


@pytest.mark.parametrize("name", ["gpt-4.1-mini", "gpt-5-mini", "o4-mini"])
async def test_streaming_equals_non_streamed(sim: Simulator, name: str) -> None:
    messages = [Message.system("Be brief."), Message.user("tell me about the weather in Paris")]
    async with llm(sim, name) as m:
        whole = await m.get_answer(messages, api="responses")
        stream, chunks = await streamed(m, messages)
    same_answer(stream, whole)
    assert len(chunks) > 3 and chunks[0].endpoint == f"{sim.url}/v1"
    assert chunks[-1].raw["status"] == "completed" and chunks[-1].cost == whole.cost
    assert sim.requests[0].json["instructions"] == "Be brief."
    assert sim.requests[1].json["stream"] is True


async def test_tools_round_trip(sim: Simulator) -> None:
    async with llm(sim) as m:
        first = await m.get_answer("weather in Paris?", api="responses", tools=[WEATHER_TOOL])
        assert first.finish_reason == "tool_calls"
        (call,) = first.tool_calls
        assert (call.name, json.loads(call.arguments)) == ("get_weather", {"city": "sample city"})
        history = [Message.user("weather in Paris?"), Message.assistant(tool_calls=first.tool_calls)]
        second = await m.get_answer(
            [*history, Message.tool(call.id, "22 C")], api="responses", tools=[WEATHER_TOOL]
        )
        streamed_second, _ = await streamed(
            m, [*history, Message.tool(call.id, "22 C")], tools=[WEATHER_TOOL]
        )
    assert second.text == "Based on the tool result: 22 C" and second.finish_reason == "stop"
    same_answer(streamed_second, second)
    sent = sim.requests[1].json
    assert sent["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "parameters": WEATHER_TOOL["function"]["parameters"],
            "strict": False,
        }
    ]
    assert sent["input"][1:] == [
        {"type": "function_call", "call_id": call.id, "name": "get_weather", "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.id, "output": "22 C"},
    ]


async def test_streamed_tool_call(sim: Simulator) -> None:
    async with llm(sim) as m:
        whole = await m.get_answer("get_weather please", api="responses", tools=[WEATHER_TOOL])
        stream, chunks = await streamed(m, "get_weather please", tools=[WEATHER_TOOL])
    same_answer(stream, whole)
    deltas = [d for c in chunks for d in c.tool_calls or ()]
    assert deltas[0].name == "get_weather" and deltas[0].id is not None and len(deltas) > 2


async def test_an_answer_to_an_unknown_call_is_refused_by_the_server(sim: Simulator) -> None:
    async with llm(sim) as m:
        with pytest.raises(BadRequestError, match="No tool call found"):
            await m.get_answer([Message.user("x"), Message.tool("call_nope", "1")], api="responses")


@pytest.mark.parametrize("stream_first", [False, True])
async def test_encrypted_reasoning_is_carried_to_the_next_turn(sim: Simulator, stream_first: bool) -> None:
    params: dict[str, Any] = {"store": False, "tools": [WEATHER_TOOL], "reasoning_summary": "auto"}
    async with llm(sim, "gpt-5-mini") as m:
        conversation: list[Any] = [Message.user("weather in Paris?")]
        if stream_first:
            first, chunks = await streamed(m, conversation, **params)
            items = response_items(chunks[-1])
        else:
            first = await m.get_answer(conversation, api="responses", **params)
            items = response_items(first)
        assert sim.requests[0].json["include"] == ["reasoning.encrypted_content"]
        assert first.reasoning == "Simulated reasoning about: weather in Paris?"
        reasoning, function_call = items
        assert reasoning["type"] == "reasoning" and reasoning["encrypted_content"].startswith("gAAAAA")
        assert function_call["call_id"] == first.tool_calls[0].id
        conversation += [*items, Message.tool(first.tool_calls[0].id, "sunny")]
        second = await m.get_answer(conversation, api="responses", **params)
    assert second.text == "Based on the tool result: sunny"
    sent = sim.requests[1].json["input"]
    assert sent[1] == reasoning
    assert sent[1]["encrypted_content"] == reasoning["encrypted_content"]
    assert [i.get("type") for i in sent] == [None, "reasoning", "function_call", "function_call_output"]


async def test_reasoning_the_server_cannot_verify_or_find_is_refused(sim: Simulator) -> None:
    forged = {"id": "rs_x", "type": "reasoning", "summary": [], "encrypted_content": "gAAAAAforged"}
    unstored = {"id": "rs_x", "type": "reasoning", "summary": []}
    async with llm(sim, "gpt-5-mini") as m:
        with pytest.raises(BadRequestError, match="could not be verified"):
            await m.get_answer([forged, {"role": "user", "content": "again"}], api="responses", store=False)
        with pytest.raises(NotFoundError, match="not persisted"):
            await m.get_answer([unstored, {"role": "user", "content": "x"}], api="responses", store=False)


async def test_structured_output(sim: Simulator) -> None:
    async with llm(sim) as m:
        r = await m.get_answer("weather", api="responses", response_format=Weather)
        stream, _ = await streamed(m, "weather", response_format=Weather)
    assert r.parsed == Weather(city="sample city", unit="c")
    assert Weather.model_validate_json(stream.text) == r.parsed
    fmt = sim.requests[0].json["text"]["format"]
    assert (fmt["type"], fmt["name"], fmt["strict"]) == ("json_schema", "Weather", True)


async def test_refusal(sim: Simulator) -> None:
    async with llm(sim) as m:
        r = await m.get_answer(f"{REFUSAL_TRIGGER} something bad", api="responses", response_format=Weather)
        stream, _ = await streamed(m, f"{REFUSAL_TRIGGER} something bad")
    assert (r.text, r.refusal, r.finish_reason, r.parsed) == ("", REFUSAL_TEXT, "refusal", None)
    assert (stream.refusal, stream.finish_reason) == (REFUSAL_TEXT, "refusal")


async def test_incomplete_is_length(sim: Simulator) -> None:
    async with llm(sim) as m:
        r = await m.get_answer(LONG, api="responses", max_tokens=16)
        stream, _ = await streamed(m, LONG, max_output_tokens=16)
    assert r.finish_reason == "length" and len(r.text.split()) == 16
    assert r.raw["incomplete_details"] == {"reason": "max_output_tokens"}
    same_answer(stream, r)
    assert sim.requests[0].json["max_output_tokens"] == 16


async def test_in_stream_error_before_content_is_typed(sim: Simulator) -> None:
    sim.enqueue(Fault(error_event=True, at="before_first_chunk", status=429, error_code="insufficient_quota"))
    async with llm(sim) as m:
        with pytest.raises(RateLimitError) as info:
            await streamed(m, "hi")
    assert (info.value.code, info.value.status, info.value.provider) == ("insufficient_quota", 429, "openai")
    assert len(sim.requests) == 1


async def test_error_in_a_200_body_is_typed(sim: Simulator) -> None:
    sim.enqueue(Fault(error_event=True, status=429, error_code="insufficient_quota", message="no credit"))
    async with llm(sim) as m:
        with pytest.raises(RateLimitError, match="no credit") as info:
            await m.get_answer("hi", api="responses")
    assert (info.value.code, info.value.request_id) == ("insufficient_quota", "req_sim_000001")


async def test_in_stream_error_after_content_interrupts_with_the_typed_cause(sim: Simulator) -> None:
    sim.enqueue(Fault(error_event=True, after_chunks=2))
    async with llm(sim) as m:
        with pytest.raises(StreamInterruptedError) as info:
            await streamed(m, "hello there my friend")
    err = info.value
    assert isinstance(err.cause, ServiceUnavailableError) and err.cause.status == 500
    assert err.partial_text == "Simulated answer"


async def test_cut_stream_is_interrupted(sim: Simulator) -> None:
    sim.enqueue(Fault(truncate_stream=True))
    async with llm(sim) as m:
        with pytest.raises(StreamInterruptedError) as info:
            await streamed(m, "hello there my friend")
    assert "ended before its response.completed event" in info.value.message
    assert info.value.partial_text.startswith("Simulated")
    assert info.value.provider == "openai"


async def test_failover_to_a_backup_before_the_first_chunk(sim: Simulator) -> None:
    async with Simulator(api_key=KEY) as backup:
        sim.enqueue(Fault(status=503))
        backups = [{"endpoint": f"{backup.url}/v1"}]
        async with llm(sim, backups=backups, retry={"max_retries": 0}) as m:
            stream, chunks = await streamed(m, "hi")
            sim.enqueue(Fault(drop="before_headers"))
            whole = await m.get_answer("hi", api="responses")
        assert stream.text == whole.text == "Simulated answer to: hi"
        assert chunks[0].endpoint == whole.endpoint == f"{backup.url}/v1"
        assert [r.path for r in backup.requests] == ["/v1/responses", "/v1/responses"]
    assert [r.path for r in sim.requests] == ["/v1/responses", "/v1/responses"]


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"api": "responses", "temperature": 0.5}, "'temperature' is not supported by gpt-5-mini"),
        ({"api": "responses", "seed": 7}, "'seed' has no equivalent in the Responses API"),
        ({"api": "bogus"}, "api= must be 'chat' or 'responses'"),
    ],
)
async def test_refused_before_sending(sim: Simulator, params: dict[str, Any], says: str) -> None:
    async with llm(sim, "gpt-5-mini") as m:
        with pytest.raises(InvalidInputError) as info:
            await m.get_answer("hi", **params)
        assert says in str(info.value)
        with pytest.raises(InvalidInputError):
            async for _ in m.stream_answer("hi", **params):
                pass
    assert sim.requests == []


async def test_usage_and_cost(sim: Simulator) -> None:
    async with llm(sim, "gpt-4.1-mini") as m:
        r = await m.get_answer("one two three", api="responses")
    assert r.usage == Usage(input_tokens=10, output_tokens=6)
    assert r.cost == pytest.approx((10 * 0.40 + 6 * 1.60) / 1e6)


async def test_azure_v1_route(sim: Simulator) -> None:
    async with create_llm(
        "azure/gpt-4o", endpoint=sim.url, api_key=KEY, deployment_name="gpt-4o", api_version="v1"
    ) as m:
        r = await m.get_answer("hi", api="responses")
        stream, _ = await streamed(m, "hi")
    same_answer(stream, r)
    assert r.text == "Simulated answer to: hi" and r.raw["content_filters"] is None
    assert [q.path for q in sim.requests] == ["/openai/v1/responses"] * 2
    assert sim.requests[0].headers["api-key"] == KEY


async def test_azure_classic_route_needs_an_api_version(sim: Simulator) -> None:
    body = {"model": "gpt-4o", "input": "hi"}
    async with aiohttp.ClientSession(headers={"api-key": KEY}) as session:
        async with session.post(f"{sim.url}/openai/responses", json=body) as resp:
            assert resp.status == 400
            assert "api-version" in (await resp.json())["error"]["message"]
        url = f"{sim.url}/openai/responses?api-version=2025-03-01-preview"
        async with session.post(url, json=body) as resp:
            assert resp.status == 200
            data = await resp.json()
    assert data["output"][0]["content"][0]["text"] == "Simulated answer to: hi"
    assert "apim-request-id" in resp.headers


async def test_the_simulator_refuses_chat_shapes(sim: Simulator) -> None:
    """What the real service says to a Chat Completions body sent to /responses."""
    cases = [
        ({"model": "gpt-4o", "messages": []}, "Unknown parameter: 'messages'."),
        (
            {"model": "gpt-4o", "input": "x", "response_format": {"type": "json_object"}},
            "moved to 'text.format'",
        ),
        (
            {"model": "gpt-4o", "input": "x", "tools": [WEATHER_TOOL]},
            "Missing required parameter: 'tools[0].name'.",
        ),
        ({"model": "gpt-4o", "input": "x", "max_output_tokens": 8}, "below minimum value"),
        ({"model": "gpt-5-mini", "input": "x", "temperature": 0.2}, "'temperature' is not supported"),
        (
            {"model": "gpt-4o", "input": "x", "reasoning": {"effort": "low"}},
            "'reasoning.effort' is not supported",
        ),
    ]
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {KEY}"}) as session:
        for body, says in cases:
            async with session.post(f"{sim.url}/v1/responses", json=body) as resp:
                assert resp.status == 400, body
                assert says in (await resp.json())["error"]["message"]


async def test_stream_events_are_numbered_and_named(sim: Simulator) -> None:
    body = {"model": "gpt-4o", "input": "hi there", "stream": True}
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {KEY}"}) as session,
        session.post(f"{sim.url}/v1/responses", json=body) as resp,
    ):
        raw = (await resp.read()).decode()
    names = [line[7:] for line in raw.splitlines() if line.startswith("event: ")]
    data = [json.loads(line[6:]) for line in raw.splitlines() if line.startswith("data: ")]
    assert [d["type"] for d in data] == names
    assert [d["sequence_number"] for d in data] == list(range(len(data)))
    assert names[:5] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
    ]
    assert names[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert data[-1]["response"]["usage"]["total_tokens"] > 0


async def test_defaults_choose_the_api_and_carry_responses_only_parameters(sim: Simulator) -> None:
    defaults = {"api": "responses", "reasoning_summary": "concise", "max_output_tokens": 500}
    async with llm(sim, "gpt-5-mini", defaults=defaults) as model:
        await model.get_answer("hi")
        await model.get_answer("hi", reasoning_summary=None)  # None in a call removes a default
        await model.get_answer("hi", api="chat")  # a call may still choose Chat Completions
    first, second, third = (r.json for r in sim.requests)
    assert [r.path for r in sim.requests] == ["/v1/responses", "/v1/responses", "/v1/chat/completions"]
    assert first["reasoning"]["summary"] == "concise" and first["max_output_tokens"] == 500
    assert "summary" not in second.get("reasoning", {}) and second["max_output_tokens"] == 500
    assert third["max_completion_tokens"] == 500 and "reasoning" not in third


async def test_responses_only_defaults_on_a_chat_model_are_refused(sim: Simulator) -> None:
    with pytest.raises(InvalidInputError, match="only apply to the Responses API"):
        llm(sim, "gpt-5-mini", defaults={"reasoning_summary": "auto"})
    with pytest.raises(InvalidInputError, match="reasoning_summary"):
        llm(sim, "gpt-5-mini", defaults={"api": "responses", "reasoning_summary": "verbose"})
    with pytest.raises(InvalidInputError, match="api"):
        llm(sim, "gpt-5-mini", defaults={"api": "completions"})
    assert sim.requests == []
