"""A ``GenerateContentResponse`` → :class:`LLMResponse`: text, thoughts, function calls, finish
reasons, safety verdicts, usage; and :func:`model_content`, the model's turn as it is sent back.

Wire facts (``tests/llms/wire/gemini``, Google's ``GenerateContentResponse``):

* the answer is ``candidates[0].content.parts``: ``{"text"}`` (``"thought": true`` marks a
  thought summary), ``{"functionCall": {"name", "args", "id"?}}`` (whole, ``args`` an object), and
  any part may carry a ``thoughtSignature`` (Gemini 3 requires the signatures of a turn's
  function calls back on the next request: see :func:`model_content`);
* ``finishReason`` is ``STOP`` also when the model calls functions (reported here as
  ``"tool_calls"``); the table is :data:`FINISH_REASONS`;
* a prompt the safety filters blocked has no candidates and ``promptFeedback.blockReason``:
  :class:`~core.llms.interfaces.errors.ContentFilterError`;
* ``usageMetadata``: ``promptTokenCount`` (cached tokens included), ``toolUsePromptTokenCount``,
  ``candidatesTokenCount``, ``thoughtsTokenCount`` (billed as output, outside
  ``candidatesTokenCount``), ``cachedContentTokenCount``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from ....interfaces.errors import InvalidInputError, ResponseParsingError
from ....interfaces.messages import FunctionCall, ToolCall
from ....interfaces.types import FinishReason, LLMResponse, Usage
from ...base.redact import loggable
from ...base.structured_output import parse_structured
from ...base.wire_values import optional_str, token_count
from .errors import blocked_prompt_error

__all__ = [
    "FILTER_REASONS",
    "FINISH_REASONS",
    "CostFn",
    "args_json",
    "call_id",
    "content_filter_of",
    "map_finish_reason",
    "model_content",
    "parse_generate_content",
    "usage_from_wire",
]

logger = logging.getLogger("core.llms.gemini")

#: Computes the USD cost of a call's usage (the model's ``cost`` method).
CostFn = Callable[[Usage | None], float | None]

#: Google finish reasons that mean a filter stopped the answer (``"content_filter"``).
FILTER_REASONS = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "LANGUAGE",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
    }
)
#: ``finishReason`` → the normalised value. An unknown reason (or ``OTHER``) is reported as
#: ``"stop"`` (logged once); a malformed or unexpected function call as ``"error"``.
FINISH_REASONS: Mapping[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    **dict.fromkeys(FILTER_REASONS, "content_filter"),
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
    "TOO_MANY_TOOL_CALLS": "error",
    "MISSING_THOUGHT_SIGNATURE": "error",
}
_QUIET_REASONS = frozenset({"OTHER", "FINISH_REASON_UNSPECIFIED", "NO_IMAGE", "IMAGE_OTHER"})
_unknown_logged: set[str] = set()
_MAX_LOGGED = 64


def map_finish_reason(reason: Any, *, has_calls: bool = False) -> FinishReason | None:
    """Google ``finishReason`` → the normalised value (``STOP`` with function calls →
    ``"tool_calls"``). None when absent."""
    if reason is None:
        return None
    mapped = FINISH_REASONS.get(reason) if isinstance(reason, str) else None
    if mapped is None:
        shown = reason if isinstance(reason, str) else f"<JSON {type(reason).__name__}>"
        if (
            shown not in _QUIET_REASONS
            and shown not in _unknown_logged
            and len(_unknown_logged) < _MAX_LOGGED
        ):
            _unknown_logged.add(shown)
            logger.warning("unknown finishReason %s reported as 'stop'", loggable(shown))
        mapped = "stop"
    if mapped == "stop" and has_calls:
        return "tool_calls"
    return mapped


def usage_from_wire(meta: Any) -> Usage | None:
    """``usageMetadata`` → :class:`Usage`: input = prompt (cached included) + tool-use prompt;
    output = candidates + thoughts (Google bills thoughts as output); reasoning = thoughts;
    cached input = ``cachedContentTokenCount``. Counts that are not non-negative integers read
    as 0."""
    if not isinstance(meta, Mapping):
        return None
    thoughts = token_count(meta.get("thoughtsTokenCount"))
    return Usage(
        input_tokens=token_count(meta.get("promptTokenCount"))
        + token_count(meta.get("toolUsePromptTokenCount")),
        output_tokens=token_count(meta.get("candidatesTokenCount")) + thoughts,
        cached_input_tokens=token_count(meta.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
    )


def args_json(args: Any, where: str = "functionCall.args") -> str:
    """A function call's ``args`` object as the JSON string of a :class:`ToolCall` (compact);
    ``"{}"`` when absent."""
    if args is None:
        return "{}"
    if not isinstance(args, Mapping):
        raise ResponseParsingError(f"{where} is a JSON {type(args).__name__}, not an object")
    try:
        return json.dumps(args, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        raise ResponseParsingError(f"{where} cannot be serialised") from None


def call_id(response_id: str | None, index: int, name: str, arguments: str) -> str:
    """The id of a function call the server sent without one: stable for the same response,
    position, name and arguments (a stream and a whole answer get the same ids), so a tool
    message can name the call it answers."""
    digest = hashlib.sha256(f"{response_id or ''}\x00{index}\x00{name}\x00{arguments}".encode()).hexdigest()
    return f"call_{digest[:24]}"


def _candidate(data: Any) -> Mapping[str, Any] | None:
    candidates = data.get("candidates") if isinstance(data, Mapping) else None
    if type(candidates) is list and candidates and isinstance(candidates[0], Mapping):
        return candidates[0]
    return None


def _parts(candidate: Mapping[str, Any], where: str) -> list[Any]:
    content = candidate.get("content")
    if content is None:
        return []
    if not isinstance(content, Mapping):
        raise ResponseParsingError(f"{where}.content is not an object")
    parts = content.get("parts")
    if parts is None:
        return []
    if type(parts) is not list:
        raise ResponseParsingError(f"{where}.content.parts is not a list")
    return parts


def _text(part: Mapping[str, Any], where: str) -> str:
    text = part.get("text")
    if text is None:
        return ""
    if not isinstance(text, str):
        raise ResponseParsingError(f"{where}.text is not a string")
    return text


def content_filter_of(data: Mapping[str, Any], candidate: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The safety annotations of an answer, as Google sent them: the candidate's
    ``safetyRatings``, the ``promptFeedback`` and, when a filter stopped the answer, its
    ``finishReason`` (and ``finishMessage``); None when there are none."""
    out: dict[str, Any] = {}
    feedback = data.get("promptFeedback")
    if isinstance(feedback, Mapping) and feedback:
        out["promptFeedback"] = feedback
    if candidate is not None:
        ratings = candidate.get("safetyRatings")
        if ratings:
            out["safetyRatings"] = ratings
        reason = candidate.get("finishReason")
        if reason in FILTER_REASONS:
            out["finishReason"] = reason
            if isinstance(candidate.get("finishMessage"), str):
                out["finishMessage"] = candidate["finishMessage"]
    return out or None


