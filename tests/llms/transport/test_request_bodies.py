"""The request bodies the connector sends besides JSON: multipart uploads (with each endpoint's
own model id), no body for GET, large bodies in pieces (re-read whole on a retry), job-id paths
appended to the operation URL, and pinning follow-up requests to one endpoint."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from local_http import serve_locally

from core.llms.interfaces import ConfigurationError
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.interfaces.llm_interfaces import WireRequest
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.multipart import FormField, MultipartForm
from core.llms.providers.base.retry import RetryPolicy
from core.llms.providers.openai import OpenAIAdapter

FAST = RetryPolicy(max_retries=2, backoff_initial=0.001, backoff_max=0.002)


class Recorder:
    """A server that records each request (method, path, content type, body) and answers JSON;
    ``fail_first`` requests get a 503 first."""

    def __init__(self, fail_first: int = 0) -> None:
        self.seen: list[tuple[str, str, str, bytes]] = []
        self.fail_first = fail_first

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append((request.method, request.path_qs, request.headers.get("Content-Type", ""), body))
        if self.fail_first:
            self.fail_first -= 1
            return web.json_response({"error": {"message": "busy", "type": "server_error"}}, status=503)
        return web.json_response({"ok": True, "size": len(body)})


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, str]]:
    rec = Recorder()
    app = web.Application(client_max_size=16 << 20)
    app.router.add_route("*", "/{tail:.*}", rec.handle)
    runner, port = await serve_locally(app)
    yield rec, f"http://127.0.0.1:{port}/v1"
    await runner.cleanup()


def connector(url: str, *backups: dict[str, object]) -> FailoverConnector:
    primary = EndpointConfig(endpoint=url, api_key="body-test-key")
    return FailoverConnector.from_endpoints(OpenAIAdapter(), primary, list(backups), FAST)


def form() -> MultipartForm:
    return MultipartForm(
        [
            FormField("model", "whisper-1"),
            FormField("file", b"RIFF\0\0\0\0WAVE" + bytes(range(256)), "speech.wav", "audio/wav"),
            FormField("language", "fr"),
        ]
    )


def test_multipart_encoding_and_model_substitution() -> None:
    upload = form()
    body = upload.encode()
    assert upload.content_type == f"multipart/form-data; boundary={upload.boundary}"
    assert body.startswith(f"--{upload.boundary}\r\n".encode())
    assert body.endswith(f"--{upload.boundary}--\r\n".encode())
    assert b'name="file"; filename="speech.wav"\r\nContent-Type: audio/wav\r\n\r\nRIFF' in body
    assert b'name="model"\r\n\r\nwhisper-1\r\n' in body
    renamed = upload.encode("my-deployment")
    assert b'name="model"\r\n\r\nmy-deployment\r\n' in renamed and b"whisper-1" not in renamed
    assert upload.value("language") == "fr" and upload.value("missing") is None
    assert "RIFF" not in repr(upload.fields[1]) and "256" not in repr(upload)


def test_form_names_with_quotes_or_line_breaks_are_refused() -> None:
    from core.llms.interfaces import InvalidInputError

    with pytest.raises(InvalidInputError, match="file name"):
        MultipartForm([FormField("file", b"x", 'a"b.wav')])
    with pytest.raises(InvalidInputError, match="field name"):
        MultipartForm([FormField("a\r\nb", "x")])


async def test_a_form_is_sent_as_multipart(recorder: tuple[Recorder, str]) -> None:
    rec, url = recorder
    upload = form()
    async with connector(url) as conn:
        await conn.send(WireRequest("transcriptions", {}, model="whisper-1", form=upload))
    ((method, path, content_type, body),) = rec.seen
    assert (method, path) == ("POST", "/v1/audio/transcriptions")
    assert content_type == upload.content_type and body == upload.encode()


async def test_get_sends_no_body_and_a_path_goes_after_the_operation(
    recorder: tuple[Recorder, str],
) -> None:
    rec, url = recorder
    async with connector(url) as conn:
        await conn.send(WireRequest("videos", {"ignored": True}, method="GET", path="/video_1/content"))
        await conn.send(WireRequest("videos", {}, method="GET", path="/video_2"))
    assert [(m, p, b) for m, p, _, b in rec.seen] == [
        ("GET", "/v1/videos/video_1/content", b""),
        ("GET", "/v1/videos/video_2", b""),
    ]


async def test_a_large_body_goes_in_pieces_and_whole_again_on_a_retry(recorder: tuple[Recorder, str]) -> None:
    rec, url = recorder
    rec.fail_first = 1
    big = "x" * (3 << 20)
    async with connector(url) as conn:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # aiohttp warns about large raw-bytes bodies
            response = await conn.send(WireRequest("embeddings", {"input": [big]}))
    assert response.data == {"ok": True, "size": len(rec.seen[0][3])}
    assert len(rec.seen) == 2 and rec.seen[0][3] == rec.seen[1][3] and len(rec.seen[1][3]) > 3 << 20


async def test_pinned_sends_only_to_that_endpoint_and_owns_nothing(
    recorder: tuple[Recorder, str],
) -> None:
    rec, url = recorder
    async with connector(url, {"endpoint": url.replace("/v1", "/backup/v1")}) as conn:
        backup = conn.endpoints[1]
        pinned = conn.pinned(backup)
        assert pinned.endpoints == [backup] and pinned.breaker(backup) is conn.breaker(backup)
        response = await pinned.send(WireRequest("videos", {}, method="GET", path="/video_9"))
        assert response.endpoint == backup
        await pinned.aclose()
        del pinned
        await conn.send(WireRequest("videos", {}, method="GET", path="/video_9"))  # still open
        with pytest.raises(ConfigurationError, match="no endpoint named"):
            conn.pinned("https://nowhere.example")
    assert [p for _, p, _, _ in rec.seen] == ["/backup/v1/videos/video_9", "/v1/videos/video_9"]
