"""Imagen on the Gemini API and Vertex AI (``core.llms.providers.gemini.media.images``): request
bodies, refusals before anything is sent, answers, filtered images; end to end through the real
adapters and connector against the simulator."""

from __future__ import annotations

import base64
import struct
from collections.abc import AsyncIterator
from typing import Any

import pytest
from test_gemini_media_kit import KEY, TOKEN, Scripted, make_model, row, sim_model, wire

from core.llms.interfaces import (
    AuthenticationError,
    ContentFilterError,
    InvalidInputError,
    RateLimitError,
    ResponseParsingError,
)
from core.llms.simulator import Fault, Simulator

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 32


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def scripted(name: str = "imagen-4.0-generate-001", *answers: Any, provider: str = "gemini", **defaults: Any):
    connector = Scripted(
        answers or [wire({"predictions": [{"bytesBase64Encoded": b64(PNG), "mimeType": "image/png"}]})]
    )
    return make_model(row(name, provider), connector, defaults or None), connector


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# -- requests ---------------------------------------------------------------------------------


async def test_the_request_asks_for_one_image_with_reasons_by_default() -> None:
    model, connector = scripted()
    made = await model.get_image("a lighthouse at dusk")

    (request,) = connector.requests
    assert (request.operation, request.model, request.method) == (
        "predict",
        "imagen-4.0-generate-001",
        "POST",
    )
    assert request.payload == {
        "instances": [{"prompt": "a lighthouse at dusk"}],
        "parameters": {"sampleCount": 1, "includeRaiReason": True},
    }
    assert made.images[0].data == PNG and made.images[0].media_type == "image/png"
    assert (made.model, made.provider, made.endpoint, made.request_id) == (
        "imagen-4.0-generate-001",
        "gemini",
        "ep",
        "rid-1",
    )
    assert made.cost == pytest.approx(0.04)


async def test_every_parameter_is_sent_under_its_wire_name() -> None:
    two = {"predictions": [{"bytesBase64Encoded": b64(JPEG), "mimeType": "image/jpeg"}] * 2}
    model, connector = scripted("imagen-4.0-generate-001", wire(two))
    made = await model.get_image(
        "a fox",
        number_of_images=2,
        aspect_ratio="16:9",
        image_size="2K",
        person_generation="dont_allow",
        output_format="jpeg",
        compression_quality=80,
        timeout=30,
        read_timeout=5,
    )
    request = connector.requests[0]
    assert request.payload["parameters"] == {
        "sampleCount": 2,
        "aspectRatio": "16:9",
        "sampleImageSize": "2K",
        "personGeneration": "dont_allow",
        "outputOptions": {"mimeType": "image/jpeg", "compressionQuality": 80},
        "includeRaiReason": True,
    }
    assert (request.total_timeout, request.read_timeout) == (30, 5)
    assert [i.media_type for i in made.images] == ["image/jpeg", "image/jpeg"]
    assert made.cost == pytest.approx(2 * 0.04)


async def test_vertex_takes_its_own_parameters_and_reports_the_enhanced_prompt() -> None:
    answer = {
        "predictions": [{"bytesBase64Encoded": b64(PNG), "mimeType": "image/png", "prompt": "A fox, 4k"}]
    }
    model, connector = scripted("imagen-3.0-generate-002", wire(answer), provider="vertex")
    made = await model.get_image(
        "a fox",
        negative_prompt="blur",
        seed=42,
        add_watermark=False,
        enhance_prompt=True,
        safety_filter_level="block_only_high",
    )
    assert connector.requests[0].payload["parameters"] == {
        "sampleCount": 1,
        "negativePrompt": "blur",
        "addWatermark": False,
        "seed": 42,
        "enhancePrompt": True,
        "safetySetting": "block_only_high",
        "includeRaiReason": True,
    }
    assert made.images[0].revised_prompt == "A fox, 4k"
    assert made.cost == pytest.approx(0.04)  # Vertex AI's Imagen 3 price


async def test_the_models_defaults_apply_under_the_call() -> None:
    model, connector = scripted(
        "imagen-4.0-generate-001", aspect_ratio="9:16", person_generation="allow_adult"
    )
    await model.get_image("a fox", person_generation=None, aspect_ratio="3:4")
    params = connector.requests[0].payload["parameters"]
    assert params["aspectRatio"] == "3:4" and "personGeneration" not in params


async def test_a_call_model_id_goes_to_the_request() -> None:
    model, connector = scripted()
    await model.get_image("a fox", model="imagen-4.0-generate-preview-06-06")
    assert connector.requests[0].model == "imagen-4.0-generate-preview-06-06"
    assert connector.requests[0].model_fixed


