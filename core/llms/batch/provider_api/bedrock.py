"""Amazon Bedrock batch inference for Claude and Nova: :class:`BedrockBatchAPI`
(``CreateModelInvocationJob``, input and output in S3).

One job::

    PUT  s3://{input}/{job name}.jsonl           one line per request:
                                                 {"recordId": ..., "modelInput": <InvokeModel body>}
    POST https://bedrock.{region}.amazonaws.com/model-invocation-job
         {jobName, roleArn, modelId, clientRequestToken, timeoutDurationInHours, tags,
          inputDataConfig: {s3InputDataConfig: {s3Uri, s3InputFormat: JSONL}},
          outputDataConfig: {s3OutputDataConfig: {s3Uri}}}          -> {jobArn}
    GET  .../model-invocation-job/{job id}       status, message, record counts
    GET  s3://{output}/{job id}/?list-type=2     the ``*.jsonl.out`` objects, then each one:
                                                 {"recordId", "modelInput", "modelOutput"} or
                                                 {..., "error": {"errorCode", "errorMessage"}}
    POST .../model-invocation-job/{job id}/stop

**Bodies.** Batch inference takes each model's own ``InvokeModel`` body, not Converse's: for
Anthropic Claude the Messages body with ``anthropic_version: "bedrock-2023-05-31"`` (built by
:func:`~core.llms.providers.bedrock.anthropic_invoke.prepare_invoke`, the same as
``get_answer(api="invoke")``), for Amazon Nova its invoke body (``messages``, ``system``,
``inferenceConfig``, ``toolConfig``: the Converse body the model would send, with Nova's extra
fields at the top level and the Converse-only ones refused). Other model families are refused
(:class:`UnsupportedOperationError`). Every request's parameters are checked as ``get_answer``
checks them; one bad request refuses the whole submission, naming it. Answers are read by each
family's own parser (text, tool calls, reasoning, usage, finish reason, ``parsed`` for a
``response_format`` known to this object) and priced at the batch price
(:func:`~.common.apply_batch_price`); a record's ``error`` is mapped by its status / name like a
Bedrock HTTP error (429 → :class:`RateLimitError`, 400 → :class:`BadRequestError` …); a request with
no output record once the job ended is a :class:`BatchJobFailedError` (``code``: ``"failed"``,
``"expired"``, ``"cancelled"``, or ``"missing"`` for a completed job).

**Record ids.** Bedrock's documentation describes ``recordId`` as an "11 character alphanumeric
string" (its examples: ``CALL0000001``; newer pages say only "string"). The request ids are used
as they are when every one of them fits that rule; otherwise every record is named by its input
index, ``R`` + 10 digits (``R0000000042``). :attr:`BatchJob.request_ids` maps the request ids to
their indexes either way, so results are matched without any other state.

**Limits** (Bedrock's default service quotas, adjustable per account and model: "Minimum number
of records per batch inference job" 100, "Records per batch inference job" 50,000, "Batch
inference input file size" 1 GB): submissions outside :data:`MIN_RECORDS` ..
:data:`MAX_RECORDS` or larger than :data:`MAX_INPUT_BYTES` are refused with
:class:`InvalidInputError` before anything is sent (``min_records=`` / ``max_records=`` /
``max_input_bytes=`` change them). ``timeoutDurationInHours`` is 24-168; a job name is at most 63
characters (``{prefix}-{UTC time}-{random}``).

**Hosts and auth.** The control plane is :func:`~core.llms.providers.bedrock.adapter.control_endpoint`
of the model's primary endpoint (``bedrock.{region}.amazonaws.com`` beside
``bedrock-runtime.{region}``; a gateway or the simulator serves both; ``control_endpoint=``
overrides it), signed by the model's own Bedrock adapter (SigV4, service ``bedrock``, the same
credential chain and cache; or its Bedrock API key). S3 goes through
:class:`~core.llms.providers.bedrock.media.s3.S3Client` (SigV4, service ``s3``; the endpoint's
``s3_endpoint`` when set). Every request is retried by the model's retry policy and its errors
are redacted of every credential sent. A job lives in one region: backups are not used.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

from ...interfaces.errors import (
    BatchJobFailedError,
    ConfigurationError,
    InvalidInputError,
    LLMError,
    PermissionDeniedError,
    ResponseParsingError,
    UnsupportedOperationError,
)
from ...interfaces.llm_interfaces import WireRequest
from ...interfaces.types import LLMResponse
from ...providers.base.connector import Connector, decode_json, encode_json
from ...providers.base.failover import FailoverConnector
from ...providers.base.redact import redact_with
from ..types import BatchJob, BatchJobStatus, BatchRequest, BatchResult
from .common import apply_batch_price

__all__ = ["MAX_INPUT_BYTES", "MAX_RECORDS", "MIN_RECORDS", "STATUSES", "BedrockBatchAPI", "record_error"]

logger = logging.getLogger("core.llms.batch")

#: Bedrock's default quotas: fewest and most records of one job, largest input file (bytes).
MIN_RECORDS = 100
MAX_RECORDS = 50_000
MAX_INPUT_BYTES = 1_000_000_000

Family = Literal["claude", "nova"]

#: GetModelInvocationJob ``status`` → :data:`BatchJobStatus` (``PartiallyCompleted``: ended,
#: some records failed; ``Stopping``: still running until it is ``Stopped``).
STATUSES: Mapping[str, BatchJobStatus] = {
    "Submitted": "validating",
    "Validating": "validating",
    "Scheduled": "in_progress",
    "InProgress": "in_progress",
    "Stopping": "in_progress",
    "Completed": "completed",
    "PartiallyCompleted": "completed",
    "Failed": "failed",
    "Expired": "expired",
    "Stopped": "cancelled",
}
_COUNTS = {
    "totalRecordCount": "total",
    "processedRecordCount": "processed",
    "successRecordCount": "completed",
    "errorRecordCount": "failed",
}
_RECORD_ID = re.compile(r"[A-Za-z0-9]{1,11}")
_INDEX_RECORD = re.compile(r"R(\d{10})")
_JOB_PREFIX = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9+\-.]){0,39}")
_ROLE_ARN = re.compile(r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+")
_JOB_ARN = re.compile(
    r"arn:aws(?:-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-invocation-job/([a-z0-9]{12})"
)
#: Bedrock's ``S3Uri`` pattern (a key of these characters only).
_S3_URI = re.compile(r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-zA-Z0-9]+)*/?")
_TAG = re.compile(r"[a-zA-Z0-9\s._:/=+@-]*")
#: Converse fields with no place in Nova's InvokeModel body.
_CONVERSE_ONLY = (
    "guardrailConfig",
    "additionalModelResponseFieldPaths",
    "requestMetadata",
    "performanceConfig",
    "serviceTier",
    "outputConfig",
)
_NOVA_FIELDS = ("system", "messages", "inferenceConfig", "toolConfig")
_ACCESS_HINT = (
    "the credentials need bedrock:CreateModelInvocationJob / GetModelInvocationJob / "
    "StopModelInvocationJob and iam:PassRole on role_arn"
)
_MAX_SHOWN = 80


def _shown(value: str) -> str:
    return repr(value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "…")


def model_family(model_id: str, family: str = "") -> Family | None:
    """``"claude"`` / ``"nova"`` for a model id (a profile id or an ARN too) of those families."""
    text = f"{family} {model_id}".lower()
    if "anthropic.claude" in text or family.lower() == "claude":
        return "claude"
    if "amazon.nova" in text or family.lower() == "nova":
        return "nova"
    return None


def record_error(error: Any) -> LLMError:
    """A record's ``error`` (``{"errorCode": 400 | "ThrottlingException", "errorMessage"}``) as
    the typed error Bedrock's HTTP error of that status / name would be."""
    from ...providers.dialects.bedrock_converse.errors import bedrock_error

    if not isinstance(error, Mapping):
        return ResponseParsingError("an output record's error is not an object")
    code, message = error.get("errorCode"), error.get("errorMessage")
    status: int | None = None
    name: str | None = None
    if isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 599:
        status = code
    elif isinstance(code, str) and code.strip().isdigit() and 100 <= int(code) <= 599:
        status = int(code)
    elif isinstance(code, str):
        name = code
    text = message if isinstance(message, str) else ""
    if status is None and name is None:
        status = 500
    return bedrock_error(name, text, status=status, endpoint=None, request_id=None)


