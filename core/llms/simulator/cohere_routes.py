"""Cohere's v2 API: registered by :meth:`.routes.ProviderRoutes.add_to`.

::

    POST /v2/chat      whole (a V2ChatResponse body) or streamed ("stream": true: named SSE events)
    POST /v2/embed     texts (at most 96) or images → embeddings by type, billed input tokens
    POST /v2/rerank    query + documents → results ordered by relevance, billed search units

Written from Cohere's API reference and SDK types (``cohere-python``'s ``v2`` types) and the
recordings in ``tests/llms/wire/cohere``: ``Authorization: Bearer <key>`` (401
``{"message": "invalid api token"}``), errors ``{"id", "message"}``, ``x-debug-trace-id`` as the
request id, streams of ``event: <type>`` / ``data: {"type": ...}`` events (``message-start``,
``content-start/-delta/-end``, ``tool-plan-delta``, ``tool-call-start/-delta/-end``,
``citation-start/-end``, ``message-end`` with ``finish_reason`` and ``usage``) ending with
``data: [DONE]``, usage as ``billed_units`` and (larger: the tokens Cohere adds are not billed)
``tokens``.

Chat requests are read and answered by :mod:`.cohere_chat`. Answers come from
:mod:`.generation` (the request adapted to a :class:`ChatRequest`, as the Responses API
routes do): text echoes, tool calls with a tool plan, JSON for ``response_format``, thinking for
models whose name says ``reasoning`` (unless ``thinking`` is disabled). With ``documents`` the
answer quotes the first document and cites it. Requests are checked like the real API (unknown
fields, roles, tool results answering a tool call, ``tool_choice``, ``response_format`` with
tools or documents, ranges …). Faults act as on chat completions; an
in-stream error is a ``message-end`` whose ``finish_reason`` is ``ERROR``, and an error in a 200
body an answer with ``finish_reason`` ``ERROR``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import math
import re
import struct
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .cohere_chat import chat_body, chat_events, check_number, cite, parse_chat_request, reject
from .embeddings_routes import embedding_vector
from .faults import Fault
from .generation import SchemaError, generate_answer
from .openai_wire import Rejection
from .responder import send_body, send_json, send_stream

if TYPE_CHECKING:
    from .routes import ProviderRoutes

__all__ = ["CohereWire", "add_routes"]

_EMBED_FIELDS = frozenset(
    {
        "model",
        "input_type",
        "texts",
        "images",
        "inputs",
        "max_tokens",
        "output_dimension",
        "embedding_types",
        "truncate",
        "priority",
    }
)
_RERANK_FIELDS = frozenset({"model", "query", "documents", "top_n", "max_tokens_per_doc", "priority"})
_INPUT_TYPES = ("search_document", "search_query", "classification", "clustering", "image")
_EMBEDDING_TYPES = ("float", "int8", "uint8", "binary", "ubinary", "base64")
_WORD = re.compile(r"[a-z0-9]+")
_MAX_TEXTS = 96
_STATUS_MESSAGES = {
    400: "invalid request: simulated bad request",
    401: "invalid api token",
    402: "Please add or update your payment method at https://dashboard.cohere.com/billing?tab=payment",
    404: "model not found, make sure the correct model ID was used",
    429: "You are using a Trial key, which is limited to 20 API calls / minute.",
    498: "invalid api token",
    499: "request cancelled",
    500: "internal server error, this has been reported to our developers",
    503: "service unavailable",
}


class CohereWire:
    """Cohere's auth, response headers and error bodies (a :class:`~.routes.ProviderWire`)."""

    def __init__(self, routes: ProviderRoutes) -> None:
        self._auth = routes._auth  # (the simulator's key settings, shared with the other routes)

    def check_auth(self, request: web.Request) -> None:
        if self._auth.header is None:
            return  # a keyless simulator accepts every request
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if not token.strip():
            raise reject("no api key supplied", 401)
        if scheme.lower() != "bearer" or not self._auth.key_ok(token.strip()):
            raise reject("invalid api token", 401)

    def headers(self, n: int) -> dict[str, str]:
        return {"x-debug-trace-id": f"cohere-sim-{n:06d}", "x-envoy-upstream-service-time": "1"}

    def rejection_response(self, rejection: Rejection, headers: dict[str, str]) -> web.StreamResponse:
        return send_json(rejection.status, rejection.body, {**headers, **rejection.headers})

    def fault_response(self, fault: Fault, headers: dict[str, str]) -> web.StreamResponse:
        status = fault.error_status
        message = fault.message or _STATUS_MESSAGES.get(status, f"simulated error (HTTP {status})")
        return send_json(status, {"id": "00000000-0000-4000-8000-000000000000", "message": message}, headers)


