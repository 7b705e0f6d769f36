"""Replay of every recorded file in ``tests/llms/wire/anthropic`` and of Bedrock's native Claude
streams (``tests/llms/wire/bedrock/invoke-stream-claude-*.bin``).

Each SSE recording is replayed straight into :class:`AnthropicStreamParser` through the real SSE
decoder, cut at seeded random byte offsets, and end to end: served by a loopback replay server and
read by a Claude model through the real ``FailoverConnector``. Bedrock's event-stream recordings
go through the real :class:`EventStreamDecoder` (random splits too) and the invoke parser.
Expectations are literal facts of the recordings plus an oracle that reads them with ``json``
alone.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from model_classes import model_class
from openai_testkit import (
    ReplayServer,
    accumulate,
    decode_events,
    random_splits,
    recorded_headers,
    run_parser,
    sidecar,
    wire_bytes,
)
from wire_corpus import WIRE

from core.llms.interfaces import (
    BadRequestError,
    LLMResponse,
    LLMStreamChunk,
    RequestContext,
    StreamAccumulator,
    StreamParser,
    Usage,
    WireEvent,
    WireRequest,
)
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.interfaces.metadata import Capabilities, ModelMetadata, ParameterRules, Pricing
from core.llms.providers.anthropic import AnthropicAdapter
from core.llms.providers.base.eventstream import EventStreamDecoder
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.bedrock.anthropic_invoke import InvokeStreamParser, invoke_answer, invoke_stream
from core.llms.providers.dialects.anthropic_messages import AnthropicStreamParser, assistant_blocks

Sonnet4 = model_class("anthropic/claude-sonnet-4")
SEEDS = (0, 1, 2, 3)
SSE_FILES = (
    "anthropic/messages-stream-refusal-forced-tool.sse",
    "anthropic/messages-stream-thinking.sse",
    "anthropic/messages-stream-tool-use-input-json-delta.sse",
    "anthropic/messages-stream-web-search-server-tool.sse",
    "anthropic/vertex-rawpredict-stream-thinking.sse",
    "anthropic/messages-stream-text.txt",
)
BEDROCK_FILES = ("text", "thinking", "tool-use")


def recording(name: str) -> bytes:
    """The SSE body of a recording (a ``.txt`` holds one event's JSON per line, framing stripped)."""
    raw = wire_bytes(name)
    if name.endswith(".txt"):
        lines = [line for line in raw.decode().splitlines() if line.strip()]
        return "".join(f"data: {line}\n\n" for line in lines).encode()
    return raw


def oracle(events: list[dict[str, Any]]) -> dict[str, Any]:
    """What a recording says, read with json alone: text, thinking, signatures, tool inputs."""
    out: dict[str, Any] = {"text": "", "thinking": "", "signature": "", "tools": {}, "stop": None}
    for event in events:
        kind = event.get("type")
        if kind == "content_block_start" and event["content_block"]["type"] == "tool_use":
            out["tools"][event["index"]] = [event["content_block"]["name"], ""]
        elif kind == "content_block_delta":
            d = event["delta"]
            match d["type"]:
                case "text_delta":
                    out["text"] += d["text"]
                case "thinking_delta":
                    out["thinking"] += d["thinking"]
                case "signature_delta":
                    out["signature"] += d["signature"]
                case "input_json_delta" if event["index"] in out["tools"]:
                    out["tools"][event["index"]][1] += d["partial_json"]
        elif kind == "message_delta":
            out["stop"] = event["delta"]["stop_reason"]
    return out


def sse_events(raw: bytes) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in raw.decode().splitlines() if line.startswith("data: ")]


def replay(raw: bytes, seed: int = 0, **kw: Any) -> list[LLMStreamChunk]:
    return run_parser(AnthropicStreamParser("replay", **kw), decode_events(raw, random.Random(seed)))


def summary(acc: StreamAccumulator | LLMResponse) -> tuple[Any, ...]:
    response = acc if isinstance(acc, LLMResponse) else acc.to_response(model="", provider="")
    calls = [(c.id, c.name, c.arguments) for c in response.tool_calls]
    return (
        response.text,
        response.reasoning,
        response.finish_reason,
        response.usage,
        calls,
        response.refusal,
    )


