"""Shared helpers of the OpenAI / Azure provider tests: the wire corpus, SSE replay through the
real decoder with random splits, and a scripted in-memory connector for model-level unit tests."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, TypeVar

from multidict import CIMultiDict
from wire_corpus import WIRE

from core.llms.interfaces import (
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
from core.llms.providers.base.sse import SSEDecoder
from core.llms.providers.dialects.openai_chat.streaming import ChatStreamParser

T = TypeVar("T")


def wire_bytes(name: str) -> bytes:
    """The bytes of a corpus file, e.g. ``wire_bytes("openai/chat-stream-refusal.sse")``."""
    return (WIRE / name).read_bytes()


def sidecar(name: str) -> dict[str, Any]:
    """The ``.http.json`` sidecar of a corpus file (request and response status/headers)."""
    path = WIRE / name
    side = path.with_name(path.name.rsplit(".", 1)[0] + ".http.json")
    data: dict[str, Any] = json.loads(side.read_text())
    return data


def reframe_chunks_txt(raw: bytes) -> bytes:
    """A vercel ``.chunks.txt`` file (one data JSON per line, framing stripped) as the SSE body the
    server sent: ``data: <line>\\n\\n`` per line, then ``data: [DONE]``."""
    lines = [line for line in raw.decode().splitlines() if line.strip()]
    return "".join(f"data: {line}\n\n" for line in lines).encode() + b"data: [DONE]\n\n"


def random_splits(raw: bytes, rng: random.Random, max_piece: int = 97) -> list[bytes]:
    """``raw`` cut at random byte offsets (pieces of 1..max_piece bytes)."""
    pieces: list[bytes] = []
    pos = 0
    while pos < len(raw):
        step = rng.randint(1, max_piece)
        pieces.append(raw[pos : pos + step])
        pos += step
    return pieces


def decode_events(raw: bytes, rng: random.Random | None = None) -> list[WireEvent]:
    """The SSE events of ``raw``, decoded by the real :class:`SSEDecoder` from random pieces."""
    decoder = SSEDecoder()
    events: list[WireEvent] = []
    for piece in random_splits(raw, rng) if rng is not None else [raw]:
        events.extend(decoder.feed(piece))
    events.extend(decoder.close())
    return events


def run_parser(parser: StreamParser[T], events: Iterable[WireEvent]) -> list[T]:
    """Feed every event, then close (as the connector does)."""
    out: list[T] = []
    for event in events:
        out.extend(parser.feed(event))
    out.extend(parser.close())
    return out


def replay(raw: bytes, seed: int = 0, endpoint: str = "replay") -> list[LLMStreamChunk]:
    """Replay a recorded SSE body through :class:`ChatStreamParser`, split at seeded offsets."""
    return run_parser(ChatStreamParser(endpoint), decode_events(raw, random.Random(seed)))


def accumulate(chunks: Iterable[LLMStreamChunk]) -> StreamAccumulator:
    acc = StreamAccumulator()
    for chunk in chunks:
        acc.add(chunk)
    return acc


def wire_response(data: Any, *, endpoint: str = "fake", request_id: str | None = "req-1") -> WireResponse:
    body = json.dumps(data).encode()
    return WireResponse(
        status=200,
        headers=CIMultiDict({"content-type": "application/json"}),
        body=body,
        data=data,
        endpoint=endpoint,
        request_id=request_id,
        latency=0.25,
        ttfb=0.1,
    )


def completion(
    content: str | list[dict[str, Any]] | None = "Hello!",
    *,
    finish_reason: str = "stop",
    tool_calls: list[dict[str, Any]] | None = None,
    refusal: str | None = None,
    usage: dict[str, Any] | None = None,
    model: str = "gpt-4.1-mini-2025-04-14",
) -> dict[str, Any]:
    """A ``chat.completion`` body (``content`` may be a list of typed parts, as Mistral sends)."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": usage or {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


class ScriptedConnector:
    """An in-memory ``IConnector``: ``send`` answers from ``responses``; ``stream`` replays ``sse``
    bytes through the parser the model supplies (then raises ``stream_error`` if set, wrapped as
    the real connector does once items were yielded). Records every request."""

    def __init__(
        self,
        responses: list[WireResponse | LLMError] | None = None,
        sse: bytes = b"",
        stream_error: LLMError | None = None,
        endpoint: str = "https://scripted.test/v1",
    ) -> None:
        self.responses = list(responses or [])
        self.sse = sse
        self.stream_error = stream_error
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
        parser = parser_factory(self.endpoints[0], None)
        yielded = False
        for event in decode_events(self.sse):
            for item in parser.feed(event):
                yielded = True
                yield item
        if self.stream_error is not None:
            if yielded:
                raise StreamInterruptedError("broke", cause=self.stream_error) from self.stream_error
            raise self.stream_error
        for item in parser.close():
            yield item

    async def aclose(self) -> None:
        self.closed += 1


def sse_of(*objects: dict[str, Any] | str, done: bool = True) -> bytes:
    """An SSE body with one ``data:`` event per object (strings sent verbatim)."""
    parts = [f"data: {o if isinstance(o, str) else json.dumps(o)}\n\n" for o in objects]
    if done:
        parts.append("data: [DONE]\n\n")
    return "".join(parts).encode()


def delta_chunk(
    delta: dict[str, Any], *, finish_reason: str | None = None, index: int = 0, **extra: Any
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` with a single choice."""
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "gpt-4.1-mini-2025-04-14",
        "choices": [{"index": index, "delta": delta, "finish_reason": finish_reason, **extra}],
    }


def usage_chunk(prompt: int = 10, completion: int = 5, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "gpt-4.1-mini-2025-04-14",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        },
    }


def expected_texts(raw: bytes) -> dict[int, str]:
    """An independent oracle: the concatenated ``delta.content`` per choice index of a recorded
    SSE body, read with nothing but ``json``."""
    texts: dict[int, str] = {}
    for line in raw.decode().splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        for choice in json.loads(line[6:]).get("choices") or []:
            content = (choice.get("delta") or {}).get("content") or ""
            texts[choice["index"]] = texts.get(choice["index"], "") + content
    return texts


class ReplayServer:
    """A loopback aiohttp server answering every request with one recorded body: the status and
    headers given, a streamed body written in seeded random pieces. Records each request."""

    def __init__(
        self, body: bytes, *, status: int = 200, headers: dict[str, str] | None = None, seed: int = 0
    ) -> None:
        self.body = body
        self.status = status
        self.headers = headers or {}
        self.rng = random.Random(seed)
        self.requests: list[dict[str, Any]] = []
        self._runner: Any = None
        self.url = ""

    async def __aenter__(self) -> ReplayServer:
        from aiohttp import web
        from local_http import serve_locally

        async def handle(request: web.Request) -> web.StreamResponse:
            self.requests.append(
                {
                    "path": request.path,
                    "query": dict(request.query),
                    "headers": dict(request.headers),
                    "json": await request.json(),
                }
            )
            if "event-stream" not in self.headers.get("Content-Type", ""):
                return web.Response(status=self.status, body=self.body, headers=self.headers)
            response = web.StreamResponse(status=self.status, headers=self.headers)
            await response.prepare(request)
            for piece in random_splits(self.body, self.rng, max_piece=512):
                await response.write(piece)
            await response.write_eof()
            return response

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        self._runner, port = await serve_locally(app, access_log=None)
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()


def recorded_headers(name: str, default_type: str) -> dict[str, str]:
    """The response headers worth replaying (content type, request ids) from a file's sidecar."""
    try:
        headers = {k.lower(): v for k, v in sidecar(name)["response"]["headers"].items()}
    except FileNotFoundError:
        headers = {}
    out = {"Content-Type": headers.get("content-type", default_type)}
    for key in ("apim-request-id", "x-request-id"):
        if key in headers:
            out[key] = headers[key]
    return out
