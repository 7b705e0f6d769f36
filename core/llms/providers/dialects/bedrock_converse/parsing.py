"""A Converse response body → :class:`LLMResponse`: stop reasons, usage, tool calls, reasoning,
guardrail traces and structured output.

Wire facts (``tests/llms/wire/bedrock/converse-nonstream-nova.json`` and botocore's
``bedrock-runtime`` model): the answer is ``output.message.content``, a list of blocks, each a
union of one key: ``text``, ``toolUse`` (``toolUseId``, ``name``, ``input``: an object; ``type:
"server_tool_use"`` for a tool the server ran itself), ``toolResult`` (a server tool's result),
``reasoningContent`` (``reasoningText: {text, signature}`` or ``redactedContent``),
``citationsContent`` (``content[].text`` with citations), ``image``; then ``stopReason``,
``usage`` (``inputTokens`` excluding the cache's reads and writes, ``outputTokens``,
``cacheReadInputTokens``, ``cacheWriteInputTokens``), ``metrics.latencyMs`` and, with a
guardrail's trace on, ``trace.guardrail``.

``usage`` is read into :class:`Usage` with the library's meaning: ``input_tokens`` is every
prompt token (fresh, read from the cache, written to it), ``cached_input_tokens`` the cache reads
and ``cache_write_input_tokens`` the cache writes.
A guardrail intervention or a filtered answer is a finish reason (``"content_filter"``), not an
error; what the guardrail said is kept on ``content_filter`` (``{"stop_reason", "guardrail"}``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ....interfaces.errors import ResponseParsingError
from ....interfaces.messages import FunctionCall, ToolCall
from ....interfaces.types import FinishReason, LLMResponse, Usage
from ...base.redact import loggable
from ...base.structured_output import parse_structured
from ...base.wire_values import optional_str, optional_text, token_count

__all__ = [
    "CostFn",
    "content_filter_of",
    "dump_input",
    "map_stop_reason",
    "parse_converse",
    "usage_from_converse",
]

logger = logging.getLogger("core.llms.bedrock")

#: Computes the USD cost of a call's usage (the model's ``cost`` method).
CostFn = Callable[[Usage | None], float | None]

_STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
    "malformed_model_output": "error",
    "malformed_tool_use": "error",
}
#: the stop reasons that say a filter or guardrail stopped the answer.
FILTERED = frozenset({"guardrail_intervened", "content_filtered"})
_unknown_logged: set[str] = set()
_MAX_LOGGED = 64


def map_stop_reason(reason: Any) -> FinishReason | None:
    """Converse ``stopReason`` → the normalised finish reason. An unknown reason is logged once
    and reported as ``"stop"``; a missing one is None."""
    if reason is None:
        return None
    mapped = _STOP_REASONS.get(reason) if isinstance(reason, str) else None
    if mapped is None:
        shown = reason if isinstance(reason, str) else f"<JSON {type(reason).__name__}>"
        if shown not in _unknown_logged and len(_unknown_logged) < _MAX_LOGGED:
            _unknown_logged.add(shown)
            logger.warning("unknown Converse stopReason %s reported as 'stop'", loggable(shown))
        return "stop"
    return mapped


def usage_from_converse(usage: Any) -> Usage | None:
    """Converse ``usage`` → :class:`Usage` (see the module doc); None when absent. Counts that
    are not non-negative integers read as 0."""
    if not isinstance(usage, Mapping):
        return None
    read = token_count(usage.get("cacheReadInputTokens"))
    written = token_count(usage.get("cacheWriteInputTokens"))
    return Usage(
        input_tokens=token_count(usage.get("inputTokens")) + read + written,
        output_tokens=token_count(usage.get("outputTokens")),
        cached_input_tokens=read,
        cache_write_input_tokens=written,
    )


def content_filter_of(stop_reason: Any, trace: Any) -> dict[str, Any] | None:
    """``LLMResponse.content_filter``: the stop reason when a filter or guardrail stopped the
    answer, and the guardrail's trace when one was sent; None when neither."""
    out: dict[str, Any] = {}
    if stop_reason in FILTERED:
        out["stop_reason"] = stop_reason
    guardrail = trace.get("guardrail") if isinstance(trace, Mapping) else None
    if guardrail:
        out["guardrail"] = guardrail
    return out or None


