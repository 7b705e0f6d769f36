"""``streamGenerateContent?alt=sse`` events → :class:`LLMStreamChunk`: :class:`GeminiStreamParser`.

Wire facts this parser relies on (``tests/llms/wire/gemini``):

* every event's data is a whole ``GenerateContentResponse`` holding the *new* parts only (text
  deltas, thought summaries with ``"thought": true``, function calls delivered whole), and the
  usage so far (cumulative: the last one counts);
* ``finishReason`` arrives on the last event, with the final usage; there is no ``[DONE]``
  marker, so a stream that ends without a finish reason was cut short
  (:class:`StreamInterruptedError`), never a success;
* a ``thoughtSignature`` may arrive on any part, even an empty text part at the end;
* Vertex AI may stream one function call's arguments in pieces
  (``functionCallingConfig.streamFunctionCallArguments``): ``functionCall.partialArgs``
  (``jsonPath`` + a value, strings continued while ``willContinue``) over several events,
  ``willContinue`` on the call until its last piece;
* a blocked prompt is an event with ``promptFeedback.blockReason`` and no candidates
  (:class:`ContentFilterError`); an ``{"error": {...}}`` event is a failure mid-stream.

Chunks: text → ``text``, thoughts → ``reasoning``, each function call → a
:class:`ToolCallDelta` (name first; a streamed call's arguments when its last piece arrives, as
one JSON string). The final chunk (emitted when the stream ends) carries ``finish_reason``,
``usage``, ``cost``, the safety annotations and, as ``raw``, the whole answer assembled from the
events (parts merged, signatures kept): :func:`~.parsing.model_content` reads it.
"""

from __future__ import annotations

import importlib
import itertools
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from ....interfaces.errors import LLMError, ResponseParsingError, StreamInterruptedError
from ....interfaces.llm_interfaces import WireEvent
from ....interfaces.types import LLMStreamChunk, ToolCallDelta, Usage
from ...base.redact import cut
from ...base.wire_values import optional_str
from .errors import blocked_prompt_error, error_from_body
from .parsing import CostFn, args_json, call_id, content_filter_of, map_finish_reason, usage_from_wire

__all__ = ["GeminiStreamParser"]

_PREVIEW = 80
_TEXT_KEYS = frozenset({"text", "thought", "thoughtSignature"})
_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def _pick_json_loads() -> Callable[[str], Any]:
    try:
        module = importlib.import_module("orjson")
    except ImportError:
        return json.loads
    loads: Callable[[str], Any] = module.loads
    return loads


#: ``orjson.loads`` when orjson is installed, else ``json.loads`` (both raise ValueError).
json_loads = _pick_json_loads()


class _StreamedCall:
    """A function call whose arguments arrive in pieces (``partialArgs``)."""

    __slots__ = ("args", "id", "index", "name", "open_path", "part")

    def __init__(self, index: int, name: str, given_id: str | None, part: dict[str, Any]) -> None:
        self.index = index
        self.name = name
        self.id = given_id
        self.args: dict[str, Any] = {}
        self.open_path: str | None = None  # a string value still arriving
        self.part = part


