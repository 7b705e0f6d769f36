"""Bedrock video (Nova Reel): failover and pinning of a job's polls and download, refusals
before any request, S3 object URLs and signing, first frames, cancelling — against the local fake
of ``bedrock_video_fake``."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bedrock_video_fake import (
    MP4,
    FakeBedrock,
    Reel,
    ReelV10,
    reel,
    settings,
)

from core.llms.interfaces import (
    AuthenticationError,
    ConfigurationError,
    ImagePart,
    InvalidInputError,
    ServiceUnavailableError,
)
from core.llms.providers.bedrock.media import s3 as s3_module
from core.llms.providers.bedrock.media import video as video_module


@pytest.fixture
async def server() -> AsyncIterator[FakeBedrock]:
    async with FakeBedrock() as fake:
        yield fake


OUT = "s3://my-videos/runs"




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
