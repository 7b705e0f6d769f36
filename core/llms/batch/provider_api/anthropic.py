"""Anthropic's Message Batches API: :class:`AnthropicBatchAPI`.

One ``POST /v1/messages/batches`` creates a batch of Messages requests::

    {"requests": [{"custom_id": "<id>", "params": {<the body get_answer would send>}}, ...]}

``GET /v1/messages/batches/{id}`` reports it (``processing_status``: ``in_progress``,
``canceling``, ``ended``; ``request_counts``: ``processing``, ``succeeded``, ``errored``,
``canceled``, ``expired``; ``results_url`` once it ended); ``POST …/{id}/cancel`` stops it; its
results are a JSON Lines file, one line per request, in any order::

    {"custom_id": "<id>", "result": {"type": "succeeded", "message": {<a Messages answer>}}}
    {"custom_id": "<id>", "result": {"type": "errored", "error": {"type": "error", "error": {...}}}}
    {"custom_id": "<id>", "result": {"type": "canceled"}}       # or "expired"

Each ``params`` is built by the model's own request code (:meth:`AnthropicModel.batch_request`),
so it is checked and shaped exactly as a live call's; answers are read by the dialect's parser
(text, thinking, tool calls, structured output, usage with cache reads and writes, stop reason)
and priced at the batch price; an errored request's error is mapped like a live call's
(``invalid_request_error`` → :class:`BadRequestError`, ``overloaded_error`` →
:class:`ServiceUnavailableError` …), a cancelled or expired one is a
:class:`BatchJobFailedError` (``code`` ``"cancelled"`` / ``"expired"``).

Ids: a ``custom_id`` is 1-64 characters of ``[A-Za-z0-9_-]``. A request id that is one is sent as
it is; any other is sent as a derived id (:func:`anthropic_custom_ids`: its safe characters and a
hash of it), a function of the batch's ids alone, so a job read back from the journal
(``BatchJob.request_ids``: request id → index) finds its lines again.

Every request goes through the model's connector (retries, breakers, failover). The batch may be
created on any endpoint; its polls, its cancellation and its results are pinned to that endpoint
(``locations["endpoint"]``: a backup knows nothing of the primary's batches). The results are
read from that endpoint only (the path of ``results_url`` when it names the endpoint's own host,
else ``…/messages/batches/{id}/results``): the API key never goes to another host.

Limits, refused before anything is sent (:class:`InvalidInputError`): 100,000 requests and
256 MB per batch. The ``anthropic-beta`` header of the requests (their ``betas=``) is sent with
the batch's creation, every request's names joined.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

from ...interfaces.errors import (
    BadRequestError,
    BatchJobFailedError,
    ConfigurationError,
    InvalidInputError,
    LLMError,
    ResponseParsingError,
    StreamInterruptedError,
    UnsupportedOperationError,
)
from ...interfaces.llm_interfaces import IConnector, WireEvent, WireRequest, WireResponse
from ...providers.base.connector import decode_json, encode_json
from ...providers.base.failover import FailoverConnector
from ...providers.base.redact import loggable, redact_with
from ...providers.dialects.anthropic_messages.errors import error_from_body
from ...providers.dialects.anthropic_messages.model import AnthropicModel
from ...providers.dialects.anthropic_messages.parsing import costing, one_hour_writes, parse_message
from ..types import BatchJob, BatchJobStatus, BatchRequest, BatchResult
from .common import apply_batch_price

if TYPE_CHECKING:
    from ...interfaces.types import LLMResponse

__all__ = ["MAX_BATCH_BYTES", "MAX_REQUESTS", "AnthropicBatchAPI", "anthropic_custom_ids"]

logger = logging.getLogger("core.llms.batch")

#: the most requests one Message Batch may hold.
MAX_REQUESTS = 100_000
#: the largest Message Batch creation request (256 MB).
MAX_BATCH_BYTES = 256_000_000
#: how often the results are read again when their download breaks (lines read are skipped).
RESULT_DOWNLOADS = 3

_CUSTOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,256}\Z")
_STEM = 40
#: a structured answer read by another process than the one that sent it: its JSON, undecoded.
_ANY_JSON = {"type": "json_object"}
_RESULT_HINT = "submit the request again (in a new batch, or live)"


def anthropic_custom_ids(ids: Iterable[str]) -> dict[str, str]:
    """The ``custom_id`` each request id of a batch is sent as: the id itself when it is 1-64
    characters of ``[A-Za-z0-9_-]``, else its first 40 characters made safe (others as ``_``), a
    dash and 16 hex digits of its SHA-256 (numbered further in the unlikely case of a clash).
    A function of the set of ids alone: the same batch gives the same mapping in any process."""
    given = list(dict.fromkeys(ids))
    mapping = {i: i for i in given if _CUSTOM_ID.match(i)}
    taken = set(mapping)
    for original in sorted(i for i in given if i not in mapping):
        digest = hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        stem = _UNSAFE.sub("_", original[:_STEM])
        candidate = f"{stem}-{digest}"
        number = 1
        while candidate in taken:
            number += 1
            candidate = f"{stem}-{digest}-{number}"
        taken.add(candidate)
        mapping[original] = candidate
    return mapping


class _JSONBody:
    """The creation request's JSON, serialised already (to measure it against the size limit),
    handed to the connector as the body so it is not serialised a second time."""

    __slots__ = ("_data",)
    content_type = "application/json"

    def __init__(self, data: bytes) -> None:
        self._data = data

    def encode(self, model: str | None = None) -> bytes:
        return self._data


class _Unreadable:
    """A result line that is not a JSON object."""

    __slots__ = ("size",)

    def __init__(self, size: int) -> None:
        self.size = size


class _JSONLines:
    """A stream parser (``StreamParser``): each JSON Lines event → its decoded object."""

    __slots__ = ()

    def __init__(self, endpoint: str, request_id: str | None = None) -> None:
        pass

    def feed(self, event: WireEvent) -> list[dict[str, Any] | _Unreadable]:
        try:
            data = decode_json(event.data.encode())
        except ValueError:
            return [_Unreadable(len(event.data))]
        return [data if isinstance(data, dict) else _Unreadable(len(event.data))]

    def close(self) -> list[dict[str, Any] | _Unreadable]:
        return []


class AnthropicBatchAPI:
    """Anthropic's Message Batches for one model (made by ``create_llm("anthropic/claude-…")``):
    an :class:`~..types.IBatchAPI` (see the module docs).

    ``max_requests`` / ``max_bytes`` lower the API's limits (100,000 requests, 256 MB) for this
    object; they cannot raise them.
    """

    provider = "anthropic"

    def __init__(
        self, model: Any, *, max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BATCH_BYTES
    ) -> None:
        if not isinstance(model, AnthropicModel):
            raise UnsupportedOperationError(
                f"Anthropic's Message Batches take a model of Anthropic's Messages API, not "
                f"{type(model).__name__}",
                hint='make the model with create_llm("anthropic/<model>")',
            )
        for name, value, limit in (
            ("max_requests", max_requests, MAX_REQUESTS),
            ("max_bytes", max_bytes, MAX_BATCH_BYTES),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
                raise ConfigurationError(f"AnthropicBatchAPI {name} must be an int within 1..{limit:,}")
        self._model = model
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        #: job id → {custom_id: (response_format, format tool)} of the jobs submitted by this object
        #: (a pydantic class cannot travel in the job: another process decodes the JSON only).
        self._formats: dict[str, dict[str, tuple[Any, str]]] = {}

    def __repr__(self) -> str:
        return f"AnthropicBatchAPI(model={self._model.name!r})"

    # -- submit -----------------------------------------------------------------------------------

    async def submit(self, requests: Sequence[tuple[int, str, BatchRequest]]) -> BatchJob:
        """Create one Message Batch of ``requests`` (``(index, id, request)`` triples). Every
        request is checked and built first; a bad one, or more requests or bytes than a batch may
        hold, raises :class:`InvalidInputError` (or the check's own typed error) naming it, before
        anything is sent."""
        model = self._model
        entries = list(requests) if isinstance(requests, Iterable) else None
        if entries is None:
            raise InvalidInputError(
                f"submit() takes a list of (index, id, BatchRequest), not {type(requests).__name__}"
            )
        if not entries:
            raise InvalidInputError("a batch needs at least one request")
        if len(entries) > self.max_requests:
            raise InvalidInputError(
                f"{len(entries):,} requests are more than one Message Batch may hold ({self.max_requests:,})",
                hint="split them into several batches",
            )
        ids: dict[str, int] = {}
        for entry in entries:
            index, request_id = self._check_entry(entry, ids)
            ids[request_id] = index
        custom = anthropic_custom_ids(ids)
        lines: list[bytes] = []
        size = len(b'{"requests":[]}') - 1
        betas: dict[str, None] = {}
        formats: dict[str, tuple[Any, str]] = {}
        for index, request_id, request in entries:
            prepared = self._prepare(index, request_id, request)
            line = encode_json({"custom_id": custom[request_id], "params": prepared.body})
            size += len(line) + 1
            if size > self.max_bytes:
                raise InvalidInputError(
                    f"the batch is larger than a Message Batch may be ({self.max_bytes:,} bytes) by request "
                    f"#{index} ({request_id!r})",
                    hint="split the requests into several batches",
                )
            lines.append(line)
            if prepared.headers:
                betas.update(dict.fromkeys(b.strip() for b in prepared.headers["anthropic-beta"].split(",")))
            if prepared.format_tool is not None:
                formats[custom[request_id]] = (prepared.response_format, prepared.format_tool)
        body = b'{"requests":[' + b",".join(lines) + b"]}"
        create = WireRequest(
            "batches",
            {},
            model=model.metadata.model_id,
            headers={"anthropic-beta": ",".join(betas)} if betas else None,
            form=_JSONBody(body),
        )
        wire = await self._send(model.connector, create)
        data = wire.data
        job_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(job_id, str) or not _JOB_ID.match(job_id):
            raise self._bad(wire, f"answered the batch's creation without a batch id ({_what(data)})")
        locations = {"endpoint": wire.endpoint}
        if formats:  # for another process reading the results: which tool is the answer
            locations["format_tools"] = json.dumps({k: tool for k, (_, tool) in formats.items()})
            self._formats[job_id] = formats
        job = BatchJob(
            id=job_id, provider=self.provider, status="in_progress", request_ids=ids, locations=locations
        )
        logger.debug(
            "message batch %s (%d requests, %d bytes) created on %s",
            job_id,
            len(ids),
            len(body),
            wire.endpoint,
        )
        return self._updated(job, wire)

    def _check_entry(self, entry: Any, ids: Mapping[str, int]) -> tuple[int, str]:
        if not isinstance(entry, tuple) or len(entry) != 3:
            raise InvalidInputError(
                f"submit() takes (index, id, BatchRequest) triples, not a {type(entry).__name__}"
            )
        index, request_id, request = entry
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise InvalidInputError(f"a batch request's index must be an int >= 0, not {loggable(index)}")
        if not isinstance(request_id, str) or not request_id:
            raise InvalidInputError(f"batch request #{index}: its id must be a non-empty string")
        if not isinstance(request, BatchRequest):
            raise InvalidInputError(
                f"batch request #{index} ({request_id!r}) is a {type(request).__name__}, not a BatchRequest"
            )
        if request_id in ids:
            raise InvalidInputError(
                f"batch request #{index}: id {request_id!r} is also request #{ids[request_id]}'s",
                hint="the ids of one batch must be unique (they become its custom_ids)",
            )
        return index, request_id

    def _prepare(self, index: int, request_id: str, request: BatchRequest) -> Any:
        """The request's checked Messages request (get_answer's own code); its errors name it."""
        params = dict(request.params)
        if request.model is not None:
            if params.get("model", request.model) != request.model:
                raise InvalidInputError(
                    f"batch request #{index} ({request_id!r}) names two models: BatchRequest.model "
                    "and params['model']",
                    provider=self.provider,
                    model=self._model.name,
                )
            params["model"] = request.model
        try:
            return self._model.batch_request(request.messages, **params)
        except LLMError as exc:
            exc.message = f"batch request #{index} ({request_id!r}): {exc.message}"
            exc.args = (exc.message, *exc.args[1:])
            exc.fill(provider=self.provider, model=self._model.name)
            raise

    # -- the job ----------------------------------------------------------------------------------

    async def refresh(self, job: BatchJob) -> BatchJob:
        """The job as the provider reports it now (``GET /v1/messages/batches/{id}``)."""
        self._check_job(job)
        wire = await self._send(self._job_connector(job), self._job_request(job, "GET", ""))
        return self._updated(job, wire)

    async def cancel(self, job: BatchJob) -> BatchJob:
        """Ask the provider to stop the job (``POST …/{id}/cancel``): it goes on ``canceling``
        (``in_progress`` here) and ends with the requests not yet run ``canceled``; the answers
        made until then stay in its results. A job that already ended is returned as it is."""
        self._check_job(job)
        try:
            wire = await self._send(self._job_connector(job), self._job_request(job, "POST", "/cancel"))
        except BadRequestError:
            fresh = await self.refresh(job)
            if fresh.finished:
                return fresh
            raise
        return self._updated(job, wire)

    async def close(self) -> None:
        """Forget the response formats of the jobs submitted (their results read afterwards give
        ``parsed`` as plain JSON); the model and its connections stay the caller's."""
        self._formats.clear()

    def _job_request(self, job: BatchJob, method: str, suffix: str) -> WireRequest:
        path = "/" + quote(job.id, safe="") + suffix
        return WireRequest("batches", {}, method=method, path=path, model=self._model.metadata.model_id)

    def _check_job(self, job: Any) -> None:
        if not isinstance(job, BatchJob):
            raise InvalidInputError(f"expected a BatchJob, not {type(job).__name__}")
        if job.provider != self.provider:
            raise InvalidInputError(
                f"batch job {loggable(job.id)} belongs to provider {job.provider!r}, not {self.provider!r}",
                hint="use the Batch API of a model of the provider that made the job",
            )
        if not isinstance(job.id, str) or not _JOB_ID.match(job.id):
            raise InvalidInputError(f"{loggable(job.id)} is not a Message Batch id")

    def _endpoint_name(self) -> str:
        """The display name of the model's first endpoint."""
        endpoints = getattr(self._model.connector, "endpoints", None) or ["?"]
        first = endpoints[0]
        return first if isinstance(first, str) else str(getattr(first, "display_name", "?"))

    def _job_connector(self, job: BatchJob) -> IConnector:
        """The model's connector, pinned to the endpoint that holds the job."""
        connector: IConnector = self._model.connector
        endpoint = job.locations.get("endpoint")
        if endpoint is None or not isinstance(connector, FailoverConnector):
            return connector
        if endpoint not in connector.endpoints:
            raise ConfigurationError(
                f"batch job {job.id} was made on endpoint {endpoint!r}, which this model does "
                "not have "
                f"(its endpoints: {', '.join(connector.endpoints)})",
                hint="read the job with a model made with the endpoint that created it",
            )
        return connector.pinned(endpoint)

    async def _send(self, connector: IConnector, request: WireRequest) -> WireResponse:
        try:
            return await connector.send(request)
        except LLMError as exc:
            exc.fill(provider=self.provider, model=self._model.name)
            raise

    def _updated(self, job: BatchJob, wire: WireResponse) -> BatchJob:
        """``job`` with what a ``message_batch`` object says (status, counts, results_url)."""
        data = wire.data
        if (
            not isinstance(data, dict)
            or data.get("id") != job.id
            or data.get("type", "message_batch") != "message_batch"
        ):
            raise self._bad(wire, f"answered batch {job.id} with {_what(data)}")
        processing = data.get("processing_status")
        raw_counts = data.get("request_counts")
        counts = (
            {k: v for k, v in raw_counts.items() if type(v) is int and v >= 0}
            if isinstance(raw_counts, dict)
            else {}
        )
        status: BatchJobStatus
        match processing:
            case "in_progress" | "canceling":
                status = "in_progress"
            case "ended" if data.get("cancel_initiated_at"):
                status = "cancelled"
            case "ended" if counts.get("expired") and counts["expired"] == sum(counts.values()):
                status = "expired"
            case "ended":
                status = "completed"
            case _:
                raise self._bad(
                    wire, f"reported batch {job.id} with an unknown processing_status {loggable(processing)}"
                )
        if counts:
            counts["total"] = sum(counts.values())
            counts["completed"] = counts.get("succeeded", 0)
            counts["failed"] = sum(counts.get(k, 0) for k in ("errored", "canceled", "expired"))
        locations = dict(job.locations)
        locations.setdefault("endpoint", wire.endpoint)
        url = data.get("results_url")
        if isinstance(url, str) and url:
            locations["results_url"] = url.partition("?")[0]  # a signed URL's query is a credential
        return dataclasses.replace(
            job,
            status=status,
            counts=counts,
            created=_timestamp(data.get("created_at"), job.created),
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
        """One :class:`BatchResult` per request of an ended job, read line by line as the file
        arrives: answers (batch price), the provider's error of each errored request (typed as a
        live call's), :class:`BatchJobFailedError` for a cancelled (``code="cancelled"``) or
        expired (``"expired"``) one, then for each request without a readable line
        (``"missing"``). A download that breaks is read again (up to :data:`RESULT_DOWNLOADS`
        times), the lines already read skipped. A job not yet ended raises
        :class:`InvalidInputError` (refresh it until ``job.finished``)."""
        self._check_job(job)
        if not job.finished:
            raise InvalidInputError(
                f"batch job {job.id} is {job.status}: its results come once it ended",
                hint="refresh() the job until job.finished",
            )
        custom = anthropic_custom_ids(job.request_ids)
        wanted = {custom[request_id]: (request_id, index) for request_id, index in job.request_ids.items()}
        formats = self._formats.get(job.id) or _stored_formats(job)
        endpoint = job.locations.get("endpoint") or self._endpoint_name()
        seen: set[str] = set()
        unreadable = 0
        connector = self._job_connector(job)
        request = WireRequest(
            "batch_results",
            {},
            stream=True,
            method="GET",
            path=self._results_path(job, connector),
            model=self._model.metadata.model_id,
            headers={"Accept": "application/binary"},
        )
        for download in range(1, RESULT_DOWNLOADS + 1):
            try:
                async for line in connector.stream(request, _JSONLines):
                    if isinstance(line, _Unreadable):
                        unreadable += 1
                        logger.warning(
                            "message batch %s: a result line is not a JSON object (%d chars)",
                            job.id,
                            line.size,
                        )
                        continue
                    result = self._line_result(job, line, wanted, seen, endpoint, formats)
                    if result is not None:
                        yield result
                break
            except StreamInterruptedError as exc:
                if download == RESULT_DOWNLOADS:
                    exc.fill(provider=self.provider, model=self._model.name)
                    raise
                unreadable = 0  # read again from the start
                logger.warning(
                    "message batch %s: the results' download broke after %d lines (%s); reading them again",
                    job.id,
                    len(seen),
                    type(exc.cause or exc).__name__,
                )
            except LLMError as exc:
                exc.fill(provider=self.provider, model=self._model.name)
                raise
        for request_id, index in job.request_ids.items():
            if custom[request_id] not in seen:
                note = f" ({unreadable} line(s) could not be read)" if unreadable else ""
                error = BatchJobFailedError(
                    f"message batch {job.id} ended ({job.status}) without a result for this request{note}",
                    job_id=job.id,
                    code="missing",
                    provider=self.provider,
                    model=self._model.name,
                    endpoint=endpoint,
                    hint=_RESULT_HINT,
                )
                yield BatchResult(index, request_id, error=error)

    def _results_path(self, job: BatchJob, connector: IConnector) -> str:
        """The results' path under the endpoint's ``/v1/messages/batches``: ``results_url``'s
        when it names the endpoint's own host and that URL, else ``/{id}/results``."""
        default = "/" + quote(job.id, safe="") + "/results"
        url = job.locations.get("results_url")
        connectors = getattr(connector, "connectors", None)
        if not url or not connectors:
            return default
        first = connectors[0]
        try:
            base = urlsplit(first.adapter.url(first.endpoint, "batch_results", self._model.metadata.model_id))
        except LLMError:
            return default
        given = urlsplit(url)
        prefix = base.path.rstrip("/") + "/"
        same_host = (given.scheme, given.netloc) == (base.scheme, base.netloc)
        if same_host and given.path.startswith(prefix) and not base.query:
            return given.path[len(prefix) - 1 :]
        if not same_host:
            logger.debug(
                "message batch %s: results_url names another host; reading from the job's endpoint", job.id
            )
        return default

    def _line_result(
        self,
        job: BatchJob,
        data: dict[str, Any],
        wanted: Mapping[str, tuple[str, int]],
        seen: set[str],
        endpoint: str,
        formats: Mapping[str, tuple[Any, str]],
    ) -> BatchResult | None:
        """The result one line holds; None for a line of no request of the job, or a repeat."""
        custom_id = data.get("custom_id")
        entry = wanted.get(custom_id) if isinstance(custom_id, str) else None
        if entry is None:
            logger.warning("message batch %s: a result line names no request of the job", job.id)
            return None
        if custom_id in seen:
            return None
        seen.add(custom_id)  # type: ignore[arg-type]
        request_id, index = entry
        try:
            response = self._outcome(job, data.get("result"), endpoint, formats.get(custom_id))  # type: ignore[arg-type]
        except LLMError as exc:
            exc.fill(provider=self.provider, model=self._model.name, endpoint=endpoint)
            redact_with(self._model.connector, exc)
            return BatchResult(index, request_id, error=exc)
        return BatchResult(index, request_id, response=response)

    def _outcome(self, job: BatchJob, result: Any, endpoint: str, fmt: tuple[Any, str] | None) -> LLMResponse:
        """A line's ``result`` → the answer; raises the request's typed error."""
        kind = result.get("type") if isinstance(result, dict) else None
        match kind:
            case "succeeded":
                return self._answer(result.get("message"), endpoint, fmt)
            case "errored":
                error = result.get("error")
                envelope = (
                    error if isinstance(error, dict) and error.get("type") == "error" else {"error": error}
                )
                raise error_from_body(None, envelope, endpoint=endpoint)
            case "canceled" | "expired":
                code: Literal["cancelled", "expired"] = "cancelled" if kind == "canceled" else "expired"
                why = "was cancelled" if kind == "canceled" else "expired (24 hours passed)"
                raise BatchJobFailedError(
                    f"message batch {job.id} {why} before this request ran",
                    job_id=job.id,
                    code=code,
                    hint=_RESULT_HINT,
                )
            case _:
                raise ResponseParsingError(
                    f"a result line of message batch {job.id} has the result type {loggable(kind)}"
                )

    def _answer(self, message: Any, endpoint: str, fmt: tuple[Any, str] | None) -> LLMResponse:
        model = self._model
        response_format, tool = fmt if fmt is not None else (None, None)
        if tool is not None and response_format is None:
            response_format = _ANY_JSON
        response = parse_message(
            message,
            provider=model.provider,
            model=model.name,
            response_format=response_format,
            format_tool=tool,
        )
        response.endpoint = endpoint
        apply_batch_price(response, model)
        hours = one_hour_writes(message.get("usage") if isinstance(message, dict) else None)
        if hours and response.cost is not None:  # one-hour cache writes, priced as get_answer prices them
            full = costing(model)(response.usage, hours)
            response.cost = None if full is None else full * model.metadata.pricing.batch_factor
        return response


def _what(data: Any) -> str:
    if isinstance(data, dict):
        return f"an object of type {loggable(data.get('type'))}"
    return f"a JSON {type(data).__name__}" if data is not None else "no JSON"


def _timestamp(value: Any, default: float) -> float:
    """An RFC 3339 time (``2024-08-20T18:37:24.100435Z``) as seconds since the epoch."""
    if not isinstance(value, str):
        return default
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default


def _stored_formats(job: BatchJob) -> dict[str, tuple[Any, str]]:
    """The structured-output tools a job recorded (another process sent it)."""
    stored = job.locations.get("format_tools")
    if not stored:
        return {}
    try:
        tools = json.loads(stored)
    except ValueError:
        return {}
    if not isinstance(tools, dict):
        return {}
    return {k: (None, v) for k, v in tools.items() if isinstance(k, str) and isinstance(v, str)}
