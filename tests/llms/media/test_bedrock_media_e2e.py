"""Bedrock media end to end: ``create_llm("bedrock/<row>")`` against the simulator's Bedrock
runtime routes (SigV4 or a Bedrock API key checked by the simulator) and its path-style S3 —
embeddings (Titan fan-out, Cohere batches, order), images (real PNGs of the asked size, cost),
Nova Reel jobs (progress, the MP4 from S3, a failed job, the deadline, S3 errors, region
failover with polls pinned to the job's region).

Each call goes through the model's public media method (``BedrockModel.media_functions`` names
the functions of ``core.llms.providers.bedrock.media``)."""

from __future__ import annotations

import base64
import math
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.llms import create_llm
from core.llms.interfaces import (
    InvalidInputError,
    PermissionDeniedError,
    RequestTimeoutError,
    VideoJobFailedError,
)
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.bedrock.media import images
from core.llms.simulator import Fault, Simulator
from core.llms.simulator.image_files import picture
from core.llms.simulator.mp4 import walk_boxes

KEY = "AKIDSIMULATOR0001"
SECRET = "simulator/secret/key/0123456789abcdefghij"
FAST = {"max_retries": 1, "backoff_initial": 0.001, "backoff_max": 0.002}
OUT = "s3://sim-videos/runs"


async def call(model: BaseLLM, method: str, subject: Any, ctx: Any = None, **params: Any) -> Any:
    """``model.<method>(subject, ctx, **params)``: the public media method."""
    return await getattr(model, method)(subject, ctx, **params)


def stream(model: BaseLLM, subject: Any, **params: Any) -> AsyncIterator[Any]:
    return model.stream_video(subject, **params)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


def bedrock(sim: Simulator, row: str, **kw: Any) -> BaseLLM:
    kw.setdefault("retry", FAST)
    if "bedrock_api_key" not in kw:
        kw.setdefault("aws_access_key_id", KEY)
        kw.setdefault("aws_secret_access_key", SECRET)
    return create_llm(
        f"bedrock/{row}", endpoint=sim.url, region="us-east-1", s3_endpoint=sim.url + "/s3", **kw
    )


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def paths(sim: Simulator) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sim.requests]


# -- embeddings ---------------------------------------------------------------------------------


async def test_titan_embeds_each_text_with_its_own_invoke_in_order(sim: Simulator) -> None:
    texts = [f"sentence number {i} " + "word " * i for i in range(12)]
    async with bedrock(sim, "titan-embed-text-v2") as model:
        batch = await call(model, "embed", texts, dimensions=256)
        single = await call(model, "embed", texts[7], dimensions=256)

    assert len(batch.vectors) == 12 and all(len(v) == 256 for v in batch.vectors)
    assert batch.vectors[7] == single.vectors[0]  # the order is the input's
    assert len({tuple(v) for v in batch.vectors}) == 12
    assert all(math.fsum(x * x for x in v) == pytest.approx(1.0, abs=1e-4) for v in batch.vectors)
    tokens = sum(max(1, math.ceil(len(t) / 4)) for t in texts)  # the simulator's count
    assert batch.usage.input_tokens == tokens
    assert batch.cost == pytest.approx(tokens * 0.02 / 1e6)
    invokes = [r for r in sim.requests if r.path.endswith("/invoke")]
    assert len(invokes) == 13
    assert {r.path for r in invokes} == {"/model/amazon.titan-embed-text-v2:0/invoke"}
    assert sorted(r.json["inputText"] for r in invokes[:12]) == sorted(texts)
    assert all(r.json["dimensions"] == 256 for r in invokes)
    assert all(r.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={KEY}/") for r in invokes)
    assert (batch.model, batch.provider) == ("titan-embed-text-v2", "bedrock")


async def test_titan_normalize_false_is_sent_and_honoured(sim: Simulator) -> None:
    async with bedrock(sim, "titan-embed-text-v2") as model:
        raw = await call(model, "embed", "hello world", normalize=False)
    assert math.fsum(x * x for x in raw.vectors[0]) > 1.5
    assert sim.requests[-1].json == {"inputText": "hello world", "normalize": False}


async def test_cohere_sends_96_texts_a_call_in_order(sim: Simulator) -> None:
    texts = [f"document {i}: " + "lorem " * (i % 9) for i in range(200)]
    async with bedrock(sim, "cohere-embed-english-v3") as model:
        batch = await call(model, "embed", texts, input_type="search_query")
        single = await call(model, "embed", [texts[150]], input_type="search_query")

    invokes = [r for r in sim.requests if r.path.endswith("/invoke")]
    assert sorted(len(r.json["texts"]) for r in invokes[:3]) == [8, 96, 96]
    assert {r.json["input_type"] for r in invokes} == {"search_query"}
    assert {r.path for r in invokes} == {"/model/cohere.embed-english-v3/invoke"}
    assert len(batch.vectors) == 200 and batch.vectors[150] == single.vectors[0]
    assert batch.usage.input_tokens > 0 and batch.cost == pytest.approx(batch.usage.input_tokens * 0.10 / 1e6)


async def test_an_embedding_parameter_the_model_refuses_sends_nothing(sim: Simulator) -> None:
    async with bedrock(sim, "cohere-embed-english-v3") as model:
        with pytest.raises(InvalidInputError, match="dimensions"):
            await call(model, "embed", "x", dimensions=256)
    assert sim.requests == []


# -- images -------------------------------------------------------------------------------------


async def test_nova_canvas_makes_pngs_of_the_asked_size_with_their_cost(sim: Simulator) -> None:
    async with bedrock(sim, "nova-canvas") as model:
        made = await call(
            model, "get_image", "a lighthouse at dusk", size="1280x720", n=2, seed=5, quality="premium"
        )

    assert [png_size(image.data) for image in made.images] == [(1280, 720), (1280, 720)]
    assert {image.media_type for image in made.images} == {"image/png"}
    assert made.cost == pytest.approx(2 * 0.06)
    [request] = sim.requests
    assert request.path == "/model/amazon.nova-canvas-v1:0/invoke"
    assert request.json == {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "a lighthouse at dusk"},
        "imageGenerationConfig": {
            "width": 1280,
            "height": 720,
            "quality": "premium",
            "numberOfImages": 2,
            "seed": 5,
        },
    }


