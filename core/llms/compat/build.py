"""Core results dressed as OpenAI's objects: answers, stream chunks, canned (mock) answers, and
LiteLLM's ``stream_chunk_builder``."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..interfaces.errors import InvalidInputError
from ..interfaces.types import LLMResponse, LLMStreamChunk
from ..interfaces.types import Usage as CoreUsage
from .objects import (
    ChatCompletionDeltaToolCall,
    ChatCompletionMessageToolCall,
    Choices,
    CompletionTokensDetails,
    Delta,
    Function,
    Message,
    ModelResponse,
    ModelResponseStream,
    PromptTokensDetails,
    StreamingChoices,
    Usage,
    new_id,
)

__all__ = [
    "StreamConverter",
    "mock_chunks",
    "mock_response",
    "model_response",
    "stream_chunk_builder",
    "usage_of",
]

#: core finish reasons -> OpenAI's (a refusal ends with "stop"; its text is ``message.refusal``).
_FINISH: dict[str | None, str] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "refusal": "stop",
    "error": "error",
    None: "stop",
}


def usage_of(usage: CoreUsage | None) -> Usage:
    """Core token counts as OpenAI's ``usage`` (zeros when the provider reported none)."""
    if usage is None:
        return Usage(0, 0, 0)
    return Usage(
        usage.input_tokens,
        usage.output_tokens,
        usage.input_tokens + usage.output_tokens,
        PromptTokensDetails(usage.cached_input_tokens),
        CompletionTokensDetails(usage.reasoning_tokens),
    )


def _add_usage(total: Usage, more: Usage) -> None:
    total.prompt_tokens += more.prompt_tokens
    total.completion_tokens += more.completion_tokens
    total.total_tokens += more.total_tokens
    total.prompt_tokens_details.cached_tokens = (total.prompt_tokens_details.cached_tokens or 0) + (
        more.prompt_tokens_details.cached_tokens or 0
    )
    total.completion_tokens_details.reasoning_tokens = (
        total.completion_tokens_details.reasoning_tokens or 0
    ) + (more.completion_tokens_details.reasoning_tokens or 0)


def _message(answer: LLMResponse) -> Message:
    calls = answer.tool_calls
    tool_calls = (
        [ChatCompletionMessageToolCall(Function(c.function.arguments, c.function.name), c.id) for c in calls]
        if calls
        else None
    )
    text = answer.text
    return Message(
        text if text or not calls else None,
        "assistant",
        tool_calls,
        None,
        answer.reasoning,
        answer.refusal,
    )


def model_response(
    answer: LLMResponse, qualified: str | None, more: Sequence[LLMResponse] = ()
) -> ModelResponse:
    """``answer`` (and, for ``n > 1``, the other answers as further choices) as a chat
    completion. With several answers, ``usage`` and the cost are their sums. ``qualified``: the
    core name of the model called (None: the one the answer names, e.g. after a fallback)."""
    choices = [Choices(_FINISH.get(answer.finish_reason, "stop"), 0, _message(answer))]
    usage = usage_of(answer.usage)
    cost = answer.cost
    for i, other in enumerate(more, 1):
        choices.append(Choices(_FINISH.get(other.finish_reason, "stop"), i, _message(other)))
        _add_usage(usage, usage_of(other.usage))
        cost = None if cost is None or other.cost is None else cost + other.cost
    response = ModelResponse(
        new_id(),
        choices,
        int(time.time()),
        answer.model,
        "chat.completion",
        None,
        usage,
    )
    response._hidden_params = {
        "response_cost": cost,
        "custom_llm_provider": answer.provider,
        "model": qualified or f"{answer.provider}/{answer.model}",
        "api_base": answer.endpoint,
        "request_id": answer.request_id,
        "llm_response": answer,
    }
    if answer.latency is not None:
        response._response_ms = answer.latency * 1000.0
    return response


