"""The simulator's image routes alone (no model in between): the refusals, form checks and
defaults of the Images API as the simulator plays them."""


from __future__ import annotations

import base64
import json
import struct
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from png_reader import png_info

from core.llms.simulator import Fault, Simulator
from core.llms.simulator.image_files import encode_jpeg, encode_png, encode_webp, picture

KEY = "sim-image-key"
NO_RETRY = {"max_retries": 0}
AZURE_VERSION = "2025-04-01-preview"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


@pytest.fixture
async def http(sim: Simulator) -> AsyncIterator[Any]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {KEY}"}) as session:

        async def post(path: str, **kw: Any) -> tuple[int, Any]:
            async with session.post(sim.url + path, **kw) as resp:
                text = await resp.text()
                return resp.status, json.loads(text) if text.startswith("{") else text

        yield post


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"model": "dall-e-3", "prompt": "x", "size": "1x1"}, "size", "invalid_value"),
        ({"model": "dall-e-3", "prompt": "x", "n": 2}, "n", "invalid_value"),
        ({"model": "dall-e-3", "prompt": "x", "output_format": "png"}, "output_format", "unknown_parameter"),
        (
            {"model": "gpt-image-1", "prompt": "x", "response_format": "url"},
            "response_format",
            "unknown_parameter",
        ),
        ({"model": "gpt-image-1", "prompt": "x", "bogus": 1}, "bogus", "unknown_parameter"),
        ({"model": "gpt-image-1"}, "prompt", "missing_required_parameter"),
        ({"model": "gpt-image-1", "prompt": "x", "n": 0}, "n", "integer_below_min_value"),
        (
            {"model": "gpt-image-1", "prompt": "x", "partial_images": 4},
            "partial_images",
            "integer_above_max_value",
        ),
        ({"model": "dall-e-2", "prompt": "y" * 1001}, "prompt", "string_above_max_length"),
        ({"model": "gpt-4o", "prompt": "x"}, "model", "invalid_value"),
        (
            {"model": "gpt-image-1", "prompt": "x", "background": "transparent", "output_format": "jpeg"},
            "background",
            "invalid_value",
        ),
    ],
)
async def test_simulator_refuses_like_the_api(http: Any, body: dict[str, Any], param: str, code: str) -> None:
    status, data = await http("/v1/images/generations", json=body)
    assert status == 400
    assert data["error"]["param"] == param and data["error"]["code"] == code


async def test_simulator_edit_form_checks(http: Any) -> None:
    status, data = await http("/v1/images/edits", data={"model": "gpt-image-1", "prompt": "x"})
    assert status == 400 and data["error"]["code"] == "invalid_content_type"  # url-encoded, not a form
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("model", "gpt-image-1")
    form.add_field("prompt", "x")
    status, data = await http("/v1/images/edits", data=form)
    assert status == 400 and data["error"]["param"] == "image"
    form = aiohttp.FormData()
    form.add_field("prompt", "x")
    form.add_field("image", b"plain text", filename="a.txt", content_type="text/plain")
    status, data = await http("/v1/images/edits", data=form)
    assert status == 400 and data["error"]["code"] == "invalid_image_file"
    form = aiohttp.FormData()
    form.add_field("model", "dall-e-3")
    form.add_field("prompt", "x")
    form.add_field("image", picture(4, 4, (0, 0, 0)), filename="a.png", content_type="image/png")
    status, data = await http("/v1/images/edits", data=form)
    assert status == 400 and data["error"]["param"] == "model"
    form = aiohttp.FormData()
    form.add_field("prompt", "x")
    form.add_field("n", "two")
    form.add_field("image", picture(4, 4, (0, 0, 0)), filename="a.png", content_type="image/png")
    status, data = await http("/v1/images/edits", data=form)
    assert status == 400 and data["error"]["code"] == "invalid_type"