async def test_titan_image_v2_sizes_and_cost(sim: Simulator) -> None:
    async with bedrock(sim, "titan-image-generator-v2") as model:
        made = await call(model, "get_image", "a red kite", size="1173x640", negative_prompt="clouds")
    assert png_size(made.images[0].data) == (1173, 640)
    assert made.cost == pytest.approx(0.01)
    assert sim.requests[0].json["textToImageParams"] == {"text": "a red kite", "negativeText": "clouds"}


async def test_a_size_outside_the_rules_sends_nothing(sim: Simulator) -> None:
    async with bedrock(sim, "nova-canvas") as model:
        with pytest.raises(InvalidInputError, match="multiple of 16"):
            await call(model, "get_image", "a fox", size="1000x1000")
    assert sim.requests == []


# -- video --------------------------------------------------------------------------------------


async def test_a_nova_reel_job_streams_progress_and_ends_with_the_mp4_from_s3(sim: Simulator) -> None:
    async with bedrock(sim, "nova-reel") as model:
        chunks = [
            c
            async for c in stream(model, "a paper boat [sim:steps=3]", output_s3_uri=OUT, poll_interval=0.01)
        ]

    *running, final = chunks
    assert [c.status for c in running] == ["in_progress"] * 3  # after the start and two running polls
    assert final.final and final.status == "completed"
    result = final.response
    assert result is not None and result.data == final.data
    kinds = [kind for kind, _ in walk_boxes(result.data)]
    assert kinds[0] == b"ftyp" and b"moov" in kinds and b"mdat" in kinds
    arn = result.job_id
    assert arn is not None and arn.startswith("arn:aws:bedrock:us-east-1:123456789012:async-invoke/")
    job_id = arn.rsplit("/", 1)[-1]
    assert result.url == f"{OUT}/{job_id}/output.mp4"
    assert result.duration_seconds == 6.0 and result.cost == pytest.approx(6 * 0.08)
    assert paths(sim) == [
        ("POST", "/async-invoke"),
        ("GET", f"/async-invoke/{arn}"),
        ("GET", f"/async-invoke/{arn}"),
        ("GET", f"/async-invoke/{arn}"),
        ("GET", f"/s3/sim-videos/runs/{job_id}/output.mp4"),
    ]
    start = sim.requests[0].json
    assert start["modelId"] == "amazon.nova-reel-v1:1"
    assert start["modelInput"]["taskType"] == "TEXT_VIDEO"
    assert start["outputDataConfig"] == {"s3OutputDataConfig": {"s3Uri": OUT}}
    s3_auth = sim.requests[-1].headers["authorization"]
    assert f"Credential={KEY}/" in s3_auth and "/us-east-1/s3/aws4_request" in s3_auth


async def test_a_multi_shot_video_without_download_returns_its_s3_uri(sim: Simulator) -> None:
    async with bedrock(sim, "nova-reel", defaults={"output_s3_uri": OUT}) as model:
        result = await call(
            model, "get_video", "a long story [sim:steps=0]", seconds=12, download=False, poll_interval=0.01
        )
    assert result.data is None and result.url.endswith("/output.mp4")
    assert sim.requests[0].json["modelInput"]["taskType"] == "MULTI_SHOT_AUTOMATED"
    assert not any(path.startswith("/s3/") for _, path in paths(sim))
    assert result.cost == pytest.approx(12 * 0.08)


