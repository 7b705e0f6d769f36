"""Fixtures of the LiteLLM-compatibility tests: simulators (on the test's loop, and one served
from its own thread for plain blocking programs), a clean environment (compat's clients read
credentials from it), and compat's clients closed after every test."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

from core.llms import compat
from core.llms.simulator import Simulator

#: environment variables that would configure a provider (theirs and LiteLLM's names).
_CREDENTIALS = ("_API_KEY", "_TOKEN", "_API_BASE", "_BASE_URL", "_ENDPOINT", "_API_VERSION")


@pytest.fixture(autouse=True)
async def _clean(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    for name in list(os.environ):
        if name.endswith(_CREDENTIALS) or name.startswith(("AWS_", "GOOGLE_", "AZURE_", "OPENAI_", "VERTEX")):
            monkeypatch.delenv(name)
    for setting in ("drop_params", "num_retries", "request_timeout", "api_key", "api_base", "api_version"):
        monkeypatch.setattr(compat, setting, False if setting == "drop_params" else None)
    yield
    await compat.aclose()
    await asyncio.to_thread(compat.close)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as simulator:
        yield simulator


@pytest.fixture
def threaded_sim() -> Iterator[Simulator]:
    """A simulator on its own loop in its own thread: blocking code can call it directly."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Simulator] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)
        simulator = Simulator()
        loop.run_until_complete(simulator.__aenter__())
        box["sim"] = simulator
        ready.set()
        loop.run_forever()
        loop.run_until_complete(simulator.__aexit__(None, None, None))
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield box["sim"]
    finally:
        compat.close()  # (its connections to this simulator first)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
