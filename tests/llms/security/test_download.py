"""``fetch_bytes``: the safe downloader. Private / loopback / link-local / multicast / reserved /
unspecified addresses refused (directly, by DNS, by DNS rebinding, through a redirect), only
http(s), size and time limits, typed errors without query strings. Only 127.0.0.1 is contacted:
hosts that "resolve" elsewhere are answered by a stubbed resolver, and refused before connecting."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from core.llms.interfaces.errors import InvalidInputError, UnsafeURLError
from core.llms.providers.base import download
from core.llms.providers.base.download import DownloadPolicy, check_address, fetch_bytes

from .support import LocalServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PUBLIC = "93.184.216.34"  # documentation-style public address; never contacted


async def image(request: web.Request) -> web.Response:
    return web.Response(body=PNG, content_type="image/png")


async def big(request: web.Request) -> web.Response:
    return web.Response(body=b"x" * 5000, content_type="image/png")


async def big_chunked(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "image/png"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for _ in range(50):
        await resp.write(b"y" * 1000)
    await resp.write_eof()
    return resp


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(5)
    return web.Response(body=PNG)


def redirect_to(location: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        raise web.HTTPFound(location)

    return handler


async def redirect_loop(request: web.Request) -> web.Response:
    raise web.HTTPFound("/loop")


async def missing(request: web.Request) -> web.Response:
    return web.Response(status=404, text="no")


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    routes = [
        ("GET", "/image.png", image),
        ("GET", "/big", big),
        ("GET", "/big-chunked", big_chunked),
        ("GET", "/slow", slow),
        ("GET", "/to-image", redirect_to("/image.png")),
        ("GET", "/to-private", redirect_to("http://10.1.2.3/latest/meta-data")),
        ("GET", "/to-metadata", redirect_to("http://169.254.169.254/latest/meta-data/")),
        ("GET", "/to-internal-name", redirect_to("http://internal.corp.example/admin")),
        ("GET", "/to-file", redirect_to("file:///etc/passwd")),
        ("GET", "/loop", redirect_loop),
        ("GET", "/missing", missing),
    ]
    async with LocalServer(routes) as srv:
        yield srv


# -- the address rules -------------------------------------------------------------------------

REFUSED = [
    "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "0.0.0.0",
    "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "100.64.0.1", "198.18.0.1",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "2002:7f00:1::1", "2002:a00:1::1", "64:ff9b::a00:1", "64:ff9b::7f00:1", "2001:db8::1",
]  # fmt: skip
ALLOWED = ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    with pytest.raises(UnsafeURLError, match="non-public address"):
        check_address(address)
    check_address(address, allow_private=True)  # the explicit opt-out lifts the rule


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    check_address(address)


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/x.png", "gopher://example.com/", "data:image/png;base64,AAAA",
     "javascript:alert(1)", "//example.com/x.png", "http:///nohost", "not a url"],
)  # fmt: skip
async def test_only_http_and_https_urls_are_fetched(url: str) -> None:
    with pytest.raises(UnsafeURLError):
        await fetch_bytes(url, max_bytes=100, timeout=1, allow_private=True)


# -- loopback by default, allowed on request ------------------------------------------------------


async def test_loopback_is_refused_by_default_and_nothing_is_sent(server: LocalServer) -> None:
    for url in (f"{server.url}/image.png", f"http://localhost:{server.port}/image.png"):
        with pytest.raises(UnsafeURLError, match="loopback"):
            await fetch_bytes(url, max_bytes=1000, timeout=2)
    assert server.seen == []


async def test_allowed_with_allow_private(server: LocalServer) -> None:
    data, media_type = await fetch_bytes(
        f"{server.url}/image.png", max_bytes=1000, timeout=2, allow_private=True
    )
    assert (data, media_type) == (PNG, "image/png")
    policy = DownloadPolicy(max_bytes=1000, timeout=2, allow_private=True)
    assert await policy.fetch(f"http://localhost:{server.port}/to-image") == (PNG, "image/png")


# -- limits ------------------------------------------------------------------------------------------


async def test_size_cap_from_content_length_and_while_reading(server: LocalServer) -> None:
    for path in ("/big", "/big-chunked"):
        with pytest.raises(InvalidInputError, match="larger than the download limit") as info:
            await fetch_bytes(f"{server.url}{path}", max_bytes=4096, timeout=2, allow_private=True)
        assert not isinstance(info.value, UnsafeURLError)
    data, _ = await fetch_bytes(f"{server.url}/big-chunked", max_bytes=50_000, timeout=2, allow_private=True)
    assert len(data) == 50_000


async def test_timeout_bounds_the_whole_download(server: LocalServer) -> None:
    started = asyncio.get_running_loop().time()
    with pytest.raises(InvalidInputError, match=r"took longer than 0\.3 s"):
        await fetch_bytes(f"{server.url}/slow", max_bytes=1000, timeout=0.3, allow_private=True)
    assert asyncio.get_running_loop().time() - started < 2


async def test_http_errors_and_redirect_loops_are_typed(server: LocalServer) -> None:
    with pytest.raises(InvalidInputError, match="HTTP 404"):
        await fetch_bytes(f"{server.url}/missing", max_bytes=1000, timeout=2, allow_private=True)
    with pytest.raises(InvalidInputError, match="more than 5 redirects"):
        await fetch_bytes(f"{server.url}/loop", max_bytes=1000, timeout=2, allow_private=True)


async def test_unreachable_host_is_a_typed_error() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(InvalidInputError, match="could not download"):
        await fetch_bytes(f"http://127.0.0.1:{port}/x", max_bytes=10, timeout=2, allow_private=True)


async def test_errors_never_show_the_query_string_or_user_info(server: LocalServer) -> None:
    url = f"http://user:hunter2@127.0.0.1:{server.port}/missing?X-Amz-Signature=canary-sig-123"
    for allow in (False, True):
        with pytest.raises(InvalidInputError) as info:
            await fetch_bytes(url, max_bytes=1000, timeout=2, allow_private=allow)
        text = str(info.value) + repr(info.value) + str(info.value.hint)
        assert "canary-sig-123" not in text and "hunter2" not in text


# -- DNS and redirects: the "public" host is served by the local server through a test resolver ---


class _ToLocal(AbstractResolver):
    """Resolves every name to 127.0.0.1 (the caller-supplied session of the redirect tests)."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host="127.0.0.1", port=port, family=socket.AF_INET, proto=0, flags=0)
        ]

    async def close(self) -> None:
        return None


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The downloader's own DNS look-ups, answered from this table (names -> addresses)."""
    table: dict[str, list[str]] = {"images.example": [PUBLIC], "internal.corp.example": ["10.20.30.40"]}
    lookups: list[str] = []

    async def lookup(host: str, port: int) -> list[tuple[int, str]]:
        lookups.append(host)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, a) for a in table[host]]

    monkeypatch.setattr(download, "_lookup", lookup)
    table["__lookups__"] = lookups
    return table


