"""Replay of every recorded OpenAI Chat Completions file in ``tests/llms/wire/openai``.

Each recording is replayed twice: straight into :class:`ChatStreamParser` through the real SSE
decoder, cut at seeded random byte offsets; and end to end, served by a loopback replay server
and read by a model through the real ``FailoverConnector``. Expectations are literal facts of the
recordings plus an oracle that reads them with nothing but ``json``.

``chat-stream-n3-choices.sse`` (``n=3``): the model classes never ask for several choices, so
the parser reads choice 0 only and ignores the others (logged once); the tests pin that.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from model_classes import model_class
from openai_testkit import (
    ReplayServer,
    accumulate,
    expected_texts,
    recorded_headers,
    reframe_chunks_txt,
    replay,
    sidecar,
    wire_bytes,
)

from core.llms.interfaces import BadRequestError, LLMResponse, StreamAccumulator, Usage
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.dialects.openai_chat import OpenAIChatModel
from core.llms.providers.openai import OpenAIAdapter

GPT4o = model_class("openai/gpt-4o")
GPT41Nano = model_class("openai/gpt-4.1-nano")

SEEDS = (0, 1, 2, 3)
SSE_FILES = (
    "openai/chat-stream-text-usage.sse",
    "openai/chat-stream-tool-call-args-delta.sse",
    "openai/chat-stream-parallel-tool-calls.sse",
    "openai/chat-stream-refusal.sse",
    "openai/chat-stream-finish-length.sse",
    "openai/chat-stream-logprobs.sse",
    "openai/chat-stream-n3-choices.sse",
)

NANO = "openai/chat-stream-text-gpt41-nano.txt"


def recording(name: str) -> bytes:
    raw = wire_bytes(name)
    return reframe_chunks_txt(raw) if name.endswith(".txt") else raw


def summary(acc: StreamAccumulator | LLMResponse) -> tuple[Any, ...]:
    calls = [(c.id, c.name, c.arguments) for c in acc.tool_calls]
    refusal = acc.refusal if isinstance(acc, LLMResponse) else acc.to_response(model="", provider="").refusal
    return (acc.text, acc.finish_reason, acc.usage, calls, refusal, acc.model)


# -- straight into the parser ----------------------------------------------------------------------


@pytest.mark.parametrize("name", [*SSE_FILES, NANO])
def test_random_splits_give_the_same_answer(name: str) -> None:
    raw = recording(name)
    whole = summary(accumulate(replay(raw, seed=0)))
    for seed in SEEDS[1:]:
        assert summary(accumulate(replay(raw, seed=seed))) == whole
    assert accumulate(replay(raw)).text == expected_texts(raw).get(0, "")


def test_text_with_usage() -> None:
    chunks = replay(recording("openai/chat-stream-text-usage.sse"))
    acc = accumulate(chunks)
    assert acc.text == '{"city":"San Francisco","temperature":61,"units":"f"}'
    assert (acc.finish_reason, acc.model) == ("stop", "gpt-4o-2024-08-06")
    assert acc.usage == Usage(input_tokens=79, output_tokens=14)
    assert chunks[-1].usage is not None and chunks[-1].finish_reason == "stop"
    assert chunks[0].endpoint == "replay"


def test_single_tool_call_arguments_reassembled() -> None:
    acc = accumulate(replay(recording("openai/chat-stream-tool-call-args-delta.sse"), seed=5))
    (call,) = acc.tool_calls
    assert (call.id, call.name) == ("call_4XzlGBLtUe9dy3GVNV4jhq7h", "get_weather")
    assert call.arguments == '{"city":"New York City"}'
    assert json.loads(call.arguments) == {"city": "New York City"}
    assert acc.finish_reason == "tool_calls" and acc.text == ""
    assert acc.usage == Usage(44, 16)


def test_parallel_tool_calls_reassembled() -> None:
    acc = accumulate(replay(recording("openai/chat-stream-parallel-tool-calls.sse"), seed=9))
    assert [(c.id, c.name) for c in acc.tool_calls] == [
        ("call_JMW1whyEaYG438VE1OIflxA2", "GetWeatherArgs"),
        ("call_DNYTawLBoN8fj3KN6qU9N1Ou", "get_stock_price"),
    ]
    assert [json.loads(c.arguments) for c in acc.tool_calls] == [
        {"city": "Edinburgh", "country": "GB", "units": "c"},
        {"ticker": "AAPL", "exchange": "NASDAQ"},
    ]
    assert acc.finish_reason == "tool_calls" and acc.usage == Usage(149, 60)


def test_refusal() -> None:
    chunks = replay(recording("openai/chat-stream-refusal.sse"))
    response = accumulate(chunks).to_response(model="gpt-4o", provider="openai")
    assert response.refusal == "I'm sorry, I can't assist with that request."
    assert response.text == ""
    assert response.finish_reason == "refusal"


def test_finish_length() -> None:
    acc = accumulate(replay(recording("openai/chat-stream-finish-length.sse")))
    assert (acc.text, acc.finish_reason, acc.usage) == ('{"', "length", Usage(79, 1))


def test_logprobs_stream_is_plain_text() -> None:
    acc = accumulate(replay(recording("openai/chat-stream-logprobs.sse")))
    assert (acc.text, acc.finish_reason, acc.usage) == ("Foo!", "stop", Usage(9, 2))


def test_n3_reads_choice_zero_only(caplog: pytest.LogCaptureFixture) -> None:
    raw = recording("openai/chat-stream-n3-choices.sse")
    oracle = expected_texts(raw)
    assert sorted(oracle) == [0, 1, 2]
    with caplog.at_level("WARNING", logger="core.llms.openai"):
        acc = accumulate(replay(raw))
    assert acc.text == oracle[0] == '{"city":"San Francisco","temperature":65,"units":"f"}'
    assert acc.usage == Usage(79, 42)  # usage covers all three choices, as billed
    assert caplog.text.count("only choice 0 is read") == 1


def test_long_text_from_the_chunks_file() -> None:
    raw = recording(NANO)
    acc = accumulate(replay(raw, seed=11))
    assert acc.text.startswith("**Holiday Name:** Harmony Day")
    assert acc.text.endswith("shared human experiences and mutual respect.")
    assert len(acc.text) == 1724
    assert (acc.finish_reason, acc.model) == ("stop", "gpt-4.1-nano-2025-04-14")
    assert acc.usage == Usage(input_tokens=16, output_tokens=300)


# -- end to end through the transport -------------------------------------------------------------


def connector_for(url: str) -> FailoverConnector:
    return FailoverConnector.from_endpoints(
        OpenAIAdapter(), EndpointConfig(endpoint=f"{url}/v1", api_key="sk-replay")
    )


async def stream_through(
    model_cls: type[OpenAIChatModel], name: str, seed: int
) -> tuple[StreamAccumulator, Any]:
    raw = recording(name)
    headers = recorded_headers(name, "text/event-stream") | {"x-request-id": "req_replay"}
    async with (
        ReplayServer(raw, headers=headers, seed=seed) as server,
        model_cls(connector_for(server.url)) as model,
    ):
        acc = accumulate([chunk async for chunk in model.stream_answer("replay please")])
    return acc, server


@pytest.mark.parametrize("name", [*SSE_FILES, NANO])
async def test_end_to_end_stream_replay(name: str) -> None:
    model_cls = GPT41Nano if name == NANO else GPT4o
    acc, server = await stream_through(model_cls, name, seed=len(name))
    assert summary(acc) == summary(accumulate(replay(recording(name))))
    assert acc.endpoint == f"{server.url}/v1"
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-replay"
    assert request["json"]["stream"] is True
    assert request["json"]["stream_options"] == {"include_usage": True}
    assert acc.cost is not None and acc.cost > 0


async def test_end_to_end_recorded_400_maps_to_bad_request() -> None:
    name = "openai/chat-400-unsupported-value.json"
    status = sidecar(name)["response"]["status"]
    headers = recorded_headers(name, "application/json") | {"x-request-id": "req_400"}
    async with (
        ReplayServer(wire_bytes(name), status=status, headers=headers) as server,
        GPT4o(connector_for(server.url)) as model,
    ):
        with pytest.raises(BadRequestError) as info:
            await model.get_answer([{"role": "developer", "content": "x"}, {"role": "user", "content": "y"}])
    err = info.value
    assert type(err) is BadRequestError
    assert (err.status, err.code, err.request_id) == (400, "unsupported_value", "req_400")
    assert (err.provider, err.model, err.endpoint) == ("openai", "gpt-4o", f"{server.url}/v1")
    assert len(server.requests) == 1  # a 400 is never retried
