"""Shared fixtures of the transport tests (helpers live in ``support.py``)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.retry import RetryPolicy

from .support import FAST, FailoverFactory, FakeAdapter, ScriptServer, ServerFactory, endpoint


@pytest.fixture
async def make_server() -> AsyncIterator[ServerFactory]:
    """Starts scripted servers on 127.0.0.1 (port 0); all are stopped after the test."""
    servers: list[ScriptServer] = []

    async def make() -> ScriptServer:
        server = ScriptServer()
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.stop()


@pytest.fixture
async def server(make_server: ServerFactory) -> ScriptServer:
    return await make_server()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL on which nothing listens (connection refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def adapter() -> FakeAdapter:
    return FakeAdapter()


@pytest.fixture
async def failover(adapter: FakeAdapter) -> AsyncIterator[FailoverFactory]:
    """Builds FailoverConnectors over URLs (primary first) and closes them after the test.

    Keyword arguments ``timeouts``, ``headers`` and ``api_key`` go to the primary endpoint (the
    backups inherit them); the rest to ``FailoverConnector.from_endpoints``.
    """
    made: list[FailoverConnector] = []

    def build(*urls: str, policy: RetryPolicy | None = FAST, **kw: Any) -> FailoverConnector:
        ep_kw = {k: kw.pop(k) for k in list(kw) if k in ("timeouts", "headers", "api_key")}
        primary = endpoint(urls[0], **ep_kw)
        fc = FailoverConnector.from_endpoints(
            adapter, primary, [{"endpoint": u} for u in urls[1:]], policy=policy, **kw
        )
        made.append(fc)
        return fc

    yield build
    for fc in made:
        await fc.aclose()
