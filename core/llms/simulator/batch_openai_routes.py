"""OpenAI's Batch API (files and batches) and Azure OpenAI's: registered by
:meth:`.routes.ProviderRoutes.add_to`.

::

    POST   /v1/files                     upload (multipart: purpose, file)   → a "file" object
    GET    /v1/files/{id}                the file object
    DELETE /v1/files/{id}                remove it
    GET    /v1/files/{id}/content        its bytes (a batch's input, output or error JSONL)
    POST   /v1/batches                   create a job (input_file_id, endpoint, completion_window, metadata)
    GET    /v1/batches                   the jobs, newest first (?limit=, ?after=)
    GET    /v1/batches/{id}              the job (each GET moves it on, see below)
    POST   /v1/batches/{id}/cancel       cancel it
    ... the same under /openai/... (Azure: ?api-version= required) and /openai/v1/... (Azure's v1
    API; not when the simulator plays a host), with Azure's auth

Files and jobs live in memory, per simulator. A job is ``validating`` when created; its first
``GET`` checks its input file as OpenAI does (every line a JSON object with a unique
``custom_id``, ``method`` POST, the job's ``url``, a ``body`` naming one model for every line;
at most 50,000 lines, 100,000 on Azure): a bad file fails the job (``errors`` names the line),
else it is ``in_progress``; its second ``GET`` runs every line (each line's answer is made like
a chat completion's, usage included) and completes it. A line whose body a chat completion
would refuse becomes an error-file line with the 400 body; a scripted fault queued before the
job runs (after the one the running ``GET`` itself takes) is taken by a line, in file order:
one that replaces the answer (``Fault(status=429)``, ``Fault(body=...)``) becomes that line's
answer. ``POST .../cancel`` makes a running job ``cancelling``, ``cancelled`` on its next GET.

The job's ``metadata`` may steer it (for tests; the keys are kept like any metadata):

``sim_steps``
    the GET that runs the job (default 2; 1 runs it with the validation).
``sim_expire_after``
    N: the job runs N lines, then ``expired``; the other lines are error-file lines with the
    code ``batch_expired``.
``sim_fail``
    a code: the validation fails with it.
"""

from __future__ import annotations

import collections
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .generation import SchemaError, generate_answer
from .hosts import OPENAI_FLAVOR
from .openai_request import parse_chat_request, unparseable_body
from .openai_wire import Rejection, WireContext, azure_content_filter_body, completion_body, error_envelope
from .responder import fault_error_body, send_body, send_bytes, send_json
from .routes import _check_api_version
from .video_routes import parse_multipart

if TYPE_CHECKING:
    from .faults import Fault
    from .routes import Family, ProviderRoutes

__all__ = ["BatchStore", "add_routes"]

Headers = dict[str, str]
Response = web.StreamResponse
#: a route's work once the request was recorded, faulted and authorised.
_Act = Callable[[web.Request, Any, Headers, "Fault | None"], Awaitable[web.StreamResponse]]
#: the most lines of one batch file, by route family.
MAX_LINES: dict[str, int] = {"openai": 50_000, "azure": 100_000}
#: polls before a job runs, unless its metadata says otherwise.
DEFAULT_STEPS = 2
#: files and jobs kept (the oldest are forgotten first).
_MAX_KEPT = 10_000
_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
_WINDOWS = ("24h",)
_OPENAI_URLS = ("/v1/chat/completions",)
_AZURE_URLS = ("/chat/completions", "/v1/chat/completions")
_RUNNING = ("validating", "in_progress", "finalizing")


@dataclass(slots=True)
class _File:
    id: str
    purpose: str
    filename: str
    data: bytes
    created_at: int

    def body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "status_details": None,
            "expires_at": None,
        }


