"""A Messages API ``message`` body → :class:`LLMResponse`: text, tool calls, thinking, stop
reasons, usage (cache reads and writes), cost, refusals and structured output.

Stop reasons: ``end_turn`` and ``stop_sequence`` → ``"stop"``; ``max_tokens`` and
``model_context_window_exceeded`` → ``"length"``; ``tool_use`` → ``"tool_calls"``; ``refusal`` →
``"refusal"``; ``pause_turn`` (a long server-tool turn the API paused: send the answer back with
:func:`~.blocks.assistant_message` to let it go on) → ``"length"``, the answer being unfinished;
the raw value stays on ``raw["stop_reason"]``.

Usage: Anthropic counts ``input_tokens`` *after* the last cache point; the library's
``input_tokens`` is the whole prompt (``input_tokens + cache_read_input_tokens +
cache_creation_input_tokens``), of which ``cached_input_tokens`` were read from the cache and
``cache_write_input_tokens`` written to it. ``reasoning_tokens`` is
``output_tokens_details.thinking_tokens`` when sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ....interfaces.errors import ResponseParsingError
from ....interfaces.messages import FunctionCall, ToolCall
from ....interfaces.types import FinishReason, LLMResponse, Usage
from ...base.redact import loggable
from ...base.structured_output import parse_structured
from ...base.wire_values import optional_str, optional_text, token_count

if TYPE_CHECKING:
    from ...base.implementation import BaseLLM

__all__ = [
    "Cost",
    "costing",
    "map_stop_reason",
    "one_hour_writes",
    "parse_message",
    "refusal_text",
    "usage_from_wire",
]

logger = logging.getLogger("core.llms.anthropic")

#: ``cost(usage, one_hour_writes)``: USD of a call's usage; ``one_hour_writes`` of its cache
#: writes were made with a one-hour TTL (billed at twice the input price, not the 5-minute price).
Cost = Callable[[Usage | None, int], float | None]

_STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "refusal",
    "pause_turn": "length",
}
_unknown_logged: set[str] = set()
_MAX_LOGGED = 64
#: a one-hour cache write costs this many times the base input price (5 minutes: 1.25).
ONE_HOUR_WRITE_FACTOR = 2.0
_REFUSED = "Claude declined to answer (stop_reason 'refusal')"


def map_stop_reason(reason: Any) -> FinishReason | None:
    """Anthropic ``stop_reason`` → the normalised finish reason (unknown: logged once, ``"stop"``)."""
    if reason is None:
        return None
    if not isinstance(reason, str):
        reason = f"<JSON {type(reason).__name__}>"
    mapped = _STOP_REASONS.get(reason)
    if mapped is None:
        if reason not in _unknown_logged and len(_unknown_logged) < _MAX_LOGGED:
            _unknown_logged.add(reason)
            logger.warning("unknown stop_reason %s reported as 'stop'", loggable(reason))
        return "stop"
    return mapped


def usage_from_wire(usage: Any) -> Usage | None:
    """Anthropic's ``usage`` → :class:`Usage` (see the module docs); counts that are not
    non-negative integers read as 0."""
    if not isinstance(usage, Mapping):
        return None
    fresh = token_count(usage.get("input_tokens"))
    read = token_count(usage.get("cache_read_input_tokens"))
    written = token_count(usage.get("cache_creation_input_tokens"))
    details = usage.get("output_tokens_details")
    thinking = token_count(details.get("thinking_tokens")) if isinstance(details, Mapping) else 0
    return Usage(
        input_tokens=fresh + read + written,
        output_tokens=token_count(usage.get("output_tokens")),
        cached_input_tokens=read,
        reasoning_tokens=thinking,
        cache_write_input_tokens=written,
    )


def one_hour_writes(usage: Any) -> int:
    """The cache writes of ``usage`` made with a one-hour TTL (``cache_creation``'s breakdown)."""
    breakdown = usage.get("cache_creation") if isinstance(usage, Mapping) else None
    return token_count(breakdown.get("ephemeral_1h_input_tokens")) if isinstance(breakdown, Mapping) else 0


def costing(model: BaseLLM) -> Cost:
    """The :data:`Cost` of ``model``: its ``cost(usage)`` (cache reads at the cached price, cache
    writes at the cache-write price: the 5-minute one) plus, for one-hour writes, the difference
    to twice the input price. None when the model has no price."""

    def cost(usage: Usage | None, one_hour: int = 0) -> float | None:
        base = model.cost(usage)
        if base is None or not one_hour:
            return base
        pricing = model.metadata.pricing
        written_at = pricing.cache_write_input_per_1m
        if written_at is None:
            written_at = pricing.input_per_1m
        return base + one_hour * (ONE_HOUR_WRITE_FACTOR * pricing.input_per_1m - written_at) / 1_000_000

    return cost


def refusal_text(stop_details: Any, text: str) -> str:
    """What a refusal says: the API's ``stop_details.explanation``, else the text, else a note."""
    if isinstance(stop_details, Mapping):
        explanation = stop_details.get("explanation")
        if isinstance(explanation, str) and explanation:
            return explanation
    return text or _REFUSED


def _incomplete_tool(content: list[Any], stop_reason: Any) -> int | None:
    """The index of a ``tool_use`` cut off by ``max_tokens`` (the last block), else None."""
    if stop_reason == "max_tokens" and content:
        last = content[-1]
        if isinstance(last, Mapping) and last.get("type") == "tool_use":
            return len(content) - 1
    return None


def parse_message(
    data: Any,
    *,
    provider: str,
    model: str,
    cost: Cost | None = None,
    response_format: Any = None,
    format_tool: str | None = None,
) -> LLMResponse:
    """A decoded ``message`` body → :class:`LLMResponse` (``raw``: the body).

    ``tool_use`` blocks become OpenAI-shape tool calls (``arguments``: the input as a JSON
    string); the call of ``format_tool`` (structured output) is the answer instead: its input is
    the ``text`` and, decoded by ``response_format``, ``parsed``. A ``tool_use`` cut off by
    ``max_tokens`` is dropped (finish reason ``"length"``). Thinking blocks are the
    ``reasoning``; server tool blocks (web search, web fetch, code execution …) are kept in
    ``raw`` only."""
    if not isinstance(data, Mapping):
        raise ResponseParsingError(f"the response is a JSON {type(data).__name__}, not a message object")
    content = data.get("content")
    if not isinstance(content, list):
        raise ResponseParsingError("the response has no content list", body=dict(data))
    stop_reason = data.get("stop_reason")
    incomplete = _incomplete_tool(content, stop_reason)
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[ToolCall] = []
    answer: Any = None
    for i, block in enumerate(content):
        if not isinstance(block, Mapping):
            raise ResponseParsingError(f"content[{i}] is not an object")
        match block.get("type"):
            case "text":
                texts.append(optional_text(block.get("text"), f"content[{i}].text") or "")
            case "thinking":
                thoughts.append(optional_text(block.get("thinking"), f"content[{i}].thinking") or "")
            case "tool_use" if i != incomplete:
                name = block.get("name")
                if not isinstance(name, str) or not name:
                    raise ResponseParsingError(f"content[{i}] (tool_use) has no name")
                tool_input = block.get("input")
                if name == format_tool:
                    answer = tool_input
                    continue
                call_id = optional_str(block.get("id")) or f"toolu_{i}"
                calls.append(ToolCall(call_id, FunctionCall(name, _arguments(tool_input, i))))
            case _:
                pass  # redacted thinking, server tool blocks …: in raw
    text = "".join(texts)
    finish = map_stop_reason(stop_reason)
    parsed = None
    if format_tool is not None and answer is not None:
        text = _arguments(answer, -1)
        parsed = parse_structured(text, response_format, provider=provider)
        if finish == "tool_calls" and not calls:
            finish = "stop"
    elif format_tool is not None and not calls and finish != "refusal":
        raise ResponseParsingError(
            f"the model did not answer in the response format (stop_reason {loggable(stop_reason)})",
            provider=provider,
            hint="the answer may have been cut short (finish_reason 'length'): raise max_tokens",
        )
    usage_data = data.get("usage")
    usage = usage_from_wire(usage_data)
    refusal = refusal_text(data.get("stop_details"), text) if finish == "refusal" else None
    return LLMResponse(
        text=text,
        model=optional_str(data.get("model")) or model,
        provider=provider,
        finish_reason=finish,
        tool_calls=calls,
        usage=usage,
        cost=cost(usage, one_hour_writes(usage_data)) if cost is not None and usage is not None else None,
        parsed=parsed,
        refusal=refusal,
        reasoning="".join(thoughts) or None,
        raw=data,
    )


def _arguments(value: Any, i: int) -> str:
    """A ``tool_use`` input (a JSON object) as the JSON string of an OpenAI-shape call."""
    if value is None:
        return "{}"
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        raise ResponseParsingError(f"content[{i}].input cannot be serialised as JSON") from None
