"""``RequestManager``: many requests through one model, concurrently, in input order.

::

    from core.llms.batch import RequestManager, DiskCache

    manager = RequestManager("openai/gpt-4.1-mini", concurrency=64, cache=DiskCache("cache.db"),
                             journal="run.jsonl")
    results = manager.process_batch(["Name a colour", "Name a fruit"])   # or await aprocess_batch
    for result in results:
        print(result.id, result.response.text if result.ok else result.error)

Per request, in this order: the journal (a request an earlier run finished is not sent again),
the cache (a hit costs nothing), the rate limiter (RPM/TPM admission), the call (the model's
own retries and failover), batch-level attempts for retryable failures, then the cache, the
journal, the running totals and the progress display. A request that fails gives a result
holding its typed error: one failure never loses the others.

Memory stays bounded however long the input: requests are read lazily (an iterable or a JSONL
file), at most ``concurrency`` are in flight, and :meth:`RequestManager.as_completed` /
:meth:`RequestManager.arun` hand results over as they finish instead of keeping them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..interfaces.context import RequestContext
from ..interfaces.errors import ConfigurationError, InvalidInputError, LLMError, RateLimitError
from ..interfaces.llm_interfaces import ILLM
from ..interfaces.messages import normalize_messages
from .journal import Journal
from .requests import BatchInput, aiter_items, iter_items, to_batch_request
from .types import BatchRequest, BatchResult, BatchStats, IBatchAPI, ICache, IRateLimiter

if TYPE_CHECKING:
    from ..client.sync import SyncRunner
    from ..providers.base.retry import RetryPolicy
    from .ratelimit import RateLimits

__all__ = ["RequestManager"]

log = logging.getLogger("core.llms.batch")

#: ``max_tokens``-like parameters, read for the rate limiter's token estimate.
_MAX_OUTPUT_PARAMS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
#: the output allowance assumed when a request gives no maximum (corrected after the call).
_DEFAULT_OUTPUT_ESTIMATE = 256
_DONE = object()


class RequestManager:
    """Runs batches of chat requests through one model (see the module docs).

    ``llm``: a model object (any :class:`~core.llms.interfaces.ILLM`), an
    :class:`~core.llms.client.LLMClient` (each request's ``model`` is routed by it, else its
    default model), or a model name built with :func:`~core.llms.create_llm` and
    ``create_llm_options`` (the manager then owns and closes it). A request naming another
    ``model`` is sent to that model (a client routes it; a name-built manager builds it; a model
    object gets it as the per-call ``model=``).

    ``concurrency``: requests in flight at once. ``timeout``: seconds per attempt of a request
    (its deadline; retries and failover inside the model included). ``retry``: the
    :class:`~core.llms.RetryPolicy` of models the manager builds. ``max_attempts``: attempts per
    request at the batch level for retryable failures (rate limits, timeouts, 5xx) after the
    model's own retries and failover gave up; waits follow the server's Retry-After, else an
    exponential backoff. ``cache``: an :class:`~.types.ICache`. ``rate_limiter`` (an
    :class:`~.types.IRateLimiter`) or ``rate_limits`` (a :class:`~.ratelimit.RateLimits`, for an
    in-process limiter): client-side RPM/TPM admission keyed ``"provider/model"``. ``journal``:
    a JSONL path making runs resumable (see :mod:`.journal`). ``show_progress``: None shows a
    progress display only on a terminal, False never, True always. ``provider_batch``: True
    (or an :class:`~.types.IBatchAPI`) sends the requests through the provider's asynchronous
    Batch API at half price instead of calling live (``batch_options``: that API's settings,
    ``poll_interval``: seconds between status checks).
    """

    def __init__(
        self,
        llm: ILLM | str | Any,
        *,
        concurrency: int = 32,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        max_attempts: int = 1,
        cache: ICache | None = None,
        rate_limiter: IRateLimiter | None = None,
        rate_limits: RateLimits | None = None,
        journal: str | os.PathLike[str] | Journal | None = None,
        show_progress: bool | None = None,
        provider_batch: bool | IBatchAPI = False,
        batch_options: dict[str, Any] | None = None,
        poll_interval: float = 30.0,
        **create_llm_options: Any,
    ) -> None:
        _check_int("concurrency", concurrency, 1)
        _check_int("max_attempts", max_attempts, 1)
        if timeout is not None and not (_number(timeout) and timeout > 0):
            raise InvalidInputError(f"RequestManager(timeout=...) must be seconds > 0, not {timeout!r:.40}")
        if not (_number(poll_interval) and poll_interval > 0):
            raise InvalidInputError("RequestManager(poll_interval=...) must be seconds > 0")
        if cache is not None and not isinstance(cache, ICache):
            raise InvalidInputError(f"cache must implement ICache, not {type(cache).__name__}")
        if rate_limiter is not None and rate_limits is not None:
            raise InvalidInputError("give rate_limiter or rate_limits, not both")
        if rate_limiter is not None and not isinstance(rate_limiter, IRateLimiter):
            kind = type(rate_limiter).__name__
            raise InvalidInputError(f"rate_limiter must implement IRateLimiter, not {kind}")
        if show_progress is not None and not isinstance(show_progress, bool):
            raise InvalidInputError("show_progress must be True, False or None (only on a terminal)")
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.cache = cache
        self.show_progress = show_progress
        self.poll_interval = float(poll_interval)
        self._owned_limiter = rate_limiter is None and rate_limits is not None
        if rate_limits is not None:
            from .ratelimit import RateLimiter

            rate_limiter = RateLimiter(default=rate_limits)
        self.rate_limiter = rate_limiter
        self._journal_spec = journal
        self._retry = retry
        self._options = create_llm_options
        self._models: dict[str, ILLM] = {}
        self._owned: list[Any] = []
        self._client: Any = None
        self._llm: ILLM = self._resolve_llm(llm)
        self._provider_batch = provider_batch
        self._batch_options = dict(batch_options or {})
        self._runner: SyncRunner | None = None
        self._closed = False
        #: the totals of the last (or current) run.
        self.stats = BatchStats()

    # ------------------------------------------------------------------ models

    def _resolve_llm(self, llm: Any) -> ILLM:
        if isinstance(llm, str):
            model = self._build(llm)
            self._models[llm] = model
            return model
        create_model = getattr(llm, "model", None)
        if callable(create_model) and hasattr(llm, "resolve") and not isinstance(llm, ILLM):
            self._client = llm
            self._reject_options("an LLMClient")
            return create_model()  # type: ignore[no-any-return]
        if isinstance(llm, ILLM):
            self._reject_options("a model object")
            return llm
        raise InvalidInputError(
            f"RequestManager needs a model object, an LLMClient or a model name, not {type(llm).__name__}"
        )

    def _reject_options(self, what: str) -> None:
        if self._options or self._retry is not None:
            named = ", ".join(sorted(self._options)) or "retry"
            raise InvalidInputError(
                f"create_llm options ({named}) only apply to a model name; the manager was given {what}",
                hint="build the model with those options first, or pass its name",
            )

    def _build(self, name: str) -> ILLM:
        from ..factory import create_llm

        options = dict(self._options)
        if self._retry is not None:
            options["retry"] = self._retry
        model = create_llm(name, **options)
        self._owned.append(model)
        return model

    def _model_for(self, request: BatchRequest, params: dict[str, Any]) -> ILLM:
        name = request.model
        if name is None:
            return self._llm
        found = self._models.get(name)
        if found is not None:
            return found
        if self._client is not None:
            model: ILLM = self._client.model(name)
        elif self._owned:
            model = self._build(name)
        else:  # a model object given: the name goes to it as the per-call model
            params["model"] = name
            return self._llm
        self._models[name] = model
        return model

    @staticmethod
    def _label(model: Any) -> str:
        provider = getattr(model, "provider", None)
        name = getattr(model, "name", None) or type(model).__name__
        return f"{provider}/{name}" if provider else str(name)

    # ------------------------------------------------------------------ public API

    async def aprocess_batch(self, requests: BatchInput) -> list[BatchResult]:
        """Run every request; the results in input order, one per request."""
        results: list[BatchResult | None] = []

        def keep(result: BatchResult) -> None:
            results[result.index] = result

        await self._execute(requests, keep, results)
        return results  # type: ignore[return-value]  # every slot was filled

    def process_batch(self, requests: BatchInput) -> list[BatchResult]:
        """:meth:`aprocess_batch` for synchronous code (runs on the manager's own loop thread;
        works inside a running event loop too)."""
        return self._sync().run(self.aprocess_batch(requests))

    async def as_completed(self, requests: BatchInput) -> AsyncIterator[BatchResult]:
        """Run every request and yield each result as it finishes (``index`` tells where it
        belongs). Only the requests in flight are held: use it for very large inputs. Leaving
        the loop early cancels the requests still running."""
        backlog = _Backlog(max(_MIN_BACKLOG, 2 * self.concurrency))
        run = asyncio.ensure_future(self._execute(requests, backlog.put, None, backlog=backlog))
        run.add_done_callback(lambda _: backlog.put(_DONE))
        try:
            while True:
                item = await backlog.get()
                if item is _DONE:
                    break
                yield item
            run.result()  # the run's own error (an unreadable input …), if any
        finally:
            if not run.done():
                run.cancel()
                await asyncio.gather(run, return_exceptions=True)

    def iter_completed(self, requests: BatchInput) -> Iterator[BatchResult]:
        """:meth:`as_completed` for synchronous code."""
        return self._sync().iterate(lambda: self.as_completed(requests))

    async def arun(self, requests: BatchInput, journal: str | os.PathLike[str] | None = None) -> BatchStats:
        """Run every request, writing each result to the journal as it finishes (``journal``, else
        the manager's), keeping none in memory; returns the totals. Run it again on the same
        input after a crash to finish what is left."""
        if journal is None and self._journal_spec is None:
            raise InvalidInputError("arun() writes its results to a journal: give journal=<path>")
        await self._execute(requests, _ignore, None, journal=journal)
        return self.stats

    def run(self, requests: BatchInput, journal: str | os.PathLike[str] | None = None) -> BatchStats:
        """:meth:`arun` for synchronous code."""
        return self._sync().run(self.arun(requests, journal))

    # ------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        """Close the models the manager built and the limiter it made (not the ones it was given;
        not the cache, which may be shared). Idempotent."""
        if self._closed:
            return
        self._closed = True
        owned, self._owned = self._owned, []
        for model in owned:
            await model.aclose()
        if self._owned_limiter and self.rate_limiter is not None:
            await self.rate_limiter.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.close()

    def close(self) -> None:
        """:meth:`aclose` for synchronous code."""
        if self._closed:
            return
        runner = self._runner
        if runner is not None and not runner.closed:
            runner.run(self._close_owned())
        else:
            from ..client.sync import SyncRunner

            with SyncRunner(name="core-llms-batch-close") as closer:
                closer.run(self._close_owned())
        self._closed = True
        self._runner = None
        if runner is not None:
            runner.close()

    async def _close_owned(self) -> None:
        owned, self._owned = self._owned, []
        for model in owned:
            await model.aclose()
        if self._owned_limiter and self.rate_limiter is not None:
            await self.rate_limiter.close()

    async def __aenter__(self) -> RequestManager:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __enter__(self) -> RequestManager:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RequestManager({self._label(self._llm)}, concurrency={self.concurrency})"

    def _sync(self) -> SyncRunner:
        if self._closed:
            raise ConfigurationError("this RequestManager is closed")
        if self._runner is None:
            from ..client.sync import SyncRunner

            self._runner = SyncRunner(name="core-llms-batch")
        return self._runner

    # ------------------------------------------------------------------ the run

    async def _execute(
        self,
        requests: BatchInput,
        sink: Callable[[BatchResult], Any],
        slots: list[BatchResult | None] | None,
        *,
        journal: str | os.PathLike[str] | None = None,
        backlog: _Backlog | None = None,
    ) -> None:
        if self._closed:
            raise ConfigurationError("this RequestManager is closed")
        run = _Run(self, sink, slots, self._open_journal(journal), _total_of(requests))
        run.backlog = backlog
        self.stats = run.stats
        try:
            if self._provider_batch is not False:
                from .provider_runner import run_provider_batch

                await run_provider_batch(self, run, requests)
            else:
                await run.live(requests)
        finally:
            run.finish()

    def _open_journal(self, override: str | os.PathLike[str] | None) -> Journal | None:
        spec = override if override is not None else self._journal_spec
        if spec is None:
            return None
        journal = spec if isinstance(spec, Journal) else Journal(spec)
        journal.open()
        return journal


#: the fewest undelivered results as_completed lets pile up before the workers pause.
_MIN_BACKLOG = 256


class _Backlog:
    """The results :meth:`RequestManager.as_completed` has not handed over yet.

    Unbounded for the run's own ``put`` (called from synchronous code), but the workers check
    :meth:`full` after each request and wait in :meth:`room` until the caller has taken half of
    them: without it, requests that finish without waiting (cache and journal hits) would pile up
    faster than the caller reads them, and memory would grow with the input.
    """

    __slots__ = ("_limit", "_queue", "_room")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._room = asyncio.Event()
        self._room.set()

    def put(self, item: Any) -> None:
        self._queue.put_nowait(item)
        if self._queue.qsize() >= self._limit:
            self._room.clear()

    def full(self) -> bool:
        return self._queue.qsize() >= self._limit

    async def room(self) -> None:
        while self.full():
            await self._room.wait()
            if self.full():  # taken by another worker's results before this one woke
                self._room.clear()

    async def get(self) -> Any:
        item = await self._queue.get()
        if not self._room.is_set() and self._queue.qsize() <= self._limit // 2:
            self._room.set()
        return item


class _Run:
    """The state of one run: the input, the workers, the totals, the journal and progress."""

    def __init__(
        self,
        manager: RequestManager,
        sink: Callable[[BatchResult], Any],
        slots: list[BatchResult | None] | None,
        journal: Journal | None,
        total: int | None,
    ) -> None:
        self.manager = manager
        self.sink = sink
        self.slots = slots
        self.journal = journal
        self.stats = BatchStats(total=total)
        self.next_index = 0
        #: ids seen in this run, when ids must be unique (a journal or a provider batch).
        unique = journal is not None or manager._provider_batch is not False
        self.seen: set[str] | None = set() if unique else None
        self.cache = manager.cache
        self.limiter = manager.rate_limiter
        self.timeout = manager.timeout
        self.fingerprints = journal is not None or manager.cache is not None
        self.progress = None
        #: as_completed's undelivered results: workers pause while it is full.
        self.backlog: _Backlog | None = None
        if manager.show_progress is not False:
            from .progress import make_progress

            label = manager._label(manager._llm)
            self.progress = make_progress(manager.show_progress, self.stats, description=label)

    def finish(self) -> None:
        self.stats.finished = time.monotonic()
        if self.progress is not None:
            self.progress.close()
        if self.journal is not None:
            self.journal.close()

    # ------------------------------------------------------------------ input

    def take(self) -> int:
        index = self.next_index
        self.next_index = index + 1
        if self.slots is not None:
            self.slots.append(None)
        return index

    def prepare(self, index: int, where: str, item: Any) -> tuple[str, BatchRequest | None, LLMError | None]:
        """The request's id and request, or the error that makes it a failed result."""
        if isinstance(item, LLMError):  # a JSONL line that was not JSON
            return f"#{index}", None, item
        try:
            request = item if type(item) is BatchRequest else to_batch_request(item, where)
        except LLMError as exc:
            return f"#{index}", None, exc
        request_id = request.id if request.id is not None else f"#{index}"
        seen = self.seen
        if seen is not None:
            if request_id in seen:
                return request_id, None, InvalidInputError(f"{where}: the id {request_id!r} was already used")
            seen.add(request_id)
        return request_id, request, None

    async def live(self, requests: BatchInput) -> None:
        """Run the input with ``concurrency`` workers."""
        workers = self.manager.concurrency
        if isinstance(requests, AsyncIterable):
            source = aiter_items(requests)
            lock = asyncio.Lock()

            async def next_item() -> tuple[str, Any] | None:
                async with lock:
                    return await anext(source, None)

            tasks = [asyncio.ensure_future(self._async_worker(next_item)) for _ in range(workers)]
        else:
            items = iter_items(requests)
            tasks = [asyncio.ensure_future(self._worker(items)) for _ in range(workers)]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _worker(self, items: Iterator[tuple[str, Any]]) -> None:
        one, backlog = self.one, self.backlog
        for where, item in items:  # shared iterator: each worker takes the next item
            await one(self.take(), where, item)
            if backlog is not None and backlog.full():
                await backlog.room()

    async def _async_worker(self, next_item: Callable[[], Any]) -> None:
        backlog = self.backlog
        while (pair := await next_item()) is not None:
            await self.one(self.take(), *pair)
            if backlog is not None and backlog.full():
                await backlog.room()

    # ------------------------------------------------------------------ one request

    async def one(self, index: int, where: str, item: Any) -> None:
        request_id, request, error = self.prepare(index, where, item)
        if request is None:
            self.deliver(BatchResult(index=index, id=request_id, error=error), None)
            return
        try:
            result, fingerprint = await self.answer(index, request_id, request)
        except LLMError as exc:  # a cache or limiter failure: this request fails, the run goes on
            result, fingerprint = BatchResult(index=index, id=request_id, error=exc), None
        self.deliver(result, fingerprint)

    def deliver(self, result: BatchResult, fingerprint: str | None) -> None:
        if self.journal is not None:
            self.journal.write(result, fingerprint)
        self.stats.add(result)
        if self.progress is not None:
            self.progress.update()
        self.sink(result)

    async def answer(
        self, index: int, request_id: str, request: BatchRequest
    ) -> tuple[BatchResult, str | None]:
        params = dict(request.params) if request.params else {}
        model = self.manager._model_for(request, params)
        fingerprint = None
        if self.fingerprints:
            found, fingerprint = await self.recall(index, request_id, request, model, params)
            if found is not None:
                return found, fingerprint
        response = await self.call(model, request, params, index, request_id)
        if isinstance(response, BatchResult):
            return response, fingerprint
        if self.cache is not None and fingerprint is not None:
            await self.cache.put(fingerprint, response)
        return BatchResult(index=index, id=request_id, response=response), fingerprint

    async def recall(
        self, index: int, request_id: str, request: BatchRequest, model: Any, params: dict[str, Any]
    ) -> tuple[BatchResult | None, str]:
        """The request's fingerprint, and its result when the journal (an earlier run) or the
        cache already holds one."""
        from .cache.keys import request_key

        fingerprint = request_key(self.manager._label(model), request.messages, params)
        if self.journal is not None:
            response_format = params.get("response_format")
            found = self.journal.lookup(request_id, index, fingerprint, response_format=response_format)
            if found is not None:
                return found, fingerprint
        if self.cache is not None:
            hit = await _cache_get(self.cache, fingerprint, params.get("response_format"))
            if hit is not None:
                return BatchResult(index=index, id=request_id, response=hit, cached=True), fingerprint
        return None, fingerprint

    async def call(
        self, model: ILLM, request: BatchRequest, params: dict[str, Any], index: int, request_id: str
    ) -> Any:
        limiter = self.limiter
        key = self.manager._label(model) if limiter is not None else ""
        attempts = self.manager.max_attempts
        attempt = 0
        while True:
            attempt += 1
            permit = None
            if limiter is not None:
                permit = await limiter.acquire(key, _estimate(request, params))
            ctx = request.ctx
            if self.timeout is not None:
                ctx = (
                    RequestContext.with_timeout(self.timeout)
                    if ctx is None
                    else ctx.evolve(deadline=time.monotonic() + self.timeout)
                )
            try:
                response = await model.get_answer(request.messages, ctx, **params)
            except LLMError as exc:
                if permit is not None and limiter is not None:
                    await limiter.settle(permit, 0)
                    if isinstance(exc, RateLimitError):
                        await limiter.observe(key, retry_after=exc.retry_after)
                if attempt < attempts and exc.retryable:
                    await asyncio.sleep(_backoff(exc, attempt))
                    continue
                return BatchResult(index=index, id=request_id, error=exc)
            if permit is not None and limiter is not None:
                usage = response.usage
                await limiter.settle(permit, usage.total_tokens if usage is not None else permit.tokens)
                if response.headers is not None:
                    await limiter.observe(key, headers=response.headers)
            return response


async def _cache_get(cache: ICache, key: str, response_format: Any) -> Any:
    """A cache hit; a pydantic ``response_format`` is handed to caches that take one, so a stored
    structured answer comes back as an instance of that class."""
    if response_format is not None and isinstance(response_format, type):
        try:
            return await cache.get(key, response_format=response_format)  # type: ignore[call-arg]
        except TypeError:  # a third-party cache with the protocol's plain get()
            pass
    return await cache.get(key)


def _estimate(request: BatchRequest, params: dict[str, Any]) -> int:
    """Tokens to reserve before the call: the prompt estimate plus the output allowance."""
    from ..providers.base.implementation import estimate_prompt_tokens

    try:
        prompt = estimate_prompt_tokens(normalize_messages(request.messages))
    except LLMError:
        prompt = 0  # the model will refuse the messages with the precise error
    for name in _MAX_OUTPUT_PARAMS:
        value = params.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return prompt + value
    return prompt + _DEFAULT_OUTPUT_ESTIMATE


def _backoff(error: LLMError, attempt: int) -> float:
    retry_after: Any = getattr(error, "retry_after", None)
    if _number(retry_after) and 0 <= retry_after < 3600:
        return float(retry_after)
    wait: float = min(30.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
    return wait


def _total_of(requests: Any) -> int | None:
    if isinstance(requests, str | os.PathLike):
        return None
    try:
        return len(requests)
    except TypeError:
        return None


def _ignore(result: BatchResult) -> None:
    """The sink of :meth:`RequestManager.arun`: results live in the journal only."""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError(f"RequestManager({name}=...) must be an int >= {minimum}, not {value!r}")

