"""OpenTelemetry GenAI spans and metrics for every call (an observer plugin).

One span per call, named ``{gen_ai.operation.name} {gen_ai.request.model}`` (kind CLIENT),
with the conventions' request attributes at creation (operation, provider, model, sampling
parameters, ``gen_ai.request.stream``), one ``core_llms.attempt`` event per attempt (endpoint,
try number, what followed, error type, HTTP status, delay, breaker state), and the response
attributes (id, model, finish reasons, token usage with cache-read / cache-creation / reasoning
tokens, ``server.address`` / ``server.port`` of the endpoint that answered,
``gen_ai.response.time_to_first_chunk``) or, on failure, ``error.type`` (the error's class name)
and an ERROR status whose description is the masked, shortened message. Metrics:
``gen_ai.client.operation.duration`` (s, with ``error.type`` on failure),
``gen_ai.client.token.usage`` ({token}, ``gen_ai.token.type`` input / output) and, for streams,
``gen_ai.client.operation.time_to_first_chunk`` (s), each with the conventions' explicit buckets.

The span's parent is the span active where the call was made; without one, the caller's
``RequestContext.trace_parent`` (a remote parent); else the span is a root. The span's own W3C
``traceparent`` is put on :attr:`CallInfo.trace_parent`, so the connector sends it with every
attempt and the provider's side of the trace hangs under this span.

Message content (``gen_ai.input.messages`` / ``gen_ai.output.messages``, JSON strings in the
conventions' structure) is recorded only when ``capture_content`` is on (default:
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``). Binary parts (images, audio, files given
as bytes) are never copied: they are recorded as ``{"type": "blob", "modality": ..., "mime_type":
..., "size": n}`` with no content. Every exported string goes through ``call.mask``.

``gen_ai.provider.name`` and ``gen_ai.system``
    The conventions (v1.37+) renamed ``gen_ai.system`` to ``gen_ai.provider.name`` and ask
    instrumentations that emitted v1.36 or earlier to keep doing so by default, switching to
    the latest conventions (and dropping the old ones) when ``OTEL_SEMCONV_STABILITY_OPT_IN``
    lists ``gen_ai_latest_experimental``. This instrumentation is new: it has no old version to
    keep, so it always emits the latest conventions (``gen_ai.provider.name`` and every other
    current name). But dashboards and backends built on v1.36 still read ``gen_ai.system``, and
    the opt-in's definition is "emit the latest ... and do not emit the old one": so without the
    opt-in it also sets the deprecated ``gen_ai.system`` (same value, ``xai`` for xAI) on spans,
    which costs nothing to a reader of the new name; with the opt-in it emits the latest only.
    Metrics never carry it: every metric attribute costs each of the three histogram records per
    call, and a label that always equals another adds nothing to aggregate by. The environment
    is read when the observer is made.

Only ``opentelemetry-api`` is imported (never the SDK); without it the constructor raises
:class:`~core.llms.interfaces.errors.ConfigurationError`. The hot path does no logging and no
context-manager work: attribute dicts for each (provider, model, operation) and for each metric
label set are built once and reused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from ..hookspecs import hookimpl
from ..interfaces.errors import ConfigurationError, LLMError
from ..interfaces.observer import AttemptInfo, CallInfo
from . import semconv as sc
from .summary import EndpointNames

try:
    from opentelemetry import metrics as _metrics
    from opentelemetry import trace as _trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    _API_MISSING: ImportError | None = None
except ImportError as exc:  # pragma: no cover - exercised by monkeypatching the flag
    _API_MISSING = exc

__all__ = ["ATTEMPT_EVENT", "OTelObserver"]

#: the instrumentation scope name of the tracer and the meter.
SCOPE = "core.llms"
#: the span event added for each attempt.
ATTEMPT_EVENT = "core_llms.attempt"
#: where the observer keeps its state in ``CallInfo.data``.
_KEY = "core_llms.otel"
#: status descriptions are cut to this many characters.
_MAX_DESCRIPTION = 200
#: cached label sets kept at most (then the cache starts over).
_MAX_CACHED = 2048

# call parameter -> (attribute, kind): "i" int, "f" float, "s" stop sequences, "n" choice count.
_PARAMS: Mapping[str, tuple[str, str]] = {
    "max_tokens": (sc.REQUEST_MAX_TOKENS, "i"),
    "max_output_tokens": (sc.REQUEST_MAX_TOKENS, "i"),
    "max_completion_tokens": (sc.REQUEST_MAX_TOKENS, "i"),
    "temperature": (sc.REQUEST_TEMPERATURE, "f"),
    "top_p": (sc.REQUEST_TOP_P, "f"),
    "top_k": (sc.REQUEST_TOP_K, "f"),
    "seed": (sc.REQUEST_SEED, "i"),
    "frequency_penalty": (sc.REQUEST_FREQUENCY_PENALTY, "f"),
    "presence_penalty": (sc.REQUEST_PRESENCE_PENALTY, "f"),
    "stop": (sc.REQUEST_STOP_SEQUENCES, "s"),
    "stop_sequences": (sc.REQUEST_STOP_SEQUENCES, "s"),
    "n": (sc.REQUEST_CHOICE_COUNT, "n"),
}


#: the metric attributes of one label set: (duration and first chunk, input tokens, output tokens).
_Labels = tuple[dict[str, Any], dict[str, Any], dict[str, Any]]


class _Base:
    """What every call of one (provider, model, operation) shares."""

    __slots__ = ("metric_attrs", "name", "span_attrs")

    def __init__(self, name: str, span_attrs: dict[str, Any], metric_attrs: dict[str, Any]) -> None:
        self.name = name
        self.span_attrs = span_attrs
        self.metric_attrs = metric_attrs


class _State:
    """One running call: its span, the endpoint of its last attempt, whether it has events."""

    __slots__ = ("address", "base", "events", "port", "span")

    def __init__(self, span: Any, base: _Base) -> None:
        self.span = span
        self.base = base
        self.address: str | None = None
        self.port: int | None = None
        self.events = False


class OTelObserver:
    """Reports each call as an OpenTelemetry GenAI span and metrics (see the module docstring).

    ``tracer_provider`` / ``meter_provider``: default OpenTelemetry's global ones.
    ``capture_content``: record messages and answers (default:
    ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``).
    """

    #: add an attempt event for a call answered by its first attempt too (the default: every
    #: attempt is an event). False saves ~4 µs per call: then a call gets events only when it
    #: had more than one attempt or its attempt failed (the span alone describes the rest).
    lone_attempt_events = True

    def __init__(
        self,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        capture_content: bool | None = None,
    ) -> None:
        if _API_MISSING is not None:
            raise ConfigurationError(
                "the OpenTelemetry observer needs the opentelemetry-api package",
                hint="pip install 'core-llms[otel]'",
            )
        from .. import __version__

        self.capture_content = sc.capture_content_from_env() if capture_content is None else capture_content
        #: True: the latest conventions only; False: also the deprecated ``gen_ai.system``.
        self.latest_only = sc.latest_only()
        self._tracer = _trace.get_tracer(SCOPE, __version__, tracer_provider=tracer_provider)
        meter = _metrics.get_meter(SCOPE, __version__, meter_provider=meter_provider)
        self._duration = meter.create_histogram(
            sc.METRIC_OPERATION_DURATION,
            unit=sc.UNIT_SECONDS,
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=sc.DURATION_BUCKETS,
        )
        self._tokens = meter.create_histogram(
            sc.METRIC_TOKEN_USAGE,
            unit=sc.UNIT_TOKEN,
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=sc.TOKEN_BUCKETS,
        )
        self._ttfc = meter.create_histogram(
            sc.METRIC_TIME_TO_FIRST_CHUNK,
            unit=sc.UNIT_SECONDS,
            description="Time to receive the first chunk of a streamed answer.",
            explicit_bucket_boundaries_advisory=sc.TTFC_BUCKETS,
        )
        self._propagator = TraceContextTextMapPropagator()
        self._bases: dict[tuple[Any, ...], _Base] = {}
        self._labels: dict[tuple[Any, ...], _Labels] = {}
        self._endpoints = EndpointNames()

    @hookimpl
    def llms_on_request(self, call: CallInfo) -> None:
        """Start the call's span (and hand its ``traceparent`` to the connector)."""
        key = (call.provider, call.model, call.operation, call.mask)
        base = self._bases.get(key)
        if base is None:
            base = self._base(call, key)
        attrs = base.span_attrs
        params = call.params
        if params or call.stream or self.capture_content:
            attrs = dict(attrs)
            if params:
                _add_params(attrs, params, call)
            if call.stream:
                attrs[sc.REQUEST_STREAM] = True
            if self.capture_content:
                _add_input_messages(attrs, call)
        if call.server_address is not None:  # known at the start (the conventions ask for it there)
            if attrs is base.span_attrs:
                attrs = dict(attrs)
            attrs[sc.SERVER_ADDRESS] = call.server_address
            if call.server_port is not None:
                attrs[sc.SERVER_PORT] = call.server_port
        parent = None
        if not _trace.get_current_span().get_span_context().is_valid:
            ctx = call.ctx
            remote = ctx.trace_parent if ctx is not None else None
            if remote:
                parent = self._propagator.extract({"traceparent": remote})
        span = self._tracer.start_span(base.name, parent, SpanKind.CLIENT, attrs)
        context = span.get_span_context()
        if context.is_valid:
            call.trace_parent = f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
        call.data[_KEY] = _State(span, base)

    @hookimpl
    def llms_on_attempt(self, call: CallInfo, attempt: AttemptInfo) -> None:
        """Add an attempt event; remember the endpoint it went to."""
        state = call.data.get(_KEY)
        if state is None:
            return
        if attempt.action != "skipped":
            state.address = attempt.server_address
            state.port = attempt.server_port
        span = state.span
        if not span.is_recording():
            return
        if (
            attempt.action == "done"
            and attempt.attempt == 1
            and not state.events
            and not self.lone_attempt_events
        ):
            return  # a lone successful attempt: the span itself says it all
        state.events = True
        attrs: dict[str, Any] = {
            "core_llms.endpoint": self._endpoints(call, attempt.endpoint),
            "core_llms.attempt": attempt.attempt,
            "core_llms.action": attempt.action,
            "core_llms.breaker": attempt.breaker,
        }
        if attempt.error is not None:
            attrs[sc.ERROR_TYPE] = type(attempt.error).__name__
        if attempt.status is not None:
            attrs[sc.HTTP_STATUS] = attempt.status
        if attempt.duration is not None:
            attrs["core_llms.duration"] = attempt.duration
        if attempt.delay is not None:
            attrs["core_llms.delay"] = attempt.delay
        span.add_event(ATTEMPT_EVENT, attrs)

    @hookimpl
    def llms_on_response(self, call: CallInfo, response: Any) -> None:
        """Finish the span with the answer's attributes; record the metrics."""
        state = call.data.pop(_KEY, None)
        if state is None:
            return
        now = time.perf_counter()
        span = state.span
        usage = getattr(response, "usage", None)
        model = getattr(response, "model", None)
        if not isinstance(model, str):
            model = None
        ttfc = call.first_chunk - call.started if call.stream and call.first_chunk is not None else None
        labels = self._metric_labels(state, model, None, call)
        if span.is_recording():
            attrs: dict[str, Any] = {}
            if model:
                attrs[sc.RESPONSE_MODEL] = labels[0][sc.RESPONSE_MODEL]
            response_id = _response_id(response)
            if response_id:
                attrs[sc.RESPONSE_ID] = call.mask(response_id)
            finish = getattr(response, "finish_reason", None)
            if finish is not None:
                attrs[sc.RESPONSE_FINISH_REASONS] = (str(finish),)
            _add_outcome(attrs, state, usage, ttfc, call)
            if self.capture_content:
                _add_output_messages(attrs, call, response)
            span.set_attributes(attrs)
        span.end()
        self._record(now - call.started, ttfc, usage, labels)

    @hookimpl
    def llms_on_error(self, call: CallInfo, error: LLMError) -> None:
        """Finish the span as failed (``error.type``, ERROR status); record the metrics."""
        state = call.data.pop(_KEY, None)
        if state is None:
            return
        now = time.perf_counter()
        span = state.span
        error_type = type(error).__name__
        ttfc = call.first_chunk - call.started if call.stream and call.first_chunk is not None else None
        usage = getattr(error, "usage", None)
        if span.is_recording():
            attrs: dict[str, Any] = {sc.ERROR_TYPE: error_type}
            _add_outcome(attrs, state, usage, ttfc, call)
            span.set_attributes(attrs)
            message = getattr(error, "message", None) or str(error) or error_type
            span.set_status(Status(StatusCode.ERROR, call.mask(str(message))[:_MAX_DESCRIPTION]))
        span.end()
        self._record(now - call.started, ttfc, usage, self._metric_labels(state, None, error_type, call))

    def _record(self, duration: float, ttfc: float | None, usage: Any, labels: _Labels) -> None:
        self._duration.record(duration, labels[0])
        if ttfc is not None:
            self._ttfc.record(ttfc, labels[0])
        if usage is not None and hasattr(usage, "input_tokens"):
            self._tokens.record(getattr(usage, "input_tokens", 0) or 0, labels[1])
            self._tokens.record(getattr(usage, "output_tokens", 0) or 0, labels[2])

    def _base(self, call: CallInfo, key: tuple[Any, ...]) -> _Base:
        operation = sc.operation_name(call.operation)
        provider = sc.provider_name(call.provider)
        model = call.mask(call.model)
        shared: dict[str, Any] = {sc.OPERATION_NAME: operation, sc.PROVIDER_NAME: provider}
        shared[sc.REQUEST_MODEL] = model
        span_attrs = dict(shared)
        if not self.latest_only:
            span_attrs[sc.SYSTEM] = sc.legacy_system_name(provider)
        base = _Base(f"{operation} {model}", span_attrs, shared)
        if len(self._bases) >= _MAX_CACHED:
            self._bases.clear()
        self._bases[key] = base
        return base

    def _metric_labels(
        self, state: _State, model: str | None, error_type: str | None, call: CallInfo
    ) -> _Labels:
        key = (state.base, model, state.address, state.port, error_type)
        labels = self._labels.get(key)
        if labels is None:
            common = dict(state.base.metric_attrs)
            if model:
                common[sc.RESPONSE_MODEL] = call.mask(model)
            if state.address is not None:
                common[sc.SERVER_ADDRESS] = state.address
                if state.port is not None:
                    common[sc.SERVER_PORT] = state.port
            duration = dict(common)
            if error_type is not None:
                duration[sc.ERROR_TYPE] = error_type
            labels = (
                duration,
                {**common, sc.TOKEN_TYPE: sc.TOKEN_INPUT},
                {**common, sc.TOKEN_TYPE: sc.TOKEN_OUTPUT},
            )
            if len(self._labels) >= _MAX_CACHED:
                self._labels.clear()
            self._labels[key] = labels
        return labels


