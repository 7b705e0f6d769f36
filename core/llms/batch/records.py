"""Responses and errors as JSON-safe dicts and back: what the caches, the journal and the Ray
rows store. Never pickle: a cache or journal file is data, not code.

Kept: text, model, provider, finish reason, tool calls, usage, cost, endpoint, request id,
timings, refusal, reasoning, content-filter annotations, region, and ``parsed`` when it is
JSON (a pydantic instance is stored as its JSON dump; :func:`response_from_record` revalidates
it when given the ``response_format`` class). Not kept: ``raw`` (the provider's whole body) and
``headers``.
"""

from __future__ import annotations

from typing import Any

from ..interfaces import errors as _errors
from ..interfaces.errors import LLMError, ResponseParsingError
from ..interfaces.messages import FunctionCall, ToolCall
from ..interfaces.types import LLMResponse, Usage

__all__ = ["error_from_record", "error_to_record", "response_from_record", "response_to_record"]

_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "cache_write_input_tokens",
)
_PLAIN_FIELDS = (
    "text",
    "model",
    "provider",
    "finish_reason",
    "cost",
    "endpoint",
    "request_id",
    "latency",
    "ttfb",
    "refusal",
    "reasoning",
    "content_filter",
    "region",
)
_ERROR_FIELDS = ("provider", "model", "endpoint", "status", "request_id", "attempt", "hint", "code")


def response_to_record(response: LLMResponse) -> dict[str, Any]:
    """``response`` as a dict of JSON values."""
    record: dict[str, Any] = {name: getattr(response, name) for name in _PLAIN_FIELDS}
    usage = response.usage
    record["usage"] = None if usage is None else {name: getattr(usage, name) for name in _USAGE_FIELDS}
    record["tool_calls"] = [call.to_dict() for call in response.tool_calls]
    parsed = response.parsed
    if parsed is not None:
        dump = getattr(parsed, "model_dump", None)
        record["parsed"] = dump(mode="json") if callable(dump) else parsed
    return record


def response_from_record(record: Any, *, response_format: Any = None) -> LLMResponse:
    """The :class:`LLMResponse` a record holds. A record that is not one raises
    :class:`ResponseParsingError` (a damaged cache or journal line), naming what is wrong."""
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise ResponseParsingError("a stored response record is not a response (no 'text' string)")
    try:
        response = LLMResponse(
            text=record["text"],
            model=str(record.get("model") or ""),
            provider=str(record.get("provider") or ""),
        )
        for name in _PLAIN_FIELDS[3:]:
            value = record.get(name)
            if value is not None:
                setattr(response, name, value)
        usage = record.get("usage")
        if isinstance(usage, dict):
            response.usage = Usage(**{name: int(usage.get(name) or 0) for name in _USAGE_FIELDS})
        response.tool_calls = [
            ToolCall(
                id=call["id"],
                function=FunctionCall(call["function"]["name"], call["function"]["arguments"]),
            )
            for call in record.get("tool_calls") or ()
        ]
    except (KeyError, TypeError, ValueError, LLMError) as exc:
        raise ResponseParsingError(f"a stored response record is damaged: {type(exc).__name__}") from None
    parsed = record.get("parsed")
    if parsed is not None:
        validate = getattr(response_format, "model_validate", None)
        if callable(validate):
            try:
                parsed = validate(parsed)
            except ValueError as exc:
                name = getattr(response_format, "__name__", "?")
                raise ResponseParsingError(f"a stored structured answer no longer matches {name}") from exc
        response.parsed = parsed
    return response


def error_to_record(error: LLMError) -> dict[str, Any]:
    """``error`` as a dict: its class name, message and the public fields (already redacted by
    the layer that raised it; no cause, no body)."""
    record: dict[str, Any] = {"type": type(error).__name__, "message": error.message}
    for name in _ERROR_FIELDS:
        value = getattr(error, name, None)
        if value is not None:
            record[name] = value
    return record


def error_from_record(record: Any) -> LLMError:
    """The typed error a record holds (its class looked up by name in our error tree; an unknown
    name gives :class:`LLMError`)."""
    if not isinstance(record, dict):
        return ResponseParsingError("a stored error record is damaged")
    cls = getattr(_errors, str(record.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, LLMError)) or cls is _errors.AllEndpointsFailedError:
        cls = LLMError
    fields = {name: record[name] for name in _ERROR_FIELDS if record.get(name) is not None}
    message = str(record.get("message") or "")
    try:
        return cls(message, **fields)
    except TypeError:  # a subclass with required keywords of its own
        return LLMError(message, **fields)