async def _chat(
    request: web.Request,
    routes: ProviderRoutes,
    n: int,
    body: Any,
    headers: dict[str, str],
    fault: Fault | None,
) -> web.StreamResponse:
    model = body.get("model") if isinstance(body, dict) else None
    parsed = parse_chat_request(body, isinstance(model, str) and "reasoning" in model, routes._context_chars)
    req = parsed.chat
    try:
        answer = generate_answer(
            req, echo_words=routes._echo_words, next_call_id=routes._next_call_id, reasoning=parsed.thinking
        )
    except SchemaError as exc:
        raise reject(f"invalid request: invalid json_schema: {exc}") from None
    citations = cite(answer, parsed.documents)
    if req.stream:
        events = chat_events(n, req, answer, citations)
        return await send_stream(
            request, events, headers, fault, completion_id=f"cohere-sim-{n}", chunk_delay=routes._chunk_delay
        )
    data = chat_body(n, req, answer, citations)
    if fault is not None and fault.error_event:  # an error in a 200 answer: a failed generation
        data = {"id": data["id"], "finish_reason": "ERROR", "message": {"role": "assistant", "content": []}}
        fault = dataclasses.replace(fault, error_event=False)
    encoded = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return await send_body(request, encoded, headers, fault, f"cohere-sim-{n}")


# -- embed and rerank ------------------------------------------------------------------------------


def _dimensions(model: str) -> int:
    return 1536 if "v4" in model else 384 if "light" in model else 1024


