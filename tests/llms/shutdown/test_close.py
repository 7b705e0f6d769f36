"""Closing a model or a factory closes every session; aclose() is idempotent; a closed model
refuses further calls with a typed error; calls in flight at aclose() end at once, typed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from core.llms import LLMFactory
from core.llms.interfaces.errors import ConfigurationError, LLMError, StreamInterruptedError
from core.llms.simulator import Fault, Simulator

from .support import KEY, acquired, client_sockets, connectors, eventually, model, open_sessions


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(max_recorded=0) as simulator:
        yield simulator


@pytest.fixture
async def backup() -> AsyncIterator[Simulator]:
    async with Simulator(max_recorded=0) as simulator:
        yield simulator


async def _stream_text(llm: object, prompt: str) -> str:
    return "".join([c.text async for c in llm.stream_answer(prompt)])  # type: ignore[attr-defined]


async def test_aclose_closes_the_session_of_every_endpoint(sim: Simulator, backup: Simulator) -> None:
    llm = model(sim, backup=backup)
    sim.enqueue(Fault(status=503))  # fail over, so both endpoints open a session
    assert (await llm.get_answer("hello")).text.endswith("hello")
    assert await _stream_text(llm, "again") == "Simulated answer to: again"
    assert open_sessions(llm) == 2
    assert backup.request_count == 1

    await llm.aclose()

    assert open_sessions(llm) == 0
    assert all(conn._session is None for conn in connectors(llm))
    assert await eventually(lambda: sim.open_connections == 0 and backup.open_connections == 0)
    if client_sockets(sim.port) is not None:
        assert await eventually(lambda: client_sockets(sim.port) == 0 and client_sockets(backup.port) == 0)


async def test_async_with_closes_the_model(sim: Simulator) -> None:
    async with model(sim) as llm:
        await llm.get_answer("hello")
        assert open_sessions(llm) == 1
    assert open_sessions(llm) == 0
    assert llm.closed
    assert await eventually(lambda: sim.open_connections == 0)


async def test_aclose_is_idempotent_used_or_not(sim: Simulator) -> None:
    unused = model(sim)
    await unused.aclose()
    await unused.aclose()
    used = model(sim)
    await used.get_answer("hello")
    await used.aclose()
    await used.aclose()
    async with used:  # closing through async with after aclose() is harmless too
        pass
    assert used.closed and unused.closed


async def test_a_closed_model_raises_a_typed_error_and_sends_nothing(sim: Simulator) -> None:
    llm = model(sim)
    await llm.get_answer("hello")
    await llm.aclose()
    sent = sim.request_count

    with pytest.raises(ConfigurationError) as plain:
        await llm.get_answer("hello")
    with pytest.raises(ConfigurationError) as streamed:
        await _stream_text(llm, "hello")

    assert sim.request_count == sent
    for error in (plain.value, streamed.value):
        assert "closed" in error.message and "aclose()" in error.message
        assert error.model == "gpt-4.1-mini" and error.provider == "openai"
        assert error.hint is not None and "create_llm" in error.hint
        assert KEY not in str(error) and KEY not in repr(error)
    assert open_sessions(llm) == 0  # nothing was reopened


async def test_factory_aclose_closes_every_model_and_get_makes_a_new_one(sim: Simulator) -> None:
    config = {
        "models": {
            "fast": {"model": "openai/gpt-4.1-mini", "endpoint": f"{sim.url}/v1", "api_key": KEY},
            "other": {"model": "openai/gpt-4.1-nano", "endpoint": f"{sim.url}/v1", "api_key": KEY},
            "unused": {"model": "openai/gpt-4.1", "endpoint": f"{sim.url}/v1", "api_key": KEY},
        }
    }
    async with LLMFactory.from_config(config) as llms:
        fast, other = llms["fast"], llms["other"]
        await fast.get_answer("hello")
        await _stream_text(other, "hello")
        assert open_sessions(fast) == open_sessions(other) == 1
    assert open_sessions(fast) == open_sessions(other) == 0
    assert fast.closed and other.closed
    assert await eventually(lambda: sim.open_connections == 0)
    with pytest.raises(ConfigurationError):
        await fast.get_answer("hello")

    renewed = llms.get("fast")  # documented: a closed factory builds a new model on get()
    assert renewed is not fast
    assert (await renewed.get_answer("hello")).text.endswith("hello")
    await llms.aclose()
    await llms.aclose()  # idempotent
    assert renewed.closed


async def test_calls_in_flight_at_aclose_end_at_once_with_typed_errors(
    sim: Simulator, backup: Simulator
) -> None:
    slow = Simulator(max_recorded=0, chunk_delay=0.02)
    async with slow:
        # two connections at most: some calls are waiting for a free one when aclose() comes
        llm = model(slow, backup=backup, max_connections=2)

        async def call(i: int) -> str:
            if i % 2:
                return await _stream_text(llm, f"streamed {i} " + "word " * 20)
            return (await llm.get_answer(f"plain {i}")).text

        tasks = [asyncio.create_task(call(i)) for i in range(12)]
        await asyncio.sleep(0.1)
        assert not all(t.done() for t in tasks)
        await llm.aclose()
        _, pending = await asyncio.wait(tasks, timeout=2.0)

        assert not pending, "a call in flight hung after aclose()"
        outcomes = [t.exception() or t.result() for t in tasks]
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        assert errors, "aclose() came too late to cut any call short"
        for error in errors:
            assert isinstance(error, LLMError), repr(error)  # never CancelledError or an aiohttp error
            assert isinstance(error, ConfigurationError | StreamInterruptedError), repr(error)
        assert acquired(llm) == 0
        assert await eventually(lambda: slow.open_connections == 0)
        assert backup.request_count == 0  # a call cut short by aclose() does not fail over