async def test_a_failed_job_is_video_job_failed_with_its_arn(sim: Simulator) -> None:
    async with bedrock(sim, "nova-reel") as model:
        with pytest.raises(VideoJobFailedError) as info:
            await call(model, "get_video", "a fox [sim:fail]", output_s3_uri=OUT, poll_interval=0.01)
    error = info.value
    assert error.job_id is not None and error.job_id.startswith("arn:aws:bedrock:us-east-1:")
    assert f"video job {error.job_id} failed" in str(error)
    assert error.code == "content_filter" and (error.provider, error.model) == ("bedrock", "nova-reel")
    assert [m for m, _ in paths(sim)].count("POST") == 1


async def test_the_deadline_bounds_a_job_that_never_ends(sim: Simulator) -> None:
    started = time.monotonic()
    async with bedrock(sim, "nova-reel") as model:
        with pytest.raises(RequestTimeoutError) as info:
            await call(
                model, "get_video", "a fox [sim:slow]", output_s3_uri=OUT, timeout=0.6, poll_interval=0.05
            )
    assert time.monotonic() - started < 2.0
    arn = getattr(info.value, "job_id", None)
    assert arn is not None and arn in str(info.value)


async def test_an_s3_403_is_permission_denied_naming_the_job(sim: Simulator) -> None:
    sim.enqueue(Fault(), Fault(), Fault(status=403))  # start, poll, then the S3 GET
    async with bedrock(sim, "nova-reel") as model:
        with pytest.raises(PermissionDeniedError) as info:
            await call(model, "get_video", "a fox [sim:steps=0]", output_s3_uri=OUT, poll_interval=0.01)
    error = info.value
    assert error.status == 403 and "s3:GetObject" in (error.hint or "")
    assert getattr(error, "job_id", "").startswith("arn:aws:bedrock:") and "AccessDenied" in str(error)
    assert SECRET not in str(error) and SECRET not in repr(error)


async def test_missing_output_s3_uri_is_refused_before_any_request(sim: Simulator) -> None:
    async with bedrock(sim, "nova-reel") as model:
        with pytest.raises(Exception, match="output_s3_uri") as info:
            await call(model, "get_video", "a fox")
    assert type(info.value).__name__ == "ConfigurationError"
    assert sim.requests == []


async def test_a_bedrock_api_key_authenticates_the_job_and_the_s3_download(sim: Simulator) -> None:
    async with bedrock(sim, "nova-reel", bedrock_api_key=KEY) as model:
        result = await call(model, "get_video", "a fox [sim:steps=1]", output_s3_uri=OUT, poll_interval=0.01)
    assert result.data is not None and result.data[4:8] == b"ftyp"
    assert {r.headers["authorization"] for r in sim.requests} == {f"Bearer {KEY}"}


async def test_polls_and_download_go_to_the_region_that_started_the_job() -> None:
    async with Simulator(api_key=KEY) as east, Simulator(api_key=KEY) as west:
        east.enqueue(Fault(status=503))  # the primary region refuses the start: the backup takes the job
        backups = [{"endpoint": west.url, "s3_endpoint": west.url + "/s3", "name": "west"}]
        async with bedrock(east, "nova-reel", backups=backups) as model:
            result = await call(
                model, "get_video", "a fox [sim:steps=2]", output_s3_uri=OUT, poll_interval=0.01
            )
    assert result.endpoint == "west" and result.data is not None
    assert paths(east) == [("POST", "/async-invoke")]
    assert [m for m, _ in paths(west)] == ["POST", "GET", "GET", "GET"]
    assert paths(west)[-1][1].startswith("/s3/sim-videos/runs/")


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
async def test_a_first_frame_from_a_real_image_file(sim: Simulator, fmt: str) -> None:
    frame = picture(1280, 720, (30, 90, 160), fmt)
    async with bedrock(sim, "nova-reel") as model:
        result = await call(
            model, "get_video", "a fox [sim:steps=0]", output_s3_uri=OUT, image=frame, poll_interval=0.01
        )
        with pytest.raises(InvalidInputError, match="image is 640x480"):
            await call(
                model, "get_video", "a fox", output_s3_uri=OUT, image=picture(640, 480, (1, 2, 3), fmt)
            )
    assert result.data is not None
    [sent] = sim.requests[0].json["modelInput"]["textToVideoParams"]["images"]
    assert sent["format"] == fmt and base64.b64decode(sent["source"]["bytes"]) == frame
    assert len([r for r in sim.requests if r.method == "POST"]) == 1  # the refused call sent nothing


async def test_stream_image_on_nova_canvas_yields_final_images(sim: Simulator) -> None:
    async with bedrock(sim, "nova-canvas") as model:
        if "stream_image" in getattr(type(model), "media_functions", {}):
            chunks = [c async for c in model.stream_image("a fox", n=2)]
        else:
            chunks = [c async for c in images.stream_image(model, "a fox", None, {"n": 2})]
    assert [(c.index, c.final) for c in chunks] == [(0, True), (1, True)]
    assert png_size(chunks[1].image.data) == (1024, 1024) and chunks[1].cost == pytest.approx(0.08)
