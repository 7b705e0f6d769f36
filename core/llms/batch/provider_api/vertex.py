"""Vertex AI batch prediction for Gemini: :class:`VertexBatchAPI` (``batchPredictionJobs``, input and
output in Cloud Storage).

One job::

    POST https://storage.googleapis.com/upload/storage/v1/b/{bucket}/o?uploadType=media&name={object}
         the requests, one JSON line each: {"request": <the generateContent body>}
    POST https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/
         batchPredictionJobs   {displayName, model: publishers/google/models/{model},
         inputConfig: {instancesFormat: jsonl, gcsSource: {uris}},
         outputConfig: {predictionsFormat: jsonl, gcsDestination: {outputUriPrefix}}, labels}
    GET  .../batchPredictionJobs/{id}           its state, completionStats, error, outputInfo
    GET  https://storage.googleapis.com/storage/v1/b/{bucket}/o?prefix=...   the output files
    GET  .../o/{object}?alt=media                each predictions*.jsonl, read line by line
    POST .../batchPredictionJobs/{id}:cancel

Each request's body is the one ``get_answer`` sends (:meth:`GeminiBaseLLM.batch_body`: same
messages, parameters, checks). An output line is ``{"status": "", "request": <the request as
sent>, "response": <GenerateContentResponse>, "processed_time"}``, in no guaranteed order; a failed
one has a non-empty ``status`` (an HTTP reason phrase, then usually Google's error body) and no
response. To match lines to requests, each request carries the label
``core_llms_request: "<its input index>"`` in its ``labels`` (a field of Vertex AI's
``GenerateContentRequest``, "user-defined metadata", echoed back with the request; Google's label
rules allow a value of digits): :attr:`BatchJob.request_ids` maps the ids back to those indexes.
The caller's own ``labels=`` are kept beside it.

Answers are read by the dialect's own parser (text, thought summaries as ``reasoning``, function
calls, usage with cached tokens, finish reason, ``parsed`` for a ``response_format`` known to this
object) and priced at the batch price (:func:`~.common.apply_batch_price`); a line's ``status`` is
mapped like an HTTP error body (:func:`~core.llms.providers.dialects.gemini.errors.error_from_body`:
``RateLimitError``, ``BadRequestError`` …); a request without a line once the job ended is a
:class:`BatchJobFailedError` (``code``: the job's end state).

Limits (Vertex AI, "Batch prediction with Gemini", quotas and limits): at most
:data:`MAX_REQUESTS` (200,000) requests per job and an input file of at most
:data:`MAX_INPUT_BYTES` (1 GB); one model per job. The requests are built in memory.

Hosts: the storage and ``aiplatform`` hosts come from the model's endpoint (the Vertex adapter's
``"batch_jobs"`` / ``"gcs"`` operations): Google's own hosts give ``storage.googleapis.com`` and the
location's ``aiplatform`` host; any other endpoint (a proxy, the simulator) serves both paths itself.
Every request goes through the model's connector (credentials, retries, redaction); once the input
is uploaded, the job's requests are pinned to the endpoint that took it (its project and location).
Cloud Storage needs an OAuth token (``credentials``, ``credentials_file``, ADC or a
``token_provider``), not a Vertex AI API key. An output file is one streamed read (the endpoint's
``timeouts.total`` and ``max_event_bytes`` bound it and each line); a read cut after its first line
raises :class:`StreamInterruptedError` from :meth:`VertexBatchAPI.results`, and calling it again
reads every file from the start.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from ...interfaces.errors import (
    BatchJobFailedError,
    ConfigurationError,
    InvalidInputError,
    LLMError,
    ResponseParsingError,
    UnsupportedOperationError,
)
from ...interfaces.llm_interfaces import IConnector, WireEvent, WireRequest
from ...interfaces.types import LLMResponse
from ...providers.base.failover import FailoverConnector
from ...providers.base.redact import redact_with
from ...providers.dialects.gemini.errors import STATUS_CODES, error_from_body
from ...providers.dialects.gemini.model import GeminiBaseLLM
from ...providers.dialects.gemini.parsing import parse_generate_content
from ..types import BatchJob, BatchJobStatus, BatchRequest, BatchResult
from .common import apply_batch_price

__all__ = ["INDEX_LABEL", "MAX_INPUT_BYTES", "MAX_REQUESTS", "VertexBatchAPI", "line_error"]

logger = logging.getLogger("core.llms.batch")

#: the most requests one Gemini batch prediction job takes.
MAX_REQUESTS = 200_000
#: the largest input file (JSON Lines in Cloud Storage) of one job, in bytes (1 GB).
MAX_INPUT_BYTES = 1_000_000_000
#: the request label carrying the request's input index (see the module doc).
INDEX_LABEL = "core_llms_request"

#: ``JOB_STATE_*`` → :data:`BatchJobStatus` (``PARTIALLY_SUCCEEDED``: ended, failed lines in it).
STATES: Mapping[str, BatchJobStatus] = {
    "JOB_STATE_UNSPECIFIED": "validating",
    "JOB_STATE_QUEUED": "validating",
    "JOB_STATE_PENDING": "validating",
    "JOB_STATE_RUNNING": "in_progress",
    "JOB_STATE_UPDATING": "in_progress",
    "JOB_STATE_PAUSED": "in_progress",
    "JOB_STATE_CANCELLING": "in_progress",
    "JOB_STATE_SUCCEEDED": "completed",
    "JOB_STATE_PARTIALLY_SUCCEEDED": "completed",
    "JOB_STATE_FAILED": "failed",
    "JOB_STATE_CANCELLED": "cancelled",
    "JOB_STATE_EXPIRED": "expired",
}
_COUNTS = {"successfulCount": "completed", "failedCount": "failed", "incompleteCount": "incomplete"}
_GS_URI = re.compile(r"^gs://([a-z0-9][a-z0-9._-]{1,221}[a-z0-9])(?:/(.*))?$")
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_HTTP_CODE = re.compile(r"^\s*(\d{3})\b")
_PHRASES = {
    "bad request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not found": 404,
    "too many requests": 429,
    "internal server error": 500,
    "service unavailable": 503,
    "gateway timeout": 504,
}
_MAX_SHOWN = 80


def _shown(value: str) -> str:
    return repr(value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "…")


def _gs(uri: Any, name: str) -> tuple[str, str]:
    """``(bucket, folder)`` of a ``gs://bucket/folder`` setting (the folder without ``/`` at its ends)."""
    match = _GS_URI.match(uri) if isinstance(uri, str) else None
    if match is None:
        raise ConfigurationError(
            f"VertexBatchAPI.{name} must be a Cloud Storage folder such as 'gs://my-bucket/batches'",
            hint="bucket names are 3-222 lowercase letters, digits, '-', '_' and '.'",
        )
    return match.group(1), (match.group(2) or "").strip("/")


