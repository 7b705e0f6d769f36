"""Deadlines and idle timeouts, through real models made by ``create_llm``.

* a per-call deadline — ``ctx=RequestContext.with_timeout(s)`` or the call parameter
  ``timeout=s`` — bounds retries, backoff sleeps and failover together;
* a response or stream that stops sending bytes for longer than the read timeout raises a typed
  ``RequestTimeoutError`` (before the first chunk) or ``StreamInterruptedError`` caused by one
  (after it, with the partial text) instead of hanging;
* a ``Retry-After`` beyond the deadline (or ``max_retry_after``) fails over or fails fast instead
  of sleeping.

Every test bounds the elapsed time from both sides where it matters.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from core.llms.interfaces.context import RequestContext
from core.llms.interfaces.errors import (
    AllEndpointsFailedError,
    RateLimitError,
    RequestTimeoutError,
    ServiceUnavailableError,
    StreamInterruptedError,
)
from core.llms.providers.base.retry import RetryPolicy
from core.llms.registry import ModelRegistry
from core.llms.simulator import Fault, Simulator

from .fault_matrix_servers import OllamaFaultServer
from .fault_matrix_support import PROVIDERS, Mode, Outcome, build_model, call_model

#: slow, generous retries: without a deadline this policy would run for seconds.
PATIENT = RetryPolicy(max_retries=10, backoff_initial=0.2, backoff_max=0.2, jitter=0.0)
#: a read timeout far longer than any test: only the deadline can end a slow attempt.
LONG_READ = {"connect": 1.0, "read": 30.0, "total": 60.0}


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def call(
    provider: str,
    primary: Simulator | OllamaFaultServer,
    reg: ModelRegistry,
    mode: Mode = "call",
    *,
    backup: Simulator | OllamaFaultServer | None = None,
    ctx: RequestContext | None = None,
    params: dict[str, Any] | None = None,
    **settings: Any,
) -> Outcome:
    spec = PROVIDERS[provider]
    backup_url = backup.url if backup is not None else None
    async with build_model(spec, primary.url, backup_url, reg, **settings) as llm:
        return await call_model(llm, mode, ctx, **(params or {}))


# -- the deadline bounds retries, backoff and failover together -------------------------------


@pytest.mark.parametrize("how", ["ctx", "timeout"])
async def test_deadline_bounds_retries_backoff_and_failover(
    provider: str, providers_registry: ModelRegistry, how: str
) -> None:
    spec = PROVIDERS[provider]
    async with spec.server() as primary, spec.server() as backup:
        primary.set_default_fault(Fault(status=503))
        backup.set_default_fault(Fault(status=503))
        ctx = RequestContext.with_timeout(0.5) if how == "ctx" else None
        params = {"timeout": 0.5} if how == "timeout" else None
        out = await call(
            provider, primary, providers_registry, backup=backup, ctx=ctx, params=params, retry=PATIENT
        )
        # primary fails over at once; the backup (last endpoint) is retried every 0.2 s until the
        # next wait would pass the deadline: 3 tries at ~0, 0.2, 0.4 s, then it gives up.
        assert (primary.request_count, backup.request_count) == (1, 3)
    assert 0.35 <= out.elapsed < 0.6  # nothing slept past the deadline
    assert isinstance(out.error, AllEndpointsFailedError)
    assert isinstance(out.error.last_error, ServiceUnavailableError)
    assert [a.attempt for a in out.error.attempts] == [1, 1, 2, 3]


@pytest.mark.parametrize("how", ["ctx", "timeout"])
@pytest.mark.parametrize("mode", ["call", "stream_before"])
async def test_deadline_cuts_a_slow_attempt(
    provider: str, providers_registry: ModelRegistry, how: str, mode: Mode
) -> None:
    spec = PROVIDERS[provider]
    async with spec.server() as primary:
        primary.set_default_fault(Fault(delay=5))
        ctx = RequestContext.with_timeout(0.3) if how == "ctx" else None
        params = {"timeout": 0.3} if how == "timeout" else None
        out = await call(
            provider, primary, providers_registry, mode, ctx=ctx, params=params, timeouts=LONG_READ
        )
        assert primary.request_count == 1
    assert 0.25 <= out.elapsed < 0.8
    error = out.error
    assert isinstance(error, RequestTimeoutError) and "deadline exceeded during attempt 1" in error.message
    assert isinstance(error.__cause__, RequestTimeoutError)  # the attempt's own timeout
    assert (error.provider, error.endpoint, error.attempt) == (provider, out.endpoints[0], 1)


async def test_deadline_leaves_no_time_for_the_backup(
    provider: str, providers_registry: ModelRegistry
) -> None:
    spec = PROVIDERS[provider]
    async with spec.server() as primary, spec.server() as backup:
        primary.set_default_fault(Fault(delay=5))
        ctx = RequestContext.with_timeout(0.3)
        out = await call(provider, primary, providers_registry, backup=backup, ctx=ctx, timeouts=LONG_READ)
        assert (primary.request_count, backup.request_count) == (1, 0)
    assert out.elapsed < 0.8
    assert isinstance(out.error, AllEndpointsFailedError)
    last = out.error.last_error
    assert isinstance(last, RequestTimeoutError) and "deadline exceeded" in last.message


async def test_expired_deadline_sends_nothing(provider: str, providers_registry: ModelRegistry) -> None:
    spec = PROVIDERS[provider]
    async with spec.server() as primary:
        out = await call(provider, primary, providers_registry, ctx=RequestContext(deadline=time.monotonic()))
        assert primary.request_count == 0
    assert isinstance(out.error, RequestTimeoutError) and "after 0 attempt(s)" in out.error.message


async def test_the_earlier_of_ctx_and_timeout_wins(providers_registry: ModelRegistry) -> None:
    async with Simulator() as sim:
        sim.set_default_fault(Fault(delay=5))
        out = await call(
            "openai",
            sim,
            providers_registry,
            ctx=RequestContext.with_timeout(10),
            params={"timeout": 0.2},
            timeouts=LONG_READ,
        )
    assert isinstance(out.error, RequestTimeoutError) and 0.18 <= out.elapsed < 0.6


# -- Retry-After beyond the deadline fails over or fails fast ----------------------------------


@pytest.mark.parametrize("mode", ["call", "stream_before"])
async def test_retry_after_beyond_deadline_fails_fast(
    provider: str, providers_registry: ModelRegistry, mode: Mode
) -> None:
    spec = PROVIDERS[provider]
    async with spec.server() as primary:
        primary.set_default_fault(Fault(status=429, retry_after=3))  # < max_retry_after, > deadline
        out = await call(provider, primary, providers_registry, mode, ctx=RequestContext.with_timeout(1.0))
        assert primary.request_count == 1
    assert out.elapsed < 0.5  # it did not sleep the 3 s
    assert isinstance(out.error, RateLimitError) and out.error.retry_after == 3


async def test_retry_after_beyond_deadline_fails_over_at_once(
    provider: str, providers_registry: ModelRegistry
) -> None:
    spec = PROVIDERS[provider]
    async with spec.server() as primary, spec.server() as backup:
        primary.set_default_fault(Fault(status=429, retry_after=3))
        ctx = RequestContext.with_timeout(1.0)
        out = await call(provider, primary, providers_registry, backup=backup, ctx=ctx)
        assert (primary.request_count, backup.request_count) == (1, 1)
    assert out.error is None and out.served_by == out.endpoints[1]
    assert out.elapsed < 0.5


async def test_retry_after_beyond_max_retry_after_fails_fast_without_a_deadline(
    providers_registry: ModelRegistry,
) -> None:
    async with Simulator() as sim:
        sim.set_default_fault(Fault(status=503, retry_after=30))
        out = await call("openai", sim, providers_registry, retry=RetryPolicy(max_retry_after=1.0))
        assert sim.request_count == 1
    assert out.elapsed < 0.5
    assert isinstance(out.error, ServiceUnavailableError) and out.error.retry_after == 30


async def test_retry_after_within_the_deadline_is_honoured(providers_registry: ModelRegistry) -> None:
    async with Simulator() as sim:
        sim.enqueue(Fault(status=429, retry_after=0.3))
        out = await call("openai", sim, providers_registry, ctx=RequestContext.with_timeout(2.0))
        assert sim.request_count == 2
    assert out.error is None and 0.3 <= out.elapsed < 1.0


# -- idle timeouts: a stalled stream raises instead of hanging ---------------------------------


@pytest.mark.parametrize("where", ["endpoint", "call"])
async def test_stream_stalled_after_first_chunk_is_interrupted_by_a_timeout(
    provider: str, providers_registry: ModelRegistry, where: str
) -> None:
    spec = PROVIDERS[provider]
    async with spec.server() as primary:
        primary.set_default_fault(Fault(stall=5))
        if where == "endpoint":
            out = await call(provider, primary, providers_registry, "stream_after", timeouts={"read": 0.2})
        else:  # the endpoint would wait 30 s; this call allows 0.2 s of silence
            params = {"read_timeout": 0.2}
            out = await call(
                provider, primary, providers_registry, "stream_after", params=params, timeouts=LONG_READ
            )
        assert primary.request_count == 1  # after the first chunk: never retried
    assert 0.18 <= out.elapsed < 0.8
    error = out.error
    assert isinstance(error, StreamInterruptedError)
    assert isinstance(error.cause, RequestTimeoutError) and "read timed out" in error.cause.message
    assert error.__cause__ is error.cause
    assert out.chunks and error.partial_text == "".join(c.text for c in out.chunks) != ""


@pytest.mark.parametrize("mode", ["call", "stream_before"])
async def test_stall_before_first_chunk_is_a_timeout_and_fails_over(
    provider: str, providers_registry: ModelRegistry, mode: Mode
) -> None:
    spec = PROVIDERS[provider]
    async with spec.server() as primary, spec.server() as backup:
        primary.set_default_fault(Fault(stall=5, at="before_first_chunk"))
        out = await call(
            provider, primary, providers_registry, mode, backup=backup, params={"read_timeout": 0.2}
        )
        assert (primary.request_count, backup.request_count) == (1, 1)
    assert out.error is None and out.served_by == out.endpoints[1] and out.text == spec.answer
    assert 0.18 <= out.elapsed < 0.8


async def test_stall_before_first_chunk_alone_raises_a_timeout(
    provider: str, providers_registry: ModelRegistry
) -> None:
    spec = PROVIDERS[provider]
    async with spec.server() as primary:
        primary.set_default_fault(Fault(stall=5, at="before_first_chunk"))
        no_retry = RetryPolicy(max_retries=0)
        out = await call(
            provider, primary, providers_registry, "stream_before", timeouts={"read": 0.2}, retry=no_retry
        )
    assert isinstance(out.error, RequestTimeoutError) and out.error.status == 200
    assert not out.chunks and 0.18 <= out.elapsed < 0.8


async def test_a_slow_but_steady_stream_is_cut_at_the_deadline(providers_registry: ModelRegistry) -> None:
    # Never silent for longer than the read timeout, yet longer than the call may take.
    async with Simulator(chunk_delay=0.05) as sim:
        ctx = RequestContext.with_timeout(0.3)
        out = await call("openai", sim, providers_registry, "stream_after", ctx=ctx, timeouts={"read": 1.0})
    assert 0.25 <= out.elapsed < 0.8
    error = out.error
    assert isinstance(error, StreamInterruptedError) and isinstance(error.cause, RequestTimeoutError)
    assert error.partial_text and out.chunks