@pytest.mark.parametrize("name", SSE_FILES)
def test_random_splits_give_the_oracle_answer(name: str) -> None:
    raw = recording(name)
    whole = accumulate(replay(raw))
    for seed in SEEDS[1:]:
        assert summary(accumulate(replay(raw, seed=seed))) == summary(whole)
    expected = oracle(sse_events(raw))
    response = whole.to_response(model="m", provider="anthropic")
    assert response.text == expected["text"]
    assert (response.reasoning or "") == expected["thinking"]
    assert [(c.name, c.arguments) for c in response.tool_calls] == list(
        map(tuple, expected["tools"].values())
    )
    signatures = [b.get("signature") for b in assistant_blocks(response) if b["type"] == "thinking"]
    assert "".join(signatures) == expected["signature"]


def test_text_recording() -> None:
    acc = accumulate(replay(recording("anthropic/messages-stream-text.txt")))
    assert acc.text == (
        "Hello! I'm doing well, thank you for asking. How are you doing today? "
        "Is there anything I can help you with?"
    )
    assert (acc.finish_reason, acc.model) == ("stop", "claude-sonnet-4-5-20250929")
    assert acc.usage == Usage(input_tokens=12, output_tokens=30)


def test_thinking_recording_keeps_the_signature_for_the_next_turn() -> None:
    chunks = replay(recording("anthropic/messages-stream-thinking.sse"), seed=7)
    acc = accumulate(chunks)
    assert acc.to_response(model="m", provider="a").reasoning.startswith("This is a straightforward question")  # type: ignore[union-attr]
    assert acc.text.startswith("Here are the basic steps for safely crossing the street")
    assert acc.usage == Usage(input_tokens=43, output_tokens=282)
    (thinking, text) = assistant_blocks(chunks[-1])
    assert thinking["type"] == "thinking" and thinking["signature"].startswith("EvMCCkYICxgCKkCHP2cSuEdcJK")
    assert text == {"type": "text", "text": acc.text}


def test_tool_use_recording() -> None:
    acc = accumulate(replay(recording("anthropic/messages-stream-tool-use-input-json-delta.sse"), seed=3))
    assert acc.text == "I'll check the current weather in Paris for you."
    (call,) = acc.tool_calls
    assert (call.id, call.name, json.loads(call.arguments)) == (
        "toolu_01NRLabsLyVHZPKxbKvkfSMn",
        "get_weather",
        {"location": "Paris"},
    )
    assert acc.finish_reason == "tool_calls" and acc.usage == Usage(input_tokens=377, output_tokens=65)


def test_refusal_through_a_forced_tool() -> None:
    raw = recording("anthropic/messages-stream-refusal-forced-tool.sse")
    acc = accumulate(replay(raw))
    (call,) = acc.tool_calls
    assert call.name == "__mirascope_formatted_output_tool__" and acc.finish_reason == "tool_calls"
    refusal = json.loads(call.arguments)["instructions"]
    assert refusal.startswith("I cannot and will not provide instructions for synthesizing fentanyl")
    assert acc.usage == Usage(input_tokens=416, output_tokens=154)
    # as structured output (the forced tool is the format), the refusal is the answer's text
    formatted = accumulate(replay(raw, format_tool="__mirascope_formatted_output_tool__"))
    assert (formatted.tool_calls, formatted.finish_reason) == ([], "stop")
    assert json.loads(formatted.text) == {"instructions": refusal}


