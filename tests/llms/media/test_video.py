"""Video generation (sora-2 / sora-2-pro) end to end: ``get_video`` / ``stream_video`` through the
real FailoverConnector against the simulator's Videos API, and the simulator's routes themselves."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from core.llms import create_llm
from core.llms.interfaces import (
    ImagePart,
    InvalidInputError,
    NotFoundError,
    RateLimitError,
    RequestContext,
    RequestTimeoutError,
    ResponseTooLargeError,
    ServiceUnavailableError,
    VideoJobFailedError,
)
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.openai.media import video as video_module
from core.llms.simulator import Fault, Simulator
from core.llms.simulator.mp4 import walk_boxes

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
FAST = {"max_retries": 1, "backoff_initial": 0.001, "backoff_max": 0.002}
NO_RETRY = {"max_retries": 0}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key="k") as simulator:
        yield simulator


def sora(sim: Simulator, name: str = "sora-2", **kw: Any) -> BaseLLM:
    kw.setdefault("retry", FAST)
    return create_llm(f"openai/{name}", api_key="k", endpoint=sim.url + "/v1", **kw)


@pytest.fixture
async def model(sim: Simulator) -> AsyncIterator[BaseLLM]:
    async with sora(sim) as m:
        yield m


def paths(sim: Simulator) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sim.requests]


# -- the whole job ------------------------------------------------------------------------------


async def test_a_video_completes_with_mp4_bytes_and_its_job_id(sim: Simulator, model: BaseLLM) -> None:
    video = await model.get_video("a cat on a skateboard", seconds=8, size="1280x720", poll_interval=0.01)

    assert video.data is not None
    assert video.data[4:8] == b"ftyp" and video.data[8:12] in (b"isom", b"mp42")
    kinds = [kind for kind, _ in walk_boxes(video.data)]
    assert kinds[0] == b"ftyp" and b"moov" in kinds and b"mdat" in kinds
    assert video.media_type == "video/mp4"
    assert video.job_id and video.job_id.startswith("video_")
    assert (video.model, video.provider) == ("sora-2", "openai")
    assert video.duration_seconds == 8.0
    assert video.cost == pytest.approx(8 * 0.10)
    assert video.endpoint == sim.url + "/v1"
    assert video.request_id == "req_sim_000001"  # the create call's
    create, *polls, download = sim.requests
    assert (create.method, create.path) == ("POST", "/v1/videos")
    assert create.json == {
        "model": "sora-2",
        "prompt": "a cat on a skateboard",
        "seconds": "8",
        "size": "1280x720",
    }
    assert [(p.method, p.path) for p in polls] == [("GET", f"/v1/videos/{video.job_id}")] * 3
    assert (download.method, download.path) == ("GET", f"/v1/videos/{video.job_id}/content")
    assert download.json is None  # a GET sends no body


async def test_stream_video_reports_monotonic_progress_then_one_final_chunk(
    sim: Simulator, model: BaseLLM
) -> None:
    chunks = [c async for c in model.stream_video("a dog [sim:steps=5]", poll_interval=0.01)]

    progress = [c.progress for c in chunks]
    assert progress == sorted(progress) and progress[0] == 0.0 and progress[-1] == 1.0
    assert len(set(progress)) == len(progress) >= 5  # one chunk per change: queued, 20 %, 40 % ... done
    assert [c.status for c in chunks[:2]] == ["queued", "in_progress"]
    assert [c.final for c in chunks] == [False] * (len(chunks) - 1) + [True]
    final = chunks[-1]
    assert final.response is not None and final.data is not None
    assert final.response.data == final.data and final.data[4:8] == b"ftyp"
    assert {c.job_id for c in chunks} == {final.response.job_id}
    assert all(c.data is None and c.response is None for c in chunks[:-1])


async def test_a_chunk_comes_only_when_the_progress_moves_and_it_never_goes_back(
    sim: Simulator, model: BaseLLM
) -> None:
    fake = {"id": "video_sim000001", "object": "video", "status": "in_progress", "progress": 50}
    sim.enqueue(Fault(), Fault(body=fake), Fault(body=fake))  # two polls answered 50 %, then the real 33 %
    chunks = [c async for c in model.stream_video("a", poll_interval=0.01, timeout=5)]

    assert [c.progress for c in chunks] == pytest.approx([0.0, 0.5, 0.66, 1.0])
    assert len([p for p in paths(sim) if p[0] == "GET"]) == 2 + 3 + 1


async def test_download_false_returns_the_finished_job_without_bytes(sim: Simulator, model: BaseLLM) -> None:
    video = await model.get_video("a cat", poll_interval=0.01, download=False)

    assert video.data is None and video.job_id is not None
    assert video.cost == pytest.approx(4 * 0.10)  # the provider's default length, as the job reports it
    assert not any(path.endswith("/content") for _, path in paths(sim))


async def test_sora_2_pro_takes_its_large_sizes_at_their_price(sim: Simulator) -> None:
    async with sora(sim, "sora-2-pro") as pro:
        video = await pro.get_video("a city", seconds=4, size="1792x1024", poll_interval=0.01)

    assert video.cost == pytest.approx(4 * 0.50)
    assert sim.requests[0].json["size"] == "1792x1024"


async def test_defaults_of_the_model_apply_and_calls_override_them(sim: Simulator) -> None:
    async with sora(sim, defaults={"seconds": 12, "poll_interval": 0.01}) as m:
        await m.get_video("a", download=False)
        await m.get_video("b", duration=4, download=False)

    creates = [r.json for r in sim.requests if r.method == "POST"]
    assert [c["seconds"] for c in creates] == ["12", "4"]


# -- polling --------------------------------------------------------------------------------------


async def test_polls_back_off_by_half_again_up_to_the_cap(
    sim: Simulator, model: BaseLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(0)

    monkeypatch.setattr(video_module, "_sleep", no_wait)
    await model.get_video("slowish [sim:steps=7]", poll_interval=4, download=False)

    assert waits == pytest.approx([4, 6, 9, 13.5, 15, 15, 15])


async def test_a_wait_the_server_asks_for_replaces_the_computed_one(sim: Simulator, model: BaseLLM) -> None:
    started = time.monotonic()
    video = await model.get_video("quick [sim:poll_after_ms=10]", poll_interval=30, download=False, timeout=5)

    assert video.job_id is not None
    assert time.monotonic() - started < 5  # three polls 10 ms apart, not 30 s


# -- failures -------------------------------------------------------------------------------------


async def test_a_failed_job_raises_the_typed_error_with_its_id(sim: Simulator, model: BaseLLM) -> None:
    with pytest.raises(VideoJobFailedError) as caught:
        await model.get_video("something forbidden [sim:fail]", poll_interval=0.01, timeout=5)

    error = caught.value
    assert error.job_id is not None and error.job_id in str(error)
    assert error.code == "moderation_blocked"
    assert (error.provider, error.model, error.endpoint) == ("openai", "sora-2", sim.url + "/v1")
    assert "moderation" in (error.hint or "")
    assert not any(path.endswith("/content") for _, path in paths(sim))


async def test_a_failed_job_in_a_stream_raises_after_its_progress(sim: Simulator, model: BaseLLM) -> None:
    seen: list[str] = []
    with pytest.raises(VideoJobFailedError) as caught:
        async for chunk in model.stream_video("x [sim:fail=internal_error]", poll_interval=0.01, timeout=5):
            seen.append(chunk.status)

    assert seen == ["queued", "in_progress"]
    assert caught.value.code == "internal_error"
    assert "new job" in (caught.value.hint or "")


async def test_a_job_that_never_finishes_times_out_within_the_timeout(sim: Simulator, model: BaseLLM) -> None:
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError) as caught:
        await model.get_video("forever [sim:slow]", poll_interval=0.02, timeout=0.6)
    elapsed = time.monotonic() - started

    assert 0.3 < elapsed < 0.6 + 0.25
    job_id = caught.value.job_id  # type: ignore[attr-defined]
    assert job_id is not None and job_id in str(caught.value)
    assert "keeps running" in (caught.value.hint or "")
    count = sim.request_count
    await asyncio.sleep(0.1)
    assert sim.request_count == count  # nothing polls any more


async def test_the_ctx_deadline_bounds_the_job_too(sim: Simulator, model: BaseLLM) -> None:
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        await model.get_video("forever [sim:slow]", RequestContext.with_timeout(0.4), poll_interval=0.02)
    assert time.monotonic() - started < 0.4 + 0.25


async def test_the_deadline_cuts_a_poll_short(sim: Simulator, model: BaseLLM) -> None:
    sim.enqueue(Fault(), Fault(delay=5))  # the first poll is answered after 5 s
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError) as caught:
        await model.get_video("a", poll_interval=0.01, timeout=0.5)

    assert time.monotonic() - started < 0.5 + 0.25
    assert caught.value.job_id is not None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("fault", "error"), [(Fault(status=429), RateLimitError), (Fault(status=500), ServiceUnavailableError)]
)
async def test_an_error_status_on_the_create_call_is_typed(
    sim: Simulator, fault: Fault, error: type[Exception]
) -> None:
    sim.set_default_fault(fault)
    async with sora(sim, retry=NO_RETRY) as m:
        with pytest.raises(error) as caught:
            await m.get_video("a cat", poll_interval=0.01)

    assert caught.value.status == fault.status  # type: ignore[attr-defined]
    assert caught.value.model == "sora-2"  # type: ignore[attr-defined]
    assert paths(sim) == [("POST", "/v1/videos")]


async def test_a_5xx_on_a_poll_is_retried_and_the_job_goes_on(sim: Simulator, model: BaseLLM) -> None:
    sim.enqueue(Fault(), Fault(status=503))  # the create call passes, the first poll fails once
    video = await model.get_video("a cat", poll_interval=0.01)

    assert video.data is not None
    assert len([p for p in paths(sim) if p == ("GET", f"/v1/videos/{video.job_id}")]) == 4


async def test_a_job_created_on_a_backup_is_polled_and_fetched_there(sim: Simulator) -> None:
    async with Simulator(api_key="k") as backup:
        backup_url = backup.url
        sim.enqueue(Fault(status=503))  # the primary region refuses the create call, then recovers:
        async with sora(sim, retry=NO_RETRY, backups=[{"endpoint": backup_url + "/v1"}]) as m:
            # the job's polls and download must still go to the backup, the only one that knows it
            video = await m.get_video("a cat", poll_interval=0.01)
        backup_paths = paths(backup)
    assert video.data is not None and video.endpoint is not None and backup_url in video.endpoint
    assert paths(sim) == [("POST", "/v1/videos")]
    assert backup_paths[0] == ("POST", "/v1/videos") and len(backup_paths) > 2
    assert backup_paths[-1] == ("GET", f"/v1/videos/{video.job_id}/content")


async def test_an_error_after_the_job_exists_names_it(sim: Simulator, model: BaseLLM) -> None:
    sim.enqueue(Fault(), Fault(status=404))
    with pytest.raises(NotFoundError) as caught:
        await model.get_video("a cat", poll_interval=0.01)

    job_id = caught.value.job_id  # type: ignore[attr-defined]
    assert job_id == "video_sim000001" and job_id in str(caught.value)


async def test_a_video_larger_than_the_endpoint_cap_says_how_to_raise_it(sim: Simulator) -> None:
    async with sora(sim, max_response_bytes=2_000) as m:
        with pytest.raises(ResponseTooLargeError) as caught:
            await m.get_video("a cat", poll_interval=0.01)

    assert "max_response_bytes" in (caught.value.hint or "")
    assert caught.value.job_id is not None  # type: ignore[attr-defined]


# -- parameters, checked before anything is sent --------------------------------------------------


@pytest.mark.parametrize(
    ("params", "named", "allowed"),
    [
        ({"seconds": 5}, "seconds=5", "4, 8, 12"),
        ({"seconds": "10"}, "seconds='10'", "4, 8, 12"),
        ({"seconds": True}, "seconds=True", "4, 8, 12"),
        ({"duration": 3.5}, "seconds=3.5", "4, 8, 12"),
        ({"size": "640x480"}, "size='640x480'", "720x1280, 1280x720"),
        ({"size": "1792x1024"}, "sora-2-pro", "720x1280, 1280x720"),
        ({"poll_interval": 0}, "poll_interval=0", "poll_interval"),
        ({"download": "yes"}, "download='yes'", "True or False"),
        ({"timeout": -1}, "timeout=-1", "timeout"),
        ({"quality": "hd"}, "'quality'", "seconds"),
        ({"seconds": 4, "duration": 8}, "'duration' and 'seconds'", "only one"),
        ({"input_reference": b"GIF89a...."}, "input_reference", "PNG, JPEG or WebP"),
        ({"input_reference": 42}, "input_reference", "not int"),
    ],
)
async def test_bad_parameters_are_refused_before_any_request(
    sim: Simulator, model: BaseLLM, params: dict[str, Any], named: str, allowed: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await model.get_video("a cat", **params)
    with pytest.raises(InvalidInputError):
        async for _ in model.stream_video("a cat", **params):
            pass

    assert named in str(caught.value)
    assert allowed in str(caught.value)
    assert caught.value.model == "sora-2"
    assert sim.request_count == 0


@pytest.mark.parametrize("prompt", ["", "   ", None, 42])
async def test_an_empty_or_missing_prompt_is_refused(sim: Simulator, model: BaseLLM, prompt: Any) -> None:
    with pytest.raises(InvalidInputError, match="prompt"):
        await model.get_video(prompt)
    assert sim.request_count == 0


async def test_a_chat_model_cannot_make_videos(sim: Simulator) -> None:
    from core.llms.interfaces import UnsupportedOperationError

    async with create_llm("openai/gpt-4o", api_key="k", endpoint=sim.url + "/v1") as chat:
        with pytest.raises(UnsupportedOperationError):
            await chat.get_video("a cat")
    assert sim.request_count == 0


# -- reference images -----------------------------------------------------------------------------


async def test_reference_image_bytes_are_uploaded_as_a_form(sim: Simulator, model: BaseLLM) -> None:
    video = await model.get_video("a cat", image=PNG, seconds=4, poll_interval=0.01, download=False)

    create = sim.requests[0]
    assert create.json is None and create.headers["content-type"].startswith("multipart/form-data")
    assert video.job_id is not None


async def test_a_reference_image_from_a_path_or_a_part(
    sim: Simulator, model: BaseLLM, tmp_path: Path
) -> None:
    path = tmp_path / "start.png"
    path.write_bytes(PNG)
    await model.get_video("a", input_reference=path, poll_interval=0.01, download=False)
    await model.get_video("b", input_reference=str(path), poll_interval=0.01, download=False)
    part = ImagePart(data=PNG, media_type="image/png")
    await model.get_video("c", input_reference=part, poll_interval=0.01, download=False)

    creates = [r for r in sim.requests if r.method == "POST"]
    assert all(r.headers["content-type"].startswith("multipart/form-data") for r in creates)
    with pytest.raises(InvalidInputError, match="cannot read"):
        await model.get_video("d", input_reference=tmp_path / "missing.png")


async def test_a_reference_url_goes_as_json(sim: Simulator, model: BaseLLM) -> None:
    url = "https://example.com/start.png"
    await model.get_video("a", input_reference=url, poll_interval=0.01, download=False)
    await model.get_video("b", input_reference={"file_id": "file_123"}, poll_interval=0.01, download=False)

    creates = [r.json for r in sim.requests if r.method == "POST"]
    assert creates[0]["input_reference"] == {"image_url": url}
    assert creates[1]["input_reference"] == {"file_id": "file_123"}


# -- cancellation ---------------------------------------------------------------------------------


async def test_cancelling_while_a_poll_is_in_flight_leaves_no_connection_open(
    sim: Simulator, model: BaseLLM, caplog: pytest.LogCaptureFixture
) -> None:
    sim.enqueue(Fault(), Fault(), Fault(delay=10))  # the second poll hangs
    caplog.set_level("DEBUG", logger="core.llms.media")
    task = asyncio.create_task(model.get_video("a cat", poll_interval=0.01))
    while sim.request_count < 3:
        await asyncio.sleep(0.005)
    assert sim.open_connections == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    for _ in range(100):  # the server sees the connection close
        if sim.open_connections == 0:
            break
        await asyncio.sleep(0.01)
    assert sim.open_connections == 0  # the model is still open: nothing pooled, nothing leaked
    assert "video_sim000001" in caplog.text and "keeps running" in caplog.text
    count = sim.request_count
    await asyncio.sleep(0.05)
    assert sim.request_count == count


async def test_leaving_a_stream_early_stops_the_polling(sim: Simulator, model: BaseLLM) -> None:
    stream = model.stream_video("forever [sim:slow]", poll_interval=0.01)
    async for chunk in stream:
        if chunk.progress > 0:
            break
    await stream.aclose()  # type: ignore[attr-defined]
    count = sim.request_count
    await asyncio.sleep(0.1)
    assert sim.request_count == count


# -- Azure's v1 API -------------------------------------------------------------------------------


async def test_azure_v1_videos(sim: Simulator) -> None:
    async with create_llm("azure/sora-2", api_key="k", endpoint=sim.url, api_version="v1") as m:
        video = await m.get_video("a cat", poll_interval=0.01)

    assert video.data is not None and video.data[4:8] == b"ftyp"
    assert paths(sim)[0] == ("POST", "/openai/v1/videos")
    assert paths(sim)[-1] == ("GET", f"/openai/v1/videos/{video.job_id}/content")
    assert sim.requests[0].headers["api-key"] == "k"


# -- the simulator's routes -----------------------------------------------------------------------


async def test_the_simulator_refuses_what_the_api_refuses(sim: Simulator) -> None:
    headers = {"Authorization": "Bearer k"}
    async with aiohttp.ClientSession(headers=headers) as session:
        url = sim.url + "/v1/videos"
        bad = [
            {"model": "sora-2", "prompt": "a", "seconds": "5"},
            {"model": "sora-2", "prompt": "a", "seconds": 4},
            {"model": "sora-2", "prompt": "a", "size": "1792x1024"},
            {"model": "sora-3", "prompt": "a"},
            {"model": "sora-2"},
        ]
        for body in bad:
            async with session.post(url, json=body) as resp:
                assert resp.status == 400, body
                assert (await resp.json())["error"]["message"]
        async with session.post(url, json={"prompt": "a"}) as resp:
            job = await resp.json()
        assert job["object"] == "video" and job["status"] == "queued" and job["model"] == "sora-2"
        async with session.get(f"{url}/{job['id']}/content") as resp:
            assert resp.status == 400  # not ready yet
        async with session.get(f"{url}/video_unknown") as resp:
            assert resp.status == 404
        async with session.get(f"{url}/{job['id']}", headers={"Authorization": "Bearer wrong"}) as resp:
            assert resp.status == 401
        for _ in range(3):
            async with session.get(f"{url}/{job['id']}") as resp:
                job = await resp.json()
        assert job["status"] == "completed" and job["progress"] == 100
        async with session.get(f"{url}/{job['id']}/content", params={"variant": "thumbnail"}) as resp:
            assert resp.content_type == "image/webp" and (await resp.read())[8:12] == b"WEBP"
        async with session.get(f"{url}/{job['id']}/content", params={"variant": "gif"}) as resp:
            assert resp.status == 400
