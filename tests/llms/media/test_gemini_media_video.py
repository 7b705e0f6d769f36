"""Veo on the Gemini API and Vertex AI (``core.llms.providers.gemini.media.video``): the
operation's requests, waits, refusals before anything is sent, failed and filtered operations,
the deadline; end to end through the real adapters and connector against the simulator."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from local_http import serve_locally
from test_gemini_media_kit import KEY, TOKEN, Scripted, make_model, row, sim_model, wire

from core.llms.interfaces import (
    InvalidInputError,
    RateLimitError,
    RequestTimeoutError,
    ResponseParsingError,
    VideoJobFailedError,
)
from core.llms.providers.gemini.media import video as video_module
from core.llms.simulator import Fault, Simulator
from core.llms.simulator.mp4 import walk_boxes

NAME = "models/veo-3.0-generate-001/operations/op123"
MP4 = b"\0\0\0\x18ftypisom" + b"\0" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
URI = "https://generativelanguage.googleapis.com/v1beta/files/abc123:download?alt=media"


def running(name: str = NAME) -> dict[str, Any]:
    return {"name": name}


def done_gemini(uri: str = URI, name: str = NAME) -> dict[str, Any]:
    sample = {"video": {"uri": uri}}
    return {"name": name, "done": True, "response": {"generateVideoResponse": {"generatedSamples": [sample]}}}


def done_vertex(video: dict[str, Any], name: str = NAME) -> dict[str, Any]:
    return {"name": name, "done": True, "response": {"raiMediaFilteredCount": 0, "videos": [video]}}


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits between polls, recorded instead of slept."""
    seen: list[float] = []

    async def record(seconds: float) -> None:
        seen.append(seconds)

    monkeypatch.setattr(video_module, "_sleep", record)
    return seen


def scripted(*answers: Any, name: str = "veo-3.0-generate-001", provider: str = "gemini", **defaults: Any):
    connector = Scripted(answers)
    return make_model(row(name, provider), connector, defaults or None), connector


# -- the operation ------------------------------------------------------------------------------


async def test_start_poll_until_done_then_download_the_file(waits: list[float]) -> None:
    model, connector = scripted(
        wire(running()), wire(running()), wire(done_gemini()), wire(body=MP4, content_type="video/mp4")
    )
    video = await model.get_video("a paper boat on a river", duration_seconds=6, aspect_ratio="9:16")

    start, poll1, poll2, download = connector.requests
    assert (start.operation, start.method, start.model) == (
        "predict_long_running",
        "POST",
        "veo-3.0-generate-001",
    )
    assert start.payload == {
        "instances": [{"prompt": "a paper boat on a river"}],
        "parameters": {"sampleCount": 1, "durationSeconds": 6, "aspectRatio": "9:16"},
    }
    for poll in (poll1, poll2):
        assert (poll.operation, poll.method, poll.path, poll.payload) == ("operation", "GET", "/" + NAME, {})
    assert (download.operation, download.method) == ("operation", "GET")
    assert download.path == "/files/abc123:download?alt=media"
    assert download.headers == {"Accept": "*/*"}
    assert waits == [5.0, 7.5]
    assert video.data == MP4 and video.media_type == "video/mp4" and video.url == URI
    assert (video.job_id, video.duration_seconds) == (NAME, 6.0)
    assert video.cost == pytest.approx(6 * 0.40)
    assert (video.model, video.provider, video.endpoint) == ("veo-3.0-generate-001", "gemini", "ep")


async def test_waits_grow_from_poll_interval_up_to_the_longest(waits: list[float]) -> None:
    answers = [wire(running())] * 8 + [wire(done_gemini()), wire(body=MP4, content_type="video/mp4")]
    model, _ = scripted(*answers)
    await model.get_video("a boat", poll_interval=4)
    assert waits == [4.0, 6.0, 9.0, 13.5, 20.0, 20.0, 20.0, 20.0]


async def test_vertex_polls_fetch_predict_operation_and_reads_the_inline_video(waits: list[float]) -> None:
    inline = {"bytesBase64Encoded": base64.b64encode(MP4).decode(), "mimeType": "video/mp4"}
    model, connector = scripted(
        wire(running()), wire(done_vertex(inline)), name="veo-2.0-generate-001", provider="vertex"
    )
    video = await model.get_video("a boat", seed=7, generate_audio=False, duration_seconds=5)
    start, poll = connector.requests
    assert start.payload["parameters"] == {
        "sampleCount": 1,
        "durationSeconds": 5,
        "seed": 7,
        "generateAudio": False,
    }
    assert (poll.operation, poll.method, poll.path, poll.payload) == (
        "operation",
        "POST",
        "",
        {"operationName": NAME},
    )
    assert video.data == MP4 and video.url is None
    assert video.cost == pytest.approx(5 * 0.50)  # Vertex AI's Veo 2 price