def check_labels(labels: Any, where: str, error: type[LLMError] = ConfigurationError) -> dict[str, str]:
    """``labels`` checked by Google's label rules (at most 64; keys start with a lowercase letter;
    keys and values of lowercase letters, digits, ``_`` and ``-``, 63 characters at most)."""
    if labels is None:
        return {}
    if not isinstance(labels, Mapping) or len(labels) > 64:
        raise error(f"{where} must be a dict of at most 64 labels")
    for key, value in labels.items():
        if not isinstance(key, str) or not _LABEL_KEY.match(key):
            raise error(
                f"{where}: label key {_shown(str(key))} breaks Google's label rules",
                hint="keys start with a lowercase letter; lowercase letters, digits, '_' and '-', up to 63",
            )
        if not isinstance(value, str) or not _LABEL_VALUE.match(value):
            raise error(
                f"{where}: the value of label {key!r} breaks Google's label rules",
                hint="values are lowercase letters, digits, '_' and '-', up to 63 characters",
            )
    return dict(labels)


def line_error(status: str) -> LLMError:
    """The typed error of an output line's non-empty ``status``: Google's error body in it (after
    the HTTP reason phrase) mapped as an HTTP error is; else a leading HTTP status, a reason phrase
    or a ``google.rpc.Code`` name found in it; else a 500 (``ServiceUnavailableError``)."""
    start = status.find("{")
    if start >= 0:
        try:
            data = json.loads(status[start:])
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            return error_from_body(None, data)
    code: int | None = None
    match = _HTTP_CODE.match(status)
    if match is not None and 400 <= int(match.group(1)) <= 599:
        code = int(match.group(1))
    lowered = status.lower()
    if code is None:
        code = next((c for phrase, c in _PHRASES.items() if lowered.startswith(phrase)), None)
    name = next((n for n in STATUS_CODES if n in status), None)
    return error_from_body(code, {"error": {"message": status, "status": name}})


