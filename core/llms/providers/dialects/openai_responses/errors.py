"""The Responses API's errors inside a 200 answer: an ``error`` stream event, a ``response.failed``
event, or a response body whose ``status`` is ``"failed"``. Mapped by the Chat Completions
dialect's :func:`~..openai_chat.errors.error_from_body` (the one place OpenAI-shaped errors are
mapped), with the status the Responses error codes stand for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ....interfaces.errors import LLMError
from ..openai_chat.errors import error_from_body

__all__ = ["RESPONSES_ERROR_STATUS", "responses_error"]

#: HTTP status of the Responses API's error codes (``Response.error.code``) that the OpenAI error
#: mapping cannot infer from the code alone (the codes it knows, such as ``server_error`` or
#: ``insufficient_quota``, are left to it).
RESPONSES_ERROR_STATUS: Mapping[str, int] = {
    "rate_limit_exceeded": 429,
    "invalid_prompt": 400,
    "vector_store_timeout": 504,
    "invalid_image": 400,
    "invalid_image_format": 400,
    "invalid_base64_image": 400,
    "invalid_image_url": 400,
    "image_too_large": 400,
    "image_too_small": 400,
    "image_parse_error": 400,
    "image_content_policy_violation": 400,
    "invalid_image_mode": 400,
    "image_file_too_large": 400,
    "unsupported_image_media_type": 400,
    "empty_image_file": 400,
    "failed_to_download_image": 400,
    "image_file_not_found": 400,
}


def responses_error(
    event: Mapping[str, Any],
    *,
    endpoint: str | None = None,
    request_id: str | None = None,
) -> LLMError:
    """The typed error of an error the Responses API reports after a 200 status.

    ``event`` is what carries it: an ``error`` event (``{"type": "error", "error": {"code",
    "message", ...}}`` as OpenAI sends it, or the documented flat ``{"type": "error", "code",
    "message", "param"}``), a ``response.failed`` event or a failed response body (its
    ``response.error`` / ``error``: ``{"code", "message"}``)."""
    err: Any = event.get("error")
    response = event.get("response")
    if not isinstance(err, Mapping) and isinstance(response, Mapping):
        err = response.get("error")
    if not isinstance(err, Mapping):
        err = {key: event[key] for key in ("code", "message", "param") if event.get(key) is not None}
    body = {"error": dict(err)}
    status = None
    if not any(type(err.get(key)) is int for key in ("status_code", "status", "code")):
        code = err.get("code")
        status = RESPONSES_ERROR_STATUS.get(code) if isinstance(code, str) else None
    if not err.get("message"):
        body["error"]["message"] = "the response failed" + (f" ({err['code']})" if err.get("code") else "")
    return error_from_body(status, body, endpoint=endpoint, request_id=request_id)
