"""Writing Bedrock chat answers: Converse bodies and ConverseStream events, Anthropic Messages
bodies and the ``chunk`` events of InvokeModelWithResponseStream.

Shapes follow ``botocore``'s bedrock-runtime model and the recordings in
``tests/llms/wire/bedrock``:

* Converse: ``{"output": {"message": {"role": "assistant", "content": [...]}}, "stopReason",
  "usage": {"inputTokens", "outputTokens", "totalTokens"[, "cacheReadInputTokens",
  "cacheWriteInputTokens"]}, "metrics": {"latencyMs"}}``; content blocks ``reasoningContent``
  (``reasoningText {text, signature}``), ``text``, ``toolUse {toolUseId, name, input}``.
* ConverseStream: ``messageStart``, per block ``contentBlockStart`` (tool use only),
  ``contentBlockDelta`` (``text`` / ``reasoningContent.text`` then ``reasoningContent.signature``
  / ``toolUse.input`` fragments), ``contentBlockStop``, then ``messageStop`` and ``metadata``.
* Anthropic (``/invoke``): the Messages ``message`` object; streamed, each Messages event is a
  ``chunk`` whose payload is ``{"bytes": base64(<event JSON>)}``; ``message_stop`` carries
  ``amazon-bedrock-invocationMetrics``.

Streams come as :class:`~.openai_wire.StreamEvents` (head / body / tail) so faults can act between
events; each body entry ends with one content delta (the start / stop events before it ride
with it).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from .bedrock_request import BedrockChat
from .bedrock_wire import thinking_signature
from .eventstream_encoder import event_message
from .generation import Answer, fragments
from .openai_wire import StreamEvents

__all__ = [
    "Usage",
    "anthropic_body",
    "anthropic_events",
    "apply_stop_sequences",
    "converse_body",
    "converse_events",
]

_CONVERSE_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "content_filtered",
    "stop_sequence": "stop_sequence",
}
_ANTHROPIC_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
    "stop_sequence": "stop_sequence",
}


@dataclass(slots=True)
class Usage:
    """Token counts of one answer: input (not cached), output, cache read / written."""

    input: int
    output: int
    cache_read: int = 0
    cache_write: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_read + self.cache_write

    def converse(self) -> dict[str, int]:
        usage = {"inputTokens": self.input, "outputTokens": self.output, "totalTokens": self.total}
        if self.cache_read or self.cache_write:
            usage.update(cacheReadInputTokens=self.cache_read, cacheWriteInputTokens=self.cache_write)
        return usage

    def anthropic(self, output: int | None = None) -> dict[str, int]:
        return {
            "input_tokens": self.input,
            "cache_creation_input_tokens": self.cache_write,
            "cache_read_input_tokens": self.cache_read,
            "output_tokens": self.output if output is None else output,
        }


def apply_stop_sequences(answer: Answer, stops: list[str]) -> str | None:
    """Cut a text answer at the first stop sequence it contains; return that sequence (None when
    none matched)."""
    content = answer.content
    if not stops or not content or answer.tool_calls:
        return None
    hits = [(content.find(s), s) for s in stops if s in content]
    if not hits:
        return None
    at, stop = min(hits)
    kept = content[:at]
    pieces: list[str] = []
    used = 0
    for piece in answer.pieces:
        if used + len(piece) > at:
            if at > used:
                pieces.append(piece[: at - used])
            break
        pieces.append(piece)
        used += len(piece)
    answer.content, answer.pieces, answer.finish_reason = kept, pieces, "stop_sequence"
    answer.completion_tokens = len(kept.split()) + answer.reasoning_tokens
    return stop


def _signature(answer: Answer, req: BedrockChat) -> str | None:
    return thinking_signature(answer.reasoning or "") if req.signed else None


# --------------------------------------------------------------------------- Converse


def _tool_input(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except ValueError:
        return {}


def converse_body(answer: Answer, req: BedrockChat, usage: Usage, latency_ms: int) -> dict[str, Any]:
    """The Converse response body."""
    content: list[dict[str, Any]] = []
    if answer.reasoning is not None:
        reasoning: dict[str, Any] = {"text": answer.reasoning}
        signature = _signature(answer, req)
        if signature is not None:
            reasoning["signature"] = signature
        content.append({"reasoningContent": {"reasoningText": reasoning}})
    if answer.tool_calls:
        content.extend(
            {"toolUse": {"toolUseId": c.id, "name": c.name, "input": _tool_input(c.arguments)}}
            for c in answer.tool_calls
        )
    elif answer.content:
        content.append({"text": answer.content})
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": _CONVERSE_STOP.get(answer.finish_reason, "end_turn"),
        "usage": usage.converse(),
        "metrics": {"latencyMs": latency_ms},
    }


class _Plan:
    """Frames grouped for faults: each body entry ends with one content delta; the frames made
    between deltas (block starts and stops) ride with the next one."""

    __slots__ = ("body", "pending")

    def __init__(self) -> None:
        self.body: list[bytes] = []
        self.pending = b""

    def quiet(self, frame: bytes) -> None:
        self.pending += frame

    def content(self, frame: bytes) -> None:
        self.body.append(self.pending + frame)
        self.pending = b""


def converse_events(answer: Answer, req: BedrockChat, usage: Usage, latency_ms: int) -> StreamEvents:
    """The ConverseStream events of ``answer``, split for faults."""
    events = StreamEvents()
    events.head.append(event_message("messageStart", {"role": "assistant"}))
    plan = _Plan()
    index = 0

    def delta(payload: dict[str, Any]) -> None:
        plan.content(event_message("contentBlockDelta", {"contentBlockIndex": index, "delta": payload}))

    if answer.reasoning is not None:
        for piece in answer.reasoning_pieces:
            delta({"reasoningContent": {"text": piece}})
        signature = _signature(answer, req)
        if signature is not None:
            delta({"reasoningContent": {"signature": signature}})
        plan.quiet(event_message("contentBlockStop", {"contentBlockIndex": index}))
        index += 1
    if answer.tool_calls:
        for call in answer.tool_calls:
            start = {"toolUse": {"toolUseId": call.id, "name": call.name}}
            plan.quiet(event_message("contentBlockStart", {"contentBlockIndex": index, "start": start}))
            for fragment in fragments(call.arguments) or [""]:
                delta({"toolUse": {"input": fragment}})
            plan.quiet(event_message("contentBlockStop", {"contentBlockIndex": index}))
            index += 1
    elif answer.pieces:
        for piece in answer.pieces:
            delta({"text": piece})
        plan.quiet(event_message("contentBlockStop", {"contentBlockIndex": index}))
    events.body = plan.body
    stop = _CONVERSE_STOP.get(answer.finish_reason, "end_turn")
    events.tail = [
        plan.pending
        + event_message("messageStop", {"stopReason": stop})
        + event_message("metadata", {"usage": usage.converse(), "metrics": {"latencyMs": latency_ms}})
    ]
    return events


# --------------------------------------------------------------------------- Anthropic Messages


def _anthropic_content(answer: Answer, req: BedrockChat) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    if answer.reasoning is not None:
        content.append(
            {"type": "thinking", "thinking": answer.reasoning, "signature": _signature(answer, req)}
        )
    if answer.content:
        content.append({"type": "text", "text": answer.content})
    content.extend(
        {"type": "tool_use", "id": c.id, "name": c.name, "input": _tool_input(c.arguments)}
        for c in answer.tool_calls
    )
    return content


def anthropic_body(
    answer: Answer, req: BedrockChat, usage: Usage, message_id: str, stop: str | None
) -> dict[str, Any]:
    """The Anthropic Messages ``message`` answered by ``/invoke``."""
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": req.model.anthropic_name,
        "content": _anthropic_content(answer, req),
        "stop_reason": _ANTHROPIC_STOP.get(answer.finish_reason, "end_turn"),
        "stop_sequence": stop,
        "usage": usage.anthropic(),
    }


def _chunk(event: dict[str, Any]) -> bytes:
    data = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    return event_message("chunk", {"bytes": base64.b64encode(data).decode()})


def anthropic_events(
    answer: Answer, req: BedrockChat, usage: Usage, message_id: str, stop: str | None, latency_ms: int
) -> StreamEvents:
    """The ``chunk`` events of InvokeModelWithResponseStream for a Claude answer, split for faults."""
    events = StreamEvents()
    start: dict[str, Any] = {
        "model": req.model.anthropic_name,
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage.anthropic(output=1),
    }
    events.head.append(_chunk({"type": "message_start", "message": start}))
    plan = _Plan()
    index = 0

    def block(content_block: dict[str, Any], deltas: list[dict[str, Any]]) -> None:
        nonlocal index
        plan.quiet(_chunk({"type": "content_block_start", "index": index, "content_block": content_block}))
        for delta in deltas:
            plan.content(_chunk({"type": "content_block_delta", "index": index, "delta": delta}))
        plan.quiet(_chunk({"type": "content_block_stop", "index": index}))
        index += 1

    if answer.reasoning is not None:
        deltas = [{"type": "thinking_delta", "thinking": piece} for piece in answer.reasoning_pieces]
        signature = _signature(answer, req)
        if signature is not None:
            deltas.append({"type": "signature_delta", "signature": signature})
        block({"type": "thinking", "thinking": "", "signature": ""}, deltas)
    if answer.pieces and not answer.tool_calls:
        block({"type": "text", "text": ""}, [{"type": "text_delta", "text": p} for p in answer.pieces])
    for call in answer.tool_calls:
        pieces = ["", *fragments(call.arguments)]
        block(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": {}},
            [{"type": "input_json_delta", "partial_json": p} for p in pieces],
        )
    events.body = plan.body
    stop_reason = _ANTHROPIC_STOP.get(answer.finish_reason, "end_turn")
    metrics = {
        "inputTokenCount": usage.input,
        "outputTokenCount": usage.output,
        "invocationLatency": latency_ms,
        "firstByteLatency": max(1, latency_ms // 2),
    }
    if usage.cache_read or usage.cache_write:
        metrics.update(cacheReadInputTokenCount=usage.cache_read, cacheWriteInputTokenCount=usage.cache_write)
    events.tail = [
        plan.pending
        + _chunk(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": stop},
                "usage": {"output_tokens": usage.output},
            }
        )
        + _chunk({"type": "message_stop", "amazon-bedrock-invocationMetrics": metrics})
    ]
    return events