class _LineParser:
    """A Cloud Storage object's JSON lines → ``(line number, decoded JSON or None)``."""

    __slots__ = ("_n",)

    def __init__(self, endpoint: str, request_id: str | None = None) -> None:
        self._n = 0

    def feed(self, event: WireEvent) -> Iterable[tuple[int, Any]]:
        self._n += 1
        try:
            return ((self._n, json.loads(event.data)),)
        except (ValueError, RecursionError):
            return ((self._n, None),)

    def close(self) -> Iterable[tuple[int, Any]]:
        return ()


class _Upload:
    """A raw upload body for the connector (where it takes a multipart form): bytes and their type."""

    __slots__ = ("content_type", "data")

    def __init__(self, data: bytes, content_type: str) -> None:
        self.data = data
        self.content_type = content_type

    def __repr__(self) -> str:
        return f"_Upload({len(self.data)} bytes, {self.content_type})"

    def encode(self, model: str | None = None) -> bytes:
        return self.data


class VertexBatchAPI:
    """The Batch API of a ``vertex/gemini-…`` model (implements :class:`~..types.IBatchAPI`).

    ``model``: the model object (``create_llm("vertex/gemini-2.5-flash", project=...)``), whose
    endpoints, credentials and prices are used. ``input_gcs_uri``: the Cloud Storage folder each
    job's requests are written to (``gs://bucket/folder``; one ``<display name>.jsonl`` per job);
    ``output_gcs_uri``: the folder Vertex AI writes each job's results under (its
    ``outputUriPrefix``). ``display_name_prefix`` starts each job's display name;
    ``labels``: the jobs' labels (Google's label rules; ``core-llms: batch`` is added).

    Claude models on Vertex AI are refused (:class:`UnsupportedOperationError`). See the module
    doc for the wire, the limits and how lines are matched to requests.
    """

    provider = "vertex"
    #: objects asked for per page when listing a job's output files.
    list_page_size = 1000

    def __init__(
        self,
        model: Any,
        *,
        input_gcs_uri: str,
        output_gcs_uri: str,
        display_name_prefix: str = "core-llms",
        labels: dict[str, str] | None = None,
    ) -> None:
        if not isinstance(model, GeminiBaseLLM) or getattr(model, "provider", None) != "vertex":
            name = getattr(model, "name", type(model).__name__)
            claude = "claude" in str(name).lower() or getattr(model, "dialect", None) == "anthropic_messages"
            raise UnsupportedOperationError(
                f"{name} has no Vertex AI batch prediction in core-llms: only Gemini models on Vertex AI do",
                provider="vertex",
                model=str(name),
                hint=(
                    "use the anthropic provider's Message Batches (anthropic/...) or run the requests live"
                    if claude
                    else "pass a vertex/gemini-... model, or run the requests live"
                ),
            )
        self.model = model
        self._input = _gs(input_gcs_uri, "input_gcs_uri")
        self._output = _gs(output_gcs_uri, "output_gcs_uri")
        if not isinstance(display_name_prefix, str) or not 0 < len(display_name_prefix.strip()) <= 80:
            raise ConfigurationError(
                "VertexBatchAPI.display_name_prefix must be a name of 1 to 80 characters"
            )
        self.display_name_prefix = display_name_prefix.strip()
        self.labels = {"core-llms": "batch", **check_labels(labels, "VertexBatchAPI.labels")}
        #: job id → custom id → what its answer is decoded with (this object's jobs only).
        self._formats: dict[str, dict[str, Any]] = {}
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"VertexBatchAPI({self.model.name!r}, input=gs://{self._input[0]}, output=gs://{self._output[0]})"
        )

    # -- submit ---------------------------------------------------------------------------------

    async def submit(self, requests: Sequence[tuple[int, str, BatchRequest]]) -> BatchJob:
        """Upload the requests (one ``{"request": body}`` line each) and create the job."""
        self._check_open()
        items = list(requests)
        if not items:
            raise InvalidInputError("a Vertex AI batch job needs at least one request")
        if len(items) > MAX_REQUESTS:
            raise InvalidInputError(
                f"{len(items):,} requests: a Vertex AI batch job takes at most {MAX_REQUESTS:,}",
                hint="split them over several jobs",
            )
        model_id, lines, request_ids, formats = self._build(items)
        data = b"".join(lines)
        if len(data) > MAX_INPUT_BYTES:
            raise InvalidInputError(
                f"the requests make a {len(data):,}-byte input file: "
                f"Vertex AI takes at most {MAX_INPUT_BYTES:,}",
                hint="split them over several jobs (or send large media as gs:// URIs)",
            )
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        display = f"{self.display_name_prefix}-{stamp}-{secrets.token_hex(4)}"
        bucket, folder = self._input
        name = f"{folder}/{display}.jsonl" if folder else f"{display}.jsonl"
        upload = WireRequest(
            "gcs",
            {},
            model=model_id,
            path=f"/upload/storage/v1/b/{bucket}/o?uploadType=media&name={quote(name, safe='')}",
            form=_Upload(data, "application/jsonl"),
        )
        wire = await self._connector(None).send(upload)
        endpoint = wire.endpoint
        out_bucket, out_folder = self._output
        output_prefix = f"gs://{out_bucket}/{out_folder}".rstrip("/")
        body = {
            "displayName": display,
            "model": model_id if "/" in model_id else f"publishers/google/models/{model_id}",
            "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": [f"gs://{bucket}/{name}"]}},
            "outputConfig": {
                "predictionsFormat": "jsonl",
                "gcsDestination": {"outputUriPrefix": output_prefix},
            },
            "labels": self.labels,
        }
        created = await self._connector(endpoint).send(WireRequest("batch_jobs", body, model=model_id))
        locations = {
            "endpoint": endpoint,
            "input": f"gs://{bucket}/{name}",
            "output_prefix": output_prefix,
            "model": model_id,
        }
        job = self._job(
            created.data, BatchJob("", self.provider, "validating", request_ids, locations=locations)
        )
        if formats:
            self._formats[job.id] = formats
        logger.info("Vertex AI batch job %s created with %d requests", job.id, len(items))
        return job

    def _build(
        self, items: list[tuple[int, str, BatchRequest]]
    ) -> tuple[str, list[bytes], dict[str, int], dict[str, Any]]:
        """The job's model id, its input lines, ``request_ids`` and the answers' formats."""
        default = self.model.metadata.model_id
        model_id: str | None = None
        request_ids: dict[str, int] = {}
        indexes: set[int] = set()
        formats: dict[str, Any] = {}
        lines: list[bytes] = []
        for index, custom_id, request in items:
            if not isinstance(request, BatchRequest):
                raise InvalidInputError(f"request {_shown(str(custom_id))} is not a BatchRequest")
            if custom_id in request_ids or index in indexes:
                raise InvalidInputError(f"request {_shown(custom_id)} (#{index}) is given twice in one job")
            request_ids[custom_id] = index
            indexes.add(index)
            params = dict(request.params)
            wanted = request.model or params.get("model") or default
            if model_id is None:
                model_id = wanted
            elif wanted != model_id:
                raise InvalidInputError(
                    f"request {_shown(custom_id)} names model {_shown(str(wanted))}; "
                    f"this job's is {model_id!r}",
                    hint="a Vertex AI batch job serves one model: submit each model's requests as a job",
                )
            if request.model is not None:
                params["model"] = request.model
            labels = check_labels(
                params.get("labels"), f"request {_shown(custom_id)}: labels", InvalidInputError
            )
            if INDEX_LABEL in labels:
                raise InvalidInputError(f"request {_shown(custom_id)}: the label {INDEX_LABEL!r} is reserved")
            params["labels"] = {**labels, INDEX_LABEL: str(index)}
            try:
                body = self.model.batch_body(request.messages, **params)
                fmt = self.model.answer_format(**params)
            except LLMError as exc:
                exc.message = f"request {_shown(custom_id)}: {exc.message}"
                exc.args = (exc.message, *exc.args[1:])
                raise
            if fmt is not None:
                formats[custom_id] = fmt
            line = json.dumps({"request": body}, ensure_ascii=False, separators=(",", ":"))
            lines.append(line.encode() + b"\n")
        assert model_id is not None  # items is not empty
        if not isinstance(model_id, str) or not model_id.strip():
            raise InvalidInputError("model= must be a non-empty model id string")
        return model_id, lines, request_ids, formats

    # -- the job --------------------------------------------------------------------------------

    async def refresh(self, job: BatchJob) -> BatchJob:
        """The job as Vertex AI reports it now."""
        self._check_open()
        wire = await self._connector(job.locations.get("endpoint")).send(
            WireRequest("batch_jobs", {}, model=self._model_id(job), method="GET", path=f"/{self._tail(job)}")
        )
        return self._job(wire.data, job)

    async def cancel(self, job: BatchJob) -> BatchJob:
        """Ask Vertex AI to cancel the job; returns it as reported right after."""
        self._check_open()
        await self._connector(job.locations.get("endpoint")).send(
            WireRequest("batch_jobs", {}, model=self._model_id(job), path=f"/{self._tail(job)}:cancel")
        )
        return await self.refresh(job)

    async def close(self) -> None:
        """Forget this object's jobs' answer formats. The model (and its connector) stay the
        caller's to close."""
        self._closed = True
        self._formats.clear()

    def _job(self, data: Any, job: BatchJob) -> BatchJob:
        """``job`` updated from a ``BatchPredictionJob`` body."""
        if not isinstance(data, Mapping) or not isinstance(data.get("name"), str) or not data["name"]:
            raise ResponseParsingError("Vertex AI answered a batch job request without the job's name")
        state = data.get("state")
        status = STATES.get(state) if isinstance(state, str) else None
        if status is None:
            logger.warning("Vertex AI batch job %s: unknown state %s", data["name"], _shown(str(state)))
            status = "in_progress"
        counts: dict[str, int] = {"total": len(job.request_ids)}
        stats = data.get("completionStats")
        if isinstance(stats, Mapping):
            for wire_name, ours in _COUNTS.items():
                try:
                    counts[ours] = int(stats.get(wire_name) or 0)
                except (TypeError, ValueError):
                    continue
        locations = dict(job.locations)
        info = data.get("outputInfo")
        if isinstance(info, Mapping) and isinstance(info.get("gcsOutputDirectory"), str):
            locations["output_dir"] = info["gcsOutputDirectory"]
        return replace(
            job, id=data["name"], status=status, counts=counts, raw=dict(data), locations=locations
        )

    def _tail(self, job: BatchJob) -> str:
        tail = job.id.rsplit("/", 1)[-1]
        if not tail.isdigit():
            raise InvalidInputError(f"{_shown(job.id)} is not a Vertex AI batch prediction job name")
        return tail

    def _model_id(self, job: BatchJob) -> str:
        return job.locations.get("model") or self.model.metadata.model_id

    def _connector(self, endpoint: str | None) -> IConnector:
        """The model's connector; pinned to ``endpoint`` (the one holding the job's files and the
        job) when it knows it."""
        connector: IConnector = self.model._connector
        if endpoint is not None and isinstance(connector, FailoverConnector):
            try:
                return connector.pinned(endpoint)
            except ConfigurationError:
                logger.warning("endpoint %s is no longer the model's; its primary is asked instead", endpoint)
        return connector

    def _check_open(self) -> None:
        if self._closed:
            raise ConfigurationError("this VertexBatchAPI was closed", hint="make a new one")

    # -- results --------------------------------------------------------------------------------

    def results(self, job: BatchJob) -> AsyncIterator[BatchResult]:
        """One result per request of the ended job, streamed from its output files."""
        return self._results(job)

    async def _results(self, job: BatchJob) -> AsyncIterator[BatchResult]:
        self._check_open()
        if not job.finished:
            raise InvalidInputError(
                f"Vertex AI batch job {job.id} is {job.status}: its results come once it has ended",
                hint="call refresh() until job.finished",
            )
        by_index = {index: custom_id for custom_id, index in job.request_ids.items()}
        formats = self._formats.get(job.id, {})
        endpoint = job.locations.get("endpoint")
        seen: set[int] = set()
        directory = job.locations.get("output_dir")
        if directory:
            for bucket, name in await self._output_files(job, directory):
                request = WireRequest(
                    "gcs_lines",
                    {},
                    model=self._model_id(job),
                    method="GET",
                    path=f"/storage/v1/b/{bucket}/o/{quote(name, safe='')}?alt=media",
                )
                async for number, item in self._connector(endpoint).stream(request, _LineParser):
                    result = self._line(item, by_index, formats, job, f"{name}:{number}")
                    if result is not None and result.index not in seen:
                        seen.add(result.index)
                        yield result
        for index in sorted(set(by_index) - seen):
            yield BatchResult(index, by_index[index], error=self._missing(job, by_index[index]))

    async def _output_files(self, job: BatchJob, directory: str) -> list[tuple[str, str]]:
        """``(bucket, name)`` of the job's ``predictions*.jsonl`` files (the directory's own, not
        its sub-folders' copies), by name."""
        match = _GS_URI.match(directory)
        if match is None:
            raise ResponseParsingError(
                f"Vertex AI reported an output directory that is not gs://: {_shown(directory)}"
            )
        bucket, folder = match.group(1), (match.group(2) or "").strip("/")
        prefix = f"{folder}/" if folder else ""
        names: list[str] = []
        token: str | None = None
        connector = self._connector(job.locations.get("endpoint"))
        while True:
            query = f"prefix={quote(prefix, safe='')}&maxResults={self.list_page_size}"
            if token:
                query += f"&pageToken={quote(token, safe='')}"
            wire = await connector.send(
                WireRequest(
                    "gcs",
                    {},
                    model=self._model_id(job),
                    method="GET",
                    path=f"/storage/v1/b/{bucket}/o?{query}",
                )
            )
            data = wire.data if isinstance(wire.data, Mapping) else {}
            for item in data.get("items") or ():
                name = item.get("name") if isinstance(item, Mapping) else None
                rest = name[len(prefix) :] if isinstance(name, str) and name.startswith(prefix) else ""
                if "/" not in rest and rest.startswith("predictions") and rest.endswith(".jsonl"):
                    names.append(name)  # type: ignore[arg-type]
            token = data.get("nextPageToken")
            if not isinstance(token, str) or not token:
                break
        return [(bucket, name) for name in sorted(names)]

    def _line(
        self, item: Any, by_index: Mapping[int, str], formats: Mapping[str, Any], job: BatchJob, where: str
    ) -> BatchResult | None:
        """The result of one output line; None for a line of no request of this job."""
        request = item.get("request") if isinstance(item, Mapping) else None
        labels = request.get("labels") if isinstance(request, Mapping) else None
        label = labels.get(INDEX_LABEL) if isinstance(labels, Mapping) else None
        index = int(label) if isinstance(label, str) and label.isdigit() else None
        if index is None or index not in by_index:
            logger.warning(
                "Vertex AI batch job %s: output line %s matches no request; skipped", job.id, where
            )
            return None
        custom_id = by_index[index]
        assert isinstance(item, Mapping)
        status = item.get("status")
        if isinstance(status, str) and status.strip():
            return BatchResult(index, custom_id, error=self._fill(line_error(status), job))
        try:
            response = self._response(item.get("response"), formats.get(custom_id), job)
        except LLMError as exc:
            return BatchResult(index, custom_id, error=self._fill(exc, job))
        return BatchResult(index, custom_id, response=response)

    def _response(self, data: Any, response_format: Any, job: BatchJob) -> LLMResponse:
        if not isinstance(data, Mapping):
            raise ResponseParsingError("the output line has neither a response nor a status")
        model = self.model
        response = parse_generate_content(
            data, provider=model.provider, model=model.name, cost=model.cost, response_format=response_format
        )
        response.endpoint = job.locations.get("endpoint")
        response_id = data.get("responseId")
        response.request_id = response_id if isinstance(response_id, str) else None
        return apply_batch_price(response, model)

    def _fill(self, error: LLMError, job: BatchJob) -> LLMError:
        error.fill(provider=self.provider, model=self.model.name, endpoint=job.locations.get("endpoint"))
        return redact_with(self.model._connector, error)

    def _missing(self, job: BatchJob, custom_id: str) -> BatchJobFailedError:
        code = job.status if job.status in ("failed", "expired", "cancelled") else "missing"
        shown = _shown(custom_id)
        message = f"Vertex AI batch job {job.id} ended {job.status} without an answer to request {shown}"
        raw = job.raw if isinstance(job.raw, Mapping) else {}
        error = raw.get("error")
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            message += f": {error['message'][:300]}"
        failure = BatchJobFailedError(
            message,
            job_id=job.id,
            code=code,
            hint="submit the request again (a new job), or run it live",
        )
        return self._fill(failure, job)  # type: ignore[return-value]
