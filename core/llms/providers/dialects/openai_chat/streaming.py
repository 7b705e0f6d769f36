"""Chat Completions SSE events → :class:`LLMStreamChunk`: :class:`ChatStreamParser`.

Wire facts this parser relies on (see ``tests/llms/wire/openai``, ``azure`` and
``openai-compatible``):

* every event's data is one ``chat.completion.chunk`` JSON object, and the stream ends with
  ``data: [DONE]``; some OpenAI-compatible hosts (Groq) close after the finish reason and usage
  without it, which is complete too; a stream that ends before its finish reason was cut short
  and is never a success;
* text arrives in ``choices[0].delta.content``, refusals in ``delta.refusal``, tool calls as
  ``delta.tool_calls[]`` fragments keyed by ``index`` (id and name on the first fragment only);
* ``finish_reason`` arrives on its own chunk, and usage (``stream_options.include_usage``) on a
  later chunk whose ``choices`` is empty;
* Azure sends ``prompt_filter_results`` on a first chunk with no choices, and
  ``content_filter_results`` on each choice;
* an ``{"error": {...}}`` object (or an SSE ``event: error``) can arrive inside a 200 stream.

The parser therefore holds back ``finish_reason`` and usage and emits them, with the cost, on one
final chunk when ``[DONE]`` arrives. Only choice ``index`` 0 is read: the model classes never ask
for ``n > 1``; chunks of other choices are ignored (logged once per stream).
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from typing import Any

from ....interfaces.errors import LLMError, ResponseParsingError, StreamInterruptedError
from ....interfaces.llm_interfaces import WireEvent
from ....interfaces.types import FinishReason, LLMStreamChunk, ToolCallDelta, Usage
from ...base.redact import cut, loggable
from ...base.wire_values import optional_str
from .errors import error_from_body
from .parsing import CostFn, content_and_thinking, map_finish_reason, usage_from_wire

__all__ = ["ChatStreamParser", "json_loads"]

logger = logging.getLogger("core.llms.openai")

_DONE = "[DONE]"
#: a non-JSON event is quoted in the error up to this many characters (never through a word).
_PREVIEW = 80


def _pick_json_loads() -> Callable[[str], Any]:
    try:
        module = importlib.import_module("orjson")
    except ImportError:
        return json.loads
    loads: Callable[[str], Any] = module.loads
    return loads


#: ``orjson.loads`` when orjson is installed, else ``json.loads`` (both raise ValueError).
json_loads = _pick_json_loads()


class ChatStreamParser:
    """One streamed Chat Completions response → chunks (implements ``StreamParser``).

    The first chunk emitted carries ``endpoint``, ``request_id`` (when set) and ``model``; the
    final one (emitted on ``[DONE]``) carries ``finish_reason``, ``usage`` and ``cost``.
    ``request_id`` is a public attribute so a connector that knows the response headers can set
    it before the first event.
    """

    __slots__ = (
        "_cost",
        "_done",
        "_expect_usage",
        "_finish",
        "_ignored_choices",
        "_model",
        "_prompt_filter",
        "_refused",
        "_started",
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
        expect_usage: bool = True,
    ) -> None:
        self.endpoint = endpoint
        self._expect_usage = expect_usage
        self.request_id = request_id
        self._cost = cost
        self._done = False
        self._started = False
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None
        self._refused = False
        self._model: str | None = None
        self._prompt_filter: Any = None
        self._ignored_choices = False

    def feed(self, event: WireEvent) -> list[LLMStreamChunk]:
        """The chunks of one SSE event (usually one, often none)."""
        data = event.data
        if self._done:
            return []
        if data == _DONE:
            self._done = True
            return [self._final_chunk()]
        try:
            obj = json_loads(data)
        except (ValueError, RecursionError):
            raise ResponseParsingError(
                f"stream event is not valid JSON: {cut(data, _PREVIEW)!r}",
                endpoint=self.endpoint,
                request_id=self.request_id,
            ) from None
        if not isinstance(obj, dict):
            raise ResponseParsingError(
                f"stream event is a JSON {type(obj).__name__}, not an object",
                endpoint=self.endpoint,
                request_id=self.request_id,
            )
        if event.event == "error" or obj.get("error"):
            raise self._error_event(obj)
        if self._model is None:
            self._model = optional_str(obj.get("model"))
        usage = obj.get("usage")
        if usage:
            self._usage = usage_from_wire(usage)
        prompt_filter = obj.get("prompt_filter_results")
        if prompt_filter:
            self._prompt_filter = prompt_filter
        chunk: LLMStreamChunk | None = None
        choices = obj.get("choices")
        if choices:
            if not isinstance(choices, list):
                raise self._malformed("choices is not a list")
            for choice in choices:
                if not isinstance(choice, dict):
                    raise self._malformed("a choice is not an object")
                if choice.get("index", 0) == 0:
                    chunk = self._choice_chunk(choice)
                elif not self._ignored_choices:
                    self._ignored_choices = True
                    logger.warning(
                        "stream from %s has choice index %s: only choice 0 is read (n>1 is not supported)",
                        self.endpoint,
                        loggable(choice.get("index")),
                    )
        elif prompt_filter:
            chunk = LLMStreamChunk(content_filter={"prompt_filter_results": prompt_filter})
        if chunk is None:
            return []
        if not self._started:
            self._start(chunk)
        return [chunk]

    def _error_event(self, obj: dict[str, Any]) -> LLMError:
        """The typed error of an error event, keeping the finish reason and usage that arrived
        before it or on the same event (OpenRouter sends ``finish_reason: "error"`` with it)."""
        error = error_from_body(None, obj, endpoint=self.endpoint, request_id=self.request_id)
        usage = obj.get("usage")
        if usage:
            self._usage = usage_from_wire(usage)
        choices = obj.get("choices")
        if type(choices) is list and choices and type(choices[0]) is dict:
            reason = choices[0].get("finish_reason")
            if reason is not None and reason != "error":
                self._finish = map_finish_reason(reason)
        error.finish_reason = self._finish
        error.usage = self._usage
        return error

    def _choice_chunk(self, choice: dict[str, Any]) -> LLMStreamChunk | None:
        finish = choice.get("finish_reason")
        if finish is not None:
            self._finish = map_finish_reason(finish)
        delta = choice.get("delta")
        if not delta:
            # Azure: a chunk of annotations only (the finish chunk of a filtered completion, or
            # the asynchronous filter's verdicts): kept, so the categories that fired are known
            filters = choice.get("content_filter_results")
            return LLMStreamChunk(content_filter=self._filter_annotations(filters)) if filters else None
        if not isinstance(delta, dict):
            raise self._malformed("delta is not an object")
        content = delta.get("content")
        thinking = None
        if type(content) is list:  # Mistral's typed parts (text / thinking)
            content, thinking = content_and_thinking(
                content, "delta.content", endpoint=self.endpoint, request_id=self.request_id
            )
        text = self._text(content, "delta.content") or ""
        refusal = self._text(delta.get("refusal"), "delta.refusal")
        reasoning = (
            self._text(delta.get("reasoning_content"), "delta.reasoning_content")
            or self._text(delta.get("reasoning"), "delta.reasoning")
            or thinking
        )
        raw_calls = delta.get("tool_calls")
        filters = choice.get("content_filter_results")
        if not (text or refusal or reasoning or raw_calls or filters):
            return None
        tool_calls = None
        if raw_calls:
            if not isinstance(raw_calls, list):
                raise self._malformed("delta.tool_calls is not a list")
            tool_calls = [self._tool_call_delta(call) for call in raw_calls]
        if refusal:
            self._refused = True
        content_filter = self._filter_annotations(filters) if filters else None
        return LLMStreamChunk(
            text=text,
            tool_calls=tool_calls,
            refusal=refusal,
            reasoning=reasoning,
            content_filter=content_filter,
        )

    def _filter_annotations(self, filters: Any) -> dict[str, Any]:
        """A chunk's ``content_filter``: the choice's verdicts, and the prompt's seen before."""
        content_filter = {"content_filter_results": filters}
        if self._prompt_filter:
            content_filter["prompt_filter_results"] = self._prompt_filter
        return content_filter

    def _tool_call_delta(self, call: Any) -> ToolCallDelta:
        fn = call.get("function") if isinstance(call, dict) else None
        if fn is None:
            fn = {}
        index = call.get("index", 0) if isinstance(call, dict) else None
        if not isinstance(fn, dict) or type(index) is not int or index < 0:
            raise self._malformed("a delta.tool_calls entry is not {index, id, function: {name, arguments}}")
        return ToolCallDelta(
            index,
            self._text(call.get("id"), "delta.tool_calls[].id"),
            self._text(fn.get("name"), "delta.tool_calls[].function.name"),
            self._text(fn.get("arguments"), "delta.tool_calls[].function.arguments") or "",
        )

    def _text(self, value: Any, where: str) -> str | None:
        """A string field of a delta: None when null, absent or empty; malformed if not a string."""
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

    def _final_chunk(self) -> LLMStreamChunk:
        finish = self._finish
        if self._refused and finish in (None, "stop"):
            finish = "refusal"
        usage = self._usage
        chunk = LLMStreamChunk(
            finish_reason=finish,
            usage=usage,
            cost=self._cost(usage) if self._cost is not None and usage is not None else None,
            model=self._model,
        )
        if not self._started:
            self._start(chunk)
        return chunk

    def close(self) -> list[LLMStreamChunk]:
        """End of input. After ``[DONE]``: nothing more. Without it, the stream is still complete
        when a finish reason arrived (and usage, when it was asked for): several
        OpenAI-compatible hosts omit the marker; the final chunk is emitted now. Otherwise the
        stream was cut: :class:`StreamInterruptedError`."""
        if self._done:
            return []
        if self._finish is not None and (self._usage is not None or not self._expect_usage):
            self._done = True
            return [self._final_chunk()]
        raise StreamInterruptedError(
            "the stream ended before its [DONE] marker" + ("" if self._finish is None else " (and usage)"),
            endpoint=self.endpoint,
            request_id=self.request_id,
            hint="the connection was cut or the server stopped early; retry the call",
        )

