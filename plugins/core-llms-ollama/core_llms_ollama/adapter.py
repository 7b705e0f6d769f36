"""Ollama's URL, auth and error rules: :class:`OllamaAdapter`, and the one place Ollama error bodies
(HTTP errors and ``{"error": ...}`` lines inside a stream) become typed errors."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from core.llms.interfaces.endpoint import EndpointConfig, join_url
from core.llms.interfaces.errors import LLMError, NotFoundError, UnsupportedOperationError
from core.llms.interfaces.llm_interfaces import StreamDecoder
from core.llms.providers.base.auth import resolve_bearer_token
from core.llms.providers.base.http_errors import error_for_status, parse_retry_after
from core.llms.providers.base.ndjson import NDJSONDecoder

__all__ = ["DEFAULT_ENDPOINT", "PROVIDER", "OllamaAdapter", "error_from_message"]

PROVIDER = "ollama"
DEFAULT_ENDPOINT = "http://localhost:11434"

#: operation -> path under the server's base URL.
_PATHS: dict[str, str] = {"chat": "/api/chat"}
_MAX_MESSAGE = 500
#: the model name Ollama quotes in "model 'x' not found" / 'model "x" not found'.
_MODEL_IN_MESSAGE = re.compile(r"""model\s+['"]([^'"]+)['"]""")


def error_from_message(
    status: int,
    message: str,
    *,
    endpoint: str | None = None,
    body: Any = None,
    retry_after: float | None = None,
) -> LLMError:
    """The typed error for an Ollama error ``message`` with HTTP ``status``.

    A 404 naming a model (``model "x" not found, try pulling it first``) is a
    :class:`NotFoundError` whose hint is ``ollama pull x``; a 404 without one means the URL is
    not an Ollama server's.
    """
    message = " ".join(message.split())
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    message = message or f"HTTP {status} with an empty body"
    if status == 404:
        found = _MODEL_IN_MESSAGE.search(message)
        if found is not None:
            hint = f"the model is not on this server: run 'ollama pull {found.group(1)}' there"
        else:
            hint = "check the endpoint: it should be the Ollama server's base URL (it serves /api/chat)"
        return NotFoundError(message, endpoint=endpoint, status=status, body=body, hint=hint)
    return error_for_status(status, message, endpoint=endpoint, body=body, retry_after=retry_after)


class OllamaAdapter:
    """Ollama server rules (implements ``ProviderAdapter``).

    * URL: ``{endpoint}/api/chat`` for ``"chat"`` (a base URL ending in ``/api`` is accepted).
    * Auth: none by default; ``Authorization: Bearer <api_key or token_provider()>`` when the
      endpoint sets one (hosted Ollama behind an authenticating proxy).
    * Streams are NDJSON (one JSON object per line).
    """

    provider = PROVIDER

    def url(self, endpoint: EndpointConfig, operation: str, model: str) -> str:
        path = _PATHS.get(operation)
        if path is None:
            raise UnsupportedOperationError(
                f"{PROVIDER} has no {operation!r} operation", hint=f"known: {', '.join(_PATHS)}"
            )
        root, sep, query = endpoint.endpoint.partition("?")
        base = root.rstrip("/").removesuffix("/api") + sep + query
        return join_url(base, path)

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        token = await resolve_bearer_token(endpoint)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def decoder(self, operation: str) -> StreamDecoder:
        return NDJSONDecoder()

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        # Ollama sends none; a proxy in front of it may.
        return headers.get("x-request-id")

    def error_in_body(self, data: Any, headers: Mapping[str, str], endpoint: str) -> LLMError | None:
        """The error of a 200 answer that is ``{"error": "..."}`` (seen behind proxies): the
        connector then retries or fails over by the error's rule, as for an error status."""
        if isinstance(data, dict) and "error" in data:
            return error_from_message(500, str(data["error"]), endpoint=endpoint, body=data)
        return None

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes, endpoint: str) -> LLMError:
        data: Any = None
        try:
            data = json.loads(body) if body else None
        except (ValueError, RecursionError):  # not JSON, or nested too deeply to decode
            data = None
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            message = data["error"]
        else:
            message = body.decode("utf-8", "replace")
            data = data if isinstance(data, dict) else None
        return error_from_message(
            status, message, endpoint=endpoint, body=data, retry_after=parse_retry_after(headers)
        )
