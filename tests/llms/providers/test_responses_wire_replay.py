"""Replay of every recorded Responses API file (``tests/llms/wire/openai-responses`` and the Azure
``azure-responses-stream-tool-call*`` files).

Each stream is replayed straight into :class:`ResponsesStreamParser` through the real SSE decoder,
cut at seeded random byte offsets, and end to end from a loopback replay server through the real
``FailoverConnector``. Expectations are literal facts of the recordings plus two oracles: the
text deltas read with nothing but ``json``, and the non-streamed parse of the completed response
the stream ends with (streaming and non-streaming must agree on it).

The ``.txt`` files are vercel ``.chunks.txt`` captures (one event's JSON per line, the SSE framing
stripped); they are framed back as the named events the server sent.
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest
from model_classes import model_class
from openai_testkit import ReplayServer, accumulate, decode_events, recorded_headers, run_parser, wire_bytes

from core.llms.interfaces import (
    LLMResponse,
    RateLimitError,
    ResponseParsingError,
    StreamAccumulator,
    StreamInterruptedError,
    Usage,
)
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.interfaces.llm_interfaces import WireEvent
from core.llms.providers.azure import AzureAdapter, AzureSettings
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.dialects.openai_responses import ResponsesStreamParser, response_items
from core.llms.providers.dialects.openai_responses.parsing import parse_responses_body
from core.llms.providers.openai import OpenAIAdapter

GPT4o = model_class("openai/gpt-4o")
O3Mini = model_class("openai/o3-mini")
GPT5Nano = model_class("openai/gpt-5-nano")
AzureGPT4oMini = model_class("azure/gpt-4o-mini")

FUNCTION_CALL = "openai-responses/responses-stream-function-call.sse"
REASONING = "openai-responses/responses-stream-reasoning-summary.sse"
REFUSAL = "openai-responses/responses-stream-refusal.sse"
RESUME = "openai-responses/responses-stream-resume-starting-after.sse"
IMAGE = "openai-responses/responses-stream-image-generation.txt"
STREAM_ERROR = "openai-responses/responses-stream-error-insufficient-quota.txt"
QUOTA_429 = "openai-responses/responses-429-insufficient-quota.json"
AZURE_TOOLS = "azure/azure-responses-stream-tool-call.sse"
AZURE_GPT51 = "azure/azure-responses-stream-tool-call-gpt51.txt"

COMPLETE = (FUNCTION_CALL, REASONING, REFUSAL, RESUME, IMAGE, AZURE_TOOLS, AZURE_GPT51)
SEEDS = (0, 1, 2, 3)


def frame_chunks_txt(raw: bytes) -> bytes:
    """A ``.chunks.txt`` capture as the SSE body the server sent: ``event: <type>`` and
    ``data: <line>`` per line (the Responses API sends no ``[DONE]``)."""
    out = []
    for line in raw.decode().splitlines():
        if line.strip():
            out.append(f"event: {json.loads(line)['type']}\ndata: {line}\n\n")
    return "".join(out).encode()


def recording(name: str) -> bytes:
    raw = wire_bytes(name)
    return frame_chunks_txt(raw) if name.endswith(".txt") else raw


def event_objects(raw: bytes) -> list[dict[str, Any]]:
    """The oracle's reading: every ``data:`` JSON object of an SSE body, with ``json`` alone."""
    return [json.loads(line[6:]) for line in raw.decode().splitlines() if line.startswith("data: ")]


def oracle_text(raw: bytes, kind: str = "response.output_text.delta") -> str:
    return "".join(e["delta"] for e in event_objects(raw) if e["type"] == kind)


def final_response(raw: bytes) -> dict[str, Any]:
    (final,) = [e for e in event_objects(raw) if e["type"] in ("response.completed", "response.incomplete")]
    response: dict[str, Any] = final["response"]
    return response


def replay(raw: bytes, seed: int = 0) -> list[Any]:
    parser = ResponsesStreamParser("replay", cost=lambda usage: 0.5, request_id="req_replay")
    return run_parser(parser, decode_events(raw, random.Random(seed)))


def summary(acc: StreamAccumulator | LLMResponse) -> tuple[Any, ...]:
    response = acc if isinstance(acc, LLMResponse) else acc.to_response(model="", provider="")
    calls = [(c.id, c.name, c.arguments) for c in response.tool_calls]
    return (
        response.text,
        response.finish_reason,
        response.usage,
        calls,
        response.refusal,
        response.reasoning,
        response.model,
    )


# -- straight into the parser ----------------------------------------------------------------------


