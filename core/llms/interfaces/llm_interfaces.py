"""The two protocols everything else is written against: :class:`ILLM` and :class:`IConnector`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from .context import RequestContext
from .messages import MessagesInput
from .types import LLMResponse, LLMStreamChunk

__all__ = [
    "ILLM",
    "IConnector",
    "StreamDecoder",
    "StreamParser",
    "WireEvent",
    "WireRequest",
    "WireResponse",
]

T_co = TypeVar("T_co", covariant=True)


@runtime_checkable
class ILLM(Protocol):
    """A chat model. Any object with these two methods is one; inheritance is not required."""

    async def get_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> LLMResponse:
        """Send ``messages`` and return the whole answer."""
        ...

    def stream_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        """Send ``messages`` and yield the answer as it is produced."""
        ...


@dataclass(slots=True)
class WireRequest:
    """One provider call as the connector sees it.

    ``operation`` names the route (``"chat"``, ``"embeddings"``, ``"images"`` …); the provider's
    adapter turns it into a URL for each endpoint, so a backup with another deployment name or
    API version gets its own URL. ``payload`` is serialised once and reused on every attempt.

    ``model`` is the model id the request is for (the catalogue's wire id, or the caller's
    per-call ``model=``). An endpoint that serves the model under another id (its
    ``EndpointConfig.model_id``, an Azure deployment) is sent that id instead — in the URL and, when
    the payload has a ``"model"`` field, in the body — unless ``model_fixed`` (the caller named
    the model for this call: no endpoint may change it).

    ``path`` is appended to the operation's URL (a job id: ``/video_123/content``). ``form``
    (a :class:`~core.llms.providers.base.multipart.MultipartForm`) replaces the JSON body with a
    ``multipart/form-data`` upload (its ``model`` field follows the same per-endpoint rule). A
    ``GET`` or ``DELETE`` request sends no body.
    """

    operation: str
    payload: dict[str, Any]
    stream: bool = False
    model: str = ""
    model_fixed: bool = False
    method: str = "POST"
    #: extra headers for this call only (never logged, left out of the repr: they may hold credentials).
    headers: dict[str, str] | None = field(default=None, repr=False)
    #: per-call timeouts, in seconds: ``read_timeout`` overrides the endpoint's idle (read)
    #: timeout; ``total_timeout`` bounds the whole call, every attempt, backoff and failover
    #: included (like ``ctx.deadline``; the earlier of the two wins).
    read_timeout: float | None = None
    total_timeout: float | None = None
    path: str = ""
    form: Any = None


@dataclass(slots=True)
class WireResponse:
    """A complete (non-streamed) successful response."""

    status: int
    headers: Any  # a case-insensitive multidict (aiohttp's CIMultiDictProxy)
    body: bytes
    data: Any  # the decoded JSON body
    endpoint: str
    request_id: str | None = None
    latency: float = 0.0
    ttfb: float = 0.0
    attempts: int = 1


@dataclass(slots=True)
class WireEvent:
    """One decoded stream event: an SSE event (``event`` may be None), one NDJSON line, or a
    piece of a raw byte stream (streamed audio: ``raw`` holds the bytes, ``data`` is empty)."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    raw: bytes | None = None


class StreamDecoder(Protocol):
    """Turns raw bytes, split anywhere, into :class:`WireEvent` objects."""

    def feed(self, data: bytes) -> list[WireEvent]: ...

    def close(self) -> list[WireEvent]:
        """End of input: return any final event; raise if the input ended mid-event where the
        format forbids that."""
        ...


class StreamParser(Protocol[T_co]):
    """Turns the events of one streamed response into output chunks. One instance per attempt.

    ``feed`` returns the chunks for one event (often none). ``close`` is called at end of input;
    it raises :class:`~core.llms.interfaces.errors.StreamInterruptedError` (or another typed
    error) if the stream ended before its terminal marker, so a truncated stream is never a
    success.
    """

    def feed(self, event: WireEvent) -> Iterable[T_co]: ...

    def close(self) -> Iterable[T_co]: ...


class IConnector(Protocol):
    """Sends wire requests to one or more endpoints of one provider."""

    async def send(self, request: WireRequest, ctx: RequestContext | None = None) -> WireResponse:
        """Send a non-streamed request; retries and failover happen inside."""
        ...

    def stream(
        self,
        request: WireRequest,
        parser_factory: Callable[[str, str | None], StreamParser[T_co]],
        ctx: RequestContext | None = None,
    ) -> AsyncIterator[T_co]:
        """Send a streamed request and yield what the parser makes of its events.

        ``parser_factory(endpoint_name, request_id)`` is called once per attempt, after the
        response headers arrived (``request_id``: the provider's id for the response, if sent).
        Before the first item was yielded, failures are retried / failed over like :meth:`send`;
        after it, they raise :class:`StreamInterruptedError`.
        """
        ...

    async def aclose(self) -> None:
        """Close every session; idempotent."""
        ...