async def test_veo_3_on_vertex_asks_for_audio_unless_told_not_to(waits: list[float]) -> None:
    inline = {"bytesBase64Encoded": base64.b64encode(MP4).decode(), "mimeType": "video/mp4"}
    model, connector = scripted(wire(done_vertex(inline)), wire(done_vertex(inline)), provider="vertex")
    await model.get_video("a boat")
    await model.get_video("a boat", generate_audio=False)
    assert [r.payload["parameters"]["generateAudio"] for r in connector.requests] == [True, False]


async def test_a_gcs_video_is_returned_as_its_url(waits: list[float]) -> None:
    answer = done_vertex({"gcsUri": "gs://bucket/out/sample_0.mp4", "mimeType": "video/mp4"})
    model, connector = scripted(wire(answer), provider="vertex")
    video = await model.get_video("a boat", output_gcs_uri="gs://bucket/out")
    assert connector.requests[0].payload["parameters"]["storageUri"] == "gs://bucket/out"
    assert (video.data, video.url) == (None, "gs://bucket/out/sample_0.mp4")
    assert len(connector.requests) == 1 and waits == []


async def test_a_key_in_the_video_uri_is_neither_sent_nor_kept(waits: list[float]) -> None:
    uri = f"https://generativelanguage.googleapis.com/v1beta/files/abc123:download?key={KEY}"
    model, connector = scripted(wire(done_gemini(uri)), wire(body=MP4, content_type="video/mp4"))
    video = await model.get_video("a boat")
    download = connector.requests[-1]
    assert download.path == "/files/abc123:download?alt=media"
    assert video.url == "https://generativelanguage.googleapis.com/v1beta/files/abc123:download"
    assert KEY not in repr(video)


async def test_download_false_returns_the_uri_without_the_bytes(waits: list[float]) -> None:
    model, connector = scripted(wire(done_gemini()))
    video = await model.get_video("a boat", download=False)
    assert (video.data, video.url, video.job_id) == (None, URI, NAME)
    assert len(connector.requests) == 1


async def test_an_image_to_start_from_goes_inline(tmp_path: Any, waits: list[float]) -> None:
    path = tmp_path / "start.png"
    path.write_bytes(PNG)
    model, connector = scripted(wire(done_gemini()), wire(body=MP4, content_type="video/mp4"))
    await model.get_video("the boat sails off", image=path)
    assert connector.requests[0].payload["instances"][0]["image"] == {
        "bytesBase64Encoded": base64.b64encode(PNG).decode(),
        "mimeType": "image/png",
    }


async def test_a_stream_reports_progress_then_the_video(waits: list[float]) -> None:
    progress = {"name": NAME, "metadata": {"progressPercent": 40}}
    model, _ = scripted(
        wire(running()), wire(progress), wire(done_gemini()), wire(body=MP4, content_type="video/mp4")
    )
    chunks = [chunk async for chunk in model.stream_video("a boat")]
    assert [(c.status, c.progress, c.final) for c in chunks] == [
        ("running", 0.0, False),
        ("running", 0.4, False),
        ("done", 1.0, True),
    ]
    assert all(c.job_id == NAME for c in chunks)
    assert chunks[-1].data == MP4 and chunks[-1].response is not None and chunks[-1].response.data == MP4


# -- failures -----------------------------------------------------------------------------------


async def test_an_operation_error_is_a_video_job_failed_error_naming_the_operation(
    waits: list[float],
) -> None:
    failed = {"name": NAME, "done": True, "error": {"code": 3, "message": "The prompt was  refused."}}
    model, connector = scripted(wire(running()), wire(failed))
    with pytest.raises(VideoJobFailedError) as caught:
        await model.get_video("a boat")
    error = caught.value
    assert error.job_id == NAME and error.code == "INVALID_ARGUMENT"
    assert NAME in error.message and "The prompt was refused." in error.message
    assert (error.provider, error.model) == ("gemini", "veo-3.0-generate-001")
    assert len(connector.requests) == 2  # not retried


