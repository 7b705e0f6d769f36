"""The Responses API routes: ``POST /v1/responses`` (OpenAI, and any host the simulator plays),
``POST /openai/responses?api-version=...`` (Azure) and ``POST /openai/v1/responses`` (Azure's v1
API, unless the simulator plays a host). Registered by :meth:`.routes.ProviderRoutes.add_to`.

Each request goes through :meth:`~.routes.ProviderRoutes.serve` (recorded, one fault taken, auth
checked), is read by :func:`~.responses_request.parse_responses_request`, answered by the same
generator as chat completions (tools, structured output, echoes) and written by
:mod:`.responses_wire`; faults act as on chat completions (:func:`~.responder.send_stream` /
:func:`~.responder.send_body`), an in-stream error being an ``error`` event then
``response.failed``.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .faults import Fault
from .generation import SchemaError, generate_answer
from .openai_request import unparseable_body
from .openai_wire import Rejection, azure_content_filter_body, azure_error, error_envelope
from .responder import send_body, send_stream
from .responses_request import parse_responses_request
from .responses_wire import ResponseContext, response_body, response_events

if TYPE_CHECKING:
    from .routes import Family, ProviderRoutes

__all__ = ["add_routes"]

_API_VERSION = re.compile(r"^(\d{4}-\d{2}-\d{2}(-preview)?|preview|latest)$")


def add_routes(app: web.Application, routes: ProviderRoutes) -> None:
    """Add the Responses API routes to ``app``."""

    async def openai(request: web.Request) -> web.StreamResponse:
        return await _serve(request, routes, "openai", api_version=False)

    async def azure(request: web.Request) -> web.StreamResponse:
        return await _serve(request, routes, "azure", api_version=True)

    async def azure_v1(request: web.Request) -> web.StreamResponse:
        return await _serve(request, routes, "azure", api_version=False)

    app.router.add_post("/v1/responses", openai)
    app.router.add_post("/openai/responses", azure)
    if routes.azure_v1:
        app.router.add_post("/openai/v1/responses", azure_v1)


async def _serve(
    request: web.Request, routes: ProviderRoutes, family: Family, *, api_version: bool
) -> web.StreamResponse:
    async def produce(n: int, body: Any, headers: dict[str, str], fault: Fault | None) -> web.StreamResponse:
        if api_version:
            _check_api_version(request)
        return await _answer(request, routes, n, body, family, headers, fault)

    return await routes.serve(request, family, None, produce, check_api_version=api_version)


async def _answer(
    request: web.Request,
    routes: ProviderRoutes,
    n: int,
    body: Any,
    family: Family,
    headers: dict[str, str],
    fault: Fault | None,
) -> web.StreamResponse:
    if not isinstance(body, dict):
        raise unparseable_body()
    # the simulator's settings, shared with the chat routes
    req = parse_responses_request(body, context_chars=routes._context_chars)
    if req.chat.content_filter and family == "azure":
        raise Rejection(400, azure_content_filter_body(), {"x-ms-rai-invoked": "true"})
    try:
        answer = generate_answer(
            req.chat,
            echo_words=routes._echo_words,
            next_call_id=routes._next_call_id,
            reasoning=req.reasoning_model and req.summary is not None,
        )
    except SchemaError as exc:
        raise Rejection(
            400,
            error_envelope(f"Invalid schema: {exc}", param="text.format.schema", code="invalid_json_schema"),
        ) from None
    ctx = ResponseContext(n=n, model=req.chat.model, created=int(time.time()), azure=family == "azure")
    if req.chat.stream:
        events = response_events(answer, req, ctx)
        return await send_stream(
            request, events, headers, fault, completion_id=ctx.response_id, chunk_delay=routes._chunk_delay
        )
    data = json.dumps(response_body(answer, req, ctx), separators=(",", ":"), ensure_ascii=False).encode()
    return await send_body(request, data, headers, fault, ctx.response_id)


def _check_api_version(request: web.Request) -> None:
    version = request.query.get("api-version")
    if not version:
        raise Rejection(400, azure_error("BadRequest", "Missing required query parameter 'api-version'."))
    if not _API_VERSION.match(version):
        raise Rejection(400, azure_error("BadRequest", "API version not supported"))
