"""HTTP status → error class, and Retry-After parsing: shared by every provider's ``map_error``."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ...interfaces.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    LLMError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ServiceUnavailableError,
)

__all__ = ["error_for_status", "parse_retry_after"]

_BY_STATUS: dict[int, type[LLMError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    407: AuthenticationError,  # a proxy rejected (or wanted) its credentials
    408: RequestTimeoutError,
    409: ConflictError,
    413: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
}


def error_for_status(
    status: int,
    message: str,
    *,
    endpoint: str | None = None,
    request_id: str | None = None,
    code: str | None = None,
    body: Any = None,
    retry_after: float | None = None,
    hint: str | None = None,
) -> LLMError:
    """The error for an HTTP status when the body says nothing more specific.

    4xx map by the table above (other 4xx: :class:`BadRequestError`); 5xx and 529 map to
    :class:`ServiceUnavailableError`. ``retry_after`` is kept on rate-limit and 5xx errors.
    """
    kw: dict[str, Any] = {
        "endpoint": endpoint,
        "status": status,
        "request_id": request_id,
        "code": code,
        "body": body,
        "hint": hint,
    }
    if status == 429:
        return RateLimitError(message, retry_after=retry_after, **kw)
    if status >= 500:
        return ServiceUnavailableError(message, retry_after=retry_after, **kw)
    cls = _BY_STATUS.get(status, BadRequestError)
    return cls(message, **kw)


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait, from ``retry-after-ms`` (preferred) or ``Retry-After`` (seconds or an
    HTTP date). Returns None when absent or unreadable; never negative."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
            if value >= 0:
                return value
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # an HTTP date: rare, and email is a costly import

    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
