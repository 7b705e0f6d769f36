"""Shared helpers of the Bedrock Converse tests (imported by the other ``test_bedrock_converse_*``
modules and ``test_bedrock_wire_replay``), and the tests of the helpers themselves.

* :func:`frame` — one ``application/vnd.amazon.eventstream`` frame, written from the format's
  definition (lengths, headers, CRC32s) so tests can make exception frames, error frames and
  broken frames that no recording holds; checked against botocore's reader below;
* :func:`replay_events` / :func:`replay` — bytes → the real :class:`EventStreamDecoder` (cut at
  seeded random offsets) → :class:`ConverseStreamParser`;
* :class:`FakeConnector` — an in-memory ``IConnector`` that records requests, answers ``send``
  from a script and replays event-stream bytes through the model's parser on ``stream``;
* model classes with hand-written metadata (the catalogue is another module's business).
"""

from __future__ import annotations

import binascii
import json
import random
import struct
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, TypeVar

import pytest
from botocore.eventstream import EventStreamBuffer
from multidict import CIMultiDict
from wire_corpus import WIRE

from core.llms.interfaces import (
    InvalidInputError,
    LLMError,
    LLMStreamChunk,
    RequestContext,
    StreamAccumulator,
    StreamInterruptedError,
    StreamParser,
    WireEvent,
    WireRequest,
    WireResponse,
)
from core.llms.interfaces.metadata import Capabilities, ModelMetadata, ParameterRules, Pricing
from core.llms.providers.base.eventstream import EventStreamDecoder
from core.llms.providers.dialects.bedrock_converse import BedrockConverseModel, ConverseStreamParser

T = TypeVar("T")

BEDROCK = WIRE / "bedrock"
CONVERSE_FILES = sorted(p.name for p in BEDROCK.iterdir() if p.name.startswith("converse-"))
STREAM_FILES = [name for name in CONVERSE_FILES if name.endswith(".bin")]


# -- frames ----------------------------------------------------------------------------------------


def _header(name: str, value: str | bytes | int | bool) -> bytes:
    key = name.encode()
    out = bytes([len(key)]) + key
    if isinstance(value, bool):
        return out + bytes([0 if value else 1])
    if isinstance(value, int):
        return out + bytes([4]) + struct.pack("!i", value)
    raw = value.encode() if isinstance(value, str) else value
    return out + bytes([7 if isinstance(value, str) else 6]) + struct.pack("!H", len(raw)) + raw