# --- attribute builders -------------------------------------------------------------------------


def _add_params(attrs: dict[str, Any], params: Mapping[str, Any], call: CallInfo) -> None:
    for name, value in params.items():
        spec = _PARAMS.get(name)
        if spec is None or value is None or isinstance(value, bool):
            continue
        attribute, kind = spec
        if kind == "f":
            if isinstance(value, int | float):
                attrs[attribute] = float(value)
        elif kind == "i":
            if isinstance(value, int):
                attrs[attribute] = value
        elif kind == "n":
            if isinstance(value, int) and value != 1:
                attrs[attribute] = value
        elif isinstance(value, str):
            attrs[attribute] = (call.mask(value),)
        elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            attrs[attribute] = tuple(call.mask(v) for v in value)


def _add_outcome(
    attrs: dict[str, Any], state: _State, usage: Any, ttfc: float | None, call: CallInfo
) -> None:
    if usage is not None:
        _add_usage(attrs, usage)
    # the endpoint that answered, unless it is the one the span already names (the primary)
    if state.address is not None and (state.address, state.port) != (call.server_address, call.server_port):
        attrs[sc.SERVER_ADDRESS] = state.address
        if state.port is not None:
            attrs[sc.SERVER_PORT] = state.port
    if ttfc is not None:
        attrs[sc.RESPONSE_TIME_TO_FIRST_CHUNK] = ttfc


