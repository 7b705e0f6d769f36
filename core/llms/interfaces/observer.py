"""Observation points: what a model reports about each call to metrics, tracing and log plugins.

A model with an observer reports three events per call (``on_request``, then ``on_response`` or
``on_error``) and, from its connector, one ``on_attempt`` per attempt: each try on an endpoint,
and each endpoint skipped because its circuit breaker is open. Observers are plugins (see
:mod:`core.llms.hookspecs`); a model without one pays nothing.

While a call runs, :data:`CURRENT_CALL` holds its :class:`CallInfo` (in the call's own
:mod:`contextvars` context): the connector reads it to report attempts and to send the
``traceparent`` a tracing observer chose (:attr:`CallInfo.trace_parent`).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from .context import RequestContext
from .errors import LLMError
from .types import LLMResponse

if TYPE_CHECKING:
    from .messages import Message

__all__ = ["CURRENT_CALL", "AttemptAction", "AttemptInfo", "CallInfo", "IObserver", "report_attempt"]

logger = logging.getLogger("core.llms.models")

#: What followed an attempt: ``"done"`` (it answered: the call ends with its answer), ``"retry"``
#: (the same endpoint again, after ``delay``), ``"failover"`` (the next endpoint), ``"raise"``
#: (the call ends with this error), ``"give_up"`` (no endpoint left: the call fails),
#: ``"skipped"`` (not sent: the endpoint's circuit breaker is open), ``"interrupted"`` (a stream
#: broke after data had reached the caller).
AttemptAction = Literal["done", "retry", "failover", "raise", "give_up", "skipped", "interrupted"]


def _unchanged(text: str) -> str:
    return text


@dataclass(slots=True)
class CallInfo:
    """One call as observers see it. It never holds a secret: ``params`` are the call's
    parameters as the caller gave them (after the model's defaults), ``messages`` its normalised
    messages (content: observers that export it must do so only when their user opts in)."""

    provider: str
    model: str
    ctx: RequestContext | None
    stream: bool
    #: :func:`time.perf_counter` when the call started.
    started: float
    #: the GenAI operation: ``"chat"``, ``"embeddings"``, ``"generate_image"`` ...
    operation: str = "chat"
    #: the call's parameters (``temperature``, ``max_tokens``, ``model`` ...), read-only.
    params: Mapping[str, Any] = field(default_factory=dict)
    #: the call's messages (normalised), or None when the operation has none.
    messages: Sequence[Message] | None = None
    #: the W3C ``traceparent`` to send with each attempt (a tracing observer sets it in
    #: ``on_request``); when None, ``ctx.trace_parent`` is sent, if any.
    trace_parent: str | None = None
    #: :func:`time.perf_counter` when a stream's first chunk arrived (streams only).
    first_chunk: float | None = None
    #: attempts sent so far (all endpoints; skips not counted).
    attempts: int = 0
    #: each observer's own state for this call, under a key of its choosing.
    data: dict[str, Any] = field(default_factory=dict)
    #: host and port of the model's first endpoint (where the call goes unless it fails over).
    server_address: str | None = None
    server_port: int | None = None
    #: the observer the connector reports attempts to (set by the model).
    observer: IObserver | None = field(default=None, repr=False, compare=False)
    #: masks every credential of the model's endpoints (and any piece of one) in a text: pass
    #: every value an observer exports (logs, labels, attributes) through it.
    mask: Callable[[str], str] = field(default=_unchanged, repr=False, compare=False)


@dataclass(slots=True)
class AttemptInfo:
    """One attempt of a call (or one endpoint skipped), reported by the connector."""

    #: display name of the endpoint (``scheme://host/path``, no query, no secrets).
    endpoint: str
    #: the try number on this endpoint, from 1 (0 for a skip).
    attempt: int
    #: what happened next (see :data:`AttemptAction`).
    action: AttemptAction
    #: the attempt's error (None when it answered, or for a skip).
    error: LLMError | None = None
    #: seconds the attempt took (None for a skip).
    duration: float | None = None
    #: seconds the call waits before its next attempt (retries only).
    delay: float | None = None
    #: the endpoint's circuit-breaker state after the attempt.
    breaker: str = "closed"
    #: the HTTP status, when one arrived.
    status: int | None = None
    #: the endpoint's host and port (from its URL; never user info or a query).
    server_address: str | None = None
    server_port: int | None = None


class IObserver(Protocol):
    """Receives call events. Implementations must be fast and must not raise.

    ``on_attempt`` is optional: an observer without it is simply not told about attempts.
    ``response`` is an :class:`LLMResponse` for chat calls (streams: the accumulated answer);
    for media calls (``call.operation`` other than ``"chat"``) it is the media response (an
    ``EmbeddingResponse``, a stream's last chunk ...).
    """

    def on_request(self, call: CallInfo) -> None: ...

    def on_response(self, call: CallInfo, response: LLMResponse) -> None: ...

    def on_error(self, call: CallInfo, error: LLMError) -> None: ...


#: the call running in this context, when its model has an observer (else None).
CURRENT_CALL: contextvars.ContextVar[CallInfo | None] = contextvars.ContextVar(
    "core_llms_current_call", default=None
)


def report_attempt(call: CallInfo, attempt: AttemptInfo) -> None:
    """Tell ``call``'s observer about ``attempt`` (an observer failure is logged, never raised)."""
    observer = call.observer
    on_attempt = getattr(observer, "on_attempt", None)
    if on_attempt is None:
        return
    try:
        on_attempt(call, attempt)
    except Exception:  # an observer must never break a call
        logger.exception("observer on_attempt failed")
