"""A Cohere v2 chat response body → :class:`LLMResponse`: text, thinking, tool plan, tool calls,
citations, finish reason, usage and structured output.

The body (``V2ChatResponse``)::

    {"id", "finish_reason": "COMPLETE" | "STOP_SEQUENCE" | "MAX_TOKENS" | "TOOL_CALL" | "ERROR" | "TIMEOUT",
     "message": {"role": "assistant",
                 "content": [{"type": "text", "text"}, {"type": "thinking", "thinking"}],
                 "tool_plan": "...", "tool_calls": [{"id", "type": "function",
                                                     "function": {"name", "arguments"}}],
                 "citations": [{"start", "end", "text", "sources": [...], "type"}]},
     "usage": {"billed_units": {"input_tokens", "output_tokens"},
               "tokens": {"input_tokens", "output_tokens"}, "cached_tokens"}}

Mapped: text parts → ``text``; thinking parts, then the tool plan → ``reasoning`` (the tool plan
is the model's reflection before it calls tools); ``tool_calls`` → :class:`ToolCall`;
``usage.billed_units`` (what Cohere bills, and what ``cost`` is computed from; ``tokens`` when
there are none) → :class:`Usage`; the body itself → ``raw`` (citations, the tool plan on its own,
the unbilled token counts). ``ERROR`` / ``TIMEOUT`` raise (see :func:`.errors.generation_error`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from ....interfaces.errors import ResponseParsingError
from ....interfaces.messages import FunctionCall, ToolCall
from ....interfaces.types import FinishReason, LLMResponse, Usage
from ...base.redact import loggable
from ...base.structured_output import parse_structured
from ...base.wire_values import optional_str, optional_text, token_count
from .errors import generation_error

__all__ = [
    "ERROR_REASONS",
    "CostFn",
    "billed_count",
    "citations_of",
    "map_finish_reason",
    "parse_chat_body",
    "tool_plan_of",
    "usage_from_wire",
]

logger = logging.getLogger("core.llms.cohere")

#: Computes the USD cost of a call's usage (the model's ``cost`` method).
CostFn = Callable[[Usage | None], float | None]

_FINISH_REASONS: dict[str, FinishReason] = {
    "COMPLETE": "stop",
    "STOP_SEQUENCE": "stop",
    "MAX_TOKENS": "length",
    "TOOL_CALL": "tool_calls",
}
#: finish reasons that mean the generation failed: the answer is an error, not a response.
ERROR_REASONS = frozenset({"ERROR", "TIMEOUT"})
_unknown_logged: set[str] = set()
_MAX_LOGGED = 64


def map_finish_reason(reason: Any) -> FinishReason | None:
    """Cohere's ``finish_reason`` → the normalised value; an unknown one (or one that is not a
    string) is logged once and reported as ``"stop"``. (``ERROR`` / ``TIMEOUT`` are errors,
    raised before this is asked.)"""
    if reason is None:
        return None
    if not isinstance(reason, str):
        reason = f"<JSON {type(reason).__name__}>"
    mapped = _FINISH_REASONS.get(reason)
    if mapped is None:
        if reason not in _unknown_logged and len(_unknown_logged) < _MAX_LOGGED:
            _unknown_logged.add(reason)
            logger.warning("unknown Cohere finish_reason %s reported as 'stop'", loggable(reason))
        return "stop"
    return mapped


def billed_count(value: Any) -> int:
    """A count the wire may send as a float (the SDK types them ``float``): 12.0 → 12."""
    if type(value) is float and value.is_integer():
        value = int(value)
    return token_count(value)


def usage_from_wire(usage: Any) -> Usage | None:
    """``usage`` (chat) or ``meta`` (embed) → :class:`Usage` of the billed tokens
    (``billed_units``), or of ``tokens`` when nothing is billed-counted; None when neither."""
    if not isinstance(usage, Mapping):
        return None
    counts = usage.get("billed_units")
    if not isinstance(counts, Mapping) or not ({"input_tokens", "output_tokens"} & set(counts)):
        counts = usage.get("tokens")
    if not isinstance(counts, Mapping):
        return None
    return Usage(
        input_tokens=billed_count(counts.get("input_tokens")),
        output_tokens=billed_count(counts.get("output_tokens")),
    )


def citations_of(raw: Any) -> list[dict[str, Any]]:
    """The citations of a response's ``raw`` body (whole or streamed: a stream's last chunk
    carries the assembled body), ``[]`` when there are none::

        for c in citations_of(response.raw):
            print(c["text"], [s["id"] for s in c.get("sources", [])])
    """
    message = raw.get("message") if isinstance(raw, Mapping) else None
    cites = message.get("citations") if isinstance(message, Mapping) else None
    return [c for c in cites if isinstance(c, dict)] if isinstance(cites, list) else []


def tool_plan_of(raw: Any) -> str | None:
    """The tool plan of a response's ``raw`` body (None when there is none). Send it back with
    the assistant's tool calls: ``{"role": "assistant", "tool_calls": [...], "tool_plan": plan}``."""
    message = raw.get("message") if isinstance(raw, Mapping) else None
    plan = message.get("tool_plan") if isinstance(message, Mapping) else None
    return plan if isinstance(plan, str) and plan else None