def frame(headers: dict[str, str | bytes | int | bool], payload: bytes | str | dict[str, Any] = b"") -> bytes:
    """One event-stream frame with ``headers`` and ``payload`` (a dict is sent as JSON)."""
    if isinstance(payload, dict):
        payload = json.dumps(payload)
    body = payload.encode() if isinstance(payload, str) else payload
    header_bytes = b"".join(_header(k, v) for k, v in headers.items())
    total = 12 + len(header_bytes) + len(body) + 4
    prelude = struct.pack("!II", total, len(header_bytes))
    prelude += struct.pack("!I", binascii.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + header_bytes + body
    return message + struct.pack("!I", binascii.crc32(message) & 0xFFFFFFFF)


def event_frame(event_type: str, payload: dict[str, Any]) -> bytes:
    """A ConverseStream event frame (with the ``p`` padding the service adds)."""
    headers: dict[str, str | bytes | int | bool] = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return frame(headers, {**payload, "p": "abcdef"})


def exception_frame(exception_type: str, payload: dict[str, Any]) -> bytes:
    headers: dict[str, str | bytes | int | bool] = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return frame(headers, payload)


def stream_of(*events: tuple[str, dict[str, Any]]) -> bytes:
    return b"".join(event_frame(name, payload) for name, payload in events)


def text_stream(*texts: str, stop: str = "end_turn", usage: tuple[int, int] = (10, 5)) -> bytes:
    """A whole ConverseStream answer of text deltas."""
    events: list[tuple[str, dict[str, Any]]] = [("messageStart", {"role": "assistant"})]
    events += [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": t}}) for t in texts]
    events += [
        ("contentBlockStop", {"contentBlockIndex": 0}),
        ("messageStop", {"stopReason": stop}),
        (
            "metadata",
            {
                "usage": {"inputTokens": usage[0], "outputTokens": usage[1], "totalTokens": sum(usage)},
                "metrics": {"latencyMs": 12},
            },
        ),
    ]
    return stream_of(*events)


# -- replay ----------------------------------------------------------------------------------------


def random_splits(raw: bytes, rng: random.Random, max_piece: int = 97) -> list[bytes]:
    pieces: list[bytes] = []
    pos = 0
    while pos < len(raw):
        step = rng.randint(1, max_piece)
        pieces.append(raw[pos : pos + step])
        pos += step
    return pieces


def replay_events(raw: bytes, seed: int | None = None) -> list[WireEvent]:
    """The events of ``raw`` decoded by the real decoder, fed whole or in seeded random pieces."""
    decoder = EventStreamDecoder()
    events: list[WireEvent] = []
    for piece in [raw] if seed is None else random_splits(raw, random.Random(seed)):
        events.extend(decoder.feed(piece))
    events.extend(decoder.close())
    return events


def run_parser(parser: StreamParser[T], events: Iterable[WireEvent]) -> list[T]:
    out: list[T] = []
    for event in events:
        out.extend(parser.feed(event))
    out.extend(parser.close())
    return out


def replay(raw: bytes, seed: int | None = 0, **parser_args: Any) -> list[LLMStreamChunk]:
    parser = ConverseStreamParser("replay", **parser_args)
    return run_parser(parser, replay_events(raw, seed))


def accumulate(chunks: Iterable[LLMStreamChunk]) -> StreamAccumulator:
    acc = StreamAccumulator()
    for chunk in chunks:
        acc.add(chunk)
    return acc


def botocore_events(raw: bytes) -> list[tuple[dict[str, Any], bytes]]:
    """The frames of ``raw`` as botocore reads them: (headers, payload)."""
    buffer = EventStreamBuffer()
    buffer.add_data(raw)
    return [(dict(message.headers), message.payload) for message in buffer]


# -- an in-memory connector ------------------------------------------------------------------------


def wire_response(
    data: Any, *, endpoint: str = "https://bedrock.test", request_id: str | None = "req-1"
) -> WireResponse:
    return WireResponse(
        status=200,
        headers=CIMultiDict({"content-type": "application/json"}),
        body=json.dumps(data).encode(),
        data=data,
        endpoint=endpoint,
        request_id=request_id,
        latency=0.25,
        ttfb=0.1,
    )


def converse_body(
    *blocks: dict[str, Any], stop: str = "end_turn", usage: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """A Converse response body."""
    return {
        "output": {"message": {"role": "assistant", "content": list(blocks) or [{"text": "Hello!"}]}},
        "stopReason": stop,
        "usage": usage or {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        "metrics": {"latencyMs": 100},
        **extra,
    }


class FakeConnector:
    """An in-memory ``IConnector``: ``send`` answers from ``responses``; ``stream`` decodes
    ``stream_bytes`` with the real :class:`EventStreamDecoder` and feeds the model's parser (an
    error after items were yielded is wrapped as the real connector wraps it). Records every
    request; ``endpoints`` as a FailoverConnector names them."""

    def __init__(
        self,
        responses: list[WireResponse | LLMError] | None = None,
        stream_bytes: bytes = b"",
        endpoint: str = "https://bedrock-runtime.us-east-1.amazonaws.com",
    ) -> None:
        self.responses = list(responses or [])
        self.stream_bytes = stream_bytes
        self.endpoints = [endpoint]
        self.requests: list[WireRequest] = []
        self.closed = 0

    async def send(self, request: WireRequest, ctx: RequestContext | None = None) -> WireResponse:
        self.requests.append(request)
        item = self.responses.pop(0)
        if isinstance(item, LLMError):
            raise item
        return item

    async def stream(
        self,
        request: WireRequest,
        parser_factory: Callable[[str, str | None], StreamParser[T]],
        ctx: RequestContext | None = None,
    ) -> AsyncIterator[T]:
        self.requests.append(request)
        parser = parser_factory(self.endpoints[0], "req-stream")
        decoder = EventStreamDecoder()
        yielded = False
        try:
            for piece in random_splits(self.stream_bytes, random.Random(7)):
                for event in decoder.feed(piece):
                    for item in parser.feed(event):
                        yielded = True
                        yield item
            for event in decoder.close():
                for item in parser.feed(event):
                    yielded = True
                    yield item
            for item in parser.close():
                yielded = True
                yield item
        except StreamInterruptedError:
            raise
        except LLMError as exc:
            if yielded:
                raise StreamInterruptedError("broke", cause=exc) from exc
            raise

    async def aclose(self) -> None:
        self.closed += 1


# -- calls that record their request ----------------------------------------------------------------


async def sent(
    model_cls: type[BedrockConverseModel], messages: Any, answer: dict[str, Any] | None = None, **params: Any
) -> dict[str, Any]:
    """The body of the one request a call makes (answered with ``answer``, else "Hello!")."""
    conn = FakeConnector([wire_response(answer or converse_body())])
    await model_cls(conn).get_answer(messages, **params)
    (request,) = conn.requests
    assert request.operation == "converse" and request.stream is False
    assert "modelId" not in request.payload and "model" not in request.payload
    return request.payload


async def refused(
    model_cls: type[BedrockConverseModel],
    messages: Any,
    error: type[LLMError] = InvalidInputError,
    **params: Any,
) -> LLMError:
    """The error a call raises before sending anything."""
    conn = FakeConnector()
    with pytest.raises(error) as info:
        await model_cls(conn).get_answer(messages, **params)
    assert conn.requests == []
    assert info.value.provider == "bedrock"
    return info.value


def weather_tool() -> dict[str, Any]:
    """An OpenAI function tool."""
    return {
        "type": "function",
        "function": {
            "name": "weather",
            "description": "The weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
            "strict": True,
        },
    }


# -- model classes -----------------------------------------------------------------------------------

_PRICES = Pricing(input_per_1m=3.0, output_per_1m=15.0, cached_input_per_1m=0.3)


class Claude(BedrockConverseModel):
    metadata = ModelMetadata(
        name="claude-sonnet-4",
        provider="bedrock",
        family="claude",
        wire_name="us.anthropic.claude-sonnet-4-20250514-v1:0",
        context_window=200_000,
        max_output_tokens=64_000,
        input_media=frozenset({"text", "image", "pdf"}),
        capabilities=Capabilities(tools=True, parallel_tools=True, vision=True, pdf=True, reasoning=True),
        parameters=ParameterRules(temperature_range=(0.0, 1.0)),
        pricing=_PRICES,
    )


class Nova(BedrockConverseModel):
    metadata = ModelMetadata(
        name="nova-micro",
        provider="bedrock",
        family="nova",
        wire_name="us.amazon.nova-micro-v1:0",
        context_window=128_000,
        max_output_tokens=10_000,
        capabilities=Capabilities(tools=True),
        parameters=ParameterRules(temperature_range=(0.0, 1.0)),
        pricing=Pricing(input_per_1m=0.035, output_per_1m=0.14),
    )


class Nova2(BedrockConverseModel):
    metadata = ModelMetadata(
        name="nova-2-lite",
        provider="bedrock",
        family="nova",
        wire_name="us.amazon.nova-2-lite-v1:0",
        context_window=1_000_000,
        max_output_tokens=64_000,
        input_media=frozenset({"text", "image", "pdf", "audio"}),
        capabilities=Capabilities(tools=True, vision=True, pdf=True, reasoning=True),
        parameters=ParameterRules(temperature_range=(0.0, 1.0)),
    )


class GptOss(BedrockConverseModel):
    metadata = ModelMetadata(
        name="gpt-oss-20b",
        provider="bedrock",
        family="gpt-oss",
        wire_name="openai.gpt-oss-20b-1:0",
        context_window=128_000,
        max_output_tokens=32_768,
        capabilities=Capabilities(tools=True, reasoning=True),
    )


class Llama(BedrockConverseModel):
    metadata = ModelMetadata(
        name="llama3-3-70b",
        provider="bedrock",
        family="llama",
        wire_name="meta.llama3-3-70b-instruct-v1:0",
        context_window=128_000,
        max_output_tokens=8_192,
        capabilities=Capabilities(tools=False, reasoning=True),
    )


# -- the helpers' own tests ----------------------------------------------------------------------------


def test_frames_are_read_by_botocore() -> None:
    raw = frame({":message-type": "event", ":event-type": "x", "n": 7, "b": b"\x00\x01", "t": True}, "{}")
    [(headers, payload)] = botocore_events(raw)
    assert headers == {":message-type": "event", ":event-type": "x", "n": 7, "b": b"\x00\x01", "t": True}
    assert payload == b"{}"


def test_every_converse_file_is_listed() -> None:
    assert STREAM_FILES == [
        "converse-stream-claude-reasoning.bin",
        "converse-stream-nova2-code-execution.bin",
        "converse-stream-text-nova.bin",
        "converse-stream-tool-use.bin",
    ]
    assert len(CONVERSE_FILES) == 13
