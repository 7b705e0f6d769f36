"""Chat Completions response body → :class:`LLMResponse`: finish reasons, usage, tool calls,
refusals, content-filter annotations and structured output."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from ...interfaces.errors import ResponseParsingError
from ...interfaces.messages import FunctionCall, ToolCall
from ...interfaces.types import FinishReason, LLMResponse, Usage

__all__ = [
    "CostFn",
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


def map_finish_reason(reason: str | None) -> FinishReason | None:
    """OpenAI ``finish_reason`` → the normalised value (``function_call`` → ``tool_calls``).
    An unknown reason is logged once and reported as ``"stop"``."""
    if reason is None:
        return None
    mapped = _FINISH_REASONS.get(reason)
    if mapped is None:
        if reason not in _unknown_reasons_logged:
            _unknown_reasons_logged.add(reason)
            logger.warning("unknown finish_reason %r reported as 'stop'", reason)
        return "stop"
    return mapped


def usage_from_wire(usage: Any) -> Usage | None:
    """The ``usage`` object → :class:`Usage` (cached and reasoning tokens included)."""
    if not isinstance(usage, Mapping):
        return None
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=usage.get("prompt_tokens") or 0,
        output_tokens=usage.get("completion_tokens") or 0,
        cached_input_tokens=prompt_details.get("cached_tokens") or 0,
        reasoning_tokens=completion_details.get("reasoning_tokens") or 0,
    )


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


def parse_structured(text: str, response_format: Any) -> Any:
    """Decode structured output: a pydantic instance for a model class, a dict (or list) for a
    JSON schema or ``json_object`` format, None for no / text format. Raises
    :class:`ResponseParsingError` when the text does not fit."""
    if response_format is None:
        return None
    if isinstance(response_format, type) and issubclass(response_format, BaseModel):
        try:
            return response_format.model_validate_json(text)
        except ValidationError as exc:
            raise ResponseParsingError(
                f"the answer does not match {response_format.__name__}: {exc.error_count()} error(s), "
                f"first: {exc.errors()[0]['msg']}",
                hint="the answer may have been cut short (finish_reason 'length'): raise max_tokens",
            ) from None
    if isinstance(response_format, Mapping) and response_format.get("type") == "text":
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise ResponseParsingError(
            "the answer is not valid JSON",
            hint="the answer may have been cut short (finish_reason 'length'): raise max_tokens",
        ) from None


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
    choices = data.get("choices") if isinstance(data, Mapping) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        raise ResponseParsingError("the response has no choices", body=_preview(data))
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, Mapping):
        raise ResponseParsingError("choices[0] has no message", body=_preview(data))
    text = message.get("content") or ""
    if not isinstance(text, str):
        raise ResponseParsingError(f"choices[0].message.content is a {type(text).__name__}, not a string")
    refusal = message.get("refusal") or None
    finish_reason = map_finish_reason(choice.get("finish_reason"))
    if refusal and finish_reason in (None, "stop"):
        finish_reason = "refusal"
    usage = usage_from_wire(data.get("usage"))
    parsed = None
    if response_format is not None and not refusal:
        parsed = parse_structured(text, response_format)
    return LLMResponse(
        text=text,
        model=data.get("model") or model,
        provider=provider,
        finish_reason=finish_reason,
        tool_calls=_tool_calls(message),
        usage=usage,
        cost=cost(usage) if cost is not None else None,
        parsed=parsed,
        refusal=refusal,
        reasoning=message.get("reasoning_content") or message.get("reasoning") or None,
        content_filter=content_filter_of(data, choice),
        raw=data,
    )


def _tool_calls(message: Mapping[str, Any]) -> list[ToolCall]:
    calls = message.get("tool_calls") or []
    out: list[ToolCall] = []
    for i, call in enumerate(calls):
        fn = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str):
            raise ResponseParsingError(f"tool_calls[{i}] has no function name")
        out.append(
            ToolCall(call.get("id") or f"call_{i}", FunctionCall(fn["name"], fn.get("arguments") or ""))
        )
    legacy = message.get("function_call")
    if not out and isinstance(legacy, Mapping) and isinstance(legacy.get("name"), str):
        out.append(ToolCall("call_0", FunctionCall(legacy["name"], legacy.get("arguments") or "")))
    return out


def _preview(data: Any) -> Any:
    return data if isinstance(data, dict) else None
