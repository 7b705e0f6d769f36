"""Image generation and edits (dall-e-3, gpt-image-1) on OpenAI and Azure OpenAI, end to end:
the model classes through the real FailoverConnector against the simulator's image routes, plus
the simulator's routes and image encoders on their own."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from png_reader import png_info

from core.llms import create_llm
from core.llms.interfaces import (
    BadRequestError,
    ContentFilterError,
    InvalidInputError,
    RateLimitError,
    RequestTimeoutError,
    ResponseParsingError,
    ServiceUnavailableError,
    StreamInterruptedError,
    UnsupportedOperationError,
)
from core.llms.interfaces.endpoint import Timeouts
from core.llms.interfaces.llm_interfaces import WireEvent
from core.llms.interfaces.media import LLMImageChunk
from core.llms.interfaces.messages import ImagePart
from core.llms.interfaces.types import Usage
from core.llms.providers.openai.media.images import IMAGE_FAMILIES, ImageStreamParser
from core.llms.simulator import Fault, Simulator
from core.llms.simulator.image_files import encode_jpeg, encode_png, encode_webp, picture
from core.llms.simulator.images_routes import INPUT_IMAGE_TOKENS, image_color

KEY = "sim-image-key"
NO_RETRY = {"max_retries": 0}
AZURE_VERSION = "2025-04-01-preview"


# --------------------------------------------------------------------------- helpers


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


def openai(sim: Simulator, name: str, **kw: Any) -> Any:
    return create_llm(f"openai/{name}", api_key=KEY, endpoint=sim.url + "/v1", **kw)


def azure(sim: Simulator, name: str, api_version: str = AZURE_VERSION, **kw: Any) -> Any:
    return create_llm(f"azure/{name}", api_key=KEY, endpoint=sim.url, api_version=api_version, **kw)



def corner_pixel(data: bytes) -> tuple[int, ...]:
    _, _, color_type, rows = png_info(data)
    return tuple(rows[0][: 4 if color_type == 6 else 3])


def last(sim: Simulator) -> Any:
    return sim.requests[-1]


def multipart_parts(body: bytes, content_type: str) -> list[tuple[str, str | None, bytes]]:
    boundary = content_type.split("boundary=", 1)[1].encode()
    parts = []
    for piece in body.split(b"--" + boundary)[1:-1]:
        head, _, value = piece[2:-2].partition(b"\r\n\r\n")
        text = head.decode()
        name = text.split('name="', 1)[1].split('"', 1)[0]
        filename = text.split('filename="', 1)[1].split('"', 1)[0] if 'filename="' in text else None
        parts.append((name, filename, value))
    return parts


# --------------------------------------------------------------------------- generations


async def test_gpt_image_returns_png_bytes_with_usage_and_cost(sim: Simulator) -> None:
    prompt = "a red square on a white table"
    async with openai(sim, "gpt-image-1") as model:
        response = await model.get_image(prompt, size="1024x1536", quality="high")
    (image,) = response.images
    assert image.url is None and image.media_type == "image/png"
    assert image.data is not None
    width, height, color_type, _ = png_info(image.data)
    assert (width, height, color_type) == (1024, 1536, 2)
    assert corner_pixel(image.data) == image_color(prompt, 0)
    assert (response.model, response.provider) == ("gpt-image-1", "openai")
    assert response.endpoint == sim.url + "/v1"
    assert response.request_id == "req_sim_000001"
    assert response.latency is not None and response.latency > 0
    text_tokens = math.ceil(len(prompt) / 4)
    assert response.usage == Usage(input_tokens=text_tokens, output_tokens=6240)
    assert response.cost == pytest.approx((text_tokens * 5.00 + 6240 * 40.00) / 1_000_000)
    request = last(sim)
    assert request.path == "/v1/images/generations"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.json == {"model": "gpt-image-1", "prompt": prompt, "size": "1024x1536", "quality": "high"}


async def test_dall_e_3_url_result_is_served_and_priced_by_size_and_quality(sim: Simulator) -> None:
    async with openai(sim, "dall-e-3") as model:
        response = await model.get_image(
            "a lighthouse at dusk", size="1792x1024", quality="hd", style="natural"
        )
    (image,) = response.images
    assert image.data is None and image.url is not None and image.url.startswith(sim.url + "/_sim/files/")
    assert image.revised_prompt == "A simulated picture of: a lighthouse at dusk"
    assert response.usage is None
    assert response.cost == pytest.approx(0.12)
    assert last(sim).json == {
        "model": "dall-e-3",
        "prompt": "a lighthouse at dusk",
        "size": "1792x1024",
        "quality": "hd",
        "style": "natural",
    }
    async with aiohttp.ClientSession() as session, session.get(image.url) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "image/png"
        data = await resp.read()
    assert png_info(data)[:2] == (1792, 1024)
    assert corner_pixel(data) == image_color("a lighthouse at dusk", 0)


@pytest.mark.parametrize(
    ("params", "cost"),
    [
        ({}, 0.04),
        ({"size": "1024x1792"}, 0.08),
        ({"quality": "hd"}, 0.08),
        ({"quality": "auto", "size": "1792x1024"}, 0.08),
        ({"quality": "hd", "size": "1024x1792"}, 0.12),
    ],
)
async def test_dall_e_3_cost_table(sim: Simulator, params: dict[str, Any], cost: float) -> None:
    async with openai(sim, "dall-e-3") as model:
        response = await model.get_image("x", **params)
    assert response.cost == pytest.approx(cost)


async def test_dall_e_3_bytes_with_output_or_response_format(sim: Simulator) -> None:
    async with openai(sim, "dall-e-3") as model:
        by_output = await model.get_image("a cat", output="bytes")
        sent_output = last(sim).json
        by_format = await model.get_image("a cat", response_format="b64_json")
        sent_format = last(sim).json
    assert sent_output["response_format"] == sent_format["response_format"] == "b64_json"
    for response in (by_output, by_format):
        (image,) = response.images
        assert image.url is None and image.data is not None
        assert png_info(image.data)[:2] == (1024, 1024)
        assert corner_pixel(image.data) == image_color("a cat", 0)


async def test_n_images_are_distinct(sim: Simulator) -> None:
    async with openai(sim, "gpt-image-1") as model:
        response = await model.get_image("three cats", n=3, quality="low")
    assert len(response.images) == 3
    colors = [corner_pixel(image.data) for image in response.images]
    assert colors == [image_color("three cats", i) for i in range(3)]
    assert len(set(colors)) == 3
    assert last(sim).json["n"] == 3
    assert response.usage is not None and response.usage.output_tokens == 3 * 272


@pytest.mark.parametrize(
    ("fmt", "media_type", "magic"),
    [
        ("jpeg", "image/jpeg", b"\xff\xd8\xff"),
        ("webp", "image/webp", b"RIFF"),
        ("png", "image/png", b"\x89PNG"),
    ],
)
async def test_output_formats(sim: Simulator, fmt: str, media_type: str, magic: bytes) -> None:
    extra = {"output_compression": 80} if fmt != "png" else {}
    async with openai(sim, "gpt-image-1") as model:
        response = await model.get_image("a fox", output_format=fmt, **extra)
    (image,) = response.images
    assert image.media_type == media_type
    assert image.data is not None and image.data.startswith(magic)
    assert last(sim).json["output_format"] == fmt


async def test_transparent_background_png_has_alpha(sim: Simulator) -> None:
    async with openai(sim, "gpt-image-1") as model:
        response = await model.get_image("a logo", background="transparent", moderation="low", user="u-1")
    data = response.images[0].data
    assert data is not None
    width, height, color_type, rows = png_info(data)
    assert color_type == 6
    assert corner_pixel(data)[3] == 0  # transparent around the picture
    middle = rows[height // 2]
    assert middle[(width // 2) * 4 + 3] == 255
    assert last(sim).json["background"] == "transparent"


async def test_defaults_apply_under_call_parameters(sim: Simulator) -> None:
    async with openai(sim, "gpt-image-1", defaults={"quality": "low", "size": "1536x1024"}) as model:
        await model.get_image("one")
        first = last(sim).json
        await model.get_image("two", quality="high", size=None)
        second = last(sim).json
    assert (first["quality"], first["size"]) == ("low", "1536x1024")
    assert second["quality"] == "high" and "size" not in second


async def test_bad_default_is_refused_at_the_call(sim: Simulator) -> None:
    async with openai(sim, "gpt-image-1", defaults={"size": "640x480"}) as model:
        with pytest.raises(InvalidInputError, match="size='640x480'"):
            await model.get_image("x")
    assert sim.requests == []


# --------------------------------------------------------------------------- edits


async def test_edit_uploads_images_and_mask_as_multipart(sim: Simulator, tmp_path: Path) -> None:
    first = picture(64, 64, (10, 200, 30))
    second = encode_jpeg(32, 16, (1, 2, 3))
    path = tmp_path / "second.jpg"
    path.write_bytes(second)
    mask = encode_png(64, 64, [bytes(64 * 4)] * 64, alpha=True)
    async with openai(sim, "gpt-image-1") as model:
        response = await model.get_image(
            "put a hat on it", image=[first, path], mask=mask, input_fidelity="high", size="1024x1024"
        )
    request = last(sim)
    assert request.path == "/v1/images/edits"
    assert request.json is None
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    (image,) = response.images
    assert image.data is not None
    # the colour is derived from the SHA-256 of each upload: it matches only if they arrived whole
    assert corner_pixel(image.data) == image_color("put a hat on it", 0, [first, second])
    assert response.usage is not None
    assert response.usage.input_tokens == math.ceil(len("put a hat on it") / 4) + 2 * INPUT_IMAGE_TOKENS


async def test_edit_form_fields_on_the_wire(sim: Simulator) -> None:
    """The exact multipart body: captured by a route of our own in front of the simulator."""
    captured: dict[str, Any] = {}

    async def capture(request: aiohttp.web.Request) -> aiohttp.web.StreamResponse:
        captured["body"] = await request.read()
        captured["type"] = request.headers["Content-Type"]
        b64 = base64.b64encode(picture(8, 8, (1, 2, 3))).decode()
        return aiohttp.web.json_response({"created": 1, "data": [{"b64_json": b64}]})

    app = aiohttp.web.Application()
    app.router.add_post("/v1/images/edits", capture)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        upload = picture(16, 16, (200, 100, 50))
        part = ImagePart(data=encode_webp(4, 4, (1, 1, 1)), media_type="image/webp")
        async with create_llm("openai/gpt-image-1", api_key=KEY, endpoint=f"http://127.0.0.1:{port}/v1") as m:
            response = await m.get_image("edit", image=[upload, part], n=2, output_format="webp")
    finally:
        await runner.cleanup()
    assert response.images[0].media_type == "image/webp"
    parts = multipart_parts(captured["body"], captured["type"])
    names = [(name, filename) for name, filename, _ in parts]
    assert names == [
        ("model", None),
        ("prompt", None),
        ("image[]", "image-0.png"),
        ("image[]", "image-1.webp"),
        ("n", None),
        ("output_format", None),
    ]
    values = {name: value for name, _, value in parts if name != "image[]"}
    assert values == {"model": b"gpt-image-1", "prompt": b"edit", "n": b"2", "output_format": b"webp"}
    assert parts[2][2] == upload and parts[3][2] == part.data


async def test_edit_inputs_from_data_urls_and_image_parts(sim: Simulator) -> None:
    upload = picture(20, 20, (9, 9, 9))
    data_url = "data:image/png;base64," + base64.b64encode(upload).decode()
    async with openai(sim, "gpt-image-1") as model:
        a = await model.get_image("p", image=ImagePart(url=data_url))
        b = await model.get_image("p", image=data_url)
        c = await model.get_image("p", image=ImagePart(data=upload, media_type="image/png"))
    expected = image_color("p", 0, [upload])
    assert [corner_pixel(r.images[0].data) for r in (a, b, c)] == [expected] * 3


async def test_mask_of_another_size_is_refused_by_the_server(sim: Simulator) -> None:
    async with openai(sim, "gpt-image-1", retry=NO_RETRY) as model:
        with pytest.raises(BadRequestError) as info:
            await model.get_image("x", image=picture(32, 32, (0, 0, 0)), mask=picture(16, 16, (0, 0, 0)))
    assert info.value.status == 400 and info.value.code == "invalid_image"
    assert "mask" in info.value.message
    assert len(sim.requests) == 1


# --------------------------------------------------------------------------- streams


async def test_stream_yields_partials_then_the_final_image(sim: Simulator) -> None:
    prompt = "a mountain"
    async with openai(sim, "gpt-image-1") as model:
        chunks = [c async for c in model.stream_image(prompt, partial_images=2, quality="medium")]
    assert [(c.final, c.index) for c in chunks] == [(False, 0), (False, 1), (True, 0)]
    assert all(c.usage is None and c.cost is None for c in chunks[:2])
    usage = chunks[-1].usage
    assert usage is not None and usage.output_tokens > 0
    assert chunks[-1].cost == pytest.approx(
        (usage.input_tokens * 5.00 + usage.output_tokens * 40.00) / 1_000_000
    )
    final = chunks[-1].image
    assert final.data is not None and corner_pixel(final.data) == image_color(prompt, 0)
    partial_colors = {corner_pixel(c.image.data) for c in chunks[:2]}
    assert len(partial_colors) == 2 and image_color(prompt, 0) not in partial_colors
    assert last(sim).json == {
        "model": "gpt-image-1",
        "prompt": prompt,
        "quality": "medium",
        "partial_images": 2,
        "stream": True,
    }


async def test_stream_edit_uses_edit_events(sim: Simulator) -> None:
    upload = picture(16, 16, (1, 2, 3))
    async with openai(sim, "gpt-image-1") as model:
        chunks = [c async for c in model.stream_image("edit me", image=upload, partial_images=1)]
    assert [(c.final, c.index) for c in chunks] == [(False, 0), (True, 0)]
    assert corner_pixel(chunks[-1].image.data) == image_color("edit me", 0, [upload])
    assert last(sim).path == "/v1/images/edits"


async def test_stream_without_partials_yields_only_the_final_image(sim: Simulator) -> None:
    async with openai(sim, "gpt-image-1") as model:
        chunks = [c async for c in model.stream_image("plain", output_format="jpeg")]
    assert len(chunks) == 1 and chunks[0].final
    assert chunks[0].image.media_type == "image/jpeg"
    assert chunks[0].image.data is not None and chunks[0].image.data.startswith(b"\xff\xd8")


async def test_stream_cut_before_completed_is_interrupted(sim: Simulator) -> None:
    sim.enqueue(Fault(truncate_stream=True, after_chunks=1))
    got: list[LLMImageChunk] = []
    async with openai(sim, "gpt-image-1") as model:
        with pytest.raises(StreamInterruptedError) as info:
            async for chunk in model.stream_image("cut", partial_images=3):
                got.append(chunk)
    assert [(c.final, c.index) for c in got] == [(False, 0)]
    assert "completed" in info.value.message
    assert (info.value.provider, info.value.model) == ("openai", "gpt-image-1")
    assert len(sim.requests) == 1  # never retried once an image reached the caller


async def test_stream_cut_before_any_image_is_retried(sim: Simulator) -> None:
    sim.enqueue(Fault(truncate_stream=True, at="before_first_chunk"))
    async with openai(sim, "gpt-image-1", retry={"max_retries": 1, "backoff_initial": 0.001}) as model:
        chunks = [c async for c in model.stream_image("again", partial_images=1)]
    assert [c.final for c in chunks] == [False, True]
    assert len(sim.requests) == 2


async def test_error_event_in_the_stream_is_typed(sim: Simulator) -> None:
    sim.enqueue(Fault(error_event=True, at="before_first_chunk", error_code="content_policy_violation"))
    async with openai(sim, "gpt-image-1", retry=NO_RETRY) as model:
        with pytest.raises(ContentFilterError) as info:
            async for _ in model.stream_image("x", partial_images=1):
                pass
    assert info.value.code == "content_policy_violation"


async def test_error_event_after_a_partial_interrupts_with_the_cause(sim: Simulator) -> None:
    sim.enqueue(Fault(error_event=True, after_chunks=1, status=503))
    async with openai(sim, "gpt-image-1", retry=NO_RETRY) as model:
        with pytest.raises(StreamInterruptedError) as info:
            async for _ in model.stream_image("x", partial_images=2):
                pass
    assert isinstance(info.value.cause, ServiceUnavailableError)


async def test_dall_e_3_stream_is_one_final_chunk(sim: Simulator) -> None:
    async with openai(sim, "dall-e-3") as model:
        chunks = [c async for c in model.stream_image("no stream here", output="bytes")]
        with pytest.raises(InvalidInputError, match="partial_images"):
            async for _ in model.stream_image("x", partial_images=1):
                pass
    assert len(chunks) == 1 and chunks[0].final and chunks[0].index == 0
    assert corner_pixel(chunks[0].image.data) == image_color("no stream here", 0)
    assert "stream" not in sim.requests[0].json
    assert len(sim.requests) == 1


def test_stream_parser_unit() -> None:
    parser = ImageStreamParser("ep", "rid")
    png = picture(4, 4, (5, 6, 7))
    b64 = base64.b64encode(png).decode()

    def event(obj: dict[str, Any], name: str | None = None) -> WireEvent:
        return WireEvent(data=json.dumps(obj), event=name or obj.get("type"))

    assert parser.feed(event({"type": "image_generation.in_progress"})) == []
    (partial,) = parser.feed(
        event({"type": "image_generation.partial_image", "b64_json": b64, "partial_image_index": 5})
    )
    assert (partial.index, partial.final, partial.image.data) == (5, False, png)
    with pytest.raises(StreamInterruptedError):
        parser.close()
    usage = {"input_tokens": 10, "output_tokens": 20, "input_tokens_details": {"cached_tokens": 4}}
    (final,) = parser.feed(
        event(
            {"type": "image_generation.completed", "b64_json": b64, "output_format": "webp", "usage": usage}
        )
    )
    assert final.final and final.image.media_type == "image/webp"
    assert parser.usage == Usage(input_tokens=10, output_tokens=20, cached_input_tokens=4)
    assert parser.close() == []
    assert parser.feed(event({"type": "image_generation.partial_image", "b64_json": b64})) == []


def test_stream_parser_refuses_bad_events_without_quoting_them() -> None:
    secret = "QUJD" * 50 + "!!"
    parser = ImageStreamParser("ep", "rid")
    with pytest.raises(ResponseParsingError) as info:
        parser.feed(
            WireEvent(data=json.dumps({"type": "image_generation.partial_image", "b64_json": secret}))
        )
    assert secret not in str(info.value) and "QUJD" not in str(info.value)
    with pytest.raises(ResponseParsingError) as info:
        parser.feed(WireEvent(data='{"b64_json": "' + "A" * 100))
    assert "AAAA" not in str(info.value)
    with pytest.raises(RateLimitError):
        parser.feed(
            WireEvent(
                data=json.dumps({"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}})
            )
        )


# --------------------------------------------------------------------------- refused before sending


@pytest.mark.parametrize(
    ("name", "prompt", "params", "expected"),
    [
        ("gpt-image-1", "x", {"size": "512x512"}, "size='512x512'.*allowed: '1024x1024'"),
        ("dall-e-3", "x", {"size": "1536x1024"}, "size='1536x1024'.*'1792x1024'"),
        ("dall-e-3", "x", {"n": 2}, "n=2 .*allowed: 1"),
        ("gpt-image-1", "x", {"n": 11}, "n=11 .*from 1 to 10"),
        ("gpt-image-1", "x", {"n": True}, "n=<bool>"),
        ("gpt-image-1", "x", {"quality": "hd"}, "quality='hd'.*'low', 'medium', 'high', 'auto'"),
        ("dall-e-3", "x", {"quality": "high"}, "quality='high'.*'standard', 'hd'"),
        ("gpt-image-1", "x", {"style": "vivid"}, "'style' is not supported by gpt-image-1.*allowed: size"),
        ("dall-e-3", "x", {"output_format": "png"}, "'output_format' is not supported by dall-e-3"),
        ("dall-e-3", "x", {"background": "opaque"}, "'background' is not supported"),
        ("dall-e-3", "x", {"style": "loud"}, "style='loud'.*'vivid', 'natural'"),
        ("gpt-image-1", "x", {"response_format": "url"}, "response_format='url'.*allowed: 'b64_json'"),
        ("gpt-image-1", "x", {"output": "url"}, "output='url'.*allowed: 'bytes'"),
        ("dall-e-3", "x", {"output": "file"}, "output='file'.*'url', 'bytes'"),
        ("dall-e-3", "x", {"output": "url", "response_format": "b64_json"}, "disagree"),
        ("gpt-image-1", "x", {"output_format": "gif"}, "output_format='gif'.*'png', 'jpeg', 'webp'"),
        ("gpt-image-1", "x", {"output_compression": 50}, "output_compression needs output_format"),
        ("gpt-image-1", "x", {"output_compression": 101, "output_format": "jpeg"}, "from 0 to 100"),
        (
            "gpt-image-1",
            "x",
            {"background": "transparent", "output_format": "jpeg"},
            "transparent.*png.*webp",
        ),
        ("gpt-image-1", "x", {"background": "clear"}, "background='clear'"),
        ("gpt-image-1", "x", {"moderation": "none"}, "moderation='none'.*'low', 'auto'"),
        ("gpt-image-1", "x", {"partial_images": 2}, "partial_images is for stream_image"),
        ("dall-e-3", "x", {"partial_images": 2}, "'partial_images' is not supported by dall-e-3"),
        ("gpt-image-1", "x", {"temperature": 1}, "unknown parameter 'temperature'.*allowed: size, quality"),
        ("gpt-image-1", "x", {"user": 5}, "user must be a non-empty string"),
        ("gpt-image-1", "x", {"timeout": -1}, "timeout=-1"),
        ("gpt-image-1", "x", {"read_timeout": "slow"}, "read_timeout"),
        ("gpt-image-1", "", {}, "prompt must not be empty"),
        ("gpt-image-1", "   ", {}, "prompt must not be empty"),
        ("gpt-image-1", 42, {}, "prompt must be a string"),
        ("dall-e-3", "y" * 4001, {}, "4001 characters; dall-e-3 takes at most 4000"),
        ("dall-e-3", "x", {"image": b"\x89PNG\r\n\x1a\n"}, "'image' is not supported by dall-e-3"),
        ("gpt-image-1", "x", {"mask": b"\x89PNG\r\n\x1a\n"}, "mask is for edits"),
        ("gpt-image-1", "x", {"input_fidelity": "high"}, "input_fidelity is for edits"),
        ("gpt-image-1", "x", {"image": b"not an image"}, r"image \(12 bytes\) is not a PNG, JPEG or WebP"),
        ("gpt-image-1", "x", {"image": b"GIF89a" + bytes(10)}, "image is image/gif"),
        ("gpt-image-1", "x", {"image": []}, "image takes 1 to 16 images, not 0"),
        ("gpt-image-1", "x", {"image": [b"\x89PNG\r\n\x1a\n"] * 17}, "not 17"),
        ("gpt-image-1", "x", {"image": {"a": 1}}, "image must be an image"),
        ("gpt-image-1", "x", {"image": [1]}, "image must be bytes, an ImagePart or a path, not int"),
        ("gpt-image-1", "x", {"image": "https://example.com/cat.png"}, "image is a URL"),
        ("gpt-image-1", "x", {"image": ImagePart(url="https://e.com/c.png")}, "http"),
        ("gpt-image-1", "x", {"image": "data:image/png;base64,@@@"}, "base64 is invalid"),
        ("gpt-image-1", "x", {"image": "/nonexistent/cat.png"}, "cannot read 'cat.png'"),
        ("gpt-image-1", "x", {"image": b""}, "image is empty"),
        (
            "gpt-image-1",
            "x",
            {"image": b"\x89PNG\r\n\x1a\n", "mask": b"\xff\xd8\xff\x00"},
            "mask must be a PNG image",
        ),
        (
            "gpt-image-1",
            "x",
            {"image": b"\x89PNG\r\n\x1a\n", "moderation": "low"},
            "moderation is not supported for edits",
        ),
    ],
)
async def test_bad_parameters_are_refused_before_sending(
    sim: Simulator, name: str, prompt: Any, params: dict[str, Any], expected: str
) -> None:
    async with openai(sim, name) as model:
        with pytest.raises(InvalidInputError, match=expected) as info:
            await model.get_image(prompt, **params)
    assert (info.value.provider, info.value.model) == ("openai", name)
    assert sim.requests == []


async def test_stream_refuses_n_and_bad_parameters_before_sending(sim: Simulator) -> None:
    async with openai(sim, "gpt-image-1") as model:
        with pytest.raises(InvalidInputError, match="one image, not n=2"):
            async for _ in model.stream_image("x", n=2):
                pass
        with pytest.raises(InvalidInputError, match=r"partial_images=4.*from 0 to 3"):
            async for _ in model.stream_image("x", partial_images=4):
                pass
        with pytest.raises(InvalidInputError, match="size='1x1'"):
            async for _ in model.stream_image("x", size="1x1"):
                pass
    assert sim.requests == []


async def test_errors_never_show_image_bytes() -> None:
    marker = b"\x89PNG\r\n\x1a\n" + b"SECRETPIXELS" * 10
    async with create_llm(
        "openai/dall-e-3", api_key="sk-test-abcdefghijklmnop", endpoint="http://127.0.0.1:9/v1"
    ) as m:
        with pytest.raises(InvalidInputError) as info:
            await m.get_image("x", image=marker)
    assert "SECRETPIXELS" not in str(info.value) and "SECRETPIXELS" not in repr(info.value)
    assert "sk-test" not in str(info.value)


async def test_timeouts_reach_the_request(sim: Simulator) -> None:
    sim.enqueue(Fault(stall=2.0))
    async with openai(sim, "gpt-image-1", retry=NO_RETRY) as model:
        with pytest.raises(RequestTimeoutError):
            await model.get_image("slow", read_timeout=0.2)
        sim.enqueue(Fault(stall=2.0))
        with pytest.raises(RequestTimeoutError):
            await model.get_image("slow", timeout=Timeouts(read=0.2, total=5))
        response = await model.get_image("fast", timeout=30, read_timeout=10)
    assert response.images


# --------------------------------------------------------------------------- server errors


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(status=400), BadRequestError),
        (Fault(status=429, retry_after=0), RateLimitError),
        (Fault(status=500), ServiceUnavailableError),
    ],
)
async def test_server_errors_are_typed(sim: Simulator, fault: Fault, error: type[Exception]) -> None:
    sim.enqueue(fault)
    async with openai(sim, "gpt-image-1", retry=NO_RETRY) as model:
        with pytest.raises(error) as info:
            await model.get_image("x")
    assert info.value.status == fault.status  # type: ignore[attr-defined]
    assert info.value.model == "gpt-image-1"  # type: ignore[attr-defined]


async def test_stream_server_error_is_typed(sim: Simulator) -> None:
    sim.enqueue(Fault(status=429, retry_after=0))
    async with openai(sim, "gpt-image-1", retry=NO_RETRY) as model:
        with pytest.raises(RateLimitError):
            async for _ in model.stream_image("x", partial_images=1):
                pass


async def test_server_error_is_retried_then_succeeds(sim: Simulator) -> None:
    sim.enqueue(Fault(status=500))
    async with openai(sim, "gpt-image-1", retry={"max_retries": 1, "backoff_initial": 0.001}) as model:
        response = await model.get_image("x")
    assert len(response.images) == 1 and len(sim.requests) == 2


async def test_content_policy_refusal_is_a_content_filter_error(sim: Simulator) -> None:
    async with openai(sim, "dall-e-3") as model:
        with pytest.raises(ContentFilterError) as info:
            await model.get_image("please [[content_filter]]")
    assert info.value.status == 400 and info.value.code == "content_policy_violation"


async def test_bad_base64_is_a_parsing_error(sim: Simulator) -> None:
    sim.enqueue(Fault(body={"created": 1, "data": [{"b64_json": "not*base64"}]}))
    async with openai(sim, "gpt-image-1") as model:
        with pytest.raises(ResponseParsingError, match=r"data\[0\]\.b64_json is not valid base64") as info:
            await model.get_image("x")
    assert "not*base64" not in str(info.value)


@pytest.mark.parametrize(
    "body",
    [
        {"created": 1},
        {"created": 1, "data": []},
        {"created": 1, "data": [{"revised_prompt": "x"}]},
        {"data": [3]},
    ],
)
async def test_malformed_answers_are_parsing_errors(sim: Simulator, body: dict[str, Any]) -> None:
    sim.enqueue(Fault(body=body))
    async with openai(sim, "dall-e-3") as model:
        with pytest.raises(ResponseParsingError):
            await model.get_image("x")


async def test_cached_tokens_are_billed_at_the_cached_price(sim: Simulator) -> None:
    b64 = base64.b64encode(picture(4, 4, (0, 0, 0))).decode()
    usage = {
        "input_tokens": 1000,
        "input_tokens_details": {"cached_tokens": 400, "text_tokens": 600, "image_tokens": 400},
        "output_tokens": 2000,
        "total_tokens": 3000,
    }
    sim.enqueue(Fault(body={"created": 1, "data": [{"b64_json": b64}], "usage": usage}))
    async with openai(sim, "gpt-image-1") as model:
        response = await model.get_image("x")
    assert response.usage == Usage(input_tokens=1000, output_tokens=2000, cached_input_tokens=400)
    assert response.cost == pytest.approx((600 * 5.00 + 400 * 1.25 + 2000 * 40.00) / 1_000_000)


# --------------------------------------------------------------------------- other models, Azure


async def test_chat_model_cannot_make_images(sim: Simulator) -> None:
    async with openai(sim, "gpt-4o-mini") as model:
        with pytest.raises(UnsupportedOperationError, match="get_image"):
            await model.get_image("x")
        with pytest.raises(UnsupportedOperationError, match="stream_image"):
            async for _ in model.stream_image("x"):
                pass
    assert sim.requests == []


async def test_azure_dall_e_3_deployment_route(sim: Simulator) -> None:
    async with azure(sim, "dall-e-3") as model:
        response = await model.get_image("a boat", size="1024x1792")
    request = last(sim)
    assert request.path == "/openai/deployments/dall-e-3/images/generations"
    assert request.query == {"api-version": AZURE_VERSION}
    assert request.headers["api-key"] == KEY and "authorization" not in request.headers
    assert (response.provider, response.model) == ("azure", "dall-e-3")
    assert response.request_id is not None and response.request_id.startswith("00000000-0000-4000-8000-")
    assert response.cost == pytest.approx(0.08)
    (image,) = response.images
    assert image.url is not None and image.revised_prompt
    async with aiohttp.ClientSession() as session, session.get(image.url) as resp:
        assert png_info(await resp.read())[:2] == (1024, 1792)


async def test_azure_gpt_image_edit_and_stream(sim: Simulator) -> None:
    upload = picture(8, 8, (50, 60, 70))
    async with azure(sim, "gpt-image-1") as model:
        edited = await model.get_image("hat", image=upload)
        edit_request = last(sim)
        chunks = [c async for c in model.stream_image("sky", partial_images=1)]
    assert edit_request.path == "/openai/deployments/gpt-image-1/images/edits"
    assert corner_pixel(edited.images[0].data) == image_color("hat", 0, [upload])
    assert [c.final for c in chunks] == [False, True]
    assert last(sim).path == "/openai/deployments/gpt-image-1/images/generations"


async def test_azure_v1_route_sends_the_deployment_as_model(sim: Simulator) -> None:
    async with azure(sim, "gpt-image-1", api_version="v1") as model:
        response = await model.get_image("v1 please", quality="low")
    request = last(sim)
    assert request.path == "/openai/v1/images/generations"
    assert request.json["model"] == "gpt-image-1"
    assert response.images[0].data is not None


def test_family_table_covers_the_catalogue_image_models() -> None:
    assert set(IMAGE_FAMILIES) == {"dall-e", "gpt-image"}
    assert IMAGE_FAMILIES["dall-e"].max_n == 1 and IMAGE_FAMILIES["gpt-image"].max_partial_images == 3
