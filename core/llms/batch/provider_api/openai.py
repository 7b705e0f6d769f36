"""OpenAI's and Azure OpenAI's Batch API: :class:`OpenAIBatchAPI`.

A batch is a JSONL file of Chat Completions requests, one per line::

    {"custom_id": "<request id>", "method": "POST", "url": "/v1/chat/completions", "body": {...}}

uploaded with ``POST /files`` (``purpose=batch``), then run by ``POST /batches``; ``GET
/batches/{id}`` reports the job (``validating``, ``in_progress``, ``finalizing``, ``completed``,
``failed``, ``expired``, ``cancelling``, ``cancelled``) and, once it ended, the ids of its output
file (the answers) and its error file (the requests that failed), read with ``GET
/files/{id}/content``. Azure OpenAI serves the same API under ``/openai/files`` and
``/openai/batches`` (``?api-version=``, or ``/openai/v1/...`` on its v1 API), its lines naming
``/chat/completions`` and the deployment as their ``model``.

Each request goes through the model's connector (retries, breakers, failover). The upload may
land on any endpoint; everything after it (the job's creation, its polls, its files) is pinned
to that endpoint (a backup knows nothing of the primary's files and jobs), whose display name
the job keeps in ``locations["endpoint"]``. An endpoint serving the model under another id (an
Azure deployment) gets the file with its own id in every line, unless the requests named their
model.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import quote

from ...interfaces.errors import (
    BatchJobFailedError,
    ConfigurationError,
    InvalidInputError,
    LLMError,
    ResponseParsingError,
    ResponseTooLargeError,
    UnsupportedOperationError,
)
from ...interfaces.llm_interfaces import IConnector, WireEvent, WireRequest, WireResponse
from ...providers.base.connector import decode_json, encode_json
from ...providers.base.failover import FailoverConnector
from ...providers.base.multipart import FormField, MultipartForm
from ...providers.base.redact import cut, loggable, redact_with
from ...providers.dialects.openai_chat.errors import error_from_body
from ..types import BatchJob, BatchJobStatus, BatchRequest, BatchResult
from .common import apply_batch_price

if TYPE_CHECKING:
    from ...providers.dialects.openai_chat.model import OpenAIBaseLLM

__all__ = ["MAX_FILE_BYTES", "MAX_REQUESTS", "OpenAIBatchAPI"]

logger = logging.getLogger("core.llms.batch")

#: the most requests one batch file may hold, per provider.
MAX_REQUESTS: Mapping[str, int] = {"openai": 50_000, "azure": 100_000}
#: the largest batch input file (both providers: 200 MB).
MAX_FILE_BYTES = 200 * 1024 * 1024
#: the completion windows the providers accept.
COMPLETION_WINDOWS = ("24h",)
#: a result line longer than this is refused (a chat answer is far smaller).
_MAX_LINE_BYTES = 32 * 1024 * 1024
#: the provider's job status → ours (``cancelling`` is winding down: not finished yet).
_STATUSES: Mapping[str, BatchJobStatus] = {
    "validating": "validating",
    "in_progress": "in_progress",
    "finalizing": "finalizing",
    "cancelling": "finalizing",
    "completed": "completed",
    "failed": "failed",
    "expired": "expired",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}
#: error codes of result lines that say the job, not the request, ended it.
_JOB_LINE_CODES: Mapping[str, str] = {
    "batch_expired": "expired",
    "batch_cancelled": "cancelled",
    "batch_canceled": "cancelled",
    "batch_failed": "failed",
}
_METADATA_PAIRS = 16
_METADATA_KEY = 64
_METADATA_VALUE = 512


class _BatchFile(MultipartForm):
    """The upload of one batch: ``purpose=batch`` and the JSONL file (``file``).

    The lines are serialised once, for the model id ``default``; an endpoint serving the model
    under another id (a backup's Azure deployment) gets a file of its own whose lines name that
    id (made on first use), unless the requests named their model (``fixed``)."""

    __slots__ = ("_bodies", "_default", "_fixed", "_lines", "_url")

    def __init__(
        self,
        bodies: list[tuple[str, dict[str, Any]]],
        lines: list[bytes],
        url: str,
        default: str,
        fixed: bool,
    ) -> None:
        super().__init__(
            [
                FormField("purpose", "batch"),
                FormField("file", b"", filename="batch.jsonl", content_type="application/jsonl"),
            ]
        )
        self._bodies = bodies
        self._lines = lines
        self._url = url
        self._default = default
        self._fixed = fixed

    def __repr__(self) -> str:
        return f"_BatchFile({len(self._lines)} requests)"

    def encode(self, model: str | None = None) -> bytes:
        key = None if self._fixed or model is None or model == self._default else model
        body = self._encoded.get(key)
        if body is None:
            lines = self._lines if key is None else _lines_for(self._bodies, self._url, key)
            body = self._encoded[key] = self._wrap(lines)
        return body

    def _wrap(self, lines: list[bytes]) -> bytes:
        """The form with ``lines`` as the file: the encoding of the form with an empty file, the
        file's bytes put before its closing delimiter."""
        empty = MultipartForm._encode(self, None)
        tail = b"\r\n--" + self.boundary.encode() + b"--\r\n"
        out = bytearray(empty[: len(empty) - len(tail)])
        marker = self.boundary.encode()
        for line in lines:
            if marker in line:  # (a random 32-hex-digit boundary: practically never)
                raise InvalidInputError(
                    "a batch request contains the upload's multipart boundary; submit the batch again"
                )
            out += line
        out += tail
        return bytes(out)


def _line(custom_id: str, url: str, body: dict[str, Any]) -> bytes:
    return encode_json({"custom_id": custom_id, "method": "POST", "url": url, "body": body}) + b"\n"


def _lines_for(bodies: list[tuple[str, dict[str, Any]]], url: str, model: str) -> list[bytes]:
    return [_line(custom_id, url, {**body, "model": model}) for custom_id, body in bodies]


class _Lines:
    """A stream parser (``StreamParser``) turning a file's raw bytes into its non-blank lines."""

    __slots__ = ("_buffer", "_endpoint")

    def __init__(self, endpoint: str, request_id: str | None = None) -> None:
        self._buffer = bytearray()
        self._endpoint = endpoint

    def feed(self, event: WireEvent) -> list[bytes]:
        data = event.raw
        if not data:
            return []
        buffer = self._buffer
        buffer += data
        end = buffer.rfind(b"\n")
        if end < 0:
            if len(buffer) > _MAX_LINE_BYTES:
                raise ResponseTooLargeError(
                    f"a batch result line from {self._endpoint} is longer than {_MAX_LINE_BYTES:,} bytes",
                    endpoint=self._endpoint,
                )
            return []
        complete = bytes(buffer[:end])
        del buffer[: end + 1]
        return [line for line in complete.split(b"\n") if line.strip()]

    def close(self) -> list[bytes]:
        rest = bytes(self._buffer).strip()
        self._buffer.clear()
        return [rest] if rest else []


def _shown(value: Any) -> str:
    return repr(value)[:60] if isinstance(value, str | int | float) else f"<{type(value).__name__}>"


class OpenAIBatchAPI:
    """The Batch API of an OpenAI or Azure OpenAI model (implements
    :class:`~core.llms.batch.types.IBatchAPI`): half-price Chat Completions within 24 hours.

    ``model``: a model made by ``create_llm("openai/...")`` or ``create_llm("azure/...")``; its
    endpoints, credentials, retry policy and prices are used, and it stays the caller's (closing
    this closes nothing). ``completion_window``: ``"24h"`` (the only window the providers offer).
    ``metadata``: up to 16 string pairs stored on each job.

    Each request's line is the body ``model.get_answer(messages, **params)`` would send (checked
    the same way, before anything is uploaded); ``BatchRequest.model`` overrides the model id
    (every request of one batch must name the same one). Answers are parsed like
    ``get_answer``'s and priced at the model's batch price (half its normal price).
    """

    #: providers whose models this API serves.
    providers: ClassVar[frozenset[str]] = frozenset({"openai", "azure"})

    def __init__(
        self, model: Any, *, completion_window: str = "24h", metadata: Mapping[str, str] | None = None
    ) -> None:
        provider = getattr(model, "provider", None)
        if provider not in self.providers or not callable(getattr(model, "batch_request", None)):
            raise UnsupportedOperationError(
                f"OpenAIBatchAPI takes an OpenAI or Azure OpenAI chat model, not {type(model).__name__} "
                f"(provider {provider!r})",
                hint="create it with create_llm('openai/<model>') or create_llm('azure/<deployment>')",
            )
        if completion_window not in COMPLETION_WINDOWS:
            raise ConfigurationError(
                f"completion_window={_shown(completion_window)} is not one the provider offers",
                hint=f"use one of: {', '.join(COMPLETION_WINDOWS)}",
            )
        self._model: OpenAIBaseLLM = model
        self.provider: str = provider
        self.completion_window = completion_window
        self.metadata = _check_metadata(metadata)
        azure = provider == "azure"
        #: the ``url`` of each line and the job's ``endpoint``.
        self.url = "/chat/completions" if azure else "/v1/chat/completions"
        self.max_requests = MAX_REQUESTS[provider]
        self.max_file_bytes = MAX_FILE_BYTES
        #: job id → {custom_id: response_format} of the jobs submitted by this object (a pydantic
        #: class cannot travel in the job; another process's results have ``parsed`` unset).
        self._formats: dict[str, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f"OpenAIBatchAPI({self.provider!r}, model={self._model.name!r})"

    # -- submit -----------------------------------------------------------------------------------

    async def submit(self, requests: Sequence[tuple[int, str, BatchRequest]]) -> BatchJob:
        """Upload ``requests`` (``(index, id, request)``; the id becomes the ``custom_id``) as one
        JSONL file and create the job. Every request is checked first: a bad one, or more
        requests / bytes than a batch file may hold, raises :class:`InvalidInputError` (or the
        check's own typed error) naming it, before anything is sent."""
        model = self._model
        count = len(requests)
        if count == 0:
            raise InvalidInputError("a batch needs at least one request")
        if count > self.max_requests:
            raise InvalidInputError(
                f"{count:,} requests are more than one {self.provider} batch may hold "
                f"({self.max_requests:,})",
                hint="split them into several batches",
            )
        ids: dict[str, int] = {}
        bodies: list[tuple[str, dict[str, Any]]] = []
        formats: dict[str, Any] = {}
        wire_model: str | None = None
        fixed = False
        for entry in requests:
            index, custom_id, request = self._check_entry(entry, ids)
            body, response_format, named = self._body(index, custom_id, request)
            if wire_model is None:
                wire_model, fixed = body["model"], named
            elif body["model"] != wire_model or named != fixed:
                raise InvalidInputError(
                    f"batch request #{index} ({custom_id!r}) is for model {_shown(body['model'])}, the "
                    f"batch's first request for {_shown(wire_model)}"
                    + ("" if body["model"] != wire_model else " (named by one, not the other)"),
                    hint="a batch file holds requests for one model: submit the others as another batch",
                )
            ids[custom_id] = index
            bodies.append((custom_id, body))
            if response_format is not None:
                formats[custom_id] = response_format
        assert wire_model is not None
        default = wire_model if fixed else (self._served_model() or wire_model)
        lines = [self._line(custom_id, ids[custom_id], body, default) for custom_id, body in bodies]
        size = sum(map(len, lines))
        if size > self.max_file_bytes:
            raise InvalidInputError(
                f"the batch file would be {size:,} bytes, more than a {self.provider} batch file may "
                f"hold ({self.max_file_bytes:,})",
                hint="split the requests into several batches",
            )
        form = _BatchFile(bodies, lines, self.url, default, fixed)
        upload = WireRequest("files", {}, model=default, model_fixed=fixed, form=form)
        wire = await self._send(model.connector, upload)
        file_id = _object_id(wire, "file")
        endpoint = wire.endpoint
        logger.debug("batch file %s (%d requests, %d bytes) uploaded to %s", file_id, count, size, endpoint)
        payload: dict[str, Any] = {
            "input_file_id": file_id,
            "endpoint": self.url,
            "completion_window": self.completion_window,
        }
        if self.metadata:
            payload["metadata"] = dict(self.metadata)
        pinned = self._pinned(endpoint)
        try:
            created = await self._send(pinned, WireRequest("batches", payload, model=default))
            job_id = _object_id(created, "batch")
        except LLMError:
            await self._delete_file(pinned, file_id)
            raise
        job = BatchJob(
            id=job_id,
            provider=self.provider,
            status="validating",
            request_ids=ids,
            locations={"endpoint": endpoint, "url": self.url, "input_file_id": file_id},
        )
        if formats:
            self._formats[job_id] = formats
        logger.debug("batch job %s created on %s", job_id, endpoint)
        return self._updated(job, created)

    def _check_entry(self, entry: Any, ids: Mapping[str, int]) -> tuple[int, str, BatchRequest]:
        if not isinstance(entry, tuple) or len(entry) != 3:
            raise InvalidInputError(f"submit() takes (index, id, BatchRequest) triples, not {_shown(entry)}")
        index, custom_id, request = entry
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise InvalidInputError(f"a batch request's index must be an int >= 0, not {_shown(index)}")
        if not isinstance(custom_id, str) or not custom_id:
            raise InvalidInputError(f"batch request #{index}: its id must be a non-empty string")
        if not isinstance(request, BatchRequest):
            raise InvalidInputError(
                f"batch request #{index} ({custom_id!r}) is a {type(request).__name__}, not a BatchRequest"
            )
        if custom_id in ids:
            raise InvalidInputError(
                f"batch request #{index}: id {custom_id!r} is also request #{ids[custom_id]}'s",
                hint="the ids of one batch must be unique (they become the provider's custom_id)",
            )
        return index, custom_id, request

    def _body(self, index: int, custom_id: str, request: BatchRequest) -> tuple[dict[str, Any], Any, bool]:
        """The line's body as ``get_answer`` would send it, its response_format, and whether the
        request named its model."""
        params = request.params
        if request.model is not None:
            if params.get("model") not in (None, request.model):
                raise InvalidInputError(
                    f"batch request #{index} ({custom_id!r}) names two models: BatchRequest.model and "
                    "params['model']"
                )
            params = {**params, "model": request.model}
        try:
            body, response_format = self._model.batch_request(request.messages, params)
        except LLMError as exc:
            exc.message = f"batch request #{index} ({custom_id!r}): {exc.message}"
            exc.args = (exc.message, *exc.args[1:])
            raise
        return body, response_format, params.get("model") is not None

    def _line(self, custom_id: str, index: int, body: dict[str, Any], model: str) -> bytes:
        if body.get("model") != model:
            body["model"] = model  # (the body is this request's own: made by batch_request)
        try:
            return _line(custom_id, self.url, body)
        except InvalidInputError as exc:
            exc.message = f"batch request #{index} ({custom_id!r}): {exc.message}"
            exc.args = (exc.message, *exc.args[1:])
            raise

    def _served_model(self) -> str | None:
        """The model id the primary endpoint serves the model as (an Azure deployment), if any."""
        connectors = getattr(self._model.connector, "connectors", None)
        if connectors:
            served = getattr(connectors[0], "served_model", None)
            return served if isinstance(served, str) and served else None
        return None

    # -- the job ----------------------------------------------------------------------------------

    async def refresh(self, job: BatchJob) -> BatchJob:
        """The job as the provider now reports it (``GET /batches/{id}``): status, request counts,
        and the ids of its output and error files once it has them."""
        self._check_job(job)
        wire = await self._send(self._job_connector(job), self._job_request(job, "GET", ""))
        return self._updated(job, wire)

    async def cancel(self, job: BatchJob) -> BatchJob:
        """Ask the provider to stop the job (``POST /batches/{id}/cancel``); it goes on through
        ``cancelling`` to ``cancelled``, the answers made until then kept in its output file."""
        self._check_job(job)
        wire = await self._send(self._job_connector(job), self._job_request(job, "POST", "/cancel"))
        return self._updated(job, wire)

    async def close(self) -> None:
        """Nothing to release: the model (and its connections) stays the caller's."""

    def _job_request(self, job: BatchJob, method: str, suffix: str) -> WireRequest:
        path = "/" + quote(job.id, safe="") + suffix
        return WireRequest("batches", {}, method=method, path=path, model=self._model.metadata.model_id)

    def _check_job(self, job: Any) -> None:
        if not isinstance(job, BatchJob):
            raise InvalidInputError(f"expected a BatchJob, not {type(job).__name__}")
        if job.provider != self.provider:
            raise InvalidInputError(
                f"batch job {job.id} belongs to provider {job.provider!r}, not {self.provider!r}",
                hint="use the Batch API of a model of the provider that made the job",
            )
        if not isinstance(job.id, str) or not job.id:
            raise InvalidInputError("the batch job has no id")

    def _updated(self, job: BatchJob, wire: WireResponse) -> BatchJob:
        """``job`` with what a batch object says (status, counts, files)."""
        data = wire.data
        if not isinstance(data, dict) or data.get("id") != job.id:
            found = data.get("id") if isinstance(data, dict) else None
            raise self._bad(wire, f"answered batch {job.id} with {_what(data, found)}")
        status = data.get("status")
        mapped = _STATUSES.get(status) if isinstance(status, str) else None
        if mapped is None:
            raise self._bad(wire, f"reported batch {job.id} with an unknown status {loggable(status)}")
        counts = data.get("request_counts")
        locations = dict(job.locations)
        for name in ("input_file_id", "output_file_id", "error_file_id"):
            value = data.get(name)
            if isinstance(value, str) and value:
                locations[name] = value
        created = data.get("created_at")
        if isinstance(created, bool) or not isinstance(created, int | float) or not math.isfinite(created):
            created = job.created
        return dataclasses.replace(
            job,
            status=mapped,
            counts={k: v for k, v in counts.items() if type(v) is int} if isinstance(counts, dict) else {},
            created=float(created),
            raw=data,
            locations=locations,
        )

    def _bad(self, wire: WireResponse, what: str) -> ResponseParsingError:
        error = ResponseParsingError(
            f"{wire.endpoint} {what}",
            provider=self.provider,
            model=self._model.name,
            endpoint=wire.endpoint,
            status=wire.status,
            request_id=wire.request_id,
        )
        redact_with(self._model.connector, error)
        return error

    # -- results ----------------------------------------------------------------------------------

    async def results(self, job: BatchJob) -> AsyncIterator[BatchResult]:
        """One :class:`BatchResult` per request of a finished job: the lines of its output file
        (answers, priced at the batch price) and error file (the provider's error for each,
        mapped like a live call's: 429 → :class:`RateLimitError`, 400 → :class:`BadRequestError`
        …), then a :class:`BatchJobFailedError` for each request without a line (``code``:
        ``"failed"``, ``"expired"`` or ``"cancelled"`` as the job ended). Lines are read as they
        arrive, never the whole file at once. A job not yet finished raises
        :class:`InvalidInputError` (refresh it until ``job.finished``)."""
        self._check_job(job)
        if not job.finished:
            raise InvalidInputError(
                f"batch job {job.id} is {job.status}: its results come once it finished",
                hint="refresh() the job until job.finished",
            )
        formats = self._formats.get(job.id, {})
        seen: set[str] = set()
        unreadable = 0
        endpoint = job.locations.get("endpoint") or self._endpoint_name()
        for name in ("output_file_id", "error_file_id"):
            file_id = job.locations.get(name)
            if not file_id:
                continue
            async for line in self._file_lines(job, file_id):
                result = self._line_result(job, line, endpoint, formats, seen)
                if result == "unreadable":
                    unreadable += 1
                elif isinstance(result, BatchResult):
                    yield result
        for custom_id, index in job.request_ids.items():
            if custom_id not in seen:
                yield BatchResult(index, custom_id, error=self._missing(job, custom_id, endpoint, unreadable))
        if len(seen) + unreadable >= len(job.request_ids):
            self._formats.pop(job.id, None)

    async def _file_lines(self, job: BatchJob, file_id: str) -> AsyncIterator[bytes]:
        request = WireRequest(
            "file_content",
            {},
            stream=True,
            method="GET",
            path=f"/{quote(file_id, safe='')}/content",
            model=self._model.metadata.model_id,
        )
        async for line in self._job_connector(job).stream(request, _Lines):
            yield line

    def _line_result(
        self, job: BatchJob, line: bytes, endpoint: str, formats: Mapping[str, Any], seen: set[str]
    ) -> BatchResult | Literal["unreadable", "skipped"]:
        """The result a line holds; ``"unreadable"`` when it cannot be read, ``"skipped"`` when it
        names no request of the job or repeats one already read."""
        try:
            data = decode_json(line)
        except ValueError:
            logger.warning("batch job %s: a result line is not JSON (%d bytes)", job.id, len(line))
            return "unreadable"
        custom_id = data.get("custom_id") if isinstance(data, dict) else None
        if not isinstance(custom_id, str):
            logger.warning("batch job %s: a result line has no custom_id", job.id)
            return "unreadable"
        index = job.request_ids.get(custom_id)
        if index is None:
            logger.warning("batch job %s: a result line names no request of the job", job.id)
            return "skipped"
        if custom_id in seen:
            return "skipped"
        seen.add(custom_id)
        try:
            response = self._line_response(job, data, endpoint, formats.get(custom_id))
        except LLMError as exc:
            exc.fill(provider=self.provider, model=self._model.name, endpoint=endpoint)
            redact_with(self._model.connector, exc)
            return BatchResult(index, custom_id, error=exc)
        return BatchResult(index, custom_id, response=response)

    def _line_response(
        self, job: BatchJob, data: dict[str, Any], endpoint: str, response_format: Any
    ) -> Any:
        response = data.get("response")
        error = data.get("error")
        if isinstance(response, dict) and type(response.get("status_code")) is int:
            status = response["status_code"]
            request_id = response.get("request_id")
            request_id = request_id if isinstance(request_id, str) and request_id else None
            body = response.get("body")
            if 200 <= status < 300:
                answer = self._model.batch_response(
                    body, endpoint=endpoint, request_id=request_id, response_format=response_format
                )
                return apply_batch_price(answer, self._model)
            raise error_from_body(status, body, endpoint=endpoint, request_id=request_id)
        if isinstance(error, dict):
            code = error.get("code")
            ended = _JOB_LINE_CODES.get(code) if isinstance(code, str) else None
            if ended is not None:
                message = cut(" ".join(str(error.get("message") or "").split()), 300)
                raise BatchJobFailedError(
                    f"batch job {job.id} {ended} before this request ran"
                    + (f": {message}" if message else ""),
                    job_id=job.id,
                    code=ended,
                    hint="submit the request again (in a new batch, or live)",
                )
            raise error_from_body(None, {"error": error}, endpoint=endpoint)
        raise ResponseParsingError(f"a result line of batch job {job.id} has neither a response nor an error")

    def _missing(self, job: BatchJob, custom_id: str, endpoint: str, unreadable: int) -> LLMError:
        """The error of a request without a result line."""
        error: LLMError
        if job.status == "completed":
            if unreadable:
                error = ResponseParsingError(
                    f"batch job {job.id} completed, but no readable result line names request "
                    f"{custom_id!r} ({unreadable} lines of its files could not be read)"
                )
            else:
                error = BatchJobFailedError(
                    f"batch job {job.id} completed without a result for request {custom_id!r}",
                    job_id=job.id,
                    code="missing",
                    hint="submit the request again",
                )
        else:
            reason = _job_reason(job.raw)
            error = BatchJobFailedError(
                f"batch job {job.id} {job.status} before request {custom_id!r} ran"
                + (f": {reason}" if reason else ""),
                job_id=job.id,
                code=job.status,
                hint="submit the request again (in a new batch, or live)"
                if job.status != "failed"
                else "the provider refused the batch file; fix what it names and submit again",
            )
        error.fill(provider=self.provider, model=self._model.name, endpoint=endpoint)
        redact_with(self._model.connector, error)
        return error

    # -- requests ---------------------------------------------------------------------------------

    def _pinned(self, endpoint: str | None) -> IConnector:
        """The model's connector; pinned to ``endpoint`` when it names one of its endpoints."""
        connector = self._model.connector
        if endpoint and isinstance(connector, FailoverConnector):
            if endpoint not in connector.endpoints:
                raise ConfigurationError(
                    f"the batch lives on endpoint {endpoint!r}, which this model does not have",
                    hint=f"use a model with that endpoint; its endpoints: {', '.join(connector.endpoints)}",
                )
            return connector.pinned(endpoint)
        return connector

    def _endpoint_name(self) -> str:
        endpoints = getattr(self._model.connector, "endpoints", None)
        return str(endpoints[0]) if endpoints else self.provider

    def _job_connector(self, job: BatchJob) -> IConnector:
        return self._pinned(job.locations.get("endpoint"))

    async def _send(self, connector: IConnector, request: WireRequest) -> WireResponse:
        try:
            return await connector.send(request)
        except LLMError as exc:
            exc.fill(provider=self.provider, model=self._model.name)
            raise

    async def _delete_file(self, connector: IConnector, file_id: str) -> None:
        """Best effort: remove an uploaded file whose job could not be created."""
        request = WireRequest("files", {}, method="DELETE", path="/" + quote(file_id, safe=""))
        try:
            await connector.send(request)
        except LLMError as exc:
            logger.debug("batch file %s was left on the provider (%s)", file_id, type(exc).__name__)


def _check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise ConfigurationError(f"metadata must be a mapping of strings, not {type(metadata).__name__}")
    if len(metadata) > _METADATA_PAIRS:
        raise ConfigurationError(
            f"metadata holds {len(metadata)} pairs; the provider takes at most {_METADATA_PAIRS}"
        )
    for key, value in metadata.items():
        if not isinstance(key, str) or not key or len(key) > _METADATA_KEY:
            raise ConfigurationError(
                f"metadata key {_shown(key)} must be a string of 1-{_METADATA_KEY} characters"
            )
        if not isinstance(value, str) or len(value) > _METADATA_VALUE:
            raise ConfigurationError(
                f"metadata[{key!r}] must be a string of at most {_METADATA_VALUE} characters"
            )
    return dict(metadata)


def _object_id(wire: WireResponse, kind: str) -> str:
    """The id of the ``file`` / ``batch`` object an answer holds."""
    data = wire.data
    value = data.get("id") if isinstance(data, dict) else None
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ResponseParsingError(
            f"{wire.endpoint} answered the {kind}'s creation with {_what(data, value)}",
            endpoint=wire.endpoint,
            status=wire.status,
            request_id=wire.request_id,
        )
    return value


def _what(data: Any, found: Any) -> str:
    if not isinstance(data, dict):
        return f"a {type(data).__name__}, not an object"
    return "no id" if found is None else f"another id ({loggable(found)})"


def _job_reason(raw: Any) -> str:
    """The first reason a failed job's ``errors`` give (its message and line), cut short."""
    errors = raw.get("errors") if isinstance(raw, dict) else None
    items: Iterable[Any] = errors.get("data") or () if isinstance(errors, dict) else ()
    for item in items:
        if isinstance(item, dict) and item.get("message"):
            line = item.get("line")
            where = f" (line {line})" if type(line) is int else ""
            return cut(" ".join(str(item["message"]).split()), 300) + where
    return ""
