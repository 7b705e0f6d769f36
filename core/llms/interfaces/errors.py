"""The one error tree of core-llms.

Every failure the library reports is an :class:`LLMError`. Provider error bodies and transport
exceptions are translated into this tree in exactly one place per provider (its ``map_error``),
and the retry / failover rules (``core.llms.providers.base.retry``) read only the two class
attributes defined here:

``retryable``
    the same endpoint may be tried again after a backoff (429, 408, 409, 5xx, timeouts, resets).
``failover``
    the next endpoint may be tried (connection errors, timeouts, 500/502/503/504/529).

Tree::

    LLMError
    ├── AuthenticationError            401             never retried, never failed over
    ├── PermissionDeniedError          403             never retried, never failed over
    ├── RateLimitError                 429             retried after Retry-After; failover by policy
    ├── RequestTimeoutError            timeouts, 408   retried, failed over
    ├── APIConnectionError             refused/reset   retried, failed over
    ├── ServiceUnavailableError        5xx, 529        retried, failed over
    ├── ConflictError                  409             retried on the same endpoint
    ├── BadRequestError                400, 422        never retried, never failed over
    │   ├── ContextWindowExceededError
    │   ├── ContentFilterError
    │   └── NotFoundError              404 (model / deployment unknown)
    ├── UnsupportedOperationError      the model cannot do that (hint names what can)
    ├── InvalidInputError              the caller's input is malformed (also a ValueError)
    │   └── UnsafeURLError             a URL the library would download is refused (private
    │                                  address, scheme, redirect)
    ├── ConfigurationError             bad settings, unknown model or provider (also a ValueError)
    │   └── UnknownModelError
    ├── BudgetExceededError
    ├── ResponseParsingError           the provider answered something we cannot read
    │   └── ResponseTooLargeError      a body or one stream event exceeded its size cap
    ├── StreamInterruptedError         a stream broke after chunks reached the caller
    ├── VideoJobFailedError            a video generation job ended ``failed`` (``job_id``)
    ├── BatchJobFailedError            a provider Batch API job/request failed, expired or was
    │                                  cancelled (``job_id``, ``code``)
    ├── CallCancelledError             observers only: the caller cancelled the call or stopped
    │                                  reading its stream (never raised to the caller)
    └── AllEndpointsFailedError        every endpoint was tried; ``attempts`` lists each cause

Secrets never appear in any message or repr: errors carry endpoint *names* (scheme, host and
path, never query strings or headers) and provider messages, never request headers. What a server
echoes (messages, bodies, request ids) is masked with the endpoint's credentials, pieces of them
included, and a transport error's ``__cause__`` is a sanitized stand-in for aiohttp's exception
(see ``core.llms.providers.base.redact`` and ``transport_errors``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "APIConnectionError",
    "AllEndpointsFailedError",
    "AttemptRecord",
    "AuthenticationError",
    "BadRequestError",
    "BatchJobFailedError",
    "BudgetExceededError",
    "CallCancelledError",
    "ConfigurationError",
    "ConflictError",
    "ContentFilterError",
    "ContextWindowExceededError",
    "InvalidInputError",
    "LLMError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseParsingError",
    "ResponseTooLargeError",
    "ServiceUnavailableError",
    "StreamInterruptedError",
    "UnknownModelError",
    "UnsafeURLError",
    "UnsupportedOperationError",
    "VideoJobFailedError",
]


class LLMError(Exception):
    """Base of every error raised by core-llms.

    Attributes are all optional and filled in as the error travels up the layers: the
    connector knows the endpoint, status and request id; the model fills in provider and model.
    """

    retryable: ClassVar[bool] = False
    failover: ClassVar[bool] = False
    #: for an error reported inside a stream: the finish reason and usage that had arrived with
    #: it or before it (a host may say why it stopped and what it counted, then the error).
    finish_reason: Any = None
    usage: Any = None

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        endpoint: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        attempt: int | None = None,
        hint: str | None = None,
        code: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.model = model
        self.endpoint = endpoint
        self.status = status
        self.request_id = request_id
        self.attempt = attempt
        self.hint = hint
        self.code = code
        #: the provider's parsed error body (a dict) when there was one; never request data.
        self.body = body

    def fill(self, **fields: Any) -> LLMError:
        """Set the given attributes where they are still ``None``; returns ``self``."""
        for name, value in fields.items():
            if value is not None and getattr(self, name, None) is None:
                setattr(self, name, value)
        return self

    def __str__(self) -> str:
        parts = [self.message]
        where = ", ".join(
            f"{k}={v}"
            for k, v in (
                ("provider", self.provider),
                ("model", self.model),
                ("endpoint", self.endpoint),
                ("status", self.status),
                ("request_id", self.request_id),
                ("attempt", self.attempt),
            )
            if v is not None
        )
        if where:
            parts.append(f"[{where}]")
        if self.hint:
            parts.append(f"Hint: {self.hint}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r}, endpoint={self.endpoint!r})"


class AuthenticationError(LLMError):
    """The credentials were rejected (HTTP 401)."""


class PermissionDeniedError(LLMError):
    """The credentials are valid but not allowed to do this (HTTP 403)."""


class RateLimitError(LLMError):
    """The endpoint is rate limiting (HTTP 429). ``retry_after`` is in seconds when known."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class RequestTimeoutError(LLMError):
    """Connecting, waiting for the first byte, or waiting between bytes took too long (or 408)."""

    retryable = True
    failover = True


