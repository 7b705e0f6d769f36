"""Chat Completions response body → :class:`LLMResponse`: finish reasons, usage, tool calls,
refusals, content-filter annotations and structured output."""

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

__all__ = [
    "CostFn",
    "content_and_thinking",
    "content_filter_of",
    "map_finish_reason",
    "parse_chat_completion",
    "parse_structured",
    "usage_from_wire",
]

logger = logging.getLogger("core.llms.openai")

#: Computes the USD cost of a call's usage (the model's ``cost`` method).
CostFn = Callable[[Usage | None], float | None]

_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}
_unknown_reasons_logged: set[str] = set()
#: at most this many distinct unknown reasons are remembered (a hostile server cannot grow it).
_MAX_LOGGED_REASONS = 64


def map_finish_reason(reason: Any) -> FinishReason | None:
    """OpenAI ``finish_reason`` → the normalised value (``function_call`` → ``tool_calls``).
    An unknown reason (or one that is not a string) is logged once and reported as ``"stop"``."""
    if reason is None:
        return None
    if not isinstance(reason, str):
        reason = f"<JSON {type(reason).__name__}>"
    mapped = _FINISH_REASONS.get(reason)
    if mapped is None:
        if reason not in _unknown_reasons_logged and len(_unknown_reasons_logged) < _MAX_LOGGED_REASONS:
            _unknown_reasons_logged.add(reason)
            logger.warning("unknown finish_reason %s reported as 'stop'", loggable(reason))
        return "stop"
    return mapped


def _is_object(value: Any) -> bool:
    """Is ``value`` a JSON object? (decoded JSON holds dicts: checked first, it is the quick test)"""
    return type(value) is dict or isinstance(value, Mapping)


def usage_from_wire(usage: Any) -> Usage | None:
    """The ``usage`` object → :class:`Usage` (cached and reasoning tokens included). Counts
    that are not non-negative integers read as 0."""
    if not _is_object(usage):
        return None
    prompt_details = usage.get("prompt_tokens_details")
    completion_details = usage.get("completion_tokens_details")
    prompt = token_count(usage.get("prompt_tokens"))
    completion = token_count(usage.get("completion_tokens"))
    reasoning = (
        token_count(completion_details.get("reasoning_tokens")) if _is_object(completion_details) else 0
    )
    if reasoning > completion and token_count(usage.get("total_tokens")) == prompt + completion + reasoning:
        # xAI counts reasoning outside completion_tokens (total = prompt + completion + reasoning,
        # see tests/llms/wire/openai-compatible/xai-stream-tool-call.txt); OpenAI counts it inside.
        completion += reasoning
    return Usage(
        input_tokens=prompt,
        output_tokens=completion,
        cached_input_tokens=token_count(prompt_details.get("cached_tokens"))
        if _is_object(prompt_details)
        else 0,
        reasoning_tokens=reasoning,
    )


def content_and_thinking(value: Any, where: str, **error_fields: Any) -> tuple[str | None, str | None]:
    """A ``content`` field → (text, thinking). Most servers send a string; Mistral's reasoning
    models send a list of typed parts: ``{"type": "text", "text"}`` and ``{"type": "thinking",
    "thinking": [{"type": "text", "text"}]}`` (see ``tests/llms/wire/openai-compatible``). Parts of
    other types carry no text and are skipped; anything else that is not a string is malformed
    (:class:`ResponseParsingError`)."""
    if type(value) is not list:
        return optional_text(value, where, **error_fields), None
    texts: list[str] = []
    thoughts: list[str] = []
    for i, part in enumerate(value):
        if not isinstance(part, Mapping):
            raise ResponseParsingError(f"{where}[{i}] is not an object", **error_fields)
        kind = part.get("type")
        if kind == "text":
            texts.append(optional_text(part.get("text"), f"{where}[{i}].text", **error_fields) or "")
        elif kind == "thinking":
            inner = part.get("thinking")
            pieces = inner if type(inner) is list else [{"type": "text", "text": inner}]
            for j, piece in enumerate(pieces):  # text parts only: no deeper nesting is read
                if isinstance(piece, Mapping) and piece.get("type") == "text":
                    thoughts.append(
                        optional_text(piece.get("text"), f"{where}[{i}].thinking[{j}].text", **error_fields)
                        or ""
                    )
    return "".join(texts) or None, "".join(thoughts) or None


