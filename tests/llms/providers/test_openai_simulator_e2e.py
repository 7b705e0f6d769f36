"""OpenAI models end to end against the simulator, through the real FailoverConnector."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Literal

import pytest
from model_classes import model_class
from openai_testkit import accumulate
from pydantic import BaseModel

from core.llms.interfaces import (
    ILLM,
    AllEndpointsFailedError,
    ContextWindowExceededError,
    InvalidInputError,
    ServiceUnavailableError,
    StreamInterruptedError,
    UnsupportedOperationError,
)
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.retry import RetryPolicy
from core.llms.providers.dialects.openai_chat import OpenAIChatModel
from core.llms.providers.openai import OpenAIAdapter
from core.llms.simulator import Fault, Simulator

GPT4o = model_class("openai/gpt-4o")
GPT41Mini = model_class("openai/gpt-4.1-mini")
O4Mini = model_class("openai/o4-mini")

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
FAST = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002)


class Weather(BaseModel):
    """Weather in a city."""

    city: str
    unit: Literal["c", "f"]


class Time(BaseModel):
    """Local time in a time zone."""

    zone: str


class Itinerary(BaseModel):
    class Stop(BaseModel):
        city: str
        nights: int

    title: str
    stops: list[Stop]
    notes: str | None = None


def connector(*urls: str, policy: RetryPolicy | None = FAST) -> FailoverConnector:
    primary = EndpointConfig(endpoint=f"{urls[0]}/v1", api_key="sk-sim-key")
    backups = [{"endpoint": f"{u}/v1"} for u in urls[1:]]
    return FailoverConnector.from_endpoints(OpenAIAdapter(), primary, backups, policy)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key="sk-sim-key") as simulator:
        yield simulator


@pytest.fixture
async def model(sim: Simulator) -> AsyncIterator[OpenAIChatModel]:
    async with GPT41Mini(connector(sim.url)) as m:
        yield m


async def test_answer(sim: Simulator, model: OpenAIChatModel) -> None:
    assert isinstance(model, ILLM)
    response = await model.get_answer("hello there", max_tokens=50)
    assert response.text == "Simulated answer to: hello there"
    assert (response.finish_reason, response.provider) == ("stop", "openai")
    assert response.usage is not None and response.usage.output_tokens > 0
    assert response.cost == pytest.approx(model.cost(response.usage))
    assert response.endpoint == f"{sim.url}/v1"
    assert response.request_id is not None and response.request_id.startswith("req_sim_")
    (request,) = sim.requests
    assert request.path == "/v1/chat/completions"
    assert request.json["model"] == "gpt-4.1-mini" and request.json["max_tokens"] == 50


async def test_stream_with_usage(sim: Simulator, model: OpenAIChatModel) -> None:
    chunks = [c async for c in model.stream_answer("stream these words please")]
    acc = accumulate(chunks)
    assert acc.text == "Simulated answer to: stream these words please"
    assert len([c for c in chunks if c.text]) > 1
    final = chunks[-1]
    assert final.finish_reason == "stop" and final.usage is not None and final.cost is not None
    assert chunks[0].endpoint == f"{sim.url}/v1"
    assert sim.requests[0].json["stream_options"] == {"include_usage": True}


async def test_tools(model: OpenAIChatModel) -> None:
    response = await model.get_answer("What's the weather in Oslo?", tools=[Weather], tool_choice="Weather")
    assert response.finish_reason == "tool_calls"
    (call,) = response.tool_calls
    assert call.name == "Weather"
    assert Weather.model_validate_json(call.arguments).unit in ("c", "f")


async def test_parallel_tools_streamed(model: OpenAIChatModel) -> None:
    stream = model.stream_answer("Use Weather and Time together", tools=[Weather, Time])
    acc = accumulate([c async for c in stream])
    assert acc.finish_reason == "tool_calls"
    calls = acc.tool_calls
    assert [c.name for c in calls] == ["Weather", "Time"]
    assert len({c.id for c in calls}) == 2
    Weather.model_validate_json(calls[0].arguments)
    Time.model_validate_json(calls[1].arguments)


async def test_structured_output_with_a_nested_pydantic_model(sim: Simulator, model: OpenAIChatModel) -> None:
    response = await model.get_answer("Plan a trip", response_format=Itinerary)
    assert isinstance(response.parsed, Itinerary)
    assert response.parsed == Itinerary.model_validate_json(response.text)
    sent = sim.requests[0].json["response_format"]
    assert sent["json_schema"]["strict"] is True
    assert set(sent["json_schema"]["schema"]["required"]) == {"title", "stops", "notes"}


async def test_image_by_bytes(sim: Simulator, model: OpenAIChatModel) -> None:
    response = await model.get_answer_with_vision("What is in this picture?", [PNG])
    assert response.text.endswith("I see 1 image.")
    part = sim.requests[0].json["messages"][0]["content"][1]
    assert part["type"] == "image_url" and part["image_url"]["url"].startswith("data:image/png;base64,")


async def test_o4_mini_rules(sim: Simulator) -> None:
    async with O4Mini(connector(sim.url)) as model:
        messages = [{"role": "system", "content": "be terse"}, {"role": "user", "content": "think"}]
        response = await model.get_answer(messages, max_tokens=200, reasoning_effort="low")
        assert response.text.startswith("Simulated answer to: think")
        sent = sim.requests[0].json
        assert sent["messages"][0]["role"] == "developer"
        assert sent["max_completion_tokens"] == 200 and "max_tokens" not in sent
        assert sent["reasoning_effort"] == "low"
        with pytest.raises(InvalidInputError, match="'temperature' is not supported by o4-mini"):
            await model.get_answer("hi", temperature=0.2)
    assert sim.request_count == 1  # the refused call never left the process


async def test_get_image_on_a_text_model(model: OpenAIChatModel) -> None:
    with pytest.raises(UnsupportedOperationError) as info:
        await model.get_image("a cat")
    assert info.value.hint == "this model produces text: use get_answer() or stream_answer()"


async def test_failover_to_the_backup() -> None:
    async with Simulator(api_key="sk-sim-key") as broken, Simulator(api_key="sk-sim-key") as healthy:
        broken.set_default_fault(Fault(status=503))
        backup = f"{healthy.url}/v1"
        async with GPT4o(connector(broken.url, healthy.url)) as model:
            response = await model.get_answer("are you there?")
            chunks = [c async for c in model.stream_answer("and streaming?")]
        assert broken.request_count >= 1 and healthy.request_count == 2
    assert response.endpoint == backup
    assert response.text == "Simulated answer to: are you there?"
    assert chunks[0].endpoint == backup
    assert accumulate(chunks).text == "Simulated answer to: and streaming?"


async def test_every_endpoint_down() -> None:
    async with Simulator(api_key="sk-sim-key") as a, Simulator(api_key="sk-sim-key") as b:
        a.set_default_fault(Fault(status=503))
        b.set_default_fault(Fault(status=502))
        async with GPT4o(connector(a.url, b.url)) as model:
            with pytest.raises(AllEndpointsFailedError) as info:
                await model.get_answer("hello")
    assert (info.value.provider, info.value.model) == ("openai", "gpt-4o")
    assert isinstance(info.value.last_error, ServiceUnavailableError)


async def test_truncated_stream_keeps_partial_text(sim: Simulator, model: OpenAIChatModel) -> None:
    sim.enqueue(Fault(truncate_stream=True))
    received = ""
    with pytest.raises(StreamInterruptedError) as info:
        async for chunk in model.stream_answer("one two three four five six seven eight"):
            received += chunk.text
    assert received and info.value.partial_text == received
    assert (info.value.model, info.value.endpoint) == ("gpt-4.1-mini", f"{sim.url}/v1")


async def test_error_event_mid_stream(sim: Simulator, model: OpenAIChatModel) -> None:
    sim.enqueue(Fault(error_event=True, status=500))
    with pytest.raises(StreamInterruptedError) as info:
        async for _ in model.stream_answer("one two three four"):
            pass
    assert isinstance(info.value.cause, ServiceUnavailableError)
    assert info.value.partial_text


async def test_provider_context_window_error() -> None:
    async with Simulator(api_key="sk-sim-key", context_chars=50) as small:
        async with GPT41Mini(connector(small.url)) as model:
            with pytest.raises(ContextWindowExceededError) as info:
                await model.get_answer("word " * 40)
        assert small.request_count == 1
    assert info.value.status == 400 and info.value.model == "gpt-4.1-mini"


async def test_rate_limit_then_success(sim: Simulator, model: OpenAIChatModel) -> None:
    sim.enqueue(Fault(status=429, retry_after=0.01))
    response = await model.get_answer("patience")
    assert response.text == "Simulated answer to: patience"
    assert sim.request_count == 2
    assert json.loads(json.dumps(sim.requests[0].json)) == sim.requests[1].json  # same body each attempt


async def test_insufficient_quota_fails_over_without_retrying() -> None:
    quota = {
        "error": {
            "message": "You exceeded your current quota, please check your plan and billing details.",
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        }
    }
    async with Simulator(api_key="sk-sim-key") as broke, Simulator(api_key="sk-sim-key") as funded:
        broke.set_default_fault(Fault(status=429, body=quota))
        async with GPT4o(connector(broke.url, funded.url, policy=RetryPolicy())) as model:
            response = await model.get_answer("anyone with credit?")
        assert broke.request_count == 1 and funded.request_count == 1
        assert response.endpoint == f"{funded.url}/v1"
