"""Messages API stream events → :class:`LLMStreamChunk`: :class:`AnthropicStreamParser`.

Wire facts (``tests/llms/wire/anthropic``, and Bedrock's ``invoke`` streams, which carry the same
events): ``message_start`` (the message without content, its input usage), then per content block
``content_block_start`` / ``content_block_delta`` … / ``content_block_stop`` (deltas:
``text_delta``, ``input_json_delta`` (a tool's input, as JSON fragments), ``thinking_delta``,
``signature_delta``, ``citations_delta``), then ``message_delta`` (``stop_reason``, the usage so
far: always ``output_tokens``, newer servers the input counts too), ``message_stop``. ``ping``
events come anywhere; an ``error`` event (``overloaded_error`` …) ends a stream early.

Chunks: text deltas → ``text``; thinking deltas → ``reasoning``; a ``tool_use`` block → a
:class:`ToolCallDelta` with its id and name when it starts, then one per ``input_json_delta``
(the tool call's index counts tool calls, not content blocks); a tool that never streams its
input sends ``"{}"`` (or its whole input) when it stops. Structured output (the forced format
tool, see :func:`~.payload.format_tool`) streams its input as ``text``. No chunk is made for
``message_start``, pings, signatures or server tool blocks, so that an error before any content
is still retried and failed over.

The final chunk (on ``message_stop``) carries ``finish_reason``, ``usage``, ``cost`` and, on
``raw``, the whole message rebuilt from the events (thinking blocks with their signatures, tool
inputs decoded, server tool blocks, citations): what :func:`~.blocks.assistant_blocks` sends back.
A stream cut short by ``max_tokens`` inside a ``tool_use``: its argument fragments were already
yielded, but the finish reason is ``"length"`` and the call is left out of ``raw`` (so out of
:func:`~.blocks.assistant_blocks`) — it is not a call to answer. A stream that ends without
``message_stop`` raises :class:`StreamInterruptedError` from :meth:`close`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ....interfaces.errors import LLMError, ResponseParsingError, StreamInterruptedError
from ....interfaces.llm_interfaces import WireEvent
from ....interfaces.types import FinishReason, LLMStreamChunk, ToolCallDelta, Usage
from ...base.redact import cut, loggable
from ...base.wire_values import optional_str
from ..openai_chat.streaming import json_loads
from .errors import error_from_body
from .parsing import Cost, map_stop_reason, one_hour_writes, refusal_text, usage_from_wire

__all__ = ["AnthropicStreamParser"]

logger = logging.getLogger("core.llms.anthropic")

_PREVIEW = 80
#: usage fields a ``message_delta`` may update (cumulative counts).
_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_creation",
    "output_tokens_details",
    "server_tool_use",
)


class _Block:
    """One content block being received: its start object, and what the deltas add."""

    __slots__ = ("data", "json", "kind", "stopped", "text", "tool")

    def __init__(self, data: dict[str, Any], tool: int | None) -> None:
        self.data = data
        self.kind: str = data["type"]
        self.json: list[str] = []
        self.text: list[str] = []
        self.tool = tool  # the tool call index of a tool_use block
        self.stopped = False


class AnthropicStreamParser:
    """One streamed Messages API response → chunks (implements ``StreamParser``).

    The first chunk emitted carries ``endpoint``, ``request_id`` and ``model``; the final one
    ``finish_reason``, ``usage``, ``cost``, ``refusal`` (when the model refused) and ``raw``.
    ``format_tool``: the name of the structured-output tool, whose input is streamed as text.
    """

    __slots__ = (
        "_blocks",
        "_cost",
        "_done",
        "_format_tool",
        "_message",
        "_model",
        "_next_tool",
        "_started",
        "_stop",
        "_unknown",
        "_usage",
        "endpoint",
        "request_id",
    )

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        cost: Cost | None = None,
        request_id: str | None = None,
        format_tool: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.request_id = request_id
        self._cost = cost
        self._format_tool = format_tool
        self._done = False
        self._started = False
        self._model: str | None = None
        self._message: dict[str, Any] = {}
        self._blocks: dict[int, _Block] = {}
        self._next_tool = 0
        self._usage: dict[str, Any] = {}
        self._stop: dict[str, Any] = {}
        self._unknown: set[str] = set()

    # -- events ----------------------------------------------------------------------------------

    def feed(self, event: WireEvent) -> list[LLMStreamChunk]:
        """The chunks of one event (usually one, often none)."""
        if self._done or not event.data.strip():
            return []
        try:
            obj = json_loads(event.data)
        except (ValueError, RecursionError):
            raise self._malformed(f"an event is not valid JSON: {cut(event.data, _PREVIEW)!r}") from None
        if not isinstance(obj, dict):
            raise self._malformed(f"an event is a JSON {type(obj).__name__}, not an object")
        kind = obj.get("type")
        if not isinstance(kind, str):
            kind = event.event or ""
        chunk: LLMStreamChunk | None
        match kind:
            case "content_block_delta":
                chunk = self._delta(obj)
            case "content_block_start":
                chunk = self._block_start(obj)
            case "content_block_stop":
                chunk = self._block_stop(obj)
            case "message_start":
                self._message_start(obj)
                return []
            case "message_delta":
                self._message_delta(obj)
                return []
            case "message_stop":
                self._done = True
                chunk = self._final_chunk()
            case "ping":
                return []
            case "error":
                raise self._error(obj)
            case _:
                if kind not in self._unknown and len(self._unknown) < 16:
                    self._unknown.add(kind)
                    logger.info("ignoring stream event of type %s from %s", loggable(kind), self.endpoint)
                return []
        if chunk is None:
            return []
        if not self._started:
            self._start(chunk)
        return [chunk]

    def _message_start(self, obj: dict[str, Any]) -> None:
        message = obj.get("message")
        if not isinstance(message, dict):
            raise self._malformed("message_start has no message object")
        self._message = {k: v for k, v in message.items() if k not in ("content", "usage")}
        self._model = optional_str(message.get("model"))
        self._merge_usage(message.get("usage"))

    def _message_delta(self, obj: dict[str, Any]) -> None:
        delta = obj.get("delta")
        if isinstance(delta, dict):
            for key in ("stop_reason", "stop_sequence", "stop_details"):
                if key in delta:
                    self._stop[key] = delta[key]
        self._merge_usage(obj.get("usage"))

    def _merge_usage(self, usage: Any) -> None:
        if isinstance(usage, dict):
            for key, value in usage.items():
                if value is not None or key not in self._usage:
                    self._usage[key] = value

    def _index(self, obj: dict[str, Any], what: str) -> int:
        index = obj.get("index")
        if type(index) is not int or index < 0:
            raise self._malformed(f"{what} has no block index")
        return index

    def _block_start(self, obj: dict[str, Any]) -> LLMStreamChunk | None:
        index = self._index(obj, "content_block_start")
        data = obj.get("content_block")
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            raise self._malformed("content_block_start has no content_block")
        kind = data["type"]
        tool = None
        if kind == "tool_use" and data.get("name") != self._format_tool:
            tool, self._next_tool = self._next_tool, self._next_tool + 1
        block = self._blocks[index] = _Block(dict(data), tool)
        match kind:
            case "text":
                text = self._text(data.get("text"), "content_block.text")
                if text:
                    block.text.append(text)
                    return LLMStreamChunk(text=text)
            case "thinking":
                thinking = self._text(data.get("thinking"), "content_block.thinking")
                if thinking:
                    block.text.append(thinking)
                    return LLMStreamChunk(reasoning=thinking)
            case "tool_use" if tool is not None:
                name = self._text(data.get("name"), "content_block.name")
                if not name:
                    raise self._malformed("a tool_use block has no name")
                call_id = self._text(data.get("id"), "content_block.id")
                return LLMStreamChunk(tool_calls=[ToolCallDelta(tool, call_id or f"toolu_{index}", name)])
        return None

    def _delta(self, obj: dict[str, Any]) -> LLMStreamChunk | None:
        block = self._blocks.get(self._index(obj, "content_block_delta"))
        if block is None:
            raise self._malformed("content_block_delta for a block that was not started")
        delta = obj.get("delta")
        if not isinstance(delta, dict):
            raise self._malformed("content_block_delta has no delta object")
        match delta.get("type"):
            case "text_delta":
                text = self._text(delta.get("text"), "text_delta.text")
                if text:
                    block.text.append(text)
                    return LLMStreamChunk(text=text)
            case "thinking_delta":
                thinking = self._text(delta.get("thinking"), "thinking_delta.thinking")
                if thinking:
                    block.text.append(thinking)
                    return LLMStreamChunk(reasoning=thinking)
            case "input_json_delta":
                partial = self._text(delta.get("partial_json"), "input_json_delta.partial_json")
                if partial:
                    block.json.append(partial)
                    if block.tool is not None:
                        return LLMStreamChunk(tool_calls=[ToolCallDelta(block.tool, arguments=partial)])
                    if block.kind == "tool_use":  # the structured-output tool: its input is the answer
                        return LLMStreamChunk(text=partial)
            case "signature_delta":
                signature = self._text(delta.get("signature"), "signature_delta.signature") or ""
                block.data["signature"] = (block.data.get("signature") or "") + signature
            case "citations_delta":
                citation = delta.get("citation")
                if isinstance(citation, dict):
                    citations = block.data.get("citations")
                    block.data["citations"] = [*(citations if isinstance(citations, list) else ()), citation]
            case _:
                pass  # a delta type this parser does not know: nothing to show
        return None

    def _block_stop(self, obj: dict[str, Any]) -> LLMStreamChunk | None:
        block = self._blocks.get(self._index(obj, "content_block_stop"))
        if block is None or block.stopped:
            return None
        block.stopped = True
        if block.kind not in ("tool_use", "server_tool_use") or block.json:
            return None
        # a tool whose input came whole in its start event (or is empty): send it as one fragment
        whole = json.dumps(block.data.get("input") or {}, ensure_ascii=False)
        block.json.append(whole)
        if block.tool is not None:
            return LLMStreamChunk(tool_calls=[ToolCallDelta(block.tool, arguments=whole)])
        if block.kind == "tool_use" and whole != "{}":
            return LLMStreamChunk(text=whole)
        return None

    def _error(self, obj: dict[str, Any]) -> LLMError:
        """The typed error of an ``error`` event (``overloaded_error`` → a retryable
        :class:`ServiceUnavailableError`), with the finish reason and usage seen before it."""
        error = error_from_body(None, obj, endpoint=self.endpoint, request_id=self.request_id)
        error.finish_reason = map_stop_reason(self._stop.get("stop_reason"))
        error.usage = usage_from_wire(self._usage) if self._usage else None
        return error

    # -- helpers ---------------------------------------------------------------------------------

    def _text(self, value: Any, where: str) -> str | None:
        if value is None or type(value) is str:
            return value or None
        raise self._malformed(f"{where} is not a string")

    def _malformed(self, what: str) -> ResponseParsingError:
        return ResponseParsingError(
            f"stream event is malformed: {what}", endpoint=self.endpoint, request_id=self.request_id
        )

    def _start(self, chunk: LLMStreamChunk) -> None:
        self._started = True
        chunk.endpoint = self.endpoint
        chunk.request_id = self.request_id
        chunk.model = self._model

    def _content(self) -> tuple[list[dict[str, Any]], bool, bool]:
        """The content blocks rebuilt from the events (a ``tool_use`` cut off by ``max_tokens``
        left out), whether such a call was dropped, and whether the format tool answered."""
        blocks: list[dict[str, Any]] = []
        answered = False
        for index in sorted(self._blocks):
            block = self._blocks[index]
            data = block.data
            if block.kind in ("text", "thinking"):
                data[block.kind] = "".join(block.text)
            elif block.json:
                try:
                    data["input"] = json.loads("".join(block.json))
                except (ValueError, RecursionError):
                    data["input"] = None  # incomplete (cut off) or broken: see below
                answered = answered or (block.kind == "tool_use" and block.tool is None)
            blocks.append(data)
        dropped = False
        if self._stop.get("stop_reason") == "max_tokens" and blocks and blocks[-1]["type"] == "tool_use":
            blocks.pop()
            dropped = True
        for data in blocks:
            if data["type"] in ("tool_use", "server_tool_use") and data.get("input") is None:
                raise self._malformed(f"the input of {data['type']} {loggable(data.get('name'))} is not JSON")
        return blocks, dropped, answered

    def _final_chunk(self) -> LLMStreamChunk:
        content, dropped, answered = self._content()
        stop_reason = self._stop.get("stop_reason")
        finish: FinishReason | None = map_stop_reason(stop_reason)
        if answered and finish == "tool_calls" and not any(b.tool is not None for b in self._blocks.values()):
            finish = "stop"
        if dropped:
            finish = "length"
        refusal = None
        if finish == "refusal":
            text = "".join("".join(b.text) for b in self._blocks.values() if b.kind == "text")
            refusal = refusal_text(self._stop.get("stop_details"), text)
        usage: Usage | None = usage_from_wire(self._usage) if self._usage else None
        cost = None
        if self._cost is not None and usage is not None:
            cost = self._cost(usage, one_hour_writes(self._usage))
        raw = {**self._message, "content": content, **self._stop, "usage": dict(self._usage)}
        raw.setdefault("stop_reason", None)
        return LLMStreamChunk(
            finish_reason=finish, usage=usage, cost=cost, refusal=refusal, model=self._model, raw=raw
        )

    def close(self) -> list[LLMStreamChunk]:
        """End of input: nothing more after ``message_stop``; without it the stream was cut short
        (:class:`StreamInterruptedError`, with the finish reason and usage seen so far)."""
        if self._done:
            return []
        error = StreamInterruptedError(
            "the stream ended before its message_stop event",
            endpoint=self.endpoint,
            request_id=self.request_id,
            hint="the connection was cut or the server stopped early; retry the call",
        )
        error.finish_reason = map_stop_reason(self._stop.get("stop_reason"))
        error.usage = usage_from_wire(self._usage) if self._usage else None
        raise error
