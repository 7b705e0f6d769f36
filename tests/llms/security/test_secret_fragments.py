"""Secrets cut, echoed sideways or chained: no piece of a key may survive anywhere.

Regression tests for an outside review. The canary key has no recognisable prefix (no ``sk-``),
so only real masking hides it, and every 12-character piece of it is looked for in each error's
message, ``str``, ``repr``, hint, code, body, request id, the whole cause chain and
``traceback.format_exception`` (what ``logger.exception`` prints), and in every log record of the
``core.llms`` and ``aiohttp`` trees at DEBUG:

1. an echoed ``Authorization`` straddling a length cut (the 500-character error message, the
   80-character preview of a non-JSON stream event) must not leave part of the key;
2. a 200 body with no choices that echoes the request headers (``ResponseParsingError.body`` is
   taken in the model layer);
3. the cause chain of transport failures (aiohttp's exceptions hold the ``Authorization`` header
   in their ``RequestInfo`` and the endpoint URL, query included, in their message);
4. a request id that echoes the key;
5. WARNING lines quoting server values (unknown finish reason, other choice index).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from core.llms.factory import create_llm
from core.llms.interfaces.errors import (
    APIConnectionError,
    AuthenticationError,
    LLMError,
    RequestTimeoutError,
    ResponseParsingError,
    StreamInterruptedError,
)
from core.llms.providers.base import redact
from core.llms.providers.base.redact import SecretRedactor
from core.llms.providers.base.transport_errors import SanitizedCause, sanitized_cause
from core.llms.providers.dialects.openai_chat import parsing

from .support import (
    PLAIN_KEY,
    LocalServer,
    RawServer,
    assert_no_key_fragment,
    captured_logs,
    everything_shown,
)

KEY = PLAIN_KEY
COMPLETION_CHUNK = {"id": "c", "object": "chat.completion.chunk", "model": "gpt-4o"}


def build(url: str, **kw: Any) -> Any:
    return create_llm(
        "openai/gpt-4o",
        endpoint=url,
        api_key=KEY,
        retry={"max_retries": 0, "backoff_initial": 0, "backoff_max": 0},
        **kw,
    )


async def failure(llm: Any, stream: bool) -> LLMError:
    with pytest.raises(LLMError) as info:
        if stream:
            async for _ in llm.stream_answer("hello"):
                pass
        else:
            await llm.get_answer("hello")
    return info.value


Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def serve(handler: Route) -> LocalServer:
    return LocalServer([("POST", "/v1/chat/completions", handler)])


def sse(*events: Any, end: bool = True) -> bytes:
    out = b"".join(
        b"data: " + (e if isinstance(e, bytes) else json.dumps(e).encode()) + b"\n\n" for e in events
    )
    return out + (b"data: [DONE]\n\n" if end else b"")


async def stream_reply(
    request: web.Request, body: bytes, headers: dict[str, str] | None = None
) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", **(headers or {})})
    await resp.prepare(request)
    await resp.write(body)
    await resp.write_eof()
    return resp


# -- 1. a cut through an echoed key ---------------------------------------------------------------


async def test_error_message_cut_through_an_echoed_key() -> None:
    # The key starts `start` characters into the message, so the 500-character cut goes through it
    # and keeps 27, 17, 9 or 4 of its characters.
    case: dict[str, int] = {}

    async def handler(request: web.Request) -> web.Response:
        lead = " Authorization: Bearer "
        echo = f" Authorization: {request.headers['Authorization']} was rejected"
        message = "x" * (case["start"] - len(lead)) + echo
        assert message.index(KEY) == case["start"]
        return web.json_response({"error": {"message": message, "type": "invalid_request_error"}}, status=401)

    with captured_logs() as logs:
        async with serve(handler) as server, build(f"{server.url}/v1") as llm:
            for start in (470, 480, 488, 493):
                case["start"] = start
                for stream in (False, True):
                    error = await failure(llm, stream)
                    assert isinstance(error, AuthenticationError), repr(error)
                    assert error.message.startswith("xxxx") and len(error.message) <= 500
                    shown = everything_shown(error)
                    assert_no_key_fragment(*shown)
                    assert not [text for text in shown if KEY[:4] in text], f"cut at {start}: a piece is left"
    assert_no_key_fragment(*logs)


async def test_stream_event_preview_cut_through_an_echoed_key() -> None:
    # The 80-character preview of a non-JSON event cuts the key after 32, 20, 10 or 4 characters.
    case: dict[str, int] = {}

    async def handler(request: web.Request) -> web.StreamResponse:
        lead = "upstream proxy saw Authorization: "
        text = (
            "y" * (case["start"] - len(lead) - len("Bearer "))
            + lead
            + request.headers["Authorization"]
            + " (not JSON)"
        )
        assert text.index(KEY) == case["start"]
        return await stream_reply(request, sse(text.encode()))

    with captured_logs() as logs:
        async with serve(handler) as server, build(f"{server.url}/v1") as llm:
            for start in (48, 60, 70, 76):
                case["start"] = start
                error = await failure(llm, stream=True)
                assert isinstance(error, ResponseParsingError), repr(error)
                assert "not valid JSON" in error.message and "upstream proxy" in error.message
                shown = everything_shown(error)
                assert_no_key_fragment(*shown)
                assert not [text for text in shown if KEY[:4] in text], f"cut at {start}: a piece is left"
    assert_no_key_fragment(*logs)


@pytest.mark.parametrize("tokens", [0, 70], ids=["one key", "many rotated tokens"])
def test_redactor_masks_pieces_of_a_secret(tokens: int) -> None:
    redactor = SecretRedactor()
    for n in range(tokens):  # a token provider's rotated tokens (the oldest are forgotten)
        redactor.add_headers({"Authorization": f"Bearer rotated-token-{n:03d}-" + "Q" * 200})
    redactor.add_headers({"Authorization": f"Bearer {KEY}"})
    for size in range(8, len(KEY) + 1):
        # a head left by a cut, a tail left by a cut from the other side, a piece from the middle
        texts = [f"said: {KEY[:size]}...", f"...{KEY[-size:]} said"]
        if size >= 12:
            texts += [f"'{KEY[start : start + size]}'" for start in range(len(KEY) - size + 1)]
        for text in texts:
            masked = redactor.mask(text)
            assert_no_key_fragment(masked)
            assert redact.MASK in masked and KEY[:8] not in masked and KEY[-8:] not in masked, masked
    assert (
        redactor.mask(f"Authorization: Bearer {KEY}, again {KEY}.") == "Authorization: Bearer ***, again ***."
    )
    assert redactor.mask(f"%22{KEY}%22") == "%22***%22"
    assert redactor.mask("nothing to hide here, not even Zq8WmR2") == "nothing to hide here, not even Zq8WmR2"
    assert redactor.mask(None) is None


# -- 2. a 200 body with no choices ----------------------------------------------------------------


async def test_parse_error_body_of_a_200_without_choices() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"object": "chat.completion", "echo": dict(request.headers)})

    with captured_logs() as logs:
        async with serve(handler) as server, build(f"{server.url}/v1") as llm:
            error = await failure(llm, stream=False)
            assert isinstance(error, ResponseParsingError), repr(error)
            assert error.message == "the response has no choices"
            assert isinstance(error.body, dict) and "echo" in error.body  # still there, masked
            assert_no_key_fragment(*everything_shown(error))
    assert_no_key_fragment(*logs)


# -- 3. the cause chain of transport failures -----------------------------------------------------

_RAW_REPLIES = {
    "malformed status line": f"HTTP/1.1 2x0 Bearer {KEY}\r\nContent-Length: 0\r\n\r\n".encode(),
    "bad header line": (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nnot a header Bearer {KEY}\r\n"
        "Content-Length: 2\r\n\r\n{}"
    ).encode(),
    "short content-length": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n" + b'{"id": "x",'
    ),
    "short content-length, stream": (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 5000\r\n\r\n"
        + sse({**COMPLETION_CHUNK, "choices": [{"index": 0, "delta": {"content": "hi"}}]}, end=False)
    ),
}


def assert_no_aiohttp_objects(error: BaseException) -> None:
    """No aiohttp exception (which holds the request's ``RequestInfo``: URL with its query string,
    headers with ``Authorization``) is reachable through the cause / context chain."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        assert not isinstance(current, aiohttp.ClientError), (
            f"aiohttp exception in the chain: {type(current)}"
        )
        assert getattr(current, "request_info", None) is None
        todo += [current.__cause__, current.__context__, getattr(current, "cause", None)]


