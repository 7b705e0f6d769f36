"""The ``openai_chat`` dialect's model classes: ``OpenAIBaseLLM`` (the Chat Completions wire
helpers) and ``OpenAIChatModel`` (the class OpenAI, Azure OpenAI and every OpenAI-compatible
host's models are made from: the registry derives one subclass per catalogue row, setting only
``metadata``)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from ....interfaces.context import RequestContext, check_context
from ....interfaces.errors import InvalidInputError, LLMError, UnsupportedOperationError
from ....interfaces.llm_interfaces import WireRequest, WireResponse
from ....interfaces.messages import MessagesInput, plain_text_messages
from ....interfaces.types import FinishReason, LLMResponse, LLMStreamChunk
from ...base.implementation import BaseLLM
from .parameters import DEVELOPER_ROLE_FAMILIES, OPENAI_CHAT_PARAMETERS
from .parsing import map_finish_reason, parse_chat_completion
from .payload import chat_payload, message_to_wire, text_messages_to_wire
from .streaming import ChatStreamParser

__all__ = ["OpenAIBaseLLM", "OpenAIChatModel"]

#: Call parameters that set transport options (or the request's model) rather than body fields.
_TRANSPORT_PARAMS = frozenset({"timeout", "read_timeout", "model"})
#: the headers of an answer read from a Batch API output file (it came with none of its own).
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})
#: Call parameters that need a capability of the model (see _check_features).
_FEATURE_PARAMS = frozenset({"tools", "parallel_tool_calls", "response_format"})


class OpenAIBaseLLM(BaseLLM):
    """Chat Completions wire helpers: payload building, response parsing, stream parsing.

    Abstract: :class:`OpenAIChatModel` implements ``get_answer`` / ``stream_answer`` with them.
    The accepted parameters are :data:`~.parameters.OPENAI_CHAT_PARAMETERS` plus the model's
    ``extra_allowed`` (e.g. ``reasoning_effort``), minus its ``unsupported``; ``max_tokens`` (or
    ``max_completion_tokens``) is sent under the model's ``max_tokens_param``.
    """

    #: the wire dialect's name (see ``ProviderProfile.dialect``).
    dialect: ClassVar[str] = "openai_chat"
    provider_parameters: ClassVar[frozenset[str]] = OPENAI_CHAT_PARAMETERS
    parameter_aliases: ClassVar[Mapping[str, str]] = {"max_completion_tokens": "max_tokens"}
    #: the adapter operation of a chat call.
    operation: ClassVar[str] = "chat"
    #: ask for usage on streams (``stream_options.include_usage``); a host that refuses the
    #: field sets this to False in its row's quirks.
    stream_usage: ClassVar[bool] = True

    @property
    def _system_role(self) -> str:
        """``"developer"`` for models that take the system prompt that way (o-series)."""
        return "developer" if self.metadata.family in DEVELOPER_ROLE_FAMILIES else "system"

    def _wire_model(self) -> str:
        """The ``model`` field of the request body."""
        return self.metadata.model_id

    def _check_features(self, params: Mapping[str, Any]) -> None:
        """Refuse tools / parallel tools / structured output on a model without them."""
        if _FEATURE_PARAMS.isdisjoint(params):
            return
        caps = self.metadata.capabilities
        wanted = (
            ("tools", bool(params.get("tools")), caps.tools),
            ("parallel_tool_calls", "parallel_tool_calls" in params, caps.parallel_tools),
            (
                "response_format",
                self._wants_json(params.get("response_format")),
                caps.json_schema or caps.json_mode,
            ),
        )
        for name, asked, supported in wanted:
            if asked and not supported:
                raise UnsupportedOperationError(
                    f"{self.name} does not support {name}",
                    provider=self.provider,
                    model=self.name,
                    hint="see the model's metadata.capabilities",
                )

    @staticmethod
    def _wants_json(fmt: Any) -> bool:
        return fmt is not None and not (isinstance(fmt, Mapping) and fmt.get("type") == "text")

    def _wire_messages(self, messages: MessagesInput) -> tuple[list[dict[str, Any]], int]:
        """The messages in the Chat Completions shape, and their estimated prompt tokens.

        Plain text dicts (see :func:`~core.llms.interfaces.messages.plain_text_messages`) are
        written as they are; any other input is normalised and checked first."""
        system_role = self._system_role
        plain = plain_text_messages(messages)
        if plain is not None:
            return text_messages_to_wire(plain, system_role), self._estimate_text_tokens(plain)
        msgs = self._validate_messages(messages)
        wire = [message_to_wire(m, system_role, i) for i, m in enumerate(msgs)]
        return wire, self._estimate_tokens(msgs)

    def _build_payload(
        self, messages: list[dict[str, Any]], params: Mapping[str, Any], stream: bool
    ) -> dict[str, Any]:
        """The request body for wire-shaped ``messages`` and merged, checked ``params``
        (transport options left out)."""
        self._check_features(params)
        model = params.get("model")  # (a per-call model id: read before it is left out below)
        if not _TRANSPORT_PARAMS.isdisjoint(params):
            params = {k: v for k, v in params.items() if k not in _TRANSPORT_PARAMS}
        return chat_payload(
            model if model is not None else self._wire_model(),
            messages,
            params,
            stream=stream,
            stream_usage=self.stream_usage,
        )

    def _wire_request(
        self, messages: list[dict[str, Any]], params: Mapping[str, Any], stream: bool
    ) -> WireRequest:
        model = params.get("model")
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise InvalidInputError("model= must be a non-empty model id string")
        return WireRequest(
            self.operation,
            self._build_payload(messages, params, stream),
            stream=stream,
            model=model if model is not None else self._wire_model(),
            model_fixed=model is not None,
            read_timeout=params.get("read_timeout"),
            total_timeout=params.get("timeout"),
        )

    @functools.cached_property
    def _plain_call(self) -> tuple[str, str, str, int] | None:
        """What a plain call needs, made once per model: system role, wire model, the name
        ``max_tokens`` is sent under, context window; None when the model has
        defaults of its own or does not answer with text (those calls take the full way)."""
        meta = self.metadata
        if self._defaults or meta.parameters.defaults or not meta.supports_output("text"):
            return None
        rules = meta.parameters
        return (
            self._system_role,
            self._wire_model(),
            rules.max_tokens_param,
            meta.context_window,
        )

    def _plain_request(
        self, messages: MessagesInput, params: Mapping[str, Any], stream: bool
    ) -> WireRequest | None:
        """The request of the usual call — plain text messages and at most ``max_tokens`` — made
        directly (the same body and checks as the full way, :meth:`_prepare`, for a fraction of
        its cost); None for any other call."""
        plain_call = self._plain_call
        if plain_call is None or (params and (len(params) > 1 or "max_tokens" not in params)):
            return None
        plain = plain_text_messages(messages)
        if plain is None:
            return None
        system_role, model, max_param, window = plain_call
        payload: dict[str, Any] = {"model": model, "messages": text_messages_to_wire(plain, system_role)}
        max_tokens = params.get("max_tokens") if params else None
        if max_tokens is not None:
            self._check_max_tokens(max_tokens)
            payload[max_param] = max_tokens
        estimate = self._estimate_text_tokens(plain)
        if estimate + (max_tokens or 0) > window:
            self._check_token_limits(estimate, max_tokens)  # raises, with the full message
        if stream:
            payload["stream"] = True
            if self.stream_usage:
                payload["stream_options"] = {"include_usage": True}
        return WireRequest(self.operation, payload, stream, model)

    def _prepare(
        self, messages: MessagesInput, params: Mapping[str, Any], stream: bool
    ) -> tuple[WireRequest, Any]:
        """Validate everything and build the request; returns it and the ``response_format``."""
        request = self._plain_request(messages, params, stream)
        if request is not None:
            return request, None
        self._check_text_output_support()
        wire_messages, prompt_tokens = self._wire_messages(messages)
        merged = self._merge_parameters(params)
        self._check_token_limits(prompt_tokens, merged.get(self.metadata.parameters.max_tokens_param))
        return self._wire_request(wire_messages, merged, stream), merged.get("response_format")

    def _parse_response(
        self,
        wire: WireResponse,
        *,
        response_format: Any = None,
        parse: Callable[..., LLMResponse] = parse_chat_completion,
    ) -> LLMResponse:
        """A non-streamed response → :class:`LLMResponse` with endpoint, timings, region and
        cost. ``parse`` reads the body (the dialect's parser: Chat Completions by default); a
        parse error is filled with where it came from and masked of the endpoints' credentials."""
        response = self._stamp_response(wire, parse, response_format=response_format)
        response.region = wire.headers.get("x-ms-region")  # Azure's serving region (else absent)
        return response

    # -- the Batch API (core.llms.batch.provider_api.openai) -------------------------------------

    def batch_request(self, messages: MessagesInput, params: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
        """The body ``get_answer(messages, **params)`` would send — validated, merged and checked
        exactly as it does — for one line of a Batch API input file, and the call's
        ``response_format`` (for :meth:`batch_response`). Transport options (``timeout``,
        ``read_timeout``) do not apply to a batch and are left out."""
        try:
            request, response_format = self._prepare(messages, params, stream=False)
        except LLMError as exc:
            exc.fill(provider=self.provider, model=self.name)
            raise
        return request.payload, response_format

    def batch_body(self, messages: MessagesInput, **params: Any) -> dict[str, Any]:
        """The Chat Completions body of ``get_answer(messages, **params)`` (see :meth:`batch_request`)."""
        return self.batch_request(messages, params)[0]

    def batch_response(
        self, data: Any, *, endpoint: str, request_id: str | None = None, response_format: Any = None
    ) -> LLMResponse:
        """One answer of a Batch API output file (a ``chat.completion`` body) → :class:`LLMResponse`,
        read by the same parser as :meth:`get_answer`'s answers (``cost`` at the normal price: the
        caller applies the batch price). A parse error names ``endpoint`` and ``request_id``."""
        wire = WireResponse(200, _NO_HEADERS, b"", data, endpoint, request_id)
        response = self._parse_response(wire, response_format=response_format)
        response.headers = None
        return response

    def _stream_parser(self, endpoint: str, request_id: str | None = None) -> ChatStreamParser:
        """A fresh parser for one streamed attempt on ``endpoint``."""
        return ChatStreamParser(
            endpoint, cost=self.cost, request_id=request_id, expect_usage=self.stream_usage
        )

    def _map_finish_reason(self, reason: str | None) -> FinishReason | None:
        return map_finish_reason(reason)


class OpenAIChatModel(OpenAIBaseLLM):
    """A Chat Completions model: ``get_answer`` / ``stream_answer`` with the model's rules.

    Parameters (keyword arguments of both methods): ``max_tokens``, ``temperature``, ``top_p``,
    ``stop``, ``seed``, … (see :data:`~.parameters.OPENAI_CHAT_PARAMETERS`), ``model`` (the model
    id to send for this call, on every endpoint), ``tools`` (OpenAI
    tool dicts or pydantic model classes), ``tool_choice``, ``parallel_tool_calls``,
    ``response_format`` (a pydantic model class → ``response.parsed`` is an instance; a JSON
    schema or format dict → a dict), ``timeout`` (seconds for the whole call: every attempt,
    backoff and failover) and ``read_timeout`` (longest silence between received bytes).
    ``n`` other than 1 is not supported: :class:`InvalidInputError`.
    """

    async def get_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> LLMResponse:
        """Send ``messages`` and return the whole answer."""
        if self._observer is not None:
            return await self._observe_call(ctx, self._answer(messages, ctx, params), messages, params)
        try:  # what _observe_call and _answer do when there is no observer, two coroutines less
            check_context(ctx)
            request, response_format = self._prepare(messages, params, stream=False)
            wire = await self._connector.send(request, ctx)
            return self._parse_response(wire, response_format=response_format)
        except LLMError as exc:
            exc.fill(provider=self.provider, model=self.name)
            raise

    async def _answer(
        self, messages: MessagesInput, ctx: RequestContext | None, params: Mapping[str, Any]
    ) -> LLMResponse:
        request, response_format = self._prepare(messages, params, stream=False)
        wire = await self._connector.send(request, ctx)
        return self._parse_response(wire, response_format=response_format)

    def stream_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        """Send ``messages`` and yield the answer as it is produced; the last chunk carries
        ``finish_reason``, ``usage`` and ``cost``."""

        def open_stream() -> AsyncIterator[LLMStreamChunk]:
            request, _ = self._prepare(messages, params, stream=True)
            return self._connector.stream(request, self._stream_parser, ctx)

        return self._observe_stream(ctx, open_stream, messages, params)