def content_filter_of(data: Mapping[str, Any], choice: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Azure's content-filter annotations of a response, or None when it sent none:
    ``{"prompt_filter_results": [...], "content_filter_results": {...}}``."""
    out: dict[str, Any] = {}
    prompt = data.get("prompt_filter_results")
    if prompt:
        out["prompt_filter_results"] = prompt
    completion = choice.get("content_filter_results") if choice is not None else None
    if completion:
        out["content_filter_results"] = completion
    return out or None


def parse_chat_completion(
    data: Any,
    *,
    provider: str,
    model: str,
    cost: CostFn | None = None,
    response_format: Any = None,
) -> LLMResponse:
    """A decoded ``chat.completion`` body → :class:`LLMResponse` (choice 0; the model class
    never asks for more). ``refusal`` is surfaced, with finish_reason ``"refusal"`` when the
    model refused instead of answering."""
    if response_format is None:
        plain = _plain_completion(data, provider, model, cost)
        if plain is not None:
            return plain
    return _parse_completion(data, provider, model, cost, response_format)


def _parse_completion(
    data: Any, provider: str, model: str, cost: CostFn | None, response_format: Any
) -> LLMResponse:
    """:func:`parse_chat_completion` field by field (any shape)."""
    choices = data.get("choices") if _is_object(data) else None
    if not isinstance(choices, list) or not choices or not _is_object(choices[0]):
        raise ResponseParsingError("the response has no choices", body=_preview(data))
    choice = choices[0]
    message = choice.get("message")
    if not _is_object(message):
        raise ResponseParsingError("choices[0] has no message", body=_preview(data))
    content, thinking = content_and_thinking(message.get("content"), "choices[0].message.content")
    text = content or ""
    refusal = optional_text(message.get("refusal"), "choices[0].message.refusal")
    finish_reason = map_finish_reason(choice.get("finish_reason"))
    if refusal and finish_reason in (None, "stop"):
        finish_reason = "refusal"
    usage = usage_from_wire(data.get("usage"))
    parsed = None
    if response_format is not None and not refusal:
        parsed = parse_structured(text, response_format)
    return LLMResponse(
        text=text,
        model=optional_str(data.get("model")) or model,
        provider=provider,
        finish_reason=finish_reason,
        tool_calls=_tool_calls(message),
        usage=usage,
        cost=cost(usage) if cost is not None else None,
        parsed=parsed,
        refusal=refusal,
        reasoning=optional_text(message.get("reasoning_content"), "choices[0].message.reasoning_content")
        or optional_text(message.get("reasoning"), "choices[0].message.reasoning")
        or thinking,
        content_filter=content_filter_of(data, choice),
        raw=data,
    )


#: the keys of a plain text answer's message (anything else goes the full way).
_PLAIN_MESSAGE_KEYS = frozenset({"role", "content", "refusal", "annotations"})


def _plain_completion(data: Any, provider: str, model: str, cost: CostFn | None) -> LLMResponse | None:
    """The usual answer — one choice, a text message, a known finish reason, integer usage
    counts, no annotations of the content filter — read in one go; None for anything else,
    which :func:`parse_chat_completion` then reads field by field. Both give the same response.
    (Half the library's own CPU per request was this parsing before the shortcut.)"""
    if type(data) is not dict:
        return None
    choices = data.get("choices")
    if type(choices) is not list or len(choices) != 1:
        return None
    choice = choices[0]
    if type(choice) is not dict or "content_filter_results" in choice or "prompt_filter_results" in data:
        return None
    message = choice.get("message")
    reason = choice.get("finish_reason")
    finish = _FINISH_REASONS.get(reason) if type(reason) is str else None
    if type(message) is not dict or finish is None or not _PLAIN_MESSAGE_KEYS.issuperset(message):
        return None
    text = message.get("content")
    if type(text) is not str or message.get("refusal") is not None:
        return None
    usage_data = data.get("usage")
    if type(usage_data) is not dict:
        return None
    prompt, completion = usage_data.get("prompt_tokens"), usage_data.get("completion_tokens")
    if type(prompt) is not int or type(completion) is not int or prompt < 0 or completion < 0:
        return None
    usage = usage_from_wire(usage_data)
    name = data.get("model")
    return LLMResponse(
        text,
        name if type(name) is str and name else model,
        provider,
        finish,
        [],
        usage,
        cost(usage) if cost is not None else None,
        raw=data,
    )


def _tool_calls(message: Mapping[str, Any]) -> list[ToolCall]:
    calls = message.get("tool_calls") or []
    legacy = message.get("function_call")
    if not calls and legacy is None:  # the usual answer: text only
        return []
    if not isinstance(calls, list):
        raise ResponseParsingError("choices[0].message.tool_calls is not a list")
    out: list[ToolCall] = []
    for i, call in enumerate(calls):
        fn = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str) or not fn["name"]:
            raise ResponseParsingError(f"tool_calls[{i}] has no function name")
        call_id = optional_str(call.get("id")) or f"call_{i}"
        out.append(ToolCall(call_id, FunctionCall(fn["name"], _arguments(fn.get("arguments"), i))))
    if not out and isinstance(legacy, Mapping) and isinstance(legacy.get("name"), str) and legacy["name"]:
        out.append(ToolCall("call_0", FunctionCall(legacy["name"], _arguments(legacy.get("arguments"), 0))))
    return out


def _arguments(value: Any, i: int) -> str:
    """A tool call's ``arguments``: OpenAI sends a JSON string; some compatible servers send the
    object itself, which is serialised here so the field keeps its documented type."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (ValueError, RecursionError):
        raise ResponseParsingError(f"tool_calls[{i}].function.arguments cannot be serialised") from None


def _preview(data: Any) -> Any:
    return data if isinstance(data, dict) else None