class StreamConverter:
    """Turns the core chunks of one stream into OpenAI chunks (one id and ``created`` for all;
    ``role`` on the first). Chunks that carry nothing for the caller (only an endpoint, only
    usage) give None; :meth:`finish` says what the stream ended with."""

    __slots__ = ("cost", "created", "first", "ident", "model", "provider", "qualified", "usage")

    def __init__(self, model: str, qualified: str | None, provider: str | None) -> None:
        self.ident = new_id()
        self.created = int(time.time())
        self.model = model
        self.qualified = qualified
        self.provider = provider
        self.first = True
        self.usage: CoreUsage | None = None
        self.cost: float | None = None

    def convert(self, chunk: LLMStreamChunk) -> ModelResponseStream | None:
        """The OpenAI chunk for ``chunk``, or None when it carries nothing to show."""
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.cost is not None:
            self.cost = chunk.cost
        if chunk.model is not None:
            self.model = chunk.model
        text, calls, reasoning, finish = chunk.text, chunk.tool_calls, chunk.reasoning, chunk.finish_reason
        if not (text or calls or reasoning or finish or chunk.refusal):
            return None
        delta = Delta(
            text or None,
            "assistant" if self.first else None,
            [
                ChatCompletionDeltaToolCall(
                    d.index, d.id, Function(d.arguments, d.name), "function" if d.id else None
                )
                for d in calls
            ]
            if calls
            else None,
            None,
            chunk.refusal,
            reasoning,
        )
        self.first = False
        out = ModelResponseStream(
            self.ident,
            [StreamingChoices(_FINISH.get(finish, "stop") if finish else None, 0, delta)],
            self.created,
            self.model,
        )
        return out

    def hide_totals(self, chunk: ModelResponseStream) -> None:
        """Put the stream's usage and cost in the last chunk's ``_hidden_params`` (for
        :func:`stream_chunk_builder` and ``completion_cost``)."""
        chunk._hidden_params = {
            "usage": usage_of(self.usage) if self.usage is not None else None,
            "response_cost": self.cost,
            "custom_llm_provider": self.provider,
            "model": self.qualified,
        }

    def usage_chunk(self) -> ModelResponseStream:
        """The last chunk of ``stream_options={"include_usage": True}``: ``usage`` set, one
        choice with an empty delta (so ``chunk.choices[0].delta.content`` reads None)."""
        chunk = ModelResponseStream(
            self.ident,
            [StreamingChoices(None, 0, Delta())],
            self.created,
            self.model,
            usage=usage_of(self.usage),
        )
        self.hide_totals(chunk)
        return chunk