class APIConnectionError(LLMError):
    """The connection could not be made or was lost (refused, reset, DNS, TLS)."""

    retryable = True
    failover = True


class ServiceUnavailableError(LLMError):
    """The provider failed on its side (HTTP 500, 502, 503, 504, 529)."""

    retryable = True
    failover = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ConflictError(LLMError):
    """HTTP 409: a concurrent operation conflicted; worth retrying on the same endpoint."""

    retryable = True


class BadRequestError(LLMError):
    """The provider rejected the request as invalid (HTTP 400 / 422)."""


class ContextWindowExceededError(BadRequestError):
    """The prompt plus the requested output does not fit the model's context window."""


class ContentFilterError(BadRequestError):
    """The provider's content filter blocked the prompt or the completion.

    ``filter_results`` holds the provider's per-category verdicts when it sent them (Azure:
    ``{"hate": {"filtered": false, "severity": "safe"}, "self_harm": {"filtered": true, ...}}``);
    :attr:`categories` those of them that fired.
    """

    def __init__(self, message: str, *, filter_results: dict[str, Any] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.filter_results = filter_results

    @property
    def categories(self) -> dict[str, Any]:
        """The categories that fired: the verdicts of ``filter_results`` saying
        ``"filtered": true`` (``{"self_harm": {"filtered": True, "severity": "medium"}}``);
        empty when the provider sent no verdicts."""
        results = self.filter_results
        if not isinstance(results, dict):
            return {}
        return {k: v for k, v in results.items() if isinstance(v, dict) and v.get("filtered") is True}


class NotFoundError(BadRequestError):
    """The model, deployment or route does not exist on this endpoint (HTTP 404)."""


class UnsupportedOperationError(LLMError):
    """The model cannot do what was asked (e.g. ``get_image`` on a text-only model)."""


class InvalidInputError(LLMError, ValueError):
    """The caller's messages or parameters are malformed; nothing was sent."""


class UnsafeURLError(InvalidInputError):
    """A URL the library was asked to download (e.g. an image a provider needs as bytes) was
    refused: not http(s), or its host resolves to a private, loopback, link-local, multicast,
    reserved or unspecified address (directly or through a redirect)."""


class ConfigurationError(LLMError, ValueError):
    """Settings are missing or wrong (unknown field, missing endpoint or key, bad config file)."""


class UnknownModelError(ConfigurationError):
    """No registered model or provider has that name; the message lists what is available."""


class BudgetExceededError(LLMError):
    """A call would pass (or, streaming, passed) a token or cost limit: a call's
    ``token_budget`` / ``cost_ceiling_usd`` / ``ctx.budget_usd``, or a shared
    :class:`~core.llms.budget.Budget`. Nothing was sent when it is raised before a call.

    ``unit`` is ``"tokens"`` or ``"usd"``; ``limit`` the limit; ``spent`` what was already spent
    against it (a shared budget's spending and reservations, or a stream's running figure);
    ``estimate`` what this call was estimated to need; ``text`` the answer received before a
    stream was stopped. The message states the figures given, e.g. ``"the prompt + max_tokens
    500 does not fit token_budget (needs ~607 tokens; limit 300 tokens)"`` (``spent`` when not 0).
    """

    def __init__(
        self,
        message: str,
        *,
        limit: float | None = None,
        spent: float | None = None,
        estimate: float | None = None,
        unit: str | None = None,
        text: str = "",
        **fields: Any,
    ) -> None:
        figures = "; ".join(
            prefix + self._figure(value, unit)
            for prefix, value in (("needs ~", estimate), ("limit ", limit), ("spent ", spent))
            if value is not None and (value or prefix != "spent ")  # (nothing spent: not said)
        )
        super().__init__(f"{message} ({figures})" if figures else message, **fields)
        self.limit = limit
        self.spent = spent
        self.estimate = estimate
        self.unit = unit
        self.text = text

    @staticmethod
    def _figure(value: float, unit: str | None) -> str:
        """``1,234 tokens``, ``$0.0000428`` (three significant digits, no exponent), or the number."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return repr(value)
        if unit == "tokens":
            return f"{value:,.0f} tokens"
        if unit == "usd":
            from math import floor, isfinite, log10

            if value == 0 or not isfinite(value):
                return f"${value:.2f}"
            return f"${value:,.{min(12, max(2, 2 - floor(log10(abs(value)))))}f}"
        return f"{value:g}"


class ResponseParsingError(LLMError):
    """The provider answered with something that cannot be read (malformed JSON, bad event)."""


class ResponseTooLargeError(ResponseParsingError):
    """A response body exceeded the endpoint's ``max_response_bytes``, or one stream event (line)
    exceeded its ``max_event_bytes``; reading stopped there. Never retried, never failed over."""


class StreamInterruptedError(LLMError):
    """A stream broke after chunks had already reached the caller; it is not failed over.

    ``partial_text`` and ``partial_tool_calls`` hold what had arrived; ``cause`` the error
    that broke it (also chained as ``__cause__``); ``finish_reason`` and ``usage`` those that had
    arrived, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        partial_text: str = "",
        partial_tool_calls: list[Any] | None = None,
        cause: BaseException | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.partial_text = partial_text
        self.partial_tool_calls = partial_tool_calls or []
        self.cause = cause
        if isinstance(cause, LLMError):  # what the stream had said before it broke
            self.finish_reason = cause.finish_reason
            self.usage = cause.usage


class VideoJobFailedError(LLMError):
    """A video generation job the provider accepted ended ``failed`` (``code``: the provider's
    reason, e.g. ``moderation_blocked``; ``job_id``: the provider's id of the job). The request
    itself succeeded, so nothing retries or fails over: the job is over."""

    def __init__(self, message: str, *, job_id: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.job_id = job_id


class BatchJobFailedError(LLMError):
    """A provider Batch API job (or one request in it) did not produce an answer: the job
    failed validation, expired before the request ran, or was cancelled (``code``: ``"failed"``,
    ``"expired"``, ``"cancelled"`` or the provider's own reason; ``job_id``: the provider's id
    of the job). Not retried: submit the request again (a new job) to try it again."""

    def __init__(self, message: str, *, job_id: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.job_id = job_id


class CallCancelledError(LLMError):
    """What observers receive (``llms_on_error``) for a call that ended without an answer or an
    error of its own: its task was cancelled, or the caller stopped reading its stream before the
    end. The caller never sees it (it gets its ``CancelledError``, or simply stopped);
    ``partial_text`` holds what a stream had produced by then."""

    def __init__(self, message: str, *, partial_text: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.partial_text = partial_text


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One attempt of a call: which endpoint, which try on it, and how it failed."""

    endpoint: str
    attempt: int
    error: LLMError | None
    skipped: bool = False  # the circuit breaker was open, so nothing was sent

    def describe(self) -> str:
        if self.skipped:
            return f"{self.endpoint}: skipped (circuit open)"
        return f"{self.endpoint} (try {self.attempt}): {type(self.error).__name__}: " + (
            self.error.message if self.error else "?"
        )


class AllEndpointsFailedError(LLMError):
    """Every endpoint was tried (or skipped because its breaker was open) and none answered.

    ``attempts`` lists each attempt in order; ``last_error`` is the final cause.
    """

    def __init__(self, message: str, *, attempts: list[AttemptRecord], **kw: Any) -> None:
        details = "; ".join(a.describe() for a in attempts)
        super().__init__(f"{message}: {details}" if details else message, **kw)
        self.attempts = attempts

    @property
    def last_error(self) -> LLMError | None:
        for a in reversed(self.attempts):
            if a.error is not None:
                return a.error
        return None
