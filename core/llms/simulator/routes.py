"""The provider routes: OpenAI, OpenAI-compatible hosts and Azure OpenAI chat completions and
model listing.

Every request to a non-control route is recorded. Provider routes (chat completions, models)
take one fault each from the queue, then check auth (and Azure's ``api-version``), validate the
body, generate the answer and write it in the route's wire dialect.

Route families: "azure" (``/openai/deployments/{d}/...``, and ``/openai/v1/...`` unless the
simulator plays a host) speaks Azure OpenAI with Azure's auth; "openai" (``/v1/...``, and any
``/<prefix>/chat/completions`` / ``/<prefix>/models``, the OpenAI-compatible hosts' base URLs)
speaks OpenAI's wire shaped by the simulator's :class:`~.hosts.HostFlavor`, with its
:class:`~.hosts.HostAuth`.
"""

from __future__ import annotations

import asyncio
import collections
import importlib
import itertools
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

from aiohttp import web

from .faults import Fault, FaultQueue
from .generation import SchemaError, generate_answer
from .hosts import OPENAI_FLAVOR, HostAuth, HostFlavor
from .openai_request import parse_chat_request, unparseable_body
from .openai_wire import (
    Rejection,
    WireContext,
    azure_content_filter_body,
    azure_error,
    completion_body,
    error_envelope,
    host_error_body,
    status_error_body,
    stream_events,
)
from .records import RecordedRequest
from .responder import drop_connection, fault_error_body, send_body, send_json, send_stream

__all__ = ["MODELS", "NOT_JSON", "Family", "Produce", "ProviderRoutes", "ProviderWire", "RecordedRequest"]

log = logging.getLogger("core.llms.simulator")

#: the route family: OpenAI-shaped, Azure, or another provider's wire ("other", with a ProviderWire).
Family = Literal["openai", "azure", "other"]

MODELS = (
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "o1",
    "o3",
    "o3-mini",
    "o4-mini",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
)
_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
_MISSING_HEADER = "You didn't provide an API key. Send it in the '{header}' header."
_MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using "
    "Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from "
    "https://platform.openai.com/account/api-keys."
)
_AZURE_BAD_KEY = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
    "for an active subscription and use a correct regional API endpoint for your resource."
)
_AZURE_BAD_TOKEN = (
    "Unauthorized. Access token is missing, invalid, audience is incorrect "
    "(https://cognitiveservices.azure.com), or have expired."
)
_NOT_JSON = object()
#: what ``serve`` hands ``produce`` as the body of a request that is not JSON.
NOT_JSON = _NOT_JSON
#: ``produce(n, body, headers, fault)`` of :meth:`ProviderRoutes.serve`.
Produce = Callable[[int, Any, dict[str, str], "Fault | None"], Awaitable[web.StreamResponse]]
#: modules (in this package) whose ``add_routes(app, routes)`` adds the routes of the
#: non-chat endpoints; each uses :meth:`ProviderRoutes.serve`.
_MEDIA_ROUTE_MODULES = (
    "images_routes",
    "audio_routes",
    "video_routes",
    "embeddings_routes",
    "responses_routes",
    "bedrock_routes",
    "anthropic_routes",
    "gemini_routes",
    "gemini_media_routes",
    "cohere_routes",
    "vertex_anthropic_routes",
    "batch_openai_routes",
    "batch_vertex_routes",
    "batch_bedrock_routes",
    "batch_anthropic_routes",
)


class ProviderWire(Protocol):
    """What a non-OpenAI provider's routes give :meth:`ProviderRoutes.serve`: its auth check,
    its response headers and its error bodies (the fault scripting and recording stay shared)."""

    def check_auth(self, request: web.Request) -> None:
        """Raise :class:`Rejection` (a 401/403 in the provider's shape) unless authorised."""
        ...

    def headers(self, n: int) -> dict[str, str]:
        """The response headers of request number ``n`` (its request id …)."""
        ...

    def rejection_response(self, rejection: Rejection, headers: dict[str, str]) -> web.StreamResponse:
        """The provider's error response for ``rejection`` (its status, body and headers)."""
        ...

    def fault_response(self, fault: Fault, headers: dict[str, str]) -> web.StreamResponse:
        """The provider's error response for a scripted error status (``Fault(status=...)``)."""
        ...


