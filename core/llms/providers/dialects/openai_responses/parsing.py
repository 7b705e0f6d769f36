"""A Responses API ``response`` object → :class:`LLMResponse`: output items (messages, refusals,
function calls, reasoning summaries), status → finish reason, usage and structured output.

Wire facts (see ``tests/llms/wire/openai-responses`` and the SDK's ``types/responses``):

* ``output`` is a list of items: ``message`` (``content``: ``output_text`` / ``refusal`` parts),
  ``function_call`` (``call_id``, ``name``, ``arguments`` as a JSON string), ``reasoning``
  (``summary``: ``summary_text`` parts; ``content``: ``reasoning_text`` parts; an opaque
  ``encrypted_content``), and server tool items (image generation, web search ...), which carry
  no text and are kept only on ``raw``;
* ``status`` is ``completed``, ``incomplete`` (``incomplete_details.reason``:
  ``max_output_tokens`` or ``content_filter``) or ``failed`` (``error``: ``{code, message}``);
* ``usage``: ``input_tokens`` (``input_tokens_details.cached_tokens``), ``output_tokens``
  (``output_tokens_details.reasoning_tokens``), ``total_tokens``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ....interfaces.errors import ResponseParsingError
from ....interfaces.messages import FunctionCall, ToolCall
from ....interfaces.types import FinishReason, LLMResponse, Usage
from ...base.structured_output import parse_structured
from ...base.wire_values import optional_str, optional_text, token_count
from ..openai_chat.parsing import CostFn, map_finish_reason
from .errors import responses_error

__all__ = [
    "REASONING_SEPARATOR",
    "finish_reason_of",
    "parse_responses_body",
    "usage_from_responses",
]

#: between two reasoning summary parts (or reasoning items) in ``reasoning``.
REASONING_SEPARATOR = "\n\n"

_INCOMPLETE_REASONS: dict[str, FinishReason] = {
    "max_output_tokens": "length",
    "content_filter": "content_filter",
}


def usage_from_responses(usage: Any) -> Usage | None:
    """The ``usage`` object → :class:`Usage` (cached and reasoning tokens included). Counts that
    are not non-negative integers read as 0."""
    if not isinstance(usage, Mapping):
        return None
    input_details = usage.get("input_tokens_details")
    output_details = usage.get("output_tokens_details")
    return Usage(
        input_tokens=token_count(usage.get("input_tokens")),
        output_tokens=token_count(usage.get("output_tokens")),
        cached_input_tokens=token_count(input_details.get("cached_tokens"))
        if isinstance(input_details, Mapping)
        else 0,
        reasoning_tokens=token_count(output_details.get("reasoning_tokens"))
        if isinstance(output_details, Mapping)
        else 0,
    )


def finish_reason_of(response: Mapping[str, Any], *, tool_calls: bool, refused: bool) -> FinishReason:
    """The normalised finish reason of a finished response: ``incomplete`` → ``"length"``
    (``max_output_tokens``) or ``"content_filter"``; otherwise ``"tool_calls"`` when it calls
    functions, ``"refusal"`` when it refused, else ``"stop"``."""
    if response.get("status") == "incomplete":
        details = response.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, Mapping) else None
        mapped = _INCOMPLETE_REASONS.get(reason) if isinstance(reason, str) else None
        return mapped or map_finish_reason(reason if reason is not None else "incomplete") or "stop"
    if tool_calls:
        return "tool_calls"
    return "refusal" if refused else "stop"


def content_filter_of(response: Mapping[str, Any]) -> dict[str, Any] | None:
    """Azure's ``content_filters`` annotations of a response, when it sent any."""
    filters = response.get("content_filters")
    return {"content_filters": filters} if filters else None


