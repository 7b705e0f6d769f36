"""Long-running media jobs (video generation): the provider-neutral machinery.

A provider's job is created by one request, polled until it ends, then its result is downloaded.
What is the same for every provider lives here:

* :class:`JobClock`: one deadline for the whole job, the earlier of the call's ``timeout`` and
  ``ctx.deadline`` (a default timeout when neither is given);
* :class:`PollSchedule`: the waits between polls (a first interval, each next one
  :data:`POLL_BACKOFF` times longer up to a cap, a wait the server asks for replacing the computed
  one, and one last poll just before the deadline);
* :class:`MediaJob`: one job's requests (each with what is left of the job's time, pinned to the
  endpoint that created the job once it exists), its errors (:class:`RequestTimeoutError` naming
  the job when time runs out, any later error tagged with the job's id) and :meth:`MediaJob.run`,
  the loop that drives a provider's three steps (:meth:`~MediaJob.start`,
  :meth:`~MediaJob.poll`, :meth:`~MediaJob.finish`) and yields :class:`LLMVideoChunk` s whose
  ``progress`` never goes down;
* :func:`run_job` / :func:`final_response`: the async generator behind ``stream_video`` and the
  wait for its final chunk behind ``generate_video``.

Leaving a stream early (or cancelling the call) stops the polling at once; the job keeps running
on the provider and its id is logged at DEBUG.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from ...interfaces.errors import LLMError, RequestTimeoutError, ResponseParsingError, ResponseTooLargeError
from ...interfaces.llm_interfaces import IConnector, WireRequest, WireResponse
from ...interfaces.media import LLMVideoChunk, LLMVideoResponse
from .failover import FailoverConnector

if TYPE_CHECKING:
    from ...interfaces.context import RequestContext

__all__ = [
    "POLL_BACKOFF",
    "JobCall",
    "JobClock",
    "JobState",
    "MediaJob",
    "PollSchedule",
    "final_response",
    "run_job",
    "too_large_hint",
    "video_body",
]

logger = logging.getLogger("core.llms.media")

#: each wait between polls is this much longer than the one before (up to the schedule's cap).
POLL_BACKOFF = 1.5
#: the hint of a download larger than the endpoint allows.
_TOO_LARGE_HINT = (
    "the video is larger than the endpoint's max_response_bytes: raise it, e.g. "
    "create_llm(..., max_response_bytes=512 * 1024 * 1024), or pass download=False"
)


class JobClock:
    """When a job started and when it must be over: the earlier of ``ctx_deadline`` (a
    ``time.monotonic()`` instant) and ``started + timeout``; ``default_timeout`` when neither is
    given."""

    __slots__ = ("deadline", "started")

    def __init__(
        self, started: float, timeout: float | None, ctx_deadline: float | None, default_timeout: float
    ) -> None:
        self.started = started
        given = ctx_deadline if ctx_deadline is not None else math.inf
        if timeout is None and given == math.inf:
            timeout = default_timeout
        self.deadline = min(given, started + timeout if timeout is not None else math.inf)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started


class PollSchedule:
    """The waits between a job's polls: ``first``, then each wait :data:`POLL_BACKOFF` times the one
    before, up to ``cap`` (or ``first`` when it is larger). A wait the server asks for replaces the
    computed one (the computed ones keep growing). A wait that would end past the deadline is cut
    short once, for one more poll just before it; after that :meth:`next_wait` answers None: the
    job is out of time."""

    __slots__ = ("_last_chance", "backoff", "interval", "longest")

    def __init__(self, first: float, cap: float, backoff: float = POLL_BACKOFF) -> None:
        self.interval = first
        self.longest = max(cap, first)
        self.backoff = backoff
        self._last_chance = False

    def next_wait(self, remaining: float, hint: float | None = None) -> float | None:
        """Seconds to wait before the next poll, with ``remaining`` seconds left (None: time's up)."""
        wait = self.interval if hint is None else hint
        self.interval = min(self.interval * self.backoff, self.longest)
        if wait >= remaining:
            if self._last_chance or remaining <= 0:
                return None
            self._last_chance = True  # one more poll just before the deadline
            wait = max(remaining - min(1.0, remaining / 4), 0.0)
        return wait


@dataclass(slots=True)
class JobState:
    """What one answer (the creation's or a poll's) says about the job.

    ``status`` is the status its chunk shows (and, once ``done``, the final chunk's);
    ``progress`` 0.0-1.0 as reported (the runner keeps it from going down); ``failure`` the error
    of a job that ended without a result; ``wait`` the seconds the server asks to wait before the
    next poll; ``data`` and ``wire`` the answer, for :meth:`MediaJob.finish`."""

    status: str
    progress: float
    done: bool = False
    failure: LLMError | None = None
    wait: float | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    wire: WireResponse | None = None


class JobCall(Protocol):
    """What a job takes from its call's checked parameters."""

    @property
    def model_id(self) -> str: ...
    @property
    def model_fixed(self) -> bool: ...
    @property
    def poll_interval(self) -> float: ...
    @property
    def timeout(self) -> float | None: ...
    @property
    def read_timeout(self) -> float | None: ...


CallT = TypeVar("CallT", bound=JobCall)


class MediaJob(ABC, Generic[CallT]):
    """One job's requests, deadline and errors; a provider implements :meth:`start`,
    :meth:`poll` and :meth:`finish`, sets :attr:`default_timeout` and :attr:`max_poll_interval`
    (and may reword the messages through the other class attributes)."""

    #: the whole job's time limit when the call has neither ``timeout`` nor ``ctx.deadline``.
    default_timeout: ClassVar[float]
    #: the longest computed wait between polls (or the call's ``poll_interval``, when longer).
    max_poll_interval: ClassVar[float]
    #: how messages name the job ("video job {id}", "video operation {id}").
    noun: ClassVar[str] = "video job"
    #: what the job's creation is called in a timeout before it exists ("was not created").
    created: ClassVar[str] = "created"
    #: "within" / "by" the call's deadline.
    deadline_word: ClassVar[str] = "within"
    #: the DEBUG line when the call stops before the job ended (job id, endpoint).
    stopped: ClassVar[str] = "video job %s: the call stopped before the job ended; it keeps running on %s"
    #: True: a chunk after every poll; False: only when the status or progress changed.
    every_poll: ClassVar[bool] = False

    def __init__(self, model: Any, call: CallT, ctx: RequestContext | None, started: float) -> None:
        self.model = model
        self.call = call
        self.ctx = ctx
        deadline = ctx.deadline if ctx is not None else None
        self.clock = JobClock(started, call.timeout, deadline, self.default_timeout)
        self.schedule = PollSchedule(call.poll_interval, self.max_poll_interval)
        self.id: str | None = None
        self.endpoint: str | None = None
        self.request_id: str | None = None

    # -- the provider's steps ---------------------------------------------------------------------

    @abstractmethod
    async def start(self) -> JobState:
        """Create the job (set :attr:`id`, :attr:`endpoint`, :attr:`request_id`)."""

    @abstractmethod
    async def poll(self) -> JobState:
        """Ask how the job is doing."""

    @abstractmethod
    async def finish(self, state: JobState) -> LLMVideoResponse:
        """The finished job's result (downloaded unless the call said otherwise)."""

    # -- requests ---------------------------------------------------------------------------------

    def remaining(self) -> float:
        return self.clock.remaining()

    async def send(self, operation: str, payload: dict[str, Any], **fields: Any) -> WireResponse:
        """One request of the job, with what is left of its time as the call's limit."""
        remaining = self.remaining()
        if remaining <= 0:
            raise self.timed_out()
        request = WireRequest(
            operation,
            payload,
            model=self.call.model_id,
            model_fixed=self.call.model_fixed,
            read_timeout=self.call.read_timeout,
            total_timeout=remaining,
            **fields,
        )
        return await self.connector().send(request, self.ctx)

    def connector(self) -> IConnector:
        """The model's connector; once the job exists, pinned to the endpoint that holds it (a
        backup's job is unknown to the primary)."""
        connector: IConnector = self.model._connector
        if self.endpoint is not None and isinstance(connector, FailoverConnector):
            return connector.pinned(self.endpoint)
        return connector

    # -- errors -----------------------------------------------------------------------------------

    def progress_note(self, status: str | None, progress: float | None) -> str:
        """What a timeout's message says of the job's last state ("; last status …")."""
        return f"; last status {status}, {progress:.0%} done" if status is not None else ""

    def late_hint(self) -> str:
        """The hint of a timeout once the job exists."""
        return (
            f"the {self.noun.split()[-1]} keeps running on the provider; pass a longer timeout= (or a "
            "later ctx deadline) for the next job"
        )

    def timed_out(self, status: str | None = None, progress: float | None = None) -> RequestTimeoutError:
        elapsed = self.clock.elapsed()
        if self.id is None:
            error = RequestTimeoutError(
                f"the {self.noun} was not {self.created} within the call's deadline ({elapsed:.1f} s)",
                endpoint=self.endpoint,
                hint="pass a longer timeout= (or a later ctx deadline)",
            )
        else:
            note = self.progress_note(status, progress)
            error = RequestTimeoutError(
                f"{self.noun} {self.id} did not finish {self.deadline_word} the call's deadline "
                f"({elapsed:.1f} s{note})",
                endpoint=self.endpoint,
                request_id=self.request_id,
                hint=self.late_hint(),
            )
        error.job_id = self.id  # type: ignore[attr-defined]  # (RequestTimeoutError has no field for it)
        return error

    def tag(self, error: LLMError) -> None:
        """Name the job on an error raised once it exists (message and ``job_id``)."""
        if self.id is None:
            return
        if getattr(error, "job_id", None) is None:
            error.job_id = self.id  # type: ignore[attr-defined]
        if self.id not in error.message:
            error.message = f"{self.noun} {self.id}: {error.message}"
            error.args = (error.message, *error.args[1:])


async def run_job(
    job_class: type[MediaJob[CallT]],
    model: Any,
    ctx: RequestContext | None,
    prepare: Callable[[], Awaitable[CallT]],
    sleep: Callable[[float], Awaitable[object]],
) -> AsyncGenerator[LLMVideoChunk, None]:
    """The chunks of one job: ``prepare()`` checks the call (its errors name no job), then a
    ``job_class`` job is created, polled until it ends (``sleep`` between polls) and finished. A
    chunk after the creation and after each poll (each poll's, or only those whose status or
    progress changed), then the final one. Errors once the job exists name it; a stop before it
    ended is logged."""
    started = time.monotonic()
    job = job_class(model, await prepare(), ctx, started)
    try:
        state = await job.start()
        progress = state.progress
        shown: tuple[str, float] | None = None
        while True:
            if state.failure is not None:
                raise state.failure
            if state.done:
                break
            if job.every_poll or shown != (state.status, progress):
                shown = (state.status, progress)
                yield LLMVideoChunk(progress=progress, status=state.status, job_id=job.id)
            wait = job.schedule.next_wait(job.remaining(), state.wait)
            if wait is None:
                raise job.timed_out(state.status, progress)
            await sleep(wait)
            state = await job.poll()
            progress = max(progress, state.progress)
        response = await job.finish(state)
        yield LLMVideoChunk(
            progress=1.0,
            status=state.status,
            data=response.data,
            final=True,
            job_id=job.id,
            response=response,
        )
    except LLMError as exc:
        job.tag(exc)
        raise
    except (asyncio.CancelledError, GeneratorExit):
        if job.id is not None:
            logger.debug(job.stopped, job.id, job.endpoint)
        raise


async def final_response(chunks: AsyncIterator[LLMVideoChunk]) -> LLMVideoResponse:
    """Run a job's chunks to the end (closing them however it ends); its final chunk's response."""
    response: LLMVideoResponse | None = None
    try:
        async for chunk in chunks:
            if chunk.final:
                response = chunk.response
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
    assert response is not None  # the last chunk is the final one, or an error was raised
    return response


@contextlib.contextmanager
def too_large_hint() -> Iterator[None]:
    """Around a video's download: a :class:`ResponseTooLargeError` says how to raise the cap."""
    try:
        yield
    except ResponseTooLargeError as exc:
        exc.hint = _TOO_LARGE_HINT
        raise


def video_body(wire: WireResponse) -> tuple[bytes, str]:
    """A download's answer → the video's bytes and media type (``video/mp4`` unless the answer
    names another ``video/`` type); JSON or an empty body is not a video."""
    content_type = (wire.headers.get("Content-Type", "") if wire.headers is not None else "").split(";")[0]
    if wire.data is not None or not wire.body:
        what = "JSON" if wire.data is not None else "an empty body"
        raise ResponseParsingError(
            f"{wire.endpoint} answered the video's download with {what}, not a video",
            endpoint=wire.endpoint,
            status=wire.status,
            request_id=wire.request_id,
        )
    media_type = content_type.strip().lower() if content_type.startswith("video/") else "video/mp4"
    return wire.body, media_type
