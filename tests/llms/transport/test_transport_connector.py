"""Connector: one attempt against one endpoint, over a real loopback aiohttp server."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Mapping

import pytest

from core.llms.interfaces.context import RequestContext
from core.llms.interfaces.endpoint import EndpointConfig, Timeouts
from core.llms.interfaces.errors import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    LLMError,
    RateLimitError,
    RequestTimeoutError,
    ResponseParsingError,
    ServiceUnavailableError,
    UnsupportedOperationError,
)
from core.llms.interfaces.llm_interfaces import WireRequest
from core.llms.providers.base.connector import MAX_ERROR_BODY, Connector, encode_json

from .support import SECRET, FakeAdapter, Reply, ScriptServer, endpoint, error_json, sse

CHAT = WireRequest(operation="chat", payload={"model": "m", "messages": [{"role": "user", "content": "hé"}]})
STREAM = WireRequest(operation="chat", payload={"stream": True}, stream=True)


async def send(
    conn: Connector,
    request: WireRequest = CHAT,
    ctx: RequestContext | None = None,
    timeout: float | None = None,
):  # type: ignore[no-untyped-def]
    return await conn.send_once(request, encode_json(request.payload), ctx, timeout)


async def test_send_once_success(server: ScriptServer, adapter: FakeAdapter) -> None:
    server.enqueue(Reply(json={"answer": 42}, headers={"x-request-id": "req-1"}))
    async with Connector(endpoint(server.url), adapter) as conn:
        resp = await send(conn)
    assert resp.status == 200
    assert resp.data == {"answer": 42}
    assert json.loads(resp.body) == {"answer": 42}
    assert resp.request_id == "req-1"
    assert resp.endpoint == server.url == conn.name
    assert 0 < resp.ttfb <= resp.latency
    (req,) = server.requests
    assert req.method == "POST" and req.path == "/chat"
    assert json.loads(req.body) == CHAT.payload
    assert b" " not in req.body  # compact serialisation
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["Accept"] == "application/json"
    assert req.headers["Authorization"] == f"Bearer {SECRET}"


async def test_header_layers_and_idempotency_key(server: ScriptServer, adapter: FakeAdapter) -> None:
    ep = endpoint(server.url, headers={"X-Endpoint": "e", "X-Both": "endpoint"})
    request = WireRequest(operation="chat", payload={}, headers={"X-Call": "c", "X-Both": "request"})
    async with Connector(ep, adapter) as conn:
        await send(conn, request, RequestContext(idempotency_key="idem-123"))
        await send(conn, request)
    first, second = server.requests
    assert first.headers["X-Endpoint"] == "e"
    assert first.headers["X-Call"] == "c"
    assert first.headers["X-Both"] == "request"  # request headers override endpoint headers
    assert first.headers["Idempotency-Key"] == "idem-123"
    assert "Idempotency-Key" not in second.headers


async def test_status_errors_are_mapped_by_the_adapter(server: ScriptServer, adapter: FakeAdapter) -> None:
    server.enqueue(
        Reply(
            status=401, json=error_json("Incorrect API key", "invalid_api_key"), headers={"x-request-id": "r"}
        ),
        Reply(status=429, json=error_json("slow down"), headers={"retry-after-ms": "250"}),
        Reply(status=503, body=b"<html>overloaded</html>", headers={"Retry-After": "2"}),
        Reply(status=302, body=b"", headers={"Location": "http://127.0.0.1:1/elsewhere"}),
    )
    async with Connector(endpoint(server.url), adapter) as conn:
        with pytest.raises(AuthenticationError) as auth:
            await send(conn)
        with pytest.raises(RateLimitError) as limited:
            await send(conn)
        with pytest.raises(ServiceUnavailableError) as down:
            await send(conn)
        with pytest.raises(BadRequestError):  # redirects are not followed
            await send(conn)
    assert (auth.value.status, auth.value.request_id, auth.value.endpoint) == (401, "r", server.url)
    assert auth.value.code == "invalid_api_key"
    assert "Incorrect API key" in str(auth.value)
    assert limited.value.retry_after == 0.25
    assert (down.value.status, down.value.retry_after) == (503, 2.0)
    assert server.hits == 4


async def test_error_body_is_capped(server: ScriptServer) -> None:
    seen: list[int] = []

    class Recording(FakeAdapter):
        def map_error(self, status: int, headers: Mapping[str, str], body: bytes, endpoint: str) -> LLMError:
            seen.append(len(body))
            return super().map_error(status, headers, body, endpoint)

    server.enqueue(Reply(status=500, body=b"x" * (3 * MAX_ERROR_BODY)))
    async with Connector(endpoint(server.url), Recording()) as conn:
        with pytest.raises(ServiceUnavailableError):
            await send(conn)
    assert seen == [MAX_ERROR_BODY]


async def test_non_json_success_body_is_a_parsing_error(server: ScriptServer, adapter: FakeAdapter) -> None:
    server.enqueue(Reply(body=b'{"truncated": ', headers={"Content-Type": "application/json"}))
    async with Connector(endpoint(server.url), adapter) as conn:
        with pytest.raises(ResponseParsingError) as info:
            await send(conn)
    assert info.value.status == 200 and info.value.endpoint == server.url
    assert not info.value.retryable and not info.value.failover


async def test_media_body_is_returned_raw(server: ScriptServer, adapter: FakeAdapter) -> None:
    server.enqueue(Reply(body=b"ID3\x00mp3", headers={"Content-Type": "audio/mpeg"}))
    async with Connector(endpoint(server.url), adapter) as conn:
        resp = await send(conn)
    assert (resp.data, resp.body) == (None, b"ID3\x00mp3")


async def test_connection_refused(closed_port_url: str, adapter: FakeAdapter) -> None:
    async with Connector(endpoint(closed_port_url), adapter) as conn:
        with pytest.raises(APIConnectionError, match="could not connect") as info:
            await send(conn)
    assert info.value.endpoint == closed_port_url
    assert isinstance(info.value.__cause__, OSError)


async def test_server_hanging_up_is_a_connection_error(server: ScriptServer, adapter: FakeAdapter) -> None:
    server.enqueue(Reply(hang_up=True))
    async with Connector(endpoint(server.url), adapter) as conn:
        with pytest.raises(APIConnectionError):
            await send(conn)


async def test_slow_headers_hit_the_read_timeout(server: ScriptServer, adapter: FakeAdapter) -> None:
    server.enqueue(Reply(delay=5))
    ep = endpoint(server.url, timeouts=Timeouts(connect=1, read=0.2, total=10))
    async with Connector(ep, adapter) as conn:
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError, match="read timed out"):
            await send(conn)
    assert time.monotonic() - started < 2


async def test_per_call_timeout_caps_the_total(server: ScriptServer, adapter: FakeAdapter) -> None:
    server.enqueue(Reply(delay=5))
    async with Connector(endpoint(server.url), adapter) as conn:
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError, match="total timeout"):
            await send(conn, timeout=0.2)
    assert time.monotonic() - started < 2


async def test_unknown_operation_error_from_adapter_propagates(server: ScriptServer) -> None:
    class Picky(FakeAdapter):
        def url(self, endpoint: EndpointConfig, operation: str, model: str = "") -> str:
            raise UnsupportedOperationError(f"no {operation!r} here")

    async with Connector(endpoint(server.url), Picky()) as conn:
        with pytest.raises(UnsupportedOperationError):
            await send(conn)
    assert server.hits == 0


async def test_request_signer_extension_sees_the_final_request(server: ScriptServer) -> None:
    seen: dict[str, object] = {}

    class Signing(FakeAdapter):
        async def sign_request(
            self, endpoint: EndpointConfig, method: str, url: str, headers: Mapping[str, str], body: bytes
        ) -> Mapping[str, str]:
            seen.update(method=method, url=url, body=body, content_type=headers["Content-Type"])
            return {"X-Signature": f"sig-{len(body)}"}

    async with Connector(endpoint(server.url), Signing()) as conn:
        await send(conn)
    body = encode_json(CHAT.payload)
    assert seen == {
        "method": "POST",
        "url": f"{server.url}/chat",
        "body": body,
        "content_type": "application/json",
    }
    assert server.requests[0].headers["X-Signature"] == f"sig-{len(body)}"


async def test_proxy_is_used_per_request(make_server, closed_port_url: str, adapter: FakeAdapter) -> None:  # type: ignore[no-untyped-def]
    proxy = await make_server()
    async with Connector(endpoint(closed_port_url, proxy=proxy.url), adapter) as conn:
        resp = await send(conn)
    assert resp.data == {"ok": True}
    assert proxy.hits == 1  # the request went to the proxy, not to the (closed) endpoint


# -- streams -------------------------------------------------------------------------------------


async def test_open_stream_yields_decoded_events(server: ScriptServer, adapter: FakeAdapter) -> None:
    server.enqueue(Reply(chunks=sse("a", "b"), headers={"x-request-id": "s-1"}))
    async with Connector(endpoint(server.url), adapter) as conn:
        stream = await conn.open_stream(STREAM, b"{}", None, None)
        try:
            data = [e.data async for e in stream.events()]
        finally:
            await stream.aclose()
    assert data == ['{"text": "a"}', '{"text": "b"}', "[DONE]"]
    assert stream.request_id == "s-1" and stream.ttfb > 0
    assert server.requests[0].headers["Accept"] == "text/event-stream"


async def test_open_stream_ndjson_via_adapter_decoder(server: ScriptServer, adapter: FakeAdapter) -> None:
    server.enqueue(
        Reply(chunks=[b'{"a":1}\n{"b"', b":2}\n"], headers={"Content-Type": "application/x-ndjson"})
    )
    request = WireRequest(operation="api/ndjson", payload={}, stream=True)
    async with Connector(endpoint(server.url), adapter) as conn:
        stream = await conn.open_stream(request, b"{}", None, None)
        async with stream:
            data = [e.data async for e in stream.events()]
    assert data == ['{"a":1}', '{"b":2}']


async def test_open_stream_checks_the_status(server: ScriptServer, adapter: FakeAdapter) -> None:
    server.enqueue(Reply(status=429, json=error_json("busy"), headers={"Retry-After": "1"}))
    async with Connector(endpoint(server.url), adapter) as conn:
        with pytest.raises(RateLimitError) as info:
            await conn.open_stream(STREAM, b"{}", None, None)
    assert info.value.retry_after == 1.0


async def test_stalled_stream_hits_the_read_timeout(server: ScriptServer, adapter: FakeAdapter) -> None:
    server.enqueue(Reply(chunks=sse("a", done=False), stall=True))
    ep = endpoint(server.url, timeouts=Timeouts(connect=1, read=0.2, total=10))
    async with Connector(ep, adapter) as conn:
        stream = await conn.open_stream(STREAM, b"{}", None, None)
        got = []
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError, match="read timed out"):
            async with stream:
                async for event in stream.events():
                    got.append(event.data)
    assert got == ['{"text": "a"}']
    assert time.monotonic() - started < 2


async def test_dropped_stream_is_a_connection_error(server: ScriptServer, adapter: FakeAdapter) -> None:
    server.enqueue(Reply(chunks=sse("a", done=False), drop=True))
    async with Connector(endpoint(server.url), adapter) as conn:
        stream = await conn.open_stream(STREAM, b"{}", None, None)
        with pytest.raises(APIConnectionError):
            async with stream:
                async for _ in stream.events():
                    pass


# -- lifecycle, TLS settings, secrets -------------------------------------------------------------


async def test_aclose_is_idempotent_and_closes_the_session(
    server: ScriptServer, adapter: FakeAdapter
) -> None:
    conn = Connector(endpoint(server.url), adapter)
    await send(conn)
    session = conn._session
    assert session is not None and not session.closed
    await conn.aclose()
    await conn.aclose()
    assert session.closed
    with pytest.raises(ConfigurationError, match="closed"):
        await send(conn)


async def test_unused_connector_needs_no_close(adapter: FakeAdapter) -> None:
    conn = Connector(endpoint("http://127.0.0.1:9"), adapter)
    del conn
    gc.collect()  # no ResourceWarning: no session was ever created


async def test_unclosed_connector_warns(server: ScriptServer, adapter: FakeAdapter) -> None:
    conn = Connector(endpoint(server.url), adapter)
    await send(conn)
    session = conn._session
    assert session is not None
    with pytest.warns(ResourceWarning, match="unclosed Connector"):
        del conn
        gc.collect()
    await session.close()


async def test_missing_ca_bundle_is_a_configuration_error(server: ScriptServer, adapter: FakeAdapter) -> None:
    ep = endpoint(server.url, ca_bundle="/nonexistent/ca.pem")
    async with Connector(ep, adapter) as conn:
        with pytest.raises(ConfigurationError, match="ca_bundle"):
            await send(conn)


async def test_no_secret_in_errors_or_logs(
    closed_port_url: str, server: ScriptServer, adapter: FakeAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="core.llms")
    server.enqueue(Reply(status=401, json=error_json("Incorrect API key provided")))
    errors: list[LLMError] = []
    for url in (f"{closed_port_url}/v1?key={SECRET}", f"{server.url}/v1?key={SECRET}"):
        async with Connector(endpoint(url), adapter) as conn:
            assert SECRET not in conn.name and SECRET not in repr(conn)
            with pytest.raises(LLMError) as info:
                await send(conn)
            errors.append(info.value)
    assert [type(e) for e in errors] == [APIConnectionError, AuthenticationError]
    for error in errors:
        assert SECRET not in str(error) and SECRET not in repr(error)
        assert error.endpoint is not None and "?" not in error.endpoint
    assert SECRET not in caplog.text
