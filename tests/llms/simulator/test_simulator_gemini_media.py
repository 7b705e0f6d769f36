"""The simulator's Gemini API and Vertex AI media routes (``gemini_media_routes``), checked with
plain aiohttp and hand parsing (never the client's code): auth, Imagen, Veo operations and their
files, embeddings, the TTS answer the chat route uses, Google's error bodies and faults."""

from __future__ import annotations

import base64
import io
import json
import struct
import wave
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict

from core.llms.simulator import Fault, Simulator
from core.llms.simulator.gemini_media_routes import (
    TTS_MIME_TYPE,
    is_tts_model,
    tts_answer,
    tts_stream_events,
)
from core.llms.simulator.mp4 import walk_boxes
from core.llms.simulator.openai_wire import Rejection

KEY = {"x-goog-api-key": "k"}
BEARER = {"Authorization": "Bearer tok"}
VERTEX = "/v1/projects/p/locations/us-central1/publishers/google/models"


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def post(
    session: aiohttp.ClientSession, url: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, CIMultiDict[str], Any]:
    async with session.post(url, json=body, headers=KEY if headers is None else headers) as resp:
        return resp.status, CIMultiDict(resp.headers), await resp.json()


async def get(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    async with session.get(url, headers=KEY if headers is None else headers) as resp:
        raw = await resp.read()
        return resp.status, json.loads(raw) if resp.content_type == "application/json" else (
            resp.content_type,
            raw,
        )


def imagen(sim: Simulator, model: str = "imagen-4.0-generate-001") -> str:
    return f"{sim.url}/v1beta/models/{model}:predict"


def error_of(body: Any) -> tuple[int, str, str]:
    error = body["error"]
    return error["code"], error["status"], error["message"]


# -- auth ---------------------------------------------------------------------------------------


async def test_the_gemini_api_wants_a_key(sim: Simulator, session: aiohttp.ClientSession) -> None:
    body = {"instances": [{"prompt": "a cat"}], "parameters": {"sampleCount": 1}}
    status, _, answer = await post(session, imagen(sim), body, headers={})
    assert status == 403 and error_of(answer)[1] == "PERMISSION_DENIED"
    status, _, _ = await post(session, imagen(sim) + "?key=k", body, headers={})
    assert status == 200


async def test_a_wrong_key_is_api_key_invalid(session: aiohttp.ClientSession) -> None:
    async with Simulator(api_key="right") as sim:
        body = {"instances": [{"prompt": "a cat"}]}
        status, _, answer = await post(session, imagen(sim), body, headers={"x-goog-api-key": "wrong"})
    assert status == 400
    assert error_of(answer)[:2] == (400, "INVALID_ARGUMENT")
    assert answer["error"]["details"][0]["reason"] == "API_KEY_INVALID"


async def test_vertex_ai_wants_a_bearer_token_or_an_api_key(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    url = f"{sim.url}{VERTEX}/imagen-4.0-generate-001:predict"
    body = {"instances": [{"prompt": "a cat"}], "parameters": {"sampleCount": 1}}
    status, _, answer = await post(session, url, body, headers={})
    assert status == 401 and error_of(answer)[1] == "UNAUTHENTICATED"
    assert (await post(session, url, body, headers=BEARER))[0] == 200
    assert (await post(session, url, body, headers=KEY))[0] == 200


# -- Imagen -------------------------------------------------------------------------------------


async def test_imagen_makes_four_pngs_unless_asked(sim: Simulator, session: aiohttp.ClientSession) -> None:
    status, headers, answer = await post(session, imagen(sim), {"instances": [{"prompt": "a cat"}]})
    assert status == 200 and headers["x-request-id"] == "sim-google-000001"
    images = [base64.b64decode(p["bytesBase64Encoded"]) for p in answer["predictions"]]
    assert len(images) == 4 and len(set(images)) == 4
    assert all(png_size(image) == (1024, 1024) for image in images)
    assert {p["mimeType"] for p in answer["predictions"]} == {"image/png"}


async def test_imagen_sizes_formats_and_enhanced_prompts(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    params = {"sampleCount": 1, "aspectRatio": "9:16", "sampleImageSize": "2K"}
    _, _, tall = await post(session, imagen(sim), {"instances": [{"prompt": "a cat"}], "parameters": params})
    assert png_size(base64.b64decode(tall["predictions"][0]["bytesBase64Encoded"])) == (1536, 2816)
    params = {"sampleCount": 1, "outputOptions": {"mimeType": "image/jpeg", "compressionQuality": 60}}
    _, _, jpeg = await post(session, imagen(sim), {"instances": [{"prompt": "a cat"}], "parameters": params})
    assert base64.b64decode(jpeg["predictions"][0]["bytesBase64Encoded"]).startswith(b"\xff\xd8\xff")
    url = f"{sim.url}{VERTEX}/imagen-3.0-generate-002:predict"
    params = {
        "sampleCount": 1,
        "enhancePrompt": True,
        "negativePrompt": "fog",
        "seed": 3,
        "addWatermark": False,
    }
    _, _, vertex = await post(
        session, url, {"instances": [{"prompt": "a cat"}], "parameters": params}, BEARER
    )
    assert vertex["predictions"][0]["prompt"].endswith("a cat")


@pytest.mark.parametrize(
    ("model", "parameters", "words"),
    [
        ("imagen-4.0-generate-001", {"sampleCount": 5}, "sampleCount"),
        ("imagen-4.0-ultra-generate-001", {"sampleCount": 2}, "sampleCount"),
        ("imagen-4.0-generate-001", {"aspectRatio": "2:1"}, "aspectRatio"),
        ("imagen-4.0-fast-generate-001", {"sampleImageSize": "2K"}, "sampleImageSize"),
        ("imagen-4.0-generate-001", {"personGeneration": "everyone"}, "personGeneration"),
        ("imagen-4.0-generate-001", {"outputOptions": {"mimeType": "image/gif"}}, "mimeType"),
        ("imagen-4.0-generate-001", {"negativePrompt": "fog"}, "negativePrompt parameter is not supported"),
        ("imagen-4.0-generate-001", {"seed": 3}, "seed parameter is not supported"),
    ],
)
async def test_imagen_refuses_what_the_service_refuses(
    sim: Simulator, session: aiohttp.ClientSession, model: str, parameters: dict[str, Any], words: str
) -> None:
    status, _, answer = await post(
        session, imagen(sim, model), {"instances": [{"prompt": "a cat"}], "parameters": parameters}
    )
    code, name, message = error_of(answer)
    assert (status, code, name) == (400, 400, "INVALID_ARGUMENT") and words in message


async def test_vertex_refuses_a_seed_with_the_watermark_on(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    url = f"{sim.url}{VERTEX}/imagen-4.0-generate-001:predict"
    status, _, answer = await post(
        session, url, {"instances": [{"prompt": "a"}], "parameters": {"seed": 3}}, BEARER
    )
    assert status == 400 and "watermark" in error_of(answer)[2]


async def test_filtered_images_come_back_as_reasons_only_when_asked(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    prompt = {"instances": [{"prompt": "a cat [sim:filtered=1]"}]}
    _, _, with_reasons = await post(
        session, imagen(sim), {**prompt, "parameters": {"sampleCount": 2, "includeRaiReason": True}}
    )
    assert "raiFilteredReason" in with_reasons["predictions"][0]
    assert "bytesBase64Encoded" in with_reasons["predictions"][1]
    _, _, silent = await post(session, imagen(sim), {**prompt, "parameters": {"sampleCount": 2}})
    assert len(silent["predictions"]) == 1
    _, _, none = await post(
        session,
        imagen(sim),
        {"instances": [{"prompt": "[sim:filtered] a cat"}], "parameters": {"sampleCount": 2}},
    )
    assert none == {}


async def test_predict_on_an_unknown_model_is_404(sim: Simulator, session: aiohttp.ClientSession) -> None:
    status, _, answer = await post(session, imagen(sim, "gemini-2.5-flash"), {"instances": [{"prompt": "a"}]})
    assert status == 404 and error_of(answer)[1] == "NOT_FOUND"


# -- Veo ----------------------------------------------------------------------------------------


async def test_a_veo_operation_runs_then_its_file_downloads(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    url = f"{sim.url}/v1beta/models/veo-3.0-generate-001:predictLongRunning"
    body = {"instances": [{"prompt": "a kite"}], "parameters": {"durationSeconds": 6, "aspectRatio": "9:16"}}
    status, _, started = await post(session, url, body)
    name = started["name"]
    assert status == 200 and started == {"name": "models/veo-3.0-generate-001/operations/sim000001"}
    status, first = await get(session, f"{sim.url}/v1beta/{name}")
    assert status == 200 and first == {"name": name}
    _, done = await get(session, f"{sim.url}/v1beta/operations/sim000001")  # the short route
    assert done["done"] is True
    uri = done["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
    assert uri == f"{sim.url}/v1beta/files/sim-video-000001:download?alt=media"
    status, (content_type, video) = await get(session, uri)
    assert (status, content_type) == (200, "video/mp4")
    kinds = [kind for kind, _ in walk_boxes(video)]
    assert kinds[0] == b"ftyp" and b"moov" in kinds
    assert (await get(session, uri, headers={}))[0] == 403


async def test_veo_file_downloads_need_alt_media_and_a_finished_operation(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    url = f"{sim.url}/v1beta/models/veo-2.0-generate-001:predictLongRunning"
    await post(session, url, {"instances": [{"prompt": "a kite [sim:slow]"}]})
    status, answer = await get(session, f"{sim.url}/v1beta/files/sim-video-000001:download?alt=media")
    assert status == 400 and error_of(answer)[1] == "FAILED_PRECONDITION"
    assert (await get(session, f"{sim.url}/v1beta/files/sim-video-000001:download"))[0] == 400
    assert (await get(session, f"{sim.url}/v1beta/files/nope:download?alt=media"))[0] == 404
    assert (await get(session, f"{sim.url}/v1beta/models/veo-2.0-generate-001/operations/nope"))[0] == 404


async def test_veo_markers(sim: Simulator, session: aiohttp.ClientSession) -> None:
    url = f"{sim.url}/v1beta/models/veo-3.0-generate-001:predictLongRunning"
    _, _, now = await post(session, url, {"instances": [{"prompt": "a kite [sim:steps=0]"}]})
    assert now["done"] is True
    _, _, failing = await post(session, url, {"instances": [{"prompt": "a kite [sim:fail=INTERNAL]"}]})
    _, still = await get(session, f"{sim.url}/v1beta/{failing['name']}")
    _, failed = await get(session, f"{sim.url}/v1beta/{failing['name']}")
    assert "done" not in still and failed["done"] is True and failed["error"]["code"] == 13
    _, _, filtering = await post(
        session, url, {"instances": [{"prompt": "a kite [sim:filtered] [sim:steps=1]"}]}
    )
    _, filtered = await get(session, f"{sim.url}/v1beta/{filtering['name']}")
    response = filtered["response"]["generateVideoResponse"]
    assert response["raiMediaFilteredCount"] == 1 and "generatedSamples" not in response


async def test_vertex_veo_fetch_predict_operation_returns_the_video_inline(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    base = f"{sim.url}{VERTEX}/veo-3.0-generate-001"
    body = {
        "instances": [{"prompt": "a kite [sim:steps=1]"}],
        "parameters": {"generateAudio": True, "seed": 5},
    }
    _, _, started = await post(session, base + ":predictLongRunning", body, BEARER)
    name = started["name"]
    assert name.startswith(
        "projects/p/locations/us-central1/publishers/google/models/veo-3.0-generate-001/operations/"
    )
    status, _, done = await post(session, base + ":fetchPredictOperation", {"operationName": name}, BEARER)
    video = base64.b64decode(done["response"]["videos"][0]["bytesBase64Encoded"])
    assert status == 200 and done["done"] is True and video[4:8] == b"ftyp"
    assert (await post(session, base + ":fetchPredictOperation", {"operationName": "x"}, BEARER))[0] == 404


@pytest.mark.parametrize(
    ("model", "parameters", "instance", "words"),
    [
        ("veo-3.0-generate-001", {"durationSeconds": 5}, {}, "duration"),
        ("veo-2.0-generate-001", {"resolution": "1080p"}, {}, "resolution"),
        ("veo-3.0-generate-001", {"aspectRatio": "1:1"}, {}, "aspectRatio"),
        ("veo-3.0-generate-001", {"seed": 1}, {}, "seed parameter is not supported"),
        (
            "veo-3.0-generate-001",
            {},
            {"image": {"bytesBase64Encoded": "aGVsbG8=", "mimeType": "image/png"}},
            "image",
        ),
        ("veo-3.0-generate-001", {}, {"prompt": ""}, "prompt"),
    ],
)
async def test_veo_refuses_what_the_service_refuses(
    sim: Simulator,
    session: aiohttp.ClientSession,
    model: str,
    parameters: dict[str, Any],
    instance: dict[str, Any],
    words: str,
) -> None:
    url = f"{sim.url}/v1beta/models/{model}:predictLongRunning"
    body = {"instances": [{"prompt": "a kite", **instance}], "parameters": parameters}
    status, _, answer = await post(session, url, body)
    assert status == 400 and words in error_of(answer)[2]


# -- embeddings ---------------------------------------------------------------------------------


async def test_gemini_embeddings(sim: Simulator, session: aiohttp.ClientSession) -> None:
    base = f"{sim.url}/v1beta/models/gemini-embedding-001"
    _, _, one = await post(session, base + ":embedContent", {"content": {"parts": [{"text": "hi"}]}})
    assert len(one["embedding"]["values"]) == 3072
    item = {
        "model": "models/gemini-embedding-001",
        "content": {"parts": [{"text": "hi"}]},
        "outputDimensionality": 8,
    }
    _, _, batch = await post(session, base + ":batchEmbedContents", {"requests": [item, item]})
    assert [len(e["values"]) for e in batch["embeddings"]] == [8, 8]
    assert batch["embeddings"][0] == batch["embeddings"][1]
    status, _, too_many = await post(session, base + ":batchEmbedContents", {"requests": [item] * 101})
    assert status == 400 and "100" in error_of(too_many)[2]
    other = {**item, "model": "models/text-embedding-004"}
    assert (await post(session, base + ":batchEmbedContents", {"requests": [other]}))[0] == 400
    titled = {**item, "title": "Doc"}
    assert (await post(session, base + ":batchEmbedContents", {"requests": [titled]}))[0] == 400


async def test_vertex_embeddings(sim: Simulator, session: aiohttp.ClientSession) -> None:
    url = f"{sim.url}{VERTEX}/text-embedding-005:predict"
    body = {"instances": [{"content": "alpha"}, {"content": "beta gamma", "task_type": "CLUSTERING"}]}
    _, _, answer = await post(session, url, {**body, "parameters": {"outputDimensionality": 64}}, BEARER)
    assert [len(p["embeddings"]["values"]) for p in answer["predictions"]] == [64, 64]
    assert [p["embeddings"]["statistics"]["token_count"] for p in answer["predictions"]] == [2, 3]
    assert answer["metadata"] == {"billableCharacterCount": 15}
    gemini = f"{sim.url}{VERTEX}/gemini-embedding-001:predict"
    status, _, refused = await post(session, gemini, body, BEARER)
    assert status == 400 and "1 instances" in error_of(refused)[2]


# -- TTS (for the chat route) ---------------------------------------------------------------


TTS_BODY = {
    "contents": [{"role": "user", "parts": [{"text": "Hello there."}]}],
    "generationConfig": {
        "responseModalities": ["AUDIO"],
        "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}},
    },
}


def test_tts_models_are_recognised_by_name() -> None:
    assert is_tts_model("gemini-2.5-flash-preview-tts") and not is_tts_model("gemini-2.5-flash")


def test_the_tts_answer_is_pcm_a_wav_header_makes_playable() -> None:
    answer = tts_answer(TTS_BODY, "gemini-2.5-flash-preview-tts")
    candidate = answer["candidates"][0]
    assert candidate["finishReason"] == "STOP"
    inline = candidate["content"]["parts"][0]["inlineData"]
    assert inline["mimeType"] == TTS_MIME_TYPE == "audio/L16;codec=pcm;rate=24000"
    pcm = base64.b64decode(inline["data"])
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(24_000)
        file.writeframes(pcm)
    with wave.open(io.BytesIO(buffer.getvalue())) as file:
        assert file.getnframes() == round(12 * 0.06 * 24_000)
    usage = answer["usageMetadata"]
    assert usage["promptTokenCount"] == 3 and usage["candidatesTokenCount"] == round(0.72 * 32)


def test_the_tts_stream_is_half_second_pieces_ending_with_stop() -> None:
    events = tts_stream_events(TTS_BODY, "gemini-2.5-pro-preview-tts")
    pieces = [
        base64.b64decode(e["candidates"][0]["content"]["parts"][0]["inlineData"]["data"]) for e in events
    ]
    assert len(events) == 2 and len(pieces[0]) == 24_000
    assert ["finishReason" in e["candidates"][0] for e in events] == [False, True]
    assert b"".join(pieces) == base64.b64decode(
        tts_answer(TTS_BODY, "gemini-2.5-pro-preview-tts")["candidates"][0]["content"]["parts"][0][
            "inlineData"
        ]["data"]
    )


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"generationConfig": {"responseModalities": ["TEXT"]}}, "response modalities"),
        (
            {
                "generationConfig": {
                    "responseModalities": ["AUDIO"],
                    "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "alloy"}}},
                }
            },
            "alloy",
        ),
        (
            {
                "generationConfig": {
                    "responseModalities": ["AUDIO"],
                    "speechConfig": {"multiSpeakerVoiceConfig": {"speakerVoiceConfigs": []}},
                }
            },
            "exactly 2",
        ),
        ({"contents": []}, "contents"),
    ],
)
def test_the_tts_answer_refuses_what_the_service_refuses(change: dict[str, Any], words: str) -> None:
    with pytest.raises(Rejection) as caught:
        tts_answer({**TTS_BODY, **change}, "gemini-2.5-flash-preview-tts")
    assert caught.value.status == 400 and words in caught.value.body["error"]["message"]


def test_a_blocked_tts_prompt() -> None:
    body = {**TTS_BODY, "contents": [{"role": "user", "parts": [{"text": "say [sim:blocked]"}]}]}
    answer = tts_answer(body, "gemini-2.5-flash-preview-tts")
    assert answer["promptFeedback"] == {"blockReason": "PROHIBITED_CONTENT"} and "candidates" not in answer


async def test_the_chat_route_answers_tts_models_with_speech(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    base = f"{sim.url}/v1beta/models/gemini-2.5-flash-preview-tts"
    status, _, answer = await post(session, base + ":generateContent", TTS_BODY)
    inline = answer["candidates"][0]["content"]["parts"][0]["inlineData"]
    assert status == 200 and inline["mimeType"] == TTS_MIME_TYPE
    async with session.post(base + ":streamGenerateContent?alt=sse", json=TTS_BODY, headers=KEY) as resp:
        raw = await resp.read()
    blocks = raw.split(b"\r\n\r\n")
    assert resp.content_type == "text/event-stream" and blocks[-1] == b""
    events = [json.loads(block.removeprefix(b"data: ")) for block in blocks[:-1]]
    assert len(events) == 2 and events[-1]["candidates"][0]["finishReason"] == "STOP"
    status, _, array = await post(session, base + ":streamGenerateContent", TTS_BODY)  # no alt=sse
    assert status == 200 and array == events
    bad = {**TTS_BODY, "generationConfig": {"responseModalities": ["TEXT"]}}
    status, _, refused = await post(session, base + ":generateContent", bad)
    assert status == 400 and "response modalities" in error_of(refused)[2]


# -- faults -------------------------------------------------------------------------------------


async def test_a_fault_answers_in_googles_shape(sim: Simulator, session: aiohttp.ClientSession) -> None:
    sim.enqueue(Fault(status=429, retry_after=2, message="Quota exceeded"), Fault(status=503))
    body = {"instances": [{"prompt": "a cat"}], "parameters": {"sampleCount": 1}}
    status, headers, answer = await post(session, imagen(sim), body)
    assert status == 429 and headers["Retry-After"] == "2"
    assert error_of(answer) == (429, "RESOURCE_EXHAUSTED", "Quota exceeded")
    assert answer["error"]["details"] == [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}
    ]
    status, _, answer = await post(session, imagen(sim), body)
    assert status == 503 and error_of(answer)[1] == "UNAVAILABLE"
    sim.enqueue(Fault(error_event=True, error_code="RESOURCE_EXHAUSTED", message="later"))
    status, _, answer = await post(session, imagen(sim), body)
    assert status == 200 and error_of(answer) == (429, "RESOURCE_EXHAUSTED", "later")


async def test_a_truncated_download(sim: Simulator, session: aiohttp.ClientSession) -> None:
    url = f"{sim.url}/v1beta/models/veo-3.0-generate-001:predictLongRunning"
    await post(session, url, {"instances": [{"prompt": "a kite [sim:steps=0]"}]})
    sim.enqueue(Fault(truncate_stream=True))
    with pytest.raises(aiohttp.ClientPayloadError):
        await get(session, f"{sim.url}/v1beta/files/sim-video-000001:download?alt=media")
