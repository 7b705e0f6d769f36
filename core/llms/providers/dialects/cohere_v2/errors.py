"""The one place Cohere's error bodies are mapped into the error tree: HTTP errors, answers that
ended with ``finish_reason: "ERROR"`` (whole or streamed) and other errors inside 2xx bodies.

Cohere's error body is ``{"id": "...", "message": "..."}`` (``{"message": "invalid api token"}``).
Statuses (docs.cohere.com, "Errors"): 400 bad request ("too many tokens: ..." when the prompt does
not fit), 401 invalid or missing key, 402 billing limit reached, 404, 422, 429 rate limit, 498
(the SDK's ``InvalidTokenError``; the error reference also lists blocked input or output under
it), 499 request cancelled, 5xx.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from ....interfaces.errors import (
    AuthenticationError,
    ContentFilterError,
    ContextWindowExceededError,
    LLMError,
    RateLimitError,
    RequestTimeoutError,
    ServiceUnavailableError,
)
from ...base.http_errors import error_for_status, parse_retry_after
from ...base.redact import cut

__all__ = ["error_from_body", "generation_error", "map_error_response"]

_MAX_MESSAGE = 500
#: the blocked-content wording of a 498 (else a 498 is an invalid token, as the SDK names it).
_BLOCKED = re.compile(r"block|unsafe|safety|violat", re.IGNORECASE)


def _message(body: Any) -> str:
    if isinstance(body, Mapping):
        for key in ("message", "detail", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, Mapping) and isinstance(value.get("message"), str):
                return str(value["message"])
        try:
            return json.dumps(body)[:_MAX_MESSAGE]
        except (TypeError, ValueError, RecursionError):
            return ""
    return str(body or "")


def error_from_body(
    status: int,
    body: Any,
    *,
    headers: Mapping[str, str] | None = None,
    endpoint: str | None = None,
    request_id: str | None = None,
) -> LLMError:
    """A Cohere error (``{"message": ...}``, any other decoded JSON, or text) with its HTTP
    ``status`` → the error tree. The message is whitespace-collapsed and cut (never through a
    word); the connector masks the endpoints' credentials in it."""
    message = cut(" ".join(_message(body).split()), _MAX_MESSAGE) or f"HTTP {status} with an empty body"
    kw: dict[str, Any] = {
        "status": status,
        "endpoint": endpoint,
        "request_id": request_id,
        "body": body if isinstance(body, dict) else None,
    }
    retry_after = parse_retry_after(headers) if headers is not None else None
    lowered = message.lower()
    if status == 401 or (status == 498 and not _BLOCKED.search(message)):
        return AuthenticationError(
            message, hint="check the Cohere API key (CO_API_KEY or COHERE_API_KEY)", code=str(status), **kw
        )
    if status == 498:
        return ContentFilterError(
            message,
            hint="Cohere blocked the prompt or the answer as unsafe; rephrase the prompt",
            code="blocked",
            **kw,
        )
    if status == 402:
        return RateLimitError(
            message,
            retry_after=math.inf,
            hint="the account reached its billing limit: retrying will not help; raise the limit or add a "
            "payment method, or fail over to an endpoint with another account",
            code="billing_limit",
            **kw,
        )
    if status == 400 and "too many tokens" in lowered and "max tokens must" not in lowered:
        return ContextWindowExceededError(
            message, hint="shorten the messages or documents, or lower max_tokens", **kw
        )
    if status == 499:
        return ServiceUnavailableError(
            message, retry_after=retry_after, hint="Cohere cancelled the request; try again", **kw
        )
    del kw["status"]
    return error_for_status(status, message, retry_after=retry_after, **kw)


def generation_error(
    reason: str,
    message: str | None,
    *,
    endpoint: str | None = None,
    request_id: str | None = None,
    body: Any = None,
) -> LLMError:
    """The error of an answer that ended with ``finish_reason`` ``ERROR`` (the generation failed
    on Cohere's side: :class:`ServiceUnavailableError`, retried and failed over) or ``TIMEOUT``
    (:class:`RequestTimeoutError`)."""
    text = cut(" ".join((message or "").split()), _MAX_MESSAGE)
    kw: dict[str, Any] = {"endpoint": endpoint, "request_id": request_id, "code": reason, "body": body}
    if reason == "TIMEOUT":
        return RequestTimeoutError(
            "Cohere timed out generating the answer" + (f": {text}" if text else ""), **kw
        )
    return ServiceUnavailableError(
        "Cohere failed generating the answer (finish_reason ERROR)" + (f": {text}" if text else ""),
        hint="a failure on Cohere's side; the call may be retried",
        **kw,
    )


def map_error_response(
    status: int, headers: Mapping[str, str], body: bytes, endpoint: str, request_id: str | None
) -> LLMError:
    """An HTTP error response (status, headers, raw body) → the error tree."""
    try:
        data: Any = json.loads(body) if body else None
    except (ValueError, RecursionError):  # not JSON (a proxy's page), or nested too deeply
        data = body.decode("utf-8", "replace")
    return error_from_body(status, data, headers=headers, endpoint=endpoint, request_id=request_id)
