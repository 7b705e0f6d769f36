"""The AWS Bedrock runtime routes (and a path-style S3 route for their outputs): registered by
:meth:`.routes.ProviderRoutes.add_to`.

::

    POST /model/{modelId}/converse                     Converse (JSON)
    POST /model/{modelId}/converse-stream              ConverseStream (application/vnd.amazon.eventstream)
    POST /model/{modelId}/invoke                       InvokeModel: Claude (Anthropic Messages body),
                                                       Titan / Cohere embeddings, Nova Canvas / Titan images
    POST /model/{modelId}/invoke-with-response-stream  InvokeModelWithResponseStream (Claude ``chunk``s)
    POST /async-invoke                                 StartAsyncInvoke (Nova Reel)
    GET  /async-invoke/{invocationArn}                 GetAsyncInvoke (moves the job on by one poll)
    GET  /async-invoke                                 ListAsyncInvokes
    GET  /s3/{bucket}/{key}                            an object a job wrote (HEAD too; ``Range``;
                                                       ``response-content-type``)
    PUT  /s3/{bucket}/{key}                            PutObject (a batch's input)
    GET  /s3/{bucket}?list-type=2&prefix=...           ListObjectsV2

``modelId`` is URL-quoted in the path: a base model id (``amazon.nova-micro-v1:0``), a
cross-region inference profile (``us.`` / ``eu.`` / ``apac.`` / ``global.`` …) or an ARN. Point a
Bedrock runtime client at ``endpoint_url=sim.url`` with the simulator's region
(``Simulator(aws_region=...)``, default ``us-east-1``) and any credentials (or a Bedrock API key as
``Authorization: Bearer``); point an S3 client at ``endpoint_url=f"{sim.url}/s3"`` with path-style
addressing. See :mod:`.bedrock_wire` (auth, errors), :mod:`.bedrock_request` (validation),
:mod:`.bedrock_answers` (bodies and events), :mod:`.bedrock_media` (embeddings, images, video
jobs) and :mod:`.bedrock_stream` (faults on streams).

Every request goes through :meth:`~.routes.ProviderRoutes.serve`: recorded, one fault taken,
auth checked, then answered. ``Fault(status=...)`` answers Bedrock's error for the status (429
``ThrottlingException``, 503 ``ServiceUnavailableException``, 500 ``InternalServerException``,
408 ``ModelTimeoutException`` …; ``error_code="ModelNotReadyException"`` names another type);
on the S3 route, S3's XML errors.
"""

from __future__ import annotations

import collections
import itertools
import re
import time
from collections.abc import Callable
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from aiohttp import web

from .bedrock_answers import (
    Usage,
    anthropic_body,
    anthropic_events,
    apply_stop_sequences,
    converse_body,
    converse_events,
)
from .bedrock_invoke_request import parse_anthropic
from .bedrock_media import (
    S3_STORE,
    AsyncJobs,
    cohere_embeddings,
    error_for_unknown_invoke,
    images_body,
    titan_embeddings,
)
from .bedrock_request import BedrockChat, parse_converse
from .bedrock_stream import send_eventstream, send_json_body
from .bedrock_wire import (
    AWS_REGION,
    DEFAULT_REGION,
    BedrockModel,
    BedrockWire,
    S3Wire,
    resolve_model,
    s3_error,
    validation_error,
)
from .eventstream_encoder import broken_event_message
from .generation import Answer, SchemaError, generate_answer
from .responder import send_bytes

if TYPE_CHECKING:
    from .faults import Fault
    from .routes import ProviderRoutes

__all__ = ["add_routes"]

_NOT_JSON = "Malformed input request, please reformat your input and try again."
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
#: cached prompt prefixes remembered (the least recently used are forgotten first).
_MAX_CACHED = 10_000


class _Chats:
    """What the chat routes of one simulator share: the generator's settings, tool-use ids and the
    prompt-cache prefixes seen so far."""

    def __init__(self, routes: ProviderRoutes) -> None:
        self._routes = routes
        self._ids = itertools.count(1)
        self._cached: collections.OrderedDict[str, None] = collections.OrderedDict()

    def answer(self, req: BedrockChat, id_format: str) -> tuple[Answer, Usage, str | None]:
        """The answer to ``req``, its usage and the stop sequence that cut it (if any)."""

        def next_id() -> str:
            return id_format.format(next(self._ids))

        try:
            answer = generate_answer(
                req.chat, echo_words=self._routes._echo_words, next_call_id=next_id, reasoning=req.reasoning
            )
        except SchemaError as exc:
            raise validation_error(f"The provided JSON schema is invalid: {exc}") from None
        stop = apply_stop_sequences(answer, req.stop_sequences)
        read = write = 0
        if req.cache_key is not None:
            if req.cache_key in self._cached:
                read = req.cache_tokens
                self._cached.move_to_end(req.cache_key)
            else:
                write = req.cache_tokens
                self._cached[req.cache_key] = None
                while len(self._cached) > _MAX_CACHED:
                    self._cached.popitem(last=False)
        usage = Usage(
            input=max(0, req.chat.prompt_tokens - req.cache_tokens),
            output=answer.completion_tokens,
            cache_read=read,
            cache_write=write,
        )
        return answer, usage, stop