def _embedding_types(vector: tuple[float, ...], types: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in types:
        if kind == "float":
            out[kind] = list(vector)
        elif kind in ("int8", "uint8"):
            shift = 128 if kind == "uint8" else 0
            out[kind] = [max(-128, min(127, round(v * 1270))) + shift for v in vector]
        elif kind in ("binary", "ubinary"):
            bits = [1 if v > 0 else 0 for v in vector]
            packed = [
                int("".join(map(str, bits[i : i + 8])).ljust(8, "0"), 2) for i in range(0, len(bits), 8)
            ]
            out[kind] = packed if kind == "ubinary" else [b - 256 if b > 127 else b for b in packed]
        else:
            out[kind] = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return out


def _embed_body(n: int, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise reject("invalid request: the body must be a JSON object")
    unknown = sorted(set(body) - _EMBED_FIELDS)
    if unknown:
        raise reject(f"invalid request: unknown field: {unknown[0][:40]!r}")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise reject("invalid request: model must be provided")
    input_type = body.get("input_type")
    if input_type not in _INPUT_TYPES:
        raise reject("invalid request: valid input_type must be provided with the provided model")
    texts, images = body.get("texts"), body.get("images")
    if (texts is None) == (images is None):
        raise reject("invalid request: one of texts or images must be provided")
    items = texts if texts is not None else images
    if not isinstance(items, list) or not items or not all(isinstance(t, str) and t for t in items):
        raise reject("invalid request: texts and images must be non-empty lists of non-empty strings")
    if len(items) > _MAX_TEXTS:
        raise reject(
            f"invalid request: total number of texts must be at most {_MAX_TEXTS} - received {len(items)}"
        )
    if images is not None:
        if "v3" in model and len(images) > 1:
            raise reject("invalid request: embed v3 models take one image per request")
        if not all(i.startswith("data:image/") and ";base64," in i for i in images):
            raise reject("invalid request: images must be data URIs (data:image/...;base64,...)")
    types = body.get("embedding_types") or ["float"]
    if not isinstance(types, list) or not all(t in _EMBEDDING_TYPES for t in types):
        raise reject(f"invalid request: embedding_types must be a list of {', '.join(_EMBEDDING_TYPES)}")
    dims = _dimensions(model)
    size = body.get("output_dimension")
    if size is not None:
        if "v4" not in model or size not in (256, 512, 1024, 1536):
            raise reject(
                "invalid request: output_dimension must be 256, 512, 1024 or 1536 (embed-v4.0 and newer)"
            )
        dims = size
    if body.get("truncate") not in (None, "NONE", "START", "END"):
        raise reject("invalid request: truncate must be one of NONE, START, END")
    check_number(body, "max_tokens", 1, 1e9, integer=True)
    check_number(body, "priority", 0, 1e9, integer=True)
    by_type: dict[str, list[Any]] = {t: [] for t in types}
    for item in items:
        for kind, value in _embedding_types(embedding_vector(item.encode(), dims), types).items():
            by_type[kind].append(value)
    billed = (
        {"input_tokens": sum(max(1, math.ceil(len(t) / 4)) for t in items)}
        if texts is not None
        else {"images": len(items), "image_tokens": 256 * len(items)}
    )
    out: dict[str, Any] = {
        "id": f"cohere-sim-{n}",
        "embeddings": by_type,
        "response_type": "embeddings_by_type",
    }
    if texts is not None:
        out["texts"] = texts
    out["meta"] = {"api_version": {"version": "2"}, "billed_units": billed}
    return out


def _score(query: set[str], doc: str, seed: str) -> float:
    words = set(_WORD.findall(doc.lower()))
    overlap = len(query & words) / len(query) if query else 0.0
    jitter = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big") / 2**32
    return round(0.05 + 0.9 * overlap + 0.04 * jitter, 6)


def _rerank_body(n: int, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise reject("invalid request: the body must be a JSON object")
    unknown = sorted(set(body) - _RERANK_FIELDS)
    if unknown:
        raise reject(f"invalid request: unknown field: {unknown[0][:40]!r}")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise reject("invalid request: model must be provided")
    query = body.get("query")
    if not isinstance(query, str) or not query.strip():
        raise reject("invalid request: query must not be empty or be only whitespace")
    docs = body.get("documents")
    if not isinstance(docs, list) or not docs:
        raise reject("invalid request: list of documents must not be empty")
    if not all(isinstance(d, str) for d in docs):
        raise reject("invalid request: documents must be a list of strings")
    check_number(body, "top_n", 1, 1e9, integer=True)
    check_number(body, "max_tokens_per_doc", 1, 1e9, integer=True)
    check_number(body, "priority", 0, 1e9, integer=True)
    words = set(_WORD.findall(query.lower()))
    scored = [{"index": i, "relevance_score": _score(words, d, f"{query}\0{d}")} for i, d in enumerate(docs)]
    scored.sort(key=lambda r: (-r["relevance_score"], r["index"]))
    top_n = body.get("top_n")
    meta = {"api_version": {"version": "2"}, "billed_units": {"search_units": math.ceil(len(docs) / 100)}}
    return {"id": f"cohere-sim-{n}", "results": scored[:top_n] if top_n else scored, "meta": meta}


def add_routes(app: web.Application, routes: ProviderRoutes) -> None:
    """Add Cohere's v2 routes to ``app``."""
    wire = CohereWire(routes)

    async def chat(request: web.Request) -> web.StreamResponse:
        async def produce(
            n: int, body: Any, headers: dict[str, str], fault: Fault | None
        ) -> web.StreamResponse:
            return await _chat(request, routes, n, body, headers, fault)

        return await routes.serve(request, "other", None, produce, wire=wire)

    def unary(make: Any, prefix: str) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            async def produce(
                n: int, body: Any, headers: dict[str, str], fault: Fault | None
            ) -> web.StreamResponse:
                data = json.dumps(make(n, body), separators=(",", ":")).encode()
                return await send_body(request, data, headers, fault, f"{prefix}-{n}")

            return await routes.serve(request, "other", None, produce, wire=wire, stream=False)

        return handle

    app.router.add_post("/v2/chat", chat)
    app.router.add_post("/v2/embed", unary(_embed_body, "cohere-embed-sim"))
    app.router.add_post("/v2/rerank", unary(_rerank_body, "cohere-rerank-sim"))
