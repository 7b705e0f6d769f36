"""Every plugin test starts from a clean environment and clean caches."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .ollama_support import FakeOllama
from .support import clean_provider_env

__all__ = ["clean_provider_env"]  # a fixture: imported so that pytest sees it here


@pytest.fixture(autouse=True)
def _clean_env(clean_provider_env: None) -> None:
    """See :func:`.support.clean_provider_env`."""


@pytest.fixture
async def ollama() -> AsyncIterator[FakeOllama]:
    """A started fake Ollama server on 127.0.0.1; stopped after the test."""
    server = FakeOllama()
    await server.start()
    try:
        yield server
    finally:
        await server.close()
