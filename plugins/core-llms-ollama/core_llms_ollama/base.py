"""``OllamaBaseLLM``: chat over Ollama's native ``/api/chat``, whole or streamed (NDJSON)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from core.llms.interfaces.context import RequestContext
from core.llms.interfaces.errors import LLMError
from core.llms.interfaces.llm_interfaces import WireRequest
from core.llms.interfaces.messages import Message, MessagesInput
from core.llms.interfaces.types import LLMResponse, LLMStreamChunk
from core.llms.providers.base.download_policy import DownloadPolicy
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.base.redact import redact_with
from core.llms.providers.base.structured_output import parse_structured
from core.llms.providers.base.wire_values import optional_str

from .adapter import PROVIDER
from .images import fetch_remote_images, has_remote_images
from .parsing import OllamaStreamParser, finish_reason, parse_message, usage_of
from .payload import OPTION_PARAMETERS, RAW_OPTIONS, TOP_LEVEL_PARAMETERS, build_payload

__all__ = ["OllamaBaseLLM"]

#: call parameters that set this call's transport options rather than request body fields.
_TRANSPORT_PARAMETERS = frozenset({"timeout", "read_timeout"})


class OllamaBaseLLM(BaseLLM):
    """The ``ollama`` dialect's model class (every Ollama model is made from it by the registry):
    builds the ``/api/chat`` body and reads the answer.

    Parameters: ``max_tokens`` (sent as ``options.num_predict``), the sampling options
    (``temperature``, ``top_p``, ``top_k``, ``seed``, ``stop`` …, or any Modelfile option through
    ``options={...}``), ``tools`` (OpenAI shape), ``format`` / ``response_format`` (``"json"``, a
    JSON schema, an OpenAI ``response_format`` or a pydantic model class; the decoded answer is
    ``response.parsed``), ``keep_alive`` and ``think``; ``timeout`` (seconds for the whole call,
    retries and failover included) and ``read_timeout`` (longest silence between received bytes).

    Ollama takes image bytes, not URLs: an ``ImagePart(url="https://...")`` is downloaded first,
    within :attr:`image_downloads` (public addresses only, 20 MiB, 30 s by default; set
    ``model.image_downloads = DownloadPolicy(allow_private=True)`` for a trusted internal host).
    """

    #: limits of the image downloads this model makes (see ``core.llms.providers.base.download``).
    image_downloads: DownloadPolicy = DownloadPolicy()

    dialect: ClassVar[str] = "ollama"
    provider_parameters: ClassVar[frozenset[str]] = (
        OPTION_PARAMETERS | TOP_LEVEL_PARAMETERS | {RAW_OPTIONS} | _TRANSPORT_PARAMETERS
    )

    async def get_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> LLMResponse:
        """Send ``messages`` and return the whole answer."""
        return await self._observe_call(ctx, self._answer(messages, ctx, params))

    def stream_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        """Send ``messages`` and yield the answer as Ollama produces it."""
        return self._observe_stream(ctx, lambda: self._open_stream(messages, ctx, params))

    def _request(
        self, messages: MessagesInput, params: Mapping[str, Any], *, stream: bool
    ) -> tuple[WireRequest, dict[str, Any]]:
        self._check_text_output_support()
        msgs = self._validate_messages(messages)
        merged = self._merge_parameters(params)
        self._validate_token_limits(msgs, merged.get("num_predict"))
        body = {k: v for k, v in merged.items() if k not in _TRANSPORT_PARAMETERS}
        payload = build_payload(self.metadata.model_id, msgs, body, stream=stream)
        request = WireRequest(
            "chat",
            payload,
            stream=stream,
            model=self.metadata.model_id,
            read_timeout=merged.get("read_timeout"),
            total_timeout=merged.get("timeout"),
        )
        return request, merged

    async def _answer(
        self, messages: MessagesInput, ctx: RequestContext | None, params: Mapping[str, Any]
    ) -> LLMResponse:
        msgs = self._validate_messages(messages)
        if has_remote_images(msgs):
            msgs = await fetch_remote_images(msgs, self.image_downloads)
        request, merged = self._request(msgs, params, stream=False)
        wire = await self._connector.send(request, ctx)
        data = wire.data
        try:
            text, tool_calls, thinking = parse_message(data, wire.endpoint)
        except LLMError as exc:  # the error quotes the body: a server may echo credentials
            redact_with(self._connector, exc)
            raise
        usage = usage_of(data)
        response_format = merged.get("response_format", merged.get("format"))
        return LLMResponse(
            text=text,
            model=optional_str(data.get("model")) or self.name,
            provider=PROVIDER,
            finish_reason=finish_reason(data.get("done_reason"), bool(tool_calls)),
            tool_calls=tool_calls,
            usage=usage,
            cost=self.cost(usage),
            endpoint=wire.endpoint,
            request_id=wire.request_id,
            latency=wire.latency,
            ttfb=wire.ttfb,
            parsed=parse_structured(text, response_format, provider=PROVIDER)
            if response_format is not None and not tool_calls
            else None,
            reasoning=thinking,
            raw=data,
        )

    def _open_stream(
        self, messages: MessagesInput, ctx: RequestContext | None, params: Mapping[str, Any]
    ) -> AsyncIterator[LLMStreamChunk]:
        msgs = self._validate_messages(messages)
        if has_remote_images(msgs):
            return self._stream_after_download(msgs, ctx, params)
        request, _ = self._request(msgs, params, stream=True)
        name, cost = self.name, self.cost

        def parser(endpoint: str, _request_id: str | None) -> OllamaStreamParser:
            return OllamaStreamParser(endpoint, name, cost)

        return self._connector.stream(request, parser, ctx)

    async def _stream_after_download(
        self, msgs: list[Message], ctx: RequestContext | None, params: Mapping[str, Any]
    ) -> AsyncIterator[LLMStreamChunk]:
        """Download the messages' remote images, then stream (only calls that have some)."""
        stream = self._open_stream(await fetch_remote_images(msgs, self.image_downloads), ctx, params)
        try:
            async for chunk in stream:
                yield chunk
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
