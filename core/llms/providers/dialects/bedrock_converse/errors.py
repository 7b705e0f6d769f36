"""The one place Bedrock's errors are mapped into the error tree: HTTP error responses
(:func:`map_http_error`, called by the Bedrock adapter's ``map_error``) and exception / error
frames inside an event stream (:func:`error_from_event`), both through :func:`bedrock_error`.

Bedrock names its errors (``ThrottlingException``, ``ValidationException`` …): in the
``x-amzn-ErrorType`` header of an HTTP error (``"ValidationException:http://internal.amazon.com/…"``)
or its JSON body (``__type`` / ``code``), and in the ``:exception-type`` header of a stream frame,
spelt there as the stream's union member (``throttlingException``). The message is the body's
``message`` (or ``Message``). Errors of the AWS request layer (a rejected signature, an expired
token) share the same envelope.

AWS sometimes quotes what it received: a rejected signature's message quotes the canonical
request, whose headers may include the session token. Messages and bodies are therefore cut before
such a quote, and anything shaped like an AWS access key id, a signature, a token or a credential
is masked, on top of the connector's own masking of the secrets it knows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ....interfaces.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContextWindowExceededError,
    LLMError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ServiceUnavailableError,
)
from ....interfaces.llm_interfaces import WireEvent
from ...base.http_errors import error_for_status, parse_retry_after
from ...base.redact import MASK, cut

__all__ = ["bedrock_error", "error_from_event", "map_http_error", "scrub"]

_MAX_MESSAGE = 500
_MAX_DEPTH = 8

_ACCESS_HINT = (
    "allow bedrock:InvokeModel (and InvokeModelWithResponseStream for streams) for these "
    "credentials, and enable access to the model in the Bedrock console for this region"
)
_CREDENTIALS_HINT = "check the AWS credentials (access key, secret, session token), the region and the clock"

#: error name → (class, the HTTP status it stands for, hint).
_ERRORS: dict[str, tuple[type[LLMError], int, str | None]] = {
    "ThrottlingException": (
        RateLimitError,
        429,
        "Bedrock is throttling these requests; slow down or fail over",
    ),
    "TooManyRequestsException": (RateLimitError, 429, None),
    "ServiceQuotaExceededException": (
        RateLimitError,
        429,
        "a Bedrock service quota is used up: request an increase, or fail over to another region",
    ),
    "ModelNotReadyException": (
        ServiceUnavailableError,
        429,
        "the model is not ready to serve yet (it is being loaded); retry shortly",
    ),
    "ServiceUnavailableException": (ServiceUnavailableError, 503, None),
    "InternalServerException": (ServiceUnavailableError, 500, None),
    "InternalFailure": (ServiceUnavailableError, 500, None),
    "ModelStreamErrorException": (ServiceUnavailableError, 424, "the model failed while streaming; retry"),
    "ModelErrorException": (ServiceUnavailableError, 424, "the model failed processing the request; retry"),
    "ModelTimeoutException": (
        RequestTimeoutError,
        408,
        "the model took too long; retry or shorten the request",
    ),
    "ValidationException": (BadRequestError, 400, None),
    "SerializationException": (BadRequestError, 400, None),
    "AccessDeniedException": (PermissionDeniedError, 403, _ACCESS_HINT),
    "AccessDenied": (PermissionDeniedError, 403, _ACCESS_HINT),
    "ResourceNotFoundException": (
        NotFoundError,
        404,
        "check the model id and that it is served in this region",
    ),
    "ConflictException": (ConflictError, 409, None),
    "UnrecognizedClientException": (AuthenticationError, 403, _CREDENTIALS_HINT),
    "InvalidSignatureException": (AuthenticationError, 403, _CREDENTIALS_HINT),
    "SignatureDoesNotMatch": (AuthenticationError, 403, _CREDENTIALS_HINT),
    "IncompleteSignatureException": (AuthenticationError, 400, _CREDENTIALS_HINT),
    "MissingAuthenticationTokenException": (AuthenticationError, 403, _CREDENTIALS_HINT),
    "InvalidClientTokenId": (AuthenticationError, 403, _CREDENTIALS_HINT),
    "ExpiredTokenException": (
        AuthenticationError,
        403,
        "the AWS session token expired: refresh the credentials",
    ),
    "RequestExpired": (AuthenticationError, 400, "the request's signature time is off: check the clock"),
}
#: the name an HTTP error without one most likely has (used for its refinements, not as its code).
_NAME_BY_STATUS: dict[int, str] = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
#: how ValidationException messages say that the prompt does not fit the model.
_CONTEXT_WINDOW = (
    "input is too long",
    "prompt is too long",
    "input too long",
    "too many input tokens",
    "too many tokens",
    "context window",
    "context length",
    "maximum context",
    "exceed context limit",
    "exceeds the context",
)
_INVALID_MODEL = ("model identifier is invalid", "model id is invalid", "model is not supported")
_ON_DEMAND = "on-demand throughput"

# -- masking --------------------------------------------------------------------------------------

#: AWS quotes the request it received after these words (a rejected signature's message).
_QUOTES = re.compile(r"(?i)the (canonical string|string-to-sign) for this request|canonical request")
_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{12,}\b")
_LABELLED_SECRET = re.compile(
    r"(?i)\b(x-amz-security-token|x-amz-signature|x-amz-credential|security[-_ ]?token|session[-_ ]?token"
    r"|signature|credential|authorization|secret[-_ ]?access[-_ ]?key)(\s*[:=]\s*)"
    r"(?:(?:bearer|basic|aws4-hmac-sha256)\s+)?(?!\*\*\*)[^\s,;'\"]+"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}")


def scrub(text: str, limit: int = _MAX_MESSAGE) -> str:
    """A server's text as an error may quote it: cut before AWS quotes the request it received,
    whitespace collapsed, cut to ``limit`` (never through a word), and anything shaped like an AWS
    access key id or a labelled signature, token or credential masked."""
    quote = _QUOTES.search(text)
    if quote is not None:
        text = text[: quote.start()] + "(the request AWS quoted is left out)"
    text = _ACCESS_KEY_ID.sub(MASK, " ".join(text.split()))
    text = _LABELLED_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return cut(_BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text), limit)


def _scrub_value(value: Any, depth: int = 0) -> Any:
    """A copy of decoded JSON with every string scrubbed (see :func:`scrub`)."""
    if depth > _MAX_DEPTH:
        return MASK
    match value:
        case str():
            return scrub(value, 2000)
        case dict():
            return {scrub(str(k), 200): _scrub_value(v, depth + 1) for k, v in value.items()}
        case list() | tuple():
            return [_scrub_value(v, depth + 1) for v in value]
        case _:
            return value


# -- the mapping ----------------------------------------------------------------------------------


def _name(value: Any) -> str | None:
    """An error name as Bedrock writes it (``ValidationException:http://…``,
    ``com.amazon…#ValidationException``, ``throttlingException``) → ``ValidationException``."""
    if not isinstance(value, str):
        return None
    name = value.split(":", 1)[0].rsplit("#", 1)[-1].strip()
    if not name or len(name) > 100 or not name.replace("_", "").isalnum():
        return None
    return name[0].upper() + name[1:]


def bedrock_error(
    exception_type: str | None,
    message: str,
    *,
    status: int | None,
    endpoint: str | None,
    request_id: str | None,
    body: Any = None,
    retry_after: float | None = None,
) -> LLMError:
    """The typed error for a Bedrock error named ``exception_type`` (any of Bedrock's spellings;
    None or unknown: by ``status``) with the server's ``message``.

    ``status``: the HTTP status, or None for an exception frame inside a stream (the status the
    error stands for is used: 429 for ``throttlingException`` …). ``body``: the decoded error body
    (kept, scrubbed, on the error). Refinements of ``ValidationException``: a prompt that does not
    fit → :class:`ContextWindowExceededError`; an unknown model id → :class:`NotFoundError`.
    """
    name = _name(exception_type)
    # an unknown name (or none) is read by the status: a 400 still says what a 400 says
    kind = name if name in _ERRORS else _NAME_BY_STATUS.get(status or 0)
    entry = _ERRORS.get(kind) if kind is not None else None
    if status is None:
        status = entry[1] if entry is not None else 500
    text = scrub(message) if message else ""
    if name and not text.startswith(name):
        text = cut(f"{name}: {text}", _MAX_MESSAGE) if text else name
    elif not text:
        text = f"Bedrock answered HTTP {status} with no message"
    kw: dict[str, Any] = {
        "status": status,
        "endpoint": endpoint,
        "request_id": request_id,
        "code": name,
        "body": _scrub_value(body) if isinstance(body, dict) else None,
    }
    if entry is None:
        del kw["status"]
        return error_for_status(status, text, retry_after=retry_after, **kw)
    cls, _, hint = entry
    if kind == "ValidationException":
        lowered = text.lower()
        if any(words in lowered for words in _CONTEXT_WINDOW):
            return ContextWindowExceededError(text, hint="shorten the messages or lower max_tokens", **kw)
        if any(words in lowered for words in _INVALID_MODEL):
            return NotFoundError(
                text, hint="check the model id, and that the model is served in this region", **kw
            )
        if _ON_DEMAND in lowered:
            hint = "call the model through an inference profile (an id such as 'us.<model id>' or its ARN)"
    if cls is RateLimitError or cls is ServiceUnavailableError:
        return cls(text, retry_after=retry_after, hint=hint, **kw)
    return cls(text, hint=hint, **kw)


def map_http_error(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    endpoint: str | None,
    request_id: str | None,
) -> LLMError:
    """An HTTP error response from Bedrock (status, headers, raw body) → the error tree.

    The error's name comes from the ``x-amzn-ErrorType`` header, else the body's ``__type`` /
    ``code``; its message from the body's ``message`` / ``Message`` (a body that is not JSON is
    quoted as text, scrubbed and cut); ``Retry-After`` is honoured when sent."""
    data: Any
    try:
        data = json.loads(body) if body else None
    except (ValueError, RecursionError):  # not JSON (a proxy's page), or nested too deeply
        data = body.decode("utf-8", "replace")
    name = _header(headers, "x-amzn-errortype")
    message = ""
    if isinstance(data, dict):
        if name is None:
            name = next((v for k in ("__type", "code", "Code") if isinstance(v := data.get(k), str)), None)
        text = data.get("message", data.get("Message"))
        if isinstance(text, str):
            message = text
        elif text is not None:
            message = json.dumps(text)[:_MAX_MESSAGE]
    elif isinstance(data, str):
        message = data
    return bedrock_error(
        name,
        message,
        status=status,
        endpoint=endpoint,
        request_id=request_id,
        body=data if isinstance(data, dict) else None,
        retry_after=parse_retry_after(headers),
    )


def error_from_event(event: WireEvent, *, endpoint: str | None, request_id: str | None) -> LLMError:
    """The typed error of an ``exception`` (or ``error``) frame of an event stream, as
    :class:`~core.llms.providers.base.eventstream.EventStreamDecoder` decodes it: the name in
    ``event.event``, the message in its JSON payload (``error_message`` for an error frame).
    ``ModelStreamErrorException``'s original status and message are quoted."""
    data: Any = None
    if event.data:
        try:
            data = json.loads(event.data)
        except (ValueError, RecursionError):
            data = None
    message = ""
    if isinstance(data, dict):
        text = data.get("message", data.get("Message"))
        message = text if isinstance(text, str) else ""
        original, original_status = data.get("originalMessage"), data.get("originalStatusCode")
        if isinstance(original, str) and original and original not in message:
            where = f" {original_status}" if type(original_status) is int else ""
            message = f"{message} (the model answered{where}: {original})"
    elif event.data:
        message = event.data
    if not message and isinstance(event.extra.get("error_message"), str):
        message = event.extra["error_message"]
    return bedrock_error(
        event.event or "InternalServerException",
        message,
        status=None,
        endpoint=endpoint,
        request_id=request_id,
        body=data if isinstance(data, dict) else None,
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by its lower-case name, from a case-insensitive multidict or a plain dict."""
    value = headers.get(name)
    if value is None:
        for key, item in headers.items():
            if key.lower() == name:
                return item
    return value