@pytest.mark.parametrize("case", list(_RAW_REPLIES))
async def test_transport_failure_cause_chain(case: str) -> None:
    with captured_logs() as logs:
        async with RawServer(_RAW_REPLIES[case]) as server, build(f"{server.url}/v1?sig={KEY}") as llm:
            # a secret in the endpoint's query string, and the key in Authorization
            for stream in (False, True) if case != "short content-length, stream" else (True,):
                error = await failure(llm, stream)
                assert isinstance(error, APIConnectionError | StreamInterruptedError), repr(error)
                chain = everything_shown(error)
                assert_no_key_fragment(*chain)
                assert_no_aiohttp_objects(error)
                # enough is kept for debugging: the original type's name and what went wrong
                trace = chain[-1]
                assert "aiohttp" in trace and "The above exception was the direct cause" in trace
                assert ("payload is not completed" in trace) == case.startswith("short")
        assert server.heads, "the server was never reached"
    assert_no_key_fragment(*logs)


def test_sanitized_cause_keeps_type_name_errno_and_chain() -> None:
    inner = ConnectionRefusedError(111, "Connect call failed")
    outer = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("127.0.0.1", 9, False, True, None, None, None), inner
    )
    outer.__cause__ = inner
    redactor = SecretRedactor()
    redactor.add_headers({"Authorization": f"Bearer {KEY}"})
    url_error = aiohttp.InvalidURL(f"https://user:pw@h.example:8443/v1/chat?sig={KEY}#frag")
    stand_in = sanitized_cause(outer, redactor.mask)
    assert isinstance(stand_in, OSError) and isinstance(stand_in, SanitizedCause)
    assert not isinstance(stand_in, aiohttp.ClientError)
    assert type(stand_in).__name__ == "ClientConnectorError" and stand_in.errno == 111
    assert stand_in.original == "aiohttp.client_exceptions.ClientConnectorError"
    assert "Cannot connect to host 127.0.0.1:9" in str(stand_in)
    assert isinstance(stand_in.__cause__, ConnectionRefusedError) and stand_in.__cause__.errno == 111
    bare = sanitized_cause(url_error, redactor.mask)
    assert str(bare) == "https://h.example:8443/v1/chat" and isinstance(bare, ValueError)
    assert_no_key_fragment(str(bare), repr(bare), str(stand_in), repr(stand_in))