def _add_usage(attrs: dict[str, Any], usage: Any) -> None:
    for attribute, field in (
        (sc.USAGE_INPUT_TOKENS, "input_tokens"),
        (sc.USAGE_OUTPUT_TOKENS, "output_tokens"),
    ):
        value = getattr(usage, field, None)
        if isinstance(value, int):
            attrs[attribute] = value
    for attribute, field in (
        (sc.USAGE_CACHE_READ_INPUT_TOKENS, "cached_input_tokens"),
        (sc.USAGE_CACHE_CREATION_INPUT_TOKENS, "cache_write_input_tokens"),
        (sc.USAGE_REASONING_OUTPUT_TOKENS, "reasoning_tokens"),
    ):
        value = getattr(usage, field, None)
        if isinstance(value, int) and value > 0:
            attrs[attribute] = value


def _response_id(response: Any) -> str | None:
    """The completion's id (``chatcmpl-...``) when the raw answer has one, else the request id."""
    raw = getattr(response, "raw", None)
    if isinstance(raw, dict):
        value = raw.get("id")
        if isinstance(value, str) and value:
            return value
    request_id = getattr(response, "request_id", None)
    return request_id if isinstance(request_id, str) else None


# --- message content (opt-in) -------------------------------------------------------------------


def _add_input_messages(attrs: dict[str, Any], call: CallInfo) -> None:
    if call.messages is None:
        return
    from ..interfaces.messages import normalize_messages

    try:
        messages = normalize_messages(call.messages)
    except LLMError:
        return  # the call itself reports it
    mask = call.mask
    out = []
    for message in messages:
        parts: list[dict[str, Any]] = []
        if message.role == "tool":
            text = "".join(getattr(p, "text", "") for p in message.content)
            parts.append({"type": "tool_call_response", "id": message.tool_call_id, "response": mask(text)})
        else:
            parts.extend(_part(p, mask) for p in message.content)
        for tool_call in message.tool_calls:
            parts.append(
                _tool_call(tool_call.id, tool_call.function.name, tool_call.function.arguments, mask)
            )
        item: dict[str, Any] = {"role": message.role, "parts": parts}
        if message.name:
            item["name"] = mask(message.name)
        out.append(item)
    attrs[sc.INPUT_MESSAGES] = json.dumps(out, ensure_ascii=False)


