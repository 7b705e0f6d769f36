"""Gemini API and Vertex AI chat routes (``generateContent``): registered by
:meth:`.routes.ProviderRoutes.add_to`.

::

    Gemini API (x-goog-api-key: <key>, or ?key=<key>)
    POST /v1beta/models/{model}:generateContent
    POST /v1beta/models/{model}:streamGenerateContent?alt=sse      (without alt=sse: a JSON array)

    Vertex AI (Authorization: Bearer <token>, or an x-goog-api-key), v1 and v1beta1
    POST /v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent
    POST .../publishers/google/models/{model}:streamGenerateContent?alt=sse

Each request goes through :meth:`~.routes.ProviderRoutes.serve` (recorded, one fault taken, auth
checked by the Google :class:`~.google_wire.GoogleWire`, errors in Google's shape: a
scripted 429 carries a ``RetryInfo``), is read by :func:`~.gemini_request.parse_gemini_request`,
answered by the shared generator (:func:`~.generation.generate_answer`: echoes, tool calls,
schema-driven JSON) and written as a ``GenerateContentResponse``. A TTS model (``*-tts``) is
answered by the media module's :func:`~.gemini_media_routes.respond_tts`.

The answer: ``candidates[0].content.parts`` (thought summaries ``"thought": true`` when
``thinkingConfig.includeThoughts``, then the text, or one ``functionCall`` per tool call, whole),
``finishReason`` (``STOP``, ``MAX_TOKENS``, ``SAFETY``), ``usageMetadata`` (``thoughtsTokenCount``
for thinking models, ``cachedContentTokenCount`` with ``cachedContent``), ``modelVersion``,
``responseId``. Gemini 3 models sign their first function call (and the last part of a text
answer) with a ``thoughtSignature`` and refuse a later request whose current turn lacks it.
Streams are SSE, ``data: {...}\\r\\n\\r\\n`` as the services frame them, each event a whole
``GenerateContentResponse`` with the new parts and the usage so far; the last event carries the
finish reason and the final usage (and no ``[DONE]``). Faults act as on the OpenAI routes: a
truncated stream ends without its finish event; an in-stream error is a ``data: {"error": …}``
event.

Prompt markers: :data:`~.openai_request.CONTENT_FILTER_TRIGGER` (``[[content_filter]]``) blocks
the prompt (``promptFeedback.blockReason`` ``SAFETY``, no candidates);
:data:`~.gemini_request.SAFETY_TRIGGER` (``[[safety]]``) stops the answer (``finishReason``
``SAFETY`` with a blocked ``safetyRatings`` entry).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .gemini_media_routes import is_tts_model, respond_tts
from .gemini_request import GeminiRequest, google_rejection, needs_signatures, parse_gemini_request, signature
from .generation import Answer, SchemaError, generate_answer
from .google_wire import GoogleWire, fault_body
from .openai_wire import StreamEvents
from .responder import send_body, send_stream

if TYPE_CHECKING:
    from .faults import Fault
    from .routes import ProviderRoutes

__all__ = ["add_routes", "answer_body", "answer_events"]

_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP", "content_filter": "SAFETY"}
_CATEGORIES = (
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
)
_KNOWN_MODELS = ("gemini-", "gemma-")


def _ratings(blocked: str | None = None) -> list[dict[str, Any]]:
    out = []
    for category in _CATEGORIES:
        rating: dict[str, Any] = {"category": category, "probability": "NEGLIGIBLE"}
        if category == blocked:
            rating = {"category": category, "probability": "HIGH", "blocked": True}
        out.append(rating)
    return out


@dataclasses.dataclass(slots=True)
class _Context:
    n: int
    model: str
    vertex: bool

    @property
    def response_id(self) -> str:
        return f"sim-gemini-{self.n:06d}"


def _usage(req: GeminiRequest, answer: Answer | None) -> dict[str, Any]:
    prompt = req.chat.prompt_tokens
    usage: dict[str, Any] = {"promptTokenCount": prompt}
    total = prompt
    if answer is not None:
        thoughts = answer.reasoning_tokens
        candidates = answer.completion_tokens - thoughts
        usage["candidatesTokenCount"] = candidates
        total += candidates
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
            total += thoughts
    usage["totalTokenCount"] = total
    usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    if req.cached_tokens:
        usage["cachedContentTokenCount"] = req.cached_tokens
    return usage


def _call_parts(answer: Answer, ctx: _Context) -> list[dict[str, Any]]:
    parts = []
    for i, call in enumerate(answer.tool_calls):
        part: dict[str, Any] = {"functionCall": {"name": call.name, "args": json.loads(call.arguments)}}
        if i == 0 and needs_signatures(ctx.model):
            part["thoughtSignature"] = signature(ctx.model, ctx.n)
        parts.append(part)
    return parts


def _envelope(ctx: _Context, candidate: dict[str, Any] | None, usage: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if candidate is not None:
        data["candidates"] = [{**candidate, "index": 0}]
    data["usageMetadata"] = usage
    data["modelVersion"] = ctx.model
    data["responseId"] = ctx.response_id
    if ctx.vertex:
        data["createTime"] = "2026-01-01T00:00:00.000000Z"
    return data


def _blocked(req: GeminiRequest, ctx: _Context) -> dict[str, Any]:
    data = _envelope(ctx, None, _usage(req, None))
    data["promptFeedback"] = {
        "blockReason": "SAFETY",
        "safetyRatings": _ratings("HARM_CATEGORY_DANGEROUS_CONTENT"),
    }
    return data


def _stopped(req: GeminiRequest, ctx: _Context) -> dict[str, Any]:
    candidate = {"finishReason": "SAFETY", "safetyRatings": _ratings("HARM_CATEGORY_HARASSMENT")}
    usage = _usage(req, None)
    usage["candidatesTokenCount"] = 0
    return _envelope(ctx, candidate, usage)


def answer_body(req: GeminiRequest, answer: Answer, ctx: _Context) -> dict[str, Any]:
    """The ``generateContent`` answer: one candidate with every part."""
    parts: list[dict[str, Any]] = []
    if answer.reasoning and req.include_thoughts:
        parts.append({"text": answer.reasoning, "thought": True})
    if answer.tool_calls:
        parts.extend(_call_parts(answer, ctx))
    else:
        text: dict[str, Any] = {"text": answer.content or ""}
        if needs_signatures(ctx.model):
            text["thoughtSignature"] = signature(ctx.model, ctx.n)
        parts.append(text)
    candidate: dict[str, Any] = {
        "content": {"role": "model", "parts": parts},
        "finishReason": _FINISH.get(answer.finish_reason, "STOP"),
    }
    if ctx.vertex:
        candidate["safetyRatings"] = _ratings()
    return _envelope(ctx, candidate, _usage(req, answer))


def answer_events(
    req: GeminiRequest, answer: Answer, ctx: _Context
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The ``streamGenerateContent`` events of an answer: (the content events, the final event).
    Thoughts and text arrive piece by piece, function calls whole; every event carries the usage
    so far; the final one the finish reason (on an empty text part, signed on Gemini 3)."""
    body: list[dict[str, Any]] = []
    usage = _usage(req, None)

    def event(parts: list[dict[str, Any]]) -> dict[str, Any]:
        return _envelope(ctx, {"content": {"role": "model", "parts": parts}}, usage)

    if answer.reasoning and req.include_thoughts:
        body.extend(event([{"text": piece, "thought": True}]) for piece in answer.reasoning_pieces)
    if answer.tool_calls:
        body.append(event(_call_parts(answer, ctx)))
    else:
        body.extend(event([{"text": piece}]) for piece in answer.pieces)
    last: dict[str, Any] = {"text": ""}
    if needs_signatures(ctx.model) and not answer.tool_calls:
        last["thoughtSignature"] = signature(ctx.model, ctx.n)
    final: dict[str, Any] = {
        "content": {"role": "model", "parts": [last]},
        "finishReason": _FINISH.get(answer.finish_reason, "STOP"),
    }
    if ctx.vertex:
        final["safetyRatings"] = _ratings()
    return body, _envelope(ctx, final, _usage(req, answer))


