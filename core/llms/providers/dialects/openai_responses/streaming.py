"""Responses API SSE events → :class:`LLMStreamChunk`: :class:`ResponsesStreamParser`.

Wire facts this parser relies on (see ``tests/llms/wire/openai-responses`` and ``azure``, and the
SDK's ``types/responses/response_stream_event.py``):

* every event's data is one JSON object whose ``type`` names the event (the SSE ``event:`` line
  repeats it; some recordings strip that line, so ``type`` is what is read);
* ``response.created`` / ``response.in_progress`` / ``response.queued`` carry the response so far
  (its model); they produce no chunk, so a failure right after them is still retried or failed
  over before the caller saw anything;
* text arrives in ``response.output_text.delta``, refusals in ``response.refusal.delta``,
  reasoning summaries in ``response.reasoning_summary_text.delta`` (reasoning text, from hosts
  of open-weight models, in ``response.reasoning_text.delta``); the matching ``.done`` events
  repeat the whole text;
* a function call opens with ``response.output_item.added`` (its ``call_id`` and ``name``), its
  arguments stream in ``response.function_call_arguments.delta`` keyed by ``output_index``, and
  ``response.output_item.done`` repeats the whole item;
* the stream ends with exactly one terminal event, ``response.completed``,
  ``response.incomplete`` or ``response.failed``, carrying the whole response with its usage; an
  ``error`` event (e.g. ``insufficient_quota``) may come first, inside the 200 stream;
* other events (server tools, annotations, partial images, and events added later) carry
  nothing the chunks hold and are skipped.

The parser emits the final chunk — finish reason, usage, cost and the whole response on ``raw``
(its output items are what the next turn sends back: :func:`~.items.response_items`) — on the
terminal event. A stream that ends without one was cut: :class:`StreamInterruptedError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ....interfaces.errors import LLMError, ResponseParsingError, StreamInterruptedError
from ....interfaces.llm_interfaces import WireEvent
from ....interfaces.types import LLMStreamChunk, ToolCallDelta
from ...base.redact import cut
from ...base.wire_values import optional_str
from ..openai_chat.parsing import CostFn
from ..openai_chat.streaming import json_loads
from .errors import responses_error
from .parsing import REASONING_SEPARATOR, content_filter_of, finish_reason_of, usage_from_responses

__all__ = ["ResponsesStreamParser"]

#: a non-JSON event is quoted in the error up to this many characters (never through a word).
_PREVIEW = 80
_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})
_STARTED = frozenset({"response.created", "response.in_progress", "response.queued"})

#: a piece of streamed content: (kind, output_index, part index) → the text emitted for it so far.
_Key = tuple[str, int, int]


class ResponsesStreamParser:
    """One streamed Responses API answer → chunks (implements ``StreamParser``).

    The first chunk emitted carries ``endpoint``, ``request_id`` (when set) and ``model``; the
    final one (on the terminal event) carries ``finish_reason``, ``usage``, ``cost`` and, on
    ``raw``, the whole response. Tool calls are numbered (``ToolCallDelta.index``) 0, 1, … in the
    order their output items open.
    """

    __slots__ = (
        "_calls",
        "_cost",
        "_done",
        "_emitted",
        "_last_reasoning",
        "_model",
        "_reasoned",
        "_refused",
        "_started",
        "endpoint",
        "request_id",
    )

    def __init__(
        self, endpoint: str | None = None, *, cost: CostFn | None = None, request_id: str | None = None
    ) -> None:
        self.endpoint = endpoint
        self.request_id = request_id
        self._cost = cost
        self._done = False
        self._started = False
        self._model: str | None = None
        #: output_index of a function call → its ordinal, and the arguments emitted for it.
        self._calls: dict[int, tuple[int, list[str]]] = {}
        self._emitted: dict[_Key, str] = {}
        self._last_reasoning: _Key | None = None
        self._reasoned = False
        self._refused = False

    # -- feeding -----------------------------------------------------------------------------

    def feed(self, event: WireEvent) -> list[LLMStreamChunk]:
        """The chunks of one SSE event (often none)."""
        data = event.data
        if self._done or data == "[DONE]":
            return []
        try:
            obj = json_loads(data)
        except (ValueError, RecursionError):
            raise self._malformed(f"not valid JSON: {cut(data, _PREVIEW)!r}") from None
        if not isinstance(obj, dict):
            raise self._malformed(f"a JSON {type(obj).__name__}, not an object")
        kind = obj.get("type")
        if not isinstance(kind, str):
            kind = event.event or ""
            if obj.get("error"):  # a gateway's bare {"error": {...}} (no event type)
                kind = "error"
        if kind == "error":
            raise responses_error(obj, endpoint=self.endpoint, request_id=self.request_id)
        chunks = self._dispatch(kind, obj)
        if chunks and not self._started:
            self._start(chunks[0])
        return chunks

    def _dispatch(self, kind: str, obj: dict[str, Any]) -> list[LLMStreamChunk]:
        match kind:
            case "response.output_text.delta":
                return self._content("text", obj, self._text(obj.get("delta"), kind))
            case "response.refusal.delta":
                return self._content("refusal", obj, self._text(obj.get("delta"), kind))
            case "response.reasoning_summary_text.delta":
                return self._content("summary", obj, self._text(obj.get("delta"), kind))
            case "response.reasoning_text.delta":
                return self._content("reasoning", obj, self._text(obj.get("delta"), kind))
            case "response.output_text.done":
                return self._catch_up("text", obj, obj.get("text"), kind)
            case "response.refusal.done":
                return self._catch_up("refusal", obj, obj.get("refusal"), kind)
            case "response.reasoning_summary_text.done":
                return self._catch_up("summary", obj, obj.get("text"), kind)
            case "response.reasoning_text.done":
                return self._catch_up("reasoning", obj, obj.get("text"), kind)
            case "response.output_item.added":
                return self._item(obj, done=False)
            case "response.output_item.done":
                return self._item(obj, done=True)
            case "response.function_call_arguments.delta":
                return self._arguments(obj, self._text(obj.get("delta"), kind), whole=False)
            case "response.function_call_arguments.done":
                return self._arguments(obj, self._text(obj.get("arguments"), kind), whole=True)
            case _ if kind in _TERMINAL:
                return self._terminal(kind, obj)
            case _ if kind in _STARTED:
                response = obj.get("response")
                if isinstance(response, Mapping) and self._model is None:
                    self._model = optional_str(response.get("model"))
                return []
            case _:
                return []  # server tools, annotations, partial images, future events

    # -- content -------------------------------------------------------------------------------

    def _key(self, kind: str, obj: Mapping[str, Any]) -> _Key:
        part = obj.get("summary_index") if kind == "summary" else obj.get("content_index")
        return (kind, _index(obj.get("output_index")), _index(part))

    def _content(self, kind: str, obj: Mapping[str, Any], delta: str) -> list[LLMStreamChunk]:
        return self._emit(self._key(kind, obj), delta)

    def _catch_up(self, kind: str, obj: Mapping[str, Any], whole: Any, event: str) -> list[LLMStreamChunk]:
        """A ``.done`` event repeats the whole text: emit what no delta brought (nothing, usually)."""
        key = self._key(kind, obj)
        return self._emit(key, _remainder(self._emitted.get(key, ""), self._text(whole, event)))

    def _emit(self, key: _Key, piece: str) -> list[LLMStreamChunk]:
        if not piece:
            return []
        self._emitted[key] = self._emitted.get(key, "") + piece
        kind = key[0]
        if kind == "text":
            return [LLMStreamChunk(text=piece)]
        if kind == "refusal":
            self._refused = True
            return [LLMStreamChunk(refusal=piece)]
        if self._last_reasoning != key:  # a new summary part / reasoning item: a blank line between
            if self._reasoned:
                piece = REASONING_SEPARATOR + piece
            self._last_reasoning = key
        self._reasoned = True
        return [LLMStreamChunk(reasoning=piece)]

    # -- output items and function calls ---------------------------------------------------------

    def _item(self, obj: Mapping[str, Any], *, done: bool) -> list[LLMStreamChunk]:
        item = obj.get("item")
        if not isinstance(item, Mapping):
            raise self._malformed(f"{obj.get('type')} has no item")
        output_index = _index(obj.get("output_index"))
        match item.get("type"):
            case "function_call":
                chunks = self._open_call(output_index, item)
                if done:
                    arguments = self._text(item.get("arguments"), "function_call.arguments")
                    chunks += self._arguments(obj, arguments, whole=True)
                return chunks
            case "message" if done:
                return self._message_done(output_index, item)
            case "reasoning" if done:
                return self._reasoning_done(output_index, item)
            case _:
                return []

    def _open_call(self, output_index: int, item: Mapping[str, Any]) -> list[LLMStreamChunk]:
        if output_index in self._calls:
            return []
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise self._malformed("a function_call item has no name")
        ordinal = len(self._calls)
        self._calls[output_index] = (ordinal, [])
        call_id = optional_str(item.get("call_id")) or optional_str(item.get("id"))
        return [LLMStreamChunk(tool_calls=[ToolCallDelta(ordinal, call_id, name, "")])]

    def _arguments(self, obj: Mapping[str, Any], text: str, *, whole: bool) -> list[LLMStreamChunk]:
        output_index = _index(obj.get("output_index"))
        call = self._calls.get(output_index)
        if call is None:
            raise self._malformed("function call arguments arrived for no open function_call item")
        ordinal, sent = call
        piece = _remainder("".join(sent), text) if whole else text
        if not piece:
            return []
        sent.append(piece)
        return [LLMStreamChunk(tool_calls=[ToolCallDelta(ordinal, None, None, piece)])]

    def _message_done(self, output_index: int, item: Mapping[str, Any]) -> list[LLMStreamChunk]:
        content = item.get("content")
        chunks: list[LLMStreamChunk] = []
        for j, part in enumerate(content if isinstance(content, list) else ()):
            if not isinstance(part, Mapping):
                continue
            kind = part.get("type")
            if kind == "output_text":
                key: _Key = ("text", output_index, j)
                whole = self._text(part.get("text"), "output_text.text")
            elif kind == "refusal":
                key = ("refusal", output_index, j)
                whole = self._text(part.get("refusal"), "refusal.refusal")
            else:
                continue
            chunks += self._emit(key, _remainder(self._emitted.get(key, ""), whole))
        return chunks

    def _reasoning_done(self, output_index: int, item: Mapping[str, Any]) -> list[LLMStreamChunk]:
        chunks: list[LLMStreamChunk] = []
        for field, kind in (("summary", "summary"), ("content", "reasoning")):
            parts = item.get(field)
            for j, part in enumerate(parts if isinstance(parts, list) else ()):
                if isinstance(part, Mapping):
                    key: _Key = (kind, output_index, j)
                    whole = self._text(part.get("text"), f"reasoning.{field}.text")
                    chunks += self._emit(key, _remainder(self._emitted.get(key, ""), whole))
        return chunks

    # -- the end -------------------------------------------------------------------------------

    def _terminal(self, kind: str, obj: Mapping[str, Any]) -> list[LLMStreamChunk]:
        response = obj.get("response")
        if not isinstance(response, Mapping):
            raise self._malformed(f"{kind} has no response object")
        if kind == "response.failed" or response.get("status") == "failed":
            raise responses_error(obj, endpoint=self.endpoint, request_id=self.request_id)
        self._done = True
        model = optional_str(response.get("model"))
        if model is not None:
            self._model = model
        output = response.get("output")
        calls = bool(self._calls) or (
            isinstance(output, list)
            and any(isinstance(i, Mapping) and i.get("type") == "function_call" for i in output)
        )
        usage = usage_from_responses(response.get("usage"))
        chunk = LLMStreamChunk(
            finish_reason=finish_reason_of(response, tool_calls=calls, refused=self._refused),
            usage=usage,
            cost=self._cost(usage) if self._cost is not None and usage is not None else None,
            content_filter=content_filter_of(response),
            model=self._model,
            raw=dict(response),
        )
        return [chunk]

    def close(self) -> list[LLMStreamChunk]:
        """End of input: nothing more after the terminal event; without one the stream was cut
        short (:class:`StreamInterruptedError`)."""
        if self._done:
            return []
        raise StreamInterruptedError(
            "the stream ended before its response.completed event",
            endpoint=self.endpoint,
            request_id=self.request_id,
            hint="the connection was cut or the server stopped early; retry the call",
        )

    # -- helpers -------------------------------------------------------------------------------

    def _start(self, chunk: LLMStreamChunk) -> None:
        self._started = True
        chunk.endpoint = self.endpoint
        chunk.request_id = self.request_id
        if chunk.model is None:
            chunk.model = self._model

    def _text(self, value: Any, where: str) -> str:
        """A text field of an event: ``""`` when null or absent; malformed if not a string."""
        if value is None or type(value) is str:
            return value or ""
        raise self._malformed(f"{where} is not a string")

    def _malformed(self, what: str) -> LLMError:
        return ResponseParsingError(
            f"stream event is malformed: {what}", endpoint=self.endpoint, request_id=self.request_id
        )


def _index(value: Any) -> int:
    """An ``output_index`` / ``content_index`` / ``summary_index``: a non-negative int, else 0."""
    return value if type(value) is int and value >= 0 else 0


def _remainder(sent: str, whole: str) -> str:
    """What ``whole`` adds to the ``sent`` prefix; nothing when it does not extend it (the
    deltas are what the caller already has; a repeat that differs is not sent twice)."""
    if len(whole) > len(sent) and whole.startswith(sent):
        return whole[len(sent) :]
    return ""
