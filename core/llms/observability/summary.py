"""One finished call as plain values: what the log, Prometheus and in-memory observers record.

:func:`summarize` reads a :class:`~core.llms.interfaces.observer.CallInfo` and the call's answer
or error once; every text value in the result has been through ``call.mask`` (the credentials of
the model's endpoints are masked), and labels keep only their keys and masked values.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from ..interfaces.errors import LLMError
from ..interfaces.observer import CallInfo

__all__ = ["UNKNOWN_ENDPOINT", "CallSummary", "EndpointNames", "error_endpoint", "error_type", "summarize"]

#: the endpoint name of a call that reached none (a media call without one, a call refused early).
UNKNOWN_ENDPOINT = "unknown"


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


def summarize(
    call: CallInfo, response: Any = None, error: LLMError | None = None, *, identify: bool = True
) -> CallSummary:
    """``call`` finished with ``response`` (an answer) or ``error``. ``identify=False`` leaves
    out what identifies the one call (``request_id``, ``labels``): metrics never use it, and
    masking it is most of the work."""
    mask = call.mask
    ctx = call.ctx
    labels = (
        {key: mask(value) for key, value in ctx.labels.items()}
        if identify and ctx is not None and ctx.labels
        else {}
    )
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
        summary.endpoint = error_endpoint(error)
        summary.status = error.status
        if identify and error.request_id:
            summary.request_id = mask(error.request_id)
        return summary
    summary.endpoint = getattr(response, "endpoint", None)
    request_id = getattr(response, "request_id", None) if identify else None
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


def error_endpoint(error: LLMError) -> str | None:
    """Where ``error`` came from: its endpoint, or the last one an :class:`AllEndpointsFailedError`
    tried (it carries none itself)."""
    if error.endpoint:
        return error.endpoint
    attempts = getattr(error, "attempts", None)
    if not attempts:
        return None
    endpoint = getattr(attempts[-1], "endpoint", None)
    return endpoint if isinstance(endpoint, str) else None


class EndpointNames:
    """An endpoint's display name as observers export it (a label, an attribute): without user
    info, query or fragment, and through the model's mask (every credential of its endpoints,
    and any piece of one, masked). A model's mask costs microseconds and its endpoints' names
    do not change, so each name is worked out once per model (the owner of ``call.mask``, held
    weakly: a model gone takes its names with it); a mask that is not a model's bound method is
    applied every time."""

    __slots__ = ("_known",)

    #: names kept per model at most (a model has a few endpoints; the cache never grows unbounded).
    LIMIT = 256

    def __init__(self) -> None:
        self._known: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()

    def __len__(self) -> int:
        """How many models have names here."""
        return len(self._known)

    def __call__(self, call: CallInfo, endpoint: str | None) -> str:
        """``endpoint`` (a display name) as exported; :data:`UNKNOWN_ENDPOINT` for none."""
        if not endpoint:
            return UNKNOWN_ENDPOINT
        owner = getattr(call.mask, "__self__", None)  # the model, for its bound _mask_secrets
        if owner is None:
            return _exported(call, endpoint)
        try:
            known = self._known.get(owner)
            if known is None:
                known = self._known.setdefault(owner, {})
        except TypeError:  # not weakly referenceable (or unhashable): no cache
            return _exported(call, endpoint)
        name = known.get(endpoint)
        if name is None:
            if len(known) >= self.LIMIT:
                known.clear()
            name = known[endpoint] = _exported(call, endpoint)
        return name


def _exported(call: CallInfo, endpoint: str) -> str:
    return call.mask(strip_endpoint(endpoint)) or UNKNOWN_ENDPOINT


def strip_endpoint(endpoint: str) -> str:
    """``endpoint`` without user info (``user:pass@``), query (``?...``) or fragment (``#...``)."""
    for mark in ("?", "#"):
        cut = endpoint.find(mark)
        if cut >= 0:
            endpoint = endpoint[:cut]
    start = endpoint.find("://")
    start = start + 3 if start >= 0 else 0
    slash = endpoint.find("/", start)
    at = endpoint.rfind("@", start, slash if slash >= 0 else len(endpoint))
    if at >= 0:
        endpoint = endpoint[:start] + endpoint[at + 1 :]
    return endpoint
