"""Reading ``/api/chat`` answers: a whole response, and the NDJSON stream line by line.

A non-streamed answer is one object::

    {"model": "llama3.2", "created_at": "...", "message": {"role": "assistant", "content": "...",
     "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]},
     "done": true, "done_reason": "stop", "prompt_eval_count": 26, "eval_count": 298, ...}

A stream is a sequence of such objects with ``"done": false`` carrying content deltas, ending
with one ``"done": true`` object carrying ``done_reason`` and the token counts. Tool calls arrive
whole (never split across lines); their ``arguments`` are JSON objects, turned here into JSON
strings (OpenAI shape) with generated ids when the server sends none. ``{"error": "..."}`` may
replace any line. A stream that ends without its ``done`` line is an error.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from core.llms.interfaces.errors import LLMError, ResponseParsingError, StreamInterruptedError
from core.llms.interfaces.llm_interfaces import WireEvent
from core.llms.interfaces.messages import FunctionCall, ToolCall
from core.llms.interfaces.types import FinishReason, LLMStreamChunk, ToolCallDelta, Usage
from core.llms.providers.base.wire_values import optional_str, optional_text, token_count

from .adapter import error_from_message

try:  # orjson is optional (core-llms' "fast" extra)
    from orjson import loads as _loads  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - depends on the environment
    from json import loads as _loads

__all__ = ["OllamaStreamParser", "finish_reason", "parse_message", "usage_of"]

CostFn = Callable[[Usage | None], float | None]


def usage_of(data: dict[str, Any]) -> Usage | None:
    """Token counts of a ``done`` object (None when it carries neither count; a count that is
    not a non-negative integer reads as 0)."""
    prompt = data.get("prompt_eval_count")
    output = data.get("eval_count")
    if prompt is None and output is None:
        return None
    return Usage(input_tokens=token_count(prompt), output_tokens=token_count(output))


def finish_reason(done_reason: Any, has_tool_calls: bool) -> FinishReason | None:
    """The normalised finish reason: ``stop`` becomes ``tool_calls`` when the answer calls tools."""
    match done_reason:
        case "stop" | None:
            return "tool_calls" if has_tool_calls else "stop"
        case "length":
            return "length"
        case "load" | "unload":
            return "stop"
        case _:
            return None  # a reason this client does not know; ``raw`` still has it


def _tool_call(raw: Any, where: str) -> ToolCall:
    fn = raw.get("function") if isinstance(raw, dict) else None
    name = fn.get("name") if isinstance(fn, dict) else None
    if not isinstance(name, str) or not name:
        raise ResponseParsingError(f"{where} has no function name")
    assert isinstance(fn, dict)
    arguments = fn.get("arguments")
    if arguments is None:
        arguments = "{}"
    elif not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    call_id = raw.get("id")
    if not isinstance(call_id, str) or not call_id:
        call_id = "call_" + uuid.uuid4().hex[:24]
    return ToolCall(call_id, FunctionCall(name, arguments))


def parse_message(data: Any, endpoint: str | None) -> tuple[str, list[ToolCall], str | None]:
    """Text, tool calls and thinking of a (whole) answer object; raises its ``error`` if it has one."""
    if not isinstance(data, dict):
        raise ResponseParsingError(
            f"expected a JSON object from /api/chat, got {type(data).__name__}", endpoint=endpoint
        )
    if "error" in data:
        raise error_from_message(500, str(data["error"]), endpoint=endpoint, body=data)
    message = data.get("message")
    if not isinstance(message, dict):
        raise ResponseParsingError("the answer has no 'message' object", endpoint=endpoint, body=data)
    raw_calls = message.get("tool_calls") or []
    if not isinstance(raw_calls, list):
        raise ResponseParsingError("message.tool_calls is not a list", endpoint=endpoint)
    calls = [_tool_call(c, f"message.tool_calls[{i}]") for i, c in enumerate(raw_calls)]
    text = optional_text(message.get("content"), "message.content", endpoint=endpoint) or ""
    return text, calls, optional_text(message.get("thinking"), "message.thinking", endpoint=endpoint)


class OllamaStreamParser:
    """One streamed answer (implements ``StreamParser[LLMStreamChunk]``). One per attempt."""

    __slots__ = ("_cost", "_done", "_endpoint", "_first", "_model", "_tool_index")

    def __init__(self, endpoint: str, model: str, cost: CostFn) -> None:
        self._endpoint = endpoint
        self._model = model
        self._cost = cost
        self._first = True
        self._done = False
        self._tool_index = 0

    def feed(self, event: WireEvent) -> list[LLMStreamChunk]:
        """The chunk of one NDJSON line (none for an empty delta)."""
        try:
            data = _loads(event.data)
        except (ValueError, RecursionError):  # not JSON, or nested too deeply to decode
            raise ResponseParsingError(
                f"stream line is not JSON ({len(event.data)} chars)", endpoint=self._endpoint
            ) from None
        if not isinstance(data, dict):
            raise ResponseParsingError("stream line is not a JSON object", endpoint=self._endpoint)
        if "error" in data:
            raise self._error(data)
        if self._done:
            raise ResponseParsingError(
                "stream has data after its final ('done') line", endpoint=self._endpoint
            )
        message = data.get("message") or {}
        if not isinstance(message, dict):
            raise ResponseParsingError("stream line's 'message' is not an object", endpoint=self._endpoint)
        text = optional_text(message.get("content"), "message.content", endpoint=self._endpoint) or ""
        thinking = optional_text(message.get("thinking"), "message.thinking", endpoint=self._endpoint)
        deltas: list[ToolCallDelta] | None = None
        raw_calls = message.get("tool_calls")
        if raw_calls:
            if not isinstance(raw_calls, list):
                raise ResponseParsingError("message.tool_calls is not a list", endpoint=self._endpoint)
            deltas = []
            for raw in raw_calls:
                call = _tool_call(raw, f"tool call {self._tool_index}")
                deltas.append(
                    ToolCallDelta(self._tool_index, call.id, call.function.name, call.function.arguments)
                )
                self._tool_index += 1
        chunk: LLMStreamChunk | None = None
        if data.get("done"):
            self._done = True
            usage = usage_of(data)
            chunk = LLMStreamChunk(
                text=text,
                tool_calls=deltas,
                reasoning=thinking,
                finish_reason=finish_reason(data.get("done_reason"), self._tool_index > 0),
                usage=usage,
                cost=self._cost(usage),
            )
        elif text or deltas or thinking:
            chunk = LLMStreamChunk(text=text, tool_calls=deltas, reasoning=thinking)
        if chunk is None:
            return []
        if self._first:
            self._first = False
            chunk.endpoint = self._endpoint
            chunk.model = optional_str(data.get("model")) or self._model
        return [chunk]

    def close(self) -> list[LLMStreamChunk]:
        """End of the stream: an error unless the ``done`` line arrived."""
        if not self._done:
            raise StreamInterruptedError(
                "the Ollama stream ended without its final 'done' line",
                endpoint=self._endpoint,
                hint="the server or a proxy closed the connection early",
            )
        return []

    def _error(self, data: dict[str, Any]) -> LLMError:
        # Before the first chunk the connector may retry or fail over on this error; after it,
        # the connector raises StreamInterruptedError with this error as the cause.
        return error_from_message(500, str(data["error"]), endpoint=self._endpoint, body=data)
