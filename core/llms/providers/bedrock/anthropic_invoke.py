"""Claude's native payloads on Bedrock: ``InvokeModel`` / ``InvokeModelWithResponseStream`` with
an Anthropic Messages API body, for what Converse does not carry (or carries differently):
thinking blocks with their signatures across turns, prompt-cache points, server tools, betas.

The body is the Messages API's (built by the ``anthropic_messages`` dialect, so every message,
tool, ``tool_choice``, thinking and cache rule is the same as on ``anthropic/…``) with
``"anthropic_version": "bedrock-2023-05-31"`` and without ``model`` and ``stream``: the model is
in the URL (the Bedrock adapter's ``invoke`` / ``invoke_stream`` operations) and the operation
says whether it streams; betas travel in the body as ``anthropic_beta``.

The answer is Anthropic's ``message`` (non-streamed), or an event stream whose ``chunk`` frames
carry ``{"bytes": "<base64 of one Anthropic stream event>"}``
(``tests/llms/wire/bedrock/invoke-stream-claude-*.bin``), read by the dialect's own
:class:`~..dialects.anthropic_messages.streaming.AnthropicStreamParser`; an ``exception`` frame
(``throttlingException``, ``modelStreamErrorException`` …) is Bedrock's error, mapped by
:func:`~..dialects.bedrock_converse.errors.error_from_event`.

Parameters are the Messages API dialect's (``docs/anthropic.md``), checked against the Bedrock
model's metadata (its capabilities, limits, ``unsupported`` and temperature range); the
model's own ``defaults`` belong to the Converse calls and are not applied here.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from ...interfaces.context import RequestContext
from ...interfaces.errors import ResponseParsingError
from ...interfaces.llm_interfaces import WireEvent, WireRequest
from ...interfaces.messages import MessagesInput
from ...interfaces.types import LLMResponse, LLMStreamChunk
from ..base.redact import cut
from ..dialects.anthropic_messages.calls import Prepared, prepare
from ..dialects.anthropic_messages.model import parse_wire_response
from ..dialects.anthropic_messages.parameters import merge_parameters
from ..dialects.anthropic_messages.parsing import costing
from ..dialects.anthropic_messages.streaming import AnthropicStreamParser

if TYPE_CHECKING:
    from ..base.implementation import BaseLLM

__all__ = [
    "INVOKE",
    "INVOKE_STREAM",
    "InvokeStreamParser",
    "invoke_answer",
    "invoke_stream",
    "prepare_invoke",
]

#: the Bedrock adapter's operations: ``/model/{id}/invoke`` and ``/model/{id}/invoke-with-response-stream``.
INVOKE = "invoke"
INVOKE_STREAM = "invoke_stream"
_PREVIEW = 80


def prepare_invoke(
    model: BaseLLM, messages: MessagesInput, params: Mapping[str, Any], *, stream: bool
) -> Prepared:
    """The checked request of a native Claude call on Bedrock (nothing is sent)."""
    return prepare(model, messages, merge_parameters(model, params), stream=stream, envelope="bedrock")


def _wire_request(prepared: Prepared, stream: bool) -> WireRequest:
    return WireRequest(
        INVOKE_STREAM if stream else INVOKE,
        prepared.body,
        stream=stream,
        model=prepared.model,
        model_fixed=prepared.model_fixed,
        read_timeout=prepared.read_timeout,
        total_timeout=prepared.total_timeout,
    )


async def invoke_answer(
    model: BaseLLM, messages: MessagesInput, ctx: RequestContext | None, params: Mapping[str, Any]
) -> LLMResponse:
    """Send ``messages`` to a Claude model on Bedrock through ``InvokeModel`` and return the whole
    answer (``raw``: Anthropic's message, whose blocks ``assistant_message`` sends back)."""
    prepared = prepare_invoke(model, messages, params, stream=False)
    wire = await model.connector.send(_wire_request(prepared, False), ctx)
    return parse_wire_response(model, wire, prepared)


def invoke_stream(
    model: BaseLLM, messages: MessagesInput, ctx: RequestContext | None, params: Mapping[str, Any]
) -> AsyncIterator[LLMStreamChunk]:
    """Send ``messages`` to a Claude model on Bedrock through ``InvokeModelWithResponseStream``
    and yield the answer as it is produced (the last chunk: finish reason, usage, cost, ``raw``).
    The request is checked when this is called."""
    prepared = prepare_invoke(model, messages, params, stream=True)
    cost = costing(model)

    def parser(endpoint: str, request_id: str | None = None) -> InvokeStreamParser:
        inner = AnthropicStreamParser(
            endpoint, cost=cost, request_id=request_id, format_tool=prepared.format_tool
        )
        return InvokeStreamParser(inner)

    return model.connector.stream(_wire_request(prepared, True), parser, ctx)


class InvokeStreamParser:
    """Bedrock's event-stream frames → the Anthropic events inside them → chunks (implements
    ``StreamParser``): a ``chunk`` frame's ``bytes`` (base64 of one Anthropic event's JSON) is
    handed to the Anthropic parser; an exception or error frame raises Bedrock's typed error."""

    __slots__ = ("inner",)

    def __init__(self, inner: AnthropicStreamParser) -> None:
        self.inner = inner

    @property
    def request_id(self) -> str | None:
        return self.inner.request_id

    @request_id.setter
    def request_id(self, value: str | None) -> None:
        self.inner.request_id = value

    def feed(self, event: WireEvent) -> list[LLMStreamChunk]:
        if event.extra.get("message_type") in ("exception", "error"):
            from ..dialects.bedrock_converse.errors import error_from_event

            raise error_from_event(event, endpoint=self.inner.endpoint, request_id=self.inner.request_id)
        return self.inner.feed(WireEvent(data=self._event_json(event)))

    def _event_json(self, event: WireEvent) -> str:
        try:
            frame = json.loads(event.data)
        except (ValueError, RecursionError):
            frame = None
        encoded = frame.get("bytes") if isinstance(frame, dict) else None
        if not isinstance(encoded, str):
            raise self._malformed(f"a frame has no 'bytes' field: {cut(event.data, _PREVIEW)!r}")
        try:
            return base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise self._malformed("a frame's 'bytes' are not base64 of UTF-8 text") from None

    def _malformed(self, what: str) -> ResponseParsingError:
        return ResponseParsingError(
            f"stream event is malformed: {what}",
            endpoint=self.inner.endpoint,
            request_id=self.inner.request_id,
        )

    def close(self) -> list[LLMStreamChunk]:
        return self.inner.close()
