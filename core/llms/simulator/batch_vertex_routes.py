"""Vertex AI batch prediction for Gemini (``batchPredictionJobs``) and the Cloud Storage it reads
and writes: registered by :meth:`.routes.ProviderRoutes.add_to`.

::

    Cloud Storage JSON API (Authorization: Bearer <token>, like the Vertex AI routes)
    POST /upload/storage/v1/b/{bucket}/o?uploadType=media&name={object}   store an object
    GET  /storage/v1/b/{bucket}/o?prefix=&maxResults=&pageToken=         list objects (by name)
    GET  /storage/v1/b/{bucket}/o/{object}?alt=media                    an object's bytes
    GET  /storage/v1/b/{bucket}/o/{object}                              its metadata

    Vertex AI (v1 and v1beta1)
    POST /v1/projects/{project}/locations/{location}/batchPredictionJobs          create a job
    GET  /v1/projects/{project}/locations/{location}/batchPredictionJobs/{id}     read it
    POST /v1/projects/{project}/locations/{location}/batchPredictionJobs/{id}:cancel

Objects live in memory, per simulator. A job is checked like the service checks it (400
``INVALID_ARGUMENT`` naming the field: ``displayName``, ``model`` ``publishers/google/models/
gemini-…`` (another model: 404), ``inputConfig`` ``jsonl`` with one existing ``gs://`` file of at
most 200,000 lines, ``outputConfig`` ``jsonl`` with a ``gs://`` prefix, ``labels`` as Google
spells them) and created ``JOB_STATE_PENDING``; each read moves it on, deterministically:
``JOB_STATE_QUEUED``, ``JOB_STATE_RUNNING``, then ``JOB_STATE_SUCCEEDED`` with its output written
under ``{outputUriPrefix}/prediction-model-{id}/``: ``predictions.jsonl`` (then
``predictions_00001.jsonl`` … every 1,000 lines) and an ``incremental_predictions/`` copy, one line
per input line, in input order::

    {"status": "", "processed_time": "...", "request": <the input's request>, "response": <answer>}
    {"status": "Too Many Requests: {\"error\": {...}}", "processed_time": "...", "request": ...}

The answers are the ``generateContent`` route's (same validation, echoes, tool calls, thoughts,
``usageMetadata``; the prompt markers ``[[content_filter]]`` / ``[[safety]]`` too). A request the
route would refuse (or a request ``labels`` map Google would refuse) gets its error as the line's
``status``. Scripted faults: the create request takes its own fault first (an error status fails
it); then each input line, in order, takes the next fault of the queue, and an error one
(``Fault(status=429)``, ``error_event``…) becomes that line's ``status`` (Google's error body with
the fault's ``message`` / ``error_code``, after the HTTP reason phrase); other faults do nothing
to a line. Reads, uploads and downloads take faults like any route.

Job markers (anywhere in a line's request; the line itself is not answered):

``[sim:job=FAILED]`` / ``[sim:job=EXPIRED]``
    the job ends in that state (``error`` set) with only the lines before the marked one written.

``:cancel`` moves a job that has not ended to ``JOB_STATE_CANCELLING``; the next read ends it
``JOB_STATE_CANCELLED`` with the first half of its lines written when it was running (none when it
was still queued). Cancelling an ended job is 400 ``FAILED_PRECONDITION``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import http
import itertools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .gemini_request import parse_gemini_request
from .gemini_routes import _blocked, _Context, _stopped, answer_body
from .generation import SchemaError, generate_answer
from .google_wire import GoogleWire, fault_body, google_error
from .openai_wire import Rejection
from .responder import send_body, send_bytes

if TYPE_CHECKING:
    from .faults import Fault
    from .routes import ProviderRoutes

__all__ = ["MAX_BATCH_LINES", "BatchJobs", "Bucket", "add_routes"]

#: the most lines a Gemini batch job's input file may hold (Vertex AI's documented limit).
MAX_BATCH_LINES = 200_000
#: lines per output file.
LINES_PER_FILE = 1_000
_PAGE_SIZE = 1_000
_PROCESSED_TIME = "2026-01-01T00:00:00.000000+00:00"
_CREATE_TIME = "2026-01-01T00:00:00.000000Z"
_JOB_MARKER = re.compile(r"\[sim:job=(FAILED|EXPIRED)\]")
_LABEL = re.compile(r"^[a-z0-9_-]{0,63}$")
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_GS_URI = re.compile(r"^gs://([a-z0-9][a-z0-9._-]{1,221}[a-z0-9])(?:/(.*))?$")
_CREATE_FIELDS = frozenset(
    {"displayName", "model", "inputConfig", "outputConfig", "labels", "modelParameters"}
)
_TERMINAL = frozenset({"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"})
_JOB_ERRORS = {
    "JOB_STATE_FAILED": {"code": 13, "message": "Batch prediction job failed: simulated internal error."},
    "JOB_STATE_EXPIRED": {"code": 4, "message": "Batch prediction job expired before all rows ran."},
}


def _invalid(message: str) -> Rejection:
    return Rejection(400, google_error(400, message))


def _not_found(message: str) -> Rejection:
    return Rejection(404, google_error(404, message))


def _status_text(error: dict[str, Any]) -> str:
    """A failed line's ``status``: the HTTP reason phrase, then Google's error body."""
    code = error.get("error", {}).get("code") if isinstance(error.get("error"), dict) else None
    try:
        phrase = http.HTTPStatus(code).phrase if isinstance(code, int) else "Error"
    except ValueError:
        phrase = "Error"
    return f"{phrase}: {json.dumps(error, separators=(',', ':'))}"


def labels_error(labels: Any, where: str) -> str | None:
    """Why Google would refuse ``labels`` (None when it would not): at most 64, keys starting
    with a lowercase letter, keys and values of lowercase letters, digits, ``_`` and ``-``, 63
    characters at most."""
    if labels is None:
        return None
    if not isinstance(labels, dict) or len(labels) > 64:
        return f"{where} must be a map of at most 64 labels."
    for key, value in labels.items():
        if not isinstance(key, str) or not _LABEL_KEY.match(key):
            return f"{where}: label key {str(key)[:70]!r} violates the label rules."
        if not isinstance(value, str) or not _LABEL.match(value):
            return f"{where}: label value {str(value)[:70]!r} of {key!r} violates the label rules."
    return None


# --------------------------------------------------------------------------- Cloud Storage


@dataclass(slots=True)
class _Object:
    data: bytes
    content_type: str
    generation: int

    def metadata(self, bucket: str, name: str) -> dict[str, Any]:
        return {
            "kind": "storage#object",
            "id": f"{bucket}/{name}/{self.generation}",
            "name": name,
            "bucket": bucket,
            "generation": str(self.generation),
            "contentType": self.content_type,
            "size": str(len(self.data)),
            "md5Hash": base64.b64encode(hashlib.md5(self.data).digest()).decode("ascii"),
            "timeCreated": _CREATE_TIME,
        }


class Bucket:
    """Every simulated bucket's objects, in memory: ``(bucket, name)`` → bytes and type."""

    def __init__(self) -> None:
        self._objects: dict[tuple[str, str], _Object] = {}
        self._generations = itertools.count(1_700_000_000_000_001)

    def put(self, bucket: str, name: str, data: bytes, content_type: str) -> dict[str, Any]:
        """Store an object; returns its metadata."""
        obj = self._objects[(bucket, name)] = _Object(data, content_type, next(self._generations))
        return obj.metadata(bucket, name)

    def get(self, bucket: str, name: str) -> _Object | None:
        return self._objects.get((bucket, name))

    def names(self, bucket: str, prefix: str) -> list[str]:
        return sorted(n for (b, n) in self._objects if b == bucket and n.startswith(prefix))

    def read_uri(self, uri: str) -> bytes | None:
        """The content of ``gs://bucket/name``, or None."""
        match = _GS_URI.match(uri)
        if match is None or not match.group(2):
            return None
        obj = self.get(match.group(1), match.group(2))
        return None if obj is None else obj.data