def parse_generate_content(
    data: Any,
    *,
    provider: str,
    model: str,
    cost: CostFn | None = None,
    response_format: Any = None,
) -> LLMResponse:
    """A decoded ``GenerateContentResponse`` → :class:`LLMResponse` (candidate 0; the model
    classes ask for one). Non-thought text is ``text``, thought summaries ``reasoning``,
    function calls ``tool_calls`` (ids made by :func:`call_id` when the server sent none); the
    body is kept as ``raw`` (grounding and citation metadata included) and the safety verdicts
    as ``content_filter``. A blocked prompt raises :class:`ContentFilterError`."""
    if not isinstance(data, Mapping):
        raise ResponseParsingError(f"the response is a JSON {type(data).__name__}, not an object")
    candidate = _candidate(data)
    if candidate is None:
        feedback = data.get("promptFeedback")
        if isinstance(feedback, Mapping) and feedback.get("blockReason"):
            raise blocked_prompt_error(feedback, data)
        raise ResponseParsingError("the response has no candidates", body=dict(data))
    response_id = optional_str(data.get("responseId"))
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[ToolCall] = []
    for i, part in enumerate(_parts(candidate, "candidates[0]")):
        where = f"candidates[0].content.parts[{i}]"
        if not isinstance(part, Mapping):
            raise ResponseParsingError(f"{where} is not an object")
        fn = part.get("functionCall")
        if fn is not None:
            calls.append(_tool_call(fn, where, response_id, len(calls)))
        elif part.get("thought") is True:
            thoughts.append(_text(part, where))
        else:
            texts.append(_text(part, where))
    text = "".join(texts)
    finish = map_finish_reason(candidate.get("finishReason"), has_calls=bool(calls))
    usage = usage_from_wire(data.get("usageMetadata"))
    parsed = None
    if response_format is not None and finish != "content_filter" and not calls:
        parsed = parse_structured(text, response_format, provider=provider)
    return LLMResponse(
        text=text,
        model=optional_str(data.get("modelVersion")) or model,
        provider=provider,
        finish_reason=finish,
        tool_calls=calls,
        usage=usage,
        cost=cost(usage) if cost is not None else None,
        parsed=parsed,
        reasoning="".join(thoughts) or None,
        content_filter=content_filter_of(data, candidate),
        raw=data,
    )


