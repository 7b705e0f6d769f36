"""FailoverConnector.stream: failover before the first item, StreamInterruptedError after it, and
the HTTP response released in every case (including early break and cancellation)."""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing

import pytest

from core.llms.interfaces.context import RequestContext
from core.llms.interfaces.endpoint import Timeouts
from core.llms.interfaces.errors import (
    AllEndpointsFailedError,
    APIConnectionError,
    AuthenticationError,
    RequestTimeoutError,
    ServiceUnavailableError,
    StreamInterruptedError,
)
from core.llms.interfaces.llm_interfaces import WireRequest
from core.llms.providers.base.failover import FailoverConnector

from .support import (
    FailoverFactory,
    Reply,
    ScriptServer,
    ServerFactory,
    TextParser,
    error_json,
    sse,
    sse_error,
)

STREAM = WireRequest(operation="chat", payload={"stream": True}, stream=True)


async def collect(
    fc: FailoverConnector, ctx: RequestContext | None = None, parsers: list[str] | None = None
) -> list[str]:
    def factory(name: str, request_id: str | None) -> TextParser:
        if parsers is not None:
            parsers.append(name)
        return TextParser(name, request_id)

    async with aclosing(fc.stream(STREAM, factory, ctx)) as items:
        return [item async for item in items]


async def two(make_server: ServerFactory) -> tuple[ScriptServer, ScriptServer]:
    return await make_server(), await make_server()


async def test_stream_success(server: ScriptServer, failover: FailoverFactory) -> None:
    server.enqueue(Reply(chunks=sse("Hel", "lo")))
    parsers: list[str] = []
    assert await collect(failover(server.url), parsers=parsers) == ["Hel", "lo"]
    assert parsers == [server.url]
    assert server.requests[0].headers["Accept"] == "text/event-stream"