def _no_object(bucket: str, name: str) -> Rejection:
    return _not_found(f"No such object: {bucket}/{name[:300]}")


# --------------------------------------------------------------------------- jobs


@dataclass(slots=True)
class _Job:
    id: str
    name: str
    request: dict[str, Any]
    lines: list[dict[str, Any]]
    end_state: str = "JOB_STATE_SUCCEEDED"
    cut: int | None = None  # lines written when the job fails or expires
    state: str = "JOB_STATE_PENDING"
    ran: int = 0  # lines written when cancelled
    output_dir: str | None = None
    stats: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, **self.request}
        out["state"] = self.state
        out["createTime"] = out["updateTime"] = _CREATE_TIME
        if self.state != "JOB_STATE_PENDING":
            out["startTime"] = _CREATE_TIME
        if self.state in _TERMINAL:
            out["endTime"] = _CREATE_TIME
            if self.state in _JOB_ERRORS:
                out["error"] = _JOB_ERRORS[self.state]
        if self.output_dir is not None:
            out["outputInfo"] = {"gcsOutputDirectory": self.output_dir}
        if self.stats:
            out["completionStats"] = self.stats
        return out


class BatchJobs:
    """The simulator's batch prediction jobs, and what each read does to them."""

    def __init__(self, store: Bucket) -> None:
        self.store = store
        self.jobs: dict[str, _Job] = {}
        self._ids = itertools.count(1_000_000_001)

    def create(
        self, project: str, location: str, request: dict[str, Any], lines: list[dict[str, Any]]
    ) -> _Job:
        job_id = str(next(self._ids))
        name = f"projects/{project}/locations/{location}/batchPredictionJobs/{job_id}"
        job = _Job(job_id, name, request, lines)
        for i, line in enumerate(lines):
            marker = line.pop("_end", None)
            if marker is not None:
                job.end_state, job.cut = f"JOB_STATE_{marker}", i
                break
        self.jobs[job_id] = job
        return job

    def read(self, job: _Job) -> None:
        """One read moves the job one state on."""
        if job.state == "JOB_STATE_PENDING":
            job.state = "JOB_STATE_QUEUED"
        elif job.state == "JOB_STATE_QUEUED":
            job.state = "JOB_STATE_RUNNING"
        elif job.state == "JOB_STATE_RUNNING":
            self._end(job, job.end_state, job.cut if job.cut is not None else len(job.lines))
        elif job.state == "JOB_STATE_CANCELLING":
            self._end(job, "JOB_STATE_CANCELLED", job.ran)

    def cancel(self, job: _Job) -> None:
        if job.state in _TERMINAL:
            raise Rejection(
                400,
                google_error(
                    400,
                    f"Batch prediction job {job.id} is in state {job.state} and cannot be cancelled.",
                    name="FAILED_PRECONDITION",
                ),
            )
        job.ran = len(job.lines) // 2 if job.state == "JOB_STATE_RUNNING" else 0
        job.state = "JOB_STATE_CANCELLING"

    def _end(self, job: _Job, state: str, written: int) -> None:
        job.state = state
        done = job.lines[:written]
        failed = sum(1 for line in done if line["status"])
        job.stats = {
            "successfulCount": str(len(done) - failed),
            "failedCount": str(failed),
            "incompleteCount": str(len(job.lines) - len(done)),
        }
        if not done and state != "JOB_STATE_SUCCEEDED":
            return
        prefix = job.request["outputConfig"]["gcsDestination"]["outputUriPrefix"].rstrip("/")
        job.output_dir = f"{prefix}/prediction-model-{job.id}"
        match = _GS_URI.match(job.output_dir)
        assert match is not None  # checked when the job was created
        bucket, folder = match.group(1), match.group(2) or ""
        encoded = [json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode() for line in done]
        for k in range(max(1, -(-len(encoded) // LINES_PER_FILE))):
            chunk = encoded[k * LINES_PER_FILE : (k + 1) * LINES_PER_FILE]
            file = "predictions.jsonl" if k == 0 else f"predictions_{k:05d}.jsonl"
            data = b"".join(line + b"\n" for line in chunk)
            self.store.put(bucket, f"{folder}/{file}", data, "application/jsonl")
        everything = b"".join(line + b"\n" for line in encoded)
        self.store.put(
            bucket,
            f"{folder}/incremental_predictions/incremental_predictions.jsonl",
            everything,
            "application/jsonl",
        )


# --------------------------------------------------------------------------- checks and answers


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(f"{where} is required and must be an object.")
    return value


def _gs_uri(value: Any, where: str, *, folder: bool) -> tuple[str, str]:
    match = _GS_URI.match(value) if isinstance(value, str) else None
    if match is None or (not folder and not match.group(2)):
        raise _invalid(
            f"{where} must be a gs:// URI{'' if folder else ' of a file'}; got {str(value)[:200]!r}."
        )
    return match.group(1), match.group(2) or ""


def _check_create(body: Any, store: Bucket) -> tuple[str, bytes]:
    """The model and the input file's bytes of a valid create request."""
    body = _object(body, "BatchPredictionJob")
    for key in body:
        if key not in _CREATE_FIELDS:
            raise _invalid(
                f'Invalid JSON payload received. Unknown name "{str(key)[:40]}": Cannot find field.'
            )
    display = body.get("displayName")
    if not isinstance(display, str) or not display.strip() or len(display) > 128:
        raise _invalid("batch_prediction_job.display_name is required (at most 128 characters).")
    problem = labels_error(body.get("labels"), "batch_prediction_job.labels")
    if problem:
        raise _invalid(problem)
    model = body.get("model")
    found = re.fullmatch(r"(?:projects/[^/]+/locations/[^/]+/)?publishers/google/models/([^/]+)", str(model))
    if not isinstance(model, str) or found is None:
        raise _invalid(
            "batch_prediction_job.model must be a model resource such as publishers/google/models/ID."
        )
    if not found.group(1).startswith("gemini-"):
        raise _not_found(f"Publisher Model `{model[:200]}` not found or does not support batch prediction.")
    source = _object(body.get("inputConfig"), "batch_prediction_job.input_config")
    if source.get("instancesFormat") != "jsonl":
        raise _invalid(
            "batch_prediction_job.input_config.instances_format must be jsonl for Cloud Storage input."
        )
    uris = _object(source.get("gcsSource"), "batch_prediction_job.input_config.gcs_source").get("uris")
    if type(uris) is not list or len(uris) != 1:
        raise _invalid("batch_prediction_job.input_config.gcs_source.uris must hold exactly one file.")
    bucket, name = _gs_uri(uris[0], "batch_prediction_job.input_config.gcs_source.uris[0]", folder=False)
    data = store.read_uri(uris[0])
    if data is None:
        raise _invalid(f"The input file gs://{bucket}/{name[:200]} does not exist.")
    sink = _object(body.get("outputConfig"), "batch_prediction_job.output_config")
    if sink.get("predictionsFormat") != "jsonl":
        raise _invalid(
            "batch_prediction_job.output_config.predictions_format must be jsonl for Cloud Storage output."
        )
    prefix = _object(sink.get("gcsDestination"), "batch_prediction_job.output_config.gcs_destination")
    _gs_uri(
        prefix.get("outputUriPrefix"),
        "batch_prediction_job.output_config.gcs_destination.output_uri_prefix",
        folder=True,
    )
    return found.group(1), data


class _Answerer:
    """Each input line's output line, answered like the ``generateContent`` route."""

    def __init__(self, routes: ProviderRoutes) -> None:
        self.routes = routes
        self._numbers = itertools.count(1)

    def line(self, raw: str, model: str, fault: Fault | None) -> dict[str, Any]:
        try:
            item = json.loads(raw)
        except ValueError:
            item = None
        request = item.get("request") if isinstance(item, dict) else None
        out: dict[str, Any] = {"status": "", "processed_time": _PROCESSED_TIME, "request": request}
        marker = _JOB_MARKER.search(raw)
        if marker is not None:
            out["_end"] = marker.group(1)
            return out
        try:
            if not isinstance(request, dict):
                raise _invalid('Each input line must be a JSON object with a "request" object.')
            problem = labels_error(request.get("labels"), "GenerateContentRequest.labels")
            if problem:
                raise _invalid(problem)
            if fault is not None and (
                fault.error_event or (fault.status is not None and fault.status >= 400)
            ):
                out["status"] = _status_text(fault_body(fault))
                return out
            out["response"] = self._answer(request, model)
        except Rejection as rejection:
            out["status"] = _status_text(rejection.body)
        return out

    def _answer(self, body: dict[str, Any], model: str) -> dict[str, Any]:
        routes = self.routes
        ctx = _Context(next(self._numbers), model, True)
        req = parse_gemini_request(body, model, vertex=True, context_chars=routes._context_chars)
        if req.prompt_blocked:
            return _blocked(req, ctx)
        if req.safety_stop:
            return _stopped(req, ctx)
        try:
            answer = generate_answer(
                req.chat,
                echo_words=routes._echo_words,
                next_call_id=routes._next_call_id,
                reasoning=req.include_thoughts,
            )
        except SchemaError as exc:
            raise _invalid(f"* GenerateContentRequest.generation_config.response_schema: {exc}") from None
        return answer_body(req, answer, ctx)


# --------------------------------------------------------------------------- responses


def _dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


#: ``(request, n, parsed body, headers, fault)`` → the response.
_Produce = Callable[[web.Request, int, Any, dict[str, str], "Fault | None"], Awaitable[web.StreamResponse]]


def add_routes(app: web.Application, routes: ProviderRoutes) -> None:
    """Add the Cloud Storage and ``batchPredictionJobs`` routes to ``app`` (each simulator keeps its
    own objects and jobs)."""
    store = Bucket()
    jobs = BatchJobs(store)
    answerer = _Answerer(routes)
    wire = GoogleWire(routes, vertex=True)

    def handler(produce: _Produce) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            async def run(
                n: int, body: Any, headers: dict[str, str], fault: Fault | None
            ) -> web.StreamResponse:
                return await produce(request, n, body, headers, fault)

            return await routes.serve(request, "other", None, run, wire=wire, stream=False)

        return handle

    async def json_answer(
        request: web.Request, body: dict[str, Any], headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        if fault is not None and fault.error_event:
            error = _dumps(fault_body(fault))
            fault = dataclasses.replace(fault, error_event=False, error_code=None, message=None)
            return await send_body(request, error, headers, fault, "batch")
        return await send_body(request, _dumps(body), headers, fault, "batch")

    async def upload(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        bucket = request.match_info["bucket"]
        if request.query.get("uploadType") != "media":
            raise _invalid("The simulator takes uploadType=media uploads only.")
        name = request.query.get("name")
        if not name or len(name.encode()) > 1024 or any(c in name for c in "\r\n"):
            raise _invalid("A valid object name (name=, at most 1024 bytes) is required.")
        data = await request.read()
        content_type = request.headers.get("Content-Type", "application/octet-stream")
        return await json_answer(request, store.put(bucket, name, data, content_type), headers, fault)

    async def listing(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        bucket = request.match_info["bucket"]
        try:
            size = int(request.query.get("maxResults", _PAGE_SIZE))
            start = int(request.query.get("pageToken") or 0)
        except ValueError:
            raise _invalid("maxResults and pageToken must be numbers.") from None
        size = max(1, min(size, _PAGE_SIZE))
        names = store.names(bucket, request.query.get("prefix", ""))
        page = names[start : start + size]
        out: dict[str, Any] = {"kind": "storage#objects"}
        if page:
            out["items"] = [store.get(bucket, name).metadata(bucket, name) for name in page]  # type: ignore[union-attr]
        if start + size < len(names):
            out["nextPageToken"] = str(start + size)
        return await json_answer(request, out, headers, fault)

    async def read_object(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        bucket, name = request.match_info["bucket"], request.match_info["object"]
        obj = store.get(bucket, name)
        if obj is None:
            raise _no_object(bucket, name)
        if request.query.get("alt") == "media":
            return await send_bytes(request, obj.data, obj.content_type, headers, fault)
        return await json_answer(request, obj.metadata(bucket, name), headers, fault)

    def find(request: web.Request) -> _Job:
        job_id = request.match_info["job"]
        job = jobs.jobs.get(job_id)
        info = request.match_info
        if job is None or not job.name.startswith(
            f"projects/{info['project']}/locations/{info['location']}/"
        ):
            raise _not_found(f"The BatchPredictionJob does not exist: {job_id[:100]}")
        return job

    async def create(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        model, data = _check_create(body, store)
        raw_lines = [line for line in data.decode("utf-8", "replace").split("\n") if line.strip()]
        if not raw_lines:
            raise _invalid("The input file holds no requests.")
        if len(raw_lines) > MAX_BATCH_LINES:
            raise _invalid(
                f"The input file holds {len(raw_lines)} requests; a job takes at most {MAX_BATCH_LINES}."
            )
        lines = [answerer.line(raw, model, routes.faults.next()) for raw in raw_lines]
        info = request.match_info
        job = jobs.create(info["project"], info["location"], dict(body), lines)
        return await json_answer(request, job.body(), headers, fault)

    async def read_job(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        job = find(request)
        jobs.read(job)
        return await json_answer(request, job.body(), headers, fault)

    async def cancel_job(
        request: web.Request, n: int, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        jobs.cancel(find(request))
        return await json_answer(request, {}, headers, fault)

    app.router.add_post("/upload/storage/v1/b/{bucket}/o", handler(upload))
    app.router.add_get("/storage/v1/b/{bucket}/o", handler(listing))
    app.router.add_get("/storage/v1/b/{bucket}/o/{object:.+}", handler(read_object))
    for version in ("v1", "v1beta1"):
        base = f"/{version}/projects/{{project}}/locations/{{location}}/batchPredictionJobs"
        app.router.add_post(base, handler(create))
        app.router.add_get(base + "/{job:[0-9]+}", handler(read_job))
        app.router.add_post(base + "/{job:[0-9]+}:cancel", handler(cancel_job))
