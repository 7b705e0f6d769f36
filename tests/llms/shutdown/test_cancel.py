"""Stopping a call early releases its connection: task.cancel() mid-stream, ``break`` out of
``async for``, cancelling while waiting for the headers or for a retry. The aiohttp connector's
acquired-connection count returns to 0 and the simulator sees the connection closed."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import warnings
from collections.abc import AsyncIterator

import pytest

from core.llms.providers.base.implementation import BaseLLM
from core.llms.simulator import Fault, Simulator

from .support import acquired, client_sockets, eventually, model

LONG_PROMPT = "please " + "stream this word " * 10  # about 30 words: 30 chunks


@pytest.fixture
async def slow() -> AsyncIterator[Simulator]:
    """A simulator that sends a stream event every 20 ms."""
    async with Simulator(max_recorded=0, chunk_delay=0.02) as simulator:
        yield simulator


async def _still_works(llm: BaseLLM) -> None:
    """A later call on the same model succeeds (the pool was not poisoned)."""
    parts = [c.text async for c in llm.stream_answer("again")]
    assert "".join(parts) == "Simulated answer to: again"
    assert acquired(llm) == 0


async def test_cancelling_the_task_mid_stream_releases_the_connection(slow: Simulator) -> None:
    async with model(slow) as llm:
        first = asyncio.Event()

        async def consume() -> None:
            async for _ in llm.stream_answer(LONG_PROMPT):
                first.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(first.wait(), 2)
        assert acquired(llm) == 1 and slow.open_connections == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

        assert acquired(llm) == 0  # released by the time the cancellation reached the caller
        assert await eventually(lambda: slow.open_connections == 0), "the simulator still sees the connection"
        if client_sockets(slow.port) is not None:
            assert client_sockets(slow.port) == 0
        await _still_works(llm)


async def test_break_out_of_async_for_releases_the_connection(slow: Simulator) -> None:
    async with model(slow) as llm:
        async for chunk in llm.stream_answer(LONG_PROMPT):
            assert chunk.text
            break
        # The dropped generator is closed by the event loop's async-generator finaliser.
        assert await eventually(lambda: acquired(llm) == 0), "the connection stayed checked out"
        assert await eventually(lambda: slow.open_connections == 0), "the simulator still sees the connection"
        await _still_works(llm)


async def test_aclosing_releases_the_connection_before_the_block_ends(slow: Simulator) -> None:
    async with model(slow) as llm:
        async with contextlib.aclosing(llm.stream_answer(LONG_PROMPT)) as chunks:
            async for _ in chunks:
                break
        assert acquired(llm) == 0  # deterministic: no loop iteration needed
        assert await eventually(lambda: slow.open_connections == 0)


async def test_cancelling_while_waiting_for_the_headers_releases_the_connection() -> None:
    async with Simulator(max_recorded=0) as sim, model(sim) as llm:
        sim.enqueue(Fault(delay=5.0), Fault(delay=5.0))
        plain = asyncio.create_task(llm.get_answer("hello"))
        streamed = asyncio.create_task(anext(llm.stream_answer("hello")))
        assert await eventually(lambda: sim.request_count == 2)
        assert acquired(llm) == 2
        plain.cancel()
        streamed.cancel()
        for task in (plain, streamed):
            with pytest.raises(asyncio.CancelledError):
                await task
        assert acquired(llm) == 0
        assert await eventually(lambda: sim.open_connections == 0)


async def test_cancelling_during_a_retry_wait_leaks_nothing() -> None:
    async with Simulator(max_recorded=0) as sim, model(sim) as llm:
        sim.enqueue(Fault(status=429, retry_after=5))  # the retry waits 5 s
        task = asyncio.create_task(llm.get_answer("hello"))
        assert await eventually(lambda: sim.request_count == 1)
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert acquired(llm) == 0
        await _still_works(llm)


async def test_stopping_early_many_times_leaves_no_connection_and_no_warning(slow: Simulator) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with model(slow) as llm:
            for n in range(20):
                if n % 2:
                    async for _ in llm.stream_answer(LONG_PROMPT):
                        break
                else:
                    task = asyncio.create_task(anext(llm.stream_answer(LONG_PROMPT)))
                    await asyncio.sleep(0.005 * (n % 5))
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            assert await eventually(lambda: acquired(llm) == 0)
        assert await eventually(lambda: slow.open_connections == 0)
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