def _tool_call(fn: Any, where: str, response_id: str | None, index: int) -> ToolCall:
    if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str) or not fn["name"]:
        raise ResponseParsingError(f"{where}.functionCall has no name")
    arguments = args_json(fn.get("args"), f"{where}.functionCall.args")
    given = optional_str(fn.get("id"))
    return ToolCall(
        given or call_id(response_id, index, fn["name"], arguments), FunctionCall(fn["name"], arguments)
    )


def model_content(response: Any) -> dict[str, Any]:
    """The model's turn of an answer, to append to the conversation of the next turn:
    ``{"role": "model", "parts": [...]}`` with every part as Google sent it — thought parts and
    ``thoughtSignature`` included, which Gemini 3 requires back with the function calls they
    led to — and each function call's ``id`` (the :class:`ToolCall` id) so tool messages can
    answer it::

        answer = await model.get_answer(messages, tools=[...])
        messages.append(model_content(answer))
        messages.append(Message.tool(answer.tool_calls[0].id, "22 C"))

    ``response``: an :class:`~core.llms.interfaces.types.LLMResponse` (non-streamed, or
    accumulated from a stream), a stream's final chunk, or the decoded response itself.
    :class:`InvalidInputError` when it carries no candidate (a stream chunk other than the last)."""
    raw = response if isinstance(response, Mapping) else getattr(response, "raw", None)
    candidate = _candidate(raw)
    if candidate is None or not isinstance(candidate.get("content"), Mapping):
        raise InvalidInputError(
            "this answer carries no Gemini content to send back",
            hint="pass the answer of a gemini/ or vertex/ model (for a stream: its last chunk, or the "
            "accumulated response)",
        )
    assert isinstance(raw, Mapping)
    response_id = optional_str(raw.get("responseId"))
    parts: list[dict[str, Any]] = []
    index = 0
    for part in _parts(candidate, "candidates[0]"):
        if not isinstance(part, Mapping):
            continue
        part = dict(part)
        fn = part.get("functionCall")
        if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
            if not fn.get("id"):
                arguments = args_json(fn.get("args"))
                part["functionCall"] = {**fn, "id": call_id(response_id, index, fn["name"], arguments)}
            index += 1
        parts.append(part)
    return {"role": "model", "parts": parts}
