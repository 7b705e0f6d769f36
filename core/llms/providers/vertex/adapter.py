"""Vertex AI's URL and auth rules: :class:`VertexAdapter`. Error bodies are Google's envelope,
mapped by the dialect (:mod:`~..dialects.gemini.errors`), or Anthropic's (``{"type": "error", …}``,
from a Claude model: :mod:`~..dialects.anthropic_messages.errors`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from ...interfaces.endpoint import EndpointConfig, join_url
from ...interfaces.errors import ConfigurationError, LLMError
from ...interfaces.llm_interfaces import StreamDecoder
from ..base.auth import resolve_bearer_token
from ..dialects.gemini.adapter import GoogleAdapter, google_hosted, vertex_root, vertex_url
from .credentials import GoogleTokenProvider
from .settings import VertexSettings

__all__ = [
    "ANTHROPIC_OPERATIONS",
    "BATCH_OPERATIONS",
    "DEFAULT_ENDPOINT",
    "STORAGE_HOST",
    "VertexAdapter",
    "anthropic_url",
    "batch_url",
]

#: the endpoint of ``vertex/`` models when none is given, made from each endpoint's location
#: (``global``, ``us`` and ``eu`` are served from their own hosts: see
#: :func:`~..dialects.gemini.adapter.vertex_root`); a backup naming another location gets its own.
DEFAULT_ENDPOINT = "https://{location}-aiplatform.googleapis.com"
#: the operations of Claude models (publisher ``anthropic``): the Messages API body, answered
#: whole (``:rawPredict``) or as Anthropic's SSE stream (``:streamRawPredict``).
ANTHROPIC_OPERATIONS: Mapping[str, str] = {
    "anthropic_messages": ":rawPredict",
    "anthropic_messages_stream": ":streamRawPredict",
}

#: the Batch API's operations (:mod:`core.llms.batch.provider_api.vertex`), each with the request's
#: ``path`` appended: ``"batch_jobs"`` is the ``batchPredictionJobs`` collection of the endpoint's
#: project and location; ``"gcs"`` Cloud Storage's JSON API (answers in JSON) and ``"gcs_lines"``
#: the same read as a JSON Lines stream (an object's ``?alt=media`` content).
BATCH_OPERATIONS = frozenset({"batch_jobs", "gcs", "gcs_lines"})
#: Cloud Storage's JSON API host, used when the endpoint is one of Google's Vertex AI hosts (any
#: other endpoint, a proxy or the simulator, serves Cloud Storage's paths itself).
STORAGE_HOST = "https://storage.googleapis.com"


def batch_url(endpoint: str, operation: str, *, project: str, location: str, api_version: str = "v1") -> str:
    """The URL of a Batch API ``operation`` (:data:`BATCH_OPERATIONS`): ``{host}/{api_version}/
    projects/{project}/locations/{location}/batchPredictionJobs`` (the host following the
    location as for Gemini), or Cloud Storage's root (:data:`STORAGE_HOST` for Google's hosts, else
    the endpoint without a trailing API version)."""
    if operation == "batch_jobs":
        root = vertex_root(endpoint, location)
        version = "" if urlsplit(root).path.rstrip("/").endswith(f"/{api_version}") else f"/{api_version}"
        base = f"projects/{quote(project, safe='')}/locations/{quote(location, safe='')}"
        return join_url(root, f"{version}/{base}/batchPredictionJobs")
    if google_hosted(endpoint):
        return STORAGE_HOST
    root = endpoint.rstrip("/")
    return root[: -len(api_version) - 1] if root.endswith(f"/{api_version}") else root


def anthropic_url(
    endpoint: str, operation: str, model: str, *, project: str, location: str, api_version: str = "v1"
) -> str:
    """The URL of a Claude ``operation`` (:data:`ANTHROPIC_OPERATIONS`) for ``model``
    (``claude-sonnet-4-5@20250929``): ``{host}/{api_version}/projects/{project}/locations/
    {location}/publishers/anthropic/models/{model}:rawPredict``, the host following the location
    as for Gemini. A model id with a ``/`` is a resource name: under the project and location,
    or whole when it starts with ``projects/``."""
    method = ANTHROPIC_OPERATIONS[operation]
    root = vertex_root(endpoint, location)
    path = urlsplit(root).path.rstrip("/")
    version = "" if path.endswith(f"/{api_version}") else f"/{api_version}"
    named = quote(model, safe="/-_.~@")
    if not model.startswith("projects/"):
        base = f"projects/{quote(project, safe='')}/locations/{quote(location, safe='')}"
        named = f"{base}/{named}" if "/" in model else f"{base}/publishers/anthropic/models/{named}"
    return join_url(root, f"{version}/{named}{method}")


class VertexAdapter(GoogleAdapter):
    """Vertex AI rules (implements ``ProviderAdapter`` and ``RequestSigner``).

    * URL: ``{host}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}
      :generateContent`` (``:streamGenerateContent?alt=sse``; the other operations:
      :data:`~..dialects.gemini.adapter.OPERATIONS`) with the project, location and API version
      of *each* endpoint (:class:`VertexSettings`): a backup naming another location is served
      by that region's host.
    * Auth: the endpoint's ``api_key`` in ``x-goog-api-key``, or its ``token_provider`` as
      ``Authorization: Bearer``; else a Google access token (``credentials``,
      ``credentials_file`` or Application Default Credentials, see :mod:`.credentials`), added to
      every attempt by :meth:`sign_request` — it rotates, so it is never kept with the fixed
      headers — with ``x-goog-user-project`` when the credentials name a quota project. One
      :class:`GoogleTokenProvider` per credentials source, shared by every endpoint of this
      adapter.
    """

    provider = "vertex"
    #: Claude's answers carry Anthropic's ``request-id`` (``req_vrtx_…``).
    request_id_headers = (*GoogleAdapter.request_id_headers, "request-id")

    def __init__(self) -> None:
        #: credentials source → its token provider (which keeps the credentials object alive).
        self._tokens: dict[tuple[Any, ...], GoogleTokenProvider] = {}

    @staticmethod
    def settings_of(endpoint: EndpointConfig) -> VertexSettings:
        """The endpoint's :class:`VertexSettings`; :class:`ConfigurationError` when it has none."""
        settings = endpoint.settings
        if not isinstance(settings, VertexSettings):
            raise ConfigurationError(
                f"Vertex AI endpoint {endpoint.display_name} has no project / location",
                endpoint=endpoint.display_name,
                hint="set project= (and location=), or GOOGLE_CLOUD_PROJECT / GOOGLE_CLOUD_LOCATION",
            )
        return settings

    def url(self, endpoint: EndpointConfig, operation: str, model: str) -> str:
        settings = self.settings_of(endpoint)
        if operation in BATCH_OPERATIONS:
            return batch_url(
                endpoint.endpoint,
                operation,
                project=settings.project,
                location=settings.location,
                api_version=settings.api_version,
            )
        if operation in ANTHROPIC_OPERATIONS:
            return anthropic_url(
                endpoint.endpoint,
                operation,
                model,
                project=settings.project,
                location=settings.location,
                api_version=settings.api_version,
            )
        return vertex_url(
            endpoint.endpoint,
            operation,
            model,
            project=settings.project,
            location=settings.location,
            api_version=settings.api_version,
        )

    def decoder(self, operation: str) -> StreamDecoder:
        """SSE, or JSON Lines for a Cloud Storage object read as a stream (``"gcs_lines"``)."""
        if operation == "gcs_lines":
            from ..base.ndjson import NDJSONDecoder

            return NDJSONDecoder()
        return super().decoder(operation)

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes, endpoint: str) -> LLMError:
        """Google's envelope, or Anthropic's error body (a Claude model's own refusal)."""
        if _anthropic_error(_json(body)):
            from ..dialects.anthropic_messages.errors import map_error_response

            return map_error_response(status, headers, body, endpoint, self.request_id(headers))
        return super().map_error(status, headers, body, endpoint)

    def error_in_body(self, data: Any, headers: Mapping[str, str], endpoint: str) -> LLMError | None:
        if _anthropic_error(data):
            from ..dialects.anthropic_messages.errors import error_from_body

            return error_from_body(
                None, data, headers=headers, endpoint=endpoint, request_id=self.request_id(headers)
            )
        return super().error_in_body(data, headers, endpoint)

    @staticmethod
    def operation_poll(name: str) -> tuple[str, str, dict[str, Any]]:
        """``(method, path, body)`` of the request reading the long-running operation ``name``:
        ``POST {model}:fetchPredictOperation`` with ``{"operationName": name}`` (operation
        ``"operation"``, on the model that started it)."""
        return "POST", "", {"operationName": name}

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        if endpoint.api_key is not None and endpoint.token_provider is None:
            return {"x-goog-api-key": endpoint.api_key.get_secret_value()}
        if endpoint.token_provider is not None:
            token = await resolve_bearer_token(endpoint)
            return {"Authorization": f"Bearer {token}"}
        return {}  # a Google access token: added per attempt by sign_request

    async def sign_request(
        self, endpoint: EndpointConfig, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Mapping[str, str]:
        """The Google access token of ``endpoint`` (when it has neither an API key nor a token
        provider): ``Authorization: Bearer``, and ``x-goog-user-project`` for a quota project."""
        if endpoint.api_key is not None or endpoint.token_provider is not None:
            return {}
        tokens = self.token_provider(endpoint)
        token = await tokens()
        out = {"Authorization": f"Bearer {token}"}
        if tokens.quota_project:
            out["x-goog-user-project"] = tokens.quota_project
        return out

    def token_provider(self, endpoint: EndpointConfig) -> GoogleTokenProvider:
        """The cached token provider of ``endpoint``'s credentials (made on first use, then shared
        by every endpoint of this adapter with the same credentials)."""
        settings = self.settings_of(endpoint)
        if settings.credentials is not None:
            key: tuple[Any, ...] = ("object", id(settings.credentials))
        elif settings.credentials_file is not None:
            key = ("file", settings.credentials_file)
        else:
            key = ("default",)
        provider = self._tokens.get(key)
        if provider is None:
            provider = self._tokens[key] = GoogleTokenProvider(
                settings.credentials, credentials_file=settings.credentials_file
            )
        return provider


def _json(body: bytes) -> Any:
    if not body or b'"error"' not in body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def _anthropic_error(data: Any) -> bool:
    """Is ``data`` Anthropic's error envelope (``{"type": "error", "error": {...}}``)?"""
    return isinstance(data, dict) and data.get("type") == "error" and isinstance(data.get("error"), dict)
