"""Fixtures of the Prompt tests: a simulator on the test's loop, one on its own thread (for
blocking calls, which block the calling thread's loop), models and clients on them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from core.llms import LLMClient, create_llm
from core.llms.prompt import set_default_client
from core.llms.providers.base.implementation import BaseLLM
from core.llms.simulator import Simulator

KEY = "sim-key-not-secret"


def make_client(sim: Simulator, **options: Any) -> LLMClient:
    options.setdefault("default_model", "gpt-4.1-mini")
    return LLMClient(
        providers={"openai": {"endpoint": f"{sim.url}/v1", "api_key": KEY}}, environ={}, **options
    )


def make_model(sim: Simulator) -> BaseLLM:
    return create_llm("openai/gpt-4.1-mini", endpoint=f"{sim.url}/v1", api_key=KEY)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as server:
        yield server


@pytest.fixture
async def model(sim: Simulator) -> AsyncIterator[BaseLLM]:
    llm = make_model(sim)
    yield llm
    await llm.aclose()


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[LLMClient]:
    async with make_client(sim) as c:
        yield c


@pytest.fixture
def thread_sim() -> Iterator[Simulator]:
    """A simulator served by its own loop on its own thread: a blocking call made on the test's
    loop thread must not wait for a server on that same (then blocked) loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="prompt-test-sim", daemon=True)
    thread.start()
    server = Simulator()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture(autouse=True)
def _no_default_client() -> Iterator[None]:
    """Each test starts without a process-wide default client and may not leave one behind."""
    previous = set_default_client(None)
    yield
    left = set_default_client(previous)
    assert left is None, "a test left a default client set"