@pytest.fixture
async def local_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=_ToLocal())) as session:
        yield session


async def test_a_public_name_is_fetched_and_a_private_name_refused(
    server: LocalServer, fake_dns: dict[str, list[str]], local_session: aiohttp.ClientSession
) -> None:
    url = f"http://images.example:{server.port}/image.png"
    assert await fetch_bytes(url, max_bytes=1000, timeout=2, session=local_session) == (PNG, "image/png")
    with pytest.raises(UnsafeURLError, match="private"):
        await fetch_bytes(
            f"http://internal.corp.example:{server.port}/image.png",
            max_bytes=1000,
            timeout=2,
            session=local_session,
        )
    assert len(server.seen) == 1


async def test_every_resolved_address_is_checked(
    server: LocalServer, fake_dns: dict[str, list[str]], local_session: aiohttp.ClientSession
) -> None:
    fake_dns["images.example"] = [PUBLIC, "::1"]
    with pytest.raises(UnsafeURLError, match="loopback"):
        await fetch_bytes(f"http://images.example:{server.port}/image.png", max_bytes=100, timeout=2)
    assert server.seen == []


@pytest.mark.parametrize(
    ("path", "why"),
    [("/to-private", "private"), ("/to-metadata", "link-local"), ("/to-internal-name", "private"),
     ("/to-file", "redirect")],
)  # fmt: skip
async def test_redirects_to_private_addresses_are_refused(
    server: LocalServer,
    fake_dns: dict[str, list[str]],
    local_session: aiohttp.ClientSession,
    path: str,
    why: str,
) -> None:
    with pytest.raises(UnsafeURLError, match=why):
        await fetch_bytes(
            f"http://images.example:{server.port}{path}", max_bytes=1000, timeout=2, session=local_session
        )
    assert len(server.seen) == 1  # the first hop was served; the redirect target never contacted


async def test_redirects_to_public_hosts_are_followed(
    server: LocalServer, fake_dns: dict[str, list[str]], local_session: aiohttp.ClientSession
) -> None:
    url = f"http://images.example:{server.port}/to-image"
    assert await fetch_bytes(url, max_bytes=1000, timeout=2, session=local_session) == (PNG, "image/png")
    assert len(server.seen) == 2


async def test_dns_rebinding_is_caught_at_connect_time(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first look-up (the pre-check) says public; the one aiohttp's connect uses says loopback.
    answers = iter([[PUBLIC], ["127.0.0.1"]])

    async def lookup(host: str, port: int) -> list[tuple[int, str]]:
        return [(socket.AF_INET, a) for a in next(answers)]

    monkeypatch.setattr(download, "_lookup", lookup)
    with pytest.raises(UnsafeURLError, match="loopback"):
        await fetch_bytes(f"http://rebind.example:{server.port}/image.png", max_bytes=1000, timeout=2)
    assert server.seen == []