async def test_a_filtered_video_is_a_video_job_failed_error(waits: list[float]) -> None:
    filtered = {
        "name": NAME,
        "done": True,
        "response": {
            "generateVideoResponse": {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": ["celebrity"]}
        },
    }
    model, _ = scripted(wire(filtered))
    with pytest.raises(VideoJobFailedError) as caught:
        await model.get_video("a boat")
    assert caught.value.code == "rai_media_filtered" and "celebrity" in caught.value.message
    assert caught.value.job_id == NAME


async def test_an_error_once_the_operation_exists_names_it(waits: list[float]) -> None:
    model, _ = scripted(wire(running()), RateLimitError("slow down", status=429))
    with pytest.raises(RateLimitError) as caught:
        await model.get_video("a boat")
    assert caught.value.job_id == NAME and NAME in caught.value.message  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "answer",
    [
        {"name": "../../secrets"},
        {"name": "models/x/operations/a b"},
        {"done": False},
        {"name": NAME, "done": "yes"},
        ["x"],
    ],
)
async def test_an_unusable_operation_is_a_parsing_error(answer: Any, waits: list[float]) -> None:
    model, connector = scripted(wire(answer))
    with pytest.raises(ResponseParsingError):
        await model.get_video("a boat")
    assert len(connector.requests) == 1


async def test_a_finished_operation_without_a_video_is_a_parsing_error(waits: list[float]) -> None:
    model, _ = scripted(wire({"name": NAME, "done": True, "response": {}}))
    with pytest.raises(ResponseParsingError, match="without a video"):
        await model.get_video("a boat")


async def test_the_deadline_bounds_the_whole_job() -> None:
    model, connector = scripted(*[wire(running())] * 100)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError) as caught:
        await model.get_video("a boat", poll_interval=0.05, timeout=0.4)
    elapsed = time.monotonic() - started
    assert 0.3 < elapsed < 1.0
    assert caught.value.job_id == NAME and NAME in caught.value.message  # type: ignore[attr-defined]
    assert 2 <= len(connector.requests) <= 8


@pytest.mark.parametrize(
    ("name", "provider", "params", "words"),
    [
        ("veo-3.0-generate-001", "gemini", {"duration_seconds": 5}, ["duration_seconds=5", "4, 6, 8"]),
        ("veo-2.0-generate-001", "gemini", {"seconds": 4}, ["duration_seconds=4", "5, 6, 7, 8"]),
        ("veo-2.0-generate-001", "gemini", {"resolution": "1080p"}, ["resolution"]),
        ("veo-3.0-generate-001", "gemini", {"resolution": "4k"}, ["resolution", "1080p"]),
        ("veo-3.0-generate-001", "gemini", {"aspect_ratio": "1:1"}, ["aspect_ratio", "16:9"]),
        ("veo-3.0-generate-001", "gemini", {"person_generation": "all"}, ["person_generation"]),
        ("veo-3.0-generate-001", "gemini", {"seed": 1}, ["seed", "Vertex AI only"]),
        ("veo-3.0-generate-001", "gemini", {"generate_audio": True}, ["generate_audio", "Vertex AI only"]),
        ("veo-3.0-generate-001", "vertex", {"seed": -1}, ["seed=-1"]),
        ("veo-3.0-generate-001", "gemini", {"image": "https://example.com/a.png"}, ["image", "URL"]),
        ("veo-3.0-generate-001", "gemini", {"image": b"not an image"}, ["image", "PNG"]),
        ("veo-3.0-generate-001", "gemini", {"image": "gs://b/a.png"}, ["gs://", "Vertex AI"]),
        ("veo-3.0-generate-001", "gemini", {"poll_interval": 0}, ["poll_interval"]),
        ("veo-3.0-generate-001", "gemini", {"download": "yes"}, ["download"]),
        ("veo-3.0-generate-001", "gemini", {"n": 2}, ["unknown parameter 'n'"]),
        ("veo-3.0-generate-001", "gemini", {"seconds": 4, "duration": 4}, ["only one"]),
    ],
)
async def test_a_bad_parameter_is_refused_before_anything_is_sent(
    name: str, provider: str, params: dict[str, Any], words: list[str]
) -> None:
    model, connector = scripted(name=name, provider=provider)
    with pytest.raises(InvalidInputError) as caught:
        await model.get_video("a boat", **params)
    for word in words:
        assert word in str(caught.value)
    assert connector.requests == []


# -- end to end: the simulator ----------------------------------------------------------------


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


def mp4_ok(data: bytes | None) -> bool:
    kinds = [kind for kind, _ in walk_boxes(data or b"")]
    return kinds[0] == b"ftyp" and b"moov" in kinds and b"mdat" in kinds


