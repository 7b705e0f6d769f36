"""The URL rules of the Gemini API and Vertex AI, in one place, and what their adapters share
(streams, error mapping): :class:`GoogleAdapter`.

Operations (:data:`OPERATIONS`), each a method on a model's resource::

    operation              Gemini API ({root}: the endpoint, .../v1beta)  Vertex AI
    "generate"             POST {root}/models/{m}:generateContent         POST {model}:generateContent
    "stream_generate"      POST {root}/models/{m}:streamGenerateContent?alt=sse  (the same on {model})
    "count_tokens"         POST {root}/models/{m}:countTokens             POST {model}:countTokens
    "predict"              POST {root}/models/{m}:predict                 POST {model}:predict
    "predict_long_running" POST {root}/models/{m}:predictLongRunning      POST {model}:predictLongRunning
    "operation"            GET  {root}/{operation name}                   POST {model}:fetchPredictOperation
                           (the name as WireRequest.path)                 (body {"operationName": name})
    "embed"                POST {root}/models/{m}:embedContent            POST {model}:predict
    "batch_embed"          POST {root}/models/{m}:batchEmbedContents      POST {model}:predict

On Vertex AI ``{model}`` is ``{host}/{api_version}/projects/{project}/locations/{location}/
publishers/google/models/{m}``, the host following the location (:func:`vertex_host`):
``global`` → ``https://aiplatform.googleapis.com``, the multi-regions ``us`` / ``eu`` →
``https://aiplatform.{location}.rep.googleapis.com``, any other →
``https://{location}-aiplatform.googleapis.com``. An endpoint on one of Google's own hosts is
moved to the location's host (a backup naming only another location is served there); any other
endpoint (a private endpoint, a proxy, the simulator) is used as it is, with the same path.

A model id with a ``/`` is a resource name and used as it is: ``tunedModels/x`` on the Gemini API;
``publishers/meta/models/x`` (under the project and location) or ``projects/p/locations/l/
endpoints/123`` (whole) on Vertex AI. Each adapter's ``operation_poll(name)`` gives the request
that reads a long-running operation (method, path, body) on its API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from ....interfaces.endpoint import join_url
from ....interfaces.errors import LLMError, UnsupportedOperationError
from ....interfaces.llm_interfaces import StreamDecoder
from .errors import error_from_body, map_error_response

__all__ = [
    "GEMINI_API_ROOT",
    "OPERATIONS",
    "GoogleAdapter",
    "gemini_url",
    "google_hosted",
    "vertex_host",
    "vertex_url",
]

#: the Gemini API's root (its ``v1beta`` version), the default endpoint of ``gemini/`` models.
GEMINI_API_ROOT = "https://generativelanguage.googleapis.com/v1beta"
#: operation → (the Gemini API's method, Vertex AI's method) on the model's resource; ``""``
#: is the API root itself (a resource name follows as the request's path).
OPERATIONS: Mapping[str, tuple[str, str]] = {
    "generate": (":generateContent", ":generateContent"),
    "stream_generate": (":streamGenerateContent?alt=sse", ":streamGenerateContent?alt=sse"),
    "count_tokens": (":countTokens", ":countTokens"),
    "predict": (":predict", ":predict"),
    "predict_long_running": (":predictLongRunning", ":predictLongRunning"),
    "operation": ("", ":fetchPredictOperation"),
    "embed": (":embedContent", ":predict"),
    "batch_embed": (":batchEmbedContents", ":predict"),
}
#: Vertex AI's multi-region locations, served from ``aiplatform.{location}.rep.googleapis.com``.
MULTI_REGIONS = frozenset({"us", "eu"})
#: Google's own Vertex AI hosts: global, regional and multi-regional.
_GOOGLE_HOST = re.compile(r"^(?:[a-z0-9-]+-)?aiplatform(?:\.[a-z0-9-]+\.rep)?\.googleapis\.com$")


def _method(operation: str, column: int, provider: str) -> str:
    methods = OPERATIONS.get(operation)
    if methods is None:
        raise UnsupportedOperationError(
            f"{provider} has no {operation!r} operation", hint=f"known: {', '.join(OPERATIONS)}"
        )
    return methods[column]


def _model_path(model: str) -> str:
    return quote(model, safe="/-_.~@")


def gemini_url(endpoint: str, operation: str, model: str) -> str:
    """The Gemini API URL of ``operation`` for ``model`` under ``endpoint`` (its root, with the
    API version: ``https://generativelanguage.googleapis.com/v1beta``)."""
    method = _method(operation, 0, "gemini")
    if not method:
        return endpoint
    resource = _model_path(model) if "/" in model else f"models/{_model_path(model)}"
    return join_url(endpoint, f"/{resource}{method}")


def vertex_host(location: str) -> str:
    """The Vertex AI host serving ``location`` (``https://…``; see the module doc)."""
    if location == "global":
        return "https://aiplatform.googleapis.com"
    if location in MULTI_REGIONS:
        return f"https://aiplatform.{location}.rep.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


def google_hosted(endpoint: str) -> bool:
    """Is ``endpoint`` on one of Google's own Vertex AI hosts (rather than a private endpoint, a
    proxy or the simulator, which are used as they are)?"""
    return bool(_GOOGLE_HOST.match((urlsplit(endpoint).hostname or "").lower()))


def vertex_root(endpoint: str, location: str) -> str:
    """``endpoint`` with a Google host replaced by the one serving ``location`` (any other host
    kept), without a trailing ``/``."""
    parts = urlsplit(endpoint)
    if _GOOGLE_HOST.match((parts.hostname or "").lower()):
        host = urlsplit(vertex_host(location))
        parts = parts._replace(scheme=host.scheme, netloc=host.netloc)
    return urlunsplit(parts).rstrip("/")


def vertex_url(
    endpoint: str, operation: str, model: str, *, project: str, location: str, api_version: str = "v1"
) -> str:
    """The Vertex AI URL of ``operation`` for ``model`` in ``project`` / ``location`` (see the
    module doc). ``endpoint``'s path may already end with the API version."""
    method = _method(operation, 1, "vertex")
    root = vertex_root(endpoint, location)
    path = urlsplit(root).path.rstrip("/")
    version = "" if path.endswith(f"/{api_version}") else f"/{api_version}"
    if model.startswith("projects/"):
        resource = _model_path(model)
    else:
        base = f"projects/{quote(project, safe='')}/locations/{quote(location, safe='')}"
        named = _model_path(model) if "/" in model else f"publishers/google/models/{_model_path(model)}"
        resource = f"{base}/{named}"
    return join_url(root, f"{version}/{resource}{method}")


class GoogleAdapter:
    """What the Gemini API's and Vertex AI's adapters share: SSE streams, Google's error
    envelope (:mod:`.errors`), errors inside a 2xx body, request ids. Subclasses add the URL
    (:func:`gemini_url` / :func:`vertex_url`) and auth."""

    provider: str = "google"
    #: response headers that may carry a request id (Google sends none on most answers; the
    #: parsers fall back on the body's ``responseId``).
    request_id_headers: tuple[str, ...] = ("x-request-id", "x-goog-request-id")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.provider!r})"

    def decoder(self, operation: str) -> StreamDecoder:
        from ...base.sse import SSEDecoder

        return SSEDecoder()

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        for name in self.request_id_headers:
            value = headers.get(name)
            if value:
                return value
        return None

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes, endpoint: str) -> LLMError:
        return map_error_response(status, headers, body, endpoint, self.request_id(headers))

    def error_in_body(self, data: Any, headers: Mapping[str, str], endpoint: str) -> LLMError | None:
        """The error of a 2xx body that is ``{"error": {...}}`` instead of an answer (a gateway's).
        A long-running operation (``name`` / ``done``) is not one: its ``error`` says why the job
        failed, which its media module reports."""
        if type(data) is list and len(data) == 1:
            data = data[0]
        if (
            isinstance(data, dict)
            and data.get("error")
            and "candidates" not in data
            and "done" not in data
            and "name" not in data
        ):
            return error_from_body(
                None, data, headers=headers, endpoint=endpoint, request_id=self.request_id(headers)
            )
        return None
