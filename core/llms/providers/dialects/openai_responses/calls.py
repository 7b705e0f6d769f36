"""The chat calls of :class:`~core.llms.providers.openai.model.OpenAIModel` through the Responses
API (``api="responses"``): :func:`responses_answer` and :func:`responses_stream`.

The model's own helpers do the checks, as for Chat Completions: ``_validate_messages`` (media the
model cannot read), ``_merge_parameters`` (defaults, unsupported parameters such as
``temperature`` on a reasoning model, ``max_tokens``), ``_check_features`` (tools, structured
output), ``_check_token_limits``; everything is refused before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from ....interfaces.context import RequestContext
from ....interfaces.errors import InvalidInputError
from ....interfaces.llm_interfaces import WireRequest, WireResponse
from ....interfaces.messages import MessagesInput, plain_text_messages
from ....interfaces.types import LLMResponse, LLMStreamChunk
from .items import separate_items
from .parameters import CHAT_ONLY_PARAMETERS, check_own_parameter, split_parameters
from .parsing import parse_responses_body
from .payload import input_from_messages, input_from_text_messages, responses_payload
from .streaming import ResponsesStreamParser

if TYPE_CHECKING:
    from ...openai.model import OpenAIModel

__all__ = ["OPERATION", "prepare", "responses_answer", "responses_stream"]

#: the adapter operation of a Responses API call (``/responses``).
OPERATION = "responses"
#: call parameters that set transport options (or the request's model) rather than body fields.
_TRANSPORT_PARAMS = frozenset({"timeout", "read_timeout", "model"})
#: characters of an item's text per estimated token (as ``BaseLLM._estimate_tokens``).
_CHARS_PER_TOKEN = 4


async def responses_answer(
    model: OpenAIModel, messages: MessagesInput, ctx: RequestContext | None, params: dict[str, Any]
) -> LLMResponse:
    """Send ``messages`` through the Responses API and return the whole answer."""
    request, response_format = prepare(model, messages, params, stream=False)
    wire = await model._connector.send(request, ctx)
    return parse_wire_response(model, wire, response_format)


def responses_stream(
    model: OpenAIModel, messages: MessagesInput, ctx: RequestContext | None, params: dict[str, Any]
) -> AsyncIterator[LLMStreamChunk]:
    """Send ``messages`` through the Responses API and yield the answer as it is produced; the
    last chunk carries ``finish_reason``, ``usage``, ``cost`` and (``raw``) the whole response."""
    request, _ = prepare(model, messages, params, stream=True)

    def parser(endpoint: str, request_id: str | None = None) -> ResponsesStreamParser:
        return ResponsesStreamParser(endpoint, cost=model.cost, request_id=request_id)

    return model._connector.stream(request, parser, ctx)


def parse_wire_response(model: OpenAIModel, wire: WireResponse, response_format: Any = None) -> LLMResponse:
    """A non-streamed response → :class:`LLMResponse` with endpoint, timings and cost."""
    return model._parse_response(wire, response_format=response_format, parse=parse_responses_body)


def prepare(
    model: OpenAIModel, messages: MessagesInput, params: Mapping[str, Any], *, stream: bool
) -> tuple[WireRequest, Any]:
    """Check everything and build the request; returns it and the ``response_format``."""
    model._check_text_output_support()
    own, rest = split_parameters(params)
    if model._responses_defaults:  # the model's own defaults, under the call's
        own = {**model._responses_defaults, **own}
        for name in [k for k in own if k in params and params[k] is None]:
            del own[name]  # None in a call removes a default
    merged = model._merge_parameters(rest)
    model._check_features(merged)
    own = _own_parameters(model, own)
    refused = CHAT_ONLY_PARAMETERS.intersection(merged)
    if refused:
        name = sorted(refused)[0]
        raise InvalidInputError(
            f"parameter {name!r} has no equivalent in the Responses API",
            hint=f"remove {name!r}, or call through Chat Completions (api='chat')",
        )
    instructions = own.get("instructions")
    take_instructions = instructions is None
    plain = plain_text_messages(messages)
    if plain is not None:
        first, input_items = input_from_text_messages(plain, instructions=take_instructions)
        estimate = model._estimate_text_tokens(plain)
    else:
        replaced, items = separate_items(messages)
        msgs = model._validate_messages(replaced)
        first, input_items = input_from_messages(msgs, items, instructions=take_instructions)
        typed = [m for i, m in enumerate(msgs) if i not in items]
        estimate = model._estimate_tokens(typed) + sum(_item_tokens(item) for item in items.values())
    max_param = model.metadata.parameters.max_tokens_param
    max_tokens = merged.pop(max_param, None)
    model._check_token_limits(estimate, max_tokens)
    wire_model = merged.get("model")
    if wire_model is not None and (not isinstance(wire_model, str) or not wire_model.strip()):
        raise InvalidInputError("model= must be a non-empty model id string")
    body_params = {k: v for k, v in merged.items() if k not in _TRANSPORT_PARAMS}
    body_params.update(own)
    body_params.pop("instructions", None)
    if max_tokens is not None:
        body_params["max_output_tokens"] = max_tokens
    reasons = model.metadata.capabilities.reasoning
    payload = responses_payload(
        wire_model if wire_model is not None else model._wire_model(),
        input_items,
        body_params,
        stream=stream,
        instructions=instructions if instructions is not None else first,
        encrypted_reasoning=reasons and merged.get("store") is False,
    )
    request = WireRequest(
        OPERATION,
        payload,
        stream=stream,
        model=wire_model if wire_model is not None else model._wire_model(),
        model_fixed=wire_model is not None,
        read_timeout=merged.get("read_timeout"),
        total_timeout=merged.get("timeout"),
    )
    return request, merged.get("response_format")


def _own_parameters(model: OpenAIModel, own: dict[str, Any]) -> dict[str, Any]:
    """Check the Responses-only parameters; ``reasoning_summary`` needs a reasoning model (else
    refused, or dropped with ``drop_unsupported``)."""
    out: dict[str, Any] = {}
    for name, value in own.items():
        if name == "reasoning_summary" and not model.metadata.capabilities.reasoning:
            if model._drop_unsupported:
                model._log_dropped(name)
                continue
            raise InvalidInputError(
                f"parameter {name!r} is not supported by {model.name}: it does not reason",
                provider=model.provider,
                model=model.name,
                hint=f"remove {name!r}, or create the model with drop_unsupported=True to drop it",
            )
        check_own_parameter(name, value)
        out[name] = value
    return out


def _item_tokens(item: Mapping[str, Any]) -> int:
    """A rough token count of a Responses API item (its opaque encrypted content left out)."""
    visible = {k: v for k, v in item.items() if k != "encrypted_content"}
    try:
        return len(json.dumps(visible, ensure_ascii=False, default=str)) // _CHARS_PER_TOKEN
    except (TypeError, ValueError, RecursionError):
        raise InvalidInputError(f"a Responses API item of type {item.get('type')!r} is not JSON") from None
