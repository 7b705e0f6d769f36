"""Transport safety: TLS verification on by default, a custom CA bundle and an HTTP(S) proxy per
endpoint (through a real forward proxy on 127.0.0.1, CONNECT tunnel included), and size caps on
non-streamed bodies (plain, chunked, gzip) and on single stream events."""

from __future__ import annotations

import gzip
import json
import shutil
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from core.llms.factory import create_llm
from core.llms.interfaces.endpoint import (
    DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    EndpointConfig,
)
from core.llms.interfaces.errors import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    ResponseTooLargeError,
    StreamInterruptedError,
)
from core.llms.interfaces.llm_interfaces import WireRequest
from core.llms.providers.base.connector import Connector
from core.llms.providers.openai.adapter import OpenAIAdapter
from core.llms.simulator import Simulator

from .support import OPENAI_KEY, PROXY_PASSWORD, ForwardProxy, LocalServer, assert_clean, error_texts

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1},
}
CHAT = WireRequest("chat", {})


# -- TLS ---------------------------------------------------------------------------------------------


def test_tls_verification_is_on_by_default() -> None:
    config = EndpointConfig(endpoint="https://api.openai.com/v1")
    assert config.verify_tls is True and config.ca_bundle is None
    assert Connector(config, OpenAIAdapter())._ssl() is True


needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


async def completion(request: web.Request) -> web.Response:
    return web.json_response(COMPLETION)


@pytest.fixture
async def tls_api(certificate: tuple[Path, Path]) -> AsyncIterator[LocalServer]:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = LocalServer([("POST", "/v1/chat/completions", completion)])
    server.ssl_context = context
    async with server:
        yield server


@needs_openssl
async def test_untrusted_certificate_fails_and_the_key_is_never_sent(tls_api: LocalServer) -> None:
    url = f"https://127.0.0.1:{tls_api.port}/v1"
    async with create_llm("openai/gpt-4o", endpoint=url, api_key=OPENAI_KEY, retry={"max_retries": 0}) as llm:
        with pytest.raises(APIConnectionError, match="certificate") as info:
            await llm.get_answer("hi")
    assert tls_api.seen == []
    assert_clean(*error_texts(info.value))


@needs_openssl
async def test_custom_ca_bundle_per_endpoint(tls_api: LocalServer, certificate: tuple[Path, Path]) -> None:
    url = f"https://127.0.0.1:{tls_api.port}/v1"
    async with create_llm(
        "openai/gpt-4o", endpoint=url, api_key=OPENAI_KEY, ca_bundle=str(certificate[0])
    ) as llm:
        assert (await llm.get_answer("hi")).text == "hi"
    assert tls_api.seen[0]["Authorization"] == f"Bearer {OPENAI_KEY}"


# -- proxy -------------------------------------------------------------------------------------------


async def test_plain_http_goes_through_the_endpoints_proxy() -> None:
    # The endpoint's host name is known only to the proxy: reaching it at all proves the route.
    async with Simulator() as sim, ForwardProxy(hosts={"llm.egress-only.example": "127.0.0.1"}) as proxy:
        url = f"http://llm.egress-only.example:{sim.port}/v1"
        async with create_llm("openai/gpt-4o", endpoint=url, api_key=OPENAI_KEY, proxy=proxy.url()) as llm:
            assert (await llm.get_answer("hello")).text
            chunks = [c async for c in llm.stream_answer("hello")]
        assert chunks[-1].finish_reason == "stop"
        assert proxy.requests[0] == f"POST {url}/chat/completions"
        assert sim.request_count == 2


async def test_proxy_credentials_are_sent_and_never_shown() -> None:
    creds = f"egress:{PROXY_PASSWORD}"
    async with Simulator() as sim, ForwardProxy(credentials=creds) as proxy:
        proxy_url = proxy.url(f"{creds}@")
        async with create_llm(
            "openai/gpt-4o", endpoint=f"{sim.url}/v1", api_key=OPENAI_KEY, proxy=proxy_url
        ) as llm:
            assert (await llm.get_answer("hello")).text
            assert_clean(llm, llm.connector, *getattr(llm.connector, "endpoints", ()))
        # Wrong password: the proxy's 407 is a typed error that does not echo the credentials.
        bad = proxy.url(f"egress:{PROXY_PASSWORD}-wrong@")
        async with create_llm(
            "openai/gpt-4o", endpoint=f"{sim.url}/v1", api_key=OPENAI_KEY, proxy=bad, retry={"max_retries": 0}
        ) as llm:
            with pytest.raises(AuthenticationError, match="407") as info:
                await llm.get_answer("hello")
            assert_clean(*error_texts(info.value))
    assert proxy.authorizations[0] is not None and proxy.authorizations[0].startswith("Basic ")
    assert sim.request_count == 1


@needs_openssl
async def test_https_through_a_connect_proxy_with_a_custom_ca(
    tls_api: LocalServer, certificate: tuple[Path, Path]
) -> None:
    url = f"https://127.0.0.1:{tls_api.port}/v1"
    # (the certificate is for 127.0.0.1, so the proxy needs no host alias here)
    async with (
        ForwardProxy() as proxy,
        create_llm(
            "openai/gpt-4o",
            endpoint=url,
            api_key=OPENAI_KEY,
            proxy=proxy.url(),
            ca_bundle=str(certificate[0]),
        ) as llm,
    ):
        assert (await llm.get_answer("hi")).text == "hi"
    assert proxy.requests == [f"CONNECT 127.0.0.1:{tls_api.port}"]
    assert len(tls_api.seen) == 1