def _latency(started: float) -> int:
    return max(1, int((time.monotonic() - started) * 1000))


def _model(request: web.Request) -> BedrockModel:
    return resolve_model(request.match_info["model_id"])


def _token_headers(headers: dict[str, str], usage_in: int, usage_out: int, latency: int) -> dict[str, str]:
    return {
        **headers,
        "X-Amzn-Bedrock-Input-Token-Count": str(usage_in),
        "X-Amzn-Bedrock-Output-Token-Count": str(usage_out),
        "X-Amzn-Bedrock-Invocation-Latency": str(latency),
    }


def add_routes(app: web.Application, routes: ProviderRoutes) -> None:
    """Add the Bedrock runtime and S3 routes to ``app`` (each simulator keeps its own jobs, objects
    and cache prefixes)."""
    region = app.get(AWS_REGION, DEFAULT_REGION)
    auth = routes._auth
    wire = BedrockWire(region, auth)
    s3_wire = S3Wire(region, auth)
    chats = _Chats(routes)
    jobs = AsyncJobs(region)
    app[S3_STORE] = jobs.store

    def handler(produce: Callable[..., Any], *, stream: bool, s3: bool = False) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            async def run(
                n: int, body: Any, headers: dict[str, str], fault: Fault | None
            ) -> web.StreamResponse:
                result: web.StreamResponse = await produce(request, n, body, headers, fault)
                return result

            return await routes.serve(
                request, "other", None, run, wire=s3_wire if s3 else wire, stream=stream
            )

        return handle

    # ------------------------------------------------------------------ Converse

    async def converse(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None, *, stream: bool
    ) -> web.StreamResponse:
        started = time.monotonic()
        model = _model(request)
        if not isinstance(body, dict):
            raise validation_error(_NOT_JSON)
        req = parse_converse(body, model, stream=stream, context_chars=routes._context_chars)
        answer, usage, _ = chats.answer(req, "tooluse_sim{:014d}")
        latency = _latency(started)
        if not stream:
            return await send_json_body(request, converse_body(answer, req, usage, latency), headers, fault)
        events = converse_events(answer, req, usage, latency)
        broken = broken_event_message("contentBlockDelta", '{"contentBlockIndex":0,"delta":{"text":"broken')
        return await send_eventstream(
            request, events, headers, fault, broken=broken, chunk_delay=routes._chunk_delay
        )

    async def converse_plain(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        return await converse(request, n, body, headers, fault, stream=False)

    async def converse_stream(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        return await converse(request, n, body, headers, fault, stream=True)

    # ------------------------------------------------------------------ InvokeModel

    async def invoke(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None, *, stream: bool
    ) -> web.StreamResponse:
        started = time.monotonic()
        model = _model(request)
        if not isinstance(body, dict):
            raise validation_error(_NOT_JSON)
        if model.kind == "chat" and model.claude:
            return await _claude(request, n, body, headers, fault, model, stream=stream, started=started)
        if model.kind == "video":
            raise validation_error(
                f"The model {model.model_id} is invoked asynchronously: use StartAsyncInvoke (POST "
                "/async-invoke)."
            )
        if model.kind not in ("titan-embed", "cohere-embed", "image"):
            raise error_for_unknown_invoke(model)
        if stream:
            raise validation_error("The model is unsupported for streaming.")
        answer: dict[str, Any]
        tokens = 0
        if model.kind == "titan-embed":
            answer, tokens = titan_embeddings(body, model)
        elif model.kind == "cohere-embed":
            answer, tokens = cohere_embeddings(body, model, n)
        else:
            answer = images_body(body, model)
        headers = _token_headers(headers, tokens, 0, _latency(started))
        return await send_json_body(request, answer, headers, fault)

    async def _claude(
        request: web.Request,
        n: int,
        body: dict[str, Any],
        headers: dict[str, str],
        fault: Fault | None,
        model: BedrockModel,
        *,
        stream: bool,
        started: float,
    ) -> web.StreamResponse:
        req = parse_anthropic(body, model, stream=stream, context_chars=routes._context_chars)
        answer, usage, stop = chats.answer(req, "toolu_bdrk_sim{:012d}")
        message_id = f"msg_bdrk_sim{n:012d}"
        latency = _latency(started)
        if not stream:
            headers = _token_headers(headers, usage.input, usage.output, latency)
            return await send_json_body(
                request, anthropic_body(answer, req, usage, message_id, stop), headers, fault
            )
        events = anthropic_events(answer, req, usage, message_id, stop, latency)
        broken = broken_event_message("chunk", '{"bytes":"eyJ0eXBlIjoiY29udGVudF9')
        headers = {**headers, "X-Amzn-Bedrock-Content-Type": "application/json"}
        return await send_eventstream(
            request, events, headers, fault, broken=broken, chunk_delay=routes._chunk_delay
        )

    async def invoke_plain(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        return await invoke(request, n, body, headers, fault, stream=False)

    async def invoke_stream(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        return await invoke(request, n, body, headers, fault, stream=True)

    # ------------------------------------------------------------------ async invocations

    async def start_async(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        job = jobs.start(body)
        return await send_json_body(request, {"invocationArn": job.arn}, headers, fault)

    async def get_async(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        job = jobs.poll(request.match_info["arn"])
        return await send_json_body(request, job.summary(), headers, fault)

    async def list_async(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        return await send_json_body(request, jobs.listing(request.query), headers, fault)

    # ------------------------------------------------------------------ S3

    async def get_object(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        bucket, key = request.match_info["bucket"], request.match_info["key"]
        obj = jobs.store.get(bucket, key)
        if obj is None:
            if not jobs.store.has_bucket(bucket):
                raise s3_error(404, "NoSuchBucket", "The specified bucket does not exist", BucketName=bucket)
            raise s3_error(404, "NoSuchKey", "The specified key does not exist.", Key=key)
        headers = {
            **headers,
            "ETag": obj.etag,
            "Last-Modified": format_datetime(obj.last_modified, usegmt=True),
            "Accept-Ranges": "bytes",
        }
        data = obj.data
        content_type = request.query.get("response-content-type") or obj.content_type
        wanted = request.headers.get("Range")
        if wanted is not None:
            span = _byte_range(wanted, len(data))
            if span is None:
                raise s3_error(
                    416,
                    "InvalidRange",
                    "The requested range is not satisfiable",
                    RangeRequested=wanted,
                    ActualObjectSize=str(len(data)),
                )
            first, last = span
            headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
            response = web.Response(
                status=206, body=data[first : last + 1], headers={**headers, "Content-Type": content_type}
            )
            return response
        return await send_bytes(request, data, content_type, headers, fault)

    async def put_object(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        data = await request.read()
        kind = request.headers.get("Content-Type") or "binary/octet-stream"
        jobs.store.put(request.match_info["bucket"], request.match_info["key"], data, kind)
        etag = jobs.store.get(request.match_info["bucket"], request.match_info["key"])
        return web.Response(status=200, headers={**headers, "ETag": etag.etag if etag else '""'})

    async def list_objects(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        bucket = request.match_info["bucket"]
        if not jobs.store.has_bucket(bucket):
            raise s3_error(404, "NoSuchBucket", "The specified bucket does not exist", BucketName=bucket)
        prefix = request.query.get("prefix", "")
        raw_max = request.query.get("max-keys", "1000")
        max_keys = int(raw_max) if raw_max.isdigit() else 1000
        found = jobs.store.keys(bucket, prefix)
        shown = found[:max_keys]
        contents = "".join(
            f"<Contents><Key>{escape(key)}</Key>"
            f"<LastModified>{obj.last_modified.strftime('%Y-%m-%dT%H:%M:%S.000Z')}</LastModified>"
            f"<ETag>{escape(obj.etag)}</ETag><Size>{len(obj.data)}</Size><StorageClass>STANDARD</StorageClass>"
            "</Contents>"
            for key, obj in shown
        )
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult '
            f'xmlns="{_S3_NS}"><Name>{escape(bucket)}</Name>'
            f"<Prefix>{escape(prefix)}</Prefix><KeyCount>{len(shown)}</KeyCount><MaxKeys>{max_keys}</MaxKeys>"
            f"<IsTruncated>{'true' if len(found) > len(shown) else 'false'}</IsTruncated>"
            f"{contents}</ListBucketResult>"
        )
        return await send_bytes(request, xml.encode(), "application/xml", headers, fault)

    # ------------------------------------------------------------------ registration

    app.router.add_post("/model/{model_id:.+}/converse", handler(converse_plain, stream=False))
    app.router.add_post("/model/{model_id:.+}/converse-stream", handler(converse_stream, stream=True))
    app.router.add_post("/model/{model_id:.+}/invoke", handler(invoke_plain, stream=False))
    app.router.add_post(
        "/model/{model_id:.+}/invoke-with-response-stream", handler(invoke_stream, stream=True)
    )
    app.router.add_post("/async-invoke", handler(start_async, stream=False))
    app.router.add_get("/async-invoke", handler(list_async, stream=False))
    app.router.add_get("/async-invoke/{arn:.+}", handler(get_async, stream=False))
    app.router.add_get("/s3/{bucket}", handler(list_objects, stream=False, s3=True))
    app.router.add_get("/s3/{bucket}/{key:.+}", handler(get_object, stream=False, s3=True))
    app.router.add_put("/s3/{bucket}/{key:.+}", handler(put_object, stream=False, s3=True))


def _byte_range(value: str, size: int) -> tuple[int, int] | None:
    """``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` → the first and last byte (None when it cannot
    be satisfied)."""
    match = _RANGE.match(value.strip())
    if match is None or size == 0:
        return None
    start, end = match.groups()
    if not start and not end:
        return None
    if not start:
        count = int(end)
        return (max(0, size - count), size - 1) if count else None
    first = int(start)
    last = min(int(end), size - 1) if end else size - 1
    if first >= size or first > last:
        return None
    return first, last