class ProviderRoutes:
    """Handlers and shared state of the provider routes (owned by a ``Simulator``)."""

    def __init__(
        self,
        *,
        auth: HostAuth,
        flavor: HostFlavor,
        context_chars: int,
        echo_words: int,
        chunk_delay: float,
        max_recorded: int | None,
    ) -> None:
        self.faults = FaultQueue()
        self.records: collections.deque[RecordedRequest] = collections.deque(maxlen=max_recorded)
        self.request_count = 0
        self._auth = auth
        self._flavor = flavor
        self._secret_headers = frozenset() if auth.header is None else frozenset({auth.header.lower()})
        #: Azure's v1 path ``/openai/v1`` is also Groq's base URL: a simulator playing a host (a
        #: flavor or an auth header of its own) serves it as that host.
        self.azure_v1 = flavor == OPENAI_FLAVOR and auth.is_default
        self._context_chars = context_chars
        self._echo_words = echo_words
        self._chunk_delay = chunk_delay
        self._call_ids = itertools.count(1)

    def add_to(self, app: web.Application) -> None:
        """Register the provider routes; the caller adds the JSON 404 catch-all after them.

        aiohttp tries the most specific path first (exact paths before the ``{prefix}`` patterns,
        which sit at the root with the catch-all) and, among patterns at one level, registration
        order: the any-prefix host routes must be added before the catch-all.
        """
        app.router.add_post("/v1/chat/completions", self.openai_chat)
        app.router.add_get("/v1/models", self.openai_models)
        app.router.add_get("/v1/models/{model}", self.openai_models)
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", self.azure_chat)
        if self.azure_v1:
            app.router.add_post("/openai/v1/chat/completions", self.azure_v1_chat)
            app.router.add_get("/openai/v1/models", self.azure_v1_models)
        app.router.add_post("/chat/completions", self.openai_chat)
        app.router.add_post("/{prefix:.+}/chat/completions", self.openai_chat)
        app.router.add_get("/models", self.openai_models)
        app.router.add_get("/{prefix:.+}/models", self.openai_models)
        for module in _MEDIA_ROUTE_MODULES:
            importlib.import_module(f"{__package__}.{module}").add_routes(app, self)

    async def not_found(self, request: web.Request) -> web.StreamResponse:
        """OpenAI's 404 for an unknown URL (recorded, no fault consumed)."""
        n, _ = await self._begin(request)
        body = error_envelope(f"Invalid URL ({request.method} {request.path})")
        return send_json(404, body, {"x-request-id": _request_id(n)})

    def reset(self) -> None:
        """Forget faults and recorded requests."""
        self.faults.clear()
        self.records.clear()

    # ------------------------------------------------------------------ handlers

    async def openai_chat(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/chat/completions`` and ``POST /<any prefix>/chat/completions``."""
        return await self._chat(request, "openai", None)

    async def azure_chat(self, request: web.Request) -> web.StreamResponse:
        """``POST /openai/deployments/{deployment}/chat/completions?api-version=...``."""
        return await self._chat(request, "azure", request.match_info["deployment"])

    async def azure_v1_chat(self, request: web.Request) -> web.StreamResponse:
        """``POST /openai/v1/chat/completions`` (Azure's v1 API: model in the body, no api-version)."""
        return await self._chat(request, "azure", None)

    async def openai_models(self, request: web.Request) -> web.StreamResponse:
        """``GET /v1/models``, ``GET /v1/models/{model}`` and ``GET /<any prefix>/models``."""
        return await self._models(request, "openai")

    async def azure_v1_models(self, request: web.Request) -> web.StreamResponse:
        """``GET /openai/v1/models``."""
        return await self._models(request, "azure")

    # ------------------------------------------------------------------ pipeline

    async def _begin(self, request: web.Request) -> tuple[int, Any]:
        """Count and record the request; return its number and parsed JSON body (or a marker)."""
        self.request_count += 1
        n = self.request_count
        raw = await request.read()
        parsed: Any = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = _NOT_JSON
        self.records.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers={k.lower(): v for k, v in request.headers.items()},
                json=None if parsed is _NOT_JSON else parsed,
                secret_headers=self._secret_headers,
            )
        )
        return n, parsed

    @staticmethod
    def _headers(n: int, family: Family, deployment: str | None) -> dict[str, str]:
        headers = {"x-request-id": _request_id(n)}
        if family == "azure":
            headers["apim-request-id"] = f"00000000-0000-4000-8000-{n:012d}"
            headers["x-ms-region"] = "Simulated"
            if deployment is not None:
                headers["x-ms-deployment-name"] = deployment
        else:
            headers["openai-version"] = "2020-10-01"
            headers["openai-processing-ms"] = "1"
        return headers

    def _flavor_of(self, family: Family) -> HostFlavor:
        return self._flavor if family == "openai" else OPENAI_FLAVOR

    async def _with_fault(
        self,
        request: web.Request,
        n: int,
        family: Family,
        deployment: str | None,
        stream: bool,
        respond: Callable[[dict[str, str], Fault | None], Awaitable[web.StreamResponse]],
        wire: ProviderWire | None = None,
    ) -> web.StreamResponse:
        fault = self.faults.next()
        headers = self._headers(n, family, deployment) if wire is None else wire.headers(n)
        if fault is None:
            return await respond(headers, None)
        log.debug("simulator: request %d gets fault %r", n, fault)
        headers.update(fault.response_headers())
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop is not None and (fault.drop == "before_headers" or not stream):
            return drop_connection(request, reset=fault.reset)
        if fault.replaces_response:
            body: Any = fault.body
            if body is None:
                if wire is not None:
                    return wire.fault_response(fault, headers)
                body = fault_error_body(fault, self._flavor_of(family))
            return send_json(fault.status or 200, body, headers)
        return await respond(headers, fault)

    async def _chat(self, request: web.Request, family: Family, deployment: str | None) -> web.StreamResponse:
        async def produce(
            n: int, body: Any, headers: dict[str, str], fault: Fault | None
        ) -> web.StreamResponse:
            return await self._answer(request, n, body, family, deployment, headers, fault)

        return await self.serve(request, family, deployment, produce)

    async def serve(
        self,
        request: web.Request,
        family: Family,
        deployment: str | None,
        produce: Produce,
        *,
        check_api_version: bool = True,
        stream: bool | None = None,
        wire: ProviderWire | None = None,
    ) -> web.StreamResponse:
        """The pipeline of a provider route, for the route modules too: count and record the
        request, take a fault, check auth (and, for an Azure deployment route, ``api-version``),
        then ``produce(n, body, headers, fault)``; a :class:`Rejection` becomes the provider's
        error. ``body`` is the parsed JSON body (``NOT_JSON`` when it is not JSON: a multipart
        upload is read again with ``await request.read()``). ``wire``: another provider's
        auth check, response headers and error bodies (Anthropic, Bedrock, Gemini, Cohere …;
        ``family`` is then only a label). ``stream``: whether the answer is
        streamed (a ``drop`` fault past the headers is then left to ``produce``); None: when the
        body says ``"stream": true``."""
        n, body = await self._begin(request)
        if stream is None:
            stream = isinstance(body, dict) and body.get("stream") is True

        async def respond(headers: dict[str, str], fault: Fault | None) -> web.StreamResponse:
            try:
                if wire is not None:
                    wire.check_auth(request)
                else:
                    self._check_auth(request, family)
                    if family == "azure" and deployment is not None and check_api_version:
                        _check_api_version(request)
                return await produce(n, body, headers, fault)
            except Rejection as rejection:
                if wire is not None:
                    return wire.rejection_response(rejection, headers)
                error = host_error_body(rejection.body, rejection.status, self._flavor_of(family))
                return send_json(rejection.status, error, {**headers, **rejection.headers})

        return await self._with_fault(request, n, family, deployment, stream, respond, wire)

    async def _answer(
        self,
        request: web.Request,
        n: int,
        body: Any,
        family: Family,
        deployment: str | None,
        headers: dict[str, str],
        fault: Fault | None,
    ) -> web.StreamResponse:
        if body is _NOT_JSON:
            raise unparseable_body()
        req = parse_chat_request(body, model_override=deployment, context_chars=self._context_chars)
        if req.content_filter and family == "azure":
            raise Rejection(400, azure_content_filter_body(), {"x-ms-rai-invoked": "true"})
        flavor = self._flavor_of(family)
        reasoning = flavor.reasoning is not None and (flavor.always_reason or req.reasoning_marker)
        try:
            answer = generate_answer(
                req, echo_words=self._echo_words, next_call_id=self._next_call_id, reasoning=reasoning
            )
        except SchemaError as exc:
            raise Rejection(
                400,
                error_envelope(f"Invalid schema: {exc}", param="response_format", code="invalid_json_schema"),
            ) from None
        ctx = WireContext(
            completion_id=f"chatcmpl-sim-{n}",
            model=req.model,
            created=int(time.time()),
            azure=family == "azure",
            n=req.n,
            prompt_tokens=req.prompt_tokens,
            flavor=flavor,
        )
        if req.stream:
            events = stream_events(answer, ctx, include_usage=req.include_usage)
            return await send_stream(
                request,
                events,
                headers,
                fault,
                completion_id=ctx.completion_id,
                chunk_delay=self._chunk_delay,
                flavor=flavor,
            )
        data = json.dumps(completion_body(answer, ctx), separators=(",", ":"), ensure_ascii=False).encode()
        return await send_body(request, data, headers, fault, ctx.completion_id, flavor)

    async def _models(self, request: web.Request, family: Family) -> web.StreamResponse:
        n, _ = await self._begin(request)

        async def respond(headers: dict[str, str], fault: Fault | None) -> web.StreamResponse:
            try:
                self._check_auth(request, family)
            except Rejection as rejection:
                error = host_error_body(rejection.body, rejection.status, self._flavor_of(family))
                return send_json(rejection.status, error, headers)
            wanted = request.match_info.get("model")
            entries = [
                {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "system"} for m in MODELS
            ]
            if wanted is None:
                return send_json(200, {"object": "list", "data": entries}, headers)
            if wanted in MODELS:
                return send_json(
                    200,
                    {"id": wanted, "object": "model", "created": 1_700_000_000, "owned_by": "system"},
                    headers,
                )
            body = error_envelope(
                f"The model '{wanted}' does not exist", param="model", code="model_not_found"
            )
            return send_json(404, body, headers)

        return await self._with_fault(request, n, family, None, False, respond)

    def _next_call_id(self) -> str:
        return f"call_sim_{next(self._call_ids)}"

    # ------------------------------------------------------------------ auth

    def _key_ok(self, given: str) -> bool:
        return self._auth.key_ok(given)

    def _check_auth(self, request: web.Request, family: Family) -> None:
        if family == "openai":
            self._check_host_auth(request)
            return
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" else ""
        api_key = request.headers.get("api-key")
        if api_key is not None:
            if not self._key_ok(api_key.strip()):
                raise Rejection(401, azure_error("401", _AZURE_BAD_KEY))
            return
        if bearer:
            if not self._key_ok(bearer):
                raise Rejection(401, azure_error("401", _AZURE_BAD_TOKEN))
            return
        raise Rejection(401, azure_error("401", _AZURE_BAD_KEY))

    def _check_host_auth(self, request: web.Request) -> None:
        auth = self._auth
        if auth.header is None:
            return  # a keyless server: whatever the request carries
        given = auth.key_from({k.lower(): v for k, v in request.headers.items()})
        if not given:
            message = _MISSING_KEY if auth.bearer else _MISSING_HEADER.format(header=auth.header)
            raise Rejection(401, error_envelope(message))
        if not auth.key_ok(given):
            raise Rejection(401, status_error_body(401))


def _request_id(n: int) -> str:
    return f"req_sim_{n:06d}"


def _check_api_version(request: web.Request) -> None:
    version = request.query.get("api-version")
    if not version:
        raise Rejection(400, azure_error("BadRequest", "Missing required query parameter 'api-version'."))
    if not _API_VERSION.match(version):
        raise Rejection(400, azure_error("BadRequest", "API version not supported"))
