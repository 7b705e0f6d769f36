"""The ``gemini`` dialect's model classes: ``GeminiBaseLLM`` (the ``generateContent`` wire helpers)
and ``GeminiChatModel`` (``get_answer`` / ``stream_answer``), spoken by the Gemini API and
Vertex AI alike (their adapters differ: URL and auth)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from ....interfaces.context import RequestContext, check_context
from ....interfaces.errors import InvalidInputError, LLMError, UnsupportedOperationError
from ....interfaces.llm_interfaces import WireRequest, WireResponse
from ....interfaces.messages import MessagesInput
from ....interfaces.types import LLMResponse, LLMStreamChunk
from ...base.implementation import MESSAGE_OVERHEAD_TOKENS, BaseLLM
from .parameters import GEMINI_PARAMETERS, PARAMETER_ALIASES
from .parsing import parse_generate_content
from .payload import contents_to_wire, generation_config, request_fields, separate_contents
from .streaming import GeminiStreamParser

__all__ = ["GeminiBaseLLM", "GeminiChatModel", "uses_thinking_levels"]

_TRANSPORT_PARAMS = frozenset({"timeout", "read_timeout", "model"})
_NATIVE_FORMAT_KEYS = ("responseMimeType", "responseSchema", "responseJsonSchema")


def uses_thinking_levels(model_id: str) -> bool:
    """Does ``model_id`` take ``thinkingLevel`` (Gemini 3 and later) rather than a
    ``thinkingBudget`` (Gemini 2.x, and a name that is no Gemini version: a tuned endpoint)?"""
    name = model_id.rsplit("/", 1)[-1]
    return name.startswith("gemini-") and not name.startswith(("gemini-2", "gemini-1"))


def _parse_format(fmt: Any) -> Any:
    """What the answer is decoded with: ``response_format`` itself, except Gemini's own format
    dict whose MIME type is not JSON (``text/x.enum``): not decoded."""
    if isinstance(fmt, Mapping) and any(key in fmt for key in _NATIVE_FORMAT_KEYS):
        return fmt if fmt.get("responseMimeType", "application/json") == "application/json" else None
    return fmt


class GeminiBaseLLM(BaseLLM):
    """``generateContent`` wire helpers: request building, response and stream parsing.

    Accepted parameters: :data:`~.parameters.GEMINI_PARAMETERS` plus the row's
    ``extra_allowed`` (the reasoning controls of thinking models), minus its ``unsupported``."""

    #: the wire dialect's name (see ``ProviderProfile.dialect``).
    dialect: ClassVar[str] = "gemini"
    provider_parameters: ClassVar[frozenset[str]] = GEMINI_PARAMETERS
    parameter_aliases: ClassVar[Mapping[str, str]] = PARAMETER_ALIASES
    #: the adapter operations of a call and of a streamed call.
    operation: ClassVar[str] = "generate"
    stream_operation: ClassVar[str] = "stream_generate"

    def _check_features(self, params: Mapping[str, Any]) -> None:
        caps = self.metadata.capabilities
        fmt = params.get("response_format")
        wants_json = fmt is not None and not (isinstance(fmt, Mapping) and fmt.get("type") == "text")
        for name, asked, supported in (
            ("tools", bool(params.get("tools")), caps.tools),
            ("response_format", wants_json, caps.json_schema or caps.json_mode),
        ):
            if asked and not supported:
                raise UnsupportedOperationError(
                    f"{self.name} does not support {name}",
                    provider=self.provider,
                    model=self.name,
                    hint="see the model's metadata.capabilities",
                )

    def _wire_contents(
        self, messages: MessagesInput
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None, int]:
        """``(contents, systemInstruction, estimated prompt tokens)`` of the messages (Gemini
        content dicts among them sent as they are)."""
        rest, passthrough = separate_contents(messages)
        msgs = self._validate_messages(rest)
        contents, system = contents_to_wire(msgs, passthrough)
        estimate = self._estimate_tokens(msgs)
        for content in passthrough.values():
            chars = sum(len(p.get("text") or "") for p in content["parts"] if isinstance(p, Mapping))
            estimate += chars // 4 + MESSAGE_OVERHEAD_TOKENS
        return contents, system, estimate

    def _prepare(
        self, messages: MessagesInput, params: Mapping[str, Any], stream: bool
    ) -> tuple[WireRequest, Any]:
        """Validate everything and build the request; returns it and what the answer is decoded
        with (``response_format``)."""
        self._check_text_output_support()
        contents, system, estimate = self._wire_contents(messages)
        merged = self._merge_parameters(params)
        self._check_token_limits(estimate, merged.get("max_tokens"))
        self._check_features(merged)
        model = merged.get("model")
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise InvalidInputError("model= must be a non-empty model id string")
        model_id = model if model is not None else self.metadata.model_id
        body_params = {k: v for k, v in merged.items() if k not in _TRANSPORT_PARAMS}
        payload: dict[str, Any] = {"contents": contents}
        if system is not None:
            payload["systemInstruction"] = system
        config = generation_config(body_params, levels=uses_thinking_levels(model_id))
        if config:
            payload["generationConfig"] = config
        payload.update(request_fields(body_params))
        request = WireRequest(
            self.stream_operation if stream else self.operation,
            payload,
            stream=stream,
            model=model_id,
            model_fixed=model is not None,
            read_timeout=merged.get("read_timeout"),
            total_timeout=merged.get("timeout"),
        )
        return request, _parse_format(merged.get("response_format"))

    def batch_body(self, messages: MessagesInput, **params: Any) -> dict[str, Any]:
        """The ``generateContent`` body :meth:`get_answer` would send for these arguments, built
        and checked the same way (one request of a provider Batch API job). ``model=``,
        ``timeout`` and ``read_timeout`` are checked but are not body fields."""
        request, _ = self._prepare(messages, params, stream=False)
        return request.payload

    def answer_format(self, **params: Any) -> Any:
        """What the answer of a call with ``params`` is decoded with: its ``response_format``
        (the model's default included), None for none or a format that is not JSON."""
        return _parse_format(self._merge_parameters(params).get("response_format"))

    def _parse_response(self, wire: WireResponse, *, response_format: Any = None) -> LLMResponse:
        """A non-streamed answer → :class:`LLMResponse` with endpoint, timings and cost; a parse
        error (a blocked prompt included) is filled with where it came from and masked of the
        endpoints' credentials."""
        response = self._stamp_response(wire, parse_generate_content, response_format=response_format)
        if not wire.request_id:  # Gemini's own id of the answer, when no header gave one
            data = wire.data if isinstance(wire.data, Mapping) else {}
            response_id = data.get("responseId")
            response.request_id = response_id if isinstance(response_id, str) else None
        return response

    def _stream_parser(self, endpoint: str, request_id: str | None = None) -> GeminiStreamParser:
        """A fresh parser for one streamed attempt on ``endpoint``."""
        return GeminiStreamParser(endpoint, cost=self.cost, request_id=request_id)


class GeminiChatModel(GeminiBaseLLM):
    """A Gemini model (Gemini API or Vertex AI): ``get_answer`` / ``stream_answer``.

    Parameters (keyword arguments of both): ``max_tokens`` (``maxOutputTokens``),
    ``temperature``, ``top_p``, ``top_k``, ``stop`` (up to 5), ``seed``, ``presence_penalty``,
    ``frequency_penalty``, ``tools`` (OpenAI tool dicts, pydantic classes, Gemini tools such as
    ``{"googleSearch": {}}``), ``tool_choice``, ``response_format`` (a pydantic class →
    ``response.parsed`` is an instance; a JSON schema → a dict), ``safety_settings``,
    ``cached_content``, ``labels`` (Vertex AI), ``generation_config`` (any other
    ``generationConfig`` field, as Google spells it), on thinking models ``reasoning_effort``,
    ``thinking_budget``, ``thinking_level``, ``include_thoughts`` (thought summaries →
    ``response.reasoning``); ``model`` (the model id for this call), ``timeout``, ``read_timeout``.
    """

    async def get_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> LLMResponse:
        """Send ``messages`` and return the whole answer."""
        if self._observer is not None:
            return await self._observe_call(ctx, self._answer(messages, params, ctx), messages, params)
        try:
            check_context(ctx)
            return await self._answer(messages, params, ctx)
        except LLMError as exc:
            exc.fill(provider=self.provider, model=self.name)
            raise

    async def _answer(
        self, messages: MessagesInput, params: Mapping[str, Any], ctx: RequestContext | None = None
    ) -> LLMResponse:
        request, response_format = self._prepare(messages, params, stream=False)
        wire = await self._connector.send(request, ctx)
        return self._parse_response(wire, response_format=response_format)

    def stream_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        """Send ``messages`` and yield the answer as it is produced; the last chunk carries
        ``finish_reason``, ``usage``, ``cost`` and (``raw``) the whole answer."""

        def open_stream() -> AsyncIterator[LLMStreamChunk]:
            request, _ = self._prepare(messages, params, stream=True)
            return self._connector.stream(request, self._stream_parser, ctx)

        return self._observe_stream(ctx, open_stream, messages, params)
