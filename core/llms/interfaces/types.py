"""Responses, stream chunks and media results.

These are plain slotted dataclasses, not pydantic models: they are built on the hot path for
every response and every streamed chunk, from data the library itself has already checked, so
they are not validated again.

The media results (images, audio, video, embeddings) are defined in :mod:`.media` and served
from here on first access: a dataclass costs about half a millisecond to create, and a program
that only chats should not pay for eight it never uses on its cold start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from .messages import FunctionCall, ToolCall

if TYPE_CHECKING:
    from .media import (
        EmbeddingResponse,
        GeneratedImage,
        LLMAudioChunk,
        LLMAudioResponse,
        LLMImageChunk,
        LLMImageResponse,
        LLMVideoChunk,
        LLMVideoResponse,
        RerankResponse,
        RerankResult,
        Transcription,
        TranscriptionSegment,
        TranscriptionWord,
    )

__all__ = [
    "EmbeddingResponse",
    "FinishReason",
    "GeneratedImage",
    "LLMAudioChunk",
    "LLMAudioResponse",
    "LLMImageChunk",
    "LLMImageResponse",
    "LLMResponse",
    "LLMStreamChunk",
    "LLMVideoChunk",
    "LLMVideoResponse",
    "RerankResponse",
    "RerankResult",
    "StreamAccumulator",
    "ToolCallDelta",
    "Transcription",
    "TranscriptionSegment",
    "TranscriptionWord",
    "Usage",
]

#: Finish reasons are normalised to these values across providers.
FinishReason: TypeAlias = Literal["stop", "length", "tool_calls", "content_filter", "refusal", "error"]


@dataclass(slots=True)
class Usage:
    """Token counts of one call. ``cached_input_tokens`` and ``reasoning_tokens`` are parts of
    ``input_tokens`` and ``output_tokens`` respectively, as the providers report them.
    ``cache_write_input_tokens`` (also part of ``input_tokens``) are the prompt tokens written to
    the provider's prompt cache on this call (Anthropic's ``cache_creation_input_tokens``), billed
    at the cache-write price where the model has one."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    cache_write_input_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    # OpenAI spellings, for code moving over from the OpenAI SDK or LiteLLM.
    @property
    def prompt_tokens(self) -> int:
        return self.input_tokens

    @property
    def completion_tokens(self) -> int:
        return self.output_tokens


@dataclass(slots=True)
class LLMResponse:
    """A complete answer from a model."""

    text: str
    model: str
    provider: str
    finish_reason: FinishReason | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None
    #: cost in USD computed from the model's metadata prices, when usage is known.
    cost: float | None = None
    #: name of the endpoint that served the answer (scheme://host/path, no query, no secrets).
    endpoint: str | None = None
    request_id: str | None = None
    #: seconds from sending the request to the end of the answer / to the first byte.
    latency: float | None = None
    ttfb: float | None = None
    #: structured output decoded from the answer: a pydantic model instance or a dict.
    parsed: Any = None
    refusal: str | None = None
    reasoning: str | None = None
    #: provider content-filter annotations (Azure ``content_filter_results`` etc.), if sent.
    content_filter: dict[str, Any] | None = None
    #: the provider's decoded response body (for streams: the final chunk's ``raw``, when the
    #: dialect sends the whole response at the end, as the Responses API does; else None).
    raw: Any = None
    #: the region that served the answer, when the provider says (Azure's ``x-ms-region``).
    region: str | None = None
    #: True when the answer came from a cache (see :mod:`core.llms.batch`): no call was made and
    #: ``cost`` is 0.
    cached: bool = False
    #: the response headers of the call that served the answer (a case-insensitive mapping; the
    #: rate-limit headers ``x-ratelimit-*`` / ``anthropic-ratelimit-*`` are read from it), or None.
    headers: Any = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        text = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return (
            f"LLMResponse(text={text!r}, model={self.model!r}, finish_reason={self.finish_reason!r}, "
            f"tool_calls={len(self.tool_calls)}, endpoint={self.endpoint!r})"
        )


