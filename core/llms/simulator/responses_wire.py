"""The Responses API wire: the ``response`` object and its SSE event sequence.

Written from the SDK's ``types/responses`` and the recordings in ``tests/llms/wire/openai-responses``
and ``azure``: output items ``reasoning`` (``summary`` parts, ``encrypted_content`` when
``include`` asks for it), ``message`` (``output_text`` or ``refusal`` parts) and
``function_call``; ``status`` ``completed`` or ``incomplete`` (``incomplete_details.reason``:
``max_output_tokens`` / ``content_filter``); ``usage`` with ``input_tokens_details`` and
``output_tokens_details``. Streams are named events (``event: <type>`` then ``data:``), each with
a ``sequence_number``: ``response.created``, ``response.in_progress``, per item
``response.output_item.added`` … ``response.output_item.done`` (content parts, text / refusal /
reasoning summary / function-call argument deltas and their ``.done`` events), then
``response.completed`` or ``response.incomplete``. An in-stream error is an ``error`` event
(``{"type": "error", "error": {...}}`` as OpenAI sends it) followed by ``response.failed``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .generation import Answer, fragments
from .openai_wire import StreamEvents
from .responses_request import ResponsesRequest, encrypt_reasoning

__all__ = ["REFUSAL_TEXT", "ResponseContext", "response_body", "response_events"]

REFUSAL_TEXT = "I'm sorry, I can't assist with that."


@dataclass(slots=True)
class ResponseContext:
    """Per-response identity: the response number (ids), model, time, and Azure's extra field."""

    n: int
    model: str
    created: int
    azure: bool = False

    @property
    def response_id(self) -> str:
        return f"resp_sim_{self.n:06d}"


def _status(answer: Answer) -> tuple[str, dict[str, Any] | None]:
    if answer.finish_reason == "length":
        return "incomplete", {"reason": "max_output_tokens"}
    if answer.finish_reason == "content_filter":
        return "incomplete", {"reason": "content_filter"}
    return "completed", None


def _usage(answer: Answer, req: ResponsesRequest) -> dict[str, Any]:
    prompt = req.chat.prompt_tokens
    completion = answer.completion_tokens
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": answer.reasoning_tokens},
        "total_tokens": prompt + completion,
    }


def _items(answer: Answer, req: ResponsesRequest, ctx: ResponseContext) -> list[dict[str, Any]]:
    """The output items of the finished response."""
    items: list[dict[str, Any]] = []
    if req.reasoning_model:
        items.append(_reasoning_item(answer, req, ctx, done=True))
    status, _ = _status(answer)
    if answer.tool_calls and not req.refusal:
        for i, call in enumerate(answer.tool_calls):
            items.append(_call_item(call.id, call.name, call.arguments, f"fc_sim_{ctx.n:06d}_{i}"))
        return items
    part: dict[str, Any]
    if req.refusal:
        part = {"type": "refusal", "refusal": REFUSAL_TEXT}
    else:
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": answer.content or ""}
    items.append(
        {
            "id": f"msg_sim_{ctx.n:06d}",
            "type": "message",
            "status": status,
            "content": [part],
            "role": "assistant",
        }
    )
    return items


def _reasoning_item(
    answer: Answer, req: ResponsesRequest, ctx: ResponseContext, *, done: bool
) -> dict[str, Any]:
    item_id = f"rs_sim_{ctx.n:06d}"
    item: dict[str, Any] = {"id": item_id, "type": "reasoning", "summary": []}
    if done and req.summary is not None and answer.reasoning:
        item["summary"] = [{"type": "summary_text", "text": answer.reasoning}]
    if "reasoning.encrypted_content" in req.include:
        item["encrypted_content"] = encrypt_reasoning(item_id)
    return item


def _call_item(call_id: str, name: str, arguments: str, item_id: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "status": "completed",
        "arguments": arguments,
        "call_id": call_id,
        "name": name,
    }