async def test_simulator_dall_e_2_defaults_and_url_files(http: Any, sim: Simulator) -> None:
    status, data = await http(
        "/v1/images/generations", json={"prompt": "old model", "size": "256x256", "n": 2}
    )
    assert status == 200 and len(data["data"]) == 2 and "usage" not in data
    async with aiohttp.ClientSession() as anonymous:
        for item in data["data"]:
            async with anonymous.get(item["url"]) as resp:
                assert png_info(await resp.read())[:2] == (256, 256)
        async with anonymous.get(sim.url + "/_sim/files/nothing.png") as resp:
            assert resp.status == 404


async def test_simulator_stream_wire_shape(http: Any, sim: Simulator) -> None:
    body = {
        "model": "gpt-image-1",
        "prompt": "s",
        "stream": True,
        "partial_images": 2,
        "output_format": "webp",
    }
    status, text = await http("/v1/images/generations", json=body)
    assert status == 200
    events = [block.split("\n") for block in text.strip().split("\n\n")]
    names = [lines[0] for lines in events]
    assert names == [
        "event: image_generation.partial_image",
        "event: image_generation.partial_image",
        "event: image_generation.completed",
    ]
    payloads = [json.loads(lines[1].removeprefix("data: ")) for lines in events]
    assert [p.get("partial_image_index") for p in payloads] == [0, 1, None]
    assert payloads[-1]["usage"]["output_tokens"] == 1056 + 2 * 100
    assert all(base64.b64decode(p["b64_json"])[8:12] == b"WEBP" for p in payloads)


async def test_simulator_azure_needs_api_version_and_auth(sim: Simulator) -> None:
    async with aiohttp.ClientSession() as session:
        url = sim.url + "/openai/deployments/dall-e-3/images/generations"
        async with session.post(url, json={"prompt": "x"}, headers={"api-key": KEY}) as resp:
            assert resp.status == 400
        async with session.post(url + f"?api-version={AZURE_VERSION}", json={"prompt": "x"}) as resp:
            assert resp.status == 401
        async with session.post(
            url + f"?api-version={AZURE_VERSION}", json={"prompt": "x"}, headers={"api-key": KEY}
        ) as resp:
            data = await resp.json()
            assert resp.status == 200 and "content_filter_results" in data["data"][0]
        async with session.post(
            sim.url + f"/openai/deployments/my-art/images/generations?api-version={AZURE_VERSION}",
            json={"prompt": "x"},
            headers={"api-key": KEY},
        ) as resp:
            assert resp.status == 404


async def test_simulator_fault_status_on_image_route(http: Any, sim: Simulator) -> None:
    sim.enqueue(Fault(status=503))
    status, data = await http("/v1/images/generations", json={"model": "gpt-image-1", "prompt": "x"})
    assert status == 503 and data["error"]["type"] == "server_error"


def test_encoders_write_the_requested_size() -> None:
    jpeg = encode_jpeg(100, 60, (10, 20, 30))
    assert jpeg.startswith(b"\xff\xd8\xff\xe0") and jpeg.endswith(b"\xff\xd9")
    sof = jpeg.index(b"\xff\xc0")
    assert struct.unpack(">HH", jpeg[sof + 5 : sof + 9]) == (60, 100)
    webp = encode_webp(300, 17, (1, 2, 3))
    assert webp[:4] == b"RIFF" and webp[8:16] == b"WEBPVP8L"
    assert struct.unpack("<I", webp[4:8])[0] == len(webp) - 8
    bits = int.from_bytes(webp[21:25], "little")
    assert ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1) == (300, 17)
    png = picture(10, 6, (255, 0, 0))
    width, height, _, rows = png_info(png)
    assert (width, height) == (10, 6)
    assert tuple(rows[0][:3]) == (255, 0, 0) and tuple(rows[3][15:18]) == (0, 255, 255)
    with pytest.raises(ValueError):
        encode_png(2, 2, [bytes(6)])