@dataclass(slots=True)
class ToolCallDelta:
    """A fragment of a streamed tool call. ``index`` identifies the call within the answer;
    ``id`` and ``name`` arrive on the first fragment, ``arguments`` fragments concatenate."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(slots=True)
class LLMStreamChunk:
    """One streamed piece of an answer.

    Most chunks carry only ``text``. The last one carries ``finish_reason`` and, when the provider
    reports it, ``usage`` and ``cost``; ``endpoint`` and ``request_id`` are set on the first chunk.
    ``raw``: on the last chunk, the whole response when the provider ends its stream with one (the
    Responses API's completed response, whose output items a next turn may send back).
    """

    text: str = ""
    tool_calls: list[ToolCallDelta] | None = None
    finish_reason: FinishReason | None = None
    usage: Usage | None = None
    cost: float | None = None
    refusal: str | None = None
    reasoning: str | None = None
    content_filter: dict[str, Any] | None = None
    endpoint: str | None = None
    request_id: str | None = None
    model: str | None = None
    raw: Any = None


class StreamAccumulator:
    """Folds stream chunks into the text, tool calls and final fields of a whole answer.

    Used to build ``StreamInterruptedError.partial_text`` and to turn a stream into an
    :class:`LLMResponse` (``get_answer(stream=True)`` style helpers, the simulator tests).
    """

    __slots__ = (
        "_args",
        "_ids",
        "_names",
        "_reasoning",
        "_refusal",
        "_text",
        "content_filter",
        "cost",
        "endpoint",
        "finish_reason",
        "model",
        "raw",
        "request_id",
        "usage",
    )

    def __init__(self) -> None:
        self._text: list[str] = []
        self._refusal: list[str] = []
        self._reasoning: list[str] = []
        self._ids: dict[int, str] = {}
        self._names: dict[int, str] = {}
        self._args: dict[int, list[str]] = {}
        self.finish_reason: FinishReason | None = None
        self.usage: Usage | None = None
        self.cost: float | None = None
        self.endpoint: str | None = None
        self.request_id: str | None = None
        self.model: str | None = None
        self.content_filter: dict[str, Any] | None = None
        self.raw: Any = None

    def add(self, chunk: LLMStreamChunk) -> None:
        if chunk.text:
            self._text.append(chunk.text)
        if chunk.refusal:
            self._refusal.append(chunk.refusal)
        if chunk.reasoning:
            self._reasoning.append(chunk.reasoning)
        if chunk.tool_calls:
            for d in chunk.tool_calls:
                if d.id:
                    self._ids[d.index] = d.id
                if d.name:
                    self._names[d.index] = d.name
                self._args.setdefault(d.index, []).append(d.arguments)
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.cost is not None:
            self.cost = chunk.cost
        if chunk.endpoint is not None:
            self.endpoint = chunk.endpoint
        if chunk.request_id is not None:
            self.request_id = chunk.request_id
        if chunk.model is not None:
            self.model = chunk.model
        if chunk.content_filter is not None:
            self.content_filter = chunk.content_filter
        if chunk.raw is not None:
            self.raw = chunk.raw

    @property
    def text(self) -> str:
        return "".join(self._text)

    @property
    def tool_calls(self) -> list[ToolCall]:
        indexes = sorted(set(self._ids) | set(self._names) | set(self._args))
        return [
            ToolCall(
                self._ids.get(i, f"call_{i}"),
                FunctionCall(self._names.get(i, ""), "".join(self._args.get(i, ()))),
            )
            for i in indexes
        ]

    def to_response(self, *, model: str, provider: str) -> LLMResponse:
        return LLMResponse(
            text=self.text,
            model=self.model or model,
            provider=provider,
            finish_reason=self.finish_reason,
            tool_calls=self.tool_calls,
            usage=self.usage,
            cost=self.cost,
            endpoint=self.endpoint,
            request_id=self.request_id,
            refusal="".join(self._refusal) or None,
            reasoning="".join(self._reasoning) or None,
            content_filter=self.content_filter,
            raw=self.raw,
        )


#: names served from :mod:`.media` on first access.
MEDIA_NAMES: frozenset[str] = frozenset(
    {
        "EmbeddingResponse",
        "GeneratedImage",
        "LLMAudioChunk",
        "LLMAudioResponse",
        "LLMImageChunk",
        "LLMImageResponse",
        "LLMVideoChunk",
        "LLMVideoResponse",
        "RerankResponse",
        "RerankResult",
        "Transcription",
        "TranscriptionSegment",
        "TranscriptionWord",
    }
)


def __getattr__(name: str) -> Any:
    if name in MEDIA_NAMES:
        from . import media

        return getattr(media, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
