"""Writing Anthropic Messages API answers: the ``message`` body, the SSE events of a stream (with
``event:`` names, as Anthropic sends them), error bodies and in-stream ``error`` events, and the
prompt cache's bookkeeping.

Content of an answer (from :func:`~.generation.generate_answer`): a ``thinking`` block with its
signature when the request asked for thinking, then the text, or one ``tool_use`` block per tool
call. A refusal (:data:`~.anthropic_request.REFUSAL_TRIGGER`) is ``stop_reason: "refusal"``; a stop
sequence in the text cuts it there (``stop_sequence``); an answer longer than ``max_tokens`` is
cut (``max_tokens``) — a tool call too, its input left partial in a stream (``{}`` in a body).

Stream layout, for the fault pipeline (:func:`~.responder.send_stream`): the head is
``message_start`` and a ``ping``; each body item is one content delta (the first of a block
carries its ``content_block_start``, the last its ``content_block_stop``), so "after the first
chunk" means after content reached the client; the tail is ``message_delta`` and ``message_stop``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .anthropic_request import AnthropicRequest, CachePoint, anthropic_error, sign_thinking
from .faults import Fault
from .generation import Answer, fragments
from .openai_wire import StreamEvents

__all__ = [
    "REFUSAL_TEXT",
    "TYPE_BY_STATUS",
    "MessageContext",
    "PromptCache",
    "error_event",
    "fault_error",
    "message_body",
    "message_events",
]

#: what Claude says when it refuses (before ``stop_reason: "refusal"``).
REFUSAL_TEXT = "I can't help with that."
#: the error type Anthropic sends with each status.
TYPE_BY_STATUS: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_MESSAGES: dict[str, str] = {
    "invalid_request_error": "Simulated invalid request.",
    "authentication_error": "invalid x-api-key",
    "billing_error": "Your credit balance is too low to access the Anthropic API.",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "The requested resource could not be found.",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit.",
    "api_error": "Internal server error",
    "timeout_error": "Request timed out",
    "overloaded_error": "Overloaded",
}


def fault_error(fault: Fault) -> dict[str, Any]:
    """The Anthropic error a fault reports: its dict ``body`` when that is Anthropic's envelope,
    else the error of its status (``error_code``: an Anthropic error type, or a status) with its
    ``message``."""
    if isinstance(fault.body, dict) and fault.body.get("type") == "error":
        return fault.body
    code = fault.error_code
    if isinstance(code, str) and code in _MESSAGES:
        kind = code
    else:
        status = fault.error_status
        kind = TYPE_BY_STATUS.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return anthropic_error(fault.message or _MESSAGES[kind], kind)


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()


def error_event(body: dict[str, Any]) -> bytes:
    """An in-stream ``error`` event."""
    return _event("error", body)


@dataclass(slots=True)
class MessageContext:
    """Per-response facts: the message id, the model, and the prompt cache's counts."""

    message_id: str
    model: str
    cache_read: int = 0
    cache_write: int = 0
    one_hour: bool = False


class PromptCache:
    """Which prompt prefixes were written to the cache (one per simulator): a request's longest
    cached point is read, and the rest up to its last point written."""

    def __init__(self) -> None:
        self._keys: set[str] = set()

    def use(self, points: list[CachePoint]) -> tuple[int, int, bool]:
        """``(read, written, one_hour)`` tokens of a request with ``points``."""
        if not points:
            return 0, 0, False
        read = max((p.tokens for p in points if p.key in self._keys), default=0)
        last = points[-1]
        written = 0 if last.key in self._keys else max(0, last.tokens - read)
        self._keys.update(p.key for p in points)
        return read, written, last.ttl == "1h"


@dataclass(slots=True)
class _Content:
    """The blocks of an answer, as data and (for a stream) as deltas."""

    blocks: list[dict[str, Any]]
    deltas: list[list[dict[str, Any]]]
    stop_reason: str
    stop_sequence: str | None
    output_tokens: int


