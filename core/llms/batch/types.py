"""The batch layer's contracts: a request, its result, the running totals, and the three
pluggable parts (cache, rate limiter, provider Batch API) the :class:`~.manager.RequestManager`
is written against.

Everything here is plain data or a :class:`typing.Protocol`: a cache, a limiter or a Batch API
from another package works without inheriting from anything of ours.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from ..interfaces.context import RequestContext
from ..interfaces.errors import InvalidInputError, LLMError
from ..interfaces.messages import MessagesInput
from ..interfaces.types import LLMResponse

__all__ = [
    "BatchJob",
    "BatchJobStatus",
    "BatchRequest",
    "BatchResult",
    "BatchStats",
    "IBatchAPI",
    "ICache",
    "IRateLimiter",
    "Permit",
]


@dataclass(slots=True)
class BatchRequest:
    """One request of a batch: the ``get_answer`` arguments, and an id.

    ``params`` are the keyword arguments of ``get_answer`` (``temperature``, ``max_tokens``,
    ``tools``, ``response_format`` …). ``model`` names the model when the manager holds a client
    (or, in a provider Batch API, overrides the wire model id); None uses the manager's model.
    ``id`` identifies the request in the journal, the cache statistics and a provider Batch API's
    ``custom_id``; None gets ``"#<index>"`` (its position in the input, stable when the same
    input is read again). ``ctx``: the request's own context (its labels, deadline …).
    """

    messages: MessagesInput
    params: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    model: str | None = None
    ctx: RequestContext | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.params, dict):
            raise InvalidInputError(
                f"BatchRequest.params must be a dict of get_answer keyword arguments, "
                f"not {type(self.params).__name__}"
            )
        if self.id is not None and (not isinstance(self.id, str) or not self.id):
            raise InvalidInputError("BatchRequest.id must be a non-empty string or None")
        if self.model is not None and (not isinstance(self.model, str) or not self.model):
            raise InvalidInputError("BatchRequest.model must be a non-empty string or None")
        if self.ctx is not None and not isinstance(self.ctx, RequestContext):
            raise InvalidInputError(
                f"BatchRequest.ctx must be a RequestContext or None, not {type(self.ctx).__name__}"
            )


@dataclass(slots=True)
class BatchResult:
    """The outcome of one request: ``response`` or ``error``, never both, never neither.

    ``index`` is the request's position in the input; ``id`` its id. ``cached``: answered from
    the cache (no call made, ``response.cost == 0``). ``resumed``: read back from the journal of
    an earlier run (not sent again).
    """

    index: int
    id: str
    response: LLMResponse | None = None
    error: LLMError | None = None
    cached: bool = False
    resumed: bool = False

    @property
    def ok(self) -> bool:
        """True when the request was answered."""
        return self.error is None

    def unwrap(self) -> LLMResponse:
        """The response; raises the request's error when it failed."""
        if self.error is not None:
            raise self.error
        if self.response is None:  # not made by the manager: neither field was set
            raise InvalidInputError(f"BatchResult #{self.index} ({self.id!r}) has neither response nor error")
        return self.response

    def __repr__(self) -> str:
        outcome = repr(self.response) if self.error is None else f"error={self.error!r}"
        flags = "".join((", cached" if self.cached else "", ", resumed" if self.resumed else ""))
        return f"BatchResult(#{self.index} {self.id!r}, {outcome}{flags})"