def test_web_search_server_tool_is_kept() -> None:
    chunks = replay(recording("anthropic/messages-stream-web-search-server-tool.sse"), seed=11)
    acc = accumulate(chunks)
    assert acc.tool_calls == [] and acc.finish_reason == "stop"
    assert acc.text.endswith("It's shaping up to be a pleasant day in San Francisco!")
    assert acc.usage == Usage(input_tokens=22397, output_tokens=637)
    blocks = assistant_blocks(chunks[-1])
    kinds = [b["type"] for b in blocks]
    assert kinds.count("server_tool_use") == 2 and kinds.count("web_search_tool_result") == 2
    searches = [b for b in blocks if b["type"] == "server_tool_use"]
    assert all(s["name"] == "web_search" and isinstance(s["input"].get("query"), str) for s in searches)
    results = [b for b in blocks if b["type"] == "web_search_tool_result"]
    assert all(r["content"][0]["type"] == "web_search_result" for r in results)
    assert sum(len(b.get("citations", [])) for b in blocks if b["type"] == "text") == 7
    assert chunks[-1].raw["usage"]["server_tool_use"] == {"web_search_requests": 2, "web_fetch_requests": 0}


def test_vertex_stream_is_the_same_shape() -> None:
    acc = accumulate(replay(recording("anthropic/vertex-rawpredict-stream-thinking.sse"), seed=5))
    assert acc.text == "3" and acc.finish_reason == "stop" and acc.model == "claude-haiku-4-5-20251001"
    assert acc.usage == Usage(input_tokens=66, output_tokens=2206)


# -- end to end through the transport -------------------------------------------------------------


def connector_for(url: str) -> FailoverConnector:
    return FailoverConnector.from_endpoints(
        AnthropicAdapter(), EndpointConfig(endpoint=url, api_key="sk-ant-replay")
    )


@pytest.mark.parametrize("name", SSE_FILES)
async def test_end_to_end_stream_replay(name: str) -> None:
    raw = recording(name)
    headers = recorded_headers(name, "text/event-stream") | {"request-id": "req_replay"}
    headers["Content-Type"] = "text/event-stream"
    async with (
        ReplayServer(raw, headers=headers, seed=len(name)) as server,
        Sonnet4(connector_for(server.url)) as model,
    ):
        chunks = [c async for c in model.stream_answer("replay please")]
    assert summary(accumulate(chunks)) == summary(accumulate(replay(raw)))
    assert chunks[0].endpoint == server.url and chunks[0].request_id == "req_replay"
    (request,) = server.requests
    assert request["path"] == "/v1/messages"
    assert request["headers"]["x-api-key"] == "sk-ant-replay"
    assert request["headers"]["anthropic-version"] == "2023-06-01"
    assert request["json"]["stream"] is True and request["json"]["model"] == "claude-sonnet-4-20250514"
    assert chunks[-1].cost is not None and chunks[-1].cost > 0


async def test_end_to_end_recorded_400() -> None:
    name = "anthropic/messages-400-invalid-request.json"
    status = sidecar(name)["response"]["status"]
    headers = recorded_headers(name, "application/json")
    async with (
        ReplayServer(wire_bytes(name), status=status, headers=headers) as server,
        Sonnet4(connector_for(server.url)) as model,
    ):
        with pytest.raises(BadRequestError) as info:
            await model.get_answer("What is 2+2?")
    err = info.value
    assert type(err) is BadRequestError
    assert (err.status, err.code, err.request_id) == (
        400,
        "invalid_request_error",
        "req_011Ca7jT9AHpgXgdv8igm4z9",
    )
    assert (err.provider, err.model, err.endpoint) == ("anthropic", "claude-sonnet-4", server.url)
    assert "sk-ant-replay" not in str(err) and len(server.requests) == 1


async def test_end_to_end_web_fetch_body() -> None:
    name = "anthropic/messages-web-fetch-tool-result-error.json"
    async with (
        ReplayServer(
            wire_bytes(name), headers={"Content-Type": "application/json", "request-id": "req_wf"}
        ) as server,
        Sonnet4(connector_for(server.url)) as model,
    ):
        r = await model.get_answer("What does the PDF say about AI?")
    assert r.request_id == "req_wf" and r.tool_calls == [] and r.finish_reason == "stop"
    assert [b["type"] for b in assistant_blocks(r)] == [
        "text",
        "server_tool_use",
        "web_fetch_tool_result",
        "text",
    ]
    assert r.cost == pytest.approx((1902 * 3.00 + 214 * 15.00) / 1e6)


