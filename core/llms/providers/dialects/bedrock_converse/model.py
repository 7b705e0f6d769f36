"""The ``bedrock_converse`` dialect's model class: :class:`BedrockConverseModel`, a chat model
spoken through Bedrock's Converse API (``POST /model/{modelId}/converse`` and
``/converse-stream``; the adapter makes the URL of the operations ``"converse"`` and
``"converse_stream"`` and signs the request)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from ....interfaces.context import RequestContext, check_context
from ....interfaces.errors import InvalidInputError, LLMError, UnsupportedOperationError
from ....interfaces.llm_interfaces import WireRequest, WireResponse
from ....interfaces.messages import MessagesInput, plain_text_messages
from ....interfaces.types import LLMResponse, LLMStreamChunk
from ...base.implementation import BaseLLM
from .content import block_tokens, messages_to_converse, separate_blocks, text_messages_to_converse
from .parameters import CONVERSE_PARAMETERS, reasoning_family
from .parsing import parse_converse
from .payload import StructuredTool, converse_payload, structured_tool
from .streaming import ConverseStreamParser

__all__ = ["BedrockConverseModel"]

#: call parameters that set transport options (or the request's model) rather than body fields.
_TRANSPORT_PARAMS = frozenset({"timeout", "read_timeout", "model"})
_REASONING_PARAMS = ("reasoning_effort", "thinking")


class BedrockConverseModel(BaseLLM):
    """A model called through Bedrock's Converse API: ``get_answer`` / ``stream_answer``.

    Messages are sent as Converse blocks (text, images, documents, audio, tool calls and
    results; Converse blocks given among a message's content pass through: see
    :mod:`.content`). Parameters: ``max_tokens``, ``temperature`` (0..1), ``top_p``, ``stop``,
    ``tools``, ``tool_choice``, ``response_format`` (a forced tool; ``response.parsed``),
    ``reasoning_effort`` / ``thinking`` (per family), ``additional_model_request_fields``,
    ``additional_model_response_field_paths``, ``guardrail``, ``prompt_cache``,
    ``request_metadata``, ``performance_config``, ``service_tier``, ``timeout``,
    ``read_timeout`` and ``model`` (see :mod:`.parameters`).

    An answer's ``raw`` is the Converse response (for a stream: its final chunk's ``raw``, the
    same shape); :func:`~.content.converse_message` makes the message to send back on the next
    turn, reasoning and its signature included.
    """

    #: the wire dialect's name (see ``ProviderProfile.dialect``).
    dialect: ClassVar[str] = "bedrock_converse"
    provider_parameters: ClassVar[frozenset[str]] = CONVERSE_PARAMETERS
    parameter_aliases: ClassVar[Mapping[str, str]] = {"max_completion_tokens": "max_tokens"}
    #: the adapter operations of a call and of a streamed call.
    operation: ClassVar[str] = "converse"
    stream_operation: ClassVar[str] = "converse_stream"

    def _wire_model(self) -> str:
        """The model id sent in the URL (the catalogue's)."""
        return self.metadata.model_id

    @functools.cached_property
    def _reasoning_family(self) -> str:
        """How this model takes reasoning settings (see :func:`~.parameters.reasoning_family`)."""
        return reasoning_family(self.metadata.family, self.metadata.model_id)

    # -- checks ------------------------------------------------------------------------------------

    def _check_features(self, params: dict[str, Any]) -> dict[str, Any]:
        """Refuse tools / structured output on a model without them; reasoning parameters on a
        model that does not reason are refused too (or dropped with ``drop_unsupported``)."""
        caps = self.metadata.capabilities
        fmt = params.get("response_format")
        wants_json = fmt is not None and not (isinstance(fmt, Mapping) and fmt.get("type") == "text")
        for name, asked, supported in (
            ("tools", bool(params.get("tools")), caps.tools),
            ("response_format", wants_json, caps.tools or caps.json_schema),
        ):
            if asked and not supported:
                raise UnsupportedOperationError(
                    f"{self.name} does not support {name}",
                    provider=self.provider,
                    model=self.name,
                    hint="see the model's metadata.capabilities",
                )
        if caps.reasoning:
            return params
        for name in _REASONING_PARAMS:
            if params.get(name) in (None, "none", False):
                continue
            if self._drop_unsupported:
                self._log_dropped(name)
                params = {k: v for k, v in params.items() if k != name}
                continue
            raise InvalidInputError(
                f"parameter {name!r} is not supported by {self.name}: it does not reason",
                provider=self.provider,
                model=self.name,
                hint=f"remove {name!r}, or create the model with drop_unsupported=True to drop it",
            )
        return params

    # -- the request -------------------------------------------------------------------------------

    def _prepare(
        self, messages: MessagesInput, params: Mapping[str, Any], stream: bool
    ) -> tuple[WireRequest, Any, str | None]:
        """Check everything and build the request; returns it, the ``response_format`` and the
        name of the forced tool standing for it (None without one)."""
        self._check_text_output_support()
        merged = self._check_features(self._merge_parameters(params))
        max_tokens = merged.pop(self.metadata.parameters.max_tokens_param, None)
        model = merged.get("model")
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise InvalidInputError("model= must be a non-empty model id string")
        plain = plain_text_messages(messages)
        if plain is not None:
            system, wire_messages = text_messages_to_converse(plain)
            estimate = self._estimate_text_tokens(plain)
        else:
            replaced, blocks = separate_blocks(messages)
            msgs = self._validate_messages(replaced)
            system, wire_messages = messages_to_converse(msgs, blocks)
            estimate = self._estimate_tokens(msgs) + sum(
                block_tokens(block) for found in blocks.values() for _, block in found
            )
        self._check_token_limits(estimate, max_tokens)
        if not wire_messages:
            raise InvalidInputError(
                "Converse needs a user message: only system messages were given",
                hint="add the user's message after the system prompt",
            )
        fmt = merged.get("response_format")
        structured: StructuredTool | None = structured_tool(fmt) if fmt is not None else None
        body_params = {
            k: v for k, v in merged.items() if k not in _TRANSPORT_PARAMS and k != "response_format"
        }
        if max_tokens is not None:
            body_params["max_tokens"] = max_tokens
        payload = converse_payload(
            system,
            wire_messages,
            body_params,
            stream=stream,
            reasoning=self._reasoning_family,
            max_output=self.metadata.max_output_tokens,
            structured=structured,
        )
        request = WireRequest(
            self.stream_operation if stream else self.operation,
            payload,
            stream=stream,
            model=model if model is not None else self._wire_model(),
            model_fixed=model is not None,
            read_timeout=merged.get("read_timeout"),
            total_timeout=merged.get("timeout"),
        )
        return request, fmt, structured.name if structured is not None else None

    def _parse_response(
        self, wire: WireResponse, response_format: Any = None, structured: str | None = None
    ) -> LLMResponse:
        """A non-streamed response → :class:`LLMResponse` with endpoint and timings; a parse
        error is filled with where it came from and masked of the endpoints' credentials."""
        return self._stamp_response(
            wire, parse_converse, response_format=response_format, structured_tool=structured
        )

    # -- the ILLM methods --------------------------------------------------------------------------

    async def get_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> LLMResponse:
        """Send ``messages`` and return the whole answer."""
        if self._observer is not None:
            return await self._observe_call(ctx, self._answer(messages, ctx, params), messages, params)
        try:
            check_context(ctx)
            return await self._answer(messages, ctx, params)
        except LLMError as exc:
            exc.fill(provider=self.provider, model=self.name)
            raise

    async def _answer(
        self, messages: MessagesInput, ctx: RequestContext | None, params: Mapping[str, Any]
    ) -> LLMResponse:
        request, response_format, structured = self._prepare(messages, params, stream=False)
        wire = await self._connector.send(request, ctx)
        return self._parse_response(wire, response_format, structured)

    def stream_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        """Send ``messages`` and yield the answer as it is produced; the last chunk carries
        ``finish_reason``, ``usage``, ``cost`` and (``raw``) the whole answer."""

        def open_stream() -> AsyncIterator[LLMStreamChunk]:
            request, _, structured = self._prepare(messages, params, stream=True)
            name = self.name
            cost = self.cost

            def parser(endpoint: str, request_id: str | None = None) -> ConverseStreamParser:
                return ConverseStreamParser(
                    endpoint, cost=cost, request_id=request_id, model=name, structured_tool=structured
                )

            return self._connector.stream(request, parser, ctx)

        return self._observe_stream(ctx, open_stream, messages, params)
