"""The Cohere v2 wire's URL, auth and error rules, set by data: :class:`CohereV2Adapter`.

Cohere's own API (``providers/cohere``) uses it as it is; another host serving the v2 wire under
another base path or header takes it with other data. Error bodies are mapped in :mod:`.errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ....interfaces.endpoint import EndpointConfig, join_url
from ....interfaces.errors import LLMError, UnsupportedOperationError
from ....interfaces.llm_interfaces import StreamDecoder
from ...base.auth import resolve_bearer_token
from .errors import error_from_body, generation_error, map_error_response
from .parsing import ERROR_REASONS

__all__ = ["OPERATION_PATHS", "CohereV2Adapter"]

#: operation -> path under the API's base path (``/v2``).
OPERATION_PATHS: Mapping[str, str] = {"chat": "/chat", "embed": "/embed", "rerank": "/rerank"}


class CohereV2Adapter:
    """URL, auth and error rules of a Cohere v2 API (implements ``ProviderAdapter`` and
    ``BodyErrorDetector``).

    * URL: ``{endpoint}{base_path}/chat`` (``/embed``, ``/rerank``); ``base_path`` (``/v2``) is
      added unless the endpoint already ends with it; a query string on the endpoint stays last.
    * Auth: ``Authorization: Bearer <api_key or token_provider()>``; nothing without a credential.
    * Streams are SSE; the request id comes from the first of ``request_id_headers`` present
      (Cohere sends ``x-debug-trace-id``).
    * Errors: Cohere's ``{"message": ...}`` bodies by status; a 2xx answer whose
      ``finish_reason`` is ``ERROR`` / ``TIMEOUT``, or a 2xx body that is an error, fails the
      attempt like an error status (so it is retried and failed over).
    """

    def __init__(
        self,
        provider: str = "cohere",
        *,
        base_path: str = "/v2",
        request_id_headers: tuple[str, ...] = ("x-debug-trace-id", "x-request-id", "x-trace-id"),
    ) -> None:
        self.provider = provider
        self.base_path = base_path.rstrip("/")
        self.request_id_headers = request_id_headers

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.provider!r})"

    def url(self, endpoint: EndpointConfig, operation: str, model: str) -> str:
        path = OPERATION_PATHS.get(operation)
        if path is None:
            raise UnsupportedOperationError(
                f"{self.provider} has no {operation!r} operation", hint=f"known: {', '.join(OPERATION_PATHS)}"
            )
        base = endpoint.endpoint
        if self.base_path and not base.partition("?")[0].rstrip("/").endswith(self.base_path):
            base = join_url(base, self.base_path)
        return join_url(base, path)

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        token = await resolve_bearer_token(endpoint)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def decoder(self, operation: str) -> StreamDecoder:
        from ...base.sse import SSEDecoder

        return SSEDecoder()

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        for name in self.request_id_headers:
            value = headers.get(name)
            if value:
                return value
        return None

    def error_in_body(self, data: Any, headers: Mapping[str, str], endpoint: str) -> LLMError | None:
        """The error a 2xx body reports: a chat answer that ended with ``ERROR`` / ``TIMEOUT``,
        or an error object (``{"message": "..."}`` with nothing else of an answer, or
        ``{"error": ...}``) where an answer belongs."""
        if not isinstance(data, dict):
            return None
        request_id = self.request_id(headers)
        reason = data.get("finish_reason")
        if reason in ERROR_REASONS:
            message = data.get("message")
            error = message.get("error") if isinstance(message, dict) else None
            return generation_error(
                str(reason),
                error if isinstance(error, str) else None,
                endpoint=endpoint,
                request_id=request_id,
                body=data,
            )
        is_error = isinstance(data.get("message"), str) and not (
            {"finish_reason", "results", "embeddings"} & set(data)
        )
        if is_error or (data.get("error") and not {"message", "results", "embeddings"} & set(data)):
            return error_from_body(
                _stated_status(data), data, headers=headers, endpoint=endpoint, request_id=request_id
            )
        return None

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes, endpoint: str) -> LLMError:
        return map_error_response(status, headers, body, endpoint, self.request_id(headers))


def _stated_status(data: dict[str, Any]) -> int:
    """The HTTP status an error body inside a 2xx answer states (a gateway's ``status_code`` or
    integer ``code``), else 500."""
    for holder in (data, data.get("error")):
        if isinstance(holder, dict):
            for key in ("status_code", "status", "code"):
                value = holder.get(key)
                if type(value) is int and 400 <= value <= 599:
                    return value
    return 500
