"""The ``cohere_v2`` dialect's model class: :class:`CohereChatModel` (Cohere's chat models are
made from it, or from the provider's subclass that adds embeddings and rerank: the registry
derives one subclass per catalogue row, setting only ``metadata``)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from ....interfaces.context import RequestContext
from ....interfaces.errors import InvalidInputError, UnsupportedOperationError
from ....interfaces.llm_interfaces import WireRequest, WireResponse
from ....interfaces.messages import MessagesInput, plain_text_messages
from ....interfaces.types import LLMResponse, LLMStreamChunk
from ...base.implementation import BaseLLM
from .parameters import COHERE_CHAT_PARAMETERS, COHERE_PARAMETER_ALIASES, TRANSPORT_PARAMETERS
from .parsing import parse_chat_body
from .payload import chat_payload, messages_to_wire, split_cohere_fields, text_messages_to_wire
from .streaming import CohereStreamParser

__all__ = ["CohereChatModel"]

#: characters per estimated token (as ``BaseLLM._estimate_tokens``).
_CHARS_PER_TOKEN = 4


class CohereChatModel(BaseLLM):
    """A Cohere v2 chat model: ``get_answer`` / ``stream_answer`` over ``POST /v2/chat``.

    Parameters (keyword arguments of both methods, or the model's ``defaults``): ``max_tokens``,
    ``temperature``, ``p`` (``top_p``), ``k`` (``top_k``), ``stop_sequences`` (``stop``; at most
    5), ``seed``, ``frequency_penalty``, ``presence_penalty``, ``tools`` (OpenAI tool dicts or
    pydantic model classes), ``tool_choice`` (``"auto"``, ``"none"``, ``"required"`` or a tool
    name, which offers only that tool, required), ``strict_tools``, ``response_format`` (a
    pydantic model class → ``response.parsed`` is an instance; a JSON schema or format dict → a
    dict), ``documents`` (strings or dicts to ground the answer on: the citations are in
    ``response.raw``, see :func:`~.parsing.citations_of`), ``citation_options``, ``safety_mode``,
    ``priority``, ``thinking`` (reasoning models: ``{"type": "enabled", "token_budget": n}``,
    ``True`` / ``False`` or a budget), ``model`` (the model id to send for this call),
    ``timeout`` and ``read_timeout``.

    The answer's ``reasoning`` is the model's thinking and, when it calls tools, its tool plan;
    ``raw`` is Cohere's body (for streams: assembled on the last chunk).
    """

    #: the wire dialect's name (see ``ProviderProfile.dialect``).
    dialect: ClassVar[str] = "cohere_v2"
    provider_parameters: ClassVar[frozenset[str]] = COHERE_CHAT_PARAMETERS
    parameter_aliases: ClassVar[Mapping[str, str]] = COHERE_PARAMETER_ALIASES
    #: the adapter operation of a chat call.
    operation: ClassVar[str] = "chat"

    # -- the ILLM methods -----------------------------------------------------------------------

    async def get_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> LLMResponse:
        """Send ``messages`` and return the whole answer."""
        return await self._observe_call(ctx, self._answer(messages, ctx, params), messages, params)

    async def _answer(
        self, messages: MessagesInput, ctx: RequestContext | None, params: Mapping[str, Any]
    ) -> LLMResponse:
        request, response_format = self._prepare(messages, params, stream=False)
        wire = await self._connector.send(request, ctx)
        return self._parse_response(wire, response_format)

    def stream_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        """Send ``messages`` and yield the answer as it is produced; the last chunk carries
        ``finish_reason``, ``usage``, ``cost`` and ``raw`` (the assembled body)."""

        def open_stream() -> AsyncIterator[LLMStreamChunk]:
            request, _ = self._prepare(messages, params, stream=True)
            return self._connector.stream(request, self._stream_parser, ctx)

        return self._observe_stream(ctx, open_stream, messages, params)

    # -- helpers --------------------------------------------------------------------------------

    def _wire_model(self) -> str:
        """The ``model`` field of the request body."""
        return self.metadata.model_id

    def _check_features(self, params: Mapping[str, Any]) -> None:
        """Refuse tools / structured output on a model without them."""
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

    def _wire_messages(self, messages: MessagesInput) -> tuple[list[dict[str, Any]], int]:
        """The messages in the v2 shape, and their estimated prompt tokens."""
        messages, fields = split_cohere_fields(messages)
        if not fields:
            plain = plain_text_messages(messages)
            if plain is not None:
                return text_messages_to_wire(plain), self._estimate_text_tokens(plain)
        msgs = self._validate_messages(messages)
        estimate = self._estimate_tokens(msgs)
        for plan in fields.tool_plans.values():
            estimate += len(plan) // _CHARS_PER_TOKEN
        return messages_to_wire(msgs, fields), estimate

    def _prepare(
        self, messages: MessagesInput, params: Mapping[str, Any], *, stream: bool
    ) -> tuple[WireRequest, Any]:
        """Check everything and build the request; returns it and the ``response_format``."""
        self._check_text_output_support()
        wire_messages, estimate = self._wire_messages(messages)
        merged = self._merge_parameters(params)
        self._check_features(merged)
        documents = merged.get("documents")
        if documents is not None:
            # (documents_to_wire says what is wrong with documents that are not JSON)
            with contextlib.suppress(TypeError, ValueError, RecursionError):
                estimate += len(json.dumps(documents, default=str)) // _CHARS_PER_TOKEN
        self._check_token_limits(estimate, merged.get("max_tokens"))
        model = merged.get("model")
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise InvalidInputError("model= must be a non-empty model id string")
        wire_model = model if model is not None else self._wire_model()
        body = {k: v for k, v in merged.items() if k not in TRANSPORT_PARAMETERS}
        request = WireRequest(
            self.operation,
            chat_payload(wire_model, wire_messages, body, stream=stream),
            stream=stream,
            model=wire_model,
            model_fixed=model is not None,
            read_timeout=merged.get("read_timeout"),
            total_timeout=merged.get("timeout"),
        )
        return request, merged.get("response_format")

    def _parse_response(self, wire: WireResponse, response_format: Any = None) -> LLMResponse:
        """A non-streamed response → :class:`LLMResponse` with endpoint, timings and cost; a
        parse error is filled with where it came from and masked of the endpoints' credentials."""
        return self._stamp_response(wire, parse_chat_body, response_format=response_format)

    def _stream_parser(self, endpoint: str, request_id: str | None = None) -> CohereStreamParser:
        """A fresh parser for one streamed attempt on ``endpoint``."""
        return CohereStreamParser(endpoint, cost=self.cost, request_id=request_id)
