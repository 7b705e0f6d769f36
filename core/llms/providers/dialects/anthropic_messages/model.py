"""The ``anthropic_messages`` dialect's model class: :class:`AnthropicModel`, the class Anthropic's
catalogue rows are made from (the registry derives one subclass per row, setting only
``metadata``)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from ....interfaces.context import RequestContext
from ....interfaces.llm_interfaces import WireRequest, WireResponse
from ....interfaces.messages import MessagesInput
from ....interfaces.types import LLMResponse, LLMStreamChunk
from ...base.implementation import BaseLLM
from .calls import Prepared, prepare
from .parameters import ANTHROPIC_PARAMETERS, PARAMETER_ALIASES, check_value
from .parsing import Cost, costing, parse_message
from .streaming import AnthropicStreamParser

__all__ = ["AnthropicModel", "parse_wire_response"]


class AnthropicModel(BaseLLM):
    """A Claude model through the Messages API: ``get_answer`` / ``stream_answer``.

    Parameters (keyword arguments of both methods, or ``defaults``): ``max_tokens`` (Anthropic
    requires it; default: 8,192 plus any thinking budget, within the model's limits),
    ``temperature`` (0..1), ``top_p``, ``top_k``, ``stop`` (``stop_sequences``), ``tools``,
    ``tool_choice``, ``parallel_tool_calls``, ``response_format`` (a forced tool: ``parsed`` holds
    the answer), ``thinking`` / ``reasoning_effort`` (extended thinking), ``metadata`` / ``user``,
    ``service_tier``, the prompt-cache points ``cache_system``, ``cache_tools``,
    ``cache_messages`` and ``cache_control``, ``betas`` (the ``anthropic-beta`` header of this
    call), ``model`` (the model id to send for this call), ``timeout`` and ``read_timeout``. See
    ``docs/anthropic.md``.
    """

    #: the wire dialect's name (see ``ProviderProfile.dialect``).
    dialect: ClassVar[str] = "anthropic_messages"
    provider_parameters: ClassVar[frozenset[str]] = ANTHROPIC_PARAMETERS
    parameter_aliases: ClassVar[Mapping[str, str]] = PARAMETER_ALIASES
    #: the adapter operation of a call (``/v1/messages``).
    operation: ClassVar[str] = "messages"

    def _check_defaults(self) -> None:
        for name, value in self._merge_parameters({}).items():
            check_value(name, value)

    @functools.cached_property
    def _cost(self) -> Cost:
        return costing(self)

    def _prepare(self, messages: MessagesInput, params: Mapping[str, Any], stream: bool) -> Prepared:
        return prepare(self, messages, self._merge_parameters(params), stream=stream)

    def batch_request(self, messages: MessagesInput, **params: Any) -> Prepared:
        """The checked request one Message Batches entry carries: exactly what :meth:`get_answer`
        would send (its ``body`` is the entry's ``params``), with what reading its answer needs
        (``format_tool``, ``response_format``) and its ``anthropic-beta`` header, if any."""
        return self._prepare(messages, params, stream=False)

    def batch_body(self, messages: MessagesInput, **params: Any) -> dict[str, Any]:
        """The Messages request body :meth:`get_answer` would send for ``messages`` and
        ``params`` (checked the same way), for a Message Batches entry."""
        return self.batch_request(messages, **params).body

    def _wire_request(self, prepared: Prepared, stream: bool) -> WireRequest:
        return WireRequest(
            self.operation,
            prepared.body,
            stream=stream,
            model=prepared.model,
            model_fixed=prepared.model_fixed,
            headers=prepared.headers,
            read_timeout=prepared.read_timeout,
            total_timeout=prepared.total_timeout,
        )

    def stream_parser(self, prepared: Prepared) -> Any:
        """The parser factory of a streamed call: ``factory(endpoint, request_id)``."""

        def factory(endpoint: str, request_id: str | None = None) -> AnthropicStreamParser:
            return AnthropicStreamParser(
                endpoint, cost=self._cost, request_id=request_id, format_tool=prepared.format_tool
            )

        return factory

    async def get_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> LLMResponse:
        """Send ``messages`` and return the whole answer (``raw``: the message, whose content
        blocks :func:`~.blocks.assistant_message` sends back)."""
        return await self._observe_call(ctx, self._answer(messages, ctx, params), messages, params)

    async def _answer(
        self, messages: MessagesInput, ctx: RequestContext | None, params: Mapping[str, Any]
    ) -> LLMResponse:
        prepared = self._prepare(messages, params, stream=False)
        wire = await self._connector.send(self._wire_request(prepared, False), ctx)
        return parse_wire_response(self, wire, prepared)

    def stream_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        """Send ``messages`` and yield the answer as it is produced; the last chunk carries
        ``finish_reason``, ``usage``, ``cost`` and (``raw``) the whole message."""

        def open_stream() -> AsyncIterator[LLMStreamChunk]:
            prepared = self._prepare(messages, params, stream=True)
            return self._connector.stream(
                self._wire_request(prepared, True), self.stream_parser(prepared), ctx
            )

        return self._observe_stream(ctx, open_stream, messages, params)


def parse_wire_response(model: BaseLLM, wire: WireResponse, prepared: Prepared) -> LLMResponse:
    """A non-streamed response → :class:`LLMResponse` with endpoint, timings and cost; a parse
    error is filled with where it came from and masked of the endpoints' credentials."""
    return model._stamp_response(
        wire,
        parse_message,
        cost=costing(model),
        response_format=prepared.response_format,
        format_tool=prepared.format_tool,
    )
