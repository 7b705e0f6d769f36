"""Google's wire as the simulator speaks it, for the Gemini API and Vertex AI routes: the error
envelope (``{"error": {"code", "message", "status"}}``) and its status names, the key / token
check (:class:`GoogleWire`), JSON answers, prompt markers, and the request-field checks that
answer 400 ``INVALID_ARGUMENT`` naming the field. Used by the chat, media, batch and Anthropic-on-
Vertex routes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .openai_wire import Rejection
from .responder import send_body, send_json

if TYPE_CHECKING:
    from .faults import Fault
    from .routes import ProviderRoutes

__all__ = ["GoogleWire", "fault_body", "google_error"]

#: Google's status names by HTTP status (google.rpc.Code as HTTP maps it).
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
#: the HTTP status of each status name (an in-stream error's ``Fault(error_code="RESOURCE_EXHAUSTED")``).
_NAME_STATUS = {name: status for status, name in _STATUS_NAMES.items()} | {
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "ALREADY_EXISTS": 409,
    "UNKNOWN": 500,
    "DATA_LOSS": 500,
}
_DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: "Request had invalid authentication credentials.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: "Resource has been exhausted (e.g. check quota).",
    500: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}
#: google.rpc.Code numbers by status name (an operation's error carries the number).
_RPC_CODES = {
    "CANCELLED": 1,
    "UNKNOWN": 2,
    "INVALID_ARGUMENT": 3,
    "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6,
    "PERMISSION_DENIED": 7,
    "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9,
    "ABORTED": 10,
    "OUT_OF_RANGE": 11,
    "UNIMPLEMENTED": 12,
    "INTERNAL": 13,
    "UNAVAILABLE": 14,
    "DATA_LOSS": 15,
    "UNAUTHENTICATED": 16,
}
_NO_KEY = (
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key "
    "or other form of API consumer identity to call this API."
)
_BAD_KEY = "API key not valid. Please pass a valid API key."
_BAD_TOKEN = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)
_MARKERS = re.compile(r"\[sim:(fail|filtered|slow|steps|blocked)(?:=([A-Za-z0-9_.-]{1,64}))?\]")
_JSON_CT = "application/json; charset=UTF-8"


# --------------------------------------------------------------------------- errors and auth


def google_error(
    status: int, message: str | None = None, *, name: str | None = None, details: list[Any] | None = None
) -> dict[str, Any]:
    """Google's error body: ``{"error": {"code", "message", "status", "details"?}}``."""
    error: dict[str, Any] = {
        "code": status,
        "message": message if message is not None else _DEFAULT_MESSAGES.get(status, f"HTTP {status}"),
        "status": name or _STATUS_NAMES.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION"),
    }
    if details:
        error["details"] = details
    return {"error": error}


def _invalid(message: str) -> Rejection:
    return Rejection(400, google_error(400, message))


def _not_found(message: str) -> Rejection:
    return Rejection(404, google_error(404, message))