@pytest.mark.parametrize("name", COMPLETE)
def test_random_splits_give_the_same_answer(name: str) -> None:
    raw = recording(name)
    whole = summary(accumulate(replay(raw, seed=0)))
    for seed in SEEDS[1:]:
        assert summary(accumulate(replay(raw, seed=seed))) == whole
    assert whole[0] == oracle_text(raw)


@pytest.mark.parametrize("name", COMPLETE)
def test_stream_agrees_with_the_non_streamed_parse_of_its_final_response(name: str) -> None:
    raw = recording(name)
    chunks = replay(raw, seed=7)
    streamed = accumulate(chunks).to_response(model="m", provider="openai")
    parsed = parse_responses_body(final_response(raw), provider="openai", model="m")
    assert summary(streamed) == summary(parsed)
    last = chunks[-1]
    assert last.finish_reason is not None and last.cost == 0.5
    assert last.raw == final_response(raw)
    assert response_items(last) == response_items(parsed)
    first = chunks[0]
    assert (first.endpoint, first.request_id) == ("replay", "req_replay")


def test_function_call() -> None:
    chunks = replay(recording(FUNCTION_CALL), seed=3)
    acc = accumulate(chunks)
    (call,) = acc.tool_calls
    assert (call.id, call.name, call.arguments) == (
        "call_kL0PCQV7M2WMoVX8V8OtYSAL",
        "get_capital",
        '{"country":"France"}',
    )
    assert (acc.text, acc.finish_reason, acc.model) == ("", "tool_calls", "gpt-4o-2024-08-06")
    assert acc.usage == Usage(input_tokens=255, output_tokens=16)
    # id and name come once, on the first fragment; the arguments in five deltas after it
    deltas = [d for c in chunks for d in c.tool_calls or ()]
    assert deltas[0].id == "call_kL0PCQV7M2WMoVX8V8OtYSAL" and deltas[0].arguments == ""
    assert [d.arguments for d in deltas[1:]] == ['{"', "country", '":"', "France", '"}']
    assert all(d.index == 0 and d.id is None for d in deltas[1:])


def test_reasoning_summary() -> None:
    raw = recording(REASONING)
    acc = accumulate(replay(raw, seed=5))
    response = acc.to_response(model="o3-mini", provider="openai")
    assert response.text.startswith("I'm not a road safety professional, but here are some")
    assert response.text.endswith("Stay safe!")
    assert (response.finish_reason, response.model) == ("stop", "o3-mini-2025-01-31")
    assert response.usage == Usage(input_tokens=13, output_tokens=1680, reasoning_tokens=1408)
    assert response.reasoning is not None
    parts = response.reasoning.split("\n\n**")
    assert len(parts) == 4  # four summary parts, each opening with a bold title
    assert response.reasoning.startswith("**Providing street crossing instructions**\n\nThe user is asking")
    summaries = [e["text"] for e in event_objects(raw) if e["type"] == "response.reasoning_summary_text.done"]
    assert response.reasoning == "\n\n".join(summaries)
    (reasoning_item, message_item) = response_items(response)
    assert reasoning_item["type"] == "reasoning" and reasoning_item["id"].startswith("rs_68c42d1d")
    assert reasoning_item["encrypted_content"].startswith("gAAAAABoxC0n")
    assert [p["text"] for p in reasoning_item["summary"]] == summaries
    assert message_item["type"] == "message" and message_item["role"] == "assistant"


def test_refusal() -> None:
    response = accumulate(replay(recording(REFUSAL), seed=2)).to_response(model="gpt-4o", provider="openai")
    assert response.refusal == "I'm sorry, I can't assist with that."
    assert (response.text, response.finish_reason) == ("", "refusal")
    assert response.usage == Usage(input_tokens=54, output_tokens=11)


def test_resumed_stream() -> None:
    acc = accumulate(replay(recording(RESUME)))
    assert (acc.text, acc.finish_reason) == ("2 + 2 equals 4.", "stop")
    assert acc.usage == Usage(input_tokens=15, output_tokens=9)


def test_image_generation_stream_reads_usage_and_skips_the_image_events() -> None:
    chunks = replay(recording(IMAGE))
    acc = accumulate(chunks)
    assert (acc.text, acc.finish_reason, acc.tool_calls) == ("", "stop", [])
    assert acc.usage == Usage(
        input_tokens=2941, output_tokens=1249, cached_input_tokens=1920, reasoning_tokens=1024
    )
    assert len(chunks) == 1  # only the final chunk: partial images are not chat content
    kinds = [item["type"] for item in response_items(chunks[-1])]
    assert kinds == ["reasoning", "image_generation_call", "message"]
    image = response_items(chunks[-1])[1]
    assert set(image) == {"id", "type", "result", "status"}  # fields a request refuses are left out


