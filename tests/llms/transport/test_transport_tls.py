"""TLS settings honoured by the Connector: verification on by default, ca_bundle, verify_tls=False.

Uses a throw-away self-signed certificate for 127.0.0.1 made with the ``openssl`` command."""

from __future__ import annotations

import shutil
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.llms.interfaces.errors import APIConnectionError
from core.llms.interfaces.llm_interfaces import WireRequest
from core.llms.providers.base.connector import Connector

from .support import FakeAdapter, ScriptServer, endpoint

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")

REQUEST = WireRequest(operation="chat", payload={})


@pytest.fixture
async def tls_server(certificate: tuple[Path, Path]) -> AsyncIterator[ScriptServer]:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = ScriptServer()
    await server.start(ssl_context=context)
    yield server
    await server.stop()


async def test_untrusted_certificate_is_a_connection_error_with_a_hint(
    tls_server: ScriptServer, adapter: FakeAdapter
) -> None:
    async with Connector(endpoint(tls_server.url), adapter) as conn:
        with pytest.raises(APIConnectionError, match="TLS certificate verification failed") as info:
            await conn.send_once(REQUEST, b"{}", None, None)
    assert info.value.hint is not None and "ca_bundle" in info.value.hint
    assert tls_server.hits == 0


async def test_ca_bundle_is_trusted(
    tls_server: ScriptServer, adapter: FakeAdapter, certificate: tuple[Path, Path]
) -> None:
    async with Connector(endpoint(tls_server.url, ca_bundle=str(certificate[0])), adapter) as conn:
        resp = await conn.send_once(REQUEST, b"{}", None, None)
    assert resp.data == {"ok": True}


async def test_verify_tls_false_skips_verification(tls_server: ScriptServer, adapter: FakeAdapter) -> None:
    async with Connector(endpoint(tls_server.url, verify_tls=False), adapter) as conn:
        resp = await conn.send_once(REQUEST, b"{}", None, None)
    assert resp.data == {"ok": True}