@pytest.mark.parametrize(
    ("name", "provider", "params", "words"),
    [
        ("imagen-4.0-generate-001", "gemini", {"size": "1024x1024"}, ["size", "allowed"]),
        ("imagen-4.0-generate-001", "gemini", {"n": 5}, ["n=5", "1 to 4"]),
        ("imagen-4.0-ultra-generate-001", "gemini", {"n": 2}, ["n=2"]),
        ("imagen-4.0-generate-001", "gemini", {"n": True}, ["n=<bool>"]),
        ("imagen-4.0-generate-001", "gemini", {"aspect_ratio": "2:1"}, ["aspect_ratio", "16:9"]),
        ("imagen-4.0-fast-generate-001", "gemini", {"image_size": "2K"}, ["image_size"]),
        ("imagen-4.0-generate-001", "gemini", {"image_size": "4K"}, ["image_size", "1K"]),
        ("imagen-4.0-generate-001", "gemini", {"person_generation": "everyone"}, ["person_generation"]),
        ("imagen-4.0-generate-001", "gemini", {"output_format": "webp"}, ["output_format", "jpeg"]),
        ("imagen-4.0-generate-001", "gemini", {"compression_quality": 50}, ["compression_quality", "jpeg"]),
        (
            "imagen-4.0-generate-001",
            "gemini",
            {"negative_prompt": "blur"},
            ["negative_prompt", "Vertex AI only"],
        ),
        ("imagen-4.0-generate-001", "gemini", {"seed": 1}, ["seed", "Vertex AI only"]),
        ("imagen-4.0-generate-001", "vertex", {"seed": 1}, ["seed", "add_watermark=False"]),
        ("imagen-4.0-generate-001", "vertex", {"seed": 0, "add_watermark": False}, ["seed=0"]),
        ("imagen-4.0-generate-001", "vertex", {"output_gcs_uri": "https://x"}, ["output_gcs_uri", "gs://"]),
        ("imagen-4.0-generate-001", "gemini", {"timeout": -1}, ["timeout"]),
        ("imagen-4.0-generate-001", "gemini", {"n": 1, "number_of_images": 1}, ["only one"]),
    ],
)
async def test_a_bad_parameter_is_refused_before_anything_is_sent(
    name: str, provider: str, params: dict[str, Any], words: list[str]
) -> None:
    model, connector = scripted(name, provider=provider)
    with pytest.raises(InvalidInputError) as caught:
        await model.get_image("a fox", **params)
    text = str(caught.value)
    for word in words:
        assert word in text
    assert caught.value.model == name
    assert connector.requests == []


@pytest.mark.parametrize("prompt", ["", "   ", None, "x" * (480 * 4 + 8)])
async def test_a_bad_prompt_is_refused_before_anything_is_sent(prompt: Any) -> None:
    model, connector = scripted()
    with pytest.raises(InvalidInputError, match="prompt"):
        await model.get_image(prompt)
    assert connector.requests == []


# -- answers ------------------------------------------------------------------------------------


async def test_filtered_images_are_left_out_of_the_answer() -> None:
    answer = {
        "predictions": [
            {"raiFilteredReason": "Filtered: sensitive content. Support codes: 1"},
            {"bytesBase64Encoded": b64(PNG), "mimeType": "image/png"},
            {"contentType": "Positive Prompt", "safetyAttributes": {"categories": [], "scores": []}},
        ]
    }
    model, _ = scripted("imagen-4.0-generate-001", wire(answer))
    made = await model.get_image("a fox", n=2)
    assert len(made.images) == 1 and made.images[0].data == PNG
    assert made.cost == pytest.approx(0.04)  # a filtered image is not billed


async def test_all_images_filtered_is_a_content_filter_error_with_the_reasons() -> None:
    reason = "Your current safety filter threshold filtered out the generated image. Support codes: 58061214"
    model, _ = scripted("imagen-4.0-generate-001", wire({"predictions": [{"raiFilteredReason": reason}] * 2}))
    with pytest.raises(ContentFilterError) as caught:
        await model.get_image("a fox", n=2)
    error = caught.value
    assert "all 2 images" in error.message and "58061214" in error.message
    assert error.categories == {
        "image_0": {"filtered": True, "reason": reason},
        "image_1": {"filtered": True, "reason": reason},
    }
    assert (error.provider, error.model, error.endpoint, error.code) == (
        "gemini",
        "imagen-4.0-generate-001",
        "ep",
        "rai_filtered",
    )


async def test_an_answer_without_predictions_is_a_content_filter_error() -> None:
    model, _ = scripted("imagen-4.0-generate-001", wire({}))
    with pytest.raises(ContentFilterError, match="no images"):
        await model.get_image("a fox")


