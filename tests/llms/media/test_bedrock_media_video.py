"""Bedrock video (Nova Reel) and its S3 download, through the real FailoverConnector and
Connector against a local fake of the Bedrock runtime's async-invoke routes and of S3 (whose
GETs are checked against an independent SigV4 implementation): request bodies, polling, the
deadline, a failed job, failover and pinning, refusals before any request, S3 errors, cost.
A stub adapter stands for the provider's (URLs only): this tests the media module, not the
provider."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, unquote

import pytest
from aiohttp import web
from local_http import serve_locally

from core.llms.interfaces import (
    AuthenticationError,
    ConfigurationError,
    ImagePart,
    InvalidInputError,
    LLMResponse,
    LLMStreamChunk,
    NotFoundError,
    PermissionDeniedError,
    RequestContext,
    RequestTimeoutError,
    ResponseTooLargeError,
    ServiceUnavailableError,
    VideoJobFailedError,
)
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.interfaces.metadata import ModelMetadata, Pricing
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.http_errors import error_for_status
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.base.retry import RetryPolicy
from core.llms.providers.bedrock.adapter import BedrockAdapter
from core.llms.providers.bedrock.media import s3 as s3_module
from core.llms.providers.bedrock.media import video as video_module
from core.llms.providers.bedrock.settings import BedrockSettings

KEY_ID = "AKIDEXAMPLE7Q3ZP1"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + b"\x00" * 64
REEL = "amazon.nova-reel-v1:1"
FAST = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002)


# -- a fake Bedrock runtime + S3 ------------------------------------------------------------------


def sigv4_check(request: web.Request, secret: str, region: str) -> str | None:
    """Why ``request`` is not a valid SigV4 request for S3 (None when it is): an independent
    implementation of the canonical request and signature (only what a GET uses)."""
    auth = request.headers.get("Authorization", "")
    prefix = "AWS4-HMAC-SHA256 "
    if not auth.startswith(prefix):
        return "no SigV4 Authorization header"
    parts = dict(item.strip().split("=", 1) for item in auth[len(prefix) :].split(","))
    key_id, day, scope_region, service, terminal = parts["Credential"].split("/")
    if key_id != KEY_ID or (scope_region, service, terminal) != (region, "s3", "aws4_request"):
        return f"wrong scope {scope_region}/{service}/{terminal}"
    amz_date = request.headers.get("X-Amz-Date", "")
    payload = request.headers.get("X-Amz-Content-SHA256", "")
    if payload != hashlib.sha256(b"").hexdigest():
        return "x-amz-content-sha256 is not the empty body's hash"
    signed = parts["SignedHeaders"].split(";")
    if "host" not in signed or "x-amz-date" not in signed:
        return "host or x-amz-date not signed"
    canonical_headers = "".join(f"{name}:{' '.join(request.headers[name].split())}\n" for name in signed)
    query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(request.query.items())
    )
    canonical = "\n".join(
        [request.method, request.raw_path.split("?")[0], query, canonical_headers, ";".join(signed), payload]
    )
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            amz_date,
            f"{day}/{region}/s3/aws4_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = ("AWS4" + secret).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts["Signature"]):
        return "signature mismatch"
    return None


class FakeBedrock:
    """``POST /async-invoke``, ``GET /async-invoke/{arn}`` and ``GET /s3/{bucket}/{key}``.

    ``polls``: InProgress answers before the job ends; ``fail``: its failureMessage (ends
    Failed); ``start_errors`` / ``poll_errors``: statuses answered first; ``s3_status``: the
    S3 GET's status (an XML error body); ``report_folder``: GetAsyncInvoke's s3Uri names the
    job's folder (as AWS does) rather than echoing the URI given."""

    def __init__(self, name: str = "east", **script: Any) -> None:
        self.name = name
        self.polls = script.get("polls", 2)
        self.fail: str | None = script.get("fail")
        self.start_errors: list[int] = list(script.get("start_errors", []))
        self.poll_errors: list[int] = list(script.get("poll_errors", []))
        self.s3_status: int = script.get("s3_status", 200)
        self.s3_code: str = script.get("s3_code", "AccessDenied")
        self.s3_body: bytes = script.get("s3_body", MP4)
        self.s3_type: str = script.get("s3_type", "video/mp4")
        self.report_folder: bool = script.get("report_folder", True)
        self.progress: int | list[int] | None = script.get("progress")  # one, or one per poll
        self.report_uri: Any = script.get("report_uri")  # job id -> the s3Uri GetAsyncInvoke reports
        self.requests: list[tuple[str, str]] = []
        self.starts: list[dict[str, Any]] = []
        self.sigv4_problems: list[str | None] = []
        self.s3_headers: list[dict[str, str]] = []
        self.bedrock_auth: list[str] = []
        self.s3_queries: list[dict[str, str]] = []
        self.honour_type: bool = script.get("honour_type", True)  # False: a store that ignores it
        self.jobs: dict[str, dict[str, Any]] = {}
        self.url = ""
        self._runner: Any = None

    async def __aenter__(self) -> FakeBedrock:
        app = web.Application()

        # (looked up on each request: a test may replace a handler)
        async def start(request: web.Request) -> web.Response:
            return await self.start(request)

        async def poll(request: web.Request) -> web.Response:
            return await self.poll(request)

        async def s3_get(request: web.Request) -> web.Response:
            return await self.s3_get(request)

        app.router.add_post("/async-invoke", start)
        app.router.add_get("/async-invoke/{arn}", poll)
        app.router.add_get("/s3/{bucket}/{key:.*}", s3_get)
        self._runner, port = await serve_locally(app, access_log=None)
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()

    async def start(self, request: web.Request) -> web.Response:
        self.requests.append(("POST", request.raw_path))
        if self.start_errors:
            return web.json_response({"message": "busy"}, status=self.start_errors.pop(0))
        body = await request.json()
        self.starts.append(body)
        job_id = f"{self.name}{len(self.starts):08d}"[-12:].lower()
        arn = f"arn:aws:bedrock:us-east-1:123456789012:async-invoke/{job_id}"
        self.jobs[arn] = {"left": self.polls, "uri": body["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]}
        self.bedrock_auth.append(request.headers.get("Authorization", ""))
        return web.json_response(
            {"invocationArn": arn}, headers={"x-amzn-RequestId": f"rid-{len(self.starts)}"}
        )

    async def poll(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", request.raw_path))
        if self.poll_errors:
            return web.json_response({"message": "busy"}, status=self.poll_errors.pop(0))
        arn = unquote(request.raw_path.rsplit("/", 1)[-1])
        job = self.jobs.get(arn)
        if job is None:
            return web.json_response({"message": "no such invocation"}, status=404)
        uri = job["uri"].rstrip("/") + "/" + arn.rsplit("/", 1)[-1] if self.report_folder else job["uri"]
        if self.report_uri is not None:
            uri = self.report_uri(arn.rsplit("/", 1)[-1])
        body: dict[str, Any] = {
            "invocationArn": arn,
            "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{REEL}",
            "submitTime": "2026-01-01T00:00:00Z",
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": uri}},
        }
        if isinstance(self.progress, list):
            if self.progress:
                body["progress"] = self.progress.pop(0)
        elif self.progress is not None:
            body["progress"] = self.progress
        if job["left"] is None or job["left"] > 0:
            if job["left"] is not None:
                job["left"] -= 1
            body["status"] = "InProgress"
        elif self.fail is not None:
            body["status"] = "Failed"
            body["failureMessage"] = self.fail
        else:
            body["status"] = "Completed"
        return web.json_response(body)

    async def s3_get(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", request.raw_path.partition("?")[0]))
        self.s3_queries.append(dict(request.query))
        self.s3_headers.append(dict(request.headers))
        self.sigv4_problems.append(sigv4_check(request, SECRET, "us-east-1"))
        if self.s3_status != 200:
            xml = (
                f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{self.s3_code}</Code>"
                f"<Message>Denied for {KEY_ID}</Message><RequestId>ABC123</RequestId></Error>"
            )
            return web.Response(
                status=self.s3_status,
                body=xml.encode(),
                content_type="application/xml",
                headers={"x-amz-request-id": "ABC123"},
            )
        # S3 answers with the content type a signed GET asks for (response-content-type)
        kind = request.query.get("response-content-type", self.s3_type) if self.honour_type else self.s3_type
        return web.Response(body=self.s3_body, headers={"Content-Type": kind})


class StubAdapter:
    """Another provider adapter (URL rules only, no signing): the S3 download then makes its own
    credential provider from the endpoint's settings."""

    provider = "bedrock"

    def url(self, endpoint: EndpointConfig, operation: str, model: str) -> str:
        if operation == "async_invoke":
            return endpoint.endpoint + "/async-invoke"
        return f"{endpoint.endpoint}/model/{quote(model, safe='')}/invoke"

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        return {}

    def decoder(self, operation: str) -> Any:
        raise AssertionError("no streams")

    def map_error(self, status: int, headers: Any, body: bytes, endpoint: str) -> Any:
        return error_for_status(status, f"status {status}", endpoint=endpoint)

    def request_id(self, headers: Any) -> str | None:
        value = headers.get("x-amzn-RequestId")
        return str(value) if value is not None else None


class Reel(BaseLLM):
    metadata = ModelMetadata(
        name=REEL,
        provider="bedrock",
        input_media=frozenset({"text"}),
        output_media=frozenset({"video"}),
        pricing=Pricing(per_video_second=0.08),
    )

    def _check_defaults(self) -> None:
        pass

    async def get_answer(self, messages: Any, ctx: Any = None, **params: Any) -> LLMResponse:
        raise AssertionError

    def stream_answer(self, messages: Any, ctx: Any = None, **params: Any) -> AsyncIterator[LLMStreamChunk]:
        raise AssertionError


class ReelV10(Reel):
    metadata = Reel.metadata.replace(name="amazon.nova-reel-v1:0")


def settings(server: FakeBedrock, **changes: Any) -> BedrockSettings:
    fields: dict[str, Any] = {
        "region": "us-east-1",
        "aws_access_key_id": KEY_ID,
        "aws_secret_access_key": SECRET,
        "s3_endpoint": server.url + "/s3",
    }
    fields.update(changes)
    return BedrockSettings(**{k: v for k, v in fields.items() if v is not None})


def reel(*servers: FakeBedrock, cls: type[Reel] = Reel, adapter: Any = None, **kw: Any) -> Reel:
    """A Nova Reel model on the servers (primary first), through the provider's adapter (SigV4
    for Bedrock with the explicit keys) unless another is given."""
    primary, *backups = servers
    endpoint = EndpointConfig(
        endpoint=primary.url, name=primary.name, settings=kw.pop("settings", None) or settings(primary)
    )
    backup_configs = [EndpointConfig(endpoint=b.url, name=b.name, settings=settings(b)) for b in backups]
    connector = FailoverConnector.from_endpoints(adapter or BedrockAdapter(), endpoint, backup_configs, FAST)
    return cls(connector, **kw)


@pytest.fixture
async def server() -> AsyncIterator[FakeBedrock]:
    async with FakeBedrock() as fake:
        yield fake


OUT = "s3://my-videos/runs"


# -- the whole job ------------------------------------------------------------------------------


async def test_a_video_completes_with_its_bytes_from_s3_signed_with_sigv4(server: FakeBedrock) -> None:
    async with reel(server) as model:
        video = await video_module.generate_video(
            model, "a paper boat on a river", None, {"output_s3_uri": OUT, "seed": 42, "poll_interval": 0.01}
        )

    assert video.data == MP4 and video.media_type == "video/mp4"
    [start] = server.starts
    arn = video.job_id
    assert arn is not None and arn.startswith("arn:aws:bedrock:us-east-1:123456789012:async-invoke/")
    job_id = arn.rsplit("/", 1)[-1]
    assert start == {
        "modelId": REEL,
        "modelInput": {
            "taskType": "TEXT_VIDEO",
            "textToVideoParams": {"text": "a paper boat on a river"},
            "videoGenerationConfig": {"durationSeconds": 6, "fps": 24, "dimension": "1280x720", "seed": 42},
        },
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": OUT}},
        "clientRequestToken": start["clientRequestToken"],
    }
    assert 8 <= len(start["clientRequestToken"]) <= 256
    poll_path = "/async-invoke/" + quote(arn, safe=":")  # as sent: aiohttp decodes %3A
    assert server.requests == [
        ("POST", "/async-invoke"),
        ("GET", poll_path),
        ("GET", poll_path),
        ("GET", poll_path),
        ("GET", f"/s3/my-videos/runs/{job_id}/output.mp4"),
    ]
    assert server.sigv4_problems == [None]
    assert server.s3_queries == [{"response-content-type": "video/mp4"}]
    assert video.url == f"s3://my-videos/runs/{job_id}/output.mp4"
    assert video.duration_seconds == 6.0 and video.cost == pytest.approx(6 * 0.08)
    assert (video.model, video.provider, video.endpoint) == (REEL, "bedrock", "east")
    assert video.request_id == "rid-1"  # the start's
    [auth] = server.bedrock_auth
    assert (
        auth.startswith(f"AWS4-HMAC-SHA256 Credential={KEY_ID}/")
        and "/us-east-1/bedrock/aws4_request" in auth
    )


async def test_another_adapter_still_signs_the_download_from_the_endpoint_settings(
    server: FakeBedrock,
) -> None:
    server.polls = 0
    async with reel(server, adapter=StubAdapter()) as model:
        video = await video_module.generate_video(
            model, "a fox", None, {"output_s3_uri": OUT, "poll_interval": 0.01}
        )
    assert video.data == MP4 and server.sigv4_problems == [None]
    assert server.bedrock_auth == [""]  # the stub signs nothing for Bedrock


async def test_stream_video_reports_progress_then_the_final_chunk(server: FakeBedrock) -> None:
    server.polls = 3
    async with reel(server) as model:
        chunks = [
            c
            async for c in video_module.stream_video(
                model, "a fox", None, {"s3_uri": OUT, "poll_interval": 0.01}
            )
        ]

    *running, final = chunks
    assert [c.status for c in running] == ["in_progress"] * 4  # after the start and each running poll
    progress = [c.progress for c in running]
    assert progress == sorted(progress) and all(0 <= p < 1 for p in progress)
    assert final.final and final.status == "completed" and final.progress == 1.0
    assert final.data == MP4 and final.response is not None and final.response.data == MP4
    assert {c.job_id for c in chunks} == {final.response.job_id}


async def test_progress_reported_by_the_service_is_used(server: FakeBedrock) -> None:
    server.progress = 40
    async with reel(server) as model:
        chunks = [
            c
            async for c in video_module.stream_video(
                model, "a fox", None, {"s3_uri": OUT, "poll_interval": 0.01}
            )
        ]
    assert [c.progress for c in chunks[1:-1]] == [0.4, 0.4]


async def test_progress_never_goes_down_and_stays_below_one_until_the_end(server: FakeBedrock) -> None:
    server.polls, server.progress = 3, [60, 30, 150]
    async with reel(server) as model:
        chunks = [
            c
            async for c in video_module.stream_video(
                model, "a fox", None, {"s3_uri": OUT, "poll_interval": 0.01}
            )
        ]
    assert [c.progress for c in chunks] == [0.0, 0.6, 0.6, 0.99, 1.0]


async def test_a_multi_shot_video_is_multi_shot_automated(server: FakeBedrock) -> None:
    server.polls = 0
    async with reel(server, defaults={"output_s3_uri": OUT}) as model:
        video = await video_module.generate_video(
            model, "x" * 3000, None, {"seconds": 18, "size": "1280x720", "fps": 24, "poll_interval": 0.01}
        )
    [start] = server.starts
    assert start["modelInput"] == {
        "taskType": "MULTI_SHOT_AUTOMATED",
        "multiShotAutomatedParams": {"text": "x" * 3000},
        "videoGenerationConfig": {"durationSeconds": 18, "fps": 24, "dimension": "1280x720"},
    }
    assert video.duration_seconds == 18.0 and video.cost == pytest.approx(18 * 0.08)


async def test_download_false_returns_the_s3_uri_without_fetching(server: FakeBedrock) -> None:
    server.report_folder = False  # a service that echoes the URI given: the job's folder is added
    async with reel(server) as model:
        video = await video_module.generate_video(
            model, "a fox", None, {"output_s3_uri": OUT + "/", "download": False, "poll_interval": 0.01}
        )
    assert video.data is None
    assert video.url == f"s3://my-videos/runs/{video.job_id.rsplit('/', 1)[-1]}/output.mp4"  # type: ignore[union-attr]
    assert not any("/s3/" in path for _, path in server.requests)


async def test_the_idempotency_key_is_the_client_request_token(server: FakeBedrock) -> None:
    server.polls = 0
    ctx = RequestContext(idempotency_key="video-run-0001")
    async with reel(server) as model:
        await video_module.generate_video(model, "a fox", ctx, {"output_s3_uri": OUT, "poll_interval": 0.01})
    assert server.starts[0]["clientRequestToken"] == "video-run-0001"


async def test_a_retried_start_keeps_its_client_request_token(server: FakeBedrock) -> None:
    server.polls = 0
    seen: list[str] = []
    original = server.start

    async def start(request: web.Request) -> web.Response:
        seen.append((await request.json())["clientRequestToken"])
        return await original(request)

    server.start = start  # type: ignore[method-assign]
    server.start_errors = [503]
    async with reel(server) as model:
        await video_module.generate_video(model, "a fox", None, {"output_s3_uri": OUT, "poll_interval": 0.01})
    assert len(seen) == 2 and seen[0] == seen[1]


# -- failures -----------------------------------------------------------------------------------


async def test_a_failed_job_raises_video_job_failed_with_the_arn_and_its_reason(server: FakeBedrock) -> None:
    server.fail = f"Internal failure while generating (key {KEY_ID})"
    async with reel(server) as model:
        with pytest.raises(VideoJobFailedError) as info:
            await model._media_call(
                None,
                video_module.generate_video(
                    model, "a fox", None, {"output_s3_uri": OUT, "poll_interval": 0.01}
                ),
            )
    error = info.value
    assert error.job_id is not None and error.job_id.startswith("arn:aws:bedrock:us-east-1:123456789012:")
    assert f"video job {error.job_id} failed" in str(error)
    assert "Internal failure while generating" in str(error)
    assert KEY_ID not in str(error) and KEY_ID not in repr(error)  # the echoed access key is masked
    assert error.code == "Failed" and error.endpoint == "east"
    assert not any("/s3/" in path for _, path in server.requests)
    assert len([p for m, p in server.requests if m == "POST"]) == 1  # never retried


async def test_a_job_blocked_by_content_filters_says_so(server: FakeBedrock) -> None:
    server.fail = "The generated video has been blocked by our content filters."
    async with reel(server) as model:
        with pytest.raises(VideoJobFailedError) as info:
            await video_module.generate_video(
                model, "a fox", None, {"output_s3_uri": OUT, "poll_interval": 0.01}
            )
    assert info.value.code == "content_filter" and "change it" in (info.value.hint or "")


async def test_the_deadline_bounds_the_whole_job_and_names_it(server: FakeBedrock) -> None:
    server.polls = None  # never ends
    started = time.monotonic()
    async with reel(server) as model:
        with pytest.raises(RequestTimeoutError) as info:
            await video_module.generate_video(
                model, "a fox", None, {"output_s3_uri": OUT, "timeout": 0.4, "poll_interval": 0.05}
            )
    elapsed = time.monotonic() - started
    assert elapsed < 1.5
    arn = getattr(info.value, "job_id", None)
    assert arn is not None and arn in str(info.value)
    assert "keeps running" in (info.value.hint or "")
    assert len([1 for m, p in server.requests if m == "GET"]) >= 2


async def test_the_context_deadline_bounds_the_job(server: FakeBedrock) -> None:
    server.polls = None
    async with reel(server) as model:
        with pytest.raises(RequestTimeoutError):
            await video_module.generate_video(
                model,
                "a fox",
                RequestContext.with_timeout(0.3),
                {"output_s3_uri": OUT, "poll_interval": 0.05},
            )


async def test_a_poll_that_keeps_failing_names_the_job(server: FakeBedrock) -> None:
    server.poll_errors = [503, 503, 503]
    async with reel(server) as model:
        with pytest.raises(ServiceUnavailableError) as info:
            await video_module.generate_video(
                model, "a fox", None, {"output_s3_uri": OUT, "poll_interval": 0.01}
            )
    assert getattr(info.value, "job_id", "").startswith("arn:aws:bedrock:")
    assert "video job arn:aws:bedrock:" in info.value.message


@pytest.mark.parametrize(
    ("status", "code", "kind", "hint"),
    [
        (403, "AccessDenied", PermissionDeniedError, "s3:GetObject"),
        (403, "SignatureDoesNotMatch", AuthenticationError, "refused by S3"),
        (404, "NoSuchKey", NotFoundError, "not where the job said"),
    ],
)
async def test_s3_errors_are_typed_name_the_job_and_hide_the_key(
    server: FakeBedrock, status: int, code: str, kind: type[Exception], hint: str
) -> None:
    server.polls = 0
    server.s3_status, server.s3_code = status, code
    async with reel(server) as model:
        with pytest.raises(kind) as info:
            await model._media_call(
                None,
                video_module.generate_video(
                    model, "a fox", None, {"output_s3_uri": OUT, "poll_interval": 0.01}
                ),
            )
    error = info.value
    text = str(error) + repr(error) + repr(getattr(error, "body", None))
    assert hint in (getattr(error, "hint", "") or "")
    assert code in text and error.code == code  # type: ignore[attr-defined]
    assert getattr(error, "status", None) == status
    assert getattr(error, "job_id", "").startswith("arn:aws:bedrock:")
    assert SECRET not in text
    assert len([1 for _, p in server.requests if "/s3/" in p]) == 1  # a 4xx is not retried


async def test_s3_503_is_retried(server: FakeBedrock) -> None:
    server.polls = 0
    server.s3_status, server.s3_code = 503, "SlowDown"
    async with reel(server) as model:
        with pytest.raises(ServiceUnavailableError):
            await video_module.generate_video(
                model, "a fox", None, {"output_s3_uri": OUT, "poll_interval": 0.01}
            )
    assert len([1 for _, p in server.requests if "/s3/" in p]) == 2  # FAST: one retry


async def test_a_video_over_max_response_bytes_says_how_to_raise_it(server: FakeBedrock) -> None:
    server.polls = 0
    server.s3_body = MP4 * 100
    endpoint = EndpointConfig(
        endpoint=server.url, name="east", settings=settings(server), max_response_bytes=1000
    )
    async with Reel(FailoverConnector.from_endpoints(StubAdapter(), endpoint, (), FAST)) as model:
        with pytest.raises(ResponseTooLargeError) as info:
            await video_module.generate_video(
                model, "a fox", None, {"output_s3_uri": OUT, "poll_interval": 0.01}
            )
    assert "max_response_bytes" in (info.value.hint or "") and "download=False" in (info.value.hint or "")


async def test_an_s3_answer_that_is_not_a_video_is_a_parsing_error(server: FakeBedrock) -> None:
    server.polls = 0
    server.s3_body, server.s3_type = json.dumps({"not": "a video"}).encode(), "application/json"
    server.honour_type = False  # (a gateway in front of S3 that ignores response-content-type)
    async with reel(server) as model:
        with pytest.raises(Exception, match="not a video"):
            await video_module.generate_video(
                model, "a fox", None, {"output_s3_uri": OUT, "poll_interval": 0.01}
            )


async def test_an_unreadable_start_answer_is_a_parsing_error(server: FakeBedrock) -> None:
    async def start(request: web.Request) -> web.Response:
        return web.json_response({"invocationArn": "not-an-arn"})

    server.start = start  # type: ignore[method-assign]
    async with reel(server) as model:
        with pytest.raises(Exception, match="unreadable invocationArn"):
            await video_module.generate_video(model, "a fox", None, {"output_s3_uri": OUT})


# -- failover and pinning -----------------------------------------------------------------------


async def test_polls_and_download_go_to_the_endpoint_that_started_the_job() -> None:
    async with (
        FakeBedrock("east", start_errors=[503]) as east,
        FakeBedrock("west", polls=2) as west,
        reel(east, west) as model,
    ):
        video = await video_module.generate_video(
            model, "a fox", None, {"output_s3_uri": OUT, "poll_interval": 0.01}
        )
    assert video.endpoint == "west" and video.data == MP4
    assert east.requests == [("POST", "/async-invoke")]  # a 5xx fails over at once
    assert [m for m, _ in west.requests] == ["POST", "GET", "GET", "GET", "GET"]
    assert west.sigv4_problems == [None]


async def test_a_poll_failing_on_the_jobs_endpoint_does_not_fail_over() -> None:
    async with (
        FakeBedrock("east", poll_errors=[503, 503, 503]) as east,
        FakeBedrock("west") as west,
        reel(east, west) as model,
    ):
        with pytest.raises(ServiceUnavailableError):
            await video_module.generate_video(
                model, "a fox", None, {"output_s3_uri": OUT, "poll_interval": 0.01}
            )
    assert west.requests == []


# -- refusals before any request ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "params", "kind", "match"),
    [
        ("a fox", {}, ConfigurationError, "output_s3_uri"),
        ("a fox", {"output_s3_uri": "https://bucket/x"}, InvalidInputError, "output_s3_uri is not an s3://"),
        ("a fox", {"output_s3_uri": "s3://UPPER/x"}, InvalidInputError, "output_s3_uri"),
        ("a fox", {"output_s3_uri": OUT, "seconds": 7}, InvalidInputError, "seconds=7"),
        ("a fox", {"output_s3_uri": OUT, "seconds": 126}, InvalidInputError, "seconds=126"),
        ("a fox", {"output_s3_uri": OUT, "seconds": True}, InvalidInputError, "seconds=<bool>"),
        ("a fox", {"output_s3_uri": OUT, "size": "1920x1080"}, InvalidInputError, "size='1920x1080'"),
        ("a fox", {"output_s3_uri": OUT, "fps": 30}, InvalidInputError, "fps=30"),
        ("a fox", {"output_s3_uri": OUT, "seed": -1}, InvalidInputError, "seed=-1"),
        ("a fox", {"output_s3_uri": OUT, "poll_interval": 0}, InvalidInputError, "poll_interval=0"),
        ("a fox", {"output_s3_uri": OUT, "download": "yes"}, InvalidInputError, "download='yes'"),
        ("a fox", {"output_s3_uri": OUT, "quality": "hd"}, InvalidInputError, "unknown parameter 'quality'"),
        ("a fox", {"output_s3_uri": OUT, "s3_uri": OUT}, InvalidInputError, "pass only one"),
        ("x" * 513, {"output_s3_uri": OUT}, InvalidInputError, "takes at most 512"),
        ("x" * 4001, {"output_s3_uri": OUT, "seconds": 12}, InvalidInputError, "takes at most 4,000"),
        ("  ", {"output_s3_uri": OUT}, InvalidInputError, "prompt must be a non-empty string"),
    ],
)
async def test_bad_calls_are_refused_before_any_request(
    server: FakeBedrock, prompt: str, params: dict[str, Any], kind: type[Exception], match: str
) -> None:
    async with reel(server) as model:
        with pytest.raises(kind, match=match):
            await video_module.generate_video(model, prompt, None, params)
    assert server.requests == []


async def test_nova_reel_v1_0_makes_six_seconds_only(server: FakeBedrock) -> None:
    async with reel(server, cls=ReelV10) as model:
        with pytest.raises(InvalidInputError, match="nova-reel-v1:1") as info:
            await video_module.generate_video(model, "a fox", None, {"output_s3_uri": OUT, "seconds": 12})
    assert info.value.hint == "allowed: 6"
    assert server.requests == []


async def test_a_download_needs_an_endpoint_configuration() -> None:
    class Bare:
        endpoints = ["x"]

        async def send(self, *a: Any) -> Any:
            raise AssertionError("nothing may be sent")

    model = Reel(Bare())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="no endpoint configuration"):
        await video_module.generate_video(model, "a fox", None, {"output_s3_uri": OUT})


# -- S3 URLs ------------------------------------------------------------------------------------


def test_object_urls_virtual_hosted_path_style_and_custom_endpoint() -> None:
    loc = s3_module.parse_s3_uri("s3://my-videos/runs/abc/output.mp4")
    assert (loc.bucket, loc.key) == ("my-videos", "runs/abc/output.mp4")
    assert s3_module.object_url(loc, region="eu-west-1") == (
        "https://my-videos.s3.eu-west-1.amazonaws.com",
        "/runs/abc/output.mp4",
    )
    dotted = s3_module.S3Location("my.videos", "a b/c+d.mp4")
    assert s3_module.object_url(dotted, region="us-east-1") == (
        "https://s3.us-east-1.amazonaws.com/my.videos",
        "/a%20b/c%2Bd.mp4",
    )
    assert (
        s3_module.object_url(loc, region="cn-north-1")[0]
        == "https://my-videos.s3.cn-north-1.amazonaws.com.cn"
    )
    assert s3_module.object_url(loc, region="us-east-1", s3_endpoint="http://127.0.0.1:9/s3/") == (
        "http://127.0.0.1:9/s3/my-videos",
        "/runs/abc/output.mp4",
    )
    assert s3_module.parse_s3_uri("s3://bkt").child("x").uri == "s3://bkt/x"
    assert s3_module.parse_s3_uri("s3://bkt/a/").child("x").uri == "s3://bkt/a/x"
    for bad in ("s3://a", "s3://a..b/x", "s3://-bad/x", "s3://ok/\n", 3, "s3:/ok/x"):
        with pytest.raises(InvalidInputError):
            s3_module.parse_s3_uri(bad)


async def test_a_bearer_only_endpoint_sends_its_token_to_a_custom_s3_endpoint(server: FakeBedrock) -> None:
    server.polls = 0
    token = "bedrock-api-key-ABSKexample0123456789"
    model = reel(
        server,
        settings=settings(server, aws_access_key_id=None, aws_secret_access_key=None, bedrock_api_key=token),
    )
    async with model:
        video = await video_module.generate_video(
            model, "a fox", None, {"output_s3_uri": OUT, "poll_interval": 0.01}
        )
    assert video.data == MP4
    assert server.s3_headers[0]["Authorization"] == f"Bearer {token}"


async def test_the_signature_covers_the_session_token(server: FakeBedrock) -> None:
    server.polls = 0
    model = reel(server, settings=settings(server, aws_session_token="FwoGZXIvYXdzEXAMPLESESSIONTOKEN"))
    async with model:
        await video_module.generate_video(model, "a fox", None, {"output_s3_uri": OUT, "poll_interval": 0.01})
    assert server.sigv4_problems == [None]
    headers = {k.lower(): v for k, v in server.s3_headers[0].items()}
    assert headers["x-amz-security-token"] == "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
    assert "x-amz-security-token" in headers["authorization"]


async def test_cancelling_stops_polling_at_once(server: FakeBedrock) -> None:
    server.polls = None
    async with reel(server) as model:
        task = asyncio.ensure_future(
            video_module.generate_video(model, "a fox", None, {"output_s3_uri": OUT, "poll_interval": 0.05})
        )
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        seen = len(server.requests)
        await asyncio.sleep(0.2)
    assert len(server.requests) == seen


async def test_a_prefix_with_spaces_and_plus_signs_is_signed_as_sent(server: FakeBedrock) -> None:
    server.polls = 0
    async with reel(server) as model:
        video = await video_module.generate_video(
            model, "a fox", None, {"output_s3_uri": "s3://my-videos/my runs+2026", "poll_interval": 0.01}
        )
    assert video.data == MP4
    assert server.sigv4_problems == [None]  # S3's rules: the path is signed as it is sent, not encoded again
    [s3_path] = [p for _, p in server.requests if p.startswith("/s3/")]
    assert s3_path.startswith("/s3/my-videos/my%20runs%2B2026/")
    assert video.url is not None and video.url.startswith("s3://my-videos/my runs+2026/")


@pytest.mark.parametrize(
    ("reported", "fetched"),
    [
        (
            "s3://my-videos/elsewhere/{id}",
            "/s3/my-videos/elsewhere/{id}/output.mp4",
        ),  # the job's folder: used
        ("s3://other-bucket/runs/{id}", "/s3/my-videos/runs/{id}/output.mp4"),  # another bucket: ignored
        ("s3://my-videos/runs/not-the-job", "/s3/my-videos/runs/{id}/output.mp4"),  # another folder: ignored
        ("https://evil.example/{id}", "/s3/my-videos/runs/{id}/output.mp4"),  # not an S3 URI: ignored
    ],
)
async def test_the_video_is_fetched_from_the_folder_the_job_reports_in_its_bucket(
    server: FakeBedrock, reported: str, fetched: str
) -> None:
    server.polls = 0
    server.report_uri = lambda job_id: reported.format(id=job_id)
    async with reel(server) as model:
        video = await video_module.generate_video(
            model, "a fox", None, {"output_s3_uri": OUT, "poll_interval": 0.01}
        )
    job_id = (video.job_id or "").rsplit("/", 1)[-1]
    [s3_path] = [p for _, p in server.requests if p.startswith("/s3/")]
    assert s3_path == fetched.format(id=job_id)
    assert video.url == "s3://" + fetched.format(id=job_id).removeprefix("/s3/")


# -- a first frame ------------------------------------------------------------------------------


def png_of(width: int, height: int) -> bytes:
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + (13).to_bytes(4, "big") + b"IHDR" + ihdr + b"\0\0\0\0" + b"\0" * 32


def jpeg_of(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + (16).to_bytes(2, "big") + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    sof0 = (
        b"\xff\xc0" + (17).to_bytes(2, "big") + b"\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big")
    )
    return b"\xff\xd8" + app0 + sof0 + b"\x03" + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01" + b"\xff\xd9"


@pytest.mark.parametrize(
    ("image", "kind"),
    [
        (png_of(1280, 720), "png"),
        (jpeg_of(1280, 720), "jpeg"),
        (ImagePart(data=png_of(1280, 720), media_type="image/png"), "png"),
        ("data:image/png;base64," + base64.b64encode(png_of(1280, 720)).decode(), "png"),
    ],
)
async def test_a_first_frame_goes_with_a_six_second_video(server: FakeBedrock, image: Any, kind: str) -> None:
    server.polls = 0
    async with reel(server) as model:
        await video_module.generate_video(
            model, "a fox", None, {"output_s3_uri": OUT, "image": image, "poll_interval": 0.01}
        )
    [frame] = server.starts[0]["modelInput"]["textToVideoParams"]["images"]
    raw = png_of(1280, 720) if kind == "png" else jpeg_of(1280, 720)
    assert frame == {"format": kind, "source": {"bytes": base64.b64encode(raw).decode()}}


async def test_a_first_frame_from_a_file(server: FakeBedrock, tmp_path: Any) -> None:
    server.polls = 0
    path = tmp_path / "frame.png"
    path.write_bytes(png_of(1280, 720))
    async with reel(server) as model:
        await video_module.generate_video(
            model, "a fox", None, {"output_s3_uri": OUT, "input_reference": path, "poll_interval": 0.01}
        )
    assert server.starts[0]["modelInput"]["textToVideoParams"]["images"][0]["format"] == "png"


@pytest.mark.parametrize(
    ("image", "params", "match"),
    [
        (png_of(640, 480), {}, "image is 640x480"),
        (jpeg_of(1920, 1080), {}, "image is 1920x1080"),
        (b"GIF89a" + b"\0" * 32, {}, "not a PNG or JPEG"),
        ("https://example.com/frame.png", {}, "download it first"),
        ("/no/such/frame.png", {}, "cannot read 'frame.png'"),
        ("data:image/png;base64,@@@", {}, "not valid base64"),
        (png_of(1280, 720), {"seconds": 12}, "not a multi-shot one"),
        (3, {}, "not int"),
    ],
)
async def test_a_bad_first_frame_is_refused_before_any_request(
    server: FakeBedrock, image: Any, params: dict[str, Any], match: str
) -> None:
    async with reel(server) as model:
        with pytest.raises(InvalidInputError, match=match):
            await video_module.generate_video(
                model, "a fox", None, {"output_s3_uri": OUT, "image": image, **params}
            )
    assert server.requests == []


async def test_an_object_stored_as_binary_is_still_downloaded_as_mp4(server: FakeBedrock) -> None:
    server.polls = 0
    server.s3_type = "binary/octet-stream"  # S3's default type: the connector would read it as JSON
    async with reel(server) as model:
        video = await video_module.generate_video(
            model, "a fox", None, {"output_s3_uri": OUT, "poll_interval": 0.01}
        )
    assert video.data == MP4 and video.media_type == "video/mp4"
    assert server.sigv4_problems == [None]  # the query is signed as S3 reads it


async def test_a_bedrock_api_key_alone_cannot_download_from_aws_s3_and_is_refused_first(
    server: FakeBedrock, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    token = "bedrock-api-key-ABSKexample0123456789"
    no_s3 = settings(
        server, aws_access_key_id=None, aws_secret_access_key=None, bedrock_api_key=token, s3_endpoint=None
    )
    async with reel(server, settings=no_s3) as model:
        with pytest.raises(AuthenticationError) as info:
            await video_module.generate_video(model, "a fox", None, {"output_s3_uri": OUT})
        assert server.requests == []  # refused before the job was started
        assert "download=False" in (info.value.hint or "") and token not in str(info.value)
        server.polls = 0
        video = await video_module.generate_video(
            model, "a fox", None, {"output_s3_uri": OUT, "download": False, "poll_interval": 0.01}
        )
    assert video.data is None and video.url is not None
