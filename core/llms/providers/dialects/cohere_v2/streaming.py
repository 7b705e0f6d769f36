"""Cohere v2 chat SSE events → :class:`LLMStreamChunk`: :class:`CohereStreamParser`.

Wire facts this parser relies on (see ``tests/llms/wire/cohere``):

* every event's data is one JSON object whose ``type`` names it (the SSE ``event:`` line repeats
  it; a recording with the framing stripped has the ``type`` only): ``message-start``,
  ``content-start`` / ``content-delta`` / ``content-end`` (``delta.message.content.text``, or
  ``.thinking`` for reasoning models, per content ``index``), ``tool-plan-delta``
  (``delta.message.tool_plan``), ``tool-call-start`` (``index``; ``delta.message.tool_calls``:
  ``{id, type, function: {name, arguments}}``), ``tool-call-delta`` (argument fragments),
  ``tool-call-end``, ``citation-start`` (``delta.message.citations``: one citation) /
  ``citation-end``, ``message-end`` (``delta.finish_reason``, ``delta.usage``, ``delta.error``)
  and ``debug``;
* the stream then ends with ``data: [DONE]`` (the recorded streams do), which carries nothing:
  ``message-end`` is what makes a stream complete, and one without it was cut short
  (:class:`StreamInterruptedError` from :meth:`CohereStreamParser.close`);
* a ``message-end`` whose finish reason is ``ERROR`` (or ``TIMEOUT``) reports a failed
  generation: it raises (a :class:`ServiceUnavailableError` / :class:`RequestTimeoutError`, which
  the connector turns into :class:`StreamInterruptedError` once chunks were yielded).

Chunks: text deltas → ``text``; thinking deltas and the tool plan → ``reasoning`` (as the whole
answer's ``reasoning``: thinking, then the plan after a blank line); tool calls →
:class:`ToolCallDelta`. The final chunk (at ``message-end``) carries ``finish_reason``, ``usage``,
``cost`` and, as ``raw``, the response body assembled from the stream (the shape of a non-streamed
answer: content, tool plan, tool calls, citations, usage), so ``citations_of(acc.raw)`` and
``tool_plan_of(acc.raw)`` read a stream as they read a whole answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ....interfaces.errors import LLMError, ResponseParsingError, StreamInterruptedError
from ....interfaces.llm_interfaces import WireEvent
from ....interfaces.types import FinishReason, LLMStreamChunk, ToolCallDelta
from ...base.redact import cut
from ...base.wire_values import optional_str
from .errors import error_from_body, generation_error
from .parsing import ERROR_REASONS, CostFn, map_finish_reason, usage_from_wire

__all__ = ["CohereStreamParser"]

_DONE = "[DONE]"
_PREVIEW = 80


class CohereStreamParser:
    """One streamed v2 chat response → chunks (implements ``StreamParser``).

    The first chunk emitted carries ``endpoint`` and ``request_id`` (a public attribute, which a
    connector that knows the response headers may set before the first event); the final one
    ``finish_reason``, ``usage``, ``cost`` and ``raw``.
    """

    __slots__ = (
        "_citations",
        "_content",
        "_cost",
        "_done",
        "_finished",
        "_id",
        "_model",
        "_reasoning_kind",
        "_started",
        "_tool_calls",
        "_tool_plan",
        "endpoint",
        "request_id",
    )

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        cost: CostFn | None = None,
        request_id: str | None = None,
        model: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.request_id = request_id
        self._cost = cost
        self._model = model
        self._started = False
        self._finished = False
        self._done = False
        self._id: str | None = None
        #: content blocks by index: [type, text pieces]
        self._content: dict[int, tuple[str, list[str]]] = {}
        self._tool_plan: list[str] = []
        self._tool_calls: dict[int, dict[str, Any]] = {}
        self._citations: list[Any] = []
        #: what the last reasoning chunk was: "thinking", "plan" or None
        self._reasoning_kind: str | None = None

    # -- events ------------------------------------------------------------------------------

    def feed(self, event: WireEvent) -> list[LLMStreamChunk]:
        """The chunks of one SSE event (usually one, often none)."""
        data = event.data
        if self._finished:
            return []
        if data == _DONE:
            self._done = True
            return []
        try:
            obj = json.loads(data)
        except (ValueError, RecursionError):
            raise ResponseParsingError(
                f"stream event is not valid JSON: {cut(data, _PREVIEW)!r}",
                endpoint=self.endpoint,
                request_id=self.request_id,
            ) from None
        if not isinstance(obj, dict):
            raise self._malformed(f"an event is a JSON {type(obj).__name__}, not an object")
        kind = obj.get("type") or event.event
        if event.event == "error" or kind == "error" or (kind is None and "message" in obj):
            raise error_from_body(_status_of(obj), obj, endpoint=self.endpoint, request_id=self.request_id)
        chunk: LLMStreamChunk | None
        match kind:
            case "message-start":
                self._id = optional_str(obj.get("id"))
                chunk = None
            case "content-start" | "content-delta":
                chunk = self._content_chunk(obj, start=kind == "content-start")
            case "tool-plan-delta":
                plan = self._text(_message(obj).get("tool_plan"), "delta.message.tool_plan")
                chunk = None
                if plan:
                    self._tool_plan.append(plan)
                    chunk = LLMStreamChunk(reasoning=self._reasoning(plan, "plan"))
            case "tool-call-start" | "tool-call-delta":
                chunk = self._tool_chunk(obj, start=kind == "tool-call-start")
            case "citation-start":
                citation = _message(obj).get("citations")
                if citation is not None:
                    self._citations.append(citation)
                chunk = None
            case "message-end":
                return [self._end(obj)]
            case _:
                chunk = None  # (content-end, tool-call-end, citation-end, debug, or a new kind)
        if chunk is None:
            return []
        if not self._started:
            self._start(chunk)
        return [chunk]

    def _content_chunk(self, obj: Mapping[str, Any], *, start: bool) -> LLMStreamChunk | None:
        content = _message(obj).get("content")
        if content is None:
            return None
        if not isinstance(content, Mapping):
            raise self._malformed("delta.message.content is not an object")
        index = _index(obj)
        block = self._content.get(index)
        if block is None:
            kind = content.get("type") if start else None
            block = (str(kind or ("thinking" if "thinking" in content else "text")), [])
            self._content[index] = block
        thinking = self._text(content.get("thinking"), "delta.message.content.thinking")
        text = self._text(content.get("text"), "delta.message.content.text")
        if thinking:
            block[1].append(thinking)
            return LLMStreamChunk(reasoning=self._reasoning(thinking, "thinking"))
        if text:
            block[1].append(text)
            return LLMStreamChunk(text=text)
        return None

    def _reasoning(self, piece: str, kind: str) -> str:
        """A reasoning piece; the first of the tool plan after thinking is set apart by a blank
        line (as a whole answer's ``reasoning`` joins them)."""
        previous, self._reasoning_kind = self._reasoning_kind, kind
        return "\n\n" + piece if previous == "thinking" and kind == "plan" else piece

    def _tool_chunk(self, obj: Mapping[str, Any], *, start: bool) -> LLMStreamChunk | None:
        call = _message(obj).get("tool_calls")
        if call is None:
            return None
        if not isinstance(call, Mapping):
            raise self._malformed("delta.message.tool_calls is not an object")
        fn = call.get("function") or {}
        if not isinstance(fn, Mapping):
            raise self._malformed("delta.message.tool_calls.function is not an object")
        index = _index(obj)
        arguments = self._text(fn.get("arguments"), "delta.message.tool_calls.function.arguments") or ""
        call_id = self._text(call.get("id"), "delta.message.tool_calls.id") if start else None
        name = self._text(fn.get("name"), "delta.message.tool_calls.function.name") if start else None
        state = self._tool_calls.setdefault(index, {"id": None, "name": None, "arguments": []})
        if call_id:
            state["id"] = call_id
        if name:
            state["name"] = name
        state["arguments"].append(arguments)
        if not (call_id or name or arguments):
            return None
        return LLMStreamChunk(tool_calls=[ToolCallDelta(index, call_id, name, arguments)])

    def _end(self, obj: Mapping[str, Any]) -> LLMStreamChunk:
        delta = obj.get("delta")
        if not isinstance(delta, Mapping):
            delta = {}
        reason = delta.get("finish_reason")
        usage = usage_from_wire(delta.get("usage"))
        if reason in ERROR_REASONS:
            error: LLMError = generation_error(
                str(reason),
                delta.get("error") if isinstance(delta.get("error"), str) else None,
                endpoint=self.endpoint,
                request_id=self.request_id,
                body=dict(obj),
            )
            error.usage = usage
            raise error
        self._finished = True
        finish: FinishReason | None = map_finish_reason(reason) or (
            "tool_calls" if self._tool_calls else "stop"
        )
        chunk = LLMStreamChunk(
            finish_reason=finish,
            usage=usage,
            cost=self._cost(usage) if self._cost is not None and usage is not None else None,
            raw=self._assembled(reason, delta.get("usage")),
        )
        if not self._started:
            self._start(chunk)
        return chunk

    # -- helpers -------------------------------------------------------------------------------

    def _assembled(self, reason: Any, usage: Any) -> dict[str, Any]:
        """The body a non-streamed call would have returned, from what the stream said."""
        message: dict[str, Any] = {"role": "assistant"}
        content = []
        for index in sorted(self._content):
            kind, pieces = self._content[index]
            if kind == "thinking":
                content.append({"type": "thinking", "thinking": "".join(pieces)})
            else:
                content.append({"type": "text", "text": "".join(pieces)})
        if content:
            message["content"] = content
        if self._tool_plan:
            message["tool_plan"] = "".join(self._tool_plan)
        if self._tool_calls:
            message["tool_calls"] = [
                {
                    "id": state["id"] or f"call_{index}",
                    "type": "function",
                    "function": {"name": state["name"] or "", "arguments": "".join(state["arguments"])},
                }
                for index, state in sorted(self._tool_calls.items())
            ]
        if self._citations:
            message["citations"] = list(self._citations)
        body: dict[str, Any] = {"id": self._id, "finish_reason": reason, "message": message}
        if usage is not None:
            body["usage"] = usage
        return body

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

    def close(self) -> list[LLMStreamChunk]:
        """End of input: complete once ``message-end`` arrived (with or without ``[DONE]``); else
        the stream was cut: :class:`StreamInterruptedError`."""
        if self._finished:
            return []
        raise StreamInterruptedError(
            "the stream ended before its message-end event"
            + (" (it sent [DONE] without one)" if self._done else ""),
            endpoint=self.endpoint,
            request_id=self.request_id,
            hint="the connection was cut or the server stopped early; retry the call",
        )


def _message(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    delta = obj.get("delta")
    message = delta.get("message") if isinstance(delta, Mapping) else None
    return message if isinstance(message, Mapping) else {}


def _index(obj: Mapping[str, Any]) -> int:
    index = obj.get("index", 0)
    return index if type(index) is int and index >= 0 else 0


def _status_of(obj: Mapping[str, Any]) -> int:
    for key in ("status_code", "status", "http_status"):
        value = obj.get(key)
        if type(value) is int and 400 <= value <= 599:
            return value
    return 500