def _item(obj: Any, key: str) -> Any:
    """``obj[key]`` of an object or a dict; None when missing."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    getter = getattr(obj, "get", None)
    if getter is not None:
        return getter(key)
    return getattr(obj, key, None)


def stream_chunk_builder(chunks: Iterable[Any], messages: Sequence[Any] | None = None) -> ModelResponse:
    """The whole chat completion from its stream chunks (objects or their dicts): text,
    reasoning and tool calls joined, the last finish reason, the usage of the stream (from the
    usage chunk, or kept in the last chunk), else estimated (characters / 4, ``messages``
    giving the prompt)."""
    items = list(chunks)
    if not items:
        raise InvalidInputError("stream_chunk_builder needs at least one chunk")
    text: list[str] = []
    reasoning: list[str] = []
    refusal: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    finish: str | None = None
    usage: Any = None
    cost: Any = None
    qualified: Any = None
    provider: Any = None
    for chunk in items:
        usage = _item(chunk, "usage") or usage
        hidden = getattr(chunk, "_hidden_params", None) or {}
        if usage is None and hidden.get("usage") is not None:
            usage = hidden["usage"]
        cost = hidden.get("response_cost", cost)
        qualified = hidden.get("model", qualified)
        provider = hidden.get("custom_llm_provider", provider)
        for choice in _item(chunk, "choices") or ():
            delta = _item(choice, "delta") or {}
            text.append(_item(delta, "content") or "")
            reasoning.append(_item(delta, "reasoning_content") or "")
            refusal.append(_item(delta, "refusal") or "")
            for piece in _item(delta, "tool_calls") or ():
                index = _item(piece, "index") or 0
                call = calls.setdefault(index, {"id": None, "name": "", "arguments": ""})
                call["id"] = call["id"] or _item(piece, "id")
                function = _item(piece, "function") or {}
                call["name"] += _item(function, "name") or ""
                call["arguments"] += _item(function, "arguments") or ""
            finish = _item(choice, "finish_reason") or finish
    content = "".join(text)
    tool_calls = [
        ChatCompletionMessageToolCall(Function(c["arguments"], c["name"]), c["id"] or f"call_{i}")
        for i, c in sorted(calls.items())
    ]
    if usage is None:
        prompt = sum(len(str(_item(m, "content") or "")) for m in messages or ()) // 4
        out = (len(content) + sum(len(c["arguments"]) for c in calls.values())) // 4
        usage = Usage(prompt, out)
    elif isinstance(usage, Mapping):
        usage = Usage(**usage)
    message = Message(
        content if content or not tool_calls else None,
        "assistant",
        tool_calls or None,
        None,
        "".join(reasoning) or None,
        "".join(refusal) or None,
    )
    first = items[0]
    response = ModelResponse(
        _item(first, "id"),
        [Choices(finish or "stop", 0, message)],
        _item(first, "created"),
        _item(first, "model"),
        usage=usage,
    )
    response._hidden_params = {"response_cost": cost, "model": qualified, "custom_llm_provider": provider}
    return response


# -- mock_response -----------------------------------------------------------------------------

#: LiteLLM's canned usage for a mocked answer.
_MOCK_USAGE = (10, 20)


def mock_response(
    model: str,
    content: str,
    *,
    n: int = 1,
    tool_calls: Sequence[Any] | None = None,
    cost: float | None = None,
    qualified: str | None = None,
) -> ModelResponse:
    """LiteLLM's ``mock_response=<text>``: a completion of ``content`` (``n`` choices; usage
    10 prompt + 20 completion tokens, as LiteLLM's), made without any call."""
    calls = _many_calls(tool_calls)
    choices = [
        Choices("tool_calls" if calls else "stop", i, Message(content, "assistant", calls)) for i in range(n)
    ]
    response = ModelResponse(new_id(), choices, int(time.time()), model, usage=Usage(*_MOCK_USAGE))
    response._hidden_params = {"response_cost": cost, "model": qualified, "custom_llm_provider": "mock"}
    return response


def _many_calls(tool_calls: Sequence[Any] | None) -> list[ChatCompletionMessageToolCall] | None:
    if not tool_calls:
        return None
    if isinstance(tool_calls, str | bytes | Mapping) or not isinstance(tool_calls, Sequence):
        raise InvalidInputError("mock_tool_calls must be a list of tool-call dicts")
    out = []
    for i, call in enumerate(tool_calls):
        if isinstance(call, ChatCompletionMessageToolCall):
            out.append(call)
        elif isinstance(call, Mapping):
            out.append(ChatCompletionMessageToolCall(**dict(call)))
        else:
            raise InvalidInputError(f"mock_tool_calls[{i}] must be a tool-call dict")
    return out


def mock_chunks(
    model: str, content: str, *, include_usage: bool, cost: float | None = None, qualified: str | None = None
) -> list[ModelResponseStream]:
    """The stream of a mocked answer: ``content`` in pieces of 4 characters (as LiteLLM's), the
    last with ``finish_reason="stop"``, then the usage chunk when asked for."""
    converter = StreamConverter(model, qualified or model, "mock")
    pieces = [content[i : i + 4] for i in range(0, len(content), 4)] or [""]
    out: list[ModelResponseStream] = []
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        chunk = converter.convert(LLMStreamChunk(text=piece, finish_reason="stop" if last else None))
        if chunk is not None:
            out.append(chunk)
    converter.usage = CoreUsage(*_MOCK_USAGE)
    converter.cost = cost
    if out:
        converter.hide_totals(out[-1])
    if include_usage:
        out.append(converter.usage_chunk())
    return out