async def test_gemini_api_operation_polled_and_its_file_downloaded_with_the_key(sim: Simulator) -> None:
    async with sim_model(sim.url, "veo-3.0-fast-generate-001") as model:
        video = await model.get_video("a red kite [sim:steps=2]", poll_interval=0.01, resolution="720p")
    assert mp4_ok(video.data)
    assert video.job_id == "models/veo-3.0-fast-generate-001/operations/sim000001"
    assert video.cost == pytest.approx(8 * 0.15)
    requests = [(r.method, r.path) for r in sim.requests]
    assert requests == [
        ("POST", "/v1beta/models/veo-3.0-fast-generate-001:predictLongRunning"),
        ("GET", "/v1beta/models/veo-3.0-fast-generate-001/operations/sim000001"),
        ("GET", "/v1beta/models/veo-3.0-fast-generate-001/operations/sim000001"),
        ("GET", "/v1beta/files/sim-video-000001:download"),
    ]
    assert all(r.headers["x-goog-api-key"] == KEY for r in sim.requests)
    assert sim.requests[-1].query == {"alt": "media"}


async def test_vertex_ai_operation_with_the_video_inline() -> None:
    async with Simulator(api_key=TOKEN) as sim:
        async with sim_model(sim.url, "veo-2.0-generate-001", vertex=True, token=TOKEN) as model:
            video = await model.get_video("a kite", duration_seconds=5, poll_interval=0.01)
        paths = [r.path for r in sim.requests]
    base = "/v1/projects/proj/locations/us-central1/publishers/google/models/veo-2.0-generate-001"
    assert paths == [
        f"{base}:predictLongRunning",
        f"{base}:fetchPredictOperation",
        f"{base}:fetchPredictOperation",
    ]
    assert mp4_ok(video.data) and video.provider == "vertex"
    assert video.job_id is not None and video.job_id.startswith(base[1 + len("v1/") :] + "/operations/")


async def test_simulated_failures(sim: Simulator) -> None:
    async with sim_model(sim.url, "veo-3.0-generate-001") as model:
        with pytest.raises(VideoJobFailedError) as failed:
            await model.get_video("a kite [sim:fail]", poll_interval=0.01)
        with pytest.raises(VideoJobFailedError) as internal:
            await model.get_video("a kite [sim:fail=INTERNAL]", poll_interval=0.01)
        with pytest.raises(VideoJobFailedError) as filtered:
            await model.get_video("a kite [sim:filtered]", poll_interval=0.01)
    assert failed.value.code == "INVALID_ARGUMENT" and failed.value.job_id == (
        "models/veo-3.0-generate-001/operations/sim000001"
    )
    assert internal.value.code == "INTERNAL" and "a new job may succeed" in (internal.value.hint or "")
    assert filtered.value.code == "rai_media_filtered"


async def test_a_slow_operation_ends_at_the_deadline(sim: Simulator) -> None:
    started = time.monotonic()
    async with sim_model(sim.url, "veo-3.0-generate-001") as model:
        with pytest.raises(RequestTimeoutError) as caught:
            await model.get_video("a kite [sim:slow]", poll_interval=0.05, timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert caught.value.job_id == "models/veo-3.0-generate-001/operations/sim000001"  # type: ignore[attr-defined]
    assert 3 <= len(sim.requests) <= 10


async def test_polls_and_the_download_stay_on_the_endpoint_that_started_the_operation(sim: Simulator) -> None:
    async with Simulator(api_key=KEY) as backup:
        sim.enqueue(Fault(status=503))  # the primary refuses the start: the backup starts it
        async with sim_model(
            sim.url, "veo-3.0-generate-001", backups=[{"endpoint": f"{backup.url}/v1beta"}]
        ) as model:
            video = await model.get_video("a kite [sim:steps=1]", poll_interval=0.01)
            assert video.endpoint == f"{backup.url}/v1beta"
        assert len(sim.requests) == 1  # no poll, no download went to the primary
        assert [r.method for r in backup.requests] == ["POST", "GET", "GET"]
    assert mp4_ok(video.data)


async def test_a_failed_operation_echoing_the_key_never_shows_it() -> None:
    async def handle(request: web.Request) -> web.Response:
        echoed = request.headers.get("x-goog-api-key", "")
        body = {"name": NAME, "done": True, "error": {"code": 7, "message": f"key {echoed} may not use Veo"}}
        return web.json_response(body)

    app = web.Application()
    app.router.add_post("/v1beta/models/{model_method}", handle)
    runner, port = await serve_locally(app)
    try:
        async with sim_model(f"http://127.0.0.1:{port}", "veo-3.0-generate-001") as model:
            with pytest.raises(VideoJobFailedError) as caught:
                await model.get_video("a kite")
    finally:
        await runner.cleanup()
    error = caught.value
    assert error.code == "PERMISSION_DENIED" and "may not use Veo" in error.message
    for text in (str(error), repr(error), repr(error.body), error.message):
        assert KEY not in text and KEY[:12] not in text
