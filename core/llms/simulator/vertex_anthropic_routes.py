"""Claude on Vertex AI: registered by :meth:`.routes.ProviderRoutes.add_to`.

::

    Vertex AI (Authorization: Bearer <token>, or an x-goog-api-key), v1 and v1beta1
    POST /v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}:rawPredict
    POST .../publishers/anthropic/models/{model}:streamRawPredict      (Anthropic's SSE stream)

Each request goes through :meth:`~.routes.ProviderRoutes.serve` (recorded, one fault taken) with
Vertex AI's auth and Google's error bodies for auth failures and scripted error statuses
(:class:`~.google_wire.GoogleWire`), and Anthropic's ``request-id`` header
(``req_vrtx_…``), as Vertex AI sends it. The body is the Messages API's without ``model`` (the
URL names it: ``claude-sonnet-4-5@20250929``, answered as ``claude-sonnet-4-5-20250929``) and with
``"anthropic_version": "vertex-2023-10-16"``; a body naming ``model``, or without that version, is
refused with Anthropic's error body (400), as is anything :func:`~.anthropic_request.
parse_messages_request` refuses. The answer is the Anthropic routes' (:mod:`.anthropic_wire`:
tools, thinking with signatures, prompt cache, echoes); ``:streamRawPredict`` always streams.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .anthropic_request import anthropic_error, parse_messages_request
from .anthropic_wire import MessageContext, PromptCache, fault_error, message_body, message_events
from .generation import generate_answer
from .google_wire import GoogleWire
from .openai_wire import Rejection
from .responder import send_body, send_json, send_stream

if TYPE_CHECKING:
    from .faults import Fault
    from .routes import ProviderRoutes

__all__ = ["VERTEX_ANTHROPIC_VERSION", "VertexAnthropicWire", "add_routes"]

#: the ``anthropic_version`` a Vertex AI Claude body must carry.
VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16"
_MODEL = "/publishers/anthropic/models/{model}"


class VertexAnthropicWire(GoogleWire):
    """Vertex AI's bearer-token auth and Google's error bodies, with Anthropic's ``request-id``."""

    def headers(self, n: int) -> dict[str, str]:
        return {
            "request-id": f"req_vrtx_sim_{n:06d}",
            "x-vertex-ai-received-request-id": f"00000000-0000-4000-8000-{n:012d}",
        }


def _wire_model(model: str) -> str:
    """``claude-sonnet-4-5@20250929`` → the model an answer names (``claude-sonnet-4-5-20250929``)."""
    name, sep, day = model.partition("@")
    return f"{name}-{day}" if sep and day else name


def _messages_body(body: Any, model: str, stream: bool) -> dict[str, Any]:
    """The Vertex body as the Messages API's (``model`` from the URL); Anthropic's 400 when it
    names ``model`` or lacks the Vertex ``anthropic_version``."""
    if not isinstance(body, dict):
        raise Rejection(400, anthropic_error("There was an error parsing the body of your request"))
    if "model" in body:
        raise Rejection(400, anthropic_error("model: Extra inputs are not permitted"))
    version = body.get("anthropic_version")
    if version != VERTEX_ANTHROPIC_VERSION:
        raise Rejection(
            400,
            anthropic_error(
                "anthropic_version: Field required"
                if version is None
                else f"anthropic_version: Input should be '{VERTEX_ANTHROPIC_VERSION}'"
            ),
        )
    out = {k: v for k, v in body.items() if k != "anthropic_version"}
    out["model"] = _wire_model(model)
    out["stream"] = stream
    return out


def add_routes(app: web.Application, routes: ProviderRoutes) -> None:
    """Add Vertex AI's Claude routes (``:rawPredict``, ``:streamRawPredict``) to ``app``."""
    wire = VertexAnthropicWire(routes, vertex=True)
    cache = PromptCache()
    call_ids = itertools.count(1)

    def next_call_id() -> str:
        return f"toolu_vrtx_sim_{next(call_ids):04d}"

    def handler(stream: bool) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            async def produce(
                n: int, body: Any, headers: dict[str, str], fault: Fault | None
            ) -> web.StreamResponse:
                messages = _messages_body(body, request.match_info["model"], stream)
                req = parse_messages_request(messages, context_chars=routes._context_chars)
                answer = generate_answer(
                    req.chat, echo_words=routes._echo_words, next_call_id=next_call_id, reasoning=req.thinking
                )
                read, written, one_hour = cache.use(req.cache_points)
                ctx = MessageContext(f"msg_vrtx_sim_{n:06d}", req.chat.model, read, written, one_hour)
                if stream:
                    events = message_events(answer, req, ctx, fault)
                    return await send_stream(
                        request,
                        events,
                        headers,
                        fault,
                        completion_id=ctx.message_id,
                        chunk_delay=routes._chunk_delay,
                    )
                if fault is not None and fault.error_event:  # an error in a 200 body
                    return send_json(200, fault_error(fault), headers)
                data = json.dumps(
                    message_body(answer, req, ctx), separators=(",", ":"), ensure_ascii=False
                ).encode()
                return await send_body(request, data, headers, fault, ctx.message_id)

            return await routes.serve(request, "other", None, produce, wire=wire, stream=stream)

        return handle

    for action, stream in ((":rawPredict", False), (":streamRawPredict", True)):
        for version in ("v1", "v1beta1"):
            prefix = f"/{version}/projects/{{project}}/locations/{{location}}" + _MODEL
            app.router.add_post(prefix + action, handler(stream))