def dump_input(value: Any) -> str:
    """A ``toolUse.input`` object as the JSON string of a tool call's ``arguments``."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        raise ResponseParsingError("a toolUse input cannot be serialised as JSON") from None


@dataclass(slots=True)
class _Answer:
    texts: list[str] = field(default_factory=list)
    thoughts: list[str] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    structured: str | None = None


def _read_content(content: list[Any], structured_tool: str | None) -> _Answer:
    answer = _Answer()
    for i, block in enumerate(content):
        where = f"output.message.content[{i}]"
        if not isinstance(block, Mapping):
            raise ResponseParsingError(f"{where} is not an object")
        if "text" in block:
            answer.texts.append(optional_text(block["text"], f"{where}.text") or "")
        elif "toolUse" in block:
            use = block["toolUse"]
            if not isinstance(use, Mapping) or not isinstance(use.get("name"), str) or not use["name"]:
                raise ResponseParsingError(f"{where}.toolUse has no name")
            if use.get("type") == "server_tool_use":
                continue  # the server ran it itself (its result follows as a toolResult block)
            arguments = dump_input(use.get("input", {}))
            if use["name"] == structured_tool and answer.structured is None:
                answer.structured = arguments
                continue
            call_id = optional_str(use.get("toolUseId")) or f"call_{len(answer.calls)}"
            answer.calls.append(ToolCall(call_id, FunctionCall(use["name"], arguments)))
        elif "reasoningContent" in block:
            reasoning = block["reasoningContent"]
            text_block = reasoning.get("reasoningText") if isinstance(reasoning, Mapping) else None
            if isinstance(text_block, Mapping):
                answer.thoughts.append(
                    optional_text(text_block.get("text"), f"{where}.reasoningText.text") or ""
                )
        elif "citationsContent" in block:
            cited = block["citationsContent"]
            pieces = cited.get("content") if isinstance(cited, Mapping) else None
            for j, piece in enumerate(pieces if isinstance(pieces, list) else ()):
                if isinstance(piece, Mapping):
                    answer.texts.append(optional_text(piece.get("text"), f"{where}.content[{j}].text") or "")
        # toolResult (a server tool's), image and unknown blocks carry no text: kept on raw only
    return answer


def parse_converse(
    data: Any,
    *,
    provider: str,
    model: str,
    cost: CostFn | None = None,
    response_format: Any = None,
    structured_tool: str | None = None,
) -> LLMResponse:
    """A decoded Converse response → :class:`LLMResponse`.

    ``structured_tool``: the name of the forced tool that stands for ``response_format`` (see
    :func:`~.payload.structured_tool`): its input becomes the answer's ``text`` (as JSON) and
    ``parsed``, and it is not among ``tool_calls``."""
    output = data.get("output") if isinstance(data, Mapping) else None
    message = output.get("message") if isinstance(output, Mapping) else None
    content = message.get("content") if isinstance(message, Mapping) else None
    if not isinstance(content, list):
        raise ResponseParsingError(
            "the response has no output.message.content", body=data if isinstance(data, dict) else None
        )
    answer = _read_content(content, structured_tool)
    stop_reason = data.get("stopReason")
    finish = map_stop_reason(stop_reason)
    text = "".join(answer.texts)
    parsed = None
    if answer.structured is not None:
        text = answer.structured
        if finish == "tool_calls" and not answer.calls:
            finish = "stop"  # the forced tool was the answer, not a call for the caller to make
    if response_format is not None and finish != "content_filter" and (answer.structured or not answer.calls):
        parsed = parse_structured(text, response_format, provider=provider)
    usage = usage_from_converse(data.get("usage"))
    return LLMResponse(
        text=text,
        model=model,
        provider=provider,
        finish_reason=finish,
        tool_calls=answer.calls,
        usage=usage,
        cost=cost(usage) if cost is not None and usage is not None else None,
        parsed=parsed,
        reasoning="".join(answer.thoughts) or None,
        content_filter=content_filter_of(stop_reason, data.get("trace")),
        raw=data,
    )