async def test_a_gcs_image_is_returned_as_its_url() -> None:
    answer = {"predictions": [{"gcsUri": "gs://bucket/out/sample_0.png", "mimeType": "image/png"}]}
    model, connector = scripted("imagen-4.0-generate-001", wire(answer), provider="vertex")
    made = await model.get_image("a fox", output_gcs_uri="gs://bucket/out")
    assert connector.requests[0].payload["parameters"]["storageUri"] == "gs://bucket/out"
    assert made.images[0].url == "gs://bucket/out/sample_0.png" and made.images[0].data is None


@pytest.mark.parametrize(
    "answer",
    [
        ["not", "an", "object"],
        {"predictions": {"bytesBase64Encoded": "x"}},
        {"predictions": ["x"]},
        {"predictions": [{"bytesBase64Encoded": "not base64!"}]},
        {"predictions": [{"mimeType": "image/png"}]},
    ],
)
async def test_an_unreadable_answer_is_a_parsing_error(answer: Any) -> None:
    model, _ = scripted("imagen-4.0-generate-001", wire(answer))
    with pytest.raises(ResponseParsingError) as caught:
        await model.get_image("a fox")
    assert caught.value.endpoint == "ep" and caught.value.model == "imagen-4.0-generate-001"


# -- end to end: the simulator ----------------------------------------------------------------


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


async def test_gemini_api_images_are_real_pngs_of_the_aspect_ratio(sim: Simulator) -> None:
    async with sim_model(sim.url, "imagen-4.0-fast-generate-001") as model:
        made = await model.get_image("a red barn", n=2, aspect_ratio="16:9")
    assert len(made.images) == 2
    assert all(png_size(image.data or b"") == (1408, 768) for image in made.images)
    assert made.images[0].data != made.images[1].data
    assert made.cost == pytest.approx(2 * 0.02)
    assert made.endpoint == f"{sim.url}/v1beta"
    (request,) = sim.requests
    assert (request.method, request.path) == ("POST", "/v1beta/models/imagen-4.0-fast-generate-001:predict")
    assert request.headers["x-goog-api-key"] == KEY and "key" not in request.query
    assert request.json["parameters"] == {"sampleCount": 2, "aspectRatio": "16:9", "includeRaiReason": True}


async def test_jpeg_output_is_a_jpeg(sim: Simulator) -> None:
    async with sim_model(sim.url, "imagen-4.0-generate-001") as model:
        made = await model.get_image("a barn", output_format="jpeg", compression_quality=70)
    image = made.images[0]
    assert image.media_type == "image/jpeg" and (image.data or b"").startswith(b"\xff\xd8\xff")


async def test_simulated_filtering_is_a_content_filter_error_or_fewer_images(sim: Simulator) -> None:
    async with sim_model(sim.url, "imagen-4.0-generate-001") as model:
        with pytest.raises(ContentFilterError) as caught:
            await model.get_image("a barn [sim:filtered]", n=3)
        partly = await model.get_image("a barn [sim:filtered=1]", n=3)
    assert "all 3 images" in caught.value.message and caught.value.request_id == "sim-google-000001"
    assert len(partly.images) == 2 and partly.cost == pytest.approx(2 * 0.04)


async def test_vertex_ai_with_a_bearer_token(sim: Simulator) -> None:
    async with Simulator(api_key=TOKEN) as vertex_sim:
        async with sim_model(
            vertex_sim.url, "imagen-4.0-ultra-generate-001", vertex=True, token=TOKEN
        ) as model:
            made = await model.get_image("a barn", negative_prompt="fog", aspect_ratio="1:1")
        (request,) = vertex_sim.requests
    assert request.path == (
        "/v1/projects/proj/locations/us-central1/publishers/google/models/imagen-4.0-ultra-generate-001:predict"
    )
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.json["parameters"]["negativePrompt"] == "fog"
    assert png_size(made.images[0].data or b"") == (1024, 1024)
    assert made.provider == "vertex" and made.cost == pytest.approx(0.06)


async def test_a_503_is_retried_and_a_429_keeps_googles_retry_delay(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503), Fault(status=429, retry_after=1, message="Quota exceeded for imagen"))
    async with sim_model(sim.url, "imagen-4.0-generate-001") as model:
        with pytest.raises(RateLimitError) as caught:
            await model.get_image("a barn")
        made = await model.get_image("a barn")
    assert "Quota exceeded for imagen" in caught.value.message
    assert caught.value.retry_after == 1.0
    assert len(made.images) == 1


async def test_a_wrong_key_is_an_authentication_error_that_never_shows_the_key(sim: Simulator) -> None:
    wrong = "AIzaSyWRONG-key-0123456789abcdefghijk"
    async with sim_model(sim.url, "imagen-4.0-generate-001", api_key=wrong) as model:
        with pytest.raises(AuthenticationError) as caught:
            await model.get_image("a barn")
    error = caught.value
    assert error.status == 400 and error.code == "INVALID_ARGUMENT"
    for text in (str(error), repr(error), repr(error.body), str(error.hint)):
        assert wrong not in text and KEY not in text
