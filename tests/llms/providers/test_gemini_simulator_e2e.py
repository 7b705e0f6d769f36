"""Gemini API models end to end against the simulator: text, streams, tools with thought
signatures, structured output, thoughts, safety, usage and cost, RetryInfo on 429, streams cut
before and after the first chunk, in-stream errors, auth and unknown models; the key never leaks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from openai_testkit import accumulate
from pydantic import BaseModel

from core.llms import create_llm
from core.llms.interfaces import (
    AuthenticationError,
    BadRequestError,
    ContentFilterError,
    Message,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
    StreamInterruptedError,
)
from core.llms.providers.gemini import model_content
from core.llms.simulator import Fault, Simulator

KEY = "AIzaSySimulatorKey00000000000000000000"
FAST = {"max_retries": 2, "backoff_initial": 0.001, "backoff_max": 0.002}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class City(BaseModel):
    name: str
    population: int


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


def gemini(sim: Simulator, model: str = "gemini-2.5-flash", **kw: Any) -> Any:
    kw.setdefault("api_key", KEY)
    return create_llm(f"gemini/{model}", endpoint=f"{sim.url}/v1beta", retry=FAST, **kw)


async def test_text(sim: Simulator) -> None:
    async with gemini(sim) as llm:
        messages = [{"role": "system", "content": "be terse"}, {"role": "user", "content": "hello gemini"}]
        response = await llm.get_answer(messages, max_tokens=200, temperature=0.1)
    assert response.text == "Simulated answer to: hello gemini"
    assert (response.provider, response.model, response.finish_reason) == (
        "gemini",
        "gemini-2.5-flash",
        "stop",
    )
    assert response.endpoint == f"{sim.url}/v1beta"
    assert response.request_id == "sim-google-000001"
    usage = response.usage
    assert usage is not None and usage.reasoning_tokens == 16 and usage.output_tokens > 16
    assert response.cost == pytest.approx((usage.input_tokens * 0.30 + usage.output_tokens * 2.50) / 1e6)
    (request,) = sim.requests
    assert request.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert request.headers["x-goog-api-key"] == KEY and request.query == {}
    assert request.json["systemInstruction"] == {"parts": [{"text": "be terse"}]}
    assert request.json["generationConfig"] == {"maxOutputTokens": 200, "temperature": 0.1}


async def test_stream(sim: Simulator) -> None:
    async with gemini(sim) as llm:
        chunks = [c async for c in llm.stream_answer("stream me a few words", include_thoughts=True)]
    acc = accumulate(chunks)
    response = acc.to_response(model="gemini-2.5-flash", provider="gemini")
    assert acc.text == "Simulated answer to: stream me a few words"
    assert response.reasoning == "Simulated reasoning about: stream me a few words"
    assert len([c for c in chunks if c.text]) == 8  # word by word
    final = chunks[-1]
    assert final.finish_reason == "stop" and final.usage is not None and final.cost is not None
    assert final.usage.reasoning_tokens == 8  # the words of the reasoning
    (request,) = sim.requests
    assert request.path.endswith(":streamGenerateContent") and request.query == {"alt": "sse"}
    assert request.json["generationConfig"] == {"thinkingConfig": {"includeThoughts": True}}


async def test_tool_round_trip(sim: Simulator) -> None:
    async with gemini(sim) as llm:
        first = await llm.get_answer(
            "what is the weather in Paris?", tools=[WEATHER], tool_choice="get_weather"
        )
        (call,) = first.tool_calls
        assert (call.name, call.arguments, first.finish_reason) == (
            "get_weather",
            '{"city":"sample city"}',
            "tool_calls",
        )
        messages = [
            {"role": "user", "content": "what is the weather in Paris?"},
            Message.assistant(tool_calls=first.tool_calls),
            Message.tool(call.id, {"celsius": 21}),
        ]
        final = await llm.get_answer(messages, tools=[WEATHER])
    assert final.text == 'Based on the tool result: {"celsius":21}'
    sent = sim.requests[-1].json["contents"]
    assert sent[1]["parts"] == [
        {"functionCall": {"id": call.id, "name": "get_weather", "args": {"city": "sample city"}}}
    ]
    assert sent[2]["parts"] == [
        {"functionResponse": {"id": call.id, "name": "get_weather", "response": {"celsius": 21}}}
    ]
    assert sim.requests[0].json["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
    }


async def test_gemini3_thought_signatures_travel_back(sim: Simulator) -> None:
    async with gemini(sim, "gemini-3-pro-preview") as llm:
        chunks = [c async for c in llm.stream_answer("weather in Oslo?", tools=[WEATHER])]
        acc = accumulate(chunks)
        (call,) = acc.tool_calls
        turn = model_content(chunks[-1])  # the stream's last chunk carries the whole answer
        assert "thoughtSignature" in turn["parts"][0]
        messages = [{"role": "user", "content": "weather in Oslo?"}, turn, Message.tool(call.id, "cold")]
        final = await llm.get_answer(messages, tools=[WEATHER])
        assert final.text == 'Based on the tool result: {"result":"cold"}'
        # without the signature, Gemini 3 refuses the turn
        bare = [
            {"role": "user", "content": "weather in Oslo?"},
            Message.assistant(tool_calls=[call]),
            Message.tool(call.id, "cold"),
        ]
        with pytest.raises(BadRequestError, match="thought_signature"):
            await llm.get_answer(bare, tools=[WEATHER])


async def test_structured_output(sim: Simulator) -> None:
    async with gemini(sim, "gemini-2.0-flash") as llm:
        response = await llm.get_answer("a city please", response_format=City)
    assert isinstance(response.parsed, City)
    assert sim.requests[0].json["generationConfig"]["responseJsonSchema"] == City.model_json_schema()


async def test_safety(sim: Simulator) -> None:
    async with gemini(sim) as llm:
        with pytest.raises(ContentFilterError) as info:
            await llm.get_answer("[[content_filter]] something bad")
        assert info.value.categories == {
            "HARM_CATEGORY_DANGEROUS_CONTENT": {"filtered": True, "probability": "HIGH"}
        }
        assert len(sim.requests) == 1  # never retried
        stopped = await llm.get_answer("[[safety]] something else")
        assert (stopped.text, stopped.finish_reason) == ("", "content_filter")
        assert stopped.content_filter is not None and stopped.content_filter["finishReason"] == "SAFETY"
        chunks = [c async for c in llm.stream_answer("[[safety]] streamed")]
        assert chunks[-1].finish_reason == "content_filter"


async def test_429_waits_the_retry_info_delay(sim: Simulator) -> None:
    sim.enqueue(Fault(status=429, retry_after=0.3))
    async with gemini(sim) as llm:
        started = time.monotonic()
        response = await llm.get_answer("hi")
        waited = time.monotonic() - started
    assert response.text == "Simulated answer to: hi"
    assert waited >= 0.3  # the body's RetryInfo, not the tiny backoff
    assert len(sim.requests) == 2


async def test_429_past_the_retries_is_typed(sim: Simulator) -> None:
    sim.set_default_fault(Fault(status=429, retry_after=0.01, message="Quota exceeded"))
    async with gemini(sim) as llm:
        with pytest.raises(RateLimitError) as info:
            await llm.get_answer("hi")
    assert (info.value.retry_after, info.value.code, info.value.message) == (
        0.01,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded",
    )


async def test_a_stream_cut_before_the_first_chunk_is_retried(sim: Simulator) -> None:
    sim.enqueue(Fault(truncate_stream=True, at="before_first_chunk"), Fault(drop="before_first_chunk"))
    async with gemini(sim) as llm:
        acc = accumulate([c async for c in llm.stream_answer("hi there")])
    assert acc.text == "Simulated answer to: hi there" and acc.finish_reason == "stop"
    assert len(sim.requests) == 3


async def test_a_stream_cut_after_the_first_chunk_is_interrupted(sim: Simulator) -> None:
    sim.enqueue(Fault(truncate_stream=True, after_chunks=2))
    async with gemini(sim) as llm:
        seen: list[str] = []
        with pytest.raises(StreamInterruptedError) as info:
            async for chunk in llm.stream_answer("one two three four five"):
                seen.append(chunk.text)
    assert info.value.partial_text == "".join(seen) == "Simulated answer"
    assert len(sim.requests) == 1


async def test_a_dropped_connection_after_the_first_chunk(sim: Simulator) -> None:
    sim.enqueue(Fault(drop="after_first_chunk"))
    async with gemini(sim) as llm:
        with pytest.raises(StreamInterruptedError) as info:
            async for _ in llm.stream_answer("hello"):
                pass
    assert info.value.partial_text == "Simulated"


async def test_an_error_event_mid_stream(sim: Simulator) -> None:
    sim.enqueue(Fault(error_event=True, status=503, message="The model is overloaded."))
    async with gemini(sim) as llm:
        with pytest.raises(StreamInterruptedError) as info:
            async for _ in llm.stream_answer("hello world"):
                pass
    assert isinstance(info.value.cause, ServiceUnavailableError)
    assert info.value.cause.message == "The model is overloaded."


async def test_an_error_in_a_200_body_is_retried(sim: Simulator) -> None:
    sim.enqueue(Fault(error_event=True, status=503))
    async with gemini(sim) as llm:
        response = await llm.get_answer("hello")
    assert response.text == "Simulated answer to: hello" and len(sim.requests) == 2


async def test_a_wrong_key_never_shows_in_the_error(sim: Simulator) -> None:
    wrong = "AIzaSyWrongKeyWrongKeyWrongKey00000000"
    async with gemini(sim, api_key=wrong) as llm:
        with pytest.raises(AuthenticationError) as info:
            await llm.get_answer("hi")
    error = info.value
    assert error.status == 400 and error.code == "INVALID_ARGUMENT"
    for text in (str(error), repr(error), str(error.body), error.hint or ""):
        assert wrong not in text and wrong[8:20] not in text
    assert len(sim.requests) == 1


async def test_an_unknown_model(sim: Simulator) -> None:
    async with gemini(sim, "palm-2") as llm:
        with pytest.raises(NotFoundError) as info:
            await llm.get_answer("hi")
    assert info.value.code == "NOT_FOUND" and "palm-2" in info.value.message


async def test_concurrent_calls(sim: Simulator) -> None:
    async with gemini(sim) as llm:
        answers = await asyncio.gather(*(llm.get_answer(f"question {i}") for i in range(20)))
    assert [a.text for a in answers] == [f"Simulated answer to: question {i}" for i in range(20)]


async def test_images_in_the_prompt(sim: Simulator) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    async with gemini(sim) as llm:
        response = await llm.get_answer_with_vision("what is this", [png, png])
    assert response.text == "Simulated answer to: what is this I see 2 images."
    parts = sim.requests[0].json["contents"][0]["parts"]
    assert [list(p) for p in parts] == [["text"], ["inlineData"], ["inlineData"]]
