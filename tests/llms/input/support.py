"""Shared pieces of the input tests: a model on an in-memory connector that behaves like the real
one where input matters (it serialises the payload as ``FailoverConnector`` does and reads the
context's deadline and idempotency key), and the hypothesis settings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from fuzz.support import fuzz_settings
from multidict import CIMultiDict

from core.llms.interfaces.context import RequestContext
from core.llms.interfaces.llm_interfaces import StreamParser, WireRequest, WireResponse
from core.llms.providers.base.connector import encode_json
from core.llms.providers.base.ndjson import NDJSONDecoder
from core.llms.providers.base.sse import SSEDecoder

T = TypeVar("T")

#: the fuzz suite's settings (``CORE_LLMS_FUZZ_EXAMPLES`` runs them long and randomised).
input_settings = fuzz_settings


ANSWER: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-4.1-mini-2025-04-14",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {"id": "c", "object": "chat.completion.chunk", "model": "gpt-4.1-mini", "choices": [choice]}


_USAGE = {"id": "c", "object": "chat.completion.chunk", "choices": [], "usage": ANSWER["usage"]}
STREAM = (
    b"".join(
        f"data: {json.dumps(event)}\n\n".encode()
        for event in (
            _chunk({"role": "assistant", "content": "Hel"}),
            _chunk({"content": "lo!"}),
            _chunk({}, "stop"),
            _USAGE,
        )
    )
    + b"data: [DONE]\n\n"
)


OLLAMA_ANSWER: dict[str, Any] = {
    "model": "llama3.2",
    "message": {"role": "assistant", "content": "Hello!"},
    "done": True,
    "done_reason": "stop",
    "prompt_eval_count": 10,
    "eval_count": 2,
}
OLLAMA_STREAM = (
    json.dumps({"model": "llama3.2", "message": {"role": "assistant", "content": "Hello!"}, "done": False})
    + "\n"
    + json.dumps(OLLAMA_ANSWER | {"message": {"role": "assistant", "content": ""}})
    + "\n"
).encode()


class EchoConnector:
    """An ``IConnector`` that answers every call: ``send`` with :data:`ANSWER`, ``stream`` by
    replaying :data:`STREAM` through the model's parser (Ollama's answer and NDJSON lines with
    ``ollama=True``). Like ``FailoverConnector`` it serialises the payload first
    (``encode_json``) and reads ``ctx.deadline`` and ``ctx.idempotency_key``."""

    endpoints = ("https://echo.test/v1",)

    def __init__(self, *, ollama: bool = False) -> None:
        self.requests: list[WireRequest] = []
        self.ollama = ollama

    def _take(self, request: WireRequest, ctx: RequestContext | None) -> None:
        encode_json(request.payload)
        if ctx is not None:
            _ = (ctx.deadline, ctx.idempotency_key)
        self.requests.append(request)

    async def send(self, request: WireRequest, ctx: RequestContext | None = None) -> WireResponse:
        self._take(request, ctx)
        return WireResponse(
            status=200,
            headers=CIMultiDict({"content-type": "application/json"}),
            body=b"",
            data=OLLAMA_ANSWER if self.ollama else ANSWER,
            endpoint=self.endpoints[0],
        )

    async def stream(
        self,
        request: WireRequest,
        parser_factory: Callable[[str, str | None], StreamParser[T]],
        ctx: RequestContext | None = None,
    ) -> AsyncIterator[T]:
        self._take(request, ctx)
        parser = parser_factory(self.endpoints[0], "req-1")
        decoder = NDJSONDecoder() if self.ollama else SSEDecoder()
        raw = OLLAMA_STREAM if self.ollama else STREAM
        for event in [*decoder.feed(raw), *decoder.close()]:
            for item in parser.feed(event):
                yield item
        for item in parser.close():
            yield item

    async def aclose(self) -> None:
        return None


def last_request(connector: Any) -> WireRequest:
    request: WireRequest = connector.requests[-1]
    return request