def test_azure_parallel_function_calls() -> None:
    acc = accumulate(replay(recording(AZURE_TOOLS), seed=9))
    assert [(c.id, c.name, json.loads(c.arguments)) for c in acc.tool_calls] == [
        ("call_ZxvfEKOUAaNm2rIvu0CXWN1z", "secret_retrieval_tool", {"password": "mellon"}),
        ("call_hWZOQA612mDihMo08n25NxOp", "secret_retrieval_tool", {"password": "radiance"}),
    ]
    assert (acc.finish_reason, acc.model) == ("tool_calls", "gpt-4o-mini")
    assert acc.usage == Usage(input_tokens=36, output_tokens=54)
    assert acc.content_filter is None  # Azure sends "content_filters": null


def test_azure_gpt51_function_call() -> None:
    acc = accumulate(replay(recording(AZURE_GPT51), seed=4))
    (call,) = acc.tool_calls
    assert (call.id, call.name, call.arguments) == (
        "call_H5DxLSFnsGhiROnUiDHmgyc8",
        "weather",
        '{"location":"San Francisco"}',
    )
    assert (acc.finish_reason, acc.model, acc.usage) == ("tool_calls", "gpt-5.1", Usage(45, 24))


@pytest.mark.parametrize("seed", SEEDS)
def test_in_stream_error_is_typed(seed: int) -> None:
    with pytest.raises(RateLimitError) as info:
        replay(recording(STREAM_ERROR), seed=seed)
    err = info.value
    assert (err.code, err.status, err.retry_after) == ("insufficient_quota", 429, math.inf)
    assert err.message.startswith("You exceeded your current quota")
    assert (err.endpoint, err.request_id) == ("replay", "req_replay")


def test_response_failed_alone_is_typed() -> None:
    """Without the ``error`` event before it, ``response.failed`` carries the error."""
    events = [e for e in decode_events(recording(STREAM_ERROR)) if e.event != "error"]
    with pytest.raises(RateLimitError) as info:
        run_parser(ResponsesStreamParser("replay"), events)
    assert info.value.code == "insufficient_quota"


@pytest.mark.parametrize("name", COMPLETE)
def test_a_stream_cut_before_its_terminal_event_is_interrupted(name: str) -> None:
    events = decode_events(recording(name))
    cut_short = [e for e in events if not e.data.startswith('{"type":"response.completed"')]
    assert len(cut_short) == len(events) - 1
    parser = ResponsesStreamParser("replay")
    for event in cut_short:
        parser.feed(event)
    with pytest.raises(StreamInterruptedError, match=r"response\.completed"):
        parser.close()


def test_unknown_and_malformed_events() -> None:
    parser = ResponsesStreamParser("replay")
    assert parser.feed(WireEvent('{"type":"response.future_thing.delta","delta":"x"}')) == []
    assert parser.feed(WireEvent("[DONE]")) == []
    with pytest.raises(ResponseParsingError):
        parser.feed(WireEvent("{not json"))
    with pytest.raises(ResponseParsingError):
        parser.feed(WireEvent('{"type":"response.output_text.delta","delta":42}'))
    with pytest.raises(ResponseParsingError):
        parser.feed(
            WireEvent('{"type":"response.function_call_arguments.delta","output_index":3,"delta":"{"}')
        )


def test_done_events_fill_in_what_no_delta_brought() -> None:
    events = [
        '{"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"Hel"}',
        '{"type":"response.output_text.done","output_index":0,"content_index":0,"text":"Hello"}',
        '{"type":"response.output_item.done","output_index":1,"item":{"type":"function_call",'
        '"call_id":"c1","name":"f","arguments":"{}"}}',
        '{"type":"response.completed","response":{"status":"completed","output":[],"usage":null}}',
    ]
    acc = accumulate(run_parser(ResponsesStreamParser("x"), [WireEvent(e) for e in events]))
    assert acc.text == "Hello"
    assert [(c.id, c.name, c.arguments) for c in acc.tool_calls] == [("c1", "f", "{}")]
    assert acc.finish_reason == "tool_calls"


# -- end to end through the transport -------------------------------------------------------------


def openai_connector(url: str) -> FailoverConnector:
    return FailoverConnector.from_endpoints(
        OpenAIAdapter(), EndpointConfig(endpoint=f"{url}/v1", api_key="sk-replay")
    )


