"""The Gemini API's URL and auth rules: :class:`GeminiAdapter`."""

from __future__ import annotations

from typing import Any

from ...interfaces.endpoint import EndpointConfig
from ..base.auth import resolve_bearer_token
from ..dialects.gemini.adapter import GEMINI_API_ROOT, GoogleAdapter, gemini_url

__all__ = ["DEFAULT_BASE_URL", "GeminiAdapter"]

#: the Gemini API's root, ``v1beta`` included (``GEMINI_BASE_URL`` may point elsewhere).
DEFAULT_BASE_URL = GEMINI_API_ROOT


class GeminiAdapter(GoogleAdapter):
    """Gemini API rules (implements ``ProviderAdapter``).

    * URL: ``{endpoint}/models/{model}:generateContent`` (``:streamGenerateContent?alt=sse`` for
      streams; the other operations: :data:`~..dialects.gemini.adapter.OPERATIONS`), the endpoint
      being the API root with its version (default
      ``https://generativelanguage.googleapis.com/v1beta``).
    * Auth: the API key in ``x-goog-api-key`` (never in the URL); with a ``token_provider`` (an
      OAuth access token) ``Authorization: Bearer`` instead.
    * Errors: Google's envelope (:mod:`~..dialects.gemini.errors`).
    """

    provider = "gemini"

    def url(self, endpoint: EndpointConfig, operation: str, model: str) -> str:
        return gemini_url(endpoint.endpoint, operation, model)

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        if endpoint.token_provider is not None:
            token = await resolve_bearer_token(endpoint)
            return {"Authorization": f"Bearer {token}"}
        if endpoint.api_key is not None:
            return {"x-goog-api-key": endpoint.api_key.get_secret_value()}
        return {}

    @staticmethod
    def operation_poll(name: str) -> tuple[str, str, dict[str, Any]]:
        """``(method, path, body)`` of the request reading the long-running operation ``name``
        (``models/veo-…/operations/abc``): ``GET {root}/{name}`` (operation ``"operation"``)."""
        return "GET", "/" + name.lstrip("/"), {}