async def test_connect_timeout_cause_chain() -> None:
    # A TCP server that accepts and says nothing: the TLS handshake of an https:// endpoint stalls
    # until the connect timeout.
    with captured_logs() as logs:
        async with RawServer(None) as server:
            url = f"https://127.0.0.1:{server.port}/v1?sig={KEY}"
            async with build(url, timeouts={"connect": 0.2}) as llm:
                for stream in (False, True):
                    error = await failure(llm, stream)
                    assert isinstance(error, RequestTimeoutError), repr(error)
                    chain = everything_shown(error)
                    assert_no_key_fragment(*chain)
                    assert_no_aiohttp_objects(error)
                    assert "ConnectionTimeoutError" in chain[-1]
    assert_no_key_fragment(*logs)


# -- 4. a request id that echoes the key ----------------------------------------------------------


def _echoes(request: web.Request) -> dict[str, str]:
    auth = request.headers["Authorization"]
    return {
        "whole header": auth,
        "key": auth.partition(" ")[2],
        "cut key": auth.partition(" ")[2][:30],
    }


ECHOES = ("whole header", "key", "cut key")


async def test_request_id_echo_in_a_non_json_200() -> None:
    case: dict[str, str] = {}

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="<html>ok</html>", headers={"x-request-id": _echoes(request)[case["echo"]]})

    with captured_logs() as logs:
        async with serve(handler) as server, build(f"{server.url}/v1") as llm:
            for echo in ECHOES:
                case["echo"] = echo
                error = await failure(llm, stream=False)
                assert isinstance(error, ResponseParsingError), repr(error)
                assert error.request_id is not None
                assert_no_key_fragment(*everything_shown(error))
    assert_no_key_fragment(*logs)


