"""Anthropic's URL, auth and error rules: :class:`AnthropicAdapter`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...interfaces.endpoint import EndpointConfig, join_url
from ...interfaces.errors import LLMError, UnsupportedOperationError
from ...interfaces.llm_interfaces import StreamDecoder
from ..base.auth import resolve_bearer_token
from ..dialects.anthropic_messages.calls import ANTHROPIC_VERSION
from ..dialects.anthropic_messages.errors import error_from_body, map_error_response
from .settings import AnthropicSettings

__all__ = ["DEFAULT_BASE_URL", "OPERATION_PATHS", "AnthropicAdapter"]

DEFAULT_BASE_URL = "https://api.anthropic.com"
#: operation -> path under ``{endpoint}/v1``.
OPERATION_PATHS: Mapping[str, str] = {
    "messages": "/messages",
    "count_tokens": "/messages/count_tokens",
    "models": "/models",
    # Message Batches: the batches themselves (``path``: ``/{id}``, ``/{id}/cancel``), and a
    # batch's results (``path``: ``/{id}/results``), a JSON Lines stream
    "batches": "/messages/batches",
    "batch_results": "/messages/batches",
}
#: operations whose stream is JSON Lines, not SSE.
_JSONL_OPERATIONS = frozenset({"batch_results"})
_REQUEST_ID_HEADERS = ("request-id", "x-request-id")


class AnthropicAdapter:
    """Anthropic API rules (implements ``ProviderAdapter`` and ``BodyErrorDetector``).

    * URL: ``{endpoint}/v1/messages`` for ``"messages"`` (endpoint default
      ``https://api.anthropic.com``; an endpoint that already ends with ``/v1`` is not given a
      second one; a query string stays last).
    * Auth: ``x-api-key: <api_key>``; with a ``token_provider``, ``Authorization: Bearer
      <token>`` instead (OAuth tokens, gateways). Every request carries ``anthropic-version``
      (``AnthropicSettings.version``, ``2023-06-01``) and, when set, ``anthropic-beta``.
    * Streams are SSE (a Message Batch's results: JSON Lines); the request id comes from
      ``request-id``.
    * Errors: Anthropic's ``{"type": "error", "error": {"type", "message"}}`` envelope (see
      :mod:`~..dialects.anthropic_messages.errors`), in an error response, a 200 body or a stream.
    """

    def __init__(self) -> None:
        self.provider = "anthropic"

    def __repr__(self) -> str:
        return "AnthropicAdapter()"

    def url(self, endpoint: EndpointConfig, operation: str, model: str) -> str:
        path = OPERATION_PATHS.get(operation)
        if path is None:
            raise UnsupportedOperationError(
                f"anthropic has no {operation!r} operation", hint=f"known: {', '.join(OPERATION_PATHS)}"
            )
        base = endpoint.endpoint
        if not base.partition("?")[0].rstrip("/").endswith("/v1"):
            base = join_url(base, "/v1")
        return join_url(base, path)

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        settings = endpoint.settings
        own = settings if isinstance(settings, AnthropicSettings) else None
        headers = {"anthropic-version": own.version if own is not None else ANTHROPIC_VERSION}
        if own is not None and own.beta:
            headers["anthropic-beta"] = own.beta
        token = await resolve_bearer_token(endpoint)
        if token:
            if endpoint.token_provider is not None:
                headers["Authorization"] = f"Bearer {token}"
            else:
                headers["x-api-key"] = token
        return headers

    def decoder(self, operation: str) -> StreamDecoder:
        if operation in _JSONL_OPERATIONS:  # a Message Batch's results
            from ..base.ndjson import NDJSONDecoder

            return NDJSONDecoder()
        from ..base.sse import SSEDecoder

        return SSEDecoder()

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        for name in _REQUEST_ID_HEADERS:
            value = headers.get(name)
            if value:
                return value
        return None

    def error_in_body(self, data: Any, headers: Mapping[str, str], endpoint: str) -> LLMError | None:
        """The error of a 2xx body that is Anthropic's error envelope (a gateway may answer so)."""
        if isinstance(data, dict) and data.get("type") == "error" and isinstance(data.get("error"), dict):
            return error_from_body(
                None, data, headers=headers, endpoint=endpoint, request_id=self.request_id(headers)
            )
        return None

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes, endpoint: str) -> LLMError:
        return map_error_response(status, headers, body, endpoint, self.request_id(headers))