# -- Bedrock: Claude's native payloads (InvokeModelWithResponseStream) ---------------------------


def bedrock_bytes(kind: str) -> bytes:
    return (WIRE / "bedrock" / f"invoke-stream-claude-{kind}.bin").read_bytes()


def frames(raw: bytes, seed: int = 0) -> list[WireEvent]:
    decoder = EventStreamDecoder()
    events: list[WireEvent] = []
    for piece in random_splits(raw, random.Random(seed)):
        events.extend(decoder.feed(piece))
    events.extend(decoder.close())
    return events


def bedrock_oracle(raw: bytes) -> dict[str, Any]:
    inner = []
    for event in frames(raw):
        inner.append(json.loads(base64.b64decode(json.loads(event.data)["bytes"])))
    return oracle(inner)


@pytest.mark.parametrize("kind", BEDROCK_FILES)
def test_bedrock_invoke_stream_replay(kind: str) -> None:
    raw = bedrock_bytes(kind)
    expected = bedrock_oracle(raw)
    results = []
    for seed in SEEDS:
        parser = InvokeStreamParser(AnthropicStreamParser("bedrock", request_id="rid"))
        results.append(
            accumulate(run_parser(parser, frames(raw, seed))).to_response(model="m", provider="bedrock")
        )
    assert all(summary(r) == summary(results[0]) for r in results[1:])
    r = results[0]
    assert r.text == expected["text"] and (r.reasoning or "") == expected["thinking"]
    assert [(c.name, c.arguments) for c in r.tool_calls] == list(map(tuple, expected["tools"].values()))
    assert "".join(b.get("signature", "") for b in assistant_blocks(r)) == expected["signature"]


def test_bedrock_recordings_facts() -> None:
    def read(kind: str) -> LLMResponse:
        parser = InvokeStreamParser(AnthropicStreamParser("bedrock"))
        return accumulate(run_parser(parser, frames(bedrock_bytes(kind), 3))).to_response(
            model="m", provider="b"
        )

    text = read("text")
    assert (text.text, text.finish_reason, text.usage) == ("4200 + 42 = 4242", "stop", Usage(17, 15))
    thinking = read("thinking")
    assert thinking.text.endswith("prime\n\n3") and thinking.usage == Usage(66, 1605)
    assert thinking.reasoning is not None and thinking.reasoning.startswith(
        "I need to find all prime numbers"
    )
    assert assistant_blocks(thinking)[0]["signature"].startswith("EpgeCkgICRABGAIqQPyZVlRTivBv3OIV")
    tools = read("tool-use")
    assert [json.loads(c.arguments) for c in tools.tool_calls] == [
        {"password": "mellon"},
        {"password": "radiance"},
    ]
    assert [c.id for c in tools.tool_calls] == [
        "toolu_bdrk_01BKZHdpbnH5KYihhoSkWLqC",
        "toolu_bdrk_01BsS8DZ1LjLsvAViGyi6gLy",
    ]
    assert tools.finish_reason == "tool_calls" and tools.usage == Usage(599, 98)


class FrameConnector:
    """An in-memory connector for Bedrock: ``stream`` plays event-stream bytes through the real
    decoder and the parser the call supplies; ``send`` answers one decoded JSON body."""

    def __init__(self, raw: bytes = b"", body: Any = None) -> None:
        self.raw = raw
        self.body = body
        self.requests: list[WireRequest] = []
        self.endpoints = ["https://bedrock-runtime.us-east-1.amazonaws.com"]

    async def send(self, request: WireRequest, ctx: RequestContext | None = None) -> Any:
        from openai_testkit import wire_response

        self.requests.append(request)
        return wire_response(self.body, endpoint=self.endpoints[0], request_id="rid-1")

    async def stream(
        self, request: WireRequest, factory: Callable[[str, str | None], StreamParser[Any]], ctx: Any = None
    ) -> AsyncIterator[Any]:
        self.requests.append(request)
        parser = factory(self.endpoints[0], "rid-2")
        for event in frames(self.raw, 9):
            for item in parser.feed(event):
                yield item
        for item in parser.close():
            yield item

    async def aclose(self) -> None:
        pass


