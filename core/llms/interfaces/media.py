"""Media results: generated images, audio and video, their stream chunks, and embeddings.

Plain slotted dataclasses like the chat responses in :mod:`.types`, which re-exports them; they
live apart so that ``import core.llms`` does not create them (each dataclass costs about half a
millisecond to build) until a program uses one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .types import Usage

__all__ = [
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
]


@dataclass(slots=True)
class GeneratedImage:
    """One generated image: bytes (decoded) or a URL the provider hosts."""

    data: bytes | None = None
    url: str | None = None
    media_type: str = "image/png"
    revised_prompt: str | None = None

    def __repr__(self) -> str:
        src = self.url or f"<{len(self.data or b'')} bytes>"
        return f"GeneratedImage({src!r}, media_type={self.media_type!r})"


@dataclass(slots=True)
class LLMImageResponse:
    images: list[GeneratedImage]
    model: str
    provider: str
    usage: Usage | None = None
    cost: float | None = None
    endpoint: str | None = None
    request_id: str | None = None
    latency: float | None = None


@dataclass(slots=True)
class LLMImageChunk:
    """A partial (progressively refined) image, or the final one when ``final`` is true (which
    carries the call's ``usage`` and ``cost`` when the provider reports them)."""

    image: GeneratedImage
    index: int = 0
    final: bool = False
    usage: Usage | None = None
    cost: float | None = None


@dataclass(slots=True)
class LLMAudioResponse:
    data: bytes
    media_type: str
    model: str
    provider: str
    transcript: str | None = None
    duration_seconds: float | None = None
    usage: Usage | None = None
    cost: float | None = None
    endpoint: str | None = None
    request_id: str | None = None

    def __repr__(self) -> str:
        return f"LLMAudioResponse(<{len(self.data)} bytes {self.media_type}>, model={self.model!r})"


@dataclass(slots=True)
class LLMAudioChunk:
    """A piece of audio as it arrives (playable in order); the last one has ``final`` set and
    carries the call's ``usage`` and ``cost`` when known."""

    data: bytes = b""
    transcript: str = ""
    final: bool = False
    usage: Usage | None = None
    cost: float | None = None


@dataclass(slots=True)
class LLMVideoResponse:
    model: str
    provider: str
    data: bytes | None = None
    url: str | None = None
    media_type: str = "video/mp4"
    duration_seconds: float | None = None
    cost: float | None = None
    endpoint: str | None = None
    request_id: str | None = None
    #: the provider's id of the generation job.
    job_id: str | None = None

    def __repr__(self) -> str:
        src = self.url or f"<{len(self.data or b'')} bytes>"
        return f"LLMVideoResponse({src!r}, model={self.model!r})"


@dataclass(slots=True)
class LLMVideoChunk:
    """Progress of a video generation job (0.0-1.0); ``data`` set on the final chunk."""

    progress: float = 0.0
    status: str = ""
    data: bytes | None = None
    final: bool = False
    job_id: str | None = None
    #: the whole result, on the final chunk.
    response: LLMVideoResponse | None = None


@dataclass(slots=True)
class EmbeddingResponse:
    vectors: list[list[float]]
    model: str
    provider: str
    usage: Usage | None = None
    cost: float | None = None
    endpoint: str | None = None
    request_id: str | None = None
    latency: float | None = None

    def __repr__(self) -> str:
        size = len(self.vectors[0]) if self.vectors else 0
        return f"EmbeddingResponse(<{len(self.vectors)} vectors of {size}>, model={self.model!r})"


@dataclass(slots=True)
class TranscriptionWord:
    """One word with its time span in seconds (when the model gives word timestamps)."""

    word: str
    start: float
    end: float


@dataclass(slots=True)
class TranscriptionSegment:
    """One segment of a transcript with its time span in seconds."""

    text: str
    start: float
    end: float
    id: int = 0


@dataclass(slots=True)
class Transcription:
    """Speech turned into text (``transcribe``) or translated into English text (``translate``).

    ``segments`` and ``words`` are filled when the model gives timestamps (whisper-1 with
    ``timestamps=True``); ``language`` and ``duration_seconds`` when the provider reports them."""

    text: str
    model: str
    provider: str
    language: str | None = None
    duration_seconds: float | None = None
    segments: list[TranscriptionSegment] = field(default_factory=list)
    words: list[TranscriptionWord] = field(default_factory=list)
    usage: Usage | None = None
    cost: float | None = None
    endpoint: str | None = None
    request_id: str | None = None
    latency: float | None = None

    def __repr__(self) -> str:
        text = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return f"Transcription({text!r}, model={self.model!r})"


@dataclass(slots=True)
class RerankResult:
    """One document's place in a rerank: its ``index`` in the documents given, its relevance
    score (higher is more relevant) and, when asked for, the document's text."""

    index: int
    relevance_score: float
    document: str | None = None


@dataclass(slots=True)
class RerankResponse:
    """Documents ordered by relevance to a query (``rerank``), most relevant first."""

    results: list[RerankResult]
    model: str
    provider: str
    usage: Usage | None = None
    cost: float | None = None
    endpoint: str | None = None
    request_id: str | None = None
    latency: float | None = None