class GeminiStreamParser:
    """One streamed ``generateContent`` response → chunks (implements ``StreamParser``).

    The first chunk emitted carries ``endpoint``, ``request_id`` and ``model``; the final one
    (emitted by :meth:`close`) ``finish_reason``, ``usage``, ``cost``, ``content_filter`` and
    ``raw``. ``request_id`` is public so a connector may set it before the first event.
    """

    __slots__ = (
        "_calls",
        "_candidate",
        "_cost",
        "_done",
        "_feedback",
        "_finish",
        "_model",
        "_open",
        "_parts",
        "_response_id",
        "_runs",
        "_started",
        "_text_at",
        "_text_thought",
        "_usage",
        "_usage_data",
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
        self._finish: Any = None
        self._usage: Usage | None = None
        self._usage_data: Any = None
        self._model: str | None = None
        self._response_id: str | None = None
        self._feedback: Any = None
        self._candidate: dict[str, Any] = {}  # the candidate's fields other than its content
        self._parts: list[dict[str, Any]] = []
        #: the text pieces of each text part of ``_parts`` (by index), joined by assembled()
        self._runs: dict[int, list[str]] = {}
        #: the index of the text part the next text part of the same kind joins (-1: none)
        self._text_at = -1
        self._text_thought = False
        self._calls = 0
        self._open: _StreamedCall | None = None

    # -- events --------------------------------------------------------------------------------

    def feed(self, event: WireEvent) -> list[LLMStreamChunk]:
        """The chunks of one SSE event (usually one)."""
        data = event.data
        if self._done or not data or data.isspace():
            return []
        try:
            obj = json_loads(data)
        except (ValueError, RecursionError):
            raise self._error(f"stream event is not valid JSON: {cut(event.data, _PREVIEW)!r}") from None
        if type(obj) is list and len(obj) == 1:
            obj = obj[0]
        if not isinstance(obj, dict):
            raise self._error(f"stream event is a JSON {type(obj).__name__}, not an object")
        if obj.get("error"):
            raise self._error_event(obj)
        self._read_metadata(obj)
        candidates = obj.get("candidates")
        if not candidates:
            feedback = obj.get("promptFeedback")
            if isinstance(feedback, Mapping) and feedback.get("blockReason"):
                error = blocked_prompt_error(feedback, obj)
                error.fill(endpoint=self.endpoint, request_id=self.request_id)
                raise error
            return []
        if type(candidates) is not list or not isinstance(candidates[0], Mapping):
            raise self._error("stream event is malformed: candidates is not a list of objects")
        chunk = self._candidate_chunk(candidates[0])
        if chunk is None:
            return []
        if not self._started:
            self._start(chunk)
        return [chunk]

    def _read_metadata(self, obj: Mapping[str, Any]) -> None:
        if self._model is None:
            self._model = optional_str(obj.get("modelVersion"))
        if self._response_id is None:
            self._response_id = optional_str(obj.get("responseId"))
        usage = obj.get("usageMetadata")
        if usage:
            self._usage_data = usage
            self._usage = usage_from_wire(usage)
        if obj.get("promptFeedback"):
            self._feedback = obj["promptFeedback"]

    def _candidate_chunk(self, candidate: Mapping[str, Any]) -> LLMStreamChunk | None:
        for key, value in candidate.items():
            if key not in ("content", "index", "finishReason") and (value or key not in self._candidate):
                self._candidate[key] = value
        if candidate.get("finishReason") is not None:
            self._finish = candidate["finishReason"]
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, Mapping) else None
        if not parts:
            return None
        if type(parts) is not list:
            raise self._error("stream event is malformed: content.parts is not a list")
        texts: list[str] = []
        thoughts: list[str] = []
        deltas: list[ToolCallDelta] = []
        for part in parts:
            if not isinstance(part, Mapping):
                raise self._error("stream event is malformed: a part is not an object")
            fn = part.get("functionCall")
            if fn is not None:
                deltas.extend(self._function_call(fn, part))
                continue
            text = part.get("text")
            if text is not None and not isinstance(text, str):
                raise self._error("stream event is malformed: a part's text is not a string")
            if text:
                (thoughts if part.get("thought") is True else texts).append(text)
            self._keep(part)
        if not (texts or thoughts or deltas):
            return None
        return LLMStreamChunk(
            text="".join(texts), reasoning="".join(thoughts) or None, tool_calls=deltas or None
        )

    def _keep(self, part: Mapping[str, Any]) -> None:
        """Add a part to the assembled answer: a text part joins the previous text part of the
        same kind (a signature arriving on it is kept there), any other part stays as it is.
        A run's pieces are joined once, by :meth:`assembled` (not ``+=`` per event: a long
        answer would copy its text again on every event)."""
        text = part.get("text")
        if text is None or not part.keys() <= _TEXT_KEYS:
            self._parts.append(dict(part))
            self._text_at = -1
            return
        thought = bool(part.get("thought"))
        signature = part.get("thoughtSignature")
        at = self._text_at
        if at >= 0 and self._text_thought == thought:
            self._runs[at].append(text)
            if signature is not None:
                self._parts[at]["thoughtSignature"] = signature
                self._text_at = -1  # a signed part takes no more text
            return
        self._parts.append(dict(part))
        at = len(self._parts) - 1
        self._runs[at] = [text]
        self._text_at = -1 if signature is not None else at
        self._text_thought = thought

    # -- function calls ------------------------------------------------------------------------

    def _function_call(self, fn: Any, part: Mapping[str, Any]) -> list[ToolCallDelta]:
        if not isinstance(fn, Mapping):
            raise self._error("stream event is malformed: functionCall is not an object")
        name = fn.get("name")
        streamed = self._open
        if streamed is not None and (not name or name == streamed.name) and "args" not in fn:
            return self._continue_call(streamed, fn, part)
        out = self._close_call() if streamed is not None else []
        if not isinstance(name, str) or not name:
            raise self._error("stream event is malformed: a functionCall has no name")
        index = self._calls
        self._calls += 1
        given = optional_str(fn.get("id"))
        if fn.get("willContinue") is True or fn.get("partialArgs"):
            kept = {k: v for k, v in part.items() if k != "functionCall"}
            kept["functionCall"] = {k: v for k, v in fn.items() if k not in ("partialArgs", "willContinue")}
            self._parts.append(kept)
            self._text_at = -1
            call = self._open = _StreamedCall(index, name, given, kept)
            out.append(ToolCallDelta(index, given, name, ""))
            self._apply(call, fn.get("partialArgs"))
            if fn.get("willContinue") is not True:
                out.extend(self._close_call())
            return out
        arguments = args_json(fn.get("args"), "functionCall.args")
        self._parts.append(dict(part))
        self._text_at = -1
        out.append(
            ToolCallDelta(index, given or call_id(self._response_id, index, name, arguments), name, arguments)
        )
        return out

    def _continue_call(
        self, call: _StreamedCall, fn: Mapping[str, Any], part: Mapping[str, Any]
    ) -> list[ToolCallDelta]:
        self._apply(call, fn.get("partialArgs"))
        signature = part.get("thoughtSignature")
        if signature:
            call.part["thoughtSignature"] = signature
        if fn.get("willContinue") is True:
            return []
        return self._close_call()

    def _apply(self, call: _StreamedCall, pieces: Any) -> None:
        if pieces is None:
            return
        if type(pieces) is not list:
            raise self._error("stream event is malformed: functionCall.partialArgs is not a list")
        for piece in pieces:
            if not isinstance(piece, Mapping) or not isinstance(piece.get("jsonPath"), str):
                raise self._error("stream event is malformed: a partialArgs entry has no jsonPath")
            path = piece["jsonPath"]
            if "stringValue" in piece:
                value: Any = piece["stringValue"]
                if not isinstance(value, str):
                    raise self._error("stream event is malformed: partialArgs stringValue is not a string")
                append = call.open_path == path
                call.open_path = path if piece.get("willContinue") is True else None
            else:
                append = False
                call.open_path = None
                if "numberValue" in piece:
                    value = piece["numberValue"]
                elif "boolValue" in piece:
                    value = piece["boolValue"]
                else:
                    value = None  # nullValue
            self._set(call.args, path, value, append)

    def _set(self, args: dict[str, Any], path: str, value: Any, append: bool) -> None:
        steps: list[str | int] = []
        rest = path[1:] if path.startswith("$") else path
        while rest:
            match = _PATH_STEP.match(rest)
            if match is None:
                raise self._error("stream event is malformed: a partialArgs jsonPath cannot be read")
            key, number, quoted, double = match.groups()
            steps.append(int(number) if number is not None else (key or quoted or double or ""))
            rest = rest[match.end() :]
        if not steps or not isinstance(steps[0], str):
            raise self._error("stream event is malformed: a partialArgs jsonPath does not name an argument")
        node: Any = args
        for step, following in itertools.pairwise(steps):
            node = _child(node, step, [] if isinstance(following, int) else {})
        last = steps[-1]
        if isinstance(node, list) and isinstance(last, int):
            while len(node) <= last:
                node.append(None)
            node[last] = node[last] + value if append and isinstance(node[last], str) else value
        elif isinstance(node, dict) and isinstance(last, str):
            node[last] = node[last] + value if append and isinstance(node.get(last), str) else value
        else:
            raise self._error("stream event is malformed: a partialArgs jsonPath does not fit the arguments")

    def _close_call(self) -> list[ToolCallDelta]:
        call, self._open = self._open, None
        if call is None:
            return []
        arguments = args_json(call.args)
        call.part["functionCall"]["args"] = call.args
        given = call.id
        return [
            ToolCallDelta(
                call.index,
                None if given else call_id(self._response_id, call.index, call.name, arguments),
                None,
                arguments,
            )
        ]

    # -- errors and the end --------------------------------------------------------------------

    def _error(self, message: str) -> ResponseParsingError:
        return ResponseParsingError(message, endpoint=self.endpoint, request_id=self.request_id)

    def _error_event(self, obj: Mapping[str, Any]) -> LLMError:
        """The typed error of an error event, keeping the finish reason and usage seen before."""
        error = error_from_body(None, obj, endpoint=self.endpoint, request_id=self.request_id)
        error.finish_reason = map_finish_reason(self._finish, has_calls=self._calls > 0)
        error.usage = self._usage
        return error

    def _start(self, chunk: LLMStreamChunk) -> None:
        self._started = True
        chunk.endpoint = self.endpoint
        chunk.request_id = self.request_id or self._response_id
        chunk.model = self._model

    def assembled(self) -> dict[str, Any]:
        """The answer so far as one ``GenerateContentResponse`` (parts merged)."""
        for at, pieces in self._runs.items():
            if len(pieces) > 1:
                self._parts[at]["text"] = "".join(pieces)
                self._runs[at] = [self._parts[at]["text"]]
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": self._parts}, **self._candidate}
        if self._finish is not None:
            candidate["finishReason"] = self._finish
        data: dict[str, Any] = {"candidates": [candidate]}
        if self._feedback is not None:
            data["promptFeedback"] = self._feedback
        if self._usage_data is not None:
            data["usageMetadata"] = self._usage_data
        if self._model is not None:
            data["modelVersion"] = self._model
        if self._response_id is not None:
            data["responseId"] = self._response_id
        return data

    def close(self) -> list[LLMStreamChunk]:
        """End of input: the final chunk when a finish reason arrived, else the stream was cut:
        :class:`StreamInterruptedError`."""
        if self._done:
            return []
        if self._finish is None:
            raise StreamInterruptedError(
                "the stream ended before its finish reason",
                endpoint=self.endpoint,
                request_id=self.request_id,
                hint="the connection was cut or the server stopped early; retry the call",
            )
        self._done = True
        out: list[LLMStreamChunk] = []
        pending = self._close_call()  # a streamed call the server never closed
        if pending:
            out.append(LLMStreamChunk(tool_calls=pending))
        raw = self.assembled()
        usage = self._usage
        final = LLMStreamChunk(
            finish_reason=map_finish_reason(self._finish, has_calls=self._calls > 0),
            usage=usage,
            cost=self._cost(usage) if self._cost is not None and usage is not None else None,
            content_filter=content_filter_of(raw, raw["candidates"][0]),
            model=self._model,
            raw=raw,
        )
        out.append(final)
        if not self._started:
            self._start(out[0])
        return out


def _child(node: Any, step: str | int, empty: Any) -> Any:
    """The container at ``step`` of ``node`` (made ``empty`` when missing)."""
    if isinstance(node, dict) and isinstance(step, str):
        if not isinstance(node.get(step), dict | list):
            node[step] = empty
        return node[step]
    if isinstance(node, list) and isinstance(step, int):
        while len(node) <= step:
            node.append(None)
        if not isinstance(node[step], dict | list):
            node[step] = empty
        return node[step]
    raise ResponseParsingError("stream event is malformed: a partialArgs jsonPath does not fit the arguments")
