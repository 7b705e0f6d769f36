"""Helpers for the transport tests: a scriptable aiohttp server on 127.0.0.1, a tiny fake
OpenAI-style provider adapter, and a text stream parser. No simulator, no provider package."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from local_http import serve_locally

from core.llms.interfaces.endpoint import EndpointConfig, Timeouts
from core.llms.interfaces.errors import LLMError, StreamInterruptedError
from core.llms.interfaces.llm_interfaces import StreamDecoder, WireEvent
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.http_errors import error_for_status, parse_retry_after
from core.llms.providers.base.ndjson import NDJSONDecoder
from core.llms.providers.base.retry import RetryPolicy
from core.llms.providers.base.sse import SSEDecoder

SECRET = "sk-test-SECRET-0123456789abcdef"

#: fast retries so tests take milliseconds; no jitter so delays are exact.
FAST = RetryPolicy(max_retries=2, backoff_initial=0.01, backoff_max=0.04, jitter=0.0)


# -- the scripted server -------------------------------------------------------------------------


@dataclass
class Reply:
    """One scripted response. ``chunks`` makes it a streamed (chunked) body."""

    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Sequence[bytes] | None = None
    #: seconds to wait before sending the status line (a slow server).
    delay: float = 0.0
    #: seconds to wait between chunks.
    chunk_delay: float = 0.0
    #: after the chunks, send nothing more until the client goes away (a stalled stream).
    stall: bool = False
    #: after the chunks, cut the connection without finishing the body.
    drop: bool = False
    #: close the connection before sending any response at all.
    hang_up: bool = False


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class ScriptServer:
    """An aiohttp server answering from a queue of :class:`Reply` (default: 200 ``{"ok": true}``)."""

    def __init__(self) -> None:
        self.queue: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        #: set when a streaming handler saw its client go away (connection released/closed).
        self.disconnected = asyncio.Event()
        self._stop = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    def enqueue(self, *replies: Reply) -> None:
        self.queue.extend(replies)

    @property
    def hits(self) -> int:
        return len(self.requests)

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner, port = await serve_locally(
            app, ssl_context=ssl_context, handler_cancellation=True, shutdown_timeout=0.5
        )
        self.url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"

    async def stop(self) -> None:
        self._stop.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(Recorded(request.method, request.path_qs, dict(request.headers), body))
        reply = self.queue.popleft() if self.queue else Reply(json={"ok": True})
        if reply.delay:
            await self._wait(reply.delay)
        if reply.hang_up:
            assert request.transport is not None
            request.transport.close()
            raise ConnectionResetError("scripted hang-up")
        if reply.chunks is None:
            if reply.body is not None:
                return web.Response(status=reply.status, body=reply.body, headers=reply.headers)
            return web.json_response(reply.json, status=reply.status, headers=reply.headers)
        resp = web.StreamResponse(status=reply.status, headers=reply.headers)
        resp.content_type = reply.headers.get("Content-Type", "text/event-stream")
        await resp.prepare(request)
        try:
            for chunk in reply.chunks:
                await resp.write(chunk)
                if reply.chunk_delay:
                    await self._wait(reply.chunk_delay)
            if reply.stall:
                await self._wait(30)
            if reply.drop:
                assert request.transport is not None
                request.transport.close()
                raise ConnectionResetError("scripted drop")
            await resp.write_eof()
        except (asyncio.CancelledError, ConnectionResetError):
            self.disconnected.set()
            raise
        return resp


# -- the fake provider ---------------------------------------------------------------------------


class FakeAdapter:
    """An OpenAI-style adapter: bearer auth, ``{"error": {...}}`` bodies, ``x-request-id``."""

    provider = "fake"

    def url(self, endpoint: EndpointConfig, operation: str, model: str = "") -> str:
        return f"{endpoint.endpoint}/{operation}"

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        if endpoint.api_key is None:
            return {}
        return {"Authorization": f"Bearer {endpoint.api_key.get_secret_value()}"}

    def decoder(self, operation: str) -> StreamDecoder:
        return NDJSONDecoder() if operation.endswith("ndjson") else SSEDecoder()

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes, endpoint: str) -> LLMError:
        try:
            err = json.loads(body)["error"]
            message, code = str(err["message"]), err.get("code")
        except (ValueError, KeyError, TypeError):
            message, code = f"HTTP {status}", None
        return error_for_status(
            status, message, endpoint=endpoint, code=code, retry_after=parse_retry_after(headers)
        )

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        return headers.get("x-request-id")


class TextParser:
    """OpenAI-like stream parser: ``{"text": ...}`` events, ``{"error": ...}`` events raise the
    mapped error, ``[DONE]`` is the terminal marker."""

    def __init__(self, endpoint: str, request_id: str | None = None) -> None:
        self.endpoint = endpoint
        self.request_id = request_id
        self.done = False

    def feed(self, event: WireEvent) -> Iterable[str]:
        if event.data == "[DONE]":
            self.done = True
            return ()
        obj = json.loads(event.data)
        if "error" in obj:
            err = obj["error"]
            raise error_for_status(int(err.get("status", 500)), str(err["message"]), endpoint=self.endpoint)
        return (str(obj["text"]),)

    def close(self) -> Iterable[str]:
        if not self.done:
            raise StreamInterruptedError("stream ended before [DONE]", endpoint=self.endpoint)
        return ()


def sse(*texts: str, done: bool = True) -> list[bytes]:
    """SSE chunks, one per text, plus ``[DONE]``."""
    chunks = [f"data: {json.dumps({'text': t})}\n\n".encode() for t in texts]
    if done:
        chunks.append(b"data: [DONE]\n\n")
    return chunks


def sse_error(status: int, message: str) -> bytes:
    return f"data: {json.dumps({'error': {'status': status, 'message': message}})}\n\n".encode()


def error_json(message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "code": code}}


ServerFactory = Callable[[], Awaitable[ScriptServer]]
FailoverFactory = Callable[..., FailoverConnector]


def endpoint(url: str, **kw: Any) -> EndpointConfig:
    kw.setdefault("api_key", SECRET)
    kw.setdefault("timeouts", Timeouts(connect=2, read=5, total=10))
    return EndpointConfig(endpoint=url, **kw)