async def test_status_error_before_first_item_fails_over(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await two(make_server)
    a.enqueue(Reply(status=503, json=error_json("overloaded")))
    b.enqueue(Reply(chunks=sse("from b")))
    parsers: list[str] = []
    assert await collect(failover(a.url, b.url), parsers=parsers) == ["from b"]
    assert parsers == [b.url]  # no parser for an attempt whose status failed


async def test_in_stream_error_event_before_first_item_fails_over(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await two(make_server)
    a.enqueue(Reply(chunks=[sse_error(500, "server_error mid-stream")]))
    b.enqueue(Reply(chunks=sse("ok")))
    parsers: list[str] = []
    assert await collect(failover(a.url, b.url), parsers=parsers) == ["ok"]
    assert parsers == [a.url, b.url]  # one parser per attempt


async def test_stream_ending_before_any_item_is_retried(
    server: ScriptServer, failover: FailoverFactory
) -> None:
    server.enqueue(Reply(chunks=[b": keep-alive\n\n"]), Reply(chunks=sse("second try")))
    assert await collect(failover(server.url)) == ["second try"]
    assert server.hits == 2


async def test_stream_ending_before_any_item_everywhere(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await two(make_server)
    a.enqueue(Reply(chunks=[]))
    b.enqueue(*[Reply(chunks=[])] * 3)
    with pytest.raises(AllEndpointsFailedError) as info:
        await collect(failover(a.url, b.url))
    last = info.value.last_error
    assert isinstance(last, APIConnectionError)
    assert "ended before any data" in last.message
    assert isinstance(last.__cause__, StreamInterruptedError)


async def test_auth_error_on_stream_is_raised_at_once(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await two(make_server)
    a.enqueue(Reply(status=401, json=error_json("bad key")))
    with pytest.raises(AuthenticationError):
        await collect(failover(a.url, b.url))
    assert b.hits == 0


async def test_drop_after_first_item_is_stream_interrupted(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await two(make_server)
    a.enqueue(Reply(chunks=sse("partial", done=False), drop=True, headers={"x-request-id": "req-9"}))
    got: list[str] = []
    fc = failover(a.url, b.url)
    with pytest.raises(StreamInterruptedError) as info:
        async with aclosing(fc.stream(STREAM, TextParser)) as items:
            async for item in items:
                got.append(item)
    err = info.value
    assert got == ["partial"]
    assert isinstance(err.cause, APIConnectionError)
    assert err.__cause__ is err.cause
    assert (err.endpoint, err.attempt, err.status, err.request_id) == (a.url, 1, 200, "req-9")
    assert b.hits == 0  # never failed over after data reached the caller
    assert fc.breaker(a.url).failures == 1


async def test_error_event_after_first_item_is_stream_interrupted(
    server: ScriptServer, failover: FailoverFactory
) -> None:
    server.enqueue(Reply(chunks=[*sse("a", done=False), sse_error(503, "overloaded")]))
    with pytest.raises(StreamInterruptedError) as info:
        await collect(failover(server.url))
    assert isinstance(info.value.cause, ServiceUnavailableError)
    assert server.hits == 1  # not retried


async def test_missing_terminal_marker_after_items(server: ScriptServer, failover: FailoverFactory) -> None:
    server.enqueue(Reply(chunks=sse("a", "b", done=False)))
    with pytest.raises(StreamInterruptedError, match=r"\[DONE\]") as info:
        await collect(failover(server.url))
    assert (info.value.endpoint, info.value.attempt) == (server.url, 1)
    assert server.hits == 1


async def test_stalled_stream_before_first_item_fails_over(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await two(make_server)
    a.enqueue(Reply(chunks=[b": ping\n\n"], stall=True))
    b.enqueue(Reply(chunks=sse("b")))
    fc = failover(a.url, b.url, timeouts=Timeouts(connect=1, read=0.2, total=10))
    started = time.monotonic()
    assert await collect(fc) == ["b"]
    assert time.monotonic() - started < 1.5


async def test_stalled_stream_after_first_item_read_timeout(
    server: ScriptServer, failover: FailoverFactory
) -> None:
    server.enqueue(Reply(chunks=sse("a", done=False), stall=True))
    fc = failover(server.url, timeouts=Timeouts(connect=1, read=0.2, total=10))
    with pytest.raises(StreamInterruptedError) as info:
        await collect(fc)
    assert isinstance(info.value.cause, RequestTimeoutError)


async def test_consumer_breaking_early_releases_the_connection(
    server: ScriptServer, failover: FailoverFactory
) -> None:
    server.enqueue(Reply(chunks=sse("first", done=False), stall=True))
    fc = failover(server.url)
    async with aclosing(fc.stream(STREAM, TextParser)) as items:
        async for item in items:
            assert item == "first"
            break
    # the server's handler sees its client go away at once (not after the 30 s stall)
    await asyncio.wait_for(server.disconnected.wait(), 2)
    assert fc.breaker(server.url).state == "closed"


async def test_cancelled_consumer_releases_the_connection(
    server: ScriptServer, failover: FailoverFactory
) -> None:
    server.enqueue(Reply(chunks=sse("first", done=False), stall=True))
    fc = failover(server.url)
    first = asyncio.Event()

    async def consume() -> None:
        async with aclosing(fc.stream(STREAM, TextParser)) as items:
            async for _ in items:
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(server.disconnected.wait(), 2)


async def test_idempotency_key_identical_on_stream_attempts(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await two(make_server)
    a.enqueue(Reply(status=502, json=error_json("bad gateway")))
    b.enqueue(Reply(status=503, json=error_json("x")), Reply(chunks=sse("ok")))
    assert await collect(failover(a.url, b.url), RequestContext(idempotency_key="k-1")) == ["ok"]
    keys = [r.headers["Idempotency-Key"] for r in a.requests + b.requests]
    assert keys == ["k-1"] * 3


async def test_stream_deadline(server: ScriptServer, failover: FailoverFactory) -> None:
    server.enqueue(*[Reply(chunks=[b": ping\n\n"], stall=True)] * 3)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError, match="deadline exceeded"):
        await collect(failover(server.url), RequestContext.with_timeout(0.3))
    assert time.monotonic() - started < 1
