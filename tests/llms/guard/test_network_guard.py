"""The suite-wide guard refuses non-local addresses and lets loopback through."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest


def test_guard_blocks_public_ip() -> None:
    with socket.socket() as s, pytest.raises(RuntimeError, match="non-local"):
        s.connect(("93.184.216.34", 443))


def test_guard_blocks_dns_of_public_host() -> None:
    with pytest.raises(RuntimeError, match="non-local"):
        socket.getaddrinfo("api.openai.com", 443)


async def test_guard_blocks_aiohttp_to_public_host() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(Exception) as info:  # aiohttp wraps the guard's error
            await session.get("https://api.openai.com/v1/models")
    assert "non-local" in repr(info.value) or "non-local" in repr(info.value.__cause__)


async def test_guard_allows_loopback() -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        await writer.wait_closed()