@dataclass(slots=True)
class _Batch:
    id: str
    family: Family
    endpoint: str
    input_file_id: str
    completion_window: str
    metadata: dict[str, str] | None
    created_at: int
    steps: int = DEFAULT_STEPS
    expire_after: int | None = None
    fail_code: str | None = None
    status: str = "validating"
    polls: int = 0
    lines: list[tuple[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    counts: dict[str, int] = field(default_factory=lambda: {"total": 0, "completed": 0, "failed": 0})
    times: dict[str, int] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        stamp = self.times.get
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "errors": None if self.errors is None else {"object": "list", "data": self.errors},
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "in_progress_at": stamp("in_progress"),
            "expires_at": self.created_at + 86_400,
            "finalizing_at": stamp("finalizing"),
            "completed_at": stamp("completed"),
            "failed_at": stamp("failed"),
            "expired_at": stamp("expired"),
            "cancelling_at": stamp("cancelling"),
            "cancelled_at": stamp("cancelled"),
            "request_counts": dict(self.counts),
            "metadata": self.metadata,
        }

    def moved(self, status: str) -> None:
        self.status = status
        self.times[status] = int(time.time())


class BatchStore:
    """The files and batch jobs of one simulator (the oldest forgotten past :data:`_MAX_KEPT`)."""

    def __init__(self) -> None:
        self.files: collections.OrderedDict[str, _File] = collections.OrderedDict()
        self.batches: collections.OrderedDict[str, _Batch] = collections.OrderedDict()
        self._files = 0
        self._batches = 0

    def add_file(self, purpose: str, filename: str, data: bytes) -> _File:
        self._files += 1
        item = _File(f"file-sim{self._files:06d}", purpose, filename, data, int(time.time()))
        self.files[item.id] = item
        while len(self.files) > _MAX_KEPT:
            self.files.popitem(last=False)
        return item

    def add_batch(self, **fields: Any) -> _Batch:
        self._batches += 1
        batch = _Batch(id=f"batch_sim{self._batches:06d}", created_at=int(time.time()), **fields)
        self.batches[batch.id] = batch
        while len(self.batches) > _MAX_KEPT:
            self.batches.popitem(last=False)
        return batch


# -- checks ---------------------------------------------------------------------------------------


def _reject(message: str, param: str | None = None, code: str | None = None) -> Rejection:
    return Rejection(400, error_envelope(message, param=param, code=code))


def _no_such(kind: str, item_id: str, param: str) -> Rejection:
    return Rejection(404, error_envelope(f"No such {kind}: '{item_id[:100]}'", param=param))


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value is None:
        raise _reject(f"Missing required parameter: '{name}'.", name, "missing_required_parameter")
    if value not in allowed:
        options = ", ".join(f"'{a}'" for a in allowed)
        raise _reject(
            f"Invalid value: '{str(value)[:100]}'. Supported values are: {options}.", name, "invalid_value"
        )
    return str(value)


def _metadata(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if (
        not isinstance(value, dict)
        or len(value) > 16
        or not all(isinstance(k, str) and isinstance(v, str) and len(k) <= 64 for k, v in value.items())
        or not all(len(v) <= 512 for v in value.values())
    ):
        raise _reject(
            "Invalid 'metadata': at most 16 pairs of strings (keys up to 64, values up to 512 characters).",
            "metadata",
            "invalid_value",
        )
    return dict(value)


def _steering(metadata: dict[str, str] | None) -> dict[str, Any]:
    """The ``sim_*`` metadata keys as job fields (see the module docstring)."""
    fields: dict[str, Any] = {}
    meta = metadata or {}
    if meta.get("sim_steps", "").isdigit():
        fields["steps"] = max(int(meta["sim_steps"]), 1)
    if meta.get("sim_expire_after", "").isdigit():
        fields["expire_after"] = int(meta["sim_expire_after"])
    if meta.get("sim_fail"):
        fields["fail_code"] = meta["sim_fail"][:64]
    return fields


def _line_error(code: str, message: str, line: int, param: str | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": param, "line": line}


def _validate(batch: _Batch, data: bytes) -> list[dict[str, Any]]:
    """OpenAI's checks of a batch input file; the errors (empty when it is good). Keeps the
    good file's lines on the job."""
    if batch.fail_code is not None:
        return [_line_error(batch.fail_code, "The batch failed validation (simulated).", 1)]
    urls = _AZURE_URLS if batch.family == "azure" else (batch.endpoint,)
    seen: set[str] = set()
    model: str | None = None
    lines: list[tuple[str, Any]] = []
    numbered = [(i, raw) for i, raw in enumerate(data.split(b"\n"), 1) if raw.strip()]
    if not numbered:
        return [_line_error("empty_file", "The input file is empty.", 1)]
    if len(numbered) > MAX_LINES[batch.family]:
        limit = MAX_LINES[batch.family]
        return [_line_error("too_many_requests", f"The batch holds more than {limit:,} requests.", limit + 1)]
    for number, raw in numbered:
        try:
            line = json.loads(raw)
        except ValueError:
            return [_line_error("invalid_json_line", "This line is not parseable as valid JSON.", number)]
        if not isinstance(line, dict):
            return [_line_error("invalid_json_line", "This line is not a JSON object.", number)]
        custom_id = line.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id:
            return [_line_error("missing_custom_id", "Each request needs a custom_id.", number, "custom_id")]
        if custom_id in seen:
            message = (
                "The custom_id for this request is a duplicate of another request. The custom_id "
                "parameter must be unique for each request in a batch."
            )
            return [_line_error("duplicate_custom_id", message, number, "custom_id")]
        seen.add(custom_id)
        if line.get("method") != "POST":
            return [_line_error("invalid_method", "The method must be 'POST'.", number, "method")]
        if line.get("url") not in urls:
            message = f"The URL provided for this request does not match the batch endpoint {batch.endpoint}."
            return [_line_error("invalid_url", message, number, "url")]
        body = line.get("body")
        line_model = body.get("model") if isinstance(body, dict) else None
        if not isinstance(line_model, str) or not line_model:
            message = "The body needs a model."
            return [_line_error("missing_required_parameter", message, number, "body.model")]
        if model is None:
            model = line_model
        elif line_model != model:
            message = f"The provided model '{line_model[:100]}' does not match the batch's model '{model}'."
            return [_line_error("model_mismatch", message, number, "body.model")]
        lines.append((custom_id, body))
    batch.lines = lines
    return []


# -- running a job --------------------------------------------------------------------------------


def _answer(routes: ProviderRoutes, batch: _Batch, body: Any, completion_id: str) -> tuple[int, Any]:
    """A line's status and body, as ``POST /chat/completions`` would answer it."""
    try:
        if isinstance(body, dict) and body.get("stream"):
            raise _reject("Streaming is not supported in a batch.", "stream")
        req = parse_chat_request(body, model_override=None, context_chars=routes._context_chars)
        if req.content_filter and batch.family == "azure":
            return 400, azure_content_filter_body()
        answer = generate_answer(req, echo_words=routes._echo_words, next_call_id=routes._next_call_id)
    except Rejection as rejection:
        return rejection.status, rejection.body
    except SchemaError as exc:
        schema_error = error_envelope(
            f"Invalid schema: {exc}", param="response_format", code="invalid_json_schema"
        )
        return 400, schema_error
    ctx = WireContext(
        completion_id=completion_id,
        model=req.model,
        created=int(time.time()),
        azure=batch.family == "azure",
        n=req.n,
        prompt_tokens=req.prompt_tokens,
        flavor=OPENAI_FLAVOR,
    )
    return 200, completion_body(answer, ctx)


def _faulted(fault: Fault | None) -> tuple[int, Any] | None:
    """The answer a scripted fault gives a line (None: it does not replace the answer)."""
    if fault is None or not fault.replaces_response:
        return None
    status = fault.status or 200
    body: Any = fault.body
    if isinstance(body, str):
        body = error_envelope(body) if status >= 400 else {"text": body}
    elif body is None:
        body = fault_error_body(fault)
    return status, body


def _run(routes: ProviderRoutes, store: BatchStore, batch: _Batch) -> None:
    """Answer every line (or the first ``expire_after``), write the output and error files."""
    output: list[bytes] = []
    errors: list[bytes] = []
    number = int(batch.id.removeprefix("batch_sim"))
    for i, (custom_id, body) in enumerate(batch.lines):
        line_id = f"batch_req_sim{number:06d}_{i:06d}"
        if batch.expire_after is not None and i >= batch.expire_after:
            error = {
                "code": "batch_expired",
                "message": "This request could not be executed before the completion window expired.",
            }
            record: dict[str, Any] = {"id": line_id, "custom_id": custom_id, "response": None, "error": error}
            errors.append(json.dumps(record, separators=(",", ":")).encode())
            continue
        status, answer = _faulted(routes.faults.next()) or _answer(
            routes, batch, body, f"chatcmpl-sim-b{number}-{i}"
        )
        request_id = f"req_sim_b{number:06d}_{i:06d}"
        record = {
            "id": line_id,
            "custom_id": custom_id,
            "response": {"status_code": status, "request_id": request_id, "body": answer},
            "error": None,
        }
        (output if status == 200 else errors).append(json.dumps(record, separators=(",", ":")).encode())
    batch.counts = {"total": len(batch.lines), "completed": len(output), "failed": len(errors)}
    if output:
        batch.output_file_id = _results_file(store, batch, "output", output)
    if errors:
        batch.error_file_id = _results_file(store, batch, "error", errors)
    batch.moved("finalizing")
    expired = batch.expire_after is not None and batch.expire_after < len(batch.lines)
    batch.moved("expired" if expired else "completed")


def _results_file(store: BatchStore, batch: _Batch, kind: str, lines: list[bytes]) -> str:
    data = b"\n".join(lines) + b"\n"
    return store.add_file("batch_output", f"{batch.id}_{kind}.jsonl", data).id


def _advance(routes: ProviderRoutes, store: BatchStore, batch: _Batch) -> None:
    """One GET of the job: move it on (see the module docstring)."""
    if batch.status == "cancelling":
        batch.moved("cancelled")
        return
    if batch.status not in _RUNNING:
        return
    batch.polls += 1
    if batch.status == "validating":
        source = store.files.get(batch.input_file_id)
        errors = _validate(batch, source.data if source is not None else b"")
        batch.counts["total"] = len(batch.lines)
        if errors:
            batch.errors = errors
            batch.moved("failed")
            return
        batch.moved("in_progress")
    if batch.polls >= batch.steps:
        _run(routes, store, batch)


# -- routes ---------------------------------------------------------------------------------------


def add_routes(app: web.Application, routes: ProviderRoutes) -> None:
    """Add the files and batches routes to ``app`` (each simulator keeps its own)."""
    store = BatchStore()
    prefixes: list[tuple[str, Family, bool]] = [("/v1", "openai", False), ("/openai", "azure", True)]
    if routes.azure_v1:
        prefixes.append(("/openai/v1", "azure", False))
    for prefix, family, api_version in prefixes:
        _add_family(app, routes, store, prefix, family, api_version)


def _add_family(
    app: web.Application,
    routes: ProviderRoutes,
    store: BatchStore,
    prefix: str,
    family: Family,
    api_version: bool,
) -> None:
    json_answer = _send_object
    def handler(act: _Act) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            async def produce(
                n: int, body: Any, headers: dict[str, str], fault: Fault | None
            ) -> web.StreamResponse:
                if api_version:
                    _check_api_version(request)
                return await act(request, body, headers, fault)

            return await routes.serve(request, family, None, produce, check_api_version=False, stream=False)

        return handle

    def file_of(request: web.Request) -> _File:
        item = store.files.get(request.match_info["file_id"])
        if item is None:
            raise _no_such("File object", request.match_info["file_id"], "file_id")
        return item

    def batch_of(request: web.Request) -> _Batch:
        batch = store.batches.get(request.match_info["batch_id"])
        if batch is None:
            raise _no_such("batch", request.match_info["batch_id"], "batch_id")
        return batch

    async def upload(request: web.Request, body: Any, headers: Headers, fault: Fault | None) -> Response:
        content_type = request.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            raise _reject("The request must be multipart/form-data with 'purpose' and 'file'.")
        try:
            form = parse_multipart(await request.read(), content_type)
        except ValueError:
            raise _reject("Could not parse multipart form.") from None
        purpose_field = form.get("purpose")
        purpose = purpose_field[2].decode("utf-8", "replace") if purpose_field else None
        purpose = _choice("purpose", purpose, _PURPOSES)
        file_field = form.get("file")
        if file_field is None or file_field[0] is None:
            raise _reject("Missing required parameter: 'file'.", "file", "missing_required_parameter")
        filename, _, data = file_field
        filename = filename or "file"
        if purpose == "batch" and not filename.endswith(".jsonl"):
            raise _reject("Invalid file format for Batch API. Must be .jsonl", "file", "invalid_file_format")
        return await json_answer(request, store.add_file(purpose, filename, data).body(), headers, fault)

    async def retrieve_file(
        request: web.Request, body: Any, headers: Headers, fault: Fault | None
    ) -> Response:
        return await json_answer(request, file_of(request).body(), headers, fault)

    async def delete_file(request: web.Request, body: Any, headers: Headers, fault: Fault | None) -> Response:
        item = file_of(request)
        del store.files[item.id]
        return await json_answer(request, {"id": item.id, "object": "file", "deleted": True}, headers, fault)

    async def content(request: web.Request, body: Any, headers: Headers, fault: Fault | None) -> Response:
        return await send_bytes(request, file_of(request).data, "application/octet-stream", headers, fault)

    async def create(request: web.Request, body: Any, headers: Headers, fault: Fault | None) -> Response:
        if not isinstance(body, dict):
            raise unparseable_body()
        file_id = body.get("input_file_id")
        if not isinstance(file_id, str) or not file_id:
            raise _reject(
                "Missing required parameter: 'input_file_id'.", "input_file_id", "missing_required_parameter"
            )
        source = store.files.get(file_id)
        if source is None:
            raise _no_such("File object", file_id, "input_file_id")
        if source.purpose != "batch":
            raise _reject(
                f"The input file {file_id} must have been uploaded with purpose 'batch'.", "input_file_id"
            )
        urls = _AZURE_URLS if family == "azure" else _OPENAI_URLS
        endpoint = _choice("endpoint", body.get("endpoint"), urls)
        window = _choice("completion_window", body.get("completion_window"), _WINDOWS)
        metadata = _metadata(body.get("metadata"))
        batch = store.add_batch(
            family=family,
            endpoint=endpoint,
            input_file_id=file_id,
            completion_window=window,
            metadata=metadata,
            **_steering(metadata),
        )
        return await json_answer(request, batch.body(), headers, fault)

    async def retrieve(request: web.Request, body: Any, headers: Headers, fault: Fault | None) -> Response:
        batch = batch_of(request)
        _advance(routes, store, batch)
        return await json_answer(request, batch.body(), headers, fault)

    async def cancel(request: web.Request, body: Any, headers: Headers, fault: Fault | None) -> Response:
        batch = batch_of(request)
        if batch.status not in _RUNNING:
            message = f"Cannot cancel a batch with status '{batch.status}'."
            raise Rejection(400, error_envelope(message, code="batch_not_cancellable"))
        batch.moved("cancelling")
        return await json_answer(request, batch.body(), headers, fault)

    async def listing(request: web.Request, body: Any, headers: Headers, fault: Fault | None) -> Response:
        limit_text = request.query.get("limit", "20")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 100:
            raise _reject("Invalid 'limit': an integer between 1 and 100.", "limit", "invalid_value")
        items = list(reversed(store.batches.values()))
        after = request.query.get("after")
        if after is not None:
            ids = [b.id for b in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        page = items[: int(limit_text)]
        answer = {
            "object": "list",
            "data": [b.body() for b in page],
            "first_id": page[0].id if page else None,
            "last_id": page[-1].id if page else None,
            "has_more": len(items) > len(page),
        }
        return await json_answer(request, answer, headers, fault)

    app.router.add_post(f"{prefix}/files", handler(upload))
    app.router.add_get(f"{prefix}/files/{{file_id}}", handler(retrieve_file))
    app.router.add_delete(f"{prefix}/files/{{file_id}}", handler(delete_file))
    app.router.add_get(f"{prefix}/files/{{file_id}}/content", handler(content))
    app.router.add_post(f"{prefix}/batches", handler(create))
    app.router.add_get(f"{prefix}/batches", handler(listing))
    app.router.add_get(f"{prefix}/batches/{{batch_id}}", handler(retrieve))
    app.router.add_post(f"{prefix}/batches/{{batch_id}}/cancel", handler(cancel))


async def _send_object(
    request: web.Request, data: dict[str, Any], headers: dict[str, str], fault: Fault | None
) -> web.StreamResponse:
    """A JSON object answer, with the fault's body-level effects (broken JSON, stall …)."""
    if fault is None:
        return send_json(200, data, headers)
    encoded = json.dumps(data, separators=(",", ":")).encode()
    return await send_body(request, encoded, headers, fault, str(data.get("id", "batch")))
