"""Cohere's URL, auth and error rules: :class:`CohereAdapter` (the ``cohere_v2`` dialect's
adapter with Cohere's name and base URL)."""

from __future__ import annotations

from ..dialects.cohere_v2.adapter import CohereV2Adapter

__all__ = ["DEFAULT_BASE_URL", "CohereAdapter"]

#: Cohere's API root (``CO_API_URL`` overrides it, as in Cohere's SDK); ``/v2`` is added.
DEFAULT_BASE_URL = "https://api.cohere.com"


class CohereAdapter(CohereV2Adapter):
    """Cohere API rules (implements ``ProviderAdapter`` and ``BodyErrorDetector``).

    * URL: ``{endpoint}/v2/chat``, ``/v2/embed``, ``/v2/rerank`` for the operations ``"chat"``,
      ``"embed"``, ``"rerank"`` (endpoint default ``https://api.cohere.com``; an endpoint that
      already ends with ``/v2`` is used as it is).
    * Auth: ``Authorization: Bearer <api_key or token_provider()>``.
    * Streams are SSE; the request id comes from ``x-debug-trace-id`` (what Cohere sends), else
      ``x-request-id`` / ``x-trace-id`` (proxies).
    * Errors: see :mod:`core.llms.providers.dialects.cohere_v2.errors`.
    """

    def __init__(self) -> None:
        super().__init__("cohere")
