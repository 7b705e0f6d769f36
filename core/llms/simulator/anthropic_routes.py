"""Anthropic's Messages API: ``POST /v1/messages``. Registered by
:meth:`.routes.ProviderRoutes.add_to`.

Each request goes through :meth:`~.routes.ProviderRoutes.serve` with :class:`AnthropicWire`
(Anthropic's auth, ``request-id`` header and error bodies; recorded, one fault taken), then
``anthropic-version`` is checked, the body read by
:func:`~.anthropic_request.parse_messages_request`, answered by the same generator as chat
completions (tools, thinking, echoes) and written by :mod:`.anthropic_wire`. Faults act as on
chat completions (:func:`~.responder.send_stream` / :func:`~.responder.send_body`); an error
status answers Anthropic's error body (``Fault(status=529)``: ``overloaded_error``), an in-stream
error is an ``event: error``.

Auth: ``x-api-key: <key>`` (or ``Authorization: Bearer <token>``), checked against the
simulator's ``api_key`` (any non-empty key when it has none); a keyless simulator
(``auth_header=None``) accepts every request.
"""

from __future__ import annotations

import itertools
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .anthropic_request import anthropic_error, parse_messages_request
from .anthropic_wire import MessageContext, PromptCache, fault_error, message_body, message_events
from .faults import Fault
from .generation import generate_answer
from .openai_wire import Rejection
from .responder import send_body, send_json, send_stream

if TYPE_CHECKING:
    from .routes import ProviderRoutes

__all__ = ["AnthropicWire", "add_routes"]

_ORGANIZATION = "00000000-0000-4000-8000-000000000000"


class AnthropicWire:
    """Anthropic's auth check, response headers and error bodies (a ``ProviderWire``)."""

    def __init__(self, routes: ProviderRoutes) -> None:
        self._routes = routes

    def check_auth(self, request: web.Request) -> None:
        auth = self._routes._auth
        if auth.header is None:
            return  # a keyless simulator
        key = request.headers.get("x-api-key")
        if key is None:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            key = token.strip() if scheme.lower() == "bearer" and token.strip() else None
        if key is None:
            raise Rejection(401, anthropic_error("x-api-key header is required", "authentication_error"))
        if not auth.key_ok(key.strip()):
            raise Rejection(401, anthropic_error("invalid x-api-key", "authentication_error"))

    def headers(self, n: int) -> dict[str, str]:
        return {"request-id": request_id(n), "anthropic-organization-id": _ORGANIZATION}

    def rejection_response(self, rejection: Rejection, headers: dict[str, str]) -> web.StreamResponse:
        body = {**rejection.body, "request_id": headers.get("request-id")}
        return send_json(rejection.status, body, {**headers, **rejection.headers})

    def fault_response(self, fault: Fault, headers: dict[str, str]) -> web.StreamResponse:
        body = {**fault_error(fault), "request_id": headers.get("request-id")}
        return send_json(fault.status or 500, body, headers)


def request_id(n: int) -> str:
    """The ``request-id`` of request number ``n``."""
    return f"req_sim_{n:06d}"


def add_routes(app: web.Application, routes: ProviderRoutes) -> None:
    """Add the Messages API route to ``app``."""
    wire = AnthropicWire(routes)
    cache = PromptCache()
    call_ids = itertools.count(1)

    def next_call_id() -> str:
        return f"toolu_sim_{next(call_ids):04d}"

    async def messages(request: web.Request) -> web.StreamResponse:
        async def produce(
            n: int, body: Any, headers: dict[str, str], fault: Fault | None
        ) -> web.StreamResponse:
            if not request.headers.get("anthropic-version"):
                raise Rejection(400, anthropic_error("anthropic-version: header is required"))
            return await _answer(request, routes, cache, next_call_id, n, body, headers, fault)

        return await routes.serve(request, "other", None, produce, wire=wire)

    app.router.add_post("/v1/messages", messages)


async def _answer(
    request: web.Request,
    routes: ProviderRoutes,
    cache: PromptCache,
    next_call_id: Any,
    n: int,
    body: Any,
    headers: dict[str, str],
    fault: Fault | None,
) -> web.StreamResponse:
    req = parse_messages_request(body, context_chars=routes._context_chars)
    answer = generate_answer(
        req.chat, echo_words=routes._echo_words, next_call_id=next_call_id, reasoning=req.thinking
    )
    read, written, one_hour = cache.use(req.cache_points)
    ctx = MessageContext(f"msg_sim_{n:06d}", req.chat.model, read, written, one_hour)
    if req.chat.stream:
        events = message_events(answer, req, ctx, fault)
        return await send_stream(
            request, events, headers, fault, completion_id=ctx.message_id, chunk_delay=routes._chunk_delay
        )
    if fault is not None and fault.error_event:  # an error in a 200 body: Anthropic's envelope
        return send_json(200, fault_error(fault), headers)
    data = json.dumps(message_body(answer, req, ctx), separators=(",", ":"), ensure_ascii=False).encode()
    return await send_body(request, data, headers, fault, ctx.message_id)