@dataclass(slots=True)
class BatchStats:
    """Running totals of a batch, read by the progress display and returned at the end."""

    total: int | None = None
    done: int = 0
    failed: int = 0
    cached: int = 0
    resumed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    #: failures by error class name.
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def completed(self) -> int:
        """Requests finished either way (answered or failed)."""
        return self.done + self.failed

    @property
    def elapsed(self) -> float:
        return (self.finished if self.finished is not None else time.monotonic()) - self.started

    @property
    def requests_per_second(self) -> float:
        elapsed = self.elapsed
        return self.completed / elapsed if elapsed > 0 else 0.0

    @property
    def cache_hit_ratio(self) -> float:
        """Cache hits among the requests finished in this run (resumed ones not counted)."""
        ran = self.completed - self.resumed
        return self.cached / ran if ran > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate, when the total is known."""
        if self.total is None:
            return None
        rate = self.requests_per_second
        left = self.total - self.completed
        return left / rate if rate > 0 else None

    def add(self, result: BatchResult) -> None:
        """Count one finished request."""
        if result.error is not None:
            self.failed += 1
            name = type(result.error).__name__
            self.errors[name] = self.errors.get(name, 0) + 1
        else:
            self.done += 1
            response = result.response
            if response is not None:
                usage = response.usage
                if usage is not None and not result.cached:
                    self.input_tokens += usage.input_tokens
                    self.output_tokens += usage.output_tokens
                if response.cost is not None and not result.cached:
                    self.cost_usd += response.cost
        if result.cached:
            self.cached += 1
        if result.resumed:
            self.resumed += 1


# ---------------------------------------------------------------------------------- caches


@runtime_checkable
class ICache(Protocol):
    """A response cache. Keys come from :func:`~.cache.keys.request_key`; values are
    :class:`LLMResponse` objects (stored as JSON by the persistent caches, never pickled).

    ``get`` returns the stored answer marked ``cached=True`` with ``cost=0.0``, or None.
    """

    async def exists(self, key: str) -> bool: ...

    async def get(self, key: str) -> LLMResponse | None: ...

    async def put(self, key: str, response: LLMResponse) -> None: ...

    async def clear(self) -> None: ...

    async def close(self) -> None: ...


# ---------------------------------------------------------------------------------- rate limits


@dataclass(slots=True)
class Permit:
    """What :meth:`IRateLimiter.acquire` granted: the limiter key and the tokens reserved."""

    key: str
    tokens: int


@runtime_checkable
class IRateLimiter(Protocol):
    """Client-side admission by requests per minute and tokens per minute, per key (a
    ``"provider/model"`` string).

    ``acquire`` waits until one request of ``tokens`` (the estimate: prompt + max output) fits;
    ``settle`` corrects the reservation with the tokens the call really used (0 when it failed
    before reaching the provider); ``observe`` learns from a response's or an error's headers
    (``x-ratelimit-*``, ``anthropic-ratelimit-*``) and a 429's ``retry_after`` (seconds), and
    holds every caller of the key back until then.
    """

    async def acquire(self, key: str, tokens: int) -> Permit: ...

    async def settle(self, permit: Permit, used_tokens: int) -> None: ...

    async def observe(
        self, key: str, *, headers: Mapping[str, str] | None = None, retry_after: float | None = None
    ) -> None: ...

    async def close(self) -> None: ...


# ---------------------------------------------------------------------------------- provider batches

BatchJobStatus = Literal[
    "validating", "in_progress", "finalizing", "completed", "failed", "expired", "cancelled"
]


@dataclass(slots=True)
class BatchJob:
    """A provider-side batch job as last seen.

    ``id`` is the provider's job id (OpenAI ``batch_…``, Anthropic ``msgbatch_…``, a Bedrock job
    ARN, a Vertex ``batchPredictionJobs`` name). ``request_ids`` maps each request's id (ours, not
    the provider-side record id it may have been renamed to) to the request's index in the input.
    ``counts``: the provider's request counts (``total``, ``completed``, ``failed`` …) when it
    reports them. ``raw``: the provider's last job body.
    """

    id: str
    provider: str
    status: BatchJobStatus
    request_ids: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    raw: Any = field(default=None, repr=False)
    #: where the provider keeps inputs/outputs (file ids, S3 / GCS URIs), for cleanup and debugging.
    locations: dict[str, str] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed", "expired", "cancelled")


@runtime_checkable
class IBatchAPI(Protocol):
    """A provider's asynchronous Batch API (half price, answers within 24 hours).

    ``submit`` uploads the requests (JSONL, S3 or GCS as the provider wants) and creates the job;
    ``refresh`` returns the job's current state; ``results`` yields one :class:`BatchResult` per
    request (answers priced at the model's batch price: half its normal price unless the
    catalogue says otherwise; failures as typed errors), in any order; ``cancel`` asks the
    provider to stop. ``close`` releases sessions.
    """

    provider: str

    async def submit(self, requests: Sequence[tuple[int, str, BatchRequest]]) -> BatchJob:
        """``requests``: ``(index, id, request)`` triples; the id becomes the ``custom_id``."""
        ...

    async def refresh(self, job: BatchJob) -> BatchJob: ...

    def results(self, job: BatchJob) -> AsyncIterator[BatchResult]: ...

    async def cancel(self, job: BatchJob) -> BatchJob: ...

    async def close(self) -> None: ...