def parse_responses_body(
    data: Any,
    *,
    provider: str,
    model: str,
    cost: CostFn | None = None,
    response_format: Any = None,
) -> LLMResponse:
    """A decoded ``response`` object → :class:`LLMResponse`. A ``failed`` response raises its
    typed error; ``refusal`` is surfaced with finish_reason ``"refusal"``; the whole body stays on
    ``raw`` (its ``output`` items are what :func:`~.items.response_items` hands back for the next
    turn)."""
    if not isinstance(data, Mapping):
        raise ResponseParsingError(f"the response is a JSON {type(data).__name__}, not an object")
    status = data.get("status")
    if status == "failed":
        raise responses_error(data)
    if status in ("queued", "in_progress", "cancelled"):
        raise ResponseParsingError(
            f"the response is {status}, not finished",
            hint="background responses are not supported: call without background=",
        )
    output = data.get("output")
    if not isinstance(output, list):
        raise ResponseParsingError("the response has no output list", body=dict(data))
    texts: list[str] = []
    refusals: list[str] = []
    thoughts: list[str] = []
    calls: list[ToolCall] = []
    for i, item in enumerate(output):
        where = f"output[{i}]"
        if not isinstance(item, Mapping):
            raise ResponseParsingError(f"{where} is not an object")
        match item.get("type"):
            case "message":
                _message_parts(item, where, texts, refusals)
            case "function_call":
                calls.append(_function_call(item, where, len(calls)))
            case "reasoning":
                thoughts.extend(reasoning_parts(item, where))
            case _:
                pass  # server tools' items: kept on raw
    text = "".join(texts)
    refusal = "".join(refusals) or None
    finish = finish_reason_of(data, tool_calls=bool(calls), refused=refusal is not None)
    usage = usage_from_responses(data.get("usage"))
    parsed = None
    if response_format is not None and refusal is None and not calls:
        parsed = parse_structured(text, response_format, provider=provider)
    return LLMResponse(
        text=text,
        model=optional_str(data.get("model")) or model,
        provider=provider,
        finish_reason=finish,
        tool_calls=calls,
        usage=usage,
        cost=cost(usage) if cost is not None else None,
        parsed=parsed,
        refusal=refusal,
        reasoning=REASONING_SEPARATOR.join(thoughts) or None,
        content_filter=content_filter_of(data),
        raw=data,
    )


def _message_parts(item: Mapping[str, Any], where: str, texts: list[str], refusals: list[str]) -> None:
    content = item.get("content")
    if content is None:
        return
    if not isinstance(content, list):
        raise ResponseParsingError(f"{where}.content is not a list")
    for j, part in enumerate(content):
        if not isinstance(part, Mapping):
            raise ResponseParsingError(f"{where}.content[{j}] is not an object")
        kind = part.get("type")
        if kind == "output_text":
            texts.append(optional_text(part.get("text"), f"{where}.content[{j}].text") or "")
        elif kind == "refusal":
            refusals.append(optional_text(part.get("refusal"), f"{where}.content[{j}].refusal") or "")


def _function_call(item: Mapping[str, Any], where: str, ordinal: int) -> ToolCall:
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise ResponseParsingError(f"{where} (a function_call) has no name")
    call_id = optional_str(item.get("call_id")) or optional_str(item.get("id")) or f"call_{ordinal}"
    arguments = item.get("arguments")
    if arguments is None:
        arguments = ""
    elif not isinstance(arguments, str):
        try:
            arguments = json.dumps(arguments, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError):
            raise ResponseParsingError(f"{where}.arguments cannot be serialised") from None
    return ToolCall(call_id, FunctionCall(name, arguments))


def reasoning_parts(item: Mapping[str, Any], where: str) -> list[str]:
    """The non-empty texts of a reasoning item: its summary parts, then its reasoning text parts
    (what hosts serving open-weight models send), in order."""
    out: list[str] = []
    for field, text_key in (("summary", "text"), ("content", "text")):
        parts = item.get(field)
        if not isinstance(parts, list):
            continue
        for j, part in enumerate(parts):
            if isinstance(part, Mapping):
                text = optional_text(part.get(text_key), f"{where}.{field}[{j}].{text_key}")
                if text:
                    out.append(text)
    return out