def _add_output_messages(attrs: dict[str, Any], call: CallInfo, response: Any) -> None:
    text = getattr(response, "text", None)
    if not isinstance(text, str):
        return  # a media answer: no message
    mask = call.mask
    parts: list[dict[str, Any]] = []
    if text:
        parts.append({"type": "text", "content": mask(text)})
    for tool_call in getattr(response, "tool_calls", None) or ():
        function = tool_call.function
        parts.append(_tool_call(tool_call.id, function.name, function.arguments, mask))
    finish = getattr(response, "finish_reason", None)
    message = {"role": "assistant", "parts": parts, "finish_reason": str(finish) if finish else "stop"}
    attrs[sc.OUTPUT_MESSAGES] = json.dumps([message], ensure_ascii=False)


def _part(part: Any, mask: Any) -> dict[str, Any]:
    kind = getattr(part, "type", "")
    if kind == "text":
        return {"type": "text", "content": mask(part.text)}
    modality = {"image": "image", "audio": "audio"}.get(kind, "file")
    url = getattr(part, "url", None)
    media_type = getattr(part, "media_type", None) or getattr(part, "format", None)
    if url:
        out = {"type": "uri", "modality": modality, "uri": mask(url)}
    elif getattr(part, "file_id", None):
        out = {"type": "file", "modality": modality, "file_id": mask(part.file_id)}
    else:
        data = getattr(part, "data", None)
        out = {"type": "blob", "modality": modality, "size": len(data) if data is not None else 0}
    if media_type:
        out["mime_type"] = mask(str(media_type))
    return out


def _tool_call(call_id: str | None, name: str, arguments: str, mask: Any) -> dict[str, Any]:
    text = mask(arguments or "")
    try:
        parsed: Any = json.loads(text) if text else {}
    except ValueError:
        parsed = text
    return {
        "type": "tool_call",
        "id": mask(call_id) if call_id else None,
        "name": mask(name),
        "arguments": parsed,
    }