def _response(
    req: ResponsesRequest,
    ctx: ResponseContext,
    *,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    incomplete: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    echo = req.echo
    body: dict[str, Any] = {
        "id": ctx.response_id,
        "object": "response",
        "created_at": ctx.created,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": incomplete,
        "instructions": echo.get("instructions"),
        "max_output_tokens": echo.get("max_output_tokens"),
        "model": ctx.model,
        "output": output,
        "parallel_tool_calls": echo.get("parallel_tool_calls", True),
        "previous_response_id": echo.get("previous_response_id"),
        "reasoning": {"effort": req.effort, "summary": req.summary},
        "service_tier": "default",
        "store": req.store,
        "temperature": echo.get("temperature", 1.0),
        "text": echo.get("text") or {"format": {"type": "text"}},
        "tool_choice": echo.get("tool_choice") or "auto",
        "tools": echo.get("tools") or [],
        "top_p": echo.get("top_p", 1.0),
        "truncation": echo.get("truncation") or "disabled",
        "usage": usage,
        "user": echo.get("user"),
        "metadata": echo.get("metadata") or {},
    }
    if ctx.azure:
        body["content_filters"] = None
    return body


def response_body(answer: Answer, req: ResponsesRequest, ctx: ResponseContext) -> dict[str, Any]:
    """The non-streamed ``response`` object."""
    status, incomplete = _status(answer)
    return _response(
        req,
        ctx,
        status=status,
        output=_items(answer, req, ctx),
        usage=_usage(answer, req),
        incomplete=incomplete,
    )


class _Writer:
    """Serialises events with their ``sequence_number``, in the order they are made."""

    __slots__ = ("seq",)

    def __init__(self) -> None:
        self.seq = 0

    def event(self, kind: str, **fields: Any) -> bytes:
        data = {"type": kind, "sequence_number": self.seq, **fields}
        self.seq += 1
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return f"event: {kind}\ndata: {text}\n\n".encode()


class _Plan:
    """Events grouped for faults: each body entry ends with one event that reaches the caller as
    content (a delta, a function call opening); the events between contents ride with the next."""

    __slots__ = ("body", "pending", "writer")

    def __init__(self, writer: _Writer) -> None:
        self.writer = writer
        self.body: list[bytes] = []
        self.pending = b""

    def quiet(self, kind: str, **fields: Any) -> None:
        self.pending += self.writer.event(kind, **fields)

    def content(self, kind: str, **fields: Any) -> None:
        self.body.append(self.pending + self.writer.event(kind, **fields))
        self.pending = b""


def response_events(answer: Answer, req: ResponsesRequest, ctx: ResponseContext) -> StreamEvents:
    """The SSE events of a streamed answer, split for faults (see :class:`StreamEvents`): ``head``
    the created / in-progress events, ``body`` one entry per content delta (with the item and part
    events before it), ``tail`` the closing item events and the terminal event."""
    writer = _Writer()
    events = StreamEvents()
    opening = _response(req, ctx, status="in_progress", output=[], usage=None)
    events.head.append(writer.event("response.created", response=opening))
    events.head.append(writer.event("response.in_progress", response=opening))
    plan = _Plan(writer)
    items = _items(answer, req, ctx)
    for index, item in enumerate(items):
        match item["type"]:
            case "reasoning":
                _reasoning_events(plan, index, item, answer, req, ctx)
            case "function_call":
                _call_events(plan, index, item)
            case _:
                _message_events(plan, index, item, answer)
    status, incomplete = _status(answer)
    final = _response(req, ctx, status=status, output=items, usage=_usage(answer, req), incomplete=incomplete)
    terminal = "response.completed" if status == "completed" else "response.incomplete"
    events.body = plan.body
    events.tail = [plan.pending + writer.event(terminal, response=final)]

    def error_event(body: dict[str, Any]) -> bytes:
        err = dict(body.get("error") or {})
        err.pop("status_code", None)
        failed = _response(
            req,
            ctx,
            status="failed",
            output=[],
            usage=None,
            error={
                "code": err.get("code") or err.get("type") or "server_error",
                "message": err.get("message"),
            },
        )
        return writer.event("error", error=err) + writer.event("response.failed", response=failed)

    events.error_event = error_event
    return events


def _reasoning_events(
    plan: _Plan, index: int, item: dict[str, Any], answer: Answer, req: ResponsesRequest, ctx: ResponseContext
) -> None:
    item_id = item["id"]
    plan.quiet(
        "response.output_item.added", output_index=index, item=_reasoning_item(answer, req, ctx, done=False)
    )
    for j, part in enumerate(item["summary"]):
        ids = {"item_id": item_id, "output_index": index, "summary_index": j}
        plan.quiet("response.reasoning_summary_part.added", **ids, part={"type": "summary_text", "text": ""})
        for piece in answer.reasoning_pieces or [part["text"]]:
            plan.content("response.reasoning_summary_text.delta", **ids, delta=piece)
        plan.quiet("response.reasoning_summary_text.done", **ids, text=part["text"])
        plan.quiet("response.reasoning_summary_part.done", **ids, part=part)
    plan.quiet("response.output_item.done", output_index=index, item=item)


def _call_events(plan: _Plan, index: int, item: dict[str, Any]) -> None:
    ids = {"item_id": item["id"], "output_index": index}
    plan.content(
        "response.output_item.added",
        output_index=index,
        item={**item, "arguments": "", "status": "in_progress"},
    )
    for piece in fragments(item["arguments"]):
        plan.content("response.function_call_arguments.delta", **ids, delta=piece)
    plan.quiet("response.function_call_arguments.done", **ids, arguments=item["arguments"])
    plan.quiet("response.output_item.done", output_index=index, item=item)


def _message_events(plan: _Plan, index: int, item: dict[str, Any], answer: Answer) -> None:
    ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
    plan.quiet(
        "response.output_item.added",
        output_index=index,
        item={**item, "status": "in_progress", "content": []},
    )
    part = item["content"][0]
    if part["type"] == "refusal":
        plan.quiet("response.content_part.added", **ids, part={"type": "refusal", "refusal": ""})
        for piece in _words(part["refusal"]):
            plan.content("response.refusal.delta", **ids, delta=piece)
        plan.quiet("response.refusal.done", **ids, refusal=part["refusal"])
    else:
        empty = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
        plan.quiet("response.content_part.added", **ids, part=empty)
        for piece in answer.pieces:
            plan.content("response.output_text.delta", **ids, delta=piece, logprobs=[])
        plan.quiet("response.output_text.done", **ids, text=part["text"], logprobs=[])
    plan.quiet("response.content_part.done", **ids, part=part)
    plan.quiet("response.output_item.done", output_index=index, item=item)


def _words(text: str) -> list[str]:
    words = text.split(" ")
    return [words[0], *(" " + w for w in words[1:])]
