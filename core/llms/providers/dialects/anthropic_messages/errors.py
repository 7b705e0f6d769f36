"""The one place Anthropic-shaped error bodies are mapped into the error tree: HTTP errors of the
Messages API, ``error`` events inside a 200 stream, and the same bodies when Claude is served by
another cloud (Bedrock's ``invoke`` streams carry Anthropic's events).

The envelope (``tests/llms/wire/anthropic/messages-400-invalid-request.json``)::

    {"type": "error", "error": {"type": "invalid_request_error", "message": "..."},
     "request_id": "req_011..."}

Types: ``invalid_request_error`` (400), ``authentication_error`` (401), ``billing_error`` (402),
``permission_error`` (403), ``not_found_error`` (404), ``request_too_large`` (413),
``rate_limit_error`` (429), ``api_error`` (500), ``timeout_error`` (504) and
``overloaded_error`` (529: Anthropic is overloaded; a :class:`ServiceUnavailableError` with code
``overloaded_error``, retried and failed over like any 5xx, in a stream too).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ....interfaces.errors import ContextWindowExceededError, LLMError
from ...base.http_errors import error_for_status, parse_retry_after
from ...base.redact import cut

__all__ = ["STATUS_BY_TYPE", "TYPE_BY_STATUS", "error_from_body", "map_error_response"]

#: the HTTP status each Anthropic error type comes with (an in-stream error has no status of its own).
STATUS_BY_TYPE: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
#: the error type Anthropic sends with each status (the simulator and tests use it).
TYPE_BY_STATUS: dict[int, str] = {status: kind for kind, status in STATUS_BY_TYPE.items()}

_MAX_MESSAGE = 500
#: Anthropic API keys (``sk-ant-api03-…``), and any other ``sk-`` key a proxy might echo.
_KEY_PATTERN = re.compile(r"\bsk-[A-Za-z0-9_\-*]{6,}")
#: messages that say the prompt (plus max_tokens) does not fit the context window.
_CONTEXT_PATTERNS = ("prompt is too long", "exceed context limit", "context window", "context length")
_HINTS: dict[str, str] = {
    "overloaded_error": "Anthropic is overloaded (HTTP 529): retried with backoff, or failed over",
    "billing_error": "the account's credit is used up: add credit, or fail over to another account",
    "request_too_large": "the request is over Anthropic's size limit (32 MB): send fewer or smaller files",
}


def _scrub(text: str) -> str:
    """Collapse whitespace, cut (never through a word) and mask anything that looks like a key."""
    return _KEY_PATTERN.sub("sk-***", cut(" ".join(text.split()), _MAX_MESSAGE))


def error_from_body(
    status: int | None,
    body: Any,
    *,
    headers: Mapping[str, str] | None = None,
    endpoint: str | None = None,
    request_id: str | None = None,
) -> LLMError:
    """Map an Anthropic error body (or any other decoded JSON, or text) to the error tree.

    ``status`` is the HTTP status; for an ``error`` event inside a 200 stream pass None and it is
    taken from the error's type (``overloaded_error`` → 529 → :class:`ServiceUnavailableError`).
    A prompt that does not fit the context window is :class:`ContextWindowExceededError`.
    ``Retry-After`` / ``retry-after-ms`` headers are kept on rate-limit and 5xx errors.
    """
    err = body.get("error") if isinstance(body, dict) else None
    kind: str | None = None
    if isinstance(err, dict):
        message = str(err.get("message") or "")
        kind = err.get("type") if isinstance(err.get("type"), str) else None
    elif isinstance(body, dict):
        message = str(body.get("message") or json.dumps(body)[:_MAX_MESSAGE])
    else:
        message = str(body or "")
    if status is None:
        status = STATUS_BY_TYPE.get(kind or "", 500)
    if request_id is None and isinstance(body, dict) and isinstance(body.get("request_id"), str):
        request_id = body["request_id"]
    message = _scrub(message) or f"HTTP {status} with an empty body"
    kw: dict[str, Any] = {
        "endpoint": endpoint,
        "request_id": request_id,
        "code": kind,
        "body": body if isinstance(body, dict) else None,
    }
    lowered = message.lower()
    if status in (400, 413) and any(p in lowered for p in _CONTEXT_PATTERNS):
        return ContextWindowExceededError(
            message, status=status, hint="shorten the messages or lower max_tokens", **kw
        )
    retry_after = parse_retry_after(headers) if headers is not None else None
    return error_for_status(status, message, retry_after=retry_after, hint=_HINTS.get(kind or ""), **kw)


def map_error_response(
    status: int, headers: Mapping[str, str], body: bytes, endpoint: str, request_id: str | None
) -> LLMError:
    """An HTTP error response (status, headers, raw body) → the error tree."""
    try:
        data: Any = json.loads(body) if body else None
    except (ValueError, RecursionError):  # not JSON (a proxy's page), or nested too deeply
        data = body.decode("utf-8", "replace")
    return error_from_body(status, data, headers=headers, endpoint=endpoint, request_id=request_id)
