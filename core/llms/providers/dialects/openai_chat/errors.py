"""The one place OpenAI-shaped error bodies (HTTP errors, and error events inside a 200 stream)
are mapped into the error tree: OpenAI, Azure OpenAI and every OpenAI-compatible host."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from ....interfaces.errors import (
    ContentFilterError,
    ContextWindowExceededError,
    LLMError,
    RateLimitError,
)
from ...base.http_errors import error_for_status, parse_retry_after
from ...base.redact import cut

__all__ = ["error_from_body", "map_error_response"]

#: Status to assume for an error event inside a 200 stream, by the error's ``code`` or ``type``.
_STATUS_BY_TYPE: dict[str, int] = {
    "context_length_exceeded": 400,
    "content_filter": 400,
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "insufficient_quota": 429,
    "tokens": 429,
    "requests": 429,
    "server_error": 500,
    "api_error": 500,
    "overloaded_error": 503,
}

_MAX_MESSAGE = 500
#: an error's ``param`` quoted in its message is cut to this length.
_MAX_PARAM = 100
#: OpenAI-style API keys, which the API echoes (partially masked) in 401 messages.
_KEY_PATTERN = re.compile(r"\bsk-[A-Za-z0-9_\-*]{6,}")


def _scrub(text: str, limit: int = _MAX_MESSAGE) -> str:
    """Collapse whitespace, cut to a readable length and mask anything that looks like a key.

    The cut never goes through a word (see :func:`~core.llms.providers.base.redact.cut`): an
    echoed key that straddles it is dropped whole, not left in part for the connector's
    redaction (which masks whole secrets, and pieces of at least 8 characters) to miss."""
    return _KEY_PATTERN.sub("sk-***", cut(" ".join(text.split()), limit))


def error_from_body(
    status: int | None,
    body: Any,
    *,
    headers: Mapping[str, str] | None = None,
    endpoint: str | None = None,
    request_id: str | None = None,
) -> LLMError:
    """Map an OpenAI-shape error (``{"error": {"message", "type", "code", "param"}}``, or any other
    decoded JSON, or text) to the error tree.

    ``status`` is the HTTP status; for an error event inside a 200 stream pass None and it is
    taken from the event (``status_code`` / ``status``) or inferred from the error type.
    Refinements: ``context_length_exceeded`` → :class:`ContextWindowExceededError`;
    ``content_filter`` → :class:`ContentFilterError` with Azure's per-category ``filter_results``;
    ``insufficient_quota`` → :class:`RateLimitError` whose hint says retrying will not help and
    whose ``retry_after`` is infinite: no wait makes the same account work again, so the
    transport never retries that endpoint and fails over at once to a backup (which may use
    another account).
    """
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        message = str(err.get("message") or "")
        code = err.get("code")
        kind = err.get("type")
        param = err.get("param")
    else:
        err = {}
        code = kind = param = None
        if isinstance(body, dict):
            message = str(body.get("message") or body.get("detail") or json.dumps(body))
        else:
            message = str(body or "")
    code = str(code) if code is not None else None
    kind = str(kind) if kind is not None else None
    if status is None:
        status = _event_status(err, code, kind)
    message = _scrub(message) or f"HTTP {status} with an empty body"
    if param and str(param) not in message:
        message += f" (param: {_scrub(str(param), _MAX_PARAM)})"
    kw: dict[str, Any] = {
        "status": status,
        "endpoint": endpoint,
        "request_id": request_id,
        "code": code or kind,
        "body": body if isinstance(body, dict) else None,
    }
    if code == "context_length_exceeded" or "maximum context length" in message.lower():
        return ContextWindowExceededError(message, hint="shorten the messages or lower max_tokens", **kw)
    if code == "content_filter" or code == "content_policy_violation":
        inner = err.get("innererror")
        results = inner.get("content_filter_result") if isinstance(inner, dict) else None
        return ContentFilterError(
            message,
            filter_results=results if isinstance(results, dict) else None,
            hint="the provider's content filter blocked the prompt or the answer; rephrase the prompt",
            **kw,
        )
    retry_after = parse_retry_after(headers) if headers is not None else None
    if code == "insufficient_quota" or kind == "insufficient_quota":
        return RateLimitError(
            message,
            retry_after=math.inf,
            hint="the account's quota is used up: retrying will not help; add credit, or fail over "
            "to an endpoint with another account",
            **kw,
        )
    del kw["status"]
    return error_for_status(status, message, retry_after=retry_after, **kw)


def _event_status(err: Mapping[str, Any], code: str | None, kind: str | None) -> int:
    # an HTTP status the event states: status_code / status, or an integer code (OpenRouter and
    # other gateways send {"error": {"code": 400, "message": ...}} inside a 200 stream)
    for key in ("status_code", "status", "code"):
        value = err.get(key)
        if type(value) is int and 400 <= value <= 599:
            return value
    for name in (code, kind):
        if name in _STATUS_BY_TYPE:
            return _STATUS_BY_TYPE[name]
    return 500




def map_error_response(
    status: int, headers: Mapping[str, str], body: bytes, endpoint: str, request_id: str | None
) -> LLMError:
    """An HTTP error response (status, headers, raw body) → the error tree."""
    try:
        data: Any = json.loads(body) if body else None
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to decode
        data = body.decode("utf-8", "replace")
    return error_from_body(status, data, headers=headers, endpoint=endpoint, request_id=request_id)