class GoogleWire:
    """The :class:`~.routes.ProviderWire` of these routes: the Gemini API's key auth
    (``x-goog-api-key`` or ``?key=``) or Vertex AI's bearer token, and Google's error bodies."""

    def __init__(self, routes: ProviderRoutes, *, vertex: bool) -> None:
        self._routes = routes
        self.vertex = vertex

    def _key_ok(self, given: str) -> bool:
        # the simulator's configured key (any non-empty one when it has none)
        return bool(given) and self._routes._key_ok(given)

    def check_auth(self, request: web.Request) -> None:
        if self.vertex and "x-goog-api-key" not in request.headers:  # (an API key: Vertex AI express mode)
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not self._key_ok(token.strip()):
                raise Rejection(401, google_error(401, _BAD_TOKEN))
            return
        given = request.headers.get("x-goog-api-key")
        if given is None:
            given = request.query.get("key")
        if given is None:
            raise Rejection(403, google_error(403, _NO_KEY))
        if not self._key_ok(given.strip()):
            info = {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
            raise Rejection(400, google_error(400, _BAD_KEY, details=[info]))

    def headers(self, n: int) -> dict[str, str]:
        return {"x-request-id": f"sim-google-{n:06d}", "server-timing": "gfet4t7; dur=1"}

    def rejection_response(self, rejection: Rejection, headers: dict[str, str]) -> web.StreamResponse:
        return send_json(rejection.status, rejection.body, {**headers, **rejection.headers})

    def fault_response(self, fault: Fault, headers: dict[str, str]) -> web.StreamResponse:
        return send_json(fault.error_status, fault_body(fault), headers)


def fault_body(fault: Fault) -> dict[str, Any]:
    """The Google error a scripted fault reports (its dict ``body`` when it has one): the status's
    name, the fault's ``message``, a ``RetryInfo`` with its ``retry_after``; a string
    ``error_code`` names the status (``"RESOURCE_EXHAUSTED"``)."""
    if isinstance(fault.body, dict):
        return fault.body
    status = fault.error_status
    name = fault.error_code if isinstance(fault.error_code, str) and fault.error_code else None
    if name in _NAME_STATUS and (fault.status is None or fault.status < 400):
        status = _NAME_STATUS[name]
    details = None
    if fault.retry_after is not None:
        details = [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{fault.retry_after:g}s"}
        ]
    return google_error(status, fault.message, name=name, details=details)


# --------------------------------------------------------------------------- responses


def _dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


async def _send(
    request: web.Request, body: dict[str, Any], headers: dict[str, str], fault: Fault | None, label: str
) -> web.StreamResponse:
    """A JSON 200 answer with the fault's body effects; an in-band error (``error_event``) is
    Google's error body."""
    data = _dumps(body)
    if fault is not None and fault.error_event:
        data = _dumps(fault_body(fault))
        fault = dataclasses.replace(fault, error_event=False, error_code=None, message=None)
    return await send_body(request, data, headers, fault, label)


async def _send_array(
    request: web.Request, events: list[dict[str, Any]], headers: dict[str, str], fault: Fault | None
) -> web.StreamResponse:
    """A stream's events as one JSON array (``streamGenerateContent`` without ``alt=sse``)."""
    data = _dumps(events)
    if fault is not None and fault.error_event:
        data = _dumps([fault_body(fault)])
        fault = dataclasses.replace(fault, error_event=False, error_code=None, message=None)
    return await send_body(request, data, headers, fault, "tts")


def _markers(text: str) -> dict[str, str]:
    return {name: value for name, value in _MARKERS.findall(text)}


def _object(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _invalid(f"Invalid value at '{name}': expected an object, got {type(value).__name__}.")
    return value


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(f"{name} must be an integer from {low} to {high}, got {str(value)[:40]}.")
    return value


def _one_of(value: Any, name: str, allowed: Any) -> str:
    if not isinstance(value, str) or value not in allowed:
        shown = ", ".join(sorted(allowed)) if not isinstance(allowed, tuple) else ", ".join(allowed)
        raise _invalid(f"Invalid {name}: '{str(value)[:60]}'. Supported values are: {shown}.")
    return value


def _gemini_only(parameters: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if name in parameters:
            raise _invalid(f"{name} parameter is not supported in Gemini API.")


def _instance(body: Any) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """The only instance of a ``:predict`` / ``:predictLongRunning`` body, its prompt and its
    ``parameters``."""
    if not isinstance(body, dict):
        raise _invalid("Invalid JSON payload received. Expected an object.")
    instances = body.get("instances")
    if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
        raise _invalid("instances must hold exactly one instance.")
    prompt = instances[0].get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise _invalid("The prompt is empty or missing (instances[0].prompt).")
    return instances[0], prompt, _object(body.get("parameters"), "parameters")


def _color(seed: bytes) -> tuple[int, int, int]:
    digest = hashlib.sha256(seed).digest()
    return digest[0], digest[1], digest[2]
