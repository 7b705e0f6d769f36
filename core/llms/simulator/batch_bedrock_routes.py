"""Bedrock batch inference (the control plane's model invocation jobs): registered by
:meth:`.routes.ProviderRoutes.add_to`, beside the runtime routes of :mod:`.bedrock_routes` (the
simulator plays both hosts, ``bedrock-runtime.{region}`` and ``bedrock.{region}``).

::

    POST /model-invocation-job                       CreateModelInvocationJob
    GET  /model-invocation-job/{jobIdentifier}       GetModelInvocationJob (moves the job on)
    POST /model-invocation-job/{jobIdentifier}/stop  StopModelInvocationJob
    GET  /model-invocation-jobs                      ListModelInvocationJobs (``statusEquals``,
                                                     ``nameContains``, ``maxResults``)

``jobIdentifier`` is the job's ARN or its 12-character id. Auth, response headers and error bodies
are the runtime routes' (:class:`~.bedrock_wire.BedrockWire`: SigV4 for service ``bedrock`` in the
simulator's region, or a Bedrock API key); Create is validated as Bedrock does (``jobName``,
``roleArn``, ``modelId``, the S3 URIs and ``timeoutDurationInHours`` against the service model's
patterns and ranges → 400 ``ValidationException`` with Coral's "1 validation error detected"
message; a model other than a Claude or Nova chat model → ``ValidationException``; a ``jobName``
already used → 400 ``ConflictException``; ``clientRequestToken`` seen before → the same job).
An unknown job → 404 ``ResourceNotFoundException``.

**A job's life, one step per GetModelInvocationJob** (deterministic):

1. ``Submitted`` when created.
2. The first GET reads the input from the simulator's S3 store (``PUT /s3/{bucket}/{key}``: the
   ``s3Uri`` names one ``.jsonl`` object, or a folder whose ``.jsonl`` objects are all read) and
   moves the job to ``InProgress``, answering every record then, in input order, like the
   runtime's ``/invoke`` route (Claude: the Anthropic Messages body, ``anthropic_version:
   "bedrock-2023-05-31"``; Nova: its invoke body, ``messages`` / ``system`` /
   ``inferenceConfig`` / ``toolConfig``), with usage. **Faults queued on the simulator after
   the one this GET takes apply to the records**, one each in input order: an error status
   becomes the record's ``"error": {"errorCode": <status>, "errorMessage": <message>}`` (a
   fault without one leaves its record alone). A record the model would refuse (a malformed
   body) gets ``errorCode`` 400 and Bedrock's message. The job goes ``Failed`` instead (with
   its ``message``) when the input is missing, is not JSONL of ``{"recordId", "modelInput"}``,
   has fewer than :data:`MIN_RECORDS` or more than :data:`MAX_RECORDS` records, repeats a
   ``recordId``, or holds the marker ``[sim:fail]`` / ``[sim:fail=TEXT]``.
3. The next GET completes it: ``Completed``, with ``{s3Uri}/{job id}/{input file}.out``
   (``{"recordId", "modelInput", "modelOutput"}`` or ``"error"`` per record) and
   ``manifest.json.out`` written; a job holding ``[sim:expire]`` goes ``Expired`` instead, having
   written only the first half of its records.

StopModelInvocationJob moves a running job to ``Stopping``; its next GET to ``Stopped`` (the
first half of the records written when they had been answered). Stopping a finished job is a
``ValidationException``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .bedrock_answers import Usage, anthropic_body, apply_stop_sequences, converse_body
from .bedrock_invoke_request import parse_anthropic
from .bedrock_media import ACCOUNT_ID, S3_STORE, S3Store
from .bedrock_request import BedrockChat, parse_converse
from .bedrock_stream import send_json_body
from .bedrock_wire import (
    AWS_REGION,
    DEFAULT_REGION,
    BedrockModel,
    BedrockWire,
    bedrock_error,
    resolve_model,
    validation_error,
)
from .generation import SchemaError, generate_answer
from .openai_wire import Rejection

if TYPE_CHECKING:
    from .faults import Fault
    from .routes import ProviderRoutes

__all__ = ["MAX_RECORDS", "MIN_RECORDS", "add_routes"]

#: Bedrock's default quotas "Minimum number of records per batch inference job" and "Records
#: per batch inference job" (both adjustable per account and model).
MIN_RECORDS = 100
MAX_RECORDS = 50_000
_JOB_NAME = re.compile(r"[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\+\-\.]){0,63}")
_ROLE_ARN = re.compile(r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+")
_TOKEN = re.compile(r"[a-zA-Z0-9]{1,256}(-*[a-zA-Z0-9]){0,256}")
_S3_URI = re.compile(
    r"s3://([a-z0-9][-.a-z0-9]{1,61}[a-z0-9])(?:/([-!_*'().a-z0-9A-Z]+(?:/[-!_*'().a-z0-9A-Z]+)*))?/?"
)
_IDENTIFIER = re.compile(
    r"(?:arn:aws(?:-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-invocation-job/)?([a-z0-9]{12})"
)
_MARKERS = re.compile(r"\[sim:(fail|expire)(?:=([^\]]{1,200}))?\]")
_NOVA_KEYS = frozenset({"messages", "system", "inferenceConfig", "toolConfig", "schemaVersion"})
_NOVA_INFERENCE = {"maxTokens": "maxTokens", "max_new_tokens": "maxTokens", "temperature": "temperature",
                   "topP": "topP", "top_p": "topP", "stopSequences": "stopSequences"}  # fmt: skip
_RUNNING = ("Submitted", "Validating", "Scheduled", "InProgress")
_MAX_JOBS = 10_000


def _iso(stamp: dt.datetime) -> str:
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _constraint(value: Any, where: str, constraint: str) -> Rejection:
    shown = "null" if value is None else f"'{str(value)[:200]}'"
    return validation_error(
        f"1 validation error detected: Value {shown} at '{where}' failed to satisfy constraint: {constraint}"
    )


def _pattern(value: Any, where: str, pattern: re.Pattern[str], maximum: int) -> str:
    if value is None:
        raise _constraint(None, where, "Member must not be null")
    if not isinstance(value, str) or len(value) > maximum or not pattern.fullmatch(value):
        raise _constraint(value, where, f"Member must satisfy regular expression pattern: {pattern.pattern}")
    return value


@dataclass(slots=True)
class _Record:
    record_id: str
    model_input: Any
    output: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    usage: Usage | None = None


@dataclass(slots=True)
class _Job:
    id: str
    arn: str
    name: str
    model: BedrockModel
    role: str
    token: str | None
    input_uri: str
    output_uri: str
    hours: int
    submitted: dt.datetime
    tags: list[Any] = field(default_factory=list)
    status: str = "Submitted"
    message: str | None = None
    modified: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    ended: dt.datetime | None = None
    records: list[_Record] = field(default_factory=list)
    files: list[tuple[str, list[_Record]]] = field(default_factory=list)
    expire: bool = False
    stopping: bool = False

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "jobArn": self.arn,
            "jobName": self.name,
            "modelId": self.model.model_id,
            "roleArn": self.role,
            "status": self.status,
            "submitTime": _iso(self.submitted),
            "lastModifiedTime": _iso(self.modified),
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": self.input_uri, "s3InputFormat": "JSONL"}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": self.output_uri}},
            "timeoutDurationInHours": self.hours,
            "jobExpirationTime": _iso(self.submitted + dt.timedelta(hours=self.hours)),
        }
        if self.token is not None:
            data["clientRequestToken"] = self.token
        if self.message is not None:
            data["message"] = self.message
        if self.ended is not None:
            data["endTime"] = _iso(self.ended)
        if self.records:
            done = self.status in ("Completed", "PartiallyCompleted")
            errors = sum(1 for r in self.records if r.error is not None)
            data.update(
                totalRecordCount=len(self.records),
                processedRecordCount=len(self.records) if done else 0,
                successRecordCount=len(self.records) - errors if done else 0,
                errorRecordCount=errors if done else 0,
            )
        return data

    def touch(self, status: str, *, ended: bool = False) -> None:
        self.status = status
        self.modified = dt.datetime.now(dt.UTC)
        if ended:
            self.ended = self.modified


class _Batches:
    """The jobs of one simulator, its S3 store and the answer generator's settings."""

    def __init__(self, routes: ProviderRoutes, region: str, store: S3Store) -> None:
        self.routes = routes
        self.region = region
        self.store = store
        self.jobs: dict[str, _Job] = {}
        self._count = itertools.count(1)
        self._tool_ids = itertools.count(1)

    # -- create ---------------------------------------------------------------------------------

    def create(self, body: Any) -> _Job:
        if not isinstance(body, dict):
            raise validation_error("Malformed input request, please reformat your input and try again.")
        name = _pattern(body.get("jobName"), "jobName", _JOB_NAME, 63)
        role = _pattern(body.get("roleArn"), "roleArn", _ROLE_ARN, 2048)
        token = body.get("clientRequestToken")
        if token is not None:
            _pattern(token, "clientRequestToken", _TOKEN, 256)
            for job in self.jobs.values():
                if job.token == token:
                    return job  # idempotent: the same request again
        model_id = body.get("modelId")
        if not isinstance(model_id, str) or not model_id:
            raise _constraint(model_id, "modelId", "Member must not be null")
        model = resolve_model(model_id)
        if model.kind != "chat" or not (model.claude or model.nova):
            raise validation_error(
                f"The model {model_id} does not support batch inference in this simulator: use an Anthropic "
                "Claude or Amazon Nova model."
            )
        input_uri = self._uri(body.get("inputDataConfig"), "s3InputDataConfig", "inputDataConfig")
        fmt = body["inputDataConfig"]["s3InputDataConfig"].get("s3InputFormat", "JSONL")
        if fmt != "JSONL":
            raise _constraint(
                fmt,
                "inputDataConfig.s3InputDataConfig.s3InputFormat",
                "Member must satisfy enum value set: [JSONL]",
            )
        output_uri = self._uri(body.get("outputDataConfig"), "s3OutputDataConfig", "outputDataConfig")
        hours = body.get("timeoutDurationInHours", 168)
        if isinstance(hours, bool) or not isinstance(hours, int) or not 24 <= hours <= 168:
            raise _constraint(
                hours, "timeoutDurationInHours", "Member must have value between 24 and 168 (inclusive)"
            )
        if body.get("modelInvocationType", "InvokeModel") != "InvokeModel":
            raise validation_error("This simulator runs InvokeModel batch jobs only.")
        if any(job.name == name for job in self.jobs.values()):
            raise bedrock_error(400, "ConflictException", f"A job with the name {name} already exists.")
        n = next(self._count)
        job_id = hashlib.sha256(f"core-llms-sim-batch-{n}".encode()).hexdigest()[:12]
        arn = f"arn:aws:bedrock:{self.region}:{ACCOUNT_ID}:model-invocation-job/{job_id}"
        job = _Job(job_id, arn, name, model, role, token, input_uri, output_uri, hours,
                   dt.datetime.now(dt.UTC), tags=list(body.get("tags") or ()))  # fmt: skip
        self.jobs[job_id] = job
        while len(self.jobs) > _MAX_JOBS:
            self.jobs.pop(next(iter(self.jobs)))
        return job

    @staticmethod
    def _uri(config: Any, member: str, where: str) -> str:
        inner = config.get(member) if isinstance(config, Mapping) else None
        if not isinstance(inner, Mapping):
            raise _constraint(None, f"{where}.{member}", "Member must not be null")
        return _pattern(inner.get("s3Uri"), f"{where}.{member}.s3Uri", _S3_URI, 1024)

    def find(self, identifier: str) -> _Job:
        match = _IDENTIFIER.fullmatch(identifier)
        if match is None:
            raise _constraint(
                identifier,
                "jobIdentifier",
                f"Member must satisfy regular expression pattern: {_IDENTIFIER.pattern}",
            )
        job = self.jobs.get(match.group(1))
        if job is None:
            raise bedrock_error(404, "ResourceNotFoundException", f"The job {identifier} could not be found.")
        return job

    # -- the job's steps ------------------------------------------------------------------------

    def poll(self, job: _Job) -> _Job:
        if job.status == "Submitted":
            self._start(job)
        elif job.status == "Stopping":
            self._write(job, half=True)
            job.touch("Stopped", ended=True)
        elif job.status == "InProgress":
            if job.expire:
                self._write(job, half=True)
                job.message = "The job did not finish within its timeout and expired."
                job.touch("Expired", ended=True)
            else:
                self._write(job, half=False)
                job.touch("Completed", ended=True)
        return job

    def stop(self, job: _Job) -> None:
        if job.status not in _RUNNING:
            raise validation_error(f"The job {job.arn} cannot be stopped: its status is {job.status}.")
        job.touch("Stopping")

    def _fail(self, job: _Job, message: str) -> None:
        job.message = message
        job.records = []
        job.touch("Failed", ended=True)

    def _start(self, job: _Job) -> None:
        match = _S3_URI.fullmatch(job.input_uri)
        assert match is not None  # checked by create
        bucket, key = match.group(1), match.group(2) or ""
        if key.endswith(".jsonl") and self.store.get(bucket, key) is not None:
            keys = [key]
        else:
            folder = f"{key.rstrip('/')}/" if key else ""
            keys = [k for k, _ in self.store.keys(bucket, folder) if k.endswith(".jsonl")]
        if not keys:
            self._fail(job, f"Unable to find any .jsonl input file at {job.input_uri}.")
            return
        seen: set[str] = set()
        for k in keys:
            obj = self.store.get(bucket, k)
            records: list[_Record] = []
            for number, line in enumerate(
                (obj.data if obj else b"").decode("utf-8", "replace").splitlines(), 1
            ):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except ValueError:
                    item = None
                rid = item.get("recordId") if isinstance(item, dict) else None
                if (
                    not isinstance(item, dict)
                    or "modelInput" not in item
                    or not isinstance(rid, str)
                    or not rid
                ):
                    self._fail(
                        job, f"Line {number} of {k} is not a JSON object with recordId and modelInput."
                    )
                    return
                if rid in seen:
                    self._fail(job, f"The recordId {rid[:40]} appears more than once in the input.")
                    return
                seen.add(rid)
                records.append(_Record(rid, item["modelInput"]))
            job.files.append((k.rsplit("/", 1)[-1], records))
            job.records.extend(records)
        count = len(job.records)
        if not MIN_RECORDS <= count <= MAX_RECORDS:
            self._fail(
                job,
                f"The job has {count} records: a batch inference job takes between {MIN_RECORDS} and "
                f"{MAX_RECORDS} records.",
            )
            return
        for record in job.records:
            marker = _MARKERS.search(json.dumps(record.model_input))
            if marker is not None and marker.group(1) == "fail":
                self._fail(job, marker.group(2) or "The job failed (simulated).")
                return
            job.expire = job.expire or marker is not None
        job.touch("InProgress")
        for record in job.records:
            self._answer(job, record, self.routes.faults.next())

    def _answer(self, job: _Job, record: _Record, fault: Fault | None) -> None:
        if fault is not None and fault.status is not None and fault.status >= 400:
            record.error = {
                "errorCode": fault.status,
                "errorMessage": fault.message or f"Simulated error (HTTP {fault.status}).",
            }
            return
        try:
            record.output, record.usage = self._invoke(job.model, record.model_input)
        except Rejection as rejection:
            message = rejection.body.get("message") if isinstance(rejection.body, dict) else None
            record.error = {"errorCode": rejection.status, "errorMessage": str(message or "Invalid request")}

    def _invoke(self, model: BedrockModel, body: Any) -> tuple[dict[str, Any], Usage]:
        chars = self.routes._context_chars
        if not isinstance(body, dict):
            raise validation_error(
                "Malformed input request: #: expected type: JSONObject, please reformat your input and "
                "try again."
            )
        req: BedrockChat
        if model.claude:
            req = parse_anthropic(body, model, stream=False, context_chars=chars)
            id_format = "toolu_bdrk_sim{:012d}"
        else:
            req = parse_converse(_nova_as_converse(body), model, stream=False, context_chars=chars)
            id_format = "tooluse_sim{:014d}"
        try:
            answer = generate_answer(
                req.chat,
                echo_words=self.routes._echo_words,
                next_call_id=lambda: id_format.format(next(self._tool_ids)),
                reasoning=req.reasoning,
            )
        except SchemaError as exc:
            raise validation_error(f"The provided JSON schema is invalid: {exc}") from None
        stop = apply_stop_sequences(answer, req.stop_sequences)
        usage = Usage(input=req.chat.prompt_tokens, output=answer.completion_tokens)
        if model.claude:
            message_id = f"msg_bdrk_sim{next(self._tool_ids):012d}"
            return anthropic_body(answer, req, usage, message_id, stop), usage
        out = converse_body(answer, req, usage, 1)
        out.pop("metrics", None)
        out["usage"] = {
            "inputTokens": usage.input,
            "outputTokens": usage.output,
            "totalTokens": usage.total,
            "cacheReadInputTokenCount": 0,
            "cacheWriteInputTokenCount": 0,
        }
        return out, usage

    def _write(self, job: _Job, *, half: bool) -> None:
        """Write the ``.out`` object of each input file (``half``: its first half of records
        only, as a stopped or expired job does) and the manifest."""
        if not job.records:
            return
        match = _S3_URI.fullmatch(job.output_uri)
        assert match is not None
        bucket, prefix = match.group(1), (match.group(2) or "").strip("/")
        folder = f"{prefix}/{job.id}" if prefix else job.id
        written: list[_Record] = []
        for name, records in job.files:
            kept = records[: len(records) // 2] if half else records
            written.extend(kept)
            lines = []
            for r in kept:
                line: dict[str, Any] = {"recordId": r.record_id, "modelInput": r.model_input}
                if r.error is not None:
                    line["error"] = r.error
                else:
                    line["modelOutput"] = r.output
                lines.append(json.dumps(line, separators=(",", ":"), ensure_ascii=False))
            data = ("\n".join(lines) + "\n").encode() if lines else b""
            self.store.put(bucket, f"{folder}/{name}.out", data, "binary/octet-stream")
        errors = sum(1 for r in written if r.error is not None)
        manifest = {
            "totalRecordCount": len(job.records),
            "processedRecordCount": len(written),
            "successRecordCount": len(written) - errors,
            "errorRecordCount": errors,
            "inputTokenCount": sum(r.usage.input for r in written if r.usage is not None),
            "outputTokenCount": sum(r.usage.output for r in written if r.usage is not None),
        }
        self.store.put(
            bucket, f"{folder}/manifest.json.out", json.dumps(manifest).encode(), "binary/octet-stream"
        )

    def listing(self, query: Mapping[str, str]) -> dict[str, Any]:
        jobs = list(self.jobs.values())
        status, name = query.get("statusEquals"), query.get("nameContains")
        if status:
            jobs = [j for j in jobs if j.status == status]
        if name:
            jobs = [j for j in jobs if name in j.name]
        raw = query.get("maxResults", "")
        limit = int(raw) if raw.isdigit() and 1 <= int(raw) <= 1000 else 1000
        return {"invocationJobSummaries": [j.body() for j in reversed(jobs)][:limit]}


def _nova_as_converse(body: Mapping[str, Any]) -> dict[str, Any]:
    """A Nova invoke body read as the Converse body it mirrors (``inferenceConfig`` names
    mapped; ``topK`` checked and dropped); extra keys refused as Bedrock refuses them."""
    extra = sorted(set(body) - _NOVA_KEYS)
    if extra:
        raise validation_error(
            f"Malformed input request: #: extraneous key [{extra[0]}] is not permitted, please reformat your "
            "input and try again."
        )
    converse = {k: v for k, v in body.items() if k in ("messages", "system", "toolConfig")}
    config = body.get("inferenceConfig")
    if config is not None:
        if not isinstance(config, Mapping):
            raise validation_error("Malformed input request: #/inferenceConfig: expected type: JSONObject, "
                                   "please reformat your input and try again.")  # fmt: skip
        mapped: dict[str, Any] = {}
        for key, value in config.items():
            if key in ("topK", "top_k"):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise validation_error(
                        f"Malformed input request: #/inferenceConfig/{key}: expected a non-negative integer, "
                        "please reformat your input and try again."
                    )
                continue
            target = _NOVA_INFERENCE.get(key)
            if target is None:
                raise validation_error(
                    f"Malformed input request: #/inferenceConfig: extraneous key [{key}] is not permitted, "
                    "please reformat your input and try again."
                )
            mapped[target] = value
        converse["inferenceConfig"] = mapped
    return converse


def add_routes(app: web.Application, routes: ProviderRoutes) -> None:
    """Add the batch inference routes to ``app`` (after :mod:`.bedrock_routes`, whose S3 store
    they share)."""
    region = app.get(AWS_REGION, DEFAULT_REGION)
    store = app.get(S3_STORE)
    if store is None:  # the runtime routes were not added: a store of their own
        store = S3Store()
    batches = _Batches(routes, region, store)
    wire = BedrockWire(region, routes._auth)

    def handler(produce: Any) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            async def run(
                n: int, body: Any, headers: dict[str, str], fault: Fault | None
            ) -> web.StreamResponse:
                answer: dict[str, Any] = produce(request, body)
                return await send_json_body(request, answer, headers, fault)

            return await routes.serve(request, "other", None, run, wire=wire, stream=False)

        return handle

    def create(request: web.Request, body: Any) -> dict[str, Any]:
        return {"jobArn": batches.create(body).arn}

    def get(request: web.Request, body: Any) -> dict[str, Any]:
        return batches.poll(batches.find(request.match_info["ident"])).body()

    def stop(request: web.Request, body: Any) -> dict[str, Any]:
        batches.stop(batches.find(request.match_info["ident"]))
        return {}

    def listing(request: web.Request, body: Any) -> dict[str, Any]:
        return batches.listing(request.query)

    app.router.add_post("/model-invocation-job", handler(create))
    app.router.add_get("/model-invocation-jobs", handler(listing))
    app.router.add_post("/model-invocation-job/{ident:.+}/stop", handler(stop))
    app.router.add_get("/model-invocation-job/{ident:.+}", handler(get))