async def test_request_id_echo_in_a_200_without_choices() -> None:
    case: dict[str, str] = {}

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(
            {"object": "chat.completion"}, headers={"x-request-id": _echoes(request)[case["echo"]]}
        )

    async with serve(handler) as server, build(f"{server.url}/v1") as llm:
        for echo in ECHOES:
            case["echo"] = echo
            error = await failure(llm, stream=False)
            assert isinstance(error, ResponseParsingError), repr(error)
            assert_no_key_fragment(*everything_shown(error))


async def test_request_id_echo_in_a_stream_cut_mid_way() -> None:
    case: dict[str, str] = {}

    async def handler(request: web.Request) -> web.StreamResponse:
        body = sse({**COMPLETION_CHUNK, "choices": [{"index": 0, "delta": {"content": "hi"}}]}, end=False)
        return await stream_reply(request, body, {"x-request-id": _echoes(request)[case["echo"]]})

    with captured_logs() as logs:
        async with serve(handler) as server, build(f"{server.url}/v1") as llm:
            for echo in ECHOES:
                case["echo"] = echo
                chunks = []
                with pytest.raises(StreamInterruptedError) as info:
                    async for chunk in llm.stream_answer("hello"):
                        chunks.append(chunk)
                error = info.value
                assert error.partial_text == "hi" and error.request_id is not None
                assert_no_key_fragment(*everything_shown(error), *(c.request_id for c in chunks))
    assert_no_key_fragment(*logs)


# -- 5. WARNING lines quoting server values -------------------------------------------------------


@pytest.fixture
def fresh_reason_log(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "_unknown_reasons_logged", set())


@pytest.mark.usefixtures("fresh_reason_log")
async def test_unknown_finish_reason_warning() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        reason = request.headers["Authorization"]
        if (await request.json()).get("stream"):
            chunk = {
                **COMPLETION_CHUNK,
                "choices": [{"index": 0, "delta": {}, "finish_reason": reason + "!"}],
            }
            return await stream_reply(request, sse(chunk))
        message = {"role": "assistant", "content": "hi"}
        choice = {"index": 0, "message": message, "finish_reason": reason}
        return web.json_response({"object": "chat.completion", "choices": [choice]})

    with captured_logs() as logs:
        async with serve(handler) as server, build(f"{server.url}/v1") as llm:
            response = await llm.get_answer("hello")
            assert response.finish_reason == "stop"
            chunks = [chunk async for chunk in llm.stream_answer("hello")]
            assert chunks[-1].finish_reason == "stop"
    warnings = [line for line in logs if "finish_reason" in line]
    assert len(warnings) == 2, logs
    assert_no_key_fragment(*logs)


async def test_other_choice_index_warning(caplog: pytest.LogCaptureFixture) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        first = {"index": 0, "delta": {"content": "hi"}}
        other = {"index": request.headers["Authorization"], "delta": {"content": "there"}}
        last = {"index": 0, "delta": {}, "finish_reason": "stop"}
        return await stream_reply(
            request,
            sse(
                {**COMPLETION_CHUNK, "choices": [first, other]},
                {
                    **COMPLETION_CHUNK,
                    "choices": [last],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1},
                },
            ),
        )

    caplog.set_level(logging.DEBUG)
    with captured_logs() as logs:
        async with serve(handler) as server, build(f"{server.url}/v1") as llm:
            text = "".join([chunk.text async for chunk in llm.stream_answer("hello")])
            assert text == "hi"
    assert any("choice index" in line for line in logs), logs
    assert_no_key_fragment(*logs, *(r.getMessage() for r in caplog.records))


# -- the suite's own helpers -----------------------------------------------------------------------


def test_the_canary_has_no_recognisable_prefix() -> None:
    assert not KEY.lower().startswith(("sk-", "sk_", "key", "bearer"))
    with pytest.raises(AssertionError):
        assert_no_key_fragment(f"...{KEY[10:22]}...")
