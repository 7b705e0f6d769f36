"""The OpenAI wire's URL, auth and error rules, set by data: :class:`ChatCompletionsAdapter`.

OpenAI, every OpenAI-compatible host (one row each in ``providers/openai_compatible/hosts.py``)
and Azure OpenAI (a subclass) use it. Error bodies are mapped in :mod:`.errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ....interfaces.endpoint import EndpointConfig, join_url
from ....interfaces.errors import LLMError, UnsupportedOperationError
from ....interfaces.llm_interfaces import StreamDecoder
from ...base.auth import resolve_bearer_token
from .errors import error_from_body, map_error_response

__all__ = ["OPERATION_PATHS", "RAW_STREAM_OPERATIONS", "ChatCompletionsAdapter"]

#: operation -> path under the base URL.
OPERATION_PATHS: Mapping[str, str] = {
    "chat": "/chat/completions",
    "responses": "/responses",
    "embeddings": "/embeddings",
    "images": "/images/generations",
    "image_edits": "/images/edits",
    "speech": "/audio/speech",
    "speech_events": "/audio/speech",
    "transcriptions": "/audio/transcriptions",
    "translations": "/audio/translations",
    "videos": "/videos",
    # the Batch API: uploads (``/files``), a file's content (``/files/{id}/content``, read as raw
    # bytes) and the jobs themselves (``/batches``)
    "files": "/files",
    "file_content": "/files",
    "batches": "/batches",
}
#: answer objects whose ``error`` field is part of a successful answer (a failed job or response).
_OBJECTS_WITH_OWN_ERROR = frozenset({"video", "response"})
#: operations whose streamed body is raw bytes (audio as it is spoken, a batch's JSONL results), not
#: server-sent events.
RAW_STREAM_OPERATIONS = frozenset({"speech", "file_content"})


class ChatCompletionsAdapter:
    """URL, auth and error rules of an OpenAI-shaped API (implements ``ProviderAdapter``).

    * URL: ``{endpoint}{base_path}/chat/completions`` for ``"chat"`` (the other operations:
      :data:`OPERATION_PATHS`); ``base_path`` is added unless the endpoint already ends with it; a
      query string on the endpoint stays last.
    * Auth: ``<auth_header>: <auth_scheme> <api_key or token_provider()>`` (``Authorization:
      Bearer …`` by default; an empty ``auth_scheme`` sends the key alone, e.g. ``x-api-key``);
      nothing when the endpoint has no credential (keyless local servers).
    * Streams are SSE; the request id comes from the first of ``request_id_headers`` present.
    * Errors: OpenAI's ``{"error": {...}}`` envelope, also inside a 2xx body or a stream.
    """

    def __init__(
        self,
        provider: str = "openai",
        *,
        auth_header: str = "Authorization",
        auth_scheme: str = "Bearer",
        request_id_headers: tuple[str, ...] = ("x-request-id",),
        base_path: str = "",
    ) -> None:
        self.provider = provider
        self.base_path = base_path.rstrip("/")
        self.auth_header = auth_header
        self.auth_scheme = auth_scheme
        self.request_id_headers = request_id_headers

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.provider!r})"

    def url(self, endpoint: EndpointConfig, operation: str, model: str) -> str:
        base = endpoint.endpoint
        if self.base_path and not base.partition("?")[0].rstrip("/").endswith(self.base_path):
            base = join_url(base, self.base_path)
        return join_url(base, self.operation_path(operation))

    def operation_path(self, operation: str) -> str:
        """The path of ``operation`` under the API root (``"chat"`` → ``/chat/completions``)."""
        path = OPERATION_PATHS.get(operation)
        if path is None:
            raise UnsupportedOperationError(
                f"{self.provider} has no {operation!r} operation", hint=f"known: {', '.join(OPERATION_PATHS)}"
            )
        return path

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        token = await resolve_bearer_token(endpoint)
        if not token:
            return {}
        return {self.auth_header: f"{self.auth_scheme} {token}" if self.auth_scheme else token}

    def decoder(self, operation: str) -> StreamDecoder:
        if operation in RAW_STREAM_OPERATIONS:
            from ...base.raw_stream import RawBytesDecoder

            return RawBytesDecoder()
        from ...base.sse import SSEDecoder

        return SSEDecoder()

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        for name in self.request_id_headers:
            value = headers.get(name)
            if value:
                return value
        return None

    def error_in_body(self, data: Any, headers: Mapping[str, str], endpoint: str) -> LLMError | None:
        """The error of a 2xx body that carries ``{"error": {...}}`` instead of an answer (some
        gateways and OpenAI-compatible servers do this); mapped like an in-stream error event.
        A video job or a Responses API response (``"object": "video"`` / ``"response"``) is not
        one: its ``error`` says why the job or response failed, which its module reports (the
        request itself succeeded)."""
        if isinstance(data, dict) and data.get("error") and "choices" not in data:
            if data.get("object") in _OBJECTS_WITH_OWN_ERROR:
                return None
            return error_from_body(
                None, data, headers=headers, endpoint=endpoint, request_id=self.request_id(headers)
            )
        return None

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes, endpoint: str) -> LLMError:
        return map_error_response(status, headers, body, endpoint, self.request_id(headers))