def _content(content: Any) -> tuple[str, str | None]:
    """``message.content`` → (text, thinking)."""
    if content is None:
        return "", None
    if isinstance(content, str):  # (not what v2 sends, but unambiguous)
        return content, None
    if not isinstance(content, list):
        raise ResponseParsingError("message.content is not a list")
    texts: list[str] = []
    thoughts: list[str] = []
    for i, part in enumerate(content):
        if not isinstance(part, Mapping):
            raise ResponseParsingError(f"message.content[{i}] is not an object")
        kind = part.get("type")
        if kind == "text":
            texts.append(optional_text(part.get("text"), f"message.content[{i}].text") or "")
        elif kind == "thinking":
            thoughts.append(optional_text(part.get("thinking"), f"message.content[{i}].thinking") or "")
    return "".join(texts), "".join(thoughts) or None


def tool_calls_from_wire(calls: Any) -> list[ToolCall]:
    """``message.tool_calls`` → :class:`ToolCall` objects (OpenAI shape, as v2 sends them)."""
    if not calls:
        return []
    if not isinstance(calls, list):
        raise ResponseParsingError("message.tool_calls is not a list")
    out: list[ToolCall] = []
    for i, call in enumerate(calls):
        fn = call.get("function") if isinstance(call, Mapping) else None
        name = fn.get("name") if isinstance(fn, Mapping) else None
        if not isinstance(name, str) or not name:
            raise ResponseParsingError(f"message.tool_calls[{i}] has no function name")
        assert isinstance(fn, Mapping) and isinstance(call, Mapping)
        arguments = fn.get("arguments")
        if arguments is None:
            arguments = ""
        elif not isinstance(arguments, str):
            try:
                arguments = json.dumps(arguments, ensure_ascii=False)
            except (TypeError, ValueError, RecursionError):
                raise ResponseParsingError(
                    f"message.tool_calls[{i}].function.arguments is unreadable"
                ) from None
        out.append(ToolCall(optional_str(call.get("id")) or f"call_{i}", FunctionCall(name, arguments)))
    return out


def parse_chat_body(
    data: Any,
    *,
    provider: str,
    model: str,
    cost: CostFn | None = None,
    response_format: Any = None,
) -> LLMResponse:
    """A decoded v2 chat body → :class:`LLMResponse` (see the module docstring)."""
    if not isinstance(data, Mapping):
        raise ResponseParsingError(f"the response is a JSON {type(data).__name__}, not an object")
    reason = data.get("finish_reason")
    if reason in ERROR_REASONS:
        raise generation_error(str(reason), _error_text(data), body=dict(data))
    message = data.get("message")
    if not isinstance(message, Mapping):
        raise ResponseParsingError("the response has no message", body=dict(data))
    text, thinking = _content(message.get("content"))
    plan = optional_text(message.get("tool_plan"), "message.tool_plan")
    reasoning = "\n\n".join(part for part in (thinking, plan) if part) or None
    tool_calls = tool_calls_from_wire(message.get("tool_calls"))
    usage = usage_from_wire(data.get("usage"))
    parsed = None
    if response_format is not None and not tool_calls:
        parsed = parse_structured(text, response_format, provider=provider)
    return LLMResponse(
        text=text,
        model=model,
        provider=provider,
        finish_reason=map_finish_reason(reason) or ("tool_calls" if tool_calls else None),
        tool_calls=tool_calls,
        usage=usage,
        cost=cost(usage) if cost is not None else None,
        parsed=parsed,
        reasoning=reasoning,
        raw=data,
    )


def _error_text(data: Mapping[str, Any]) -> str | None:
    for holder in (data, data.get("message")):
        if isinstance(holder, Mapping):
            error = holder.get("error")
            if isinstance(error, str) and error:
                return error
    return None
