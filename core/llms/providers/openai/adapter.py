"""OpenAI's URL, auth and error rules: :class:`OpenAIAdapter` (the dialect's adapter, plus the
organization and project headers)."""

from __future__ import annotations

from ...interfaces.endpoint import EndpointConfig
from ..dialects.openai_chat.adapter import ChatCompletionsAdapter
from .settings import OpenAISettings

__all__ = ["DEFAULT_BASE_URL", "OpenAIAdapter"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIAdapter(ChatCompletionsAdapter):
    """OpenAI API rules (implements ``ProviderAdapter``).

    * URL: ``{endpoint}/chat/completions`` for ``"chat"`` (endpoint default
      ``https://api.openai.com/v1``); also ``embeddings``, ``images``, ``speech``.
    * Auth: ``Authorization: Bearer <api_key or token_provider()>``; ``OpenAI-Organization`` /
      ``OpenAI-Project`` from the endpoint's :class:`OpenAISettings` (the connector adds the
      endpoint's fixed ``headers``).
    * Streams are SSE; the request id comes from ``x-request-id``.
    """

    def __init__(self) -> None:
        super().__init__("openai")

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        headers = await super().auth_headers(endpoint)
        settings = endpoint.settings
        if isinstance(settings, OpenAISettings):
            if settings.organization:
                headers["OpenAI-Organization"] = settings.organization
            if settings.project:
                headers["OpenAI-Project"] = settings.project
        return headers
