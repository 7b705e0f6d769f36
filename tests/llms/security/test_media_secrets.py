"""The media methods and the Responses API never show the key: a server that echoes the request's
``Authorization`` header in every kind of failure (an error status, an error inside a 200 body or
stream, a failed video job, a body that is not what was asked for) and the canary key with no
recognisable prefix: no 12-character piece of it in any error, cause chain, traceback or log."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from core.llms.factory import create_llm
from core.llms.interfaces.errors import LLMError

from .support import PLAIN_KEY, LocalServer, assert_no_key_fragment, captured_logs, everything_shown

KEY = PLAIN_KEY
NO_RETRY = {"max_retries": 0}
WAV = b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\xc0\x5d\0\0\x80\xbb\0\0\x02\0\x10\0data\0\0\0\0"


def echo(request: web.Request) -> str:
    return f"upstream saw Authorization: {request.headers.get('Authorization', '')} and refused"


def error_body(request: web.Request, status: int) -> web.Response:
    body = {"error": {"message": echo(request), "type": "invalid_request_error", "code": KEY}}
    return web.json_response(body, status=status, headers={"x-request-id": KEY})


async def status_error(request: web.Request) -> web.StreamResponse:
    await request.read()
    return error_body(request, 401)


async def error_in_200(request: web.Request) -> web.StreamResponse:
    await request.read()
    return error_body(request, 200)


async def text_instead_of_media(request: web.Request) -> web.StreamResponse:
    await request.read()
    return web.Response(text=echo(request), content_type="text/plain", headers={"x-request-id": KEY})


async def stream_error_event(request: web.Request) -> web.StreamResponse:
    await request.read()
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "x-request-id": KEY})
    await resp.prepare(request)
    event = {"type": "error", "code": KEY, "message": echo(request), "sequence_number": 0}
    await resp.write(b"event: error\ndata: " + json.dumps(event).encode() + b"\n\n")
    await resp.write_eof()
    return resp


async def failed_video_job(request: web.Request) -> web.StreamResponse:
    await request.read()
    job = {
        "id": "video_1",
        "object": "video",
        "model": "sora-2",
        "status": "failed",
        "progress": 0,
        "error": {"code": KEY, "message": echo(request)},
    }
    return web.json_response(job, headers={"x-request-id": KEY})


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Call = Callable[[Any], Awaitable[Any]]


async def collect(stream: Any) -> None:
    async for _ in stream:
        pass


CASES: list[tuple[str, str, str, Handler, Call]] = [
    ("image", "openai/gpt-image-1", "/v1/images/generations", status_error, lambda m: m.get_image("a")),
    ("image 200", "openai/gpt-image-1", "/v1/images/generations", error_in_200, lambda m: m.get_image("a")),
    (
        "image stream",
        "openai/gpt-image-1",
        "/v1/images/generations",
        stream_error_event,
        lambda m: collect(m.stream_image("a", partial_images=1)),
    ),
    (
        "edit",
        "openai/gpt-image-1",
        "/v1/images/edits",
        status_error,
        lambda m: m.get_image("a", image=b"\x89PNG\r\n\x1a\n"),
    ),
    ("speech", "openai/tts-1", "/v1/audio/speech", status_error, lambda m: m.get_audio("hello")),
    (
        "speech text",
        "openai/tts-1",
        "/v1/audio/speech",
        text_instead_of_media,
        lambda m: m.get_audio("hello"),
    ),
    (
        "speech stream",
        "openai/gpt-4o-mini-tts",
        "/v1/audio/speech",
        stream_error_event,
        lambda m: collect(m.stream_audio("hello")),
    ),
    ("transcribe", "openai/whisper-1", "/v1/audio/transcriptions", status_error, lambda m: m.transcribe(WAV)),
    ("translate", "openai/whisper-1", "/v1/audio/translations", error_in_200, lambda m: m.translate(WAV)),
    ("video", "openai/sora-2", "/v1/videos", status_error, lambda m: m.get_video("a", poll_interval=0.01)),
    ("video job", "openai/sora-2", "/v1/videos", failed_video_job, lambda m: m.get_video("a")),
    ("embed", "openai/text-embedding-3-small", "/v1/embeddings", status_error, lambda m: m.embed(["a"])),
    ("embed 200", "openai/text-embedding-3-small", "/v1/embeddings", error_in_200, lambda m: m.embed(["a"])),
    (
        "responses",
        "openai/gpt-5-mini",
        "/v1/responses",
        status_error,
        lambda m: m.get_answer("a", api="responses"),
    ),
    (
        "responses stream",
        "openai/gpt-5-mini",
        "/v1/responses",
        stream_error_event,
        lambda m: collect(m.stream_answer("a", api="responses")),
    ),
]


@pytest.mark.parametrize(("name", "model", "path", "handler", "call"), CASES, ids=[c[0] for c in CASES])
async def test_no_piece_of_the_key_shows(
    name: str, model: str, path: str, handler: Handler, call: Call
) -> None:
    with captured_logs() as logs:
        server = LocalServer([("POST", path, handler)])
        async with server, create_llm(model, endpoint=f"{server.url}/v1", api_key=KEY, retry=NO_RETRY) as llm:
            with pytest.raises(LLMError) as caught:
                await call(llm)
            assert_no_key_fragment(repr(llm), str(llm))
        assert server.seen, f"{name}: nothing was sent"
    assert_no_key_fragment(*everything_shown(caught.value))
    assert_no_key_fragment(*logs)
