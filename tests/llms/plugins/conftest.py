"""Every plugin test starts from a clean environment and clean caches."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from core.llms.plugins import reset_plugin_manager

from .ollama_support import FakeOllama
from .support import PROVIDER_ENV


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    reset_plugin_manager()
    yield
    reset_plugin_manager()


@pytest.fixture
async def ollama() -> AsyncIterator[FakeOllama]:
    """A started fake Ollama server on 127.0.0.1; stopped after the test."""
    server = FakeOllama()
    await server.start()
    try:
        yield server
    finally:
        await server.close()
