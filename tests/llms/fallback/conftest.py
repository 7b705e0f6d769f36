"""Fixtures of the FallbackLLM tests: a healthy simulator, a failing one, a refused port."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from core.llms.simulator import Fault, Simulator


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A healthy simulator (the fallback's server)."""
    async with Simulator() as simulator:
        yield simulator


@pytest.fixture
async def dead() -> AsyncIterator[Simulator]:
    """A simulator answering 503 to every request (the primary's server)."""
    async with Simulator() as simulator:
        simulator.set_default_fault(Fault(status=503))
        yield simulator


@pytest.fixture
def refused_url() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` where PORT is bound but not listening: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