class BedrockClaude(BaseLLM):
    """A stand-in for Bedrock's model class: its metadata, and invoke for both calls."""

    metadata = ModelMetadata(
        name="claude-sonnet-4",
        provider="bedrock",
        wire_name="us.anthropic.claude-sonnet-4-20250514-v1:0",
        context_window=200_000,
        max_output_tokens=64_000,
        input_media=frozenset({"text", "image", "pdf"}),
        capabilities=Capabilities(tools=True, json_schema=True, vision=True, pdf=True, reasoning=True),
        parameters=ParameterRules(temperature_range=(0.0, 1.0), max_tokens_param="maxTokens"),
        pricing=Pricing(
            input_per_1m=3.0, cached_input_per_1m=0.3, cache_write_input_per_1m=3.75, output_per_1m=15.0
        ),
    )

    async def get_answer(self, messages: Any, ctx: Any = None, **params: Any) -> LLMResponse:
        return await self._observe_call(ctx, invoke_answer(self, messages, ctx, params))

    def stream_answer(self, messages: Any, ctx: Any = None, **params: Any) -> AsyncIterator[LLMStreamChunk]:
        return self._observe_stream(ctx, lambda: invoke_stream(self, messages, ctx, params))


async def test_bedrock_invoke_stream_request_and_answer() -> None:
    connector = FrameConnector(bedrock_bytes("thinking"))
    async with BedrockClaude(connector) as model:  # type: ignore[arg-type]
        chunks = [
            c
            async for c in model.stream_answer("primes?", thinking={"type": "enabled", "budget_tokens": 8000})
        ]
    (request,) = connector.requests
    assert (request.operation, request.stream, request.model) == (
        "invoke_stream",
        True,
        "us.anthropic.claude-sonnet-4-20250514-v1:0",
    )
    assert request.payload == {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 8192 + 8000,
        "messages": [{"role": "user", "content": "primes?"}],
        "thinking": {"type": "enabled", "budget_tokens": 8000},
    }
    assert chunks[0].request_id == "rid-2" and chunks[0].endpoint == connector.endpoints[0]
    assert chunks[-1].cost == pytest.approx((66 * 3.0 + 1605 * 15.0) / 1e6)


async def test_bedrock_invoke_answer() -> None:
    body = {
        "id": "msg_bdrk_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-20250514",
        "content": [{"type": "text", "text": "Hi"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 5, "output_tokens": 2},
    }
    connector = FrameConnector(body=body)
    async with BedrockClaude(connector) as model:  # type: ignore[arg-type]
        r = await model.get_answer("hi", max_tokens=20, temperature=0.2, cache_messages=True)
    assert (r.text, r.request_id, r.provider, r.usage) == ("Hi", "rid-1", "bedrock", Usage(5, 2))
    (request,) = connector.requests
    assert request.operation == "invoke" and not request.stream
    assert "model" not in request.payload and "stream" not in request.payload
    assert request.payload["max_tokens"] == 20 and request.payload["temperature"] == 0.2
    assert request.payload["messages"][0]["content"][0]["cache_control"] == {"type": "ephemeral"}


def test_bedrock_exception_frame_is_bedrocks_error() -> None:
    from core.llms.interfaces import RateLimitError

    parser = InvokeStreamParser(AnthropicStreamParser("bedrock", request_id="rid"))
    event = WireEvent(
        data=json.dumps({"message": "Too many requests, please wait before trying again."}),
        event="throttlingException",
        extra={"message_type": "exception"},
    )
    with pytest.raises(RateLimitError) as info:
        parser.feed(event)
    assert info.value.request_id == "rid"
    with pytest.raises(Exception, match="no 'bytes'"):
        parser.feed(WireEvent(data='{"other": 1}', event="chunk", extra={"message_type": "event"}))
