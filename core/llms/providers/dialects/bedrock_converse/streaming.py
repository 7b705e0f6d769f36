"""ConverseStream events → :class:`LLMStreamChunk`: :class:`ConverseStreamParser`.

The events come from :class:`~core.llms.providers.base.eventstream.EventStreamDecoder`: the
frame's ``:event-type`` in ``event.event``, its JSON payload in ``event.data`` (each with a ``p``
padding field, ignored). Wire facts this parser relies on (``tests/llms/wire/bedrock``):

* ``messageStart {role}``; then per content block, by ``contentBlockIndex``: an optional
  ``contentBlockStart`` (``start.toolUse {toolUseId, name, type?}``, ``start.toolResult`` of a
  server tool, ``start.image``), ``contentBlockDelta``\\ s (``delta.text``,
  ``delta.toolUse.input``: a fragment of the input's JSON, ``delta.reasoningContent`` with
  ``text``, ``signature`` or ``redactedContent``, ``delta.toolResult``, ``delta.citation``), and
  ``contentBlockStop``; then ``messageStop {stopReason, additionalModelResponseFields?}`` and
  ``metadata {usage, metrics.latencyMs, trace?}``, the last event;
* text blocks have no ``contentBlockStart``; a tool the server runs itself (``type:
  "server_tool_use"``, e.g. Nova's code interpreter) streams its input and its result as blocks
  too: they are no call for the caller to make and are not reported as tool calls;
* an exception frame (``:message-type: exception``, e.g. ``throttlingException``,
  ``modelStreamErrorException``) can arrive instead of any event: it is raised as its typed error
  (see :func:`~.errors.error_from_event`), with the finish reason and usage seen before it.

Chunks: text deltas as ``text``, reasoning text as ``reasoning``, tool calls as
:class:`ToolCallDelta` (``id`` and ``name`` on the first, input fragments as ``arguments``;
``index`` counts the answer's tool calls from 0). The final chunk, made once both ``messageStop``
and ``metadata`` arrived, carries ``finish_reason``, ``usage``, ``cost``, ``content_filter`` (a
guardrail's stop reason and trace) and, as ``raw``, the answer in the shape of a non-streamed
Converse response (``output.message.content`` with every block, reasoning signatures included;
``stopReason``, ``usage``, ``metrics``, ``trace``), so :func:`~.content.converse_message` works
on it. A stream that ends before both is cut: :class:`StreamInterruptedError`.

With ``structured_tool`` (the forced tool of ``response_format``), that tool's input fragments
are the answer's ``text``, and its ``tool_use`` stop reason reads ``"stop"``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ....interfaces.errors import ResponseParsingError, StreamInterruptedError
from ....interfaces.llm_interfaces import WireEvent
from ....interfaces.types import FinishReason, LLMStreamChunk, ToolCallDelta, Usage
from ...base.redact import cut
from ..openai_chat.streaming import json_loads
from .errors import error_from_event
from .parsing import CostFn, content_filter_of, map_stop_reason, usage_from_converse

__all__ = ["ConverseStreamParser"]

_PREVIEW = 80
#: what a block of the answer is, by what started it (text blocks have no start event).
_TEXT, _TOOL, _SERVER_TOOL, _STRUCTURED, _REASONING, _RESULT, _OTHER = range(7)


class _Block:
    """One content block as it streams in, to rebuild the whole message for ``raw``."""

    __slots__ = ("call", "citations", "kind", "pieces", "redacted", "signature", "start")

    def __init__(self, kind: int, start: dict[str, Any] | None = None, call: int = -1) -> None:
        self.kind = kind
        self.start = start
        self.call = call  # the tool call's index among the answer's calls
        self.pieces: list[Any] = []
        self.signature: str | None = None
        self.redacted: list[bytes] | None = None
        self.citations: list[Any] | None = None

    def to_wire(self) -> dict[str, Any] | None:
        kind = self.kind
        if kind == _TEXT:
            text = "".join(self.pieces)
            if self.citations:
                return {"citationsContent": {"content": [{"text": text}], "citations": self.citations}}
            return {"text": text}
        if kind == _REASONING:
            if self.redacted is not None:
                return {
                    "reasoningContent": {
                        "redactedContent": base64.b64encode(b"".join(self.redacted)).decode()
                    }
                }
            reasoning: dict[str, Any] = {"text": "".join(self.pieces)}
            if self.signature is not None:
                reasoning["signature"] = self.signature
            return {"reasoningContent": {"reasoningText": reasoning}}
        start = dict(self.start or {})
        if kind in (_TOOL, _SERVER_TOOL, _STRUCTURED):
            arguments = "".join(self.pieces)
            try:
                start["input"] = json.loads(arguments) if arguments.strip() else {}
            except (ValueError, RecursionError):
                start["input"] = arguments  # cut short or malformed: kept as it came
            return {"toolUse": start}
        if kind == _RESULT:
            start["content"] = [item for piece in self.pieces for item in piece]
            return {"toolResult": start}
        return None  # an image or a block of an unknown kind: not rebuilt


class ConverseStreamParser:
    """One streamed Converse response → chunks (implements ``StreamParser``).

    The first chunk emitted carries ``endpoint``, ``request_id`` and ``model``; the last one
    ``finish_reason``, ``usage``, ``cost``, ``content_filter`` and ``raw`` (see the module doc).
    """

    __slots__ = (
        "_blocks",
        "_calls",
        "_cost",
        "_done",
        "_finish",
        "_metadata",
        "_model",
        "_started",
        "_stop",
        "_structured",
        "_usage",
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
        structured_tool: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.request_id = request_id
        self._cost = cost
        self._model = model
        self._structured = structured_tool
        self._blocks: dict[int, _Block] = {}
        self._calls = 0
        self._started = False
        self._done = False
        self._stop: dict[str, Any] | None = None
        self._metadata: dict[str, Any] | None = None
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None

    def feed(self, event: WireEvent) -> list[LLMStreamChunk]:
        """The chunks of one event (usually one, often none)."""
        kind = event.extra.get("message_type")
        if kind == "exception" or kind == "error":
            error = error_from_event(event, endpoint=self.endpoint, request_id=self.request_id)
            error.finish_reason = self._finish
            error.usage = self._usage
            raise error
        if self._done:
            return []
        try:
            obj = json_loads(event.data)
        except (ValueError, RecursionError):
            raise self._malformed(f"event is not valid JSON: {cut(event.data, _PREVIEW)!r}") from None
        if type(obj) is not dict:
            raise self._malformed(f"event is a JSON {type(obj).__name__}, not an object")
        name = event.event
        chunk: LLMStreamChunk | None
        if name == "contentBlockDelta":
            chunk = self._delta(obj)
        elif name == "contentBlockStart":
            chunk = self._block_start(obj)
        elif name == "messageStop":
            self._stop = obj
            self._finish = map_stop_reason(obj.get("stopReason"))
            chunk = self._final() if self._metadata is not None else None
        elif name == "metadata":
            self._metadata = obj
            self._usage = usage_from_converse(obj.get("usage"))
            chunk = self._final() if self._stop is not None else None
        else:  # messageStart, contentBlockStop, and event types this parser does not know
            return []
        if chunk is None:
            return []
        if not self._started:
            self._started = True
            chunk.endpoint = self.endpoint
            chunk.request_id = self.request_id
            chunk.model = self._model
        return [chunk]

    def _index(self, obj: dict[str, Any]) -> int:
        index = obj.get("contentBlockIndex", 0)
        if type(index) is not int or index < 0:
            raise self._malformed("contentBlockIndex is not a non-negative integer")
        return index

    def _block_start(self, obj: dict[str, Any]) -> LLMStreamChunk | None:
        index = self._index(obj)
        start = obj.get("start")
        if type(start) is not dict:
            raise self._malformed("contentBlockStart.start is not an object")
        use = start.get("toolUse")
        if type(use) is dict:
            name = use.get("name")
            if type(name) is not str or not name:
                raise self._malformed("contentBlockStart.start.toolUse has no name")
            call_id = use.get("toolUseId")
            if call_id is not None and type(call_id) is not str:
                raise self._malformed("contentBlockStart.start.toolUse.toolUseId is not a string")
            if use.get("type") == "server_tool_use":
                self._blocks[index] = _Block(_SERVER_TOOL, use)
                return None
            if name == self._structured:
                self._blocks[index] = _Block(_STRUCTURED, use)
                return None
            call = self._calls
            self._calls += 1
            self._blocks[index] = _Block(_TOOL, use, call)
            return LLMStreamChunk(tool_calls=[ToolCallDelta(call, call_id or f"call_{call}", name)])
        result = start.get("toolResult")
        self._blocks[index] = _Block(_RESULT, result) if type(result) is dict else _Block(_OTHER, start)
        return None

    def _delta(self, obj: dict[str, Any]) -> LLMStreamChunk | None:
        index = self._index(obj)
        delta = obj.get("delta")
        if type(delta) is not dict:
            raise self._malformed("contentBlockDelta.delta is not an object")
        block = self._blocks.get(index)
        text = delta.get("text")
        if text is not None:
            if type(text) is not str:
                raise self._malformed("delta.text is not a string")
            if block is None:
                block = self._blocks[index] = _Block(_TEXT)
            block.pieces.append(text)
            return LLMStreamChunk(text=text) if text else None
        use = delta.get("toolUse")
        if use is not None:
            fragment = use.get("input") if type(use) is dict else None
            if type(fragment) is not str:
                raise self._malformed("delta.toolUse.input is not a string")
            if block is None or block.kind not in (_TOOL, _SERVER_TOOL, _STRUCTURED):
                raise self._malformed(f"a toolUse delta for block {index}, which did not start as a tool use")
            block.pieces.append(fragment)
            if not fragment or block.kind == _SERVER_TOOL:
                return None
            if block.kind == _STRUCTURED:
                return LLMStreamChunk(text=fragment)
            return LLMStreamChunk(tool_calls=[ToolCallDelta(block.call, arguments=fragment)])
        reasoning = delta.get("reasoningContent")
        if reasoning is not None:
            return self._reasoning(index, block, reasoning)
        if block is None:
            block = self._blocks[index] = _Block(_OTHER)
        result = delta.get("toolResult")
        if result is not None and block.kind == _RESULT:
            block.pieces.append(result if type(result) is list else [result])
        citation = delta.get("citation")
        if citation is not None and block.kind == _TEXT:
            if block.citations is None:
                block.citations = []
            block.citations.append(citation)
        return None  # server tool results, citations, images: on raw only

    def _reasoning(self, index: int, block: _Block | None, reasoning: Any) -> LLMStreamChunk | None:
        if type(reasoning) is not dict:
            raise self._malformed("delta.reasoningContent is not an object")
        if block is None:
            block = self._blocks[index] = _Block(_REASONING)
        text = reasoning.get("text")
        if text is not None:
            if type(text) is not str:
                raise self._malformed("delta.reasoningContent.text is not a string")
            block.pieces.append(text)
            return LLMStreamChunk(reasoning=text) if text else None
        signature = reasoning.get("signature")
        if signature is not None:
            if type(signature) is not str:
                raise self._malformed("delta.reasoningContent.signature is not a string")
            block.signature = (block.signature or "") + signature
            return None
        redacted = reasoning.get("redactedContent")
        if redacted is not None:
            try:
                piece = base64.b64decode(redacted, validate=True) if type(redacted) is str else None
            except (binascii.Error, ValueError):
                piece = None
            if piece is None:
                raise self._malformed("delta.reasoningContent.redactedContent is not base64")
            if block.redacted is None:
                block.redacted = []
            block.redacted.append(piece)
        return None

    def _malformed(self, what: str) -> ResponseParsingError:
        return ResponseParsingError(
            f"stream event is malformed: {what}", endpoint=self.endpoint, request_id=self.request_id
        )

    def _final(self) -> LLMStreamChunk:
        self._done = True
        stop = self._stop or {}
        metadata = self._metadata or {}
        finish = self._finish
        blocks = [self._blocks[i].to_wire() for i in sorted(self._blocks)]
        if (
            finish == "tool_calls"
            and self._calls == 0
            and any(b.kind == _STRUCTURED for b in self._blocks.values())
        ):
            finish = "stop"  # the forced tool was the answer
        raw: dict[str, Any] = {
            "output": {"message": {"role": "assistant", "content": [b for b in blocks if b is not None]}},
            "stopReason": stop.get("stopReason"),
        }
        for key in ("usage", "metrics", "trace", "performanceConfig", "serviceTier"):
            if key in metadata:
                raw[key] = metadata[key]
        if "additionalModelResponseFields" in stop:
            raw["additionalModelResponseFields"] = stop["additionalModelResponseFields"]
        usage = self._usage
        return LLMStreamChunk(
            finish_reason=finish,
            usage=usage,
            cost=self._cost(usage) if self._cost is not None and usage is not None else None,
            content_filter=content_filter_of(stop.get("stopReason"), metadata.get("trace")),
            model=self._model,
            raw=raw,
        )

    def close(self) -> list[LLMStreamChunk]:
        """End of input: complete once ``messageStop`` and ``metadata`` arrived (the final chunk
        went out with the later of them); otherwise :class:`StreamInterruptedError`."""
        if self._done:
            return []
        missing = " and ".join(
            name for name, seen in (("messageStop", self._stop), ("metadata", self._metadata)) if seen is None
        )
        raise StreamInterruptedError(
            f"the stream ended before its {missing} event",
            endpoint=self.endpoint,
            request_id=self.request_id,
            hint="the connection was cut or the server stopped early; retry the call",
        )
