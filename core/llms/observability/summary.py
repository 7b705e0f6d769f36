"""One finished call as plain values: what the log, Prometheus and in-memory observers record.

:func:`summarize` reads a :class:`~core.llms.interfaces.observer.CallInfo` and the call's answer
or error once; every text value in the result has been through ``call.mask`` (the credentials of
the model's endpoints are masked), and labels keep only their keys and masked values.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..interfaces.errors import LLMError
from ..interfaces.observer import CallInfo

__all__ = ["CallSummary", "error_type", "summarize"]


@dataclass(slots=True)
class CallSummary:
    """A finished call (see :func:`summarize`)."""

    provider: str
    model: str
    operation: str
    stream: bool
    #: ``"ok"`` or ``"error"``.
    outcome: str
    #: seconds from the start of the call to its end (every attempt, backoff and failover).
    duration: float
    #: the endpoint that answered (or, for an error, the last one tried), as its display name.
    endpoint: str | None = None
    #: seconds to the first byte (non-streamed) or first chunk (streams), when known.
    ttfb: float | None = None
    attempts: int = 0
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost: float | None = None
    request_id: str | None = None
    finish_reason: str | None = None
    #: the error's class name (``RateLimitError`` ...), for errors.
    error_type: str | None = None
    status: int | None = None
    cached: bool = False
    labels: dict[str, str] = field(default_factory=dict)


def error_type(error: BaseException) -> str:
    """The low-cardinality name of an error: its class name (``RateLimitError``)."""
    return type(error).__name__


def summarize(call: CallInfo, response: Any = None, error: LLMError | None = None) -> CallSummary:
    """``call`` finished with ``response`` (an answer) or ``error``."""
    mask = call.mask
    ctx = call.ctx
    labels = {key: mask(value) for key, value in ctx.labels.items()} if ctx is not None and ctx.labels else {}
    summary = CallSummary(
        call.provider,
        call.model,
        call.operation,
        call.stream,
        "ok" if error is None else "error",
        time.perf_counter() - call.started,
        attempts=call.attempts,
        labels=labels,
    )
    if call.first_chunk is not None:
        summary.ttfb = call.first_chunk - call.started
    if error is not None:
        summary.error_type = error_type(error)
        summary.endpoint = error.endpoint or _last_endpoint(error)
        summary.status = error.status
        summary.request_id = mask(error.request_id) if error.request_id else None
        return summary
    summary.endpoint = getattr(response, "endpoint", None)
    request_id = getattr(response, "request_id", None)
    summary.request_id = mask(request_id) if request_id else None
    if summary.ttfb is None:
        summary.ttfb = getattr(response, "ttfb", None)
    summary.cost = getattr(response, "cost", None)
    summary.cached = bool(getattr(response, "cached", False))
    finish = getattr(response, "finish_reason", None)
    summary.finish_reason = str(finish) if finish is not None else None
    usage = getattr(response, "usage", None)
    if usage is not None:
        summary.input_tokens = getattr(usage, "input_tokens", None)
        summary.output_tokens = getattr(usage, "output_tokens", None)
        summary.cached_input_tokens = getattr(usage, "cached_input_tokens", None)
        summary.reasoning_tokens = getattr(usage, "reasoning_tokens", None)
    return summary


def _last_endpoint(error: LLMError) -> str | None:
    """The last endpoint an :class:`AllEndpointsFailedError` tried (it carries none itself)."""
    attempts = getattr(error, "attempts", None)
    if not attempts:
        return None
    endpoint = getattr(attempts[-1], "endpoint", None)
    return endpoint if isinstance(endpoint, str) else None
