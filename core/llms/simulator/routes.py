"""The provider routes: OpenAI and Azure OpenAI chat completions and model listing.

Every request to a non-control route is recorded. Provider routes (chat completions, models)
take one fault each from the queue, then check auth (and Azure's ``api-version``), validate the
body, generate the answer and write it in the route's wire dialect.
"""

from __future__ import annotations

import asyncio
import collections
import hmac
import itertools
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from .faults import Fault, FaultQueue
from .generation import SchemaError, generate_answer
from .openai_request import parse_chat_request, unparseable_body
from .openai_wire import (
    Rejection,
    WireContext,
    azure_content_filter_body,
    azure_error,
    completion_body,
    error_envelope,
    status_error_body,
    stream_events,
)
from .responder import drop_connection, send_body, send_json, send_stream

__all__ = ["MODELS", "ProviderRoutes", "RecordedRequest"]

log = logging.getLogger("core.llms.simulator")

Family = Literal["openai", "azure"]

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
#: a header whose lower-cased name contains one of these carries a credential (api-key,
#: authorization, x-amz-security-token, cookie, x-session-token ...): its value is never shown.
_SECRET_WORDS = ("auth", "key", "token", "secret", "signature", "credential", "password", "cookie", "session")
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


def _is_secret(header: str) -> bool:
    return any(word in header for word in _SECRET_WORDS)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the simulator received it. ``headers`` has lower-case names; ``json`` is the
    parsed body (None when empty or not JSON). The repr hides credential headers."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any

    def redacted_headers(self) -> dict[str, str]:
        """``headers`` with credential values replaced by ``"<redacted>"``."""
        return {k: ("<redacted>" if _is_secret(k) else v) for k, v in self.headers.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with credentials redacted (used by ``GET /_sim/requests``)."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.redacted_headers(),
            "json": self.json,
        }

    def __repr__(self) -> str:
        return (
            f"RecordedRequest(method={self.method!r}, path={self.path!r}, query={self.query!r}, "
            f"headers={self.redacted_headers()!r}, json={self.json!r})"
        )


class ProviderRoutes:
    """Handlers and shared state of the provider routes (owned by a ``Simulator``)."""

    def __init__(
        self,
        *,
        api_key: str | None,
        context_chars: int,
        echo_words: int,
        chunk_delay: float,
        max_recorded: int | None,
    ) -> None:
        self.faults = FaultQueue()
        self.records: collections.deque[RecordedRequest] = collections.deque(maxlen=max_recorded)
        self.request_count = 0
        self._api_key = api_key
        self._context_chars = context_chars
        self._echo_words = echo_words
        self._chunk_delay = chunk_delay
        self._call_ids = itertools.count(1)

    def add_to(self, app: web.Application) -> None:
        """Register the provider routes (and the JSON 404 catch-all, which must come last)."""
        app.router.add_post("/v1/chat/completions", self.openai_chat)
        app.router.add_get("/v1/models", self.openai_models)
        app.router.add_get("/v1/models/{model}", self.openai_models)
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", self.azure_chat)
        app.router.add_post("/openai/v1/chat/completions", self.azure_v1_chat)
        app.router.add_get("/openai/v1/models", self.azure_v1_models)

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
        """``POST /v1/chat/completions``."""
        return await self._chat(request, "openai", None)

    async def azure_chat(self, request: web.Request) -> web.StreamResponse:
        """``POST /openai/deployments/{deployment}/chat/completions?api-version=...``."""
        return await self._chat(request, "azure", request.match_info["deployment"])

    async def azure_v1_chat(self, request: web.Request) -> web.StreamResponse:
        """``POST /openai/v1/chat/completions`` (Azure's v1 API: model in the body, no api-version)."""
        return await self._chat(request, "azure", None)

    async def openai_models(self, request: web.Request) -> web.StreamResponse:
        """``GET /v1/models`` and ``GET /v1/models/{model}``."""
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

    async def _with_fault(
        self,
        request: web.Request,
        n: int,
        family: Family,
        deployment: str | None,
        stream: bool,
        respond: Callable[[dict[str, str], Fault | None], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        fault = self.faults.next()
        headers = self._headers(n, family, deployment)
        if fault is None:
            return await respond(headers, None)
        log.debug("simulator: request %d gets fault %r", n, fault)
        headers.update(fault.response_headers())
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop is not None and (fault.drop == "before_headers" or not stream):
            return drop_connection(request, reset=fault.reset)
        if fault.replaces_response:
            body: Any = fault.body if fault.body is not None else status_error_body(fault.status or 500)
            return send_json(fault.status or 200, body, headers)
        return await respond(headers, fault)

    async def _chat(self, request: web.Request, family: Family, deployment: str | None) -> web.StreamResponse:
        n, body = await self._begin(request)
        stream = isinstance(body, dict) and body.get("stream") is True

        async def respond(headers: dict[str, str], fault: Fault | None) -> web.StreamResponse:
            try:
                self._check_auth(request, family)
                if family == "azure" and deployment is not None:
                    _check_api_version(request)
                return await self._answer(request, n, body, family, deployment, headers, fault)
            except Rejection as rejection:
                return send_json(rejection.status, rejection.body, {**headers, **rejection.headers})

        return await self._with_fault(request, n, family, deployment, stream, respond)

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
        try:
            answer = generate_answer(req, echo_words=self._echo_words, next_call_id=self._next_call_id)
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
            )
        data = json.dumps(completion_body(answer, ctx), separators=(",", ":"), ensure_ascii=False).encode()
        return await send_body(request, data, headers, fault, ctx.completion_id)

    async def _models(self, request: web.Request, family: Family) -> web.StreamResponse:
        n, _ = await self._begin(request)

        async def respond(headers: dict[str, str], fault: Fault | None) -> web.StreamResponse:
            try:
                self._check_auth(request, family)
            except Rejection as rejection:
                return send_json(rejection.status, rejection.body, headers)
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
        if not given:
            return False
        return self._api_key is None or hmac.compare_digest(given.encode(), self._api_key.encode())

    def _check_auth(self, request: web.Request, family: Family) -> None:
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" else ""
        if family == "openai":
            if not bearer:
                raise Rejection(401, error_envelope(_MISSING_KEY))
            if not self._key_ok(bearer):
                raise Rejection(401, status_error_body(401))
            return
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


def _request_id(n: int) -> str:
    return f"req_sim_{n:06d}"


def _check_api_version(request: web.Request) -> None:
    version = request.query.get("api-version")
    if not version:
        raise Rejection(400, azure_error("BadRequest", "Missing required query parameter 'api-version'."))
    if not _API_VERSION.match(version):
        raise Rejection(400, azure_error("BadRequest", "API version not supported"))
