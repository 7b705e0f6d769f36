"""Bedrock video (Nova Reel) and its S3 download, through the real FailoverConnector and
Connector against a local fake of the Bedrock runtime's async-invoke routes and of S3 (whose
GETs are checked against an independent SigV4 implementation): request bodies, polling, the
deadline, a failed job, failover and pinning, refusals before any request, S3 errors, cost.
A stub adapter stands for the provider's (URLs only): this tests the media module, not the
provider."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
from aiohttp import web
from bedrock_video_fake import (
    FAST,
    KEY_ID,
    MP4,
    REEL,
    SECRET,
    FakeBedrock,
    Reel,
    StubAdapter,
    reel,
    settings,
)

from core.llms.interfaces import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RequestContext,
    RequestTimeoutError,
    ResponseTooLargeError,
    ServiceUnavailableError,
    VideoJobFailedError,
)
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.bedrock.media import video as video_module


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
            await model._observe_call(
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
            await model._observe_call(
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