def _content(answer: Answer, req: AnthropicRequest) -> _Content:
    blocks: list[dict[str, Any]] = []
    deltas: list[list[dict[str, Any]]] = []
    if req.thinking and answer.reasoning:
        signature = sign_thinking(answer.reasoning)
        blocks.append({"type": "thinking", "thinking": answer.reasoning, "signature": signature})
        thoughts = [{"type": "thinking_delta", "thinking": p} for p in answer.reasoning_pieces]
        deltas.append([*thoughts, {"type": "signature_delta", "signature": signature}])
    stop_reason = {"tool_calls": "tool_use", "length": "max_tokens"}.get(answer.finish_reason, "end_turn")
    stop_sequence = None
    output = answer.completion_tokens
    if req.refusal:
        blocks.append({"type": "text", "text": REFUSAL_TEXT})
        deltas.append([{"type": "text_delta", "text": REFUSAL_TEXT}])
        return _Content(blocks, deltas, "refusal", None, output)
    limit = req.chat.max_tokens or 0
    for call in answer.tool_calls:
        arguments = json.dumps(json.loads(call.arguments), ensure_ascii=False)  # the API's spacing
        if limit and answer.completion_tokens > limit:  # cut off mid-arguments
            arguments = arguments[: max(1, len(arguments) // 2)]
            stop_reason, output = "max_tokens", limit
        complete = stop_reason != "max_tokens"
        tool_input = json.loads(arguments) if complete else {}
        blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": tool_input})
        deltas.append([{"type": "input_json_delta", "partial_json": p} for p in ["", *fragments(arguments)]])
        if not complete:
            break
    if not answer.tool_calls and answer.content is not None:
        text, pieces = answer.content, list(answer.pieces)
        for stop in req.stop_sequences:
            at = text.find(stop)
            if at >= 0:
                text, stop_reason, stop_sequence = text[:at], "stop_sequence", stop
                pieces = [text[i : i + 8] for i in range(0, len(text), 8)]
                break
        if text:
            blocks.append({"type": "text", "text": text})
            deltas.append([{"type": "text_delta", "text": p} for p in pieces])
    return _Content(blocks, deltas, stop_reason, stop_sequence, output)


def _usage(req: AnthropicRequest, ctx: MessageContext, output: int) -> dict[str, Any]:
    fresh = max(0, req.chat.prompt_tokens - ctx.cache_read - ctx.cache_write)
    return {
        "input_tokens": fresh,
        "cache_creation_input_tokens": ctx.cache_write,
        "cache_read_input_tokens": ctx.cache_read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": 0 if ctx.one_hour else ctx.cache_write,
            "ephemeral_1h_input_tokens": ctx.cache_write if ctx.one_hour else 0,
        },
        "output_tokens": output,
        "service_tier": "standard",
    }


def message_body(answer: Answer, req: AnthropicRequest, ctx: MessageContext) -> dict[str, Any]:
    """The non-streamed ``message``."""
    content = _content(answer, req)
    return {
        "id": ctx.message_id,
        "type": "message",
        "role": "assistant",
        "model": ctx.model,
        "content": content.blocks,
        "stop_reason": content.stop_reason,
        "stop_sequence": content.stop_sequence,
        "usage": _usage(req, ctx, content.output_tokens),
    }


def message_events(
    answer: Answer, req: AnthropicRequest, ctx: MessageContext, fault: Fault | None
) -> StreamEvents:
    """The SSE events of a streamed answer (see the module docs for its parts); an in-stream
    error (a fault's ``error_event``) is Anthropic's ``error`` event."""
    content = _content(answer, req)
    usage = _usage(req, ctx, 1)
    start: dict[str, Any] = {
        "id": ctx.message_id,
        "type": "message",
        "role": "assistant",
        "model": ctx.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    events = StreamEvents()
    events.head = [
        _event("message_start", {"type": "message_start", "message": start}),
        _event("ping", {"type": "ping"}),
    ]
    for index, (block, deltas) in enumerate(zip(content.blocks, content.deltas, strict=True)):
        empty = {k: ("" if k in ("text", "thinking", "signature") else v) for k, v in block.items()}
        if block["type"] == "tool_use":
            empty["input"] = {}
        items = [
            _event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
            for d in deltas
        ]
        if not items:
            items = [b""]
        items[0] = (
            _event(
                "content_block_start", {"type": "content_block_start", "index": index, "content_block": empty}
            )
            + items[0]
        )
        items[-1] += _event("content_block_stop", {"type": "content_block_stop", "index": index})
        events.body.extend(items)
    final = {**usage, "output_tokens": content.output_tokens}
    delta = {"stop_reason": content.stop_reason, "stop_sequence": content.stop_sequence}
    events.tail = [
        _event("message_delta", {"type": "message_delta", "delta": delta, "usage": final}),
        _event("message_stop", {"type": "message_stop"}),
    ]
    if fault is not None:
        events.error_event = lambda _body: error_event(fault_error(fault))
    return events