@pytest.mark.parametrize(
    ("name", "model_cls"),
    [(FUNCTION_CALL, GPT4o), (REASONING, O3Mini), (REFUSAL, GPT4o), (RESUME, GPT4o), (IMAGE, GPT4o)],
)
async def test_end_to_end_stream_replay(name: str, model_cls: Any) -> None:
    raw = recording(name)
    headers = recorded_headers(name, "text/event-stream") | {"x-request-id": "req_replay"}
    async with (
        ReplayServer(raw, headers=headers, seed=len(name)) as server,
        model_cls(openai_connector(server.url)) as model,
    ):
        chunks = [chunk async for chunk in model.stream_answer("replay please", api="responses")]
    acc = accumulate(chunks)
    assert summary(acc) == summary(accumulate(replay(raw)))
    assert acc.endpoint == f"{server.url}/v1" and acc.request_id == "req_replay"
    assert acc.cost is not None and acc.cost > 0
    (request,) = server.requests
    assert request["path"] == "/v1/responses"
    assert request["headers"]["Authorization"] == "Bearer sk-replay"
    assert request["json"]["stream"] is True
    assert request["json"]["input"] == [{"role": "user", "content": "replay please"}]


async def test_end_to_end_azure_v1_stream() -> None:
    raw = recording(AZURE_TOOLS)
    headers = recorded_headers(AZURE_TOOLS, "text/event-stream")
    endpoint = EndpointConfig(
        endpoint="http://placeholder",
        api_key="azure-replay-key",
        settings=AzureSettings(deployment_name="gpt-4o-mini", api_version="v1"),
    )
    async with ReplayServer(raw, headers=headers, seed=3) as server:
        connector = FailoverConnector.from_endpoints(AzureAdapter(), endpoint.replace(endpoint=server.url))
        async with AzureGPT4oMini(connector) as model:
            chunks = [c async for c in model.stream_answer("Please retrieve the secrets", api="responses")]
    acc = accumulate(chunks)
    assert summary(acc) == summary(accumulate(replay(raw)))
    assert acc.request_id == headers["apim-request-id"]
    (request,) = server.requests
    assert request["path"] == "/openai/v1/responses"
    assert request["headers"]["api-key"] == "azure-replay-key"
    assert request["json"]["model"] == "gpt-4o-mini"


async def test_end_to_end_in_stream_error_is_typed_not_interrupted() -> None:
    raw = recording(STREAM_ERROR)
    headers = {"Content-Type": "text/event-stream", "x-request-id": "req_quota"}
    async with ReplayServer(raw, headers=headers) as server, GPT5Nano(openai_connector(server.url)) as model:
        with pytest.raises(RateLimitError) as info:
            async for _ in model.stream_answer("hello", api="responses"):
                pass
    err = info.value
    assert (err.code, err.status, err.request_id) == ("insufficient_quota", 429, "req_quota")
    assert (err.provider, err.model) == ("openai", "gpt-5-nano")
    assert len(server.requests) == 1  # a quota error: no retry can help


@pytest.mark.parametrize("stream", [False, True])
async def test_end_to_end_429_insufficient_quota(stream: bool) -> None:
    headers = {"Content-Type": "application/json", "x-request-id": "req_429"}
    async with (
        ReplayServer(wire_bytes(QUOTA_429), status=429, headers=headers) as server,
        GPT5Nano(openai_connector(server.url)) as model,
    ):
        with pytest.raises(RateLimitError) as info:
            if stream:
                async for _ in model.stream_answer("hello", api="responses"):
                    pass
            else:
                await model.get_answer("hello", api="responses")
    err = info.value
    assert type(err) is RateLimitError
    assert (err.status, err.code, err.request_id, err.retry_after) == (
        429,
        "insufficient_quota",
        "req_429",
        math.inf,
    )
    assert len(server.requests) == 1
    assert server.requests[0]["path"] == "/v1/responses"


async def test_end_to_end_non_streamed_body() -> None:
    """The final response of a recording, served as a non-streamed body, parses to the same."""
    body = json.dumps(final_response(recording(REASONING))).encode()
    headers = {"Content-Type": "application/json", "x-request-id": "req_body"}
    async with ReplayServer(body, headers=headers) as server, O3Mini(openai_connector(server.url)) as model:
        response = await model.get_answer(
            "How do I cross the street?", api="responses", reasoning_summary="detailed"
        )
    assert summary(response) == summary(accumulate(replay(recording(REASONING))))
    assert (response.request_id, response.endpoint) == ("req_body", f"{server.url}/v1")
    assert response.latency is not None and response.cost == pytest.approx((13 * 1.10 + 1680 * 4.40) / 1e6)
    sent = server.requests[0]["json"]
    assert sent["reasoning"] == {"summary": "detailed"} and "stream" not in sent
