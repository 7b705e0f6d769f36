"""Vertex AI's URL and auth rules: :class:`VertexAdapter`. Error bodies are Google's envelope,
mapped by the dialect (:mod:`~..dialects.gemini.errors`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...interfaces.endpoint import EndpointConfig
from ...interfaces.errors import ConfigurationError
from ..base.auth import resolve_bearer_token
from ..dialects.gemini.adapter import GoogleAdapter, vertex_url
from .credentials import GoogleTokenProvider
from .settings import VertexSettings

__all__ = ["DEFAULT_ENDPOINT", "VertexAdapter"]

#: the endpoint of ``vertex/`` models when none is given, made from each endpoint's location
#: (``global``, ``us`` and ``eu`` are served from their own hosts: see
#: :func:`~..dialects.gemini.adapter.vertex_root`); a backup naming another location gets its own.
DEFAULT_ENDPOINT = "https://{location}-aiplatform.googleapis.com"


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
        return vertex_url(
            endpoint.endpoint,
            operation,
            model,
            project=settings.project,
            location=settings.location,
            api_version=settings.api_version,
        )

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