def test_proxy_must_be_an_http_url_and_is_never_echoed() -> None:
    for bad in ("socks5://user:secret-proxy-canary@proxy:1080", "secret-proxy-canary", "http://"):
        with pytest.raises(ConfigurationError) as info:
            create_llm("openai/gpt-4o", endpoint="https://api.openai.com/v1", api_key=OPENAI_KEY, proxy=bad)
        assert "secret-proxy-canary" not in str(info.value) + repr(info.value)


# -- size caps -------------------------------------------------------------------------------------


def test_size_caps_have_defaults_and_are_per_endpoint() -> None:
    config = EndpointConfig(endpoint="https://api.openai.com/v1")
    assert config.max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES == 64 * 1024 * 1024
    assert config.max_event_bytes == DEFAULT_MAX_EVENT_BYTES
    backup = config.derive({"max_response_bytes": 1000})
    assert (backup.max_response_bytes, backup.max_event_bytes) == (1000, DEFAULT_MAX_EVENT_BYTES)
    with pytest.raises(ValueError):
        EndpointConfig(endpoint="https://api.openai.com/v1", max_response_bytes=0)


BIG = json.dumps({**COMPLETION, "padding": "x" * 20_000}).encode()


async def plain(request: web.Request) -> web.Response:
    return web.Response(body=BIG, content_type="application/json")


async def chunked(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for i in range(0, len(BIG), 1000):
        await resp.write(BIG[i : i + 1000])
    await resp.write_eof()
    return resp


async def bomb(request: web.Request) -> web.Response:
    # 30 KB on the wire, 10 MB once inflated.
    body = gzip.compress(b'{"padding": "' + b"0" * 10_000_000 + b'"}')
    return web.Response(body=body, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})


async def small_gzip(request: web.Request) -> web.Response:
    return web.Response(
        body=gzip.compress(json.dumps(COMPLETION).encode()),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )


def sse(*events: bytes, piece: int = 500) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        body = b"".join(b"data: " + e + b"\n\n" for e in events) + b"data: [DONE]\n\n"
        for i in range(0, len(body), piece):
            await resp.write(body[i : i + piece])
        await resp.write_eof()
        return resp

    return handler


CHUNK = json.dumps({"model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": "word "}}]}).encode()
HUGE_CHUNK = json.dumps(
    {"model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": "y" * 50_000}}]}
).encode()


@pytest.fixture
async def api() -> AsyncIterator[LocalServer]:
    routes = [
        ("POST", "/plain/chat/completions", plain),
        ("POST", "/chunked/chat/completions", chunked),
        ("POST", "/bomb/chat/completions", bomb),
        ("POST", "/small-gzip/chat/completions", small_gzip),
        ("POST", "/many/chat/completions", sse(*[CHUNK] * 2000)),
        ("POST", "/huge-first/chat/completions", sse(HUGE_CHUNK)),
        ("POST", "/huge-later/chat/completions", sse(CHUNK, HUGE_CHUNK)),
    ]
    async with LocalServer(routes) as server:
        yield server


@pytest.mark.parametrize("path", ["plain", "chunked", "bomb"])
async def test_non_streamed_bodies_are_capped(api: LocalServer, path: str) -> None:
    config = EndpointConfig(endpoint=f"{api.url}/{path}", max_response_bytes=10_000)
    async with Connector(config, OpenAIAdapter()) as conn:
        with pytest.raises(ResponseTooLargeError, match="max_response_bytes") as info:
            await conn.send_once(CHAT, b"{}", None, None)
    assert info.value.status == 200 and info.value.hint is not None
    roomy = EndpointConfig(endpoint=f"{api.url}/{path}", max_response_bytes=20_000_000)
    async with Connector(roomy, OpenAIAdapter()) as conn:
        assert (await conn.send_once(CHAT, b"{}", None, None)).data is not None


async def test_a_compressed_body_within_the_cap_is_read(api: LocalServer) -> None:
    config = EndpointConfig(endpoint=f"{api.url}/small-gzip", max_response_bytes=10_000)
    async with Connector(config, OpenAIAdapter()) as conn:
        assert (await conn.send_once(CHAT, b"{}", None, None)).data == COMPLETION


async def test_too_large_is_not_retried_nor_failed_over(api: LocalServer) -> None:
    backups = [{"endpoint": f"{api.url}/plain"}]
    async with create_llm(
        "openai/gpt-4o",
        endpoint=f"{api.url}/plain",
        api_key=OPENAI_KEY,
        max_response_bytes=10_000,
        backups=backups,
    ) as llm:
        with pytest.raises(ResponseTooLargeError):
            await llm.get_answer("hi")
    assert len(api.seen) == 1


async def test_stream_events_are_capped_but_long_streams_are_not(api: LocalServer) -> None:
    async with create_llm(
        "openai/gpt-4o", endpoint=f"{api.url}/many", api_key=OPENAI_KEY, max_event_bytes=10_000
    ) as llm:
        text = "".join([c.text async for c in llm.stream_answer("hi")])
    assert text == "word " * 2000  # 2000 events, ~200 KB in all: only single events are capped
    for path in ("huge-first", "huge-later"):
        async with create_llm(
            "openai/gpt-4o",
            endpoint=f"{api.url}/{path}",
            api_key=OPENAI_KEY,
            max_event_bytes=10_000,
            retry={"max_retries": 0},
        ) as llm:
            with pytest.raises((ResponseTooLargeError, StreamInterruptedError)) as info:
                [c async for c in llm.stream_answer("hi")]
        cause = getattr(info.value, "cause", None) or info.value
        assert isinstance(cause, ResponseTooLargeError), repr(info.value)
        assert "max_event_bytes" in str(cause)