def _nova_body(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Nova's InvokeModel body from the Converse body the model builds (see the module doc)."""
    refused = [name for name in _CONVERSE_ONLY if name in payload]
    if refused:
        raise InvalidInputError(
            f"Nova's InvokeModel body (what batch inference sends) has no {', '.join(refused)}",
            hint="leave out guardrail / request_metadata / performance_config / service_tier for batch jobs",
        )
    for message in payload.get("messages") or ():
        if any(isinstance(block, Mapping) and "document" in block for block in message.get("content") or ()):
            raise InvalidInputError(
                "Nova's InvokeModel body (what batch inference sends) takes no documents",
                hint="send the document's text, or run the request live (Converse)",
            )
    body = {name: payload[name] for name in _NOVA_FIELDS if name in payload}
    for name, value in (payload.get("additionalModelRequestFields") or {}).items():
        if name == "inferenceConfig" and isinstance(value, Mapping):
            body["inferenceConfig"] = {**body.get("inferenceConfig", {}), **value}
        else:
            body[name] = value
    return body


def _nova_output(data: Any) -> Any:
    """A Nova invoke answer with its usage renamed as Converse names it (``…TokenCount``)."""
    usage = data.get("usage") if isinstance(data, Mapping) else None
    if not isinstance(usage, Mapping):
        return data
    renamed = dict(usage)
    for nova, converse in (
        ("cacheReadInputTokenCount", "cacheReadInputTokens"),
        ("cacheWriteInputTokenCount", "cacheWriteInputTokens"),
    ):
        if nova in renamed and converse not in renamed:
            renamed[converse] = renamed.pop(nova)
    return {**data, "usage": renamed}


class _Format:
    """How one request's answer is read: its ``response_format`` and the tool standing for it."""

    __slots__ = ("response_format", "tool")

    def __init__(self, response_format: Any, tool: str | None) -> None:
        self.response_format = response_format
        self.tool = tool


class BedrockBatchAPI:
    """Amazon Bedrock batch inference bound to one Claude or Nova model (implements
    :class:`~core.llms.batch.types.IBatchAPI`; see the module doc).

    ``model``: from ``create_llm("bedrock/...")`` (its primary endpoint's region, credentials,
    transport settings and prices). ``input_s3_uri``: the S3 folder each job's input is written to
    (``{input_s3_uri}/{job name}.jsonl``); ``output_s3_uri``: where Bedrock writes the outputs
    (``{output_s3_uri}/{job id}/``); ``role_arn``: the service role Bedrock runs the job as
    (``s3:GetObject`` / ``s3:ListBucket`` on the input, ``s3:PutObject`` on the output).
    ``job_name_prefix``: the jobs' names start with it (at most 40 characters); ``timeout_hours``:
    the job's ``timeoutDurationInHours`` (24-168; None: Bedrock's default); ``tags``: a mapping (or
    ``[{"key", "value"}]``) tagged on each job. ``min_records`` / ``max_records`` /
    ``max_input_bytes``: the account's quotas, when not Bedrock's defaults; ``control_endpoint``:
    the control plane's URL, when not the one beside the runtime endpoint.
    """

    provider = "bedrock"

    def __init__(
        self,
        model: Any,
        *,
        input_s3_uri: str,
        output_s3_uri: str,
        role_arn: str,
        job_name_prefix: str = "core-llms",
        timeout_hours: int | None = None,
        tags: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
        min_records: int = MIN_RECORDS,
        max_records: int = MAX_RECORDS,
        max_input_bytes: int = MAX_INPUT_BYTES,
        control_endpoint: str | None = None,
    ) -> None:
        from ...providers.bedrock.adapter import BedrockAdapter
        from ...providers.bedrock.adapter import control_endpoint as control_of
        from ...providers.bedrock.media.s3 import S3Client, parse_s3_uri

        if getattr(model, "provider", None) != "bedrock" or not isinstance(
            model._connector, FailoverConnector
        ):
            raise ConfigurationError(
                "BedrockBatchAPI needs a model made by create_llm('bedrock/...')",
                hint="pass the model object the requests are for",
            )
        meta = model.metadata
        self.family = self._family_of(meta.model_id, meta.family, model.name)
        self.model = model
        self.input = parse_s3_uri(self._s3_setting(input_s3_uri, "input_s3_uri"), what="input_s3_uri")
        self.output_uri = self._s3_setting(output_s3_uri, "output_s3_uri").rstrip("/")
        self.output = parse_s3_uri(self.output_uri, what="output_s3_uri")
        if not isinstance(role_arn, str) or not _ROLE_ARN.fullmatch(role_arn.strip()):
            raise ConfigurationError(
                "BedrockBatchAPI.role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
                hint="the service role Bedrock runs the job as ('Create a service role for batch inference')",
            )
        self.role_arn = role_arn.strip()
        if not isinstance(job_name_prefix, str) or not _JOB_PREFIX.fullmatch(job_name_prefix):
            raise ConfigurationError(
                "BedrockBatchAPI.job_name_prefix must be 1-40 letters, digits, '-', '+' and '.' "
                "starting with a letter or digit"
            )
        self.job_name_prefix = job_name_prefix
        if timeout_hours is not None and (
            isinstance(timeout_hours, bool)
            or not isinstance(timeout_hours, int)
            or not 24 <= timeout_hours <= 168
        ):
            raise ConfigurationError("BedrockBatchAPI.timeout_hours must be an int from 24 to 168, or None")
        self.timeout_hours = timeout_hours
        self.tags = self._tags(tags)
        for name, value in (("min_records", min_records), ("max_records", max_records),
                            ("max_input_bytes", max_input_bytes)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"BedrockBatchAPI.{name} must be an int >= 1")
        if min_records > max_records:
            raise ConfigurationError("BedrockBatchAPI.min_records is larger than max_records")
        self.min_records, self.max_records, self.max_input_bytes = min_records, max_records, max_input_bytes
        primary = model._connector.connectors[0]
        self._endpoint_name: str = primary.name
        adapter = primary.adapter if isinstance(primary.adapter, BedrockAdapter) else BedrockAdapter()
        base = control_endpoint if control_endpoint is not None else control_of(primary.endpoint.endpoint)
        try:
            config = primary.endpoint.replace(endpoint=base, name=None, model_id=None)
        except LLMError as exc:
            raise ConfigurationError(
                f"BedrockBatchAPI.control_endpoint is not usable: {exc.message}"
            ) from None
        self._control = FailoverConnector([Connector(config, adapter)], model._connector.policy)
        self._s3 = S3Client(model, primary.name, purpose="batch")
        self._formats: dict[str, dict[str, _Format]] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"BedrockBatchAPI({self.model.name!r}, input={self.input.uri!r}, output={self.output_uri!r})"

    async def __aenter__(self) -> BedrockBatchAPI:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- settings -------------------------------------------------------------------------------

    @staticmethod
    def _family_of(model_id: str, family: str, name: str) -> Family:
        found = model_family(model_id, family)
        if found is None:
            raise UnsupportedOperationError(
                f"{name}: Bedrock batch inference is supported here for Anthropic Claude and Amazon Nova "
                "models only",
                provider="bedrock",
                model=name,
                hint="run this model's requests live (RequestManager without a Batch API)",
            )
        return found

    @staticmethod
    def _s3_setting(value: Any, name: str) -> str:
        if not isinstance(value, str) or not _S3_URI.fullmatch(value.strip()):
            raise ConfigurationError(
                f"BedrockBatchAPI.{name} must be an S3 folder such as 's3://my-bucket/batches'",
                hint="Bedrock takes keys of letters, digits and - ! _ * ' ( ) . / only",
            )
        return value.strip()

    @staticmethod
    def _tags(tags: Any) -> list[dict[str, str]]:
        if tags is None:
            return []
        items = list(tags.items()) if isinstance(tags, Mapping) else None
        if items is None:
            if isinstance(tags, str | bytes) or not isinstance(tags, Sequence):
                raise ConfigurationError(
                    "BedrockBatchAPI.tags must be a mapping or a list of {'key', 'value'}"
                )
            items = [(t.get("key"), t.get("value")) if isinstance(t, Mapping) else (None, None) for t in tags]
        if len(items) > 200:
            raise ConfigurationError("BedrockBatchAPI.tags: at most 200 tags")
        for key, value in items:
            if not (isinstance(key, str) and 1 <= len(key) <= 128 and _TAG.fullmatch(key)) or not (
                isinstance(value, str) and len(value) <= 256 and _TAG.fullmatch(value)
            ):
                raise ConfigurationError(
                    "BedrockBatchAPI.tags: keys of 1-128 and values of 0-256 letters, digits, spaces and "
                    "_ . : / = + - @"
                )
        return [{"key": key, "value": value} for key, value in items]

    def _check_open(self) -> None:
        if self._closed:
            raise ConfigurationError("this BedrockBatchAPI is closed")

    # -- submit ---------------------------------------------------------------------------------

    async def submit(self, requests: Sequence[tuple[int, str, BatchRequest]]) -> BatchJob:
        """Upload the requests (one ``{"recordId", "modelInput"}`` line each) and create the job."""
        from ...providers.bedrock.media.s3 import S3Location

        self._check_open()
        items = list(requests)
        if not self.min_records <= len(items) <= self.max_records:
            raise InvalidInputError(
                f"{len(items):,} requests: a Bedrock batch inference job takes {self.min_records:,} to "
                f"{self.max_records:,} records",
                hint="Bedrock's quotas 'Minimum number of records per batch inference job' and 'Records per "
                "batch inference job' (pass min_records= / max_records= if yours differ); run fewer "
                "requests live, split more over several jobs",
            )
        model_id, lines, request_ids, formats = self._build(items)
        data = b"".join(lines)
        if len(data) > self.max_input_bytes:
            raise InvalidInputError(
                f"the requests make a {len(data):,}-byte input file: Bedrock takes at most "
                f"{self.max_input_bytes:,}",
                hint="split them over several jobs",
            )
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        name = f"{self.job_name_prefix}-{stamp}-{secrets.token_hex(3)}"
        location: S3Location = self.input.child(f"{name}.jsonl")
        await self._s3.put_object(location, data, content_type="application/jsonl")
        body: dict[str, Any] = {
            "jobName": name,
            "roleArn": self.role_arn,
            "modelId": model_id,
            "clientRequestToken": str(uuid.uuid4()),
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": location.uri, "s3InputFormat": "JSONL"}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": self.output_uri}},
        }
        if self.timeout_hours is not None:
            body["timeoutDurationInHours"] = self.timeout_hours
        if self.tags:
            body["tags"] = self.tags
        created = await self._call(WireRequest("model_invocation_job", body, model=model_id))
        arn = created.get("jobArn")
        match = _JOB_ARN.fullmatch(arn) if isinstance(arn, str) else None
        if match is None or not isinstance(arn, str):
            raise ResponseParsingError("CreateModelInvocationJob answered without a model-invocation-job ARN")
        job = BatchJob(
            arn,
            self.provider,
            "validating",
            request_ids,
            raw=created,
            locations={
                "endpoint": self._endpoint_name,
                "input": location.uri,
                "output": f"{self.output_uri}/{match.group(1)}/",
                "model": model_id,
            },
        )
        if formats:
            self._formats[arn] = formats
        logger.info("Bedrock batch job %s (%s) created with %d records", arn, name, len(items))
        return job

    def _build(
        self, items: list[tuple[int, str, BatchRequest]]
    ) -> tuple[str, list[bytes], dict[str, int], dict[str, _Format]]:
        """The job's model id, its input lines, ``request_ids`` and the answers' formats."""
        request_ids: dict[str, int] = {}
        for entry in items:
            if not (isinstance(entry, tuple) and len(entry) == 3):
                raise InvalidInputError("submit() takes (index, id, BatchRequest) triples")
            index, custom_id, request = entry
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 10**10:
                raise InvalidInputError(
                    f"a batch request's index must be an int from 0 to 10**10 - 1, not {index!r}"
                )
            if not isinstance(custom_id, str) or not custom_id:
                raise InvalidInputError(f"batch request #{index}: its id must be a non-empty string")
            if not isinstance(request, BatchRequest):
                raise InvalidInputError(f"request {_shown(custom_id)} is not a BatchRequest")
            if custom_id in request_ids or index in request_ids.values():
                raise InvalidInputError(f"request {_shown(custom_id)} (#{index}) is given twice in one job")
            request_ids[custom_id] = index
        overrides = {r.model for _, _, r in items if r.model is not None}
        if len(overrides) > 1:
            raise InvalidInputError(
                "a Bedrock batch job runs one model: the requests name several (BatchRequest.model)",
                hint="submit the requests of each model as a job of their own",
            )
        override = overrides.pop() if overrides else None
        if override is not None:
            self._family_of(override, "", override)
            if model_family(override) != self.family:
                raise InvalidInputError(
                    f"BatchRequest.model {_shown(override)} is not a {self.family} model, as "
                    f"{self.model.name} is"
                )
        model_id = override or self._wire_model()
        named_by_index = _by_index(request_ids)
        lines: list[bytes] = []
        formats: dict[str, _Format] = {}
        for index, custom_id, request in items:
            try:
                body, fmt = self._body(request, override)
            except LLMError as exc:
                exc.message = f"request {_shown(custom_id)} (#{index}): {exc.message}"
                exc.args = (exc.message,)
                exc.fill(provider=self.provider, model=self.model.name)
                raise
            if fmt is not None:
                formats[custom_id] = fmt
            record_id = f"R{index:010d}" if named_by_index else custom_id
            lines.append(encode_json({"recordId": record_id, "modelInput": body}) + b"\n")
        return model_id, lines, request_ids, formats

    def _wire_model(self) -> str:
        from ...providers.bedrock.adapter import BedrockAdapter

        primary = self.model._connector.connectors[0]
        model_id: str = self.model.metadata.model_id
        if isinstance(primary.adapter, BedrockAdapter):
            return primary.adapter.wire_model(primary.endpoint, model_id)
        return model_id

    def _body(self, request: BatchRequest, override: str | None) -> tuple[dict[str, Any], _Format | None]:
        """One request's InvokeModel body and how its answer is read."""
        params = dict(request.params)
        params.pop("api", None)
        for name in ("timeout", "read_timeout", "stream"):
            if name in params:
                raise InvalidInputError(f"{name!r} is not a parameter of a batch request")
        if override is not None:
            params["model"] = override
        if self.family == "claude":
            from ...providers.bedrock.anthropic_invoke import prepare_invoke

            prepared = prepare_invoke(self.model, request.messages, params, stream=False)
            fmt = prepared.response_format
            tool = prepared.format_tool
            body = prepared.body
        else:
            wire, fmt, tool = self.model._prepare(request.messages, params, stream=False)
            body = _nova_body(wire.payload)
        return body, (_Format(fmt, tool) if fmt is not None or tool is not None else None)

    # -- the job --------------------------------------------------------------------------------

    async def _call(self, request: WireRequest) -> dict[str, Any]:
        try:
            wire = await self._control.send(request)
        except PermissionDeniedError as exc:
            exc.hint = _ACCESS_HINT
            raise exc.fill(provider=self.provider, model=self.model.name) from None
        except LLMError as exc:
            raise exc.fill(provider=self.provider, model=self.model.name) from None
        data = wire.data
        if not isinstance(data, dict):
            raise ResponseParsingError(
                f"Bedrock answered {request.method} /model-invocation-job{request.path} with no JSON object",
                endpoint=wire.endpoint,
                status=wire.status,
                request_id=wire.request_id,
            )
        return data

    @staticmethod
    def _job_id(job: BatchJob) -> str:
        match = _JOB_ARN.fullmatch(job.id) if isinstance(job.id, str) else None
        if match is None:
            raise InvalidInputError(f"{_shown(str(job.id))} is not a Bedrock model-invocation-job ARN")
        return match.group(1)

    async def refresh(self, job: BatchJob) -> BatchJob:
        """The job as GetModelInvocationJob reports it now (``raw``: its body, ``message`` and
        all; ``counts``: ``total`` / ``processed`` / ``completed`` / ``failed`` once known)."""
        self._check_open()
        path = f"/{self._job_id(job)}"
        data = await self._call(WireRequest("model_invocation_job", {}, method="GET", path=path))
        status = STATUSES.get(data.get("status"))  # type: ignore[arg-type]
        if status is None:
            raise ResponseParsingError(
                f"Bedrock reported an unknown status for batch job {job.id}: "
                f"{_shown(str(data.get('status')))}"
            )
        counts = dict(job.counts)
        for wire_name, name in _COUNTS.items():
            value = data.get(wire_name)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                counts[name] = value
        return replace(job, status=status, counts=counts, raw=data)

    async def cancel(self, job: BatchJob) -> BatchJob:
        """Ask Bedrock to stop the job (StopModelInvocationJob) and return it as it is then
        (``Stopping`` reads ``in_progress`` until it is ``Stopped``: ``cancelled``). A finished
        job is returned as it is."""
        self._check_open()
        if job.finished:
            return job
        request = WireRequest("model_invocation_job", {}, path=f"/{self._job_id(job)}/stop")
        try:
            await self._call(request)
        except ResponseParsingError as exc:
            if exc.status is None or not 200 <= exc.status < 300:  # a 2xx with an empty body: stopped
                raise
        logger.info("Bedrock batch job %s: stop asked", job.id)
        return await self.refresh(job)

    # -- results --------------------------------------------------------------------------------

    def results(self, job: BatchJob) -> AsyncIterator[BatchResult]:
        """One result per request of the ended job, read from its ``.jsonl.out`` objects."""
        return self._results(job)

    async def _results(self, job: BatchJob) -> AsyncIterator[BatchResult]:
        from ...interfaces.errors import NotFoundError
        from ...providers.bedrock.media.s3 import parse_s3_uri

        self._check_open()
        if not job.finished:
            raise InvalidInputError(
                f"Bedrock batch job {job.id} is {job.status}: its results come once it has ended",
                hint="call refresh() until job.finished",
            )
        by_index = {index: custom_id for custom_id, index in job.request_ids.items()}
        by_record = {} if _by_index(job.request_ids) else dict(job.request_ids)
        family = model_family(job.locations.get("model", ""), "") or self.family
        formats = self._formats.get(job.id, {})
        folder = parse_s3_uri(
            job.locations.get("output") or f"{self.output_uri}/{self._job_id(job)}/", what="the job's output"
        )
        try:
            keys = [key for key in await self._s3.list_keys(folder) if key.endswith(".jsonl.out")]
        except NotFoundError:
            if job.status == "completed":
                raise
            keys = []  # a job that ended early may have written nothing
        seen: set[int] = set()
        for key in keys:
            data = await self._s3.get_object(replace(folder, key=key))
            for number, line in enumerate(data.splitlines(), 1):
                if not line.strip():
                    continue
                result = self._record(line, by_record, by_index, formats, family, job, f"{key}:{number}")
                if result is not None and result.index not in seen:
                    seen.add(result.index)
                    yield result
        for index in sorted(set(by_index) - seen):
            yield BatchResult(index, by_index[index], error=self._missing(job, by_index[index]))

    def _record(
        self,
        line: bytes,
        by_record: Mapping[str, int],
        by_index: Mapping[int, str],
        formats: Mapping[str, _Format],
        family: Family,
        job: BatchJob,
        where: str,
    ) -> BatchResult | None:
        """The result of one output line; None for a line of no request of this job."""
        try:
            item = decode_json(line)
        except ValueError:
            item = None
        record_id = item.get("recordId") if isinstance(item, dict) else None
        index = by_record.get(record_id) if isinstance(record_id, str) else None
        if index is None and isinstance(record_id, str) and not by_record:
            found = _INDEX_RECORD.fullmatch(record_id)
            index = int(found.group(1)) if found is not None else None
        if index is None or index not in by_index or not isinstance(item, dict):
            logger.warning("Bedrock batch job %s: output line %s matches no request; skipped", job.id, where)
            return None
        custom_id = by_index[index]
        if "error" in item:
            return BatchResult(index, custom_id, error=self._fill(record_error(item["error"]), job))
        try:
            response = self._response(item.get("modelOutput"), formats.get(custom_id), family, job)
        except LLMError as exc:
            return BatchResult(index, custom_id, error=self._fill(exc, job))
        return BatchResult(index, custom_id, response=response)

    def _response(self, data: Any, fmt: _Format | None, family: Family, job: BatchJob) -> LLMResponse:
        if not isinstance(data, Mapping):
            raise ResponseParsingError("the output record has neither a modelOutput object nor an error")
        model = self.model
        response_format = fmt.response_format if fmt is not None else None
        tool = fmt.tool if fmt is not None else None
        response: LLMResponse
        if family == "claude":
            from ...providers.dialects.anthropic_messages.parsing import parse_message

            response = parse_message(
                data,
                provider=model.provider,
                model=model.name,
                response_format=response_format,
                format_tool=tool,
            )
            message_id = data.get("id")
            response.request_id = message_id if isinstance(message_id, str) else None
        else:
            from ...providers.dialects.bedrock_converse.parsing import parse_converse

            response = parse_converse(
                _nova_output(data),
                provider=model.provider,
                model=model.name,
                response_format=response_format,
                structured_tool=tool,
            )
        response.endpoint = job.locations.get("endpoint")
        return apply_batch_price(response, model)

    def _fill(self, error: LLMError, job: BatchJob) -> LLMError:
        error.fill(provider=self.provider, model=self.model.name, endpoint=job.locations.get("endpoint"))
        return redact_with(self.model._connector, error)

    def _missing(self, job: BatchJob, custom_id: str) -> LLMError:
        code = job.status if job.status in ("failed", "expired", "cancelled") else "missing"
        message = (
            f"Bedrock batch job {job.id} ended {job.status} without an answer to request {_shown(custom_id)}"
        )
        raw = job.raw if isinstance(job.raw, Mapping) else {}
        reason = raw.get("message")
        if isinstance(reason, str) and reason.strip():
            from ...providers.dialects.bedrock_converse.errors import scrub

            message += f": {scrub(reason, 300)}"
        failure = BatchJobFailedError(
            message, job_id=job.id, code=code, hint="submit the request again (a new job), or run it live"
        )
        return self._fill(failure, job)

    async def close(self) -> None:
        """Close the control-plane and S3 connectors (idempotent; the model stays open)."""
        if self._closed:
            return
        self._closed = True
        await self._control.aclose()
        await self._s3.aclose()


def _by_index(request_ids: Mapping[str, int]) -> bool:
    """True when the records are named by index (``R`` + 10 digits): some request id is not an
    11-character alphanumeric record id."""
    return not all(_RECORD_ID.fullmatch(custom_id) for custom_id in request_ids)