def _sse(event: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode() + b"\r\n\r\n"


def _check_model(model: str, ctx: _Context, request: web.Request) -> None:
    if model.startswith(_KNOWN_MODELS):
        return
    if ctx.vertex:
        resource = request.path.split("/", 2)[2].rsplit(":", 1)[0]
        message = (
            f"Publisher Model `{resource[:300]}` was not found or your project does not have access to it."
        )
    else:
        message = (
            f"models/{model[:100]} is not found for API version v1beta, or is not supported for "
            "generateContent. Call ListModels to see the list of available models and their supported "
            "methods."
        )
    raise google_rejection(404, message, "NOT_FOUND")


async def _answer(
    request: web.Request,
    routes: ProviderRoutes,
    n: int,
    body: Any,
    headers: dict[str, str],
    fault: Fault | None,
    *,
    stream: bool,
    vertex: bool,
) -> web.StreamResponse:
    model = request.match_info["model"]
    if is_tts_model(model):
        return await respond_tts(
            request, body, model, headers, fault, stream=stream, chunk_delay=routes._chunk_delay
        )
    ctx = _Context(n, model, vertex)
    _check_model(model, ctx, request)
    req = parse_gemini_request(body, model, vertex=vertex, context_chars=routes._context_chars)
    req.chat.stream = stream
    if req.prompt_blocked:
        return await _send(
            request, [_blocked(req, ctx)], None, headers, fault, stream=stream, label=ctx.response_id
        )
    if req.safety_stop:
        return await _send(
            request, [_stopped(req, ctx)], None, headers, fault, stream=stream, label=ctx.response_id
        )
    try:
        answer = generate_answer(
            req.chat,
            echo_words=routes._echo_words,
            next_call_id=routes._next_call_id,
            reasoning=req.include_thoughts,
        )
    except SchemaError as exc:
        raise google_rejection(
            400, f"* GenerateContentRequest.generation_config.response_schema: {exc}"
        ) from None
    if not stream:
        return await _send(
            request,
            [answer_body(req, answer, ctx)],
            None,
            headers,
            fault,
            stream=False,
            label=ctx.response_id,
        )
    events, final = answer_events(req, answer, ctx)
    return await _send(
        request, events, final, headers, fault, stream=True, label=ctx.response_id, delay=routes._chunk_delay
    )


async def _send(
    request: web.Request,
    events: list[dict[str, Any]],
    final: dict[str, Any] | None,
    headers: dict[str, str],
    fault: Fault | None,
    *,
    stream: bool,
    label: str,
    delay: float = 0.0,
) -> web.StreamResponse:
    """A non-streamed answer (the one event), an SSE stream of ``events`` then ``final``, or (a
    stream asked without ``alt=sse``) all of them as one JSON array; with the fault's effects,
    an in-band error being Google's error body."""
    sse = request.query.get("alt") == "sse"
    if not stream or not sse:
        whole = [*events, *([final] if final is not None else [])]
        data: Any = whole if stream else whole[0]
        raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
        if fault is not None and fault.error_event:
            raw = json.dumps(fault_body(fault), separators=(",", ":")).encode()
            fault = dataclasses.replace(fault, error_event=False, error_code=None, message=None)
        return await send_body(request, raw, headers, fault, label)

    def error_event(error: dict[str, Any]) -> bytes:  # an in-stream error, Google's way
        return _sse(fault_body(fault) if fault is not None else error)

    frames = StreamEvents(
        head=[],
        body=[_sse(e) for e in events],
        tail=[_sse(final)] if final is not None else [],
        error_event=error_event,
    )
    return await send_stream(
        request,
        frames,
        {**headers, "Content-Disposition": "attachment"},
        fault,
        completion_id=label,
        chunk_delay=delay,
    )


def add_routes(app: web.Application, routes: ProviderRoutes) -> None:
    """Add the Gemini API and Vertex AI ``generateContent`` routes to ``app``."""
    gemini = GoogleWire(routes, vertex=False)
    vertex = GoogleWire(routes, vertex=True)

    def handler(wire: GoogleWire, stream: bool) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            async def produce(
                n: int, body: Any, headers: dict[str, str], fault: Fault | None
            ) -> web.StreamResponse:
                return await _answer(
                    request, routes, n, body, headers, fault, stream=stream, vertex=wire.vertex
                )

            return await routes.serve(request, "other", None, produce, wire=wire, stream=stream)

        return handle

    for action, stream in ((":generateContent", False), (":streamGenerateContent", True)):
        app.router.add_post("/v1beta/models/{model}" + action, handler(gemini, stream))
        for version in ("v1", "v1beta1"):
            prefix = (
                f"/{version}/projects/{{project}}/locations/{{location}}/publishers/google/models/{{model}}"
            )
            app.router.add_post(prefix + action, handler(vertex, stream))
