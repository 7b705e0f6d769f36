"""Ordered endpoints with circuit breakers, retries, failover and a deadline: the IConnector.

:class:`FailoverConnector` owns one :class:`~core.llms.providers.base.connector.Connector` per
endpoint (primary first, then backups in order) and one
:class:`~core.llms.providers.base.breaker.CircuitBreaker` each. It serialises the payload once
per call and sends the same bytes (and the same ``Idempotency-Key``) on every attempt.

Rules, for an error ``e`` on endpoint *i* (the decision itself is
:func:`~core.llms.providers.base.retry.decide`):

=================================================  ==============================================
situation                                          what happens
=================================================  ==============================================
endpoint's breaker is open                         skipped (an ``AttemptRecord`` with
                                                   ``skipped=True``); if every endpoint is
                                                   skipped, the one that opened earliest is probed
``e`` neither ``retryable`` nor ``failover``       raised at once: never retried, never failed
(400, 401, 403, 404, content filter, parse         over
errors)
``RateLimitError`` (429), policy                   next endpoint at once
``rate_limit="failover"`` and a next endpoint
``RateLimitError``, otherwise                      same endpoint again after ``retry_after`` (or
                                                   the backoff), up to ``max_retries``; then the
                                                   next endpoint, or give up
``RateLimitError`` whose Retry-After exceeds       next endpoint if there is one, else give up at
``max_retry_after`` or the deadline                once (never sleeps past the deadline)
``e.failover`` (connection, timeout, 5xx, 529)     next endpoint at once (no same-endpoint retry)
and a next endpoint
``e.failover`` / ``e.retryable`` on the last       same endpoint after the backoff (or a 503's
usable endpoint, or ``e`` only ``retryable``       Retry-After), up to ``max_retries``, then give
(409)                                              up
a backoff that would pass the deadline             next endpoint if ``e`` allows failover, else
                                                   give up
deadline reached before an attempt                 ``RequestTimeoutError("deadline exceeded …")``
success                                            ``breaker.record_success()``
=================================================  ==============================================

With ``policy.retry_if`` set, the caller's hook is asked first after each failed attempt
(:func:`~core.llms.providers.base.retry.decide_with_hook`, with ``attempt`` = the number of the
attempt within the call, all endpoints counted): ``None`` leaves the table above to decide,
``False`` raises ``e`` at once, ``True`` retries the same endpoint while ``max_retries`` and the
deadline allow, then the next endpoint, then gives up. Without a hook that costs one attribute
check per failed attempt, nothing on success. A stream failure after the first item never reaches
the hook (it is never retried).

A "next endpoint" is a later one whose breaker would let a request through now
(:meth:`~core.llms.providers.base.breaker.CircuitBreaker.available`: not open, and not half-open
with its single probe already in flight): the same test that picks it, so a call never decides to
fail over to an endpoint it is then refused. Failover-class errors count as breaker failures; any
other answer (even 400 or 429) counts as a success, since the endpoint is reachable. When a
breaker opens is the breaker's rule (:mod:`~core.llms.providers.base.breaker`).

Giving up raises, with a single endpoint, the last typed error itself; with backups,
:class:`~core.llms.interfaces.errors.AllEndpointsFailedError` whose ``attempts`` list every
attempt (and skip) in order. Errors carry ``endpoint`` (display name) and ``attempt`` (the try
number on that endpoint, from 1).

Deadline: the call's deadline is the earlier of ``ctx.deadline`` and ``request.total_timeout``
seconds after the call started (a model's ``timeout=`` call parameter); it bounds attempts, backoff
sleeps and failover together, and nothing sleeps past it. Each attempt's total timeout is the
smaller of the endpoint's ``timeouts.total`` and the time remaining.

Streams: each attempt opens the stream, makes ``parser = parser_factory(endpoint_name, request_id)``, feeds
it the events and yields its items. Before the first item is yielded, every failure (status,
connection, a stream ending before any item, a typed error raised by the parser such as an
in-stream error event) follows the rules above. After it, any failure raises
:class:`~core.llms.interfaces.errors.StreamInterruptedError` (``cause`` = the error, also chained)
for the model layer to fill in the partial content. At end of input ``parser.close()``'s items are
yielded (it raises when the terminal marker was missing). The HTTP response is released in every
case, including when the consumer stops early or the task is cancelled.

Closing: :meth:`FailoverConnector.aclose` closes every session and is idempotent. A call made
after it raises :class:`~core.llms.interfaces.errors.ConfigurationError` without sending
anything; a call in flight when it happens ends at once (its failed attempt is neither retried
nor failed over) with that error, or with ``StreamInterruptedError`` if chunks had been yielded.
Garbage-collected while a session is still open, it closes them and warns once
(``ResourceWarning``).
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

from ...interfaces.context import RequestContext
from ...interfaces.endpoint import EndpointConfig
from ...interfaces.errors import (
    AllEndpointsFailedError,
    APIConnectionError,
    AttemptRecord,
    ConfigurationError,
    LLMError,
    RequestTimeoutError,
    StreamInterruptedError,
)
from ...interfaces.llm_interfaces import StreamParser, WireRequest, WireResponse
from ...interfaces.observer import CURRENT_CALL, AttemptAction, AttemptInfo, CallInfo, report_attempt
from ...interfaces.provider import EndpointModel, ProviderAdapter
from .breaker import DEFAULT_FAILURE_RATE, CircuitBreaker, FailureRate
from .connector import Connector, OpenStream, request_body
from .pool import EndpointPool
from .retry import RetryPolicy, decide, decide_with_hook

__all__ = ["FailoverConnector"]

logger = logging.getLogger("core.llms.transport")

T = TypeVar("T")


class FailoverConnector:
    """Sends wire requests to ordered endpoints with retries, failover, breakers and a deadline.

    Implements :class:`~core.llms.interfaces.llm_interfaces.IConnector`. Close it with
    :meth:`aclose` or ``async with``.
    """

    def __init__(
        self,
        connectors: Sequence[Connector],
        policy: RetryPolicy | None = None,
        failure_threshold: int = 3,
        cooldown: float = 30.0,
        *,
        failure_rate: FailureRate | None = DEFAULT_FAILURE_RATE,
    ) -> None:
        if not connectors:
            raise ConfigurationError("FailoverConnector needs at least one endpoint")
        names = [c.name for c in connectors]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigurationError(
                f"endpoint names must be unique, repeated: {dupes}", hint="set name= on the backup endpoint"
            )
        self._connectors = list(connectors)
        # a pooled connector brings its endpoint's shared breaker
        self._breakers = [
            c.breaker or CircuitBreaker(failure_threshold, cooldown, failure_rate=failure_rate)
            for c in connectors
        ]
        self.policy = policy if policy is not None else RetryPolicy()
        self.endpoints: list[str] = names
        self._closed = False

    @classmethod
    def from_endpoints(
        cls,
        adapter: ProviderAdapter,
        primary: EndpointConfig,
        backups: Sequence[Mapping[str, Any] | EndpointConfig] = (),
        policy: RetryPolicy | None = None,
        *,
        pool: EndpointPool | None = None,
        failure_threshold: int = 3,
        cooldown: float = 30.0,
        failure_rate: FailureRate | None = DEFAULT_FAILURE_RATE,
    ) -> FailoverConnector:
        """Build from a primary endpoint and backups; a backup mapping inherits every field it
        does not set (``primary.derive(mapping)``). With a ``pool``, each endpoint's connector
        (session) and breaker are shared with every other holder of the same endpoint (see
        :mod:`.pool`); without one, they are this connector's own.
        A backup whose display name repeats an
        earlier one (same URL, other deployment or model id) is named after the model id it
        serves, or numbered."""
        configs = [primary]
        for number, backup in enumerate(backups, 1):
            match backup:
                case EndpointConfig():
                    config = backup
                case Mapping():
                    config = primary.derive(backup)
                case _:
                    raise ConfigurationError(
                        f"backup endpoint #{number} must be a mapping or EndpointConfig, "
                        f"got {type(backup).__name__}"
                    )
            served = adapter.endpoint_model(config) if isinstance(adapter, EndpointModel) else config.model_id
            configs.append(_unique_name(config, {c.display_name for c in configs}, number, served))
        if pool is None:
            connectors = [Connector(c, adapter) for c in configs]
        else:
            connectors = [
                pool.connector(c, adapter, failure_threshold, cooldown, failure_rate=failure_rate)
                for c in configs
            ]
        return cls(connectors, policy, failure_threshold, cooldown, failure_rate=failure_rate)

    def pinned(self, name: str) -> FailoverConnector:
        """A connector for follow-up requests about something that lives on one endpoint (a
        video job created there): it sends only to the endpoint named ``name``, with its
        connector, breaker and this connector's retry policy. It shares them and owns nothing:
        closing it does nothing (closing this connector closes them)."""
        try:
            i = self.endpoints.index(name)
        except ValueError:
            raise ConfigurationError(f"no endpoint named {name!r}; endpoints: {self.endpoints}") from None
        view = object.__new__(_PinnedConnector)
        view._connectors = [self._connectors[i]]
        view._breakers = [self._breakers[i]]
        view.policy = self.policy
        view.endpoints = [name]
        view._closed = False
        return view

    def breaker(self, name: str) -> CircuitBreaker:
        """The circuit breaker of the endpoint with this display name."""
        try:
            return self._breakers[self.endpoints.index(name)]
        except ValueError:
            raise ConfigurationError(f"no endpoint named {name!r}; endpoints: {self.endpoints}") from None

    @property
    def primary_server(self) -> tuple[str | None, int | None]:
        """Host and port of the first endpoint (for observers)."""
        return _server(self._connectors[0])

    @property
    def connectors(self) -> list[Connector]:
        """The per-endpoint connectors, primary first."""
        return list(self._connectors)

    async def send(self, request: WireRequest, ctx: RequestContext | None = None) -> WireResponse:
        """Send a non-streamed request; retries and failover happen inside (see module doc)."""
        if self._closed:
            raise self._closed_error()
        body = request_body(request)
        deadline = _call_deadline(request, ctx)
        remaining = None if deadline is None else deadline - time.monotonic()
        observed = CURRENT_CALL.get()  # the model's observer, told about each attempt (or None)
        if self._breakers[0].state == "closed" and (remaining is None or remaining > 0):
            # The common case, kept flat: the primary is healthy and time is left. The retry and
            # failover bookkeeping (_Call) is made only if this first attempt fails.
            started = time.perf_counter() if observed is not None else 0.0
            try:
                response = await self._connectors[0].send_once(request, body, ctx, remaining)
            except LLMError as exc:
                call = _Call(self, request, ctx, deadline, observed)
                call.first_attempt_sent(started)
                await call.failed(0, exc)
            else:
                self._breakers[0].record_success()
                if observed is not None:
                    observed.attempts += 1
                    _report(observed, self, 0, 1, "done", started, status=response.status)
                return response
        else:
            call = _Call(self, request, ctx, deadline, observed)
        while True:
            i, conn, timeout = call.next()
            try:
                response = await conn.send_once(request, body, ctx, timeout)
            except LLMError as exc:
                error = exc
            else:
                call.succeeded(i, response.status)
                response.attempts = call.sent
                return response
            await call.failed(i, error)

    async def stream(
        self,
        request: WireRequest,
        parser_factory: Callable[[str, str | None], StreamParser[T]],
        ctx: RequestContext | None = None,
    ) -> AsyncIterator[T]:
        """Send a streamed request and yield the parser's items (see module doc for failures)."""
        if self._closed:
            raise self._closed_error()
        body = request_body(request)
        call = _Call(self, request, ctx, _call_deadline(request, ctx), CURRENT_CALL.get())
        while True:
            i, conn, timeout = call.next()
            opened: OpenStream | None = None
            yielded = False
            error: LLMError | None = None
            try:
                opened = await conn.open_stream(request, body, ctx, timeout)
                parser = parser_factory(conn.name, opened.request_id)
                async for batch in opened.event_batches():
                    for event in batch:
                        for item in parser.feed(event):
                            if not yielded:
                                yielded = True
                                call.succeeded(i, opened.status)
                            yield item
                for item in list(parser.close()):
                    if not yielded:
                        yielded = True
                        call.succeeded(i, opened.status)
                    yield item
            except StreamInterruptedError as exc:
                if yielded:  # the parser saw the stream end early: already the right error
                    call.interrupted(i, exc, opened)
                    raise
                error = exc
            except LLMError as exc:
                if yielded:
                    raise call.interrupted(i, exc, opened) from exc
                error = exc
            finally:
                if opened is not None:
                    await opened.aclose()
            if error is None:
                if not yielded:
                    call.succeeded(i, opened.status if opened is not None else None)
                return
            if isinstance(error, StreamInterruptedError):
                # The stream ended before any item: as retryable as a dropped connection.
                cause = error
                error = APIConnectionError(
                    f"stream from {conn.name} ended before any data: {cause.message}", endpoint=conn.name
                )
                error.__cause__ = cause
            if opened is not None:  # it failed after the headers: say which response it was
                error.fill(status=opened.status, request_id=opened.request_id)
            await call.failed(i, error)

    async def aclose(self) -> None:
        """Close every connector's session (a shared one: release this hold on it; it closes
        when its last holder does). Idempotent; later calls raise ``ConfigurationError``."""
        if self._closed:
            return
        self._closed = True
        for conn in self._connectors:
            await conn.release()

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` was called."""
        return self._closed

    def _closed_error(self) -> ConfigurationError:
        return ConfigurationError(
            f"the connections to {', '.join(self.endpoints)} were closed (aclose() was called)",
            hint="create a new model with create_llm(); an LLMFactory creates a new one on its next get()",
        )

    # Un-closed detection (package-internal; see Connector._close_now).

    def _unclosed(self) -> bool:
        """Does a connector still hold an open session?"""
        return any(conn._unclosed() for conn in self._connectors)

    def _close_now(self) -> bool:
        """Release every connector without awaiting (for finalizers); True when that closed an
        open session (a shared one still held by another model stays open)."""
        if self._closed:
            return False
        self._closed = True
        return any([conn._release_now() for conn in self._connectors])  # a list: release them all

    def __del__(self, _warn: Any = warnings.warn) -> None:
        if getattr(self, "_connectors", None) and self._close_now():
            _warn(f"unclosed {self!r}: call aclose() or use 'async with'", ResourceWarning, source=self)

    async def __aenter__(self) -> FailoverConnector:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"FailoverConnector({self.endpoints!r})"


def _unique_name(config: EndpointConfig, taken: set[str], number: int, served: str | None) -> EndpointConfig:
    name = config.display_name
    if name not in taken:
        return config
    labelled = f"{name} ({served})"
    return config.replace(name=labelled if served and labelled not in taken else f"{name} #{number + 1}")


def _call_deadline(request: WireRequest, ctx: RequestContext | None) -> float | None:
    """The call's deadline (monotonic): the caller's (``ctx``) or the call's own timeout, whichever
    comes first; None when it has neither."""
    deadline = ctx.deadline if ctx is not None else None
    if request.total_timeout is not None:
        own = time.monotonic() + request.total_timeout
        deadline = own if deadline is None else min(deadline, own)
    return deadline


class _Call:
    """The bookkeeping of one call: current endpoint, tries, attempt records, deadline."""

    __slots__ = (
        "attempts",
        "ctx",
        "current",
        "deadline",
        "index",
        "observed",
        "owner",
        "request",
        "sent",
        "started",
        "tries",
    )

    def __init__(
        self,
        owner: FailoverConnector,
        request: WireRequest,
        ctx: RequestContext | None,
        deadline: float | None,
        observed: CallInfo | None = None,
    ) -> None:
        self.owner = owner
        self.observed = observed  # the observed call, told about each attempt
        self.started = 0.0  # perf_counter() when the current attempt started (observed calls)
        self.request = request
        self.ctx = ctx
        self.deadline = deadline
        self.index = 0  # first endpoint still eligible (failover only moves forward)
        self.current: int | None = None  # endpoint in use; None: pick the next one
        self.tries = 0  # tries on the current endpoint
        self.sent = 0  # attempts actually sent, all endpoints
        self.attempts: list[AttemptRecord] = []

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def first_attempt_sent(self, started: float) -> None:
        """Account for attempt 1 on the primary, sent at ``started`` before this object was made
        (the fast path of :meth:`FailoverConnector.send`), as :meth:`next` would have."""
        self.current = 0
        self.tries = self.sent = 1
        self.started = started
        if self.observed is not None:
            self.observed.attempts += 1

    def next(self) -> tuple[int, Connector, float | None]:
        """The endpoint for the next attempt and its timeout; raises when there is none."""
        if self.owner._closed:
            raise self.owner._closed_error()
        if self.current is None:
            self.current = self._pick()
            self.tries = 0
        i = self.current
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            raise self._deadline_exceeded(i)
        self.tries += 1
        self.sent += 1
        if self.observed is not None:
            self.observed.attempts += 1
            self.started = time.perf_counter()
        return i, self.owner._connectors[i], remaining

    def _pick(self) -> int:
        owner = self.owner
        for j in range(self.index, len(owner._connectors)):
            if owner._breakers[j].allow():
                self.index = j
                return j
            self.attempts.append(AttemptRecord(owner.endpoints[j], 0, None, skipped=True))
            logger.debug("%s skipped: circuit open", owner.endpoints[j])
            if self.observed is not None:
                _report(self.observed, owner, j, 0, "skipped", None)
        if self.sent == 0:
            # Every endpoint is known dead: probe the one that has been dead longest rather than
            # failing without sending anything.
            j = min(range(len(owner._breakers)), key=lambda k: owner._breakers[k].opened_at or 0.0)
            self.attempts = [a for a in self.attempts if a.endpoint != owner.endpoints[j]]
            logger.debug("%s: every circuit is open, probing it", owner.endpoints[j])
            self.index = j
            return j
        raise self._give_up()

    def succeeded(self, i: int, status: int | None) -> None:
        self.owner._breakers[i].record_success()
        logger.debug("%s attempt %d succeeded", self.owner.endpoints[i], self.tries)
        if self.observed is not None:
            _report(self.observed, self.owner, i, self.tries, "done", self.started, status=status)

    async def failed(self, i: int, error: LLMError) -> None:
        """Record a failed attempt and carry out the decision: return to try again, or raise."""
        owner = self.owner
        if owner._closed:  # aclose() cut the attempt short: no retry, no failover, no breaker change
            raise owner._closed_error() from error
        name = owner.endpoints[i]
        owner._connectors[i].redact(error)  # a server may echo credentials (e.g. in a stream error)
        error.fill(endpoint=name, attempt=self.tries)
        self.attempts.append(AttemptRecord(name, self.tries, error))
        if error.failover:
            owner._breakers[i].record_failure()
        else:
            owner._breakers[i].record_success()  # it answered: reachable
        # "A next endpoint" is one _pick would take: the same test as its allow(), without taking
        # a half-open breaker's single probe (one in flight already makes it unavailable).
        following = range(i + 1, len(owner._connectors))
        next_name = next((owner.endpoints[j] for j in following if owner._breakers[j].available()), None)
        remaining = self.remaining()
        policy, has_next, done = owner.policy, next_name is not None, self.tries - 1
        if policy.retry_if is None:  # the common case: one attribute check, no hook machinery
            decision = decide(error, policy, retries_done=done, has_next=has_next, remaining=remaining)
        else:  # the caller's hook first (attempt: its number within the call, all endpoints)
            decision = decide_with_hook(
                error,
                policy,
                attempt=self.sent,
                ctx=self.ctx,
                retries_done=done,
                has_next=has_next,
                remaining=remaining,
            )
        logger.debug(
            "%s attempt %d failed: %s status=%s -> %s (%s)",
            name,
            self.tries,
            type(error).__name__,
            error.status,
            f"failover to {next_name}" if decision.action == "failover" else decision.action,
            decision.reason,
        )
        if decision.action != "raise" and remaining is not None and remaining <= 0:
            if self.observed is not None:
                self._report_failed(self.observed, i, error, "give_up", None)
            raise self._deadline_exceeded(i, during=error)
        if self.observed is not None:
            delay = decision.delay if decision.action == "retry" else None
            self._report_failed(self.observed, i, error, decision.action, delay)
        match decision.action:
            case "raise":
                raise error
            case "give_up":
                raise self._give_up()
            case "retry":
                await asyncio.sleep(decision.delay)
            case "failover":
                self.current = None
                self.index = i + 1

    def _report_failed(
        self, observed: CallInfo, i: int, error: LLMError, action: AttemptAction, delay: float | None
    ) -> None:
        _report(observed, self.owner, i, self.tries, action, self.started, error=error, delay=delay)

    def interrupted(self, i: int, error: LLMError, opened: OpenStream | None) -> StreamInterruptedError:
        """The error for a stream that broke after items reached the caller (``error`` itself
        when it already is a :class:`StreamInterruptedError`)."""
        name = self.owner.endpoints[i]
        self.owner._connectors[i].redact(error)
        request_id = opened.request_id if opened is not None else None
        status = opened.status if opened is not None else None
        error.fill(endpoint=name, attempt=self.tries, request_id=request_id, status=status)
        if error.failover:
            self.owner._breakers[i].record_failure()
        logger.debug("%s stream interrupted after data: %s", name, type(error).__name__)
        if self.observed is not None:
            self._report_failed(self.observed, i, error, "interrupted", None)
        if isinstance(error, StreamInterruptedError):
            return error
        return StreamInterruptedError(
            f"stream from {name} broke after data had arrived: {type(error).__name__}: {error.message}",
            cause=error,
            endpoint=name,
            attempt=self.tries,
            status=opened.status if opened is not None else None,
            request_id=request_id or error.request_id,
        )

    def _last_error(self) -> LLMError | None:
        return next((a.error for a in reversed(self.attempts) if a.error is not None), None)

    def _give_up(self) -> LLMError:
        """The error that ends the call: the last one itself with a single endpoint."""
        last = self._last_error()
        if len(self.owner._connectors) == 1 and last is not None:
            return last
        error = AllEndpointsFailedError(
            f"all {len(self.owner._connectors)} endpoints failed", attempts=list(self.attempts)
        )
        error.__cause__ = last
        return error

    def _deadline_exceeded(self, i: int, during: LLMError | None = None) -> LLMError:
        """The error for a call whose deadline has passed: before attempt ``tries + 1`` on
        endpoint ``i``, or, when ``during`` is a timeout, during the attempt it cut short."""
        name = self.owner.endpoints[i]
        cut_short = isinstance(during, RequestTimeoutError)
        attempt = self.tries if cut_short else self.tries + 1
        error = RequestTimeoutError(
            f"deadline exceeded during attempt {attempt}"
            if cut_short
            else f"deadline exceeded after {self.sent} attempt(s)",
            endpoint=name,
            attempt=attempt,
            hint="the call's deadline (ctx.deadline, or its timeout= parameter) left no time for another "
            "attempt",
        )
        error.__cause__ = self._last_error()
        if cut_short:
            self.attempts.pop()  # the timeout was the deadline: record it as such
        if len(self.owner._connectors) == 1:
            return error
        self.attempts.append(AttemptRecord(name, attempt, error))
        return self._give_up()


def _server(conn: Connector) -> tuple[str | None, int | None]:
    """The connector's host and port (a stand-in connector may not know them)."""
    return getattr(conn, "server", (None, None))


def _report(
    observed: CallInfo,
    owner: FailoverConnector,
    i: int,
    tries: int,
    action: AttemptAction,
    started: float | None,
    *,
    status: int | None = None,
    error: LLMError | None = None,
    delay: float | None = None,
) -> None:
    """Tell the observed call's observer how attempt ``tries`` on endpoint ``i`` went (a skip:
    ``tries`` 0 and ``started`` None, nothing was sent)."""
    if observed.observer is None:  # its observer does not take attempts
        return
    address, port = _server(owner._connectors[i])
    info = AttemptInfo(
        owner.endpoints[i],
        tries,
        action,
        error=error,
        duration=None if started is None else time.perf_counter() - started,
        delay=delay,
        breaker=owner._breakers[i].state,
        status=status if error is None else error.status,
        server_address=address,
        server_port=port,
    )
    report_attempt(observed, info)


class _PinnedConnector(FailoverConnector):
    """A :meth:`FailoverConnector.pinned` view: one endpoint of another failover connector,
    whose connector and breaker it shares but does not own (closing it, or dropping it, leaves
    them open)."""

    async def aclose(self) -> None:
        self._closed = True

    def _close_now(self) -> bool:
        return False
