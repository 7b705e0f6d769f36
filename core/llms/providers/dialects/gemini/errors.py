"""The one place Google error bodies are mapped into the error tree: the Gemini API's and Vertex
AI's HTTP errors, errors inside a 200 stream, and a prompt the safety filters blocked.

Both APIs answer an error with a ``google.rpc.Status`` envelope (``tests/llms/wire/gemini``)::

    {"error": {"code": 429, "message": "...", "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34.4s"},
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}}

(``streamGenerateContent`` without ``alt=sse`` wraps it in a JSON array; both are read.)

* the HTTP status picks the class (:func:`~core.llms.providers.base.http_errors.error_for_status`);
  inside a stream, where the status is 200, it comes from ``code`` or from ``status``
  (:data:`STATUS_CODES`);
* ``RetryInfo.retryDelay`` is the server's wait before a retry: it becomes ``retry_after`` like a
  ``Retry-After`` header (which is used when the body has none), so the failover connector waits
  exactly that long, or fails over when it is longer than the policy allows;
* ``ErrorInfo.reason`` ``API_KEY_INVALID`` (the Gemini API's 400 for a wrong key) and status
  ``UNAUTHENTICATED`` are :class:`AuthenticationError`; a prompt over the context window is
  :class:`ContextWindowExceededError`;
* ``code`` on the error is Google's status name (``"RESOURCE_EXHAUSTED"``), else the ErrorInfo
  reason; ``body`` the parsed envelope;
* Google API keys (``AIza…``) and OAuth access tokens (``ya29.…``) quoted in a message are masked
  here, besides the connector's own redaction of the credentials it sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ....interfaces.errors import (
    AuthenticationError,
    ContentFilterError,
    ContextWindowExceededError,
    LLMError,
)
from ...base.http_errors import error_for_status, parse_retry_after
from ...base.redact import cut

__all__ = [
    "STATUS_CODES",
    "blocked_prompt_error",
    "error_from_body",
    "filter_results",
    "map_error_response",
    "retry_delay",
]

#: ``google.rpc.Code`` names → the HTTP status Google maps each to.
STATUS_CODES: Mapping[str, int] = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL": 500,
    "UNKNOWN": 500,
    "DATA_LOSS": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
#: ``ErrorInfo.reason`` values that mean the credential itself is wrong.
_AUTH_REASONS = frozenset(
    {"API_KEY_INVALID", "API_KEY_EXPIRED", "ACCESS_TOKEN_EXPIRED", "CREDENTIALS_MISSING"}
)
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
_MAX_MESSAGE = 500
#: a Duration in JSON: seconds with up to 9 decimals, then "s".
_DURATION = re.compile(r"^\s*(\d{1,12}(?:\.\d{1,9})?)s\s*$")
#: Google API keys and OAuth access tokens, which must never be quoted.
_SECRETS = re.compile(r"AIza[0-9A-Za-z_\-]{12,}|ya29\.[0-9A-Za-z_\-.]{8,}")
_CONTEXT_WORDS = ("exceeds the maximum number of tokens", "input token count", "context window")
_HINTS: Mapping[int, str] = {
    401: "the credentials were rejected: check the API key (GEMINI_API_KEY) or the Google credentials",
    403: "the caller may not use this model: enable the API on the project (Generative Language API / "
    "Vertex AI API) and check its IAM roles (roles/aiplatform.user) or the key's restrictions",
    404: "the model (or the location) does not exist here: check the model name, and for Vertex AI "
    "the location it is served in",
    429: "quota or rate limit reached: the call waits for the server's retryDelay; raise the quota "
    "or add a backup endpoint (another location or project)",
}


def _scrub(text: str) -> str:
    return _SECRETS.sub("***", cut(" ".join(text.split()), _MAX_MESSAGE))


def retry_delay(details: Any) -> float | None:
    """Seconds of the ``RetryInfo.retryDelay`` among an error's ``details`` (``"34.4s"``), or
    None when there is none (or it cannot be read)."""
    if type(details) is not list:
        return None
    for detail in details:
        if isinstance(detail, Mapping) and detail.get("@type") == _RETRY_INFO:
            delay = detail.get("retryDelay")
            if isinstance(delay, str):
                match = _DURATION.match(delay)
                if match:
                    return float(match.group(1))
            elif isinstance(delay, Mapping):  # {"seconds": "7", "nanos": 0} (the proto's own JSON)
                try:
                    return float(delay.get("seconds") or 0) + float(delay.get("nanos") or 0) / 1e9
                except (TypeError, ValueError):
                    return None
    return None


def _reason(details: Any) -> str | None:
    if type(details) is list:
        for detail in details:
            if isinstance(detail, Mapping) and detail.get("@type") == _ERROR_INFO:
                reason = detail.get("reason")
                if isinstance(reason, str) and reason:
                    return reason
    return None


def _envelope(body: Any) -> Any:
    """The error object of a body: ``{"error": {...}}``, or the first item of ``[{"error": ...}]``."""
    if type(body) is list and body and isinstance(body[0], Mapping):
        body = body[0]
    return body.get("error") if isinstance(body, Mapping) else None


def error_from_body(
    status: int | None,
    body: Any,
    *,
    headers: Mapping[str, str] | None = None,
    endpoint: str | None = None,
    request_id: str | None = None,
) -> LLMError:
    """A Google error (decoded JSON, or text) → the error tree (see the module doc). ``status``
    is the HTTP status; None for an error inside a 200 stream (then read from the body)."""
    err = _envelope(body)
    if isinstance(err, Mapping):
        message = err.get("message")
        message = message if isinstance(message, str) else ""
        google_status = err.get("status") if isinstance(err.get("status"), str) else None
        details = err.get("details")
        code = err.get("code")
    else:
        google_status = details = code = None
        message = json.dumps(body)[:_MAX_MESSAGE] if isinstance(body, Mapping) else str(body or "")
    if status is None:
        if type(code) is int and 400 <= code <= 599:
            status = code
        else:
            status = STATUS_CODES.get(google_status or "", 500)
    message = _scrub(message) or f"HTTP {status} with an empty body"
    reason = _reason(details)
    retry_after = retry_delay(details)
    if retry_after is None and headers is not None:
        retry_after = parse_retry_after(headers)
    kw: dict[str, Any] = {
        "endpoint": endpoint,
        "request_id": request_id,
        "code": google_status or reason,
        "body": body if isinstance(body, dict) else None,
    }
    if reason in _AUTH_REASONS or google_status == "UNAUTHENTICATED":
        return AuthenticationError(message, status=status, hint=_HINTS[401], **kw)
    lowered = message.lower()
    if status == 400 and any(words in lowered for words in _CONTEXT_WORDS):
        return ContextWindowExceededError(
            message, status=status, hint="shorten the messages or lower max_tokens", **kw
        )
    return error_for_status(status, message, retry_after=retry_after, hint=_HINTS.get(status), **kw)


def map_error_response(
    status: int, headers: Mapping[str, str], body: bytes, endpoint: str, request_id: str | None
) -> LLMError:
    """An HTTP error response (status, headers, raw body) → the error tree."""
    try:
        data: Any = json.loads(body) if body else None
    except (ValueError, RecursionError):  # not JSON (a proxy's page), or nested too deeply
        data = body.decode("utf-8", "replace")
    return error_from_body(status, data, headers=headers, endpoint=endpoint, request_id=request_id)


def filter_results(ratings: Any) -> dict[str, Any] | None:
    """``safetyRatings`` as :attr:`ContentFilterError.filter_results`: per category, ``filtered``
    (Google's ``blocked``) with the probability and severity (so ``categories`` lists the
    categories that blocked); None without ratings."""
    if type(ratings) is not list:
        return None
    out: dict[str, Any] = {}
    for rating in ratings:
        if isinstance(rating, Mapping) and isinstance(rating.get("category"), str):
            verdict: dict[str, Any] = {"filtered": rating.get("blocked") is True}
            for key in ("probability", "severity", "probabilityScore", "severityScore"):
                if key in rating:
                    verdict[key] = rating[key]
            out[rating["category"]] = verdict
    return out or None


def blocked_prompt_error(feedback: Mapping[str, Any], data: Any) -> ContentFilterError:
    """The error of an answer whose prompt was blocked (``promptFeedback.blockReason``, no
    candidates): :class:`ContentFilterError` with the prompt's safety verdicts. A category
    that blocked is marked ``filtered``; when the ratings name none (``blockReason`` OTHER,
    BLOCKLIST, PROHIBITED_CONTENT …), the reason itself is listed as one."""
    reason = feedback.get("blockReason")
    reason = reason if isinstance(reason, str) and reason else "BLOCKED"
    results = filter_results(feedback.get("safetyRatings")) or {}
    if not any(v.get("filtered") for v in results.values()):
        results[reason] = {"filtered": True}
    message = feedback.get("blockReasonMessage")
    text = f"the prompt was blocked ({reason})"
    if isinstance(message, str) and message:
        text += f": {_scrub(message)}"
    return ContentFilterError(
        text,
        code=reason,
        filter_results=results,
        body=data if isinstance(data, dict) else None,
        hint="Google's safety filters blocked the prompt; rephrase it, or adjust safety_settings=",
    )
